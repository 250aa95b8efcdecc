use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::{error_code, spawn_app, ADMIN_EMAIL, PASSWORD};

#[tokio::test]
async fn registration_signs_in_and_me_returns_the_account() {
    let app = spawn_app().await;
    let learner = app.learner().await;
    let (status, me) = learner.get("/api/auth/me").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["user_id"], learner.user_id.as_str());
    assert_eq!(me["role"], "USER");
    assert_eq!(me["email"], learner.email.as_str());
    assert!(me["created_at"].as_str().is_some());
    assert!(me.get("password_hash").is_none());
}

#[tokio::test]
async fn nobody_can_register_as_admin() {
    let app = spawn_app().await;
    let (status, body) = app
        .anonymous()
        .post(
            "/api/auth/register",
            json!({"email": "sneaky@example.com", "password": PASSWORD, "name": "S", "role": "ADMIN"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(error_code(&body), "ADMIN_REGISTRATION_FORBIDDEN");
}

#[tokio::test]
async fn duplicate_email_is_409_and_weak_password_is_422() {
    let app = spawn_app().await;
    let learner = app.learner().await;
    let again =
        json!({"email": learner.email.to_uppercase(), "password": PASSWORD, "name": "Other"});
    let (status, body) = app.anonymous().post("/api/auth/register", again).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(error_code(&body), "EMAIL_TAKEN");

    let weak = json!({"email": "weak@example.com", "password": "password", "name": "W"});
    let (status, body) = app.anonymous().post("/api/auth/register", weak).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(&body), "WEAK_PASSWORD");
    assert_eq!(body["error"]["field"], "password");

    let bad_email = json!({"email": "nope", "password": PASSWORD, "name": "W"});
    let (status, body) = app.anonymous().post("/api/auth/register", bad_email).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(&body), "INVALID_EMAIL");
}

#[tokio::test]
async fn wrong_email_and_wrong_password_are_the_same_401() {
    let app = spawn_app().await;
    let learner = app.learner().await;
    let anon = app.anonymous();
    let (s1, b1) = anon
        .post(
            "/api/auth/login",
            json!({"email": learner.email, "password": "wrong-pass-99"}),
        )
        .await;
    let (s2, b2) = anon
        .post(
            "/api/auth/login",
            json!({"email": "ghost@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(s1, StatusCode::UNAUTHORIZED);
    assert_eq!(s2, StatusCode::UNAUTHORIZED);
    assert_eq!(b1, b2);
}

#[tokio::test]
async fn login_sets_a_hardened_session_cookie_and_a_pinned_jwt() {
    let app = spawn_app().await;
    let response = reqwest::Client::new()
        .post(app.url("/api/auth/login"))
        .json(&json!({"email": ADMIN_EMAIL, "password": crate::common::ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = response
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap()
        .to_string();
    assert!(cookie.starts_with("session_token="), "{cookie}");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=604800"] {
        assert!(
            cookie.contains(attribute),
            "{attribute} missing in {cookie}"
        );
    }
    assert!(
        !cookie.contains("Secure"),
        "plain http must not set Secure: {cookie}"
    );
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["role"], "ADMIN");
    let token = body["access_token"].as_str().unwrap();
    let header = token.split('.').next().unwrap();
    use base64::Engine;
    let header: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(header)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(header["alg"], "HS256");
}

#[tokio::test]
async fn bearer_token_works_and_logout_revokes_it() {
    let app = spawn_app().await;
    let learner = app.learner().await;
    let bearer = |token: &str| {
        reqwest::Client::new()
            .get(app.url("/api/auth/me"))
            .bearer_auth(token.to_string())
            .send()
    };
    assert_eq!(
        bearer(&learner.access_token).await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        bearer("not-a-token").await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );

    let (status, _) = learner.post("/api/auth/logout", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        bearer(&learner.access_token).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_stolen_cookie_stops_working_after_logout() {
    let app = spawn_app().await;
    let cookie =
        crate::common::ws::session_cookie(&app, ADMIN_EMAIL, crate::common::ADMIN_PASSWORD).await;
    let with_cookie = |method: Method, path: &str| {
        reqwest::Client::new()
            .request(method, app.url(path))
            .header("cookie", cookie.clone())
            .send()
    };
    assert_eq!(
        with_cookie(Method::GET, "/api/auth/me")
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        with_cookie(Method::POST, "/api/auth/logout")
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let after = with_cookie(Method::GET, "/api/auth/me").await.unwrap();
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
    let (_, body) = crate::common::read(after).await;
    assert_eq!(error_code(&body), "UNAUTHORIZED");
}

#[tokio::test]
async fn each_login_gets_a_new_session() {
    let app = spawn_app().await;
    let learner = app.learner().await;
    let login = || async {
        let r = reqwest::Client::new()
            .post(app.url("/api/auth/login"))
            .json(&json!({"email": learner.email, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        r.headers()["set-cookie"].to_str().unwrap().to_string()
    };
    assert_ne!(login().await, login().await);
}
