use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::{clean_contact, error_code, spawn_app, KEY_SECRET};
use leadbridge::payments::signature::checkout_signature;

fn actions(log: &Value) -> Vec<String> {
    log.as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect()
}

/// The product end to end: register, approve, publish, book, verify, buy, analytics, audit.
#[tokio::test]
async fn the_whole_marketplace_journey() {
    let app = spawn_app().await;
    let admin = app.admin().await;

    // A mentor applies and is approved.
    let mentor = app.register("MENTOR", "Maya Mentor").await;
    let (_, profile) = mentor.get("/api/mentor/profile").await;
    let mentor_id = profile["mentor_id"].as_str().unwrap().to_string();
    let (_, pending) = admin.get("/api/admin/mentors?status=PENDING").await;
    assert!(pending
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["mentor_id"] == mentor_id.as_str()));
    let (status, _) = admin
        .put(
            &format!("/api/admin/mentors/{mentor_id}/verify"),
            json!({"status": "APPROVED", "reason": "Looks great"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    // The mentor publishes; a learner finds the event and books with a throwaway e-mail.
    let event_id = app.create_event(&mentor, 5, 500).await;
    let (_, listed) = app.anonymous().get("/api/events?q=rust").await;
    assert!(listed
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["event_id"] == event_id.as_str()));
    let learner = app.learner().await;
    let mut contact = clean_contact();
    contact["email"] = json!("priya@yopmail.com");
    contact["name"] = json!("Priya Sharma");
    let (status, booked) = learner
        .post(&format!("/api/events/{event_id}/book"), contact)
        .await;
    assert_eq!(status, StatusCode::OK, "{booked}");
    assert_eq!(booked["status"], "PENDING");
    let lead_id = booked["lead_id"].as_str().unwrap().to_string();

    // Pending leads are not offered to the mentor and cannot be bought.
    let (_, leads) = mentor.get("/api/mentor/leads").await;
    assert!(leads.as_array().unwrap().is_empty());
    let (status, body) = mentor
        .post(&format!("/api/mentor/leads/{lead_id}/purchase"), json!({}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(error_code(&body), "LEAD_NOT_VERIFIED");

    // The admin reviews and verifies it.
    let (_, queue) = admin.get("/api/admin/leads?status=PENDING").await;
    let item = queue
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["lead_id"] == lead_id.as_str())
        .unwrap()
        .clone();
    assert_eq!(
        item["email"], "priya@yopmail.com",
        "admins review the full contact"
    );
    let (status, verified) = admin
        .put(
            &format!("/api/admin/leads/{lead_id}/verify"),
            json!({"status": "VERIFIED", "reason": "Called and confirmed"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{verified}");
    assert_eq!(verified["lead"]["verification_status"], "MANUAL_VERIFIED");
    let (_, mine) = learner.get("/api/user/bookings").await;
    assert_eq!(mine[0]["status"], "VERIFIED");

    // The mentor sees it masked, with its price.
    let (_, leads) = mentor.get("/api/mentor/leads").await;
    let lead = &leads[0];
    assert_eq!(lead["lead_id"], lead_id.as_str());
    assert_eq!(lead["name"], "P. S.");
    assert_eq!(lead["price_per_lead"], 500);
    assert_eq!(lead["event_title"], "Rust for the web");
    assert!(
        lead.get("email").is_none() && lead.get("phone").is_none(),
        "{lead}"
    );

    // The mentor buys it through checkout.
    let (status, order) = mentor
        .post(&format!("/api/mentor/leads/{lead_id}/purchase"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{order}");
    assert_eq!(order["amount"], 50_000);
    assert_eq!(order["currency"], "INR");
    assert_eq!(order["key"], "rzp_test_key");
    let order_id = order["order_id"].as_str().unwrap();
    assert!(order_id.starts_with("order_"));
    let payment_id = "pay_TestCheckout01";
    let signature = checkout_signature(KEY_SECRET.as_bytes(), order_id, payment_id);
    let (status, paid) = mentor
        .post(
            "/api/payments/verify",
            json!({"razorpay_order_id": order_id, "razorpay_payment_id": payment_id, "razorpay_signature": signature}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{paid}");
    assert_eq!(paid["status"], "COMPLETED");
    assert_eq!(paid["lead"]["email"], "priya@yopmail.com");

    // Now the contact is visible, and the learner sees PURCHASED and cannot cancel.
    let (_, leads) = mentor.get("/api/mentor/leads").await;
    assert_eq!(leads[0]["status"], "PURCHASED");
    assert_eq!(leads[0]["name"], "Priya Sharma");
    assert_eq!(leads[0]["email"], "priya@yopmail.com");
    assert!(leads[0]["phone"].as_str().unwrap().starts_with("+91"));
    assert_eq!(leads[0]["purchased_by"], mentor_id.as_str());
    let (status, body) = mentor
        .post(&format!("/api/mentor/leads/{lead_id}/purchase"), json!({}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(error_code(&body), "ALREADY_PURCHASED");
    let (_, mine) = learner.get("/api/user/bookings").await;
    assert_eq!(mine[0]["status"], "PURCHASED");
    let (status, _) = learner
        .post(&format!("/api/user/bookings/{lead_id}/cancel"), json!({}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);

    // A second lead is bought through the webhook alone.
    let second = app.learner().await;
    let (_, booked) = app.book(&second, &event_id).await;
    let second_lead = booked["lead_id"].as_str().unwrap().to_string();
    let (_, order) = mentor
        .post(
            &format!("/api/mentor/leads/{second_lead}/purchase"),
            json!({}),
        )
        .await;
    let order_id = order["order_id"].as_str().unwrap();
    let (status, ack) = crate::payments::send_webhook(
        &app,
        "evt_journey_1",
        "payment.captured",
        order_id,
        "pay_Hook01",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{ack}");
    let (_, leads) = mentor.get("/api/mentor/leads").await;
    assert!(leads
        .as_array()
        .unwrap()
        .iter()
        .all(|l| l["status"] == "PURCHASED"));

    let (_, stats) = mentor.get("/api/mentor/stats").await;
    assert_eq!(stats["purchased_leads"], 2);
    assert_eq!(stats["total_spent"], 1000);

    // Analytics and the audit trail.
    let (_, analytics) = admin.get("/api/admin/analytics").await;
    assert_eq!(analytics["total_revenue"], 1000);
    assert_eq!(analytics["purchased_leads"], 2);
    assert_eq!(analytics["verified_leads"], 2);
    assert_eq!(analytics["total_leads"], 2);
    assert_eq!(analytics["total_events"], 1);
    assert_eq!(analytics["total_mentors"], 1);
    assert_eq!(analytics["total_users"], 4);
    let (_, log) = admin.get("/api/admin/audit-log").await;
    let actions = actions(&log);
    for expected in [
        "MENTOR_APPROVED",
        "LEAD_VERIFIED",
        "PAYMENT_CREATED",
        "PAYMENT_COMPLETED",
    ] {
        assert!(
            actions.contains(&expected.to_string()),
            "{expected} missing from {actions:?}"
        );
    }
    let approval = log
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "MENTOR_APPROVED")
        .unwrap();
    assert_eq!(approval["actor_id"], admin.user_id.as_str());
    assert_eq!(approval["target_id"], mentor_id.as_str());
    assert_eq!(approval["reason"], "Looks great");
    assert!(log
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["actor_id"] == "razorpay_webhook"));
}
