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

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Whatever the umask, nothing in the data directory is readable by other users: the
/// database and SQLite's `-wal` and `-shm` beside it included.
#[tokio::test]
async fn every_file_in_the_data_directory_is_private_to_the_server() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (mentor, _) = app.approved_mentor(&admin).await;
    let event_id = app.create_event(&mentor, 4, 500).await;
    let learner = app.learner().await;
    assert_eq!(app.book(&learner, &event_id).await.0, StatusCode::OK);
    let dir = app.data_dir.path();
    let files = files_under(dir);
    for suffix in ["leadbridge.db", "leadbridge.db-wal", "leadbridge.db-shm"] {
        assert!(
            files.iter().any(|f| f.ends_with(suffix)),
            "{suffix} missing: {files:?}"
        );
    }
    for file in &files {
        assert_eq!(mode(file), 0o600, "{}", file.display());
    }
    assert_eq!(mode(dir), 0o700);

    // A database an earlier version left readable is tightened at the next start.
    use std::os::unix::fs::PermissionsExt;
    let db = dir.join("leadbridge.db");
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    let app = app.restart().await;
    assert_eq!(mode(&app.data_dir.path().join("leadbridge.db")), 0o600);
    let (status, _) = app
        .anonymous()
        .post(
            "/api/auth/login",
            json!({"email": learner.email, "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "nothing stored was lost");
}

#[test]
fn a_data_directory_open_to_other_users_is_made_private_and_a_shared_one_stops_the_start() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let vars = crate::common::test_vars(&dir, &[]);
    let config = leadbridge::config::Config::from_vars(&vars).unwrap();
    assert_eq!(mode(dir.path()), 0o700);
    assert!(
        config.warnings.iter().any(|w| w.contains("755")),
        "{:?}",
        config.warnings
    );
    let shared = dir.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let mut vars = vars;
    vars.insert("LEADBRIDGE_DATA_DIR".into(), shared.display().to_string());
    let err = leadbridge::config::Config::from_vars(&vars).unwrap_err();
    assert_eq!(err.var, "LEADBRIDGE_DATA_DIR");
}
