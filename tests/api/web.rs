//! The browser front end as the binary serves it: files, page routes, caching and headers.

use reqwest::header::{ACCEPT, CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use reqwest::StatusCode;
use serde_json::Value;

use crate::common::{error_code, read, spawn_app, spawn_app_with};

#[tokio::test]
async fn pages_get_the_app_shell_with_a_strict_content_security_policy() {
    let app = spawn_app().await;
    let client = reqwest::Client::new();
    for path in [
        "/",
        "/login",
        "/events/event_1",
        "/mentor/dashboard",
        "/checkout/order_1",
    ] {
        let response = client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let headers = response.headers().clone();
        assert!(headers[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        let csp = headers[CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(csp.contains("script-src 'self';"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        let body = response.text().await.unwrap();
        assert!(body.contains(r#"<script type="module" src="/js/main.js">"#));
        assert!(!body.contains("<script>"), "no inline script");
    }
}

#[tokio::test]
async fn assets_have_their_types_and_revalidate_with_etags() {
    let app = spawn_app().await;
    let client = reqwest::Client::new();
    let response = client.get(app.url("/js/live.js")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[CONTENT_TYPE],
        "text/javascript; charset=utf-8"
    );
    let etag = response.headers()[ETAG].clone();
    assert!(response.text().await.unwrap().contains("class Live"));
    let again = client
        .get(app.url("/js/live.js"))
        .header(IF_NONE_MATCH, etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert!(again.bytes().await.unwrap().is_empty());
    let css = client.get(app.url("/app.css")).send().await.unwrap();
    assert_eq!(css.headers()[CONTENT_TYPE], "text/css; charset=utf-8");
    let length = css.bytes().await.unwrap().len();
    let head = client.head(app.url("/app.css")).send().await.unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(
        head.headers()[reqwest::header::CONTENT_LENGTH],
        length.to_string().as_str()
    );
}

#[tokio::test]
async fn unknown_paths_are_404_for_browsers_and_api_clients_alike() {
    let app = spawn_app().await;
    let client = reqwest::Client::new();
    let browser = client
        .get(app.url("/no/such/page"))
        .header(ACCEPT, "text/html,application/xhtml+xml")
        .send()
        .await
        .unwrap();
    assert_eq!(browser.status(), StatusCode::NOT_FOUND);
    assert!(browser.text().await.unwrap().contains("/js/main.js"));
    for path in ["/no/such/page", "/js/../Cargo.toml", "/web/index.html"] {
        let (status, body) = read(client.get(app.url(path)).send().await.unwrap()).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(error_code(&body), "NOT_FOUND");
    }
    // API paths never fall back to the app, even for a browser.
    let api = client
        .get(app.url("/api/nothing"))
        .header(ACCEPT, "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), StatusCode::NOT_FOUND);
    assert_eq!(api.headers()[CONTENT_TYPE], "application/json");
}

#[tokio::test]
async fn the_session_endpoint_answers_visitors_without_an_error() {
    let app = spawn_app().await;
    let (status, body) = app.anonymous().get("/api/auth/session").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, serde_json::json!({"user": null}));
    let learner = app.register("USER", "Sid Session").await;
    let (status, body) = learner.get("/api/auth/session").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["user"]["user_id"], learner.user_id.as_str());
    assert!(body["user"].get("access_token").is_none());
    learner.post("/api/auth/logout", Value::Null).await;
    let (status, body) = learner.get("/api/auth/session").await;
    assert_eq!(
        status,
        StatusCode::OK,
        "an ended session is a visitor: {body}"
    );
    assert_eq!(body["user"], Value::Null);
}

#[tokio::test]
async fn the_config_tells_pages_how_payments_are_taken() {
    let app = spawn_app().await;
    let (_, body) = app.anonymous().get("/api/config").await;
    assert_eq!(body["payments"], "simulated");
    let real = spawn_app_with(&[("LEADBRIDGE_PAYMENTS", "razorpay")]).await;
    let (_, body) = real.anonymous().get("/api/config").await;
    assert_eq!(body["payments"], "razorpay");
    let page = reqwest::get(real.url("/")).await.unwrap();
    let csp = page.headers()[CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(csp.contains("https://checkout.razorpay.com"), "{csp}");
}

#[tokio::test]
async fn every_answer_carries_the_security_headers_and_hsts_only_over_https() {
    let app = spawn_app().await;
    let client = reqwest::Client::new();
    for path in ["/api/events", "/api/auth/me", "/", "/app.css"] {
        let response = client.get(app.url(path)).send().await.unwrap();
        let headers = response.headers();
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["referrer-policy"], "same-origin", "{path}");
        assert!(!headers.contains_key("strict-transport-security"), "{path}");
        if path.starts_with("/api/") {
            // Success or error, an API answer is never kept by a cache.
            assert_eq!(headers["cache-control"], "no-store", "{path}");
        }
    }
    let behind_tls = client
        .get(app.url("/api/events"))
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    let hsts = behind_tls.headers()["strict-transport-security"]
        .to_str()
        .unwrap();
    assert!(hsts.starts_with("max-age=31536000"), "{hsts}");
}
