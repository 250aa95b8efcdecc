use std::path::Path;

use reqwest::StatusCode;
use serde_json::json;

use crate::common::{spawn_app, unique, PASSWORD};

fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[tokio::test]
async fn a_restart_keeps_every_account_event_and_booking() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (mentor, _) = app.approved_mentor(&admin).await;
    let event_id = app.create_event(&mentor, 4, 500).await;
    let learner = app.learner().await;
    let (_, booked) = app.book(&learner, &event_id).await;
    let lead_id = booked["lead_id"].as_str().unwrap().to_string();
    let learner_email = learner.email.clone();

    let app = app.restart().await;
    let again = app.anonymous();
    let (status, _) = again
        .post(
            "/api/auth/login",
            json!({"email": learner_email, "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, bookings) = again.get("/api/user/bookings").await;
    assert_eq!(bookings[0]["lead_id"], lead_id.as_str());
    assert_eq!(
        bookings[0]["name"], "Priya Sharma",
        "contacts decrypt with the persisted key"
    );
    let (_, event) = again.get(&format!("/api/events/{event_id}")).await;
    assert_eq!(event["available_slots"], 3);
    // Sessions made before the restart still work.
    assert_eq!(learner.on(&app).get("/api/auth/me").await.0, StatusCode::OK);
    let (_, mentor_events) = mentor.on(&app).get("/api/mentor/events").await;
    assert_eq!(mentor_events[0]["event_id"], event_id.as_str());
    let (_, log) = admin.on(&app).get("/api/admin/audit-log").await;
    assert!(log
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["action"] == "MENTOR_APPROVED"));
}

#[tokio::test]
async fn the_data_directory_never_holds_a_contact_in_plain_text() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (mentor, _) = app.approved_mentor(&admin).await;
    let event_id = app.create_event(&mentor, 4, 500).await;
    // The usual case: a learner books with the name and e-mail of their own account.
    let marker = format!("zq{}", unique());
    let name = format!("Quentin {marker}");
    let email = format!("{marker}@contact-secret.org");
    let learner = app.anonymous();
    let (status, _) = learner
        .post(
            "/api/auth/register",
            json!({"email": email, "password": PASSWORD, "name": name}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let phone = "+91 98123 45678";
    let message = format!("secret-message-{marker}");
    let (status, body) = learner
        .post(
            &format!("/api/events/{event_id}/book"),
            json!({"name": name, "email": email, "phone": phone, "message": message}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let app = app.restart().await;
    let needles = [
        marker.clone(),
        "+919812345678".to_string(),
        "98123 45678".to_string(),
        "9812345678".to_string(),
    ];
    for file in files_under(app.data_dir.path()) {
        let bytes = std::fs::read(&file).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        for needle in &needles {
            assert!(
                !text.contains(needle.as_str()),
                "{} holds {needle} in plain text",
                file.display()
            );
        }
    }
    // It is still readable through the API by those allowed to see it, and log-in by
    // e-mail still works.
    let (_, queue) = app.admin().await.get("/api/admin/leads").await;
    assert_eq!(queue[0]["email"], email.as_str());
    let (status, me) = app
        .anonymous()
        .post(
            "/api/auth/login",
            json!({"email": email, "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["name"], name.as_str());
}
