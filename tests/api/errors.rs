use reqwest::StatusCode;
use serde_json::json;

use crate::common::{error_code, read, spawn_app, spawn_app_with, ADMIN_EMAIL, ADMIN_PASSWORD};

#[tokio::test]
async fn malformed_json_is_400_and_wrong_types_are_422_naming_the_field() {
    let app = spawn_app().await;
    let client = reqwest::Client::new();
    let send = |body: &'static str| {
        client
            .post(app.url("/api/auth/register"))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let (status, body) = read(send("{\"email\": ").await.unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&body), "MALFORMED_JSON");
    let (status, body) = read(
        send(r#"{"email": 42, "password": "x", "name": "y"}"#)
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(&body), "INVALID_FIELD");
    assert_eq!(body["error"]["field"], "email");
    let (status, body) = read(send(r#"{"email": "a@b.co", "name": "y"}"#).await.unwrap()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["field"], "password");
    let (status, body) = read(
        send(r#"{"email": "a@b.co", "password": "x", "name": "y", "role": "KING"}"#)
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["field"], "role");
}

#[tokio::test]
async fn bodies_over_64_kib_are_413() {
    let app = spawn_app().await;
    let big = json!({"email": "a@b.co", "password": "x".repeat(70 * 1024), "name": "y"});
    let (status, body) = app.anonymous().post("/api/auth/register", big).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error_code(&body), "PAYLOAD_TOO_LARGE");
}

#[tokio::test]
async fn unknown_routes_and_ids_are_404_in_the_error_shape() {
    let app = spawn_app().await;
    for path in ["/api/nope", "/api/events/event_missing", "/nothing/here"] {
        let (status, body) = app.anonymous().get(path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(error_code(&body), "NOT_FOUND");
    }
}

#[tokio::test]
async fn health_openapi_and_docs_are_served() {
    let app = spawn_app().await;
    let (status, body) = app.anonymous().get("/healthz").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "ok");
    let (status, spec) = app.anonymous().get("/api/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert!(spec["openapi"].as_str().unwrap().starts_with("3."));
    let paths = spec["paths"].as_object().unwrap();
    for path in [
        "/api/auth/register",
        "/api/events/{event_id}/book",
        "/api/mentor/leads/{lead_id}/purchase",
        "/api/payments/webhook",
        "/api/admin/audit-log",
    ] {
        assert!(paths.contains_key(path), "{path} missing from OpenAPI");
    }
    let docs = reqwest::get(app.url("/docs/")).await.unwrap();
    assert_eq!(docs.status(), StatusCode::OK);
    assert!(docs.text().await.unwrap().contains("swagger"));
}

#[tokio::test]
async fn cookie_writes_from_a_foreign_origin_are_403_but_bearer_and_allowed_origins_pass() {
    let app =
        spawn_app_with(&[("LEADBRIDGE_ALLOWED_ORIGINS", "https://app.leadbridge.test")]).await;
    let admin = app.admin().await;
    let logout = |origin: &'static str| {
        admin
            .client
            .post(app.url("/api/auth/logout"))
            .header("origin", origin)
            .send()
    };
    let (status, body) = read(logout("https://evil.example").await.unwrap()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(error_code(&body), "CSRF_ORIGIN_REJECTED");
    // Still signed in: the forged request did nothing.
    assert_eq!(admin.get("/api/auth/me").await.0, StatusCode::OK);

    let bearer = reqwest::Client::new()
        .get(app.url("/api/admin/analytics"))
        .header("origin", "https://evil.example")
        .bearer_auth(&admin.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status(), StatusCode::OK);

    let own = app.address.clone();
    let same_site = admin
        .client
        .post(app.url("/api/auth/logout"))
        .header("origin", own)
        .send()
        .await
        .unwrap();
    assert_eq!(same_site.status(), StatusCode::OK);
    let again = app.admin().await;
    let allowed = again
        .client
        .post(app.url("/api/auth/logout"))
        .header("origin", "https://app.leadbridge.test")
        .send()
        .await
        .unwrap();
    assert_eq!(allowed.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_bootstrap_admin_password_follows_the_environment() {
    let app = spawn_app().await;
    let app = app.restart().await;
    assert_eq!(app.admin().await.email, ADMIN_EMAIL);
    let mut vars = app.vars.clone();
    vars.insert(
        "LEADBRIDGE_ADMIN_PASSWORD".into(),
        "rotated-pass-2027".into(),
    );
    let config = leadbridge::config::Config::from_vars(&vars).unwrap();
    let rotated = leadbridge::startup::Application::build(config)
        .await
        .unwrap();
    let address = format!("http://127.0.0.1:{}", rotated.port());
    tokio::spawn(rotated.run_until_stopped());
    let login = |password: &'static str| {
        reqwest::Client::new()
            .post(format!("{address}/api/auth/login"))
            .json(&json!({"email": ADMIN_EMAIL, "password": password}))
            .send()
    };
    assert_eq!(
        login("rotated-pass-2027").await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        login(ADMIN_PASSWORD).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
}
