use reqwest::StatusCode;
use serde_json::json;

use crate::common::{error_code, spawn_app};

#[tokio::test]
async fn every_admin_endpoint_is_401_anonymous_and_403_for_other_roles() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let learner = app.learner().await;
    let (mentor, _) = app.approved_mentor(&admin).await;
    let gets = [
        "/api/admin/analytics",
        "/api/admin/mentors",
        "/api/admin/leads",
        "/api/admin/users",
        "/api/admin/audit-log",
    ];
    for path in gets {
        assert_eq!(
            app.anonymous().get(path).await.0,
            StatusCode::UNAUTHORIZED,
            "{path}"
        );
        for (who, actor) in [("learner", &learner), ("mentor", &mentor)] {
            let (status, body) = actor.get(path).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{who} {path}");
            assert_eq!(error_code(&body), "FORBIDDEN");
        }
        assert_eq!(admin.get(path).await.0, StatusCode::OK, "{path}");
    }
    let puts = [
        "/api/admin/mentors/mentor_x/verify",
        "/api/admin/leads/lead_x/verify",
    ];
    for path in puts {
        let body = json!({"status": "REJECTED", "reason": "x"});
        assert_eq!(
            app.anonymous().put(path, body.clone()).await.0,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            learner.put(path, body.clone()).await.0,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            mentor.put(path, body.clone()).await.0,
            StatusCode::FORBIDDEN
        );
        assert_eq!(admin.put(path, body).await.0, StatusCode::NOT_FOUND);
    }
    // Learner and mentor areas are closed to the other roles too.
    assert_eq!(
        learner.get("/api/mentor/leads").await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        mentor.get("/api/user/bookings").await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.anonymous().get("/api/mentor/profile").await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn rejections_need_a_reason_and_decisions_are_not_repeated() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let mentor = app.register("MENTOR", "Raj").await;
    let (_, profile) = mentor.get("/api/mentor/profile").await;
    let path = format!(
        "/api/admin/mentors/{}/verify",
        profile["mentor_id"].as_str().unwrap()
    );
    let (status, body) = admin.put(&path, json!({"status": "REJECTED"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(&body), "REASON_REQUIRED");
    let (status, body) = admin.put(&path, json!({"status": "MAYBE"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["field"], "status");
    let (status, _) = admin
        .put(
            &path,
            json!({"status": "REJECTED", "reason": "No portfolio"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = admin
        .put(&path, json!({"status": "REJECTED", "reason": "Again"}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(error_code(&body), "ALREADY_DECIDED");
    // The rejection ended their sessions; signed in again, they see why.
    assert_eq!(
        mentor.get("/api/mentor/profile").await.0,
        StatusCode::UNAUTHORIZED
    );
    let mut mentor = mentor;
    mentor.sign_in_again().await;
    let (_, profile) = mentor.get("/api/mentor/profile").await;
    assert_eq!(profile["verification_status"], "REJECTED");
    assert_eq!(profile["verification_reason"], "No portfolio");
    let (status, _) = mentor
        .post(
            "/api/mentor/events",
            crate::common::event_body("x y z", 1, 1),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn rejecting_a_lead_frees_its_slot_and_logs_the_decision() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (mentor, _) = app.approved_mentor(&admin).await;
    let event_id = app.create_event(&mentor, 1, 300).await;
    let learner = app.learner().await;
    let (_, booked) = app.book(&learner, &event_id).await;
    let lead_id = booked["lead_id"].as_str().unwrap();
    let (status, body) = admin
        .put(
            &format!("/api/admin/leads/{lead_id}/verify"),
            json!({"status": "REJECTED", "reason": "Fake number"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["lead"]["status"], "REJECTED");
    let (_, event) = app
        .anonymous()
        .get(&format!("/api/events/{event_id}"))
        .await;
    assert_eq!(event["available_slots"], 1);
    let (_, mine) = learner.get("/api/user/bookings").await;
    assert_eq!(mine[0]["status"], "REJECTED");
    let (status, body) = admin
        .put(
            &format!("/api/admin/leads/{lead_id}/verify"),
            json!({"status": "VERIFIED"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(error_code(&body), "LEAD_REJECTED");
    let (_, log) = admin.get("/api/admin/audit-log").await;
    let entry = &log[0];
    assert_eq!(entry["action"], "LEAD_REJECTED");
    assert_eq!(entry["target_id"], lead_id);
    assert_eq!(entry["reason"], "Fake number");
    // Named and said in words, not ids.
    let (_, me) = admin.get("/api/auth/me").await;
    let name = me["name"].as_str().unwrap();
    assert_eq!(entry["actor_name"], name);
    let summary = entry["summary"].as_str().unwrap();
    assert!(
        summary.starts_with(&format!("{name} rejected ")),
        "{summary}"
    );
    assert!(summary.contains("booking for"), "{summary}");

    // Filtered by action and actor, and refused for an action it does not know.
    let (_, approvals) = admin
        .get("/api/admin/audit-log?action=MENTOR_APPROVED&limit=100")
        .await;
    let approvals = approvals.as_array().unwrap();
    assert!(!approvals.is_empty());
    assert!(approvals.iter().all(|e| e["action"] == "MENTOR_APPROVED"));
    assert!(approvals.iter().all(|e| e["summary"]
        .as_str()
        .unwrap()
        .contains("approved the mentor application of")));
    let (_, by_admin) = admin
        .get(&format!(
            "/api/admin/audit-log?actor_id={}&limit=100",
            admin.user_id
        ))
        .await;
    assert!(by_admin
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["actor_id"] == admin.user_id.as_str()));
    let (status, body) = admin.get("/api/admin/audit-log?action=EVERYTHING").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["field"], "action");
}

#[tokio::test]
async fn users_and_audit_log_are_paged() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    for _ in 0..3 {
        app.learner().await;
    }
    let (first, cursor) = admin.page("/api/admin/users?limit=2").await;
    let cursor = cursor.expect("a second page");
    let (_, second) = admin
        .get(&format!("/api/admin/users?limit=2&cursor={cursor}"))
        .await;
    let ids: Vec<_> = first
        .as_array()
        .unwrap()
        .iter()
        .chain(second.as_array().unwrap())
        .map(|u| u["user_id"].clone())
        .collect();
    assert_eq!(ids.len(), 4);
    let unique: std::collections::HashSet<_> = ids.iter().map(|v| v.to_string()).collect();
    assert_eq!(unique.len(), 4);
}

#[tokio::test]
async fn users_are_filtered_by_role_and_searched_by_name_or_email() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let learner = app.learner().await;
    let (mentor, _) = app.approved_mentor(&admin).await;

    let (status, mentors) = admin.get("/api/admin/users?role=MENTOR&limit=100").await;
    assert_eq!(status, StatusCode::OK, "{mentors}");
    let mentors = mentors.as_array().unwrap();
    assert!(mentors.iter().all(|u| u["role"] == "MENTOR"), "{mentors:?}");
    assert!(mentors
        .iter()
        .any(|u| u["user_id"] == mentor.user_id.as_str()));

    let part = &learner.email[..learner.email.find('@').unwrap()];
    let (_, found) = admin
        .get(&format!("/api/admin/users?q={}", part.to_uppercase()))
        .await;
    let found = found.as_array().unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["email"], learner.email.as_str());

    let (status, body) = admin.get("/api/admin/users?role=OWNER").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["field"], "role");
}
