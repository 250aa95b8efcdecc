//! Shared test helpers: start the real app on port 0 with its own data directory, and act
//! as learners, mentors and admins over HTTP.
#![allow(dead_code)]

pub mod fake_google;
pub mod fake_razorpay;
pub mod install;
pub mod redis;
pub mod ws;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use leadbridge::config::Config;
use leadbridge::startup::Application;
use leadbridge::store::Store;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tempfile::TempDir;

pub const ADMIN_EMAIL: &str = "admin@leadbridge.test";
pub const ADMIN_PASSWORD: &str = "admin-pass-2026";
pub const KEY_SECRET: &str = "test_key_secret_123";
pub const WEBHOOK_SECRET: &str = "test_webhook_secret_456";
pub const PASSWORD: &str = "learner-pass-2026";

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A unique suffix for e-mails within one test process.
pub fn unique() -> String {
    format!(
        "{}{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

pub struct TestApp {
    pub address: String,
    /// Where sockets connect: this node, or its peer in a two-node cluster.
    pub ws_address: String,
    pub data_dir: Arc<TempDir>,
    /// A store on the same data (the server's own, or one opened beside a child process).
    pub store: Arc<dyn Store>,
    pub vars: HashMap<String, String>,
    server: Server,
    /// Other nodes of the same cluster and the Redis they share, stopped with this one.
    peers: Vec<TestApp>,
    redis: Option<Arc<redis::RedisServer>>,
}

/// How the server under test runs.
enum Server {
    /// In this test process.
    InProcess(Box<leadbridge::startup::ShutdownHandle>),
    /// The real `leadbridge` binary as a child process, killed when the app is dropped.
    Process(KillOnDrop),
}

struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A temporary directory only its owner may enter, as a data directory should be (the
/// server would otherwise make it so, with a warning).
pub fn private_temp_dir() -> TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))
        .expect("private temp dir");
    dir
}

