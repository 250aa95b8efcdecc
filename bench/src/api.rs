//! The few HTTP calls the scenarios make, as a user of the API would.

use std::time::Duration;

use serde_json::{json, Value};

/// The password of every account the load generator registers.
pub const PASSWORD: &str = "bench-pass-2026";

#[derive(Clone)]
pub struct Api {
    pub http: reqwest::Client,
}

impl Default for Api {
    fn default() -> Self {
        Self {
            http: reqwest::Client::builder()
                .pool_max_idle_per_host(256)
                .timeout(Duration::from_secs(30))
                .build()
                .expect("HTTP client"),
        }
    }
}

/// What a call answered: status (0 when the request failed) and JSON body.
pub type Answer = (u16, Value);

impl Api {
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        match request.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                (status, response.json().await.unwrap_or(Value::Null))
            }
            Err(_) => (0, Value::Null),
        }
    }

    /// Like `send`, again after a 503 as its `Retry-After` asks (a few times): the server
    /// hashes a few passwords at a time and refuses a burst of sign-ins beyond its queue.
    async fn send_patiently(&self, request: reqwest::RequestBuilder) -> Answer {
        for _ in 0..20 {
            let Some(again) = request.try_clone() else {
                break;
            };
            let answer = self.send(again).await;
            if answer.0 != 503 {
                return answer;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        self.send(request).await
    }

    pub async fn post(&self, token: &str, url: String, body: Value) -> Answer {
        self.send(self.http.post(url).bearer_auth(token).json(&body))
            .await
    }

    pub async fn login(&self, base: &str, email: &str, password: &str) -> String {
        let (_, body) = self
            .send_patiently(
                self.http
                    .post(format!("{base}/api/auth/login"))
                    .json(&json!({"email": email, "password": password})),
            )
            .await;
        body["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("login as {email}: {body}"))
            .to_string()
    }

    pub async fn register(&self, base: &str, email: &str, role: &str) -> String {
        let (_, body) = self
            .send_patiently(
                self.http
                    .post(format!("{base}/api/auth/register"))
                    .json(&json!({
                        "email": email, "password": PASSWORD, "name": "Bench Person", "role": role
                    })),
            )
            .await;
        body["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("register {email}: {body}"))
            .to_string()
    }

    /// A mentor approved by the admin: (token, mentor_id).
    pub async fn approved_mentor(&self, base: &str, admin: &str, tag: &str) -> (String, String) {
        let email = format!("mentor-{tag}@bench.test");
        let mentor = self.register(base, &email, "MENTOR").await;
        let (_, profile) = self
            .send(
                self.http
                    .get(format!("{base}/api/mentor/profile"))
                    .bearer_auth(&mentor),
            )
            .await;
        let mentor_id = profile["mentor_id"]
            .as_str()
            .expect("mentor_id")
            .to_string();
        self.send(
            self.http
                .put(format!("{base}/api/admin/mentors/{mentor_id}/verify"))
                .bearer_auth(admin)
                .json(&json!({"status": "APPROVED", "reason": "bench"})),
        )
        .await;
        // Approval renews the mentor's sessions: a token client signs in again.
        let mentor = self.login(base, &email, PASSWORD).await;
        (mentor, mentor_id)
    }

    fn event_body(title: &str, slots: i64) -> Value {
        let when = (chrono::Utc::now() + chrono::Duration::days(30)).to_rfc3339();
        json!({"title": title, "description": "load test", "category": "Programming",
               "event_datetime": when, "duration": 60, "available_slots": slots,
               "price_per_lead": 100})
    }

    pub async fn create_event(&self, base: &str, mentor: &str, title: &str, slots: i64) -> String {
        let (_, body) = self
            .post(
                mentor,
                format!("{base}/api/mentor/events"),
                Self::event_body(title, slots),
            )
            .await;
        body["event_id"]
            .as_str()
            .unwrap_or_else(|| panic!("create event: {body}"))
            .to_string()
    }

    /// Edits the event's seat count: every edit publishes one `slots_changed`.
    pub async fn set_slots(&self, base: &str, mentor: &str, event_id: &str, slots: i64) -> u16 {
        self.send(
            self.http
                .put(format!("{base}/api/mentor/events/{event_id}"))
                .bearer_auth(mentor)
                .json(&Self::event_body("Fan-out", slots)),
        )
        .await
        .0
    }

    pub async fn book(&self, base: &str, learner: &str, event_id: &str, n: u64) -> Answer {
        self.post(
            learner,
            format!("{base}/api/events/{event_id}/book"),
            json!({"name": "Bench Learner", "email": format!("c{n}@contact-bench.org"),
                   "phone": format!("+91 98{:08}", n % 100_000_000), "message": "bench"}),
        )
        .await
    }
}
