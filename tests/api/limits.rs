//! Rate limits, with the limits on as in production: sign-in per address and per account,
//! registration per address, bookings per learner; each refusal is a 429 with
//! `Retry-After` and the usual error body, and refuses before anything is stored.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::{error_code, spawn_app_with, unique, TestApp, PASSWORD};

const LIMITS_ON: &[(&str, &str)] = &[("LEADBRIDGE_RATE_LIMITS", "on")];

/// Posts `body` to `path` from a fresh client, with an `X-Forwarded-For` if given: answers
/// the status, the `Retry-After` header and the body.
async fn post(
    app: &TestApp,
    path: &str,
    body: Value,
    forwarded_for: Option<&str>,
) -> (StatusCode, Option<u64>, Value) {
    let mut request = reqwest::Client::new().post(app.url(path)).json(&body);
    if let Some(hop) = forwarded_for {
        request = request.header("x-forwarded-for", hop);
    }
    let response = request.send().await.expect("request sent");
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let status = response.status();
    (
        status,
        retry_after,
        response.json().await.unwrap_or(Value::Null),
    )
}

fn assert_limited((status, retry_after, body): &(StatusCode, Option<u64>, Value)) {
    assert_eq!(*status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(error_code(body), "RATE_LIMITED");
    assert!(
        retry_after.is_some_and(|s| s >= 1),
        "Retry-After: {retry_after:?}"
    );
}

#[tokio::test]
async fn sign_in_attempts_from_one_address_are_limited() {
    let app = spawn_app_with(LIMITS_ON).await;
    let mut answers = Vec::new();
    for _ in 0..24 {
        let email = format!("nobody-{}@example.com", unique());
        answers.push(
            post(
                &app,
                "/api/auth/login",
                json!({"email": email, "password": "wrong-guess-1"}),
                None,
            )
            .await,
        );
    }
    // The first 20 are judged on the password; later ones are refused unheard.
    assert!(answers[..20]
        .iter()
        .all(|(s, _, _)| *s == StatusCode::UNAUTHORIZED));
    assert_limited(answers.last().expect("answers"));
}

#[tokio::test]
async fn sign_in_attempts_on_one_account_are_limited_from_any_address() {
    let app = spawn_app_with(LIMITS_ON).await;
    let learner = app.learner().await;
    let other = app.learner().await;
    let login = |email: &str, password: &str| json!({"email": email, "password": password});
    for _ in 0..10 {
        let (status, _, _) = post(
            &app,
            "/api/auth/login",
            login(&learner.email, "wrong-guess-1"),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    // Even the right password waits now: guessing cannot tell it apart.
    assert_limited(
        &post(
            &app,
            "/api/auth/login",
            login(&learner.email, PASSWORD),
            None,
        )
        .await,
    );
    let (status, _, body) =
        post(&app, "/api/auth/login", login(&other.email, PASSWORD), None).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "another account is not held up: {body}"
    );
}

#[tokio::test]
async fn registrations_from_one_address_are_limited_and_a_forged_forwarded_for_does_not_help() {
    let app = spawn_app_with(LIMITS_ON).await;
    let mut answers = Vec::new();
    for i in 0..11 {
        let body = json!({"email": format!("new-{}@example.com", unique()), "password": PASSWORD, "name": "New Person"});
        // Not behind a proxy we trust: the header is the client's own invention.
        let hop = format!("203.0.113.{i}");
        answers.push((
            body.clone(),
            post(&app, "/api/auth/register", body, Some(&hop)).await,
        ));
    }
    assert!(answers[..10]
        .iter()
        .all(|(_, (s, _, _))| *s == StatusCode::OK));
    let (refused, answer) = answers.last().expect("answers");
    assert_limited(answer);
    // Nothing was stored for the refused one.
    let (status, _, _) = post(
        &app,
        "/api/auth/login",
        json!({"email": refused["email"], "password": PASSWORD}),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_address_has_its_own_allowance() {
    let app = spawn_app_with(&[
        ("LEADBRIDGE_RATE_LIMITS", "on"),
        ("LEADBRIDGE_TRUST_X_FORWARDED_FOR", "on"),
    ])
    .await;
    let register = |hop: &'static str| {
        let body = json!({"email": format!("new-{}@example.com", unique()), "password": PASSWORD, "name": "New Person"});
        let app = &app;
        async move { post(app, "/api/auth/register", body, Some(hop)).await }
    };
    for _ in 0..10 {
        // The proxy appends the address it saw; what the client sent comes before it.
        assert_eq!(register("198.51.100.1, 192.0.2.7").await.0, StatusCode::OK);
    }
    assert_limited(&register("198.51.100.2, 192.0.2.7").await);
    assert_eq!(register("192.0.2.8").await.0, StatusCode::OK);
}

#[tokio::test]
async fn bookings_by_one_learner_are_limited_without_holding_up_others() {
    let app = spawn_app_with(LIMITS_ON).await;
    let admin = app.admin().await;
    let (mentor, _) = app.approved_mentor(&admin).await;
    let event_id = app.create_event(&mentor, 50, 500).await;
    let learner = app.learner().await;
    let mut statuses = Vec::new();
    for _ in 0..11 {
        statuses.push(app.book(&learner, &event_id).await);
    }
    assert_eq!(statuses[0].0, StatusCode::OK);
    // Repeats are refused as already booked until the bucket is empty.
    assert!(statuses[1..10]
        .iter()
        .all(|(s, _)| *s == StatusCode::CONFLICT));
    let (status, body) = &statuses[10];
    assert_eq!(*status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(error_code(body), "RATE_LIMITED");
    let other = app.learner().await;
    assert_eq!(app.book(&other, &event_id).await.0, StatusCode::OK);
}
