use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::fake_razorpay::{Behaviour, FakeRazorpay};
use crate::common::{
    error_code, spawn_app, spawn_app_with, Actor, TestApp, KEY_SECRET, WEBHOOK_SECRET,
};
use leadbridge::payments::signature::{checkout_signature, webhook_signature};

/// Delivers a signed Razorpay webhook as Razorpay would.
pub async fn send_webhook(
    app: &TestApp,
    event_id: &str,
    event: &str,
    order_id: &str,
    payment_id: &str,
) -> (StatusCode, Value) {
    let body = json!({
        "entity": "event",
        "account_id": "acc_Test",
        "event": event,
        "contains": ["payment"],
        "payload": {"payment": {"entity": {
            "id": payment_id, "entity": "payment", "amount": 50000, "currency": "INR",
            "status": if event == "payment.failed" { "failed" } else { "captured" },
            "order_id": order_id, "method": "upi"
        }}},
        "created_at": 1_700_000_000
    })
    .to_string();
    let signature = webhook_signature(WEBHOOK_SECRET.as_bytes(), body.as_bytes());
    let response = reqwest::Client::new()
        .post(app.url("/api/payments/webhook"))
        .header("X-Razorpay-Signature", signature)
        .header("X-Razorpay-Event-Id", event_id)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    crate::common::read(response).await
}

/// An approved mentor with one verified lead on their event, and the open order for it.
async fn verified_lead(app: &TestApp) -> (Actor, String, String) {
    let admin = app.admin().await;
    let (mentor, _) = app.approved_mentor(&admin).await;
    let event_id = app.create_event(&mentor, 5, 500).await;
    let (_, booked) = app.book(&app.learner().await, &event_id).await;
    let lead_id = booked["lead_id"].as_str().unwrap().to_string();
    let (status, order) = mentor
        .post(&format!("/api/mentor/leads/{lead_id}/purchase"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{order}");
    (
        mentor,
        lead_id,
        order["order_id"].as_str().unwrap().to_string(),
    )
}

async fn revenue_and_status(app: &TestApp, mentor: &Actor, lead_id: &str) -> (i64, String, usize) {
    let admin = app.admin().await;
    let (_, analytics) = admin.get("/api/admin/analytics").await;
    let (_, leads) = mentor.get("/api/mentor/leads").await;
    let status = leads
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["lead_id"] == lead_id)
        .map(|l| l["status"].as_str().unwrap().to_string())
        .unwrap_or_default();
    let (_, log) = admin.get("/api/admin/audit-log?limit=100").await;
    let completions = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "PAYMENT_COMPLETED")
        .count();
    (
        analytics["total_revenue"].as_i64().unwrap(),
        status,
        completions,
    )
}

#[tokio::test]
async fn a_forged_checkout_signature_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let (mentor, lead_id, order_id) = verified_lead(&app).await;
    let forged = checkout_signature(b"not-the-secret", &order_id, "pay_X");
    let (status, body) = mentor
        .post(
            "/api/payments/verify",
            json!({"razorpay_order_id": order_id, "razorpay_payment_id": "pay_X", "razorpay_signature": forged}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&body), "INVALID_SIGNATURE");
    assert_eq!(
        revenue_and_status(&app, &mentor, &lead_id).await,
        (0, "VERIFIED".into(), 0)
    );
}

#[tokio::test]
async fn webhook_replays_and_duplicates_unlock_once_and_count_revenue_once() {
    let app = spawn_app().await;
    let (mentor, lead_id, order_id) = verified_lead(&app).await;
    for _ in 0..4 {
        let (status, _) = send_webhook(&app, "evt_1", "payment.captured", &order_id, "pay_A").await;
        assert!(status.is_success());
    }
    // The same capture announced under other event ids (order.paid and a retry).
    let (status, _) = send_webhook(&app, "evt_2", "order.paid", &order_id, "pay_A").await;
    assert!(status.is_success());
    let (status, ack) = send_webhook(&app, "evt_1", "payment.captured", &order_id, "pay_A").await;
    assert!(status.is_success());
    assert_eq!(ack["status"], "duplicate");
    assert_eq!(
        revenue_and_status(&app, &mentor, &lead_id).await,
        (500, "PURCHASED".into(), 1)
    );
}

