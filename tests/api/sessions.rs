//! Sessions as users meet them: idle expiry, the session list, ending one or all of them, a
//! fresh session id at every sign-in and when a mentor's rights change.

use std::sync::Arc;
use std::time::Duration;

use leadbridge::clock::ManualClock;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::{
    error_code, read, spawn_app, spawn_app_with_clock, unique, Actor, TestApp, PASSWORD,
};

/// A browser with its own cookie jar and User-Agent, signed in as `email`.
async fn browser(app: &TestApp, email: &str, agent: &str) -> Actor {
    let browser = Actor {
        client: reqwest::Client::builder()
            .cookie_store(true)
            .user_agent(agent)
            .build()
            .unwrap(),
        ..app.anonymous()
    };
    let (status, body) = browser
        .post(
            "/api/auth/login",
            json!({"email": email, "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    browser
}

#[tokio::test]
async fn a_session_ends_when_left_idle_but_not_while_used() {
    let clock = Arc::new(ManualClock::default());
    let app = spawn_app_with_clock(
        &[("LEADBRIDGE_SESSION_IDLE_SECONDS", "3600")],
        Arc::clone(&clock),
    )
    .await;
    let learner = app.learner().await;
    // Used every 50 minutes for four hours: longer than the idle hour in all.
    for _ in 0..5 {
        clock.advance(Duration::from_secs(50 * 60));
        assert_eq!(learner.get("/api/auth/me").await.0, StatusCode::OK);
    }
    clock.advance(Duration::from_secs(61 * 60));
    let (status, body) = learner.get("/api/auth/me").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
}

#[tokio::test]
async fn the_session_list_names_each_browser_and_one_can_be_ended() {
    let app = spawn_app().await;
    let learner = app.learner().await;
    const LAPTOP: &str =
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0";
    const PHONE: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36";
    let laptop = browser(&app, &learner.email, LAPTOP).await;
    let phone = browser(&app, &learner.email, PHONE).await;

    let (status, sessions) = laptop.get("/api/auth/sessions").await;
    assert_eq!(status, StatusCode::OK);
    let sessions = sessions.as_array().unwrap().clone();
    assert_eq!(
        sessions.len(),
        3,
        "registration, laptop, phone: {sessions:?}"
    );
    let current: Vec<&Value> = sessions.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1);
    // Named in words, not as the raw User-Agent.
    assert_eq!(current[0]["device"], "Firefox on Windows 10");
    let phone_id = sessions
        .iter()
        .find(|s| s["device"] == "Chrome on Android")
        .expect("the phone is listed")["session_id"]
        .as_str()
        .unwrap()
        .to_string();

    // Another account cannot end it, nor see it.
    let other = app.learner().await;
    let (status, _) = other
        .delete(&format!("/api/auth/sessions/{phone_id}"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        other
            .get("/api/auth/sessions")
            .await
            .1
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let (status, _) = laptop
        .delete(&format!("/api/auth/sessions/{phone_id}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(phone.get("/api/auth/me").await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(laptop.get("/api/auth/me").await.0, StatusCode::OK);
    assert_eq!(learner.get("/api/auth/me").await.0, StatusCode::OK);
    let (status, body) = laptop
        .delete(&format!("/api/auth/sessions/{phone_id}"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
}

#[tokio::test]
async fn signing_out_everywhere_ends_every_session_of_the_account() {
    let app = spawn_app().await;
    let learner = app.learner().await;
    let other_browser = browser(&app, &learner.email, "Tablet").await;
    let bystander = app.learner().await;
    let (status, _) = other_browser
        .post("/api/auth/logout-everywhere", json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    for actor in [&learner, &other_browser] {
        assert_eq!(actor.get("/api/auth/me").await.0, StatusCode::UNAUTHORIZED);
    }
    // Access tokens die with their sessions.
    let bearer = app
        .anonymous()
        .client
        .get(app.url("/api/auth/me"))
        .bearer_auth(&learner.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(bystander.get("/api/auth/me").await.0, StatusCode::OK);
    browser(&app, &learner.email, "Back again").await;
}

/// The session cookie a response sets, if any.
fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("session_token=") && !c.starts_with("session_token=;"))
        .map(|c| c.split(';').next().unwrap().to_string())
}

async fn with_cookie(
    app: &TestApp,
    cookie: &str,
    path: &str,
) -> (StatusCode, Option<String>, Value) {
    let response = reqwest::Client::new()
        .get(app.url(path))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    let set = session_cookie(&response);
    let (status, body) = read(response).await;
    (status, set, body)
}

#[tokio::test]
async fn signing_in_never_keeps_the_session_id_the_browser_came_with() {
    let app = spawn_app().await;
    let learner = app.learner().await;
    let client = reqwest::Client::new();
    let login = |cookie: Option<String>| {
        let mut request = client
            .post(app.url("/api/auth/login"))
            .json(&json!({"email": learner.email, "password": PASSWORD}));
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        request.send()
    };
    let first = session_cookie(&login(None).await.unwrap()).expect("a session cookie");
    let second = session_cookie(&login(Some(first.clone())).await.unwrap()).expect("a new one");
    assert_ne!(first, second);
    assert_eq!(
        with_cookie(&app, &first, "/api/auth/me").await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        with_cookie(&app, &second, "/api/auth/me").await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn approval_swaps_the_mentors_session_and_rejection_ends_it() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let email = format!("mentor-{}@example.com", unique());
    let registered = reqwest::Client::new()
        .post(app.url("/api/auth/register"))
        .json(&json!({"email": email, "password": PASSWORD, "name": "Mo Mentor", "role": "MENTOR"}))
        .send()
        .await
        .unwrap();
    let before = session_cookie(&registered).expect("session cookie");
    let (_, _, profile) = with_cookie(&app, &before, "/api/mentor/profile").await;
    let mentor_id = profile["mentor_id"].as_str().unwrap().to_string();
    let verify = format!("/api/admin/mentors/{mentor_id}/verify");

    let (status, _) = admin
        .put(&verify, json!({"status": "APPROVED", "reason": "ok"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    // The dashboard's next requests (several at once) carry the old id: all are answered,
    // and exactly one brings a new id.
    let answers = futures_util::future::join_all(
        (0..4).map(|_| with_cookie(&app, &before, "/api/mentor/profile")),
    )
    .await;
    for (status, _, profile) in &answers {
        assert_eq!(*status, StatusCode::OK, "{profile}");
        assert_eq!(profile["verification_status"], "APPROVED");
    }
    let renewed: Vec<String> = answers.into_iter().filter_map(|(_, set, _)| set).collect();
    assert_eq!(renewed.len(), 1, "one new session, no orphans");
    let after = renewed[0].clone();
    assert_ne!(after, before);
    // The old id ends within moments (requests already on their way still pass).
    let (_, _, listed) = with_cookie(&app, &after, "/api/auth/sessions").await;
    let listed = listed.as_array().unwrap().clone();
    assert_eq!(listed.len(), 2, "{listed:?}");
    let old = listed.iter().find(|s| s["current"] == false).unwrap();
    let ends = chrono::DateTime::parse_from_rfc3339(old["expires_at"].as_str().unwrap()).unwrap();
    assert!(
        ends < chrono::Utc::now() + chrono::Duration::seconds(31),
        "{old}"
    );
    let (status, again, _) = with_cookie(&app, &after, "/api/auth/me").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again, None, "rotated once, not on every request");

    let (status, _) = admin
        .put(
            &verify,
            json!({"status": "REJECTED", "reason": "fake credentials"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, body) = with_cookie(&app, &after, "/api/auth/me").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(&body), "UNAUTHORIZED");
    // The swapped-from session, still within its grace, ended with the rejection too.
    assert_eq!(
        with_cookie(&app, &before, "/api/auth/me").await.0,
        StatusCode::UNAUTHORIZED
    );
}

async fn close(actor: &Actor, body: Value) -> (StatusCode, Value) {
    actor
        .call(reqwest::Method::DELETE, "/api/auth/me", Some(body))
        .await
}

#[tokio::test]
async fn closing_an_account_frees_its_seats_ends_its_sessions_and_its_email() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (mentor, _) = app.approved_mentor(&admin).await;
    let event = app.create_event(&mentor, 2, 500).await;
    let learner = app.learner().await;
    let (status, _) = app.book(&learner, &event).await;
    assert_eq!(status, StatusCode::OK);
    let phone = browser(&app, &learner.email, "Phone").await;
    let (status, body) = close(&learner, json!({"password": "not-the-password-1"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(error_code(&body), "REAUTHENTICATION_REQUIRED");
    assert_eq!(learner.get("/api/auth/me").await.0, StatusCode::OK);

    let (status, body) = close(&learner, json!({"password": PASSWORD})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for actor in [&learner, &phone] {
        assert_eq!(actor.get("/api/auth/me").await.0, StatusCode::UNAUTHORIZED);
    }
    let (_, listed) = app.anonymous().get(&format!("/api/events/{event}")).await;
    assert_eq!(listed["available_slots"], 2, "the seat is free again");
    let (_, log) = admin.get("/api/admin/audit-log").await;
    assert!(log
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["action"] == "ACCOUNT_CLOSED" && e["target_id"] == learner.user_id.as_str()));
    // The address can make a new account, which starts empty.
    let (status, again) = app
        .anonymous()
        .post(
            "/api/auth/register",
            json!({"email": learner.email, "password": PASSWORD, "name": "Lena Again"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_ne!(again["user_id"], learner.user_id.as_str());

    // A mentor with events deletes them first; an admin account is the operator's.
    let (status, body) = close(&mentor, json!({"password": PASSWORD})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(error_code(&body), "ACCOUNT_HAS_EVENTS");
    let (status, body) = close(&admin, json!({"password": "anything-1"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(error_code(&body), "ADMIN_ACCOUNT");
}

/// A mentor registered in a browser, then approved by `admin`: the browser's session
/// cookie, now waiting to be swapped.
async fn approved_in_a_browser(app: &TestApp, admin: &Actor) -> String {
    let email = format!("mentor-{}@example.com", unique());
    let registered = reqwest::Client::new()
        .post(app.url("/api/auth/register"))
        .json(
            &json!({"email": email, "password": PASSWORD, "name": "Max Mentor", "role": "MENTOR"}),
        )
        .send()
        .await
        .unwrap();
    let before = session_cookie(&registered).expect("session cookie");
    let (_, _, profile) = with_cookie(app, &before, "/api/mentor/profile").await;
    let mentor_id = profile["mentor_id"].as_str().unwrap().to_string();
    let (status, _) = admin
        .put(
            &format!("/api/admin/mentors/{mentor_id}/verify"),
            json!({"status": "APPROVED", "reason": "ok"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    before
}

#[tokio::test]
async fn signing_out_with_a_session_waiting_to_be_swapped_ends_it_and_clears_the_cookie() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let before = approved_in_a_browser(&app, &admin).await;

    let response = reqwest::Client::new()
        .post(app.url("/api/auth/logout"))
        .header("cookie", &before)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let set: Vec<String> = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter(|c| c.starts_with("session_token="))
        .map(str::to_string)
        .collect();
    assert_eq!(set.len(), 1, "only the sign-out's cookie: {set:?}");
    assert!(set[0].starts_with("session_token=;"), "{set:?}");
    // Nothing of the sign-in lives on, not even for the swap's grace.
    assert_eq!(
        with_cookie(&app, &before, "/api/auth/me").await.0,
        StatusCode::UNAUTHORIZED
    );
}

/// After a swap, the browser signs out with its new cookie: the old one, which would
/// otherwise work for the swap's 30 s grace, ends at once too; so does ending the session
/// from the session list.
#[tokio::test]
async fn signing_out_after_a_swap_ends_the_swapped_session_at_once() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let mut cookies = Vec::new();
    for _ in 0..2 {
        let before = approved_in_a_browser(&app, &admin).await;
        let (status, after, _) = with_cookie(&app, &before, "/api/mentor/profile").await;
        assert_eq!(status, StatusCode::OK);
        let after = after.expect("swapped");
        // Within the grace the old cookie still works.
        assert_eq!(
            with_cookie(&app, &before, "/api/auth/me").await.0,
            StatusCode::OK
        );
        cookies.push((before, after));
    }
    let (before, after) = &cookies[0];
    let response = reqwest::Client::new()
        .post(app.url("/api/auth/logout"))
        .header("cookie", after)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    for cookie in [before, after] {
        assert_eq!(
            with_cookie(&app, cookie, "/api/auth/me").await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    // Ending it from the list (here: the current session) does the same.
    let (before, after) = &cookies[1];
    let (_, _, listed) = with_cookie(&app, after, "/api/auth/sessions").await;
    let current = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == true)
        .unwrap()["session_id"]
        .as_str()
        .unwrap()
        .to_string();
    let response = reqwest::Client::new()
        .delete(app.url(&format!("/api/auth/sessions/{current}")))
        .header("cookie", after)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        with_cookie(&app, before, "/api/auth/me").await.0,
        StatusCode::UNAUTHORIZED
    );
}
