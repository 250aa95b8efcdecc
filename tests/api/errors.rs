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

/// Sends `request` and checks it was refused as coming from another site.
async fn refused_as_cross_site(request: reqwest::RequestBuilder) {
    let (status, body) = read(request.send().await.unwrap()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(error_code(&body), "CSRF_ORIGIN_REJECTED");
}

#[tokio::test]
async fn a_cross_site_write_without_origin_or_with_a_forged_forwarded_host_is_refused() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    refused_as_cross_site(
        admin
            .client
            .post(app.url("/api/auth/logout"))
            .header("sec-fetch-site", "cross-site"),
    )
    .await;
    let (status, _) = read(
        admin
            .client
            .post(app.url("/api/auth/logout"))
            .header("origin", "https://evil.example")
            .header("x-forwarded-host", "evil.example")
            .header("forwarded", "host=evil.example;proto=https")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(admin.get("/api/auth/me").await.0, StatusCode::OK);
}

/// Starts another server on `app`'s data with some variables changed.
async fn rebuild(app: &crate::common::TestApp, changes: &[(&str, &str)]) -> anyhow::Result<String> {
    let mut vars = app.vars.clone();
    for (k, v) in changes {
        vars.insert(k.to_string(), v.to_string());
    }
    let config = leadbridge::config::Config::from_vars(&vars).unwrap();
    let server = leadbridge::startup::Application::build(config).await?;
    let address = format!("http://127.0.0.1:{}", server.port());
    tokio::spawn(server.run_until_stopped());
    Ok(address)
}

#[tokio::test]
async fn the_bootstrap_admin_password_follows_the_environment_and_a_change_ends_its_sessions() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let old_session = admin.clone();
    // Same password on restart: sessions survive.
    let address = rebuild(&app, &[]).await.unwrap();
    let me = |actor: &crate::common::Actor, address: &str| {
        actor.client.get(format!("{address}/api/auth/me")).send()
    };
    assert_eq!(
        me(&old_session, &address).await.unwrap().status(),
        StatusCode::OK
    );

    let address = rebuild(&app, &[("LEADBRIDGE_ADMIN_PASSWORD", "rotated-pass-2027")])
        .await
        .unwrap();
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
    assert_eq!(
        me(&old_session, &address).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn the_bootstrap_admin_cannot_take_over_a_learner_or_mentor_account() {
    let app = spawn_app().await;
    let mentor = app.register("MENTOR", "Mallory").await;
    let error = rebuild(&app, &[("LEADBRIDGE_ADMIN_EMAIL", mentor.email.as_str())])
        .await
        .unwrap_err();
    assert!(
        error.to_string().starts_with("LEADBRIDGE_ADMIN_EMAIL:"),
        "{error}"
    );
    let (status, me) = mentor.get("/api/auth/me").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["role"], "MENTOR");
    assert_eq!(
        mentor.get("/api/admin/analytics").await.0,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn a_wrong_data_key_stops_the_start_instead_of_hiding_every_account() {
    let app = spawn_app().await;
    app.learner().await;
    let other_key = "ab".repeat(32);
    let error = rebuild(&app, &[("LEADBRIDGE_DATA_KEY", other_key.as_str())])
        .await
        .unwrap_err();
    assert!(
        format!("{error:#}").contains("LEADBRIDGE_DATA_KEY:"),
        "{error:#}"
    );
}

/// A plain cross-site form (`text/plain`, no preflight) that signs the visitor into the
/// attacker's account: refused, and no session cookie is set.
#[tokio::test]
async fn sign_in_and_registration_from_another_site_are_refused_and_set_no_cookie() {
    let app = spawn_app().await;
    let attacker = app.learner().await;
    let login = format!(
        r#"{{"email": "{}", "password": "{}"}}"#,
        attacker.email,
        crate::common::PASSWORD
    );
    let register =
        r#"{"email": "victim-form@example.com", "password": "learner-pass-2026", "name": "Form"}"#;
    let cases: [(&str, &str, &str, String); 4] = [
        (
            "/api/auth/login",
            "origin",
            "https://evil.example",
            login.clone(),
        ),
        (
            "/api/auth/login",
            "sec-fetch-site",
            "cross-site",
            login.clone(),
        ),
        (
            "/api/auth/register",
            "origin",
            "https://evil.example",
            register.into(),
        ),
        (
            "/api/auth/register",
            "sec-fetch-site",
            "cross-site",
            register.into(),
        ),
    ];
    for (path, header, value, body) in cases {
        for content_type in ["text/plain", "application/json"] {
            let response = reqwest::Client::new()
                .post(app.url(path))
                .header(header, value)
                .header("content-type", content_type)
                .body(body.clone())
                .send()
                .await
                .unwrap();
            assert!(
                response.headers().get("set-cookie").is_none(),
                "{path} {header} {content_type}: a cookie was set"
            );
            let (status, answer) = read(response).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{path} {header}: {answer}");
            assert_eq!(error_code(&answer), "CSRF_ORIGIN_REJECTED");
        }
    }
    // Nothing was registered by the refused forms.
    let (status, _) = app
        .anonymous()
        .post(
            "/api/auth/login",
            json!({"email": "victim-form@example.com", "password": "learner-pass-2026"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Our own pages still sign in.
    let own = reqwest::Client::new()
        .post(app.url("/api/auth/login"))
        .header("origin", app.address.clone())
        .header("sec-fetch-site", "same-origin")
        .json(&json!({"email": attacker.email, "password": crate::common::PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_json_endpoint_refuses_other_body_types_with_415_before_acting() {
    let app = spawn_app().await;
    let learner = app.learner().await;
    let body = format!(
        r#"{{"email": "{}", "password": "{}"}}"#,
        learner.email,
        crate::common::PASSWORD
    );
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
        None,
    ] {
        let mut request = reqwest::Client::new()
            .post(app.url("/api/auth/login"))
            .body(body.clone());
        if let Some(kind) = content_type {
            request = request.header("content-type", kind);
        }
        let response = request.send().await.unwrap();
        assert!(response.headers().get("set-cookie").is_none());
        let (status, answer) = read(response).await;
        assert_eq!(
            status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{content_type:?}: {answer}"
        );
        assert_eq!(error_code(&answer), "UNSUPPORTED_MEDIA_TYPE");
    }
    for declared in [
        "application/json; charset=utf-8",
        "application/merge-patch+json",
    ] {
        let response = reqwest::Client::new()
            .post(app.url("/api/auth/login"))
            .header("content-type", declared)
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{declared}");
    }
}

#[tokio::test]
async fn a_signed_in_read_from_another_site_is_refused() {
    let app = spawn_app().await;
    let learner = app.learner().await;
    refused_as_cross_site(
        learner
            .client
            .get(app.url("/api/user/bookings"))
            .header("origin", "https://evil.example"),
    )
    .await;
    assert_eq!(learner.get("/api/user/bookings").await.0, StatusCode::OK);
}