#[tokio::test]
async fn a_late_failure_notice_does_not_undo_a_capture() {
    let app = spawn_app().await;
    let (mentor, lead_id, order_id) = verified_lead(&app).await;
    send_webhook(&app, "evt_ok", "order.paid", &order_id, "pay_B").await;
    let (status, _) = send_webhook(
        &app,
        "evt_fail",
        "payment.failed",
        &order_id,
        "pay_A_earlier",
    )
    .await;
    assert!(status.is_success());
    assert_eq!(
        revenue_and_status(&app, &mentor, &lead_id).await,
        (500, "PURCHASED".into(), 1)
    );
}

#[tokio::test]
async fn a_failed_payment_leaves_the_lead_buyable_with_a_new_order() {
    let app = spawn_app().await;
    let (mentor, lead_id, order_id) = verified_lead(&app).await;
    let (status, _) = send_webhook(&app, "evt_f", "payment.failed", &order_id, "pay_F").await;
    assert!(status.is_success());
    let (status, order) = mentor
        .post(&format!("/api/mentor/leads/{lead_id}/purchase"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_ne!(order["order_id"], order_id.as_str());
    let (_, log) = app.admin().await.get("/api/admin/audit-log").await;
    assert!(log
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["action"] == "PAYMENT_FAILED"));
}

#[tokio::test]
async fn webhooks_with_a_bad_or_missing_signature_are_refused() {
    let app = spawn_app().await;
    let (mentor, lead_id, order_id) = verified_lead(&app).await;
    let body = json!({"event": "payment.captured", "payload": {"payment": {"entity": {"id": "pay_Z", "order_id": order_id}}}}).to_string();
    let post = |signature: Option<String>| {
        let mut request = reqwest::Client::new()
            .post(app.url("/api/payments/webhook"))
            .body(body.clone());
        if let Some(sig) = signature {
            request = request.header("X-Razorpay-Signature", sig);
        }
        request.send()
    };
    let (status, missing) = crate::common::read(post(None).await.unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&missing), "MISSING_SIGNATURE");
    let forged = webhook_signature(b"guess", body.as_bytes());
    let (status, bad) = crate::common::read(post(Some(forged)).await.unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&bad), "INVALID_SIGNATURE");
    assert_eq!(
        revenue_and_status(&app, &mentor, &lead_id).await,
        (0, "VERIFIED".into(), 0)
    );
}

