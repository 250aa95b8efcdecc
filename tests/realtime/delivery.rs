use reqwest::StatusCode;
use serde_json::json;

use crate::common::ws::{connect, Auth};
use crate::common::{clean_contact, error_code, unique, KEY_SECRET};
use crate::nodes::spawn_app;
use leadbridge::payments::signature::checkout_signature;

#[tokio::test]
async fn an_event_watcher_sees_the_slot_count_drop_when_someone_books() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (mentor, _) = app.approved_mentor(&admin).await;
    let event_id = app.create_event(&mentor, 5, 500).await;
    let mut watcher = connect(&app, Auth::Anonymous).await;
    let subscribed = watcher.subscribe(&format!("event:{event_id}")).await;
    assert_eq!(subscribed["type"], "subscribed", "{subscribed}");
    assert_eq!(subscribed["v"], 1);
    assert_eq!(subscribed["snapshot"]["available_slots"], 5);
    assert_eq!(subscribed["recovered"], false);

    app.book(&app.learner().await, &event_id).await;
    let message = watcher.event("slots_changed").await;
    assert_eq!(message["topic"], format!("event:{event_id}"));
    assert_eq!(message["event"]["available_slots"], 4);
    assert_eq!(
        message["offset"],
        subscribed["offset"].as_u64().unwrap() + 1
    );
}

