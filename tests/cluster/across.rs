//! What crosses nodes: bookings taken on either node, claims, closes and presence.

use leadbridge::domain::ids::EventId;
use reqwest::StatusCode;
use serde_json::json;

use crate::common::redis::RedisServer;
use crate::common::ws::{connect, Auth};
use crate::common::{clean_contact, error_code, unique, TestApp};
use crate::two_nodes;

/// Offsets a socket saw on one topic, in order.
fn offsets(frames: &[serde_json::Value]) -> Vec<u64> {
    frames
        .iter()
        .map(|f| f["offset"].as_u64().unwrap())
        .collect()
}

#[tokio::test]
async fn bookings_on_both_nodes_reach_watchers_on_both_and_never_oversell() {
    let redis = RedisServer::start();
    let (a, b) = two_nodes(&redis, &[]).await;
    let admin = a.admin().await;
    let (mentor, mentor_id) = a.approved_mentor(&admin).await;
    let event_id = a.create_event(&mentor, 5, 500).await;
    let topic = format!("event:{event_id}");
    let mut feed_on_b = connect(&b, Auth::Bearer(&mentor.access_token)).await;
    feed_on_b.subscribe(&format!("mentor:{mentor_id}")).await;
    let mut watcher_on_b = connect(&b, Auth::Anonymous).await;
    let start = watcher_on_b.subscribe(&topic).await["offset"]
        .as_u64()
        .unwrap();
    let mut watcher_on_a = connect(&a, Auth::Anonymous).await;
    watcher_on_a.subscribe(&topic).await;

    // 40 learners, half of them talking to each node, all at once, for 5 seats.
    let mut learners = Vec::new();
    for i in 0..40 {
        let learner = a.learner().await;
        learners.push(if i % 2 == 0 { learner } else { learner.on(&b) });
    }
    let path = format!("/api/events/{event_id}/book");
    let answers = futures_util::future::join_all(
        learners
            .iter()
            .map(|learner| learner.post(&path, clean_contact())),
    )
    .await;
    let booked = answers
        .iter()
        .filter(|(status, _)| *status == StatusCode::OK)
        .count();
    assert_eq!(booked, 5, "{answers:?}");
    for (status, body) in &answers {
        if *status != StatusCode::OK {
            assert_eq!(*status, StatusCode::CONFLICT, "{body}");
            assert_eq!(error_code(body), "EVENT_FULL");
        }
    }
    let stored = a
        .store
        .event(EventId::new(&event_id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.available_slots(), 0);

    // Every publication is in the topic's history by the time the answers are in.
    let end = connect(&a, Auth::Anonymous).await.subscribe(&topic).await["offset"]
        .as_u64()
        .unwrap();
    for watcher in [&mut watcher_on_a, &mut watcher_on_b] {
        let mut seen = Vec::new();
        while seen.len() < (end - start) as usize {
            seen.push(watcher.event("slots_changed").await);
        }
        let expected: Vec<u64> = (start + 1..=end).collect();
        assert_eq!(offsets(&seen), expected, "in order, no gap, no repeat");
        assert_eq!(
            seen.last().unwrap()["event"]["available_slots"],
            0,
            "the last count shown is the stored one, whichever node published last"
        );
    }
    let mut created = Vec::new();
    for _ in 0..5 {
        created.push(feed_on_b.event("lead_created").await);
    }
    let mut lead_ids: Vec<_> = created
        .iter()
        .map(|f| f["event"]["lead"]["lead_id"].as_str().unwrap().to_string())
        .collect();
    lead_ids.sort();
    lead_ids.dedup();
    assert_eq!(
        lead_ids.len(),
        5,
        "each booked lead once on the mentor's feed"
    );
}

/// Books a lead the automatic checks send to review (a throwaway e-mail domain).
async fn lead_for_review(app: &TestApp, event_id: &str) -> String {
    let mut contact = clean_contact();
    contact["email"] = json!(format!("r{}@yopmail.com", unique()));
    let (status, booked) = app
        .learner()
        .await
        .post(&format!("/api/events/{event_id}/book"), contact)
        .await;
    assert_eq!(status, StatusCode::OK, "{booked}");
    assert_eq!(booked["status"], "PENDING", "{booked}");
    booked["lead_id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_claim_taken_on_one_node_is_seen_and_enforced_on_the_other() {
    let redis = RedisServer::start();
    let (a, b) = two_nodes(&redis, &[]).await;
    let first = a.admin().await;
    let second = a.another_admin().await.on(&b);
    let (mentor, _) = a.approved_mentor(&first).await;
    let event_id = a.create_event(&mentor, 5, 500).await;
    let mut queue_on_b = connect(&b, Auth::Bearer(&second.access_token)).await;
    queue_on_b.subscribe("admin:queue").await;
    let lead_id = lead_for_review(&a, &event_id).await;
    assert_eq!(
        queue_on_b.event("queue_item_added").await["event"]["lead_id"],
        lead_id.as_str()
    );

    let (status, _) = first
        .post(&format!("/api/admin/leads/{lead_id}/claim"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let claimed = queue_on_b.event("queue_item_claimed").await;
    assert_eq!(claimed["event"]["lead_id"], lead_id.as_str());
    assert_eq!(claimed["event"]["admin_id"], first.user_id.as_str());
    let (status, body) = second
        .put(
            &format!("/api/admin/leads/{lead_id}/verify"),
            json!({"status": "VERIFIED"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(error_code(&body), "CLAIMED_BY_OTHER");

    // The holder decides on node A; the queue on B sees it leave.
    let (status, _) = first
        .put(
            &format!("/api/admin/leads/{lead_id}/verify"),
            json!({"status": "VERIFIED"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let resolved = queue_on_b.event("queue_item_resolved").await;
    assert_eq!(resolved["event"]["status"], "VERIFIED");
}

#[tokio::test]
async fn an_admin_still_connected_to_another_node_keeps_their_claims() {
    let redis = RedisServer::start();
    let grace = [("LEADBRIDGE_WS_RECONNECT_GRACE_SECONDS", "1")];
    let (a, b) = two_nodes(&redis, &grace).await;
    let holder = a.admin().await;
    let other = a.another_admin().await;
    let (mentor, _) = a.approved_mentor(&holder).await;
    let event_id = a.create_event(&mentor, 5, 500).await;
    let lead_id = lead_for_review(&a, &event_id).await;

    let mut watching = connect(&a, Auth::Bearer(&other.access_token)).await;
    watching.subscribe("admin:queue").await;
    let mut holder_on_a = connect(&a, Auth::Bearer(&holder.access_token)).await;
    holder_on_a.subscribe("admin:queue").await;
    let mut holder_on_b = connect(&b, Auth::Bearer(&holder.access_token)).await;
    holder_on_b.subscribe("admin:queue").await;
    holder
        .post(&format!("/api/admin/leads/{lead_id}/claim"), json!({}))
        .await;
    watching.event("queue_item_claimed").await;

    // Leaving node A is not leaving: the admin is still on node B after the grace period.
    drop(holder_on_a);
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let (status, _) = other
        .put(
            &format!("/api/admin/leads/{lead_id}/verify"),
            json!({"status": "VERIFIED"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "the claim is still held");

    drop(holder_on_b);
    let released = watching.event("queue_item_released").await;
    assert_eq!(released["event"]["lead_id"], lead_id.as_str());
}

#[tokio::test]
async fn logging_out_on_one_node_closes_the_sessions_sockets_on_the_other() {
    let redis = RedisServer::start();
    let (a, b) = two_nodes(&redis, &[]).await;
    let learner = a.learner().await;
    let mut on_b = connect(&b, Auth::Bearer(&learner.access_token)).await;
    on_b.subscribe(&format!("user:{}", learner.user_id)).await;
    let mut on_a = connect(&a, Auth::Bearer(&learner.access_token)).await;
    on_a.subscribe(&format!("user:{}", learner.user_id)).await;
    let (status, _) = learner.post("/api/auth/logout", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(on_b.closed().await, Some(4001));
    assert_eq!(on_a.closed().await, Some(4001));
}

#[tokio::test]
async fn rate_limits_are_shared_so_spreading_attempts_over_nodes_gains_nothing() {
    let redis = RedisServer::start();
    let (a, b) = two_nodes(&redis, &[("LEADBRIDGE_RATE_LIMITS", "on")]).await;
    let mut refused = 0;
    let mut judged = 0;
    for i in 0..30 {
        let node = if i % 2 == 0 { &a } else { &b };
        let email = format!("nobody-{}@example.com", unique());
        let (status, body) = node
            .anonymous()
            .post(
                "/api/auth/login",
                json!({"email": email, "password": "wrong-guess-1"}),
            )
            .await;
        match status {
            StatusCode::TOO_MANY_REQUESTS => {
                assert_eq!(error_code(&body), "RATE_LIMITED");
                refused += 1;
            }
            StatusCode::UNAUTHORIZED => judged += 1,
            other => panic!("unexpected {other}: {body}"),
        }
    }
    // One allowance of 20 for the address across both nodes (plus at most a refill or
    // two while the test runs), not 20 on each.
    assert!(
        (20..=22).contains(&judged),
        "{judged} judged, {refused} refused"
    );
}