/// Settings every test app starts from; `extra` overrides or adds variables.
pub fn test_vars(data_dir: &TempDir, extra: &[(&str, &str)]) -> HashMap<String, String> {
    let mut vars: HashMap<String, String> = [
        ("LEADBRIDGE_ADDR", "127.0.0.1:0"),
        ("LEADBRIDGE_ADMIN_EMAIL", ADMIN_EMAIL),
        ("LEADBRIDGE_ADMIN_PASSWORD", ADMIN_PASSWORD),
        ("RAZORPAY_KEY_ID", "rzp_test_key"),
        ("RAZORPAY_KEY_SECRET", KEY_SECRET),
        ("RAZORPAY_WEBHOOK_SECRET", WEBHOOK_SECRET),
        ("RUST_LOG", "warn"),
        // Suites make hundreds of sign-ins from one address; tests/api/limits.rs turns
        // the limits back on.
        ("LEADBRIDGE_RATE_LIMITS", "off"),
        // Likewise for connections: suites open a thousand sockets from 127.0.0.1;
        // tests/api/exhaustion.rs sets an allowance.
        ("LEADBRIDGE_MAX_CONNECTIONS_PER_ADDRESS", "0"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    vars.insert(
        "LEADBRIDGE_DATA_DIR".into(),
        data_dir.path().display().to_string(),
    );
    for (k, v) in extra {
        vars.insert(k.to_string(), v.to_string());
    }
    vars
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// A server with Google sign-in against `google`. Its port is chosen first: the public URL
/// (Google's redirect target) must name it.
pub async fn spawn_app_with_google(
    google: &fake_google::FakeGoogle,
    extra: &[(&str, &str)],
) -> TestApp {
    // The port was free a moment ago; one another test took meanwhile fails the bind,
    // and the app is started again on another.
    for _ in 0..5 {
        let port = free_port();
        let addr = format!("127.0.0.1:{port}");
        let public = format!("http://127.0.0.1:{port}");
        let google_vars = google.vars();
        let mut vars: Vec<(&str, &str)> = vec![
            ("LEADBRIDGE_ADDR", &addr),
            ("LEADBRIDGE_PUBLIC_URL", &public),
        ];
        vars.extend(google_vars.iter().map(|(k, v)| (*k, v.as_str())));
        vars.extend_from_slice(extra);
        let data_dir = Arc::new(private_temp_dir());
        if let Some(app) = try_start(test_vars(&data_dir, &vars), data_dir).await {
            return app;
        }
    }
    panic!("no free port for the app");
}

pub async fn spawn_app_with(extra: &[(&str, &str)]) -> TestApp {
    let data_dir = Arc::new(private_temp_dir());
    let vars = test_vars(&data_dir, extra);
    start(vars, data_dir).await
}

/// A server whose time is `clock`: the test moves it on instead of sleeping.
pub async fn spawn_app_with_clock(
    extra: &[(&str, &str)],
    clock: Arc<leadbridge::clock::ManualClock>,
) -> TestApp {
    let data_dir = Arc::new(private_temp_dir());
    let vars = test_vars(&data_dir, extra);
    try_start_with(vars, data_dir, clock)
        .await
        .expect("the app binds its address")
}

async fn start(vars: HashMap<String, String>, data_dir: Arc<TempDir>) -> TestApp {
    try_start(vars, data_dir)
        .await
        .expect("the app binds its address")
}

/// Starts the app; `None` when its address is taken (another test's port).
async fn try_start(vars: HashMap<String, String>, data_dir: Arc<TempDir>) -> Option<TestApp> {
    try_start_with(vars, data_dir, Arc::new(leadbridge::clock::SystemClock)).await
}

async fn try_start_with(
    vars: HashMap<String, String>,
    data_dir: Arc<TempDir>,
    clock: Arc<dyn leadbridge::clock::Clock>,
) -> Option<TestApp> {
    let config = Config::from_vars(&vars).expect("test config");
    leadbridge::telemetry::init(&config.log_filter);
    let app = match Application::build_with_clock(config, clock).await {
        Ok(app) => app,
        Err(e)
            if e.chain().any(|cause| {
                cause
                    .downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::AddrInUse)
            }) =>
        {
            return None
        }
        Err(e) => panic!("app builds: {e:#}"),
    };
    let address = format!("http://127.0.0.1:{}", app.port());
    let store = app.store();
    let handle = app.shutdown_handle();
    tokio::spawn(app.run_until_stopped());
    Some(TestApp {
        ws_address: address.clone(),
        address,
        data_dir,
        store,
        vars,
        server: Server::InProcess(Box::new(handle)),
        peers: Vec::new(),
        redis: None,
    })
}

/// Two nodes sharing one SQLite file and one private Redis: this process serves HTTP, a
/// second `leadbridge` process serves the sockets (`ws_address`), so every realtime path
/// crosses the bus.
pub async fn spawn_two_nodes(extra: &[(&str, &str)]) -> TestApp {
    let redis = Arc::new(redis::RedisServer::start());
    let url = redis.url();
    let mut vars = extra.to_vec();
    vars.push(("LEADBRIDGE_REDIS_URL", &url));
    let mut app = spawn_app_with(&vars).await;
    let peer = app.process_sibling().await;
    app.ws_address = peer.address.clone();
    app.peers.push(peer);
    app.redis = Some(redis);
    app
}

/// The TCP state (`/proc/net/tcp`'s `st`: 1 is ESTABLISHED) of this machine's socket bound
/// to `local_port` and connected to `remote_port`; `None` once it is gone.
pub fn tcp_state(local_port: u16, remote_port: u16) -> Option<u8> {
    let table = std::fs::read_to_string("/proc/net/tcp").expect("/proc/net/tcp");
    let port = |address: &str| {
        address
            .rsplit(':')
            .next()
            .and_then(|hex| u16::from_str_radix(hex, 16).ok())
    };
    table.lines().skip(1).find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (local, remote, state) = (fields.get(1)?, fields.get(2)?, fields.get(3)?);
        (port(local) == Some(local_port) && port(remote) == Some(remote_port))
            .then(|| u8::from_str_radix(state, 16).ok())
            .flatten()
    })
}

/// A port that was free a moment ago.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

impl TestApp {
    /// Kills this node's process at once (SIGKILL): no close frames, nothing flushed.
    pub fn kill(&mut self) {
        match &mut self.server {
            Server::Process(child) => {
                let _ = child.0.kill();
                let _ = child.0.wait();
            }
            Server::InProcess(_) => panic!("only a process node can be killed"),
        }
    }

    /// The process id of a node that runs as the real binary.
    pub fn pid(&self) -> u32 {
        match &self.server {
            Server::Process(child) => child.0.id(),
            Server::InProcess(_) => panic!("only a process node has its own pid"),
        }
    }

