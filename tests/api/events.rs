use reqwest::StatusCode;
use serde_json::json;

use crate::common::{error_code, event_body, spawn_app};

#[tokio::test]
async fn a_pending_mentor_cannot_publish_until_approved() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let mentor = app.register("MENTOR", "Maya Mentor").await;
    let (_, profile) = mentor.get("/api/mentor/profile").await;
    assert_eq!(profile["verification_status"], "PENDING");

    let (status, body) = mentor
        .post("/api/mentor/events", event_body("Early", 5, 500))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(error_code(&body), "MENTOR_NOT_APPROVED");

    let mentor_id = profile["mentor_id"].as_str().unwrap();
    let (status, body) = admin
        .put(
            &format!("/api/admin/mentors/{mentor_id}/verify"),
            json!({"status": "APPROVED"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = mentor
        .post("/api/mentor/events", event_body("Now approved", 5, 500))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["event"]["available_slots"], 5);
    assert_eq!(body["event"]["mentor_name"], "Maya Mentor");
}

#[tokio::test]
async fn profile_edits_show_on_the_event_page() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (mentor, _) = app.approved_mentor(&admin).await;
    let (status, body) = mentor
        .put(
            "/api/mentor/profile",
            json!({"bio": "Rust since 2015", "expertise": ["Rust", "actix"], "experience": "10 years"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["message"], "Profile updated");
    let event_id = app.create_event(&mentor, 3, 400).await;
    let (status, event) = app
        .anonymous()
        .get(&format!("/api/events/{event_id}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(event["mentor_bio"], "Rust since 2015");
    assert_eq!(event["mentor_expertise"], json!(["Rust", "actix"]));
    assert_eq!(event["available_slots"], 3);
    assert_eq!(event["price_per_lead"], 400);
}

#[tokio::test]
async fn listing_filters_by_text_category_mentor_and_date_and_pages_with_a_cursor() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (mentor, mentor_id) = app.approved_mentor(&admin).await;
    let (other, _) = app.approved_mentor(&admin).await;
    for (i, title) in ["Async Rust", "Pasta masterclass", "Rust macros"]
        .iter()
        .enumerate()
    {
        let mut body = event_body(title, 5, 100);
        body["event_datetime"] =
            json!((chrono::Utc::now() + chrono::Duration::days(3 + i as i64)).to_rfc3339());
        if title.starts_with("Pasta") {
            body["category"] = json!("Cooking");
        }
        let (status, _) = mentor.post("/api/mentor/events", body).await;
        assert_eq!(status, StatusCode::OK);
    }
    app.create_event(&other, 5, 100).await;
    let anon = app.anonymous();

    let titles = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|e| e["title"].as_str().unwrap().to_string())
            .collect()
    };
    let (_, all) = anon
        .get(&format!("/api/events?mentor_id={mentor_id}"))
        .await;
    assert_eq!(
        titles(&all),
        vec!["Async Rust", "Pasta masterclass", "Rust macros"]
    );
    let (_, rust) = anon
        .get(&format!("/api/events?q=RUST&mentor_id={mentor_id}"))
        .await;
    assert_eq!(titles(&rust), vec!["Async Rust", "Rust macros"]);
    let (_, cooking) = anon.get("/api/events?category=cooking").await;
    assert_eq!(titles(&cooking), vec!["Pasta masterclass"]);
    let day = (chrono::Utc::now() + chrono::Duration::days(4))
        .format("%Y-%m-%d")
        .to_string();
    let (_, on_day) = anon
        .get(&format!(
            "/api/events?mentor_id={mentor_id}&from={day}&to={day}"
        ))
        .await;
    assert_eq!(titles(&on_day), vec!["Pasta masterclass"]);

    // Paging: two per page, cursor in a header, no item twice.
    let (first, cursor) = anon
        .page(&format!("/api/events?mentor_id={mentor_id}&limit=2"))
        .await;
    assert_eq!(titles(&first), vec!["Async Rust", "Pasta masterclass"]);
    let cursor = cursor.expect("a second page");
    let (second, none) = anon
        .page(&format!(
            "/api/events?mentor_id={mentor_id}&limit=2&cursor={cursor}"
        ))
        .await;
    assert!(none.is_none());
    assert_eq!(titles(&second), vec!["Rust macros"]);

    let (status, body) = anon.get("/api/events?cursor=garbage!").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(&body), "INVALID_CURSOR");
    let (status, _) = anon.get("/api/events?from=tomorrow").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = anon.get("/api/events?limit=1000").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn mentors_edit_and_delete_only_their_own_events() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (mentor, _) = app.approved_mentor(&admin).await;
    let (other, _) = app.approved_mentor(&admin).await;
    let event_id = app.create_event(&mentor, 5, 500).await;
    let path = format!("/api/mentor/events/{event_id}");

    let (status, _) = other.put(&path, event_body("Hijacked", 5, 1)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = other.delete(&path).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, body) = mentor.put(&path, event_body("Renamed", 8, 650)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["event"]["title"], "Renamed");
    assert_eq!(body["event"]["available_slots"], 8);

    let (_, mine) = mentor.get("/api/mentor/events").await;
    assert_eq!(mine.as_array().unwrap().len(), 1);
    let (status, _) = mentor.delete(&path).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app
        .anonymous()
        .get(&format!("/api/events/{event_id}"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn events_with_live_bookings_cannot_be_deleted_or_shrunk_below_them() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (mentor, _) = app.approved_mentor(&admin).await;
    let event_id = app.create_event(&mentor, 3, 500).await;
    for _ in 0..2 {
        let learner = app.learner().await;
        assert_eq!(app.book(&learner, &event_id).await.0, StatusCode::OK);
    }
    let path = format!("/api/mentor/events/{event_id}");
    let (status, body) = mentor.put(&path, event_body("Smaller", 1, 500)).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(error_code(&body), "SLOTS_BELOW_BOOKED");
    let (status, body) = mentor.delete(&path).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(error_code(&body), "EVENT_HAS_BOOKINGS");
    let (status, event) = app
        .anonymous()
        .get(&format!("/api/events/{event_id}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(event["available_slots"], 1);
}

#[tokio::test]
async fn invalid_event_fields_are_422_with_the_field_named() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (mentor, _) = app.approved_mentor(&admin).await;
    let cases = [
        ("event_datetime", json!("2020-01-01T00:00:00Z")),
        // Year 10000 in UTC: could not be stored and read back.
        ("event_datetime", json!("9999-12-31T23:59:59-23:59")),
        ("event_datetime", json!("2099-01-01T00:00:00Z")),
        ("available_slots", json!(0)),
        ("price_per_lead", json!(-5)),
        ("title", json!("")),
        ("duration", json!("ninety")),
    ];
    for (field, value) in cases {
        let mut body = event_body("Valid title", 5, 500);
        body[field] = value;
        let (status, error) = mentor.post("/api/mentor/events", body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {error}");
        assert_eq!(error["error"]["field"], field, "{error}");
    }
}

#[tokio::test]
async fn bad_query_parameters_and_foreign_cursors_are_422_naming_the_parameter() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    for (path, field) in [
        ("/api/events?limit=abc", "limit"),
        ("/api/events?include_past=perhaps", "include_past"),
        ("/api/admin/leads?status=BOGUS", "status"),
        ("/api/admin/mentors?status=MAYBE", "status"),
        ("/api/admin/audit-log?cursor=YWJj", "cursor"),
        ("/api/admin/users?cursor=YWJj", "cursor"),
        // Year 10000 cannot be compared with stored dates.
        ("/api/events?from=%2B10000-01-01", "from"),
        ("/api/events?to=%2B10000-01-01T00:00:00Z", "to"),
    ] {
        let (status, body) = admin.get(path).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {body}");
        assert_eq!(body["error"]["field"], field, "{path}: {body}");
    }
}

#[tokio::test]
async fn a_mentor_whose_approval_is_revoked_takes_no_new_bookings() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (mentor, mentor_id) = app.approved_mentor(&admin).await;
    let event_id = app.create_event(&mentor, 5, 500).await;
    let (status, _) = admin
        .put(
            &format!("/api/admin/mentors/{mentor_id}/verify"),
            json!({"status": "REJECTED", "reason": "Complaints"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = app.book(&app.learner().await, &event_id).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(error_code(&body), "MENTOR_NOT_ACCEPTING_BOOKINGS");
}

#[tokio::test]
async fn a_cursor_from_another_listing_is_refused() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    for _ in 0..3 {
        app.learner().await;
        app.approved_mentor(&admin).await;
    }
    let audit_cursor = admin.page("/api/admin/audit-log?limit=1").await.1.unwrap();
    let users_cursor = admin.page("/api/admin/users?limit=1").await.1.unwrap();
    for path in [
        format!("/api/admin/users?cursor={audit_cursor}"),
        format!("/api/events?cursor={users_cursor}"),
        format!("/api/admin/leads?cursor={users_cursor}"),
    ] {
        let (status, body) = admin.get(&path).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{path}");
        assert_eq!(error_code(&body), "INVALID_CURSOR");
    }
}
