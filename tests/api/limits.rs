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

const BEHIND_PROXY: &[(&str, &str)] = &[
    ("LEADBRIDGE_RATE_LIMITS", "on"),
    ("LEADBRIDGE_TRUST_X_FORWARDED_FOR", "on"),
];

/// A sign-in by `client` (its cookie jar: a browser) from `address`.
async fn sign_in_from(
    app: &TestApp,
    client: &reqwest::Client,
    address: &str,
    email: &str,
    password: &str,
) -> (StatusCode, Value) {
    let response = client
        .post(app.url("/api/auth/login"))
        .header("x-forwarded-for", address)
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .expect("request sent");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_guesser_at_one_address_is_stopped_without_locking_the_owner_out() {
    let app = spawn_app_with(BEHIND_PROXY).await;
    // The owner registered in this browser, which the server now knows.
    let owner = app.learner().await;
    let guesser = reqwest::Client::new();
    for _ in 0..10 {
        let (status, _) = sign_in_from(
            &app,
            &guesser,
            "198.51.100.9",
            &owner.email,
            "wrong-guess-1",
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    // The guesser is held, even with the right password: guessing cannot tell it apart.
    let (status, body) = sign_in_from(&app, &guesser, "198.51.100.9", &owner.email, PASSWORD).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(error_code(&body), "RATE_LIMITED");
    // The owner's own browser signs in, from the guesser's very address too.
    for address in ["192.0.2.10", "198.51.100.9"] {
        let (status, body) =
            sign_in_from(&app, &owner.client, address, &owner.email, PASSWORD).await;
        assert_eq!(status, StatusCode::OK, "owner from {address}: {body}");
    }
    // So does a browser the owner never used, from another address.
    let (status, body) = sign_in_from(
        &app,
        &reqwest::Client::new(),
        "192.0.2.11",
        &owner.email,
        PASSWORD,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "new browser elsewhere: {body}");
    // A guess every 30 s keeps the guesser slowed, and the owner in.
    let (status, _) = sign_in_from(
        &app,
        &guesser,
        "198.51.100.9",
        &owner.email,
        "wrong-guess-2",
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let (status, _) = sign_in_from(&app, &owner.client, "192.0.2.10", &owner.email, PASSWORD).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn guessing_spread_over_many_addresses_is_slowed_but_the_owners_browser_gets_in() {
    let app = spawn_app_with(BEHIND_PROXY).await;
    let owner = app.learner().await;
    let mut refused = 0;
    for i in 0..40 {
        let address = format!("203.0.113.{i}");
        let (status, _) = sign_in_from(
            &app,
            &reqwest::Client::new(),
            &address,
            &owner.email,
            "wrong-guess-1",
        )
        .await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            refused += 1;
        }
    }
    // The account's ceiling for unknown browsers: twenty at once, then one per 15 s.
    assert!(
        refused >= 19,
        "only {refused} of 40 spread guesses were slowed"
    );
    let (status, body) =
        sign_in_from(&app, &owner.client, "192.0.2.10", &owner.email, PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "the owner's browser: {body}");
    // A forged device cookie is just an unknown browser.
    let forged = reqwest::Client::new();
    let response = forged
        .post(app.url("/api/auth/login"))
        .header("x-forwarded-for", "192.0.2.99")
        .header(
            "cookie",
            "device_token=d1.00000000000000000000000000000000.00",
        )
        .json(&json!({"email": owner.email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
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

/// Guessing at an account's password from elsewhere does not keep its owner, signed in,
/// from confirming the password to close the account: that count is the owner's own.
#[tokio::test]
async fn guesses_at_an_account_do_not_block_its_owner_from_closing_it() {
    let app = spawn_app_with(BEHIND_PROXY).await;
    let owner = app.learner().await;
    for i in 0..40 {
        let address = format!("203.0.113.{i}");
        let guesser = reqwest::Client::new();
        sign_in_from(&app, &guesser, &address, &owner.email, "wrong-guess-1").await;
    }
    let (status, body) = owner
        .call(
            reqwest::Method::DELETE,
            "/api/auth/me",
            Some(json!({"password": PASSWORD})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}