#[tokio::test]
async fn mentor_feed_learner_bookings_and_purchase_flow_live() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (mentor, mentor_id) = app.approved_mentor(&admin).await;
    let event_id = app.create_event(&mentor, 5, 500).await;
    let learner = app.learner().await;

    let mut feed = connect(&app, Auth::Bearer(&mentor.access_token)).await;
    let subscribed = feed.subscribe(&format!("mentor:{mentor_id}")).await;
    assert_eq!(subscribed["snapshot"]["leads"], json!([]));
    let mut mine = connect(&app, Auth::Query(&learner.access_token)).await;
    assert_eq!(
        mine.subscribe(&format!("user:{}", learner.user_id)).await["type"],
        "subscribed"
    );

    let mut contact = clean_contact();
    contact["name"] = json!("Riya Kapoor");
    let (_, booked) = learner
        .post(&format!("/api/events/{event_id}/book"), contact.clone())
        .await;
    let lead_id = booked["lead_id"].as_str().unwrap().to_string();

    let created = feed.event("lead_created").await;
    let lead = &created["event"]["lead"];
    assert_eq!(lead["lead_id"], lead_id.as_str());
    assert_eq!(lead["name"], "R. K.");
    assert!(
        lead.get("email").is_none() && lead.get("phone").is_none(),
        "{created}"
    );
    let text = created.to_string();
    assert!(!text.contains("Riya") && !text.contains(contact["email"].as_str().unwrap()));

    let update = mine.event("booking_updated").await;
    assert_eq!(update["event"]["lead_id"], lead_id.as_str());
    assert_eq!(update["event"]["status"], "VERIFIED");

    let (_, order) = mentor
        .post(&format!("/api/mentor/leads/{lead_id}/purchase"), json!({}))
        .await;
    let order_id = order["order_id"].as_str().unwrap();
    let signature = checkout_signature(KEY_SECRET.as_bytes(), order_id, "pay_Live1");
    let (status, _) = mentor
        .post(
            "/api/payments/verify",
            json!({"razorpay_order_id": order_id, "razorpay_payment_id": "pay_Live1", "razorpay_signature": signature}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let purchased = feed.event("lead_purchased").await;
    assert_eq!(purchased["event"]["lead"]["email"], contact["email"]);
    assert_eq!(purchased["event"]["lead"]["name"], "Riya Kapoor");
    let update = mine.event("booking_updated").await;
    assert_eq!(update["event"]["status"], "PURCHASED");
}

#[tokio::test]
async fn two_admins_share_a_live_queue_and_a_claim_keeps_the_other_out() {
    let app = spawn_app().await;
    let first = app.admin().await;
    let second = app.another_admin().await;
    let (mentor, mentor_id) = app.approved_mentor(&first).await;
    let event_id = app.create_event(&mentor, 5, 500).await;
    let mut a = connect(&app, Auth::Bearer(&first.access_token)).await;
    let mut b = connect(&app, Auth::Bearer(&second.access_token)).await;
    assert_eq!(
        a.subscribe("admin:queue").await["snapshot"]["items"],
        json!([])
    );
    b.subscribe("admin:queue").await;
    let mut feed = connect(&app, Auth::Bearer(&mentor.access_token)).await;
    feed.subscribe(&format!("mentor:{mentor_id}")).await;

    let mut contact = clean_contact();
    contact["email"] = json!(format!("x{}@mailinator.com", unique()));
    let (_, booked) = app
        .learner()
        .await
        .post(&format!("/api/events/{event_id}/book"), contact)
        .await;
    let lead_id = booked["lead_id"].as_str().unwrap().to_string();
    for socket in [&mut a, &mut b] {
        let added = socket.event("queue_item_added").await;
        assert_eq!(added["event"]["lead_id"], lead_id.as_str());
        assert_eq!(
            added["event"]["verification_notes"],
            json!(["DISPOSABLE_EMAIL_DOMAIN"])
        );
    }

    let (status, claim) = first
        .post(&format!("/api/admin/leads/{lead_id}/claim"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{claim}");
    let claimed = b.event("queue_item_claimed").await;
    assert_eq!(claimed["event"]["admin_id"], first.user_id.as_str());
    let (status, body) = second
        .put(
            &format!("/api/admin/leads/{lead_id}/verify"),
            json!({"status": "VERIFIED"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(error_code(&body), "CLAIMED_BY_OTHER");
    let (status, body) = second
        .post(&format!("/api/admin/leads/{lead_id}/claim"), json!({}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");

    // A late subscriber sees the claim in the snapshot.
    let mut c = connect(&app, Auth::Bearer(&second.access_token)).await;
    let snapshot = c.subscribe("admin:queue").await;
    assert_eq!(
        snapshot["snapshot"]["items"][0]["claim"]["admin_id"],
        first.user_id.as_str()
    );

    let (status, _) = first
        .put(
            &format!("/api/admin/leads/{lead_id}/verify"),
            json!({"status": "VERIFIED"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let resolved = b.event("queue_item_resolved").await;
    assert_eq!(resolved["event"]["status"], "VERIFIED");
    // Now the mentor may buy it: it arrives in their feed.
    let created = feed.event("lead_created").await;
    assert_eq!(created["event"]["lead"]["lead_id"], lead_id.as_str());
}

#[tokio::test]
async fn an_admin_leaving_gives_back_the_items_they_held() {
    let app = crate::nodes::spawn_app_with(&[("LEADBRIDGE_WS_RECONNECT_GRACE_SECONDS", "1")]).await;
    let first = app.admin().await;
    let second = app.another_admin().await;
    let (mentor, _) = app.approved_mentor(&first).await;
    let event_id = app.create_event(&mentor, 5, 500).await;
    let mut contact = clean_contact();
    contact["email"] = json!(format!("y{}@yopmail.com", unique()));
    let (_, booked) = app
        .learner()
        .await
        .post(&format!("/api/events/{event_id}/book"), contact)
        .await;
    let lead_id = booked["lead_id"].as_str().unwrap().to_string();

    let mut holder = connect(&app, Auth::Bearer(&first.access_token)).await;
    holder.subscribe("admin:queue").await;
    let mut other = connect(&app, Auth::Bearer(&second.access_token)).await;
    other.subscribe("admin:queue").await;
    first
        .post(&format!("/api/admin/leads/{lead_id}/claim"), json!({}))
        .await;
    other.event("queue_item_claimed").await;

    drop(holder);
    let released = other.event("queue_item_released").await;
    assert_eq!(released["event"]["lead_id"], lead_id.as_str());
    let (status, _) = second
        .put(
            &format!("/api/admin/leads/{lead_id}/verify"),
            json!({"status": "REJECTED", "reason": "fake"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_thousand_sockets_on_one_event_all_receive_the_update() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (mentor, _) = app.approved_mentor(&admin).await;
    let event_id = app.create_event(&mentor, 5, 500).await;
    let topic = format!("event:{event_id}");
    let mut sockets = Vec::with_capacity(1000);
    for _ in 0..1000 {
        let mut socket = connect(&app, Auth::Anonymous).await;
        socket
            .send(json!({"type": "subscribe", "topic": topic}))
            .await;
        sockets.push(socket);
    }
    for socket in &mut sockets {
        assert_eq!(
            socket.until(|f| f["type"] == "subscribed").await["type"],
            "subscribed"
        );
    }
    app.book(&app.learner().await, &event_id).await;
    let receipts =
        futures_util::future::join_all(sockets.iter_mut().map(|s| s.event("slots_changed"))).await;
    assert_eq!(receipts.len(), 1000);
    assert!(receipts.iter().all(|m| m["event"]["available_slots"] == 4));
}

#[tokio::test]
async fn cancellations_and_rejections_reach_every_watcher() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (mentor, mentor_id) = app.approved_mentor(&admin).await;
    let event_id = app.create_event(&mentor, 5, 500).await;
    let learner = app.learner().await;
    let mut feed = connect(&app, Auth::Bearer(&mentor.access_token)).await;
    feed.subscribe(&format!("mentor:{mentor_id}")).await;
    let mut mine = connect(&app, Auth::Bearer(&learner.access_token)).await;
    mine.subscribe(&format!("user:{}", learner.user_id)).await;
    let mut queue = connect(&app, Auth::Bearer(&admin.access_token)).await;
    queue.subscribe("admin:queue").await;
    let mut watcher = connect(&app, Auth::Anonymous).await;
    watcher.subscribe(&format!("event:{event_id}")).await;

    // A clean lead, then the learner cancels it.
    let (_, booked) = app.book(&learner, &event_id).await;
    let lead_id = booked["lead_id"].as_str().unwrap().to_string();
    feed.event("lead_created").await;
    assert_eq!(
        watcher.event("slots_changed").await["event"]["available_slots"],
        4
    );
    learner
        .post(&format!("/api/user/bookings/{lead_id}/cancel"), json!({}))
        .await;
    let updated = feed.event("lead_updated").await;
    assert_eq!(updated["event"]["lead"]["status"], "CANCELLED");
    assert!(updated["event"]["lead"].get("email").is_none());
    let statuses: Vec<String> = {
        let mut seen = Vec::new();
        while seen.last().map(String::as_str) != Some("CANCELLED") {
            let update = mine.event("booking_updated").await;
            seen.push(update["event"]["status"].as_str().unwrap().to_string());
        }
        seen
    };
    assert_eq!(statuses, vec!["VERIFIED", "CANCELLED"]);
    assert_eq!(
        watcher.event("slots_changed").await["event"]["available_slots"],
        5
    );

    // A doubtful lead, which an admin rejects.
    let mut contact = clean_contact();
    contact["email"] = json!(format!("z{}@trashmail.com", unique()));
    let (_, booked) = learner
        .post(&format!("/api/events/{event_id}/book"), contact)
        .await;
    let pending = booked["lead_id"].as_str().unwrap().to_string();
    assert_eq!(
        queue.event("queue_item_added").await["event"]["lead_id"],
        pending.as_str()
    );
    admin
        .put(
            &format!("/api/admin/leads/{pending}/verify"),
            json!({"status": "REJECTED", "reason": "throwaway address"}),
        )
        .await;
    let resolved = queue.event("queue_item_resolved").await;
    assert_eq!(resolved["event"]["status"], "REJECTED");
    let rejected = mine
        .until(|f| f["event"]["type"] == "booking_updated" && f["event"]["status"] == "REJECTED")
        .await;
    assert_eq!(rejected["event"]["lead_id"], pending.as_str());
    let drained = feed.drain().await;
    assert!(
        drained
            .iter()
            .all(|f| f["event"]["lead"]["lead_id"] != pending.as_str()),
        "a lead never offered to the mentor is not announced to them: {drained:?}"
    );
}