    /// Waits until every committed change has been announced (the relay prunes the outbox
    /// as it delivers), for tests that resume right after a write.
    pub async fn settled(&self) {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let pending = self.store.changes_after(0, 1).await.expect("outbox");
            if pending.changes.is_empty() {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the outbox was never relayed"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// Stops an in-process server gracefully (its data stays for other nodes).
    pub async fn stop(&self) {
        match &self.server {
            Server::InProcess(handle) => handle.shutdown().await,
            Server::Process(_) => panic!("stop is for in-process servers; kill a process"),
        }
    }

    /// Stops this server and starts a new one on the same data directory and settings.
    pub async fn restart(self) -> TestApp {
        match &self.server {
            Server::InProcess(handle) => handle.shutdown().await,
            Server::Process(_) => panic!("restart is for in-process servers"),
        }
        let mut vars = self.vars.clone();
        vars.insert("LEADBRIDGE_ADDR".into(), "127.0.0.1:0".into());
        start(vars, Arc::clone(&self.data_dir)).await
    }

    /// The real server binary, as a separate process, on the same data directory: two
    /// processes sharing one SQLite file.
    pub async fn process_sibling(&self) -> TestApp {
        self.process_sibling_logging(None).await
    }

    /// A sibling process whose standard output and error go to `log` (or nowhere).
    pub async fn process_sibling_logging(&self, log: Option<&std::path::Path>) -> TestApp {
        let output = || match log {
            Some(path) => std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map(std::process::Stdio::from)
                .expect("log file"),
            None => std::process::Stdio::null(),
        };
        // The port was free a moment ago; if another test took it meanwhile, the child
        // exits at once (and /healthz may even be answered by that other server), so a
        // child that is gone after turning healthy is started again on another port.
        for _ in 0..5 {
            let mut vars = self.vars.clone();
            vars.insert(
                "LEADBRIDGE_ADDR".into(),
                format!("127.0.0.1:{}", free_port()),
            );
            let child = std::process::Command::new(env!("CARGO_BIN_EXE_leadbridge"))
                .arg("serve")
                .envs(&vars)
                .stdout(output())
                .stderr(match log {
                    Some(_) => output(),
                    None => std::process::Stdio::inherit(),
                })
                .spawn()
                .expect("start the leadbridge binary");
            let mut child = KillOnDrop(child);
            let address = format!("http://{}", vars["LEADBRIDGE_ADDR"]);
            let mut ready = false;
            for _ in 0..200 {
                if !matches!(child.0.try_wait(), Ok(None)) {
                    break;
                }
                if let Ok(response) = reqwest::get(format!("{address}/healthz")).await {
                    ready = response.status().is_success();
                    if ready {
                        break;
                    }
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            if ready && matches!(child.0.try_wait(), Ok(None)) {
                return TestApp {
                    ws_address: address.clone(),
                    address,
                    data_dir: Arc::clone(&self.data_dir),
                    store: Arc::clone(&self.store),
                    vars,
                    server: Server::Process(child),
                    peers: Vec::new(),
                    redis: None,
                };
            }
        }
        panic!("the child server did not become healthy");
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// A fresh browser-like client with its own cookie jar, not signed in.
    pub fn anonymous(&self) -> Actor {
        Actor {
            base: self.address.clone(),
            client: reqwest::Client::builder()
                .cookie_store(true)
                // Under actix's 5 s keep-alive: a connection reused just as the server
                // closes it for idleness is reset, and a POST cannot be retried blindly.
                .pool_idle_timeout(std::time::Duration::from_secs(2))
                .build()
                .expect("client"),
            user_id: String::new(),
            email: String::new(),
            access_token: String::new(),
        }
    }

    /// Registers an account of `role` and returns it signed in.
    pub async fn register(&self, role: &str, name: &str) -> Actor {
        let mut actor = self.anonymous();
        let email = format!("{}-{}@example.com", role.to_lowercase(), unique());
        let (status, body) = actor
            .call(
                Method::POST,
                "/api/auth/register",
                Some(json!({"email": email, "password": PASSWORD, "name": name, "role": role})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "register {role}: {body}");
        actor.user_id = body["user_id"].as_str().expect("user_id").to_string();
        actor.access_token = body["access_token"]
            .as_str()
            .expect("access_token")
            .to_string();
        actor.email = email;
        actor
    }

    pub async fn learner(&self) -> Actor {
        self.register("USER", "Lena Learner").await
    }

    pub async fn admin(&self) -> Actor {
        let mut actor = self.anonymous();
        let (status, body) = actor
            .call(
                Method::POST,
                "/api/auth/login",
                Some(json!({"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "admin login: {body}");
        actor.user_id = body["user_id"].as_str().expect("user_id").to_string();
        actor.access_token = body["access_token"].as_str().expect("token").to_string();
        actor.email = ADMIN_EMAIL.into();
        actor
    }

    /// Another admin account (the bootstrap admin is one; operators add others in the store).
    pub async fn another_admin(&self) -> Actor {
        let email = format!("admin-{}@leadbridge.test", unique());
        let hash = leadbridge::auth::password::hash(PASSWORD).expect("hash");
        self.store
            .upsert_admin(&email, "Second Admin", &hash)
            .await
            .expect("admin");
        let mut actor = self.anonymous();
        let (status, body) = actor
            .post(
                "/api/auth/login",
                json!({"email": email, "password": PASSWORD}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "second admin login: {body}");
        actor.user_id = body["user_id"].as_str().expect("user_id").to_string();
        actor.access_token = body["access_token"].as_str().expect("token").to_string();
        actor.email = email;
        actor
    }

    /// A mentor whose profile an admin has approved; returns the mentor and its mentor_id.
    pub async fn approved_mentor(&self, admin: &Actor) -> (Actor, String) {
        let mentor = self.register("MENTOR", "Maya Mentor").await;
        let (_, profile) = mentor.get("/api/mentor/profile").await;
        let mentor_id = profile["mentor_id"]
            .as_str()
            .expect("mentor_id")
            .to_string();
        let (status, body) = admin
            .call(
                Method::PUT,
                &format!("/api/admin/mentors/{mentor_id}/verify"),
                Some(json!({"status": "APPROVED", "reason": "Profile verified"})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "approve: {body}");
        // Approval rotates the mentor's sessions: a bearer client signs in again.
        let mut mentor = mentor;
        mentor.sign_in_again().await;
        (mentor, mentor_id)
    }

    /// Publishes an event a week from now; returns its id.
    pub async fn create_event(&self, mentor: &Actor, slots: i64, price: i64) -> String {
        let (status, body) = mentor
            .post(
                "/api/mentor/events",
                event_body("Rust for the web", slots, price),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "create event: {body}");
        body["event_id"].as_str().expect("event_id").to_string()
    }

    /// Signs in as `learner`… books `event_id` with clean, unique contact details.
    pub async fn book(&self, learner: &Actor, event_id: &str) -> (StatusCode, Value) {
        learner
            .post(&format!("/api/events/{event_id}/book"), clean_contact())
            .await
    }
}

/// A unique, valid Indian mobile number.
pub fn unique_phone() -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed) as u64
        + (std::process::id() as u64 % 1000) * 100_000;
    format!("+91 9{:09}", n % 1_000_000_000)
}

pub fn clean_contact() -> Value {
    json!({
        "name": "Priya Sharma",
        "email": format!("priya.{}@contact-example.org", unique()),
        "phone": unique_phone(),
        "message": "Interested in learning Rust"
    })
}

pub fn event_body(title: &str, slots: i64, price: i64) -> Value {
    let when = (chrono::Utc::now() + chrono::Duration::days(7)).to_rfc3339();
    json!({
        "title": title,
        "description": "Hands-on session",
        "category": "Programming",
        "event_datetime": when,
        "duration": 90,
        "available_slots": slots,
        "price_per_lead": price
    })
}

/// Someone using the API: a cookie-keeping client plus what registration returned.
#[derive(Clone)]
pub struct Actor {
    pub base: String,
    pub client: reqwest::Client,
    pub user_id: String,
    pub email: String,
    pub access_token: String,
}

impl Actor {
    /// The same person (same cookie jar: cookies are not bound to a port) talking to `app`.
    pub fn on(&self, app: &TestApp) -> Actor {
        Actor {
            base: app.address.clone(),
            ..self.clone()
        }
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .client
            .request(method, format!("{}{}", self.base, path));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request sent");
        read(response).await
    }

    /// One page of a listing and the cursor of the next (the `X-Next-Cursor` header).
    pub async fn page(&self, path: &str) -> (Value, Option<String>) {
        let response = self
            .client
            .get(format!("{}{}", self.base, path))
            .send()
            .await
            .expect("request sent");
        let cursor = response
            .headers()
            .get("x-next-cursor")
            .map(|v| v.to_str().expect("ascii cursor").to_string());
        (read(response).await.1, cursor)
    }

    /// Signs in with the password again (a fresh session and access token).
    pub async fn sign_in_again(&mut self) {
        let (status, body) = self
            .post(
                "/api/auth/login",
                json!({"email": self.email, "password": PASSWORD}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "sign in again: {body}");
        self.access_token = body["access_token"].as_str().expect("token").to_string();
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::PUT, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::DELETE, path, None).await
    }
}

/// Status and JSON body (Null when the body is empty).
pub async fn read(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.expect("body");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("non-JSON body ({status}): {text}"))
    };
    (status, body)
}

/// Asserts our error shape and returns the code.
pub fn error_code(body: &Value) -> &str {
    let code = body["error"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("not an error body: {body}"));
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "error without message: {body}"
    );
    code
}
