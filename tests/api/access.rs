//! The access-control matrix: every route of the API description × every kind of caller,
//! with the status each must get. The routes come from `/api/openapi.json`, so a route
//! added without a row here fails the test until someone decides who may call it.

use std::collections::HashMap;

use reqwest::Method;
use serde_json::{json, Value};

use crate::common::{clean_contact, event_body, spawn_app, unique, Actor, TestApp};

/// Callers, in the order each route is tried: owners last, so what an owner's call
/// changes (a cancelled booking, a deleted event) cannot change what the others saw.
const CALLERS: [&str; 7] = [
    "anonymous",
    "other learner",
    "other mentor",
    "pending mentor",
    "admin",
    "learner",
    "mentor",
];

/// One route: the request made (path with fixture names in braces, body) and the status
/// for each caller in `CALLERS` order.
struct Row {
    route: &'static str,
    path: &'static str,
    body: Option<Value>,
    expect: [u16; 7],
}

fn row(route: &'static str, path: &'static str, body: Option<Value>, expect: [u16; 7]) -> Row {
    Row {
        route,
        path,
        body,
        expect,
    }
}

/// Who is who, and the ids the paths name.
struct World {
    callers: HashMap<&'static str, Actor>,
    ids: HashMap<&'static str, String>,
}

async fn world(app: &TestApp) -> World {
    let admin = app.admin().await;
    let (mentor, mentor_id) = app.approved_mentor(&admin).await;
    let (other_mentor, _) = app.approved_mentor(&admin).await;
    let pending = app.register("MENTOR", "Pat Pending").await;
    let learner = app.learner().await;
    let other_learner = app.learner().await;
    let event = app.create_event(&mentor, 10, 500).await;
    let spare_event = app.create_event(&mentor, 10, 500).await;
    // Clean contact details: the automatic checks verify the lead, so it is for sale.
    let (_, booked) = app.book(&learner, &event).await;
    let lead = booked["lead_id"].as_str().expect("lead").to_string();
    // A throwaway address: the lead waits for an admin's review, so it can be claimed.
    let mut throwaway = clean_contact();
    throwaway["email"] = json!(format!("x{}@mailinator.com", unique()));
    let (_, review) = other_learner
        .post(&format!("/api/events/{event}/book"), throwaway)
        .await;
    assert_eq!(review["status"], "PENDING", "{review}");
    let review_lead = review["lead_id"].as_str().expect("lead").to_string();
    let (_, spare) = app.book(&learner, &spare_event).await;
    let spare_lead = spare["lead_id"].as_str().expect("lead").to_string();
    // A session of someone who is none of the callers.
    let (_, sessions) = app.learner().await.get("/api/auth/sessions").await;
    let session_id = sessions[0]["session_id"]
        .as_str()
        .expect("session")
        .to_string();
    let mut callers = HashMap::new();
    callers.insert("anonymous", app.anonymous());
    callers.insert("learner", learner);
    callers.insert("other learner", other_learner);
    callers.insert("mentor", mentor);
    callers.insert("other mentor", other_mentor);
    callers.insert("pending mentor", pending);
    callers.insert("admin", admin);
    let ids = HashMap::from([
        ("event", event),
        ("spare_event", spare_event),
        ("lead", lead),
        ("spare_lead", spare_lead),
        ("review_lead", review_lead),
        ("mentor_id", mentor_id),
        ("session_id", session_id),
    ]);
    World { callers, ids }
}

