use reqwest::StatusCode;
use serde_json::json;

use crate::common::ws::{connect, session_cookie, try_connect, Auth};
use crate::common::{ADMIN_EMAIL, ADMIN_PASSWORD, PASSWORD};
use crate::nodes::{spawn_app, spawn_app_with};

#[tokio::test]
async fn forbidden_subscriptions_get_an_error_and_the_socket_stays_open() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (mentor, mentor_id) = app.approved_mentor(&admin).await;
    let (_, other_mentor) = app.approved_mentor(&admin).await;
    let learner = app.learner().await;

    let mut as_learner = connect(&app, Auth::Bearer(&learner.access_token)).await;
    for topic in [
        "admin:queue".to_string(),
        format!("mentor:{mentor_id}"),
        "user:user_someone_else".to_string(),
    ] {
        let answer = as_learner.subscribe(&topic).await;
        assert_eq!(answer["type"], "error", "{topic}: {answer}");
        assert_eq!(answer["code"], "FORBIDDEN");
        assert_eq!(answer["topic"], topic.as_str());
    }
    assert!(
        as_learner.drain().await.is_empty(),
        "still open: the ping was answered"
    );

    let mut as_mentor = connect(&app, Auth::Bearer(&mentor.access_token)).await;
    assert_eq!(
        as_mentor.subscribe(&format!("mentor:{other_mentor}")).await["code"],
        "FORBIDDEN"
    );
    assert_eq!(
        as_mentor.subscribe(&format!("mentor:{mentor_id}")).await["type"],
        "subscribed"
    );

    let mut anonymous = connect(&app, Auth::Anonymous).await;
    assert_eq!(
        anonymous
            .subscribe(&format!("user:{}", learner.user_id))
            .await["code"],
        "FORBIDDEN"
    );
    assert_eq!(anonymous.subscribe("nonsense").await["code"], "BAD_TOPIC");
    anonymous.send(json!({"type": "dance"})).await;
    assert_eq!(anonymous.frame().await["code"], "UNKNOWN_TYPE");
    anonymous
        .send_raw(tokio_tungstenite::tungstenite::Message::text("{not json"))
        .await
        .unwrap();
    assert_eq!(anonymous.frame().await["code"], "BAD_MESSAGE");
    assert!(anonymous.drain().await.is_empty());

    let mut as_admin = connect(&app, Auth::Bearer(&admin.access_token)).await;
    assert_eq!(
        as_admin.subscribe(&format!("mentor:{other_mentor}")).await["type"],
        "subscribed"
    );
}

