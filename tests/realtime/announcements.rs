//! Every change people watch is announced (through the outbox and its relay): edits and
//! deletions of events, a mentor's decision, a rejection's reason, a closed account.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::ws::{connect, Auth};
use crate::common::{clean_contact, event_body, unique, PASSWORD};
use crate::nodes::spawn_app;

#[tokio::test]
async fn moving_an_event_reaches_its_watchers_and_the_learners_booked_on_it() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (mentor, _) = app.approved_mentor(&admin).await;
    let event_id = app.create_event(&mentor, 5, 500).await;
    let learner = app.learner().await;
    assert_eq!(app.book(&learner, &event_id).await.0, StatusCode::OK);

    let mut watcher = connect(&app, Auth::Anonymous).await;
    watcher.subscribe(&format!("event:{event_id}")).await;
    let mut mine = connect(&app, Auth::Bearer(&learner.access_token)).await;
    mine.subscribe(&format!("user:{}", learner.user_id)).await;

    // The price is the mentor's business: watchers of the event hear it, the learner not.
    let (_, shown) = learner.get(&format!("/api/events/{event_id}")).await;
    let mut body = event_body("Rust for the web", 5, 800);
    body["event_datetime"] = shown["event_datetime"].clone();
    let (status, edited) = mentor
        .put(&format!("/api/mentor/events/{event_id}"), body.clone())
        .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    let repriced = watcher.event("event_updated").await;
    assert_eq!(repriced["event"]["changed"], json!(["price_per_lead"]));
    assert_eq!(repriced["event"]["price_per_lead"], 800);

    let later = (chrono::Utc::now() + chrono::Duration::days(9)).to_rfc3339();
    body["event_datetime"] = json!(later);
    body["title"] = json!("Rust for the web, part two");
    let (status, edited) = mentor
        .put(&format!("/api/mentor/events/{event_id}"), body)
        .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    let moved = watcher.event("event_updated").await;
    assert_eq!(
        moved["event"]["changed"],
        json!(["event_datetime", "title"])
    );
    assert_eq!(moved["event"]["title"], "Rust for the web, part two");
    assert_eq!(moved["event"]["available_slots"], 4);

    // The first edit the learner hears is the move: the repricing before it never
    // reached them.
    let told = mine.event("event_updated").await;
    assert_eq!(told["topic"], format!("user:{}", learner.user_id));
    assert_eq!(told["event"]["event_id"], event_id.as_str());
    assert_eq!(told["event"]["changed"], json!(["event_datetime", "title"]));
}

#[tokio::test]
async fn a_deleted_event_tells_the_pages_showing_it() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (mentor, _) = app.approved_mentor(&admin).await;
    let event_id = app.create_event(&mentor, 5, 500).await;
    let mut watcher = connect(&app, Auth::Anonymous).await;
    watcher.subscribe(&format!("event:{event_id}")).await;

    let (status, body) = mentor
        .delete(&format!("/api/mentor/events/{event_id}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let gone = watcher.event("event_deleted").await;
    assert_eq!(
        gone["event"],
        json!({"type": "event_deleted", "event_id": event_id})
    );
}

#[tokio::test]
async fn a_pending_mentor_hears_the_decision_on_their_own_topic() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let mentor = app.register("MENTOR", "Pending Mentor").await;
    let (_, profile) = mentor.get("/api/mentor/profile").await;
    let mentor_id = profile["mentor_id"].as_str().unwrap().to_string();

    let mut socket = connect(&app, Auth::Bearer(&mentor.access_token)).await;
    // Not approved: no lead feed, but the mentor's own topic.
    let feed = socket.subscribe(&format!("mentor:{mentor_id}")).await;
    assert_eq!(feed["code"], "FORBIDDEN", "{feed}");
    let own = socket.subscribe(&format!("user:{}", mentor.user_id)).await;
    assert_eq!(own["type"], "subscribed", "{own}");

    let (status, body) = admin
        .call(
            Method::PUT,
            &format!("/api/admin/mentors/{mentor_id}/verify"),
            Some(json!({"status": "APPROVED"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let decided = socket.event("mentor_status_changed").await;
    assert_eq!(decided["event"]["mentor_id"], mentor_id.as_str());
    assert_eq!(decided["event"]["verification_status"], "APPROVED");
}

#[tokio::test]
async fn a_rejected_learner_sees_the_reason_live_and_in_their_bookings() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (mentor, _) = app.approved_mentor(&admin).await;
    let event_id = app.create_event(&mentor, 5, 500).await;
    let learner = app.learner().await;
    let mut contact = clean_contact();
    contact["email"] = json!(format!("r{}@yopmail.com", unique()));
    let (_, booked) = learner
        .post(&format!("/api/events/{event_id}/book"), contact)
        .await;
    assert_eq!(booked["status"], "PENDING", "{booked}");
    let lead_id = booked["lead_id"].as_str().unwrap().to_string();
    // The booking's own announcement is out before the learner's page opens.
    app.settled().await;
    let mut mine = connect(&app, Auth::Bearer(&learner.access_token)).await;
    mine.subscribe(&format!("user:{}", learner.user_id)).await;

    let reason = "The phone number does not answer";
    let (status, body) = admin
        .put(
            &format!("/api/admin/leads/{lead_id}/verify"),
            json!({"status": "REJECTED", "reason": reason}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let update = mine.event("booking_updated").await;
    assert_eq!(update["event"]["status"], "REJECTED");
    assert_eq!(update["event"]["reason"], reason);
    let (_, bookings) = learner.get("/api/user/bookings").await;
    assert_eq!(bookings[0]["reason"], reason, "{bookings}");
}

#[tokio::test]
async fn closing_an_account_is_announced_to_its_pages_before_they_close() {
    let app = spawn_app().await;
    let learner = app.learner().await;
    let mut other_tab = connect(&app, Auth::Bearer(&learner.access_token)).await;
    other_tab
        .subscribe(&format!("user:{}", learner.user_id))
        .await;

    let (status, body) = learner
        .call(
            Method::DELETE,
            "/api/auth/me",
            Some(json!({"password": PASSWORD})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let closed = other_tab.event("account_closed").await;
    assert_eq!(closed["event"]["user_id"], learner.user_id.as_str());
    assert_eq!(other_tab.closed().await, Some(4001));
}

#[tokio::test]
async fn an_unreadable_change_in_the_outbox_does_not_hold_back_the_ones_after_it() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (mentor, _) = app.approved_mentor(&admin).await;
    let event_id = app.create_event(&mentor, 5, 500).await;
    app.settled().await;
    // A row this version cannot open (written by a newer one, or damaged).
    let db = rusqlite::Connection::open(app.data_dir.path().join("leadbridge.db")).unwrap();
    db.busy_timeout(std::time::Duration::from_secs(5)).unwrap();
    db.execute(
        "INSERT INTO outbox (change_id, kind, aggregate, payload, occurred_at)
         VALUES ('chg_x', 'from_the_future', 'lead:x', x'00', '2026-01-01T00:00:00.000000Z')",
        [],
    )
    .unwrap();

    let mut watcher = connect(&app, Auth::Anonymous).await;
    watcher.subscribe(&format!("event:{event_id}")).await;
    assert_eq!(
        app.book(&app.learner().await, &event_id).await.0,
        StatusCode::OK
    );
    let after = watcher.event("slots_changed").await;
    assert_eq!(after["event"]["available_slots"], 4);
}
