use std::collections::HashMap;

use leadbridge::domain::event::Event;
use leadbridge::domain::money::Rupees;
use reqwest::StatusCode;
use serde_json::json;

use crate::common::{clean_contact, error_code, spawn_app, unique, unique_phone};

#[tokio::test]
async fn forty_concurrent_bookings_for_five_slots_sell_exactly_five() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (mentor, _) = app.approved_mentor(&admin).await;
    let event_id = app.create_event(&mentor, 5, 500).await;
    let mut learners = Vec::new();
    for _ in 0..40 {
        learners.push(app.learner().await);
    }
    let attempts = learners.iter().map(|l| app.book(l, &event_id));
    let results = futures_util::future::join_all(attempts).await;

    let mut by_status: HashMap<u16, usize> = HashMap::new();
    for (status, body) in &results {
        *by_status.entry(status.as_u16()).or_default() += 1;
        if *status == StatusCode::CONFLICT {
            assert_eq!(error_code(body), "EVENT_FULL");
        }
    }
    assert_eq!(by_status.get(&200), Some(&5), "{by_status:?}");
    assert_eq!(by_status.get(&409), Some(&35), "{by_status:?}");
    let (_, event) = app
        .anonymous()
        .get(&format!("/api/events/{event_id}"))
        .await;
    assert_eq!(event["available_slots"], 0);
    let (_, leads) = admin.get("/api/admin/leads?limit=100").await;
    let on_event = leads
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["event_id"] == event_id.as_str())
        .count();
    assert_eq!(on_event, 5);
}

/// Server A runs in this test process, server B is the real binary in a child process.
#[tokio::test]
async fn two_server_processes_on_one_sqlite_file_never_oversell() {
    let a = spawn_app().await;
    let b = a.process_sibling().await;
    let admin = a.admin().await;
    let (mentor, _) = a.approved_mentor(&admin).await;
    let event_id = a.create_event(&mentor, 5, 500).await;
    let mut learners = Vec::new();
    for i in 0..30 {
        let server = if i % 2 == 0 { &a } else { &b };
        learners.push((server, server.learner().await));
    }
    let attempts = learners.iter().map(|(server, l)| server.book(l, &event_id));
    let results = futures_util::future::join_all(attempts).await;
    let ok = results.iter().filter(|(s, _)| *s == StatusCode::OK).count();
    assert_eq!(
        ok,
        5,
        "{:?}",
        results.iter().map(|(s, _)| s.as_u16()).collect::<Vec<_>>()
    );
    for server in [&a, &b] {
        let (_, event) = server
            .anonymous()
            .get(&format!("/api/events/{event_id}"))
            .await;
        assert_eq!(event["available_slots"], 0);
    }
}

#[tokio::test]
async fn a_learner_cannot_book_the_same_event_twice_even_concurrently() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (mentor, _) = app.approved_mentor(&admin).await;
    let event_id = app.create_event(&mentor, 10, 500).await;
    let learner = app.learner().await;
    let results =
        futures_util::future::join_all((0..5).map(|_| app.book(&learner, &event_id))).await;
    let ok = results.iter().filter(|(s, _)| *s == StatusCode::OK).count();
    assert_eq!(ok, 1);
    for (status, body) in results.iter().filter(|(s, _)| *s != StatusCode::OK) {
        assert_eq!(*status, StatusCode::CONFLICT);
        assert_eq!(error_code(body), "ALREADY_BOOKED");
    }
    let (_, event) = app
        .anonymous()
        .get(&format!("/api/events/{event_id}"))
        .await;
    assert_eq!(event["available_slots"], 9);
}

#[tokio::test]
async fn past_events_cannot_be_booked() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (_, mentor_id) = app.approved_mentor(&admin).await;
    let past = chrono::Utc::now() - chrono::Duration::hours(2);
    let event = app
        .store
        .create_event(Event {
            event_id: format!("event_past{}", unique()),
            mentor_id,
            mentor_name: "Maya".into(),
            title: "Yesterday's session".into(),
            description: String::new(),
            category: "Programming".into(),
            event_datetime: past,
            duration: 60,
            total_slots: 5,
            booked_slots: 0,
            price_per_lead: Rupees::parse("price_per_lead", 100).unwrap(),
            created_at: past,
        })
        .await
        .unwrap();
    let learner = app.learner().await;
    let (status, body) = app.book(&learner, &event.event_id).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(error_code(&body), "EVENT_STARTED");

    // Started events leave the default listing but stay reachable on request.
    let listed = |v: &serde_json::Value| {
        v.as_array()
            .unwrap()
            .iter()
            .any(|e| e["event_id"] == event.event_id.as_str())
    };
    let (_, upcoming) = learner.get("/api/events?limit=100").await;
    assert!(!listed(&upcoming));
    let (_, all) = learner.get("/api/events?include_past=true&limit=100").await;
    assert!(listed(&all));
}