#[tokio::test]
async fn cookie_sockets_must_come_from_an_allowed_origin_and_bad_tokens_are_401() {
    let app = spawn_app().await;
    let cookie = session_cookie(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let refused = try_connect(&app, Auth::Cookie(&cookie, "https://evil.example"))
        .await
        .err();
    assert_eq!(refused, Some(403));
    let mut own = connect(&app, Auth::Cookie(&cookie, &app.ws_address)).await;
    assert_eq!(own.subscribe("admin:queue").await["type"], "subscribed");
    assert_eq!(
        try_connect(&app, Auth::Query("not-a-token")).await.err(),
        Some(401)
    );
    assert_eq!(
        try_connect(&app, Auth::Bearer("a.b.c")).await.err(),
        Some(401)
    );
}

#[tokio::test]
async fn logging_out_closes_that_sessions_sockets() {
    let app = spawn_app().await;
    let learner = app.learner().await;
    let mut socket = connect(&app, Auth::Bearer(&learner.access_token)).await;
    socket.subscribe(&format!("user:{}", learner.user_id)).await;
    // The same person signed in elsewhere: that session's socket stays.
    let elsewhere = app.anonymous();
    let (_, signed_in) = elsewhere
        .post(
            "/api/auth/login",
            json!({"email": learner.email, "password": crate::common::PASSWORD}),
        )
        .await;
    let mut other = connect(
        &app,
        Auth::Bearer(signed_in["access_token"].as_str().unwrap()),
    )
    .await;
    let mut bystander = connect(&app, Auth::Anonymous).await;
    let (status, _) = learner.post("/api/auth/logout", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(socket.closed().await, Some(4001));
    assert_eq!(
        try_connect(&app, Auth::Bearer(&learner.access_token))
            .await
            .err(),
        Some(401)
    );
    assert!(
        other.drain().await.is_empty(),
        "the other session's socket is open"
    );
    assert!(bystander.drain().await.is_empty());
}

#[tokio::test]
async fn revoking_a_mentor_closes_their_sockets() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (mentor, mentor_id) = app.approved_mentor(&admin).await;
    let mut feed = connect(&app, Auth::Bearer(&mentor.access_token)).await;
    feed.subscribe(&format!("mentor:{mentor_id}")).await;
    let (status, _) = admin
        .put(
            &format!("/api/admin/mentors/{mentor_id}/verify"),
            json!({"status": "REJECTED", "reason": "fraud"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(feed.closed().await, Some(4001), "their session ended");
    assert_eq!(
        try_connect(&app, Auth::Bearer(&mentor.access_token))
            .await
            .err(),
        Some(401),
        "the old token died with the session"
    );
    let (status, _) = mentor.get("/api/auth/me").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the cookie too");
    // Signed in again, they may watch public pages, but not come back for the feed.
    let mut mentor = mentor;
    mentor.sign_in_again().await;
    let mut again = connect(&app, Auth::Bearer(&mentor.access_token)).await;
    assert_eq!(
        again.subscribe(&format!("mentor:{mentor_id}")).await["code"],
        "FORBIDDEN"
    );
    assert_eq!(
        again.subscribe("event:event_any").await["type"],
        "subscribed"
    );
}

#[tokio::test]
async fn a_socket_closes_when_its_session_expires() {
    let app = spawn_app().await;
    let learner = app.learner().await;
    // A session about to expire, presented as a raw session token.
    let token = leadbridge::auth::session_token::generate();
    let now = chrono::Utc::now();
    app.store
        .create_session(leadbridge::store::Session {
            token_hash: leadbridge::auth::session_token::digest(&token),
            user_id: learner.user_id.clone(),
            created_at: now,
            expires_at: now + chrono::Duration::seconds(3),
            last_seen_at: now,
            device: "test".into(),
            rotate: false,
        })
        .await
        .unwrap();
    let mut socket = connect(&app, Auth::Bearer(&token)).await;
    assert_eq!(
        socket.subscribe(&format!("user:{}", learner.user_id)).await["type"],
        "subscribed"
    );
    // Raw session tokens are not accepted in the query string (it ends up in logs).
    assert_eq!(
        try_connect(&app, Auth::Query(&token)).await.err(),
        Some(401)
    );
    assert_eq!(socket.closed().await, Some(4001));
}

#[tokio::test]
async fn a_stale_cookie_still_gets_public_updates_and_nothing_else() {
    let app = spawn_app().await;
    let mut socket = connect(
        &app,
        Auth::Cookie("session_token=expired-or-forged", &app.ws_address),
    )
    .await;
    assert_eq!(
        socket.subscribe("event:event_any").await["type"],
        "subscribed"
    );
    assert_eq!(socket.subscribe("admin:queue").await["code"], "FORBIDDEN");
}

#[tokio::test]
async fn one_socket_watches_at_most_64_topics() {
    let app = spawn_app().await;
    let mut socket = connect(&app, Auth::Anonymous).await;
    for n in 0..64 {
        // Paced under the 50 messages per second limit.
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        assert_eq!(
            socket.subscribe(&format!("event:event_{n}")).await["type"],
            "subscribed"
        );
    }
    assert_eq!(
        socket.subscribe("event:event_64").await["code"],
        "TOO_MANY_SUBSCRIPTIONS"
    );
}

#[tokio::test]
async fn a_socket_closes_once_its_session_is_left_idle() {
    let app = spawn_app_with(&[("LEADBRIDGE_SESSION_IDLE_SECONDS", "3")]).await;
    let learner = app.learner().await;
    let cookie = session_cookie(&app, &learner.email, PASSWORD).await;
    let mut socket = connect(&app, Auth::Cookie(&cookie, &app.ws_address)).await;
    assert_eq!(
        socket.subscribe(&format!("user:{}", learner.user_id)).await["type"],
        "subscribed"
    );
    // Nobody uses the session: the socket goes with it at its idle end.
    assert_eq!(socket.closed().await, Some(4001));
}

#[tokio::test]
async fn signing_in_again_in_the_same_browser_renews_its_sockets() {
    let app = spawn_app().await;
    let learner = app.learner().await;
    let cookie = session_cookie(&app, &learner.email, PASSWORD).await;
    let mut socket = connect(&app, Auth::Cookie(&cookie, &app.ws_address)).await;
    assert_eq!(
        socket.subscribe(&format!("user:{}", learner.user_id)).await["type"],
        "subscribed"
    );
    // Another tab of the same browser signs in again: its cookie goes along.
    let response = reqwest::Client::new()
        .post(app.url("/api/auth/login"))
        .header("cookie", &cookie)
        .json(&json!({"email": learner.email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(socket.closed().await, Some(4002), "reconnect, not sign out");
}

#[tokio::test]
async fn closing_an_account_closes_its_sockets() {
    let app = spawn_app().await;
    let learner = app.learner().await;
    let mut socket = connect(&app, Auth::Bearer(&learner.access_token)).await;
    assert_eq!(
        socket.subscribe(&format!("user:{}", learner.user_id)).await["type"],
        "subscribed"
    );
    let (status, body) = learner
        .call(
            reqwest::Method::DELETE,
            "/api/auth/me",
            Some(json!({"password": PASSWORD})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(socket.closed().await, Some(4001));
}
