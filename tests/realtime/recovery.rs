use serde_json::json;

use crate::common::ws::{connect, Auth};
use crate::nodes::spawn_app;

#[tokio::test]
async fn a_reconnect_with_since_gets_exactly_what_it_missed_in_order() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (mentor, _) = app.approved_mentor(&admin).await;
    let event_id = app.create_event(&mentor, 10, 500).await;
    let topic = format!("event:{event_id}");

    let mut socket = connect(&app, Auth::Anonymous).await;
    let epoch = socket.subscribe(&topic).await["epoch"]
        .as_str()
        .unwrap()
        .to_string();
    app.book(&app.learner().await, &event_id).await;
    let seen = socket.event("slots_changed").await;
    assert_eq!(seen["event"]["available_slots"], 9);
    let offset = seen["offset"].as_u64().unwrap();
    drop(socket);

    for _ in 0..3 {
        app.book(&app.learner().await, &event_id).await;
    }
    // Announced after the answers (by the relay): wait until they are out.
    app.settled().await;
    let mut again = connect(&app, Auth::Anonymous).await;
    again
        .send(json!({"type": "subscribe", "topic": topic, "since": {"offset": offset, "epoch": epoch}}))
        .await;
    let subscribed = again.until(|f| f["type"] == "subscribed").await;
    assert_eq!(subscribed["recovered"], true, "{subscribed}");
    assert!(subscribed.get("snapshot").is_none());
    let missed: Vec<_> = again.drain().await;
    let offsets: Vec<u64> = missed
        .iter()
        .map(|m| m["offset"].as_u64().unwrap())
        .collect();
    assert_eq!(
        offsets,
        vec![offset + 1, offset + 2, offset + 3],
        "{missed:?}"
    );
    let slots: Vec<i64> = missed
        .iter()
        .map(|m| m["event"]["available_slots"].as_i64().unwrap())
        .collect();
    assert_eq!(slots, vec![8, 7, 6]);

    // Live messages continue after the replay, with no duplicate.
    app.book(&app.learner().await, &event_id).await;
    let live = again.event("slots_changed").await;
    assert_eq!(live["offset"], offset + 4);
}

#[tokio::test]
async fn a_position_the_history_cannot_cover_gets_a_fresh_snapshot() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (mentor, _) = app.approved_mentor(&admin).await;
    let event_id = app.create_event(&mentor, 10, 500).await;
    app.book(&app.learner().await, &event_id).await;
    let mut socket = connect(&app, Auth::Anonymous).await;
    // An epoch of another server run: the history is gone.
    socket
        .send(json!({"type": "subscribe", "topic": format!("event:{event_id}"), "since": {"offset": 1, "epoch": "old-run"}}))
        .await;
    let subscribed = socket.until(|f| f["type"] == "subscribed").await;
    assert_eq!(subscribed["recovered"], false);
    assert_eq!(subscribed["snapshot"]["available_slots"], 9);
    assert_ne!(subscribed["epoch"], "old-run");
}