#[tokio::test]
async fn invalid_contact_details_are_refused_with_the_field_named() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (mentor, _) = app.approved_mentor(&admin).await;
    let event_id = app.create_event(&mentor, 5, 500).await;
    let learner = app.learner().await;
    for (field, value, code) in [
        ("email", "not-an-email", "INVALID_EMAIL"),
        ("phone", "12345", "INVALID_PHONE"),
        ("name", "   ", "VALIDATION_FAILED"),
    ] {
        let mut contact = clean_contact();
        contact[field] = json!(value);
        let (status, body) = learner
            .post(&format!("/api/events/{event_id}/book"), contact)
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        assert_eq!(error_code(&body), code);
        assert_eq!(body["error"]["field"], field);
    }
    let (_, event) = app
        .anonymous()
        .get(&format!("/api/events/{event_id}"))
        .await;
    assert_eq!(
        event["available_slots"], 5,
        "a refused booking takes no slot"
    );
}

#[tokio::test]
async fn clean_leads_are_auto_verified_and_doubtful_ones_wait_for_an_admin() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (mentor, _) = app.approved_mentor(&admin).await;
    let event_id = app.create_event(&mentor, 10, 500).await;

    let (status, clean) = app.book(&app.learner().await, &event_id).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (
            clean["status"].as_str(),
            clean["verification_status"].as_str()
        ),
        (Some("VERIFIED"), Some("AUTO_VERIFIED"))
    );

    let mut throwaway = clean_contact();
    throwaway["email"] = json!(format!("x{}@mailinator.com", unique()));
    let (_, disposable) = app
        .learner()
        .await
        .post(&format!("/api/events/{event_id}/book"), throwaway)
        .await;
    assert_eq!(disposable["status"], "PENDING");

    // The same phone under another account on the same event.
    let phone = unique_phone();
    let mut first = clean_contact();
    first["phone"] = json!(phone);
    let (_, original) = app
        .learner()
        .await
        .post(&format!("/api/events/{event_id}/book"), first)
        .await;
    assert_eq!(original["status"], "VERIFIED");
    let mut copy = clean_contact();
    copy["phone"] = json!(phone.replace("+91 ", "0"));
    let (_, duplicate) = app
        .learner()
        .await
        .post(&format!("/api/events/{event_id}/book"), copy)
        .await;
    assert_eq!(duplicate["status"], "PENDING");

    let (_, queue) = admin.get("/api/admin/leads?status=PENDING").await;
    let notes: HashMap<String, serde_json::Value> = queue
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["lead_id"].as_str().unwrap().to_string(),
                l["verification_notes"].clone(),
            )
        })
        .collect();
    assert_eq!(
        notes[disposable["lead_id"].as_str().unwrap()],
        json!(["DISPOSABLE_EMAIL_DOMAIN"])
    );
    assert_eq!(
        notes[duplicate["lead_id"].as_str().unwrap()],
        json!(["DUPLICATE_CONTACT"])
    );
}

#[tokio::test]
async fn learners_see_their_bookings_and_cancelling_frees_the_slot() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (mentor, _) = app.approved_mentor(&admin).await;
    let event_id = app.create_event(&mentor, 1, 500).await;
    let learner = app.learner().await;
    let contact = clean_contact();
    let (_, booked) = learner
        .post(&format!("/api/events/{event_id}/book"), contact.clone())
        .await;
    let lead_id = booked["lead_id"].as_str().unwrap();

    let (status, bookings) = learner.get("/api/user/bookings").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bookings[0]["lead_id"], lead_id);
    assert_eq!(bookings[0]["event_title"], "Rust for the web");
    assert_eq!(bookings[0]["email"], contact["email"]);
    assert_eq!(bookings[0]["status"], "VERIFIED");

    let late = app.learner().await;
    assert_eq!(app.book(&late, &event_id).await.0, StatusCode::CONFLICT);

    let other = app.learner().await;
    let (status, _) = other
        .post(&format!("/api/user/bookings/{lead_id}/cancel"), json!({}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "someone else's booking");

    let (status, cancelled) = learner
        .post(&format!("/api/user/bookings/{lead_id}/cancel"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(cancelled["status"], "CANCELLED");
    let (status, body) = learner
        .post(&format!("/api/user/bookings/{lead_id}/cancel"), json!({}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(error_code(&body), "LEAD_CANCELLED");

    assert_eq!(
        app.book(&late, &event_id).await.0,
        StatusCode::OK,
        "the freed slot is bookable"
    );
    // The learner who cancelled may book again once a slot is free; here it is taken.
    assert_eq!(app.book(&learner, &event_id).await.0, StatusCode::CONFLICT);
}

#[tokio::test]
async fn only_signed_in_learners_can_book() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (mentor, _) = app.approved_mentor(&admin).await;
    let event_id = app.create_event(&mentor, 5, 500).await;
    let path = format!("/api/events/{event_id}/book");
    let (status, _) = app.anonymous().post(&path, clean_contact()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = mentor.post(&path, clean_contact()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(error_code(&body), "FORBIDDEN");
    let (status, _) = app
        .learner()
        .await
        .post("/api/events/event_nope/book", clean_contact())
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