#[tokio::test]
async fn two_tabs_racing_to_pay_for_one_lead_unlock_it_once() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (mentor, _) = app.approved_mentor(&admin).await;
    let event_id = app.create_event(&mentor, 5, 500).await;
    let (_, booked) = app.book(&app.learner().await, &event_id).await;
    let lead_id = booked["lead_id"].as_str().unwrap().to_string();
    let path = format!("/api/mentor/leads/{lead_id}/purchase");
    let orders =
        futures_util::future::join_all((0..6).map(|_| mentor.post(&path, json!({})))).await;
    let order_ids: std::collections::HashSet<String> = orders
        .iter()
        .map(|(status, order)| {
            assert_eq!(*status, StatusCode::OK, "{order}");
            order["order_id"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(order_ids.len(), 1, "both tabs share one open order");
    let order_id = order_ids.into_iter().next().unwrap();
    let verify = |payment_id: &'static str| {
        let signature = checkout_signature(KEY_SECRET.as_bytes(), &order_id, payment_id);
        mentor.post(
            "/api/payments/verify",
            json!({"razorpay_order_id": order_id, "razorpay_payment_id": payment_id, "razorpay_signature": signature}),
        )
    };
    let (a, b, hook) = tokio::join!(
        verify("pay_Tab1"),
        verify("pay_Tab1"),
        send_webhook(&app, "evt_race", "payment.captured", &order_id, "pay_Tab1")
    );
    assert_eq!(a.0, StatusCode::OK, "{}", a.1);
    assert_eq!(b.0, StatusCode::OK, "{}", b.1);
    assert!(hook.0.is_success());
    assert_eq!(
        revenue_and_status(&app, &mentor, &lead_id).await,
        (500, "PURCHASED".into(), 1)
    );
}

#[tokio::test]
async fn mentors_cannot_buy_or_pay_for_another_mentors_lead() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (mentor, lead_id, order_id) = verified_lead(&app).await;
    let (other, _) = app.approved_mentor(&admin).await;
    let (status, _) = other
        .post(&format!("/api/mentor/leads/{lead_id}/purchase"), json!({}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let signature = checkout_signature(KEY_SECRET.as_bytes(), &order_id, "pay_O");
    let (status, _) = other
        .post(
            "/api/payments/verify",
            json!({"razorpay_order_id": order_id, "razorpay_payment_id": "pay_O", "razorpay_signature": signature}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        revenue_and_status(&app, &mentor, &lead_id).await,
        (0, "VERIFIED".into(), 0)
    );
}

#[tokio::test]
async fn simulated_checkout_completes_a_purchase_without_configured_secrets() {
    // No RAZORPAY_* secrets: simulated mode generates its own into the data directory.
    let app = spawn_app_with(&[("RAZORPAY_KEY_SECRET", ""), ("RAZORPAY_WEBHOOK_SECRET", "")]).await;
    let (mentor, lead_id, order_id) = verified_lead(&app).await;
    let (status, result) = mentor
        .post(
            "/api/payments/simulated-checkout",
            json!({"order_id": order_id}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{result}");
    let (status, paid) = mentor.post("/api/payments/verify", result).await;
    assert_eq!(status, StatusCode::OK, "{paid}");
    assert_eq!(paid["lead"]["lead_id"], lead_id.as_str());
    assert_eq!(paid["lead"]["status"], "PURCHASED");
    let (status, body) = mentor
        .post(
            "/api/payments/simulated-checkout",
            json!({"order_id": order_id}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(error_code(&body), "ORDER_NOT_OPEN");
}

async fn razorpay_app(fake: &FakeRazorpay) -> TestApp {
    spawn_app_with(&[
        ("LEADBRIDGE_PAYMENTS", "razorpay"),
        ("RAZORPAY_API_BASE", fake.base_url.as_str()),
        ("RAZORPAY_TIMEOUT_MS", "500"),
    ])
    .await
}

async fn purchase_status(app: &TestApp) -> (StatusCode, Value) {
    let admin = app.admin().await;
    let (mentor, _) = app.approved_mentor(&admin).await;
    let event_id = app.create_event(&mentor, 5, 750).await;
    let (_, booked) = app.book(&app.learner().await, &event_id).await;
    let lead_id = booked["lead_id"].as_str().unwrap();
    mentor
        .post(&format!("/api/mentor/leads/{lead_id}/purchase"), json!({}))
        .await
}

#[tokio::test]
async fn razorpay_mode_creates_orders_through_the_orders_api() {
    let fake = FakeRazorpay::start(Behaviour::Succeed).await;
    let app = razorpay_app(&fake).await;
    let (status, order) = purchase_status(&app).await;
    assert_eq!(status, StatusCode::OK, "{order}");
    assert_eq!(order["order_id"], "order_fake1");
    assert_eq!(order["amount"], 75_000);
    let sent = fake.received.lock().unwrap()[0].clone();
    use base64::Engine;
    let expected =
        base64::engine::general_purpose::STANDARD.encode(format!("rzp_test_key:{KEY_SECRET}"));
    assert_eq!(
        sent.authorization.as_deref(),
        Some(format!("Basic {expected}").as_str())
    );
    assert_eq!(sent.body["amount"], 75_000);
    assert_eq!(sent.body["currency"], "INR");
    assert_eq!(sent.body["receipt"], order["payment_id"]);
    fake.stop().await;
}

#[tokio::test]
async fn razorpay_errors_and_timeouts_are_reported_as_gateway_failures() {
    let fake = FakeRazorpay::start(Behaviour::RejectAmount).await;
    let app = razorpay_app(&fake).await;
    let (status, body) = purchase_status(&app).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert_eq!(error_code(&body), "PAYMENT_GATEWAY_ERROR");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("minimum amount"),
        "{body}"
    );
    fake.stop().await;

    let fake = FakeRazorpay::start(Behaviour::Hang).await;
    let app = razorpay_app(&fake).await;
    let (status, body) = purchase_status(&app).await;
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(error_code(&body), "PAYMENT_GATEWAY_TIMEOUT");
    // No order was recorded: the next attempt starts clean.
    let (_, log) = app.admin().await.get("/api/admin/audit-log").await;
    assert!(!log
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["action"] == "PAYMENT_CREATED"));
}

#[tokio::test]
async fn money_for_a_lead_cancelled_meanwhile_is_recorded_as_owed_not_as_revenue() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (mentor, _) = app.approved_mentor(&admin).await;
    let event_id = app.create_event(&mentor, 5, 500).await;
    let learner = app.learner().await;
    let (_, booked) = app.book(&learner, &event_id).await;
    let lead_id = booked["lead_id"].as_str().unwrap().to_string();
    let (_, order) = mentor
        .post(&format!("/api/mentor/leads/{lead_id}/purchase"), json!({}))
        .await;
    let order_id = order["order_id"].as_str().unwrap().to_string();
    // The learner cancels while the mentor is in the checkout.
    let (status, _) = learner
        .post(&format!("/api/user/bookings/{lead_id}/cancel"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    // The open order died with the lead.
    let (status, body) = mentor
        .post(
            "/api/payments/simulated-checkout",
            json!({"order_id": order_id}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(error_code(&body), "ORDER_NOT_OPEN");
    let signature = checkout_signature(KEY_SECRET.as_bytes(), &order_id, "pay_Late");
    let (status, body) = mentor
        .post(
            "/api/payments/verify",
            json!({"razorpay_order_id": order_id, "razorpay_payment_id": "pay_Late", "razorpay_signature": signature}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(error_code(&body), "LEAD_UNAVAILABLE");
    let (_, analytics) = admin.get("/api/admin/analytics").await;
    assert_eq!(analytics["total_revenue"], 0);
    let (_, log) = admin.get("/api/admin/audit-log").await;
    assert!(log
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["action"] == "PAYMENT_REFUND_DUE"));
    let (_, mine) = learner.get("/api/user/bookings").await;
    assert_eq!(
        mine[0]["status"], "CANCELLED",
        "the learner's cancellation stands"
    );
}

#[tokio::test]
async fn once_a_lead_is_sold_its_other_orders_can_no_longer_be_paid() {
    let app = spawn_app().await;
    let (mentor, lead_id, first) = verified_lead(&app).await;
    send_webhook(&app, "evt_fail_1", "payment.failed", &first, "pay_F1").await;
    let (_, second) = mentor
        .post(&format!("/api/mentor/leads/{lead_id}/purchase"), json!({}))
        .await;
    let second = second["order_id"].as_str().unwrap().to_string();
    assert_ne!(first, second);
    // A late capture of the first order sells the lead.
    let (status, _) = send_webhook(&app, "evt_cap_1", "payment.captured", &first, "pay_C1").await;
    assert!(status.is_success());
    let (status, body) = mentor
        .post(
            "/api/payments/simulated-checkout",
            json!({"order_id": second}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(error_code(&body), "ORDER_NOT_OPEN");
    assert_eq!(
        revenue_and_status(&app, &mentor, &lead_id).await,
        (500, "PURCHASED".into(), 1)
    );
}