fn rows() -> Vec<Row> {
    let empty = || Some(json!({}));
    let event = || Some(event_body("Matrix", 10, 500));
    vec![
        // Public.
        row("GET /healthz", "/healthz", None, [200; 7]),
        row("GET /readyz", "/readyz", None, [200; 7]),
        row("GET /api/config", "/api/config", None, [200; 7]),
        row("GET /api/events", "/api/events", None, [200; 7]),
        row(
            "GET /api/events/categories",
            "/api/events/categories",
            None,
            [200; 7],
        ),
        row(
            "GET /api/events/{event_id}",
            "/api/events/{event}",
            None,
            [200; 7],
        ),
        row("GET /api/auth/session", "/api/auth/session", None, [200; 7]),
        // This server has no Google sign-in configured: absent for everyone alike.
        row(
            "GET /api/auth/google/start",
            "/api/auth/google/start",
            None,
            [404; 7],
        ),
        row(
            "GET /api/auth/google/callback",
            "/api/auth/google/callback?code=c&state=s",
            None,
            [404; 7],
        ),
        // Not a handshake: refused alike, whoever asks.
        row("GET /api/ws", "/api/ws", None, [400; 7]),
        row(
            "POST /api/auth/register",
            "/api/auth/register",
            empty(),
            [422; 7],
        ),
        row("POST /api/auth/login", "/api/auth/login", empty(), [422; 7]),
        // Signed in.
        row(
            "GET /api/auth/me",
            "/api/auth/me",
            None,
            [401, 200, 200, 200, 200, 200, 200],
        ),
        // Without the password nobody closes an account; admins never do.
        row(
            "DELETE /api/auth/me",
            "/api/auth/me",
            empty(),
            [401, 403, 403, 403, 403, 403, 403],
        ),
        row(
            "GET /api/auth/sessions",
            "/api/auth/sessions",
            None,
            [401, 200, 200, 200, 200, 200, 200],
        ),
        // Only one's own sessions can be ended; someone else's is not found.
        row(
            "DELETE /api/auth/sessions/{session_id}",
            "/api/auth/sessions/{session_id}",
            None,
            [401, 404, 404, 404, 404, 404, 404],
        ),
        // Learners.
        row(
            "POST /api/events/{event_id}/book",
            "/api/events/{event}/book",
            empty(),
            [401, 422, 403, 403, 403, 422, 403],
        ),
        row(
            "GET /api/user/bookings",
            "/api/user/bookings",
            None,
            [401, 200, 403, 403, 403, 200, 403],
        ),
        row(
            "POST /api/user/bookings/{lead_id}/cancel",
            "/api/user/bookings/{spare_lead}/cancel",
            None,
            [401, 404, 403, 403, 403, 200, 403],
        ),
        // Mentors.
        row(
            "GET /api/mentor/profile",
            "/api/mentor/profile",
            None,
            [401, 403, 200, 200, 403, 403, 200],
        ),
        // Every field is optional: an empty edit changes nothing and succeeds.
        row(
            "PUT /api/mentor/profile",
            "/api/mentor/profile",
            empty(),
            [401, 403, 200, 200, 403, 403, 200],
        ),
        row(
            "GET /api/mentor/events",
            "/api/mentor/events",
            None,
            [401, 403, 200, 200, 403, 403, 200],
        ),
        // Valid events: what is decided is who, not what.
        row(
            "POST /api/mentor/events",
            "/api/mentor/events",
            event(),
            [401, 403, 200, 403, 403, 403, 200],
        ),
        row(
            "PUT /api/mentor/events/{event_id}",
            "/api/mentor/events/{event}",
            event(),
            [401, 403, 404, 403, 403, 403, 200],
        ),
        // Someone else's event is not found; its owner deletes it (its booking was cancelled above).
        row(
            "DELETE /api/mentor/events/{event_id}",
            "/api/mentor/events/{spare_event}",
            None,
            [401, 403, 404, 404, 403, 403, 200],
        ),
        row(
            "GET /api/mentor/leads",
            "/api/mentor/leads",
            None,
            [401, 403, 200, 200, 403, 403, 200],
        ),
        row(
            "GET /api/mentor/stats",
            "/api/mentor/stats",
            None,
            [401, 403, 200, 200, 403, 403, 200],
        ),
        row(
            "POST /api/mentor/leads/{lead_id}/purchase",
            "/api/mentor/leads/{lead}/purchase",
            None,
            [401, 403, 404, 403, 403, 403, 200],
        ),
        row(
            "POST /api/payments/verify",
            "/api/payments/verify",
            empty(),
            [401, 403, 422, 422, 403, 403, 422],
        ),
        row(
            "POST /api/payments/simulated-checkout",
            "/api/payments/simulated-checkout",
            empty(),
            [401, 403, 422, 422, 403, 403, 422],
        ),
        // Razorpay's, checked by signature, not by who calls.
        row(
            "POST /api/payments/webhook",
            "/api/payments/webhook",
            empty(),
            [400; 7],
        ),
        // Admins.
        row(
            "GET /api/admin/analytics",
            "/api/admin/analytics",
            None,
            [401, 403, 403, 403, 200, 403, 403],
        ),
        row(
            "GET /api/admin/analytics/daily",
            "/api/admin/analytics/daily",
            None,
            [401, 403, 403, 403, 200, 403, 403],
        ),
        row(
            "GET /api/admin/audit-log",
            "/api/admin/audit-log",
            None,
            [401, 403, 403, 403, 200, 403, 403],
        ),
        row(
            "GET /api/admin/users",
            "/api/admin/users",
            None,
            [401, 403, 403, 403, 200, 403, 403],
        ),
        row(
            "GET /api/admin/mentors",
            "/api/admin/mentors",
            None,
            [401, 403, 403, 403, 200, 403, 403],
        ),
        row(
            "PUT /api/admin/mentors/{mentor_id}/verify",
            "/api/admin/mentors/{mentor_id}/verify",
            empty(),
            [401, 403, 403, 403, 422, 403, 403],
        ),
        row(
            "GET /api/admin/leads",
            "/api/admin/leads",
            None,
            [401, 403, 403, 403, 200, 403, 403],
        ),
        row(
            "PUT /api/admin/leads/{lead_id}/verify",
            "/api/admin/leads/{lead}/verify",
            empty(),
            [401, 403, 403, 403, 422, 403, 403],
        ),
        row(
            "POST /api/admin/leads/{lead_id}/claim",
            "/api/admin/leads/{review_lead}/claim",
            None,
            [401, 403, 403, 403, 200, 403, 403],
        ),
        row(
            "DELETE /api/admin/leads/{lead_id}/claim",
            "/api/admin/leads/{review_lead}/claim",
            None,
            [401, 403, 403, 403, 200, 403, 403],
        ),
        // Last: it ends the caller's session.
        row(
            "POST /api/auth/logout",
            "/api/auth/logout",
            None,
            [401, 200, 200, 200, 200, 200, 200],
        ),
        // After the logout row nobody is signed in (tests/api/sessions.rs signs out
        // everywhere while signed in).
        row(
            "POST /api/auth/logout-everywhere",
            "/api/auth/logout-everywhere",
            None,
            [401; 7],
        ),
    ]
}

