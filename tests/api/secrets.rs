//! Secrets stay secret: passwords, tokens, cookies and configured keys appear in no answer
//! and in no log line, even with debug logging on.

use reqwest::StatusCode;
use serde_json::json;

use crate::common::{spawn_app_with, unique, ADMIN_PASSWORD, KEY_SECRET, WEBHOOK_SECRET};

#[tokio::test]
async fn no_answer_or_log_line_holds_a_password_token_or_key() {
    let log = tempfile::NamedTempFile::new().expect("log file");
    let app = spawn_app_with(&[("RUST_LOG", "debug")]).await;
    // A separate process, so its whole output is ours to read.
    let node = app.process_sibling_logging(Some(log.path())).await;
    let password = format!("Sesame-{}", unique());
    let wrong = format!("Guess-{}", unique());
    let email = format!("secret-{}@example.com", unique());
    let mut answers = Vec::new();

    let client = node.anonymous();
    let (status, body) = client
        .post(
            "/api/auth/register",
            json!({"email": email, "password": password, "name": "Sam Secret"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = body["access_token"].as_str().expect("token").to_string();
    answers.push(body.to_string());
    for attempt in [&wrong, &password] {
        let (_, body) = node
            .anonymous()
            .post(
                "/api/auth/login",
                json!({"email": email, "password": attempt}),
            )
            .await;
        answers.push(body.to_string());
    }
    // A body cut short, a password of the wrong type, a weak new password, a forged token.
    let http = reqwest::Client::new();
    for raw in [
        format!(r#"{{"email": "{email}", "password": "{wrong}""#),
        format!(r#"{{"email": "{email}", "password": ["{wrong}"]}}"#),
        format!(
            r#"{{"email": "x-{email}", "password": "{}", "name": "Sam"}}"#,
            &wrong[..4]
        ),
    ] {
        for path in ["/api/auth/login", "/api/auth/register"] {
            let response = http
                .post(node.url(path))
                .header("content-type", "application/json")
                .body(raw.clone())
                .send()
                .await
                .unwrap();
            assert!(response.status().is_client_error());
            answers.push(response.text().await.unwrap());
        }
    }
    let forged = format!("{token}x");
    for bearer in [&token, &forged] {
        let response = http
            .get(node.url("/api/auth/me"))
            .bearer_auth(bearer)
            .send()
            .await
            .unwrap();
        answers.push(response.text().await.unwrap());
    }
    let cookie = client
        .client
        .get(node.url("/api/auth/me"))
        .send()
        .await
        .unwrap();
    answers.push(cookie.text().await.unwrap());
    let (_, body) = client.post("/api/auth/logout", json!({})).await;
    answers.push(body.to_string());
    drop(node); // flushes and stops the process

    let logged = std::fs::read_to_string(log.path()).expect("log");
    assert!(logged.contains("DEBUG"), "debug logging was on:\n{logged}");
    let secrets = [
        ("the password", password.as_str()),
        ("a wrong password", wrong.as_str()),
        ("the access token", token.as_str()),
        ("a forged token", forged.as_str()),
        ("the bootstrap admin password", ADMIN_PASSWORD),
        ("the Razorpay key secret", KEY_SECRET),
        ("the webhook secret", WEBHOOK_SECRET),
    ];
    for (what, secret) in secrets {
        assert!(!logged.contains(secret), "{what} is in the log:\n{logged}");
        for answer in answers.iter().skip(1) {
            assert!(!answer.contains(secret), "{what} is in an answer: {answer}");
        }
    }
    // The session cookie's value is a secret too; its name may appear, its value may not.
    assert!(
        !logged.contains("session_token="),
        "a cookie value is in the log"
    );
}