/// The API's own list of routes, as `METHOD /path`.
async fn described_routes(app: &TestApp) -> Vec<String> {
    let (_, doc) = app.anonymous().get("/api/openapi.json").await;
    let mut routes = Vec::new();
    for (path, operations) in doc["paths"].as_object().expect("paths") {
        for method in operations.as_object().expect("operations").keys() {
            if ["get", "post", "put", "delete", "patch"].contains(&method.as_str()) {
                routes.push(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    routes
}

#[tokio::test]
async fn every_route_answers_each_kind_of_caller_as_the_matrix_says() {
    let app = spawn_app().await;
    let rows = rows();
    let covered: Vec<&str> = rows.iter().map(|r| r.route).collect();
    let missing: Vec<String> = described_routes(&app)
        .await
        .into_iter()
        .filter(|r| !covered.contains(&r.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "routes without an access-control row: {missing:?}"
    );

    let world = world(&app).await;
    let mut wrong = Vec::new();
    for row in &rows {
        let (method, _) = row.route.split_once(' ').expect("METHOD /path");
        let method: Method = method.parse().expect("method");
        let mut path = row.path.to_string();
        for (name, id) in &world.ids {
            path = path.replace(&format!("{{{name}}}"), id);
        }
        for (caller, expected) in CALLERS.iter().zip(row.expect) {
            let actor = &world.callers[caller];
            let (status, body) = actor.call(method.clone(), &path, row.body.clone()).await;
            if status.as_u16() != expected {
                wrong.push(format!(
                    "{} as {caller}: {} (expected {expected}) {body}",
                    row.route,
                    status.as_u16()
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} cells differ:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
