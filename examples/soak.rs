//! Soak: two `leadbridge` nodes and a private Redis under booking load for a few minutes,
//! with a Redis restart halfway. Watchers on both nodes follow every event, reconnect with
//! `since` like the web app does, and at the end every watcher's last seat count is compared
//! with the store's. Reports messages delivered against expected.
//!
//! Run with `scripts/soak.sh` (it builds the release binary first). Not part of the tests.

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

const HELP: &str = "\
soak: two leadbridge nodes + Redis under booking load, with a Redis restart halfway

  --seconds N    how long the booking load runs (default 180)
  --events N     events, each with --slots seats (default 10)
  --slots N      seats per event (default 60)
  --watchers N   sockets per event on each node (default 5)
  --rate N       booking attempts per second, spread over both nodes (default 20)
  --learners N   learner accounts that book (default 100)
";

struct Knobs {
    seconds: u64,
    events: usize,
    slots: i64,
    watchers: usize,
    rate: u64,
    learners: usize,
}

fn knobs() -> Result<Knobs, String> {
    let mut knobs = Knobs {
        seconds: 180,
        events: 10,
        slots: 60,
        watchers: 5,
        rate: 20,
        learners: 100,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "--help" || flag == "-h" {
            print!("{HELP}");
            std::process::exit(0);
        }
        let value: u64 = args
            .next()
            .and_then(|v| v.parse().ok())
            .ok_or(format!("{flag} needs a whole number"))?;
        match flag.as_str() {
            "--seconds" => knobs.seconds = value,
            "--events" => knobs.events = value as usize,
            "--slots" => knobs.slots = value as i64,
            "--watchers" => knobs.watchers = value as usize,
            "--rate" => knobs.rate = value.max(1),
            "--learners" => knobs.learners = value as usize,
            _ => return Err(format!("unknown flag {flag}\n{HELP}")),
        }
    }
    Ok(knobs)
}

/// Children killed when the soak ends, however it ends.
struct Processes(Vec<Child>);

impl Drop for Processes {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn redis(port: u16, dir: &std::path::Path) -> Child {
    Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--save",
            "",
            "--appendonly",
            "yes",
        ])
        .arg("--dir")
        .arg(dir)
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server (apt-get install redis-server)")
}

async fn wait_http(base: &str) {
    for _ in 0..400 {
        if reqwest::get(format!("{base}/readyz"))
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{base} never became ready");
}

async fn call(client: &reqwest::Client, token: &str, url: String, body: Value) -> (u16, Value) {
    let mut request = client.post(url).json(&body);
    if !token.is_empty() {
        request = request.bearer_auth(token);
    }
    match request.send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            (status, response.json().await.unwrap_or(Value::Null))
        }
        Err(_) => (0, Value::Null),
    }
}

#[derive(Default)]
struct Tally {
    delivered: AtomicU64,
    resyncs: AtomicU64,
    reconnects: AtomicU64,
    gaps: AtomicU64,
}

/// Follows one event topic on one node like the web app: on any close it reconnects with
/// `since`. Answers the last seat count it saw once `stop` fires.
async fn watch(
    ws: String,
    topic: String,
    tally: Arc<Tally>,
    stop: tokio::sync::watch::Receiver<bool>,
) -> Option<i64> {
    let mut position: Option<(u64, String)> = None;
    let mut seats = None;
    loop {
        if *stop.borrow() {
            return seats;
        }
        let Ok((mut socket, _)) = tokio_tungstenite::connect_async(ws.as_str()).await else {
            tokio::time::sleep(Duration::from_millis(300)).await;
            continue;
        };
        let mut subscribe = json!({"type": "subscribe", "topic": topic});
        if let Some((offset, epoch)) = &position {
            subscribe["since"] = json!({"offset": offset, "epoch": epoch});
        }
        if socket
            .send(Message::text(subscribe.to_string()))
            .await
            .is_err()
        {
            continue;
        }
        let mut stop = stop.clone();
        loop {
            let frame = tokio::select! {
                frame = socket.next() => frame,
                _ = stop.changed() => {
                    // Let in-flight messages land before reading the final count.
                    tokio::time::sleep(Duration::from_secs(2)).await;
                    while let Ok(Some(Ok(Message::Text(text)))) =
                        tokio::time::timeout(Duration::from_millis(200), socket.next()).await
                    {
                        apply(&text, &mut position, &mut seats, &tally);
                    }
                    return seats;
                }
            };
            match frame {
                Some(Ok(Message::Text(text))) => apply(&text, &mut position, &mut seats, &tally),
                Some(Ok(_)) => {}
                Some(Err(_)) | None => break,
            }
        }
        tally.reconnects.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn apply(text: &str, position: &mut Option<(u64, String)>, seats: &mut Option<i64>, tally: &Tally) {
    let Ok(frame) = serde_json::from_str::<Value>(text) else {
        return;
    };
    match frame["type"].as_str() {
        Some("subscribed") => {
            let offset = frame["offset"].as_u64().unwrap_or(0);
            let epoch = frame["epoch"].as_str().unwrap_or_default().to_string();
            if let Some(snapshot) = frame.get("snapshot") {
                if position.is_some() {
                    tally.resyncs.fetch_add(1, Ordering::Relaxed);
                }
                *seats = snapshot["available_slots"].as_i64();
            }
            *position = Some((offset, epoch));
        }
        Some("message") => {
            let offset = frame["offset"].as_u64().unwrap_or(0);
            if let Some((last, _)) = position.as_mut() {
                if offset <= *last {
                    return;
                }
                if offset != *last + 1 {
                    tally.gaps.fetch_add(1, Ordering::Relaxed);
                }
                *last = offset;
            }
            tally.delivered.fetch_add(1, Ordering::Relaxed);
            *seats = frame["event"]["available_slots"].as_i64();
        }
        _ => {}
    }
}

#[tokio::main]
async fn main() {
    let knobs = match knobs() {
        Ok(k) => k,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let exe = std::env::current_exe().expect("own path");
    let binary = exe
        .parent()
        .and_then(|p| p.parent())
        .map(|p| p.join("leadbridge"))
        .expect("the leadbridge binary beside examples/");
    let dir = tempfile::tempdir().expect("temp dir");
    let redis_port = free_port();
    let mut processes = Processes(vec![redis(redis_port, dir.path())]);
    tokio::time::sleep(Duration::from_millis(300)).await;

    let secret = |n: u8| format!("{:064x}", u128::from(n) * 0x1234_5678_9abc_def1);
    let nodes: Vec<String> = (0..2)
        .map(|_| format!("http://127.0.0.1:{}", free_port()))
        .collect();
    for node in &nodes {
        let child = Command::new(&binary)
            .arg("serve")
            .env("LEADBRIDGE_ADDR", node.trim_start_matches("http://"))
            .env("LEADBRIDGE_DATA_DIR", dir.path())
            .env(
                "LEADBRIDGE_REDIS_URL",
                format!("redis://127.0.0.1:{redis_port}"),
            )
            .env("LEADBRIDGE_JWT_SECRET", secret(1))
            .env("LEADBRIDGE_DATA_KEY", secret(2))
            .env("LEADBRIDGE_ADMIN_EMAIL", "admin@soak.test")
            .env("LEADBRIDGE_ADMIN_PASSWORD", "soak-admin-pass-2026")
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .spawn()
            .expect("start leadbridge (cargo build --release first)");
        processes.0.push(child);
        wait_http(node).await;
    }
    println!(
        "soak: nodes {} and {}, redis :{redis_port}",
        nodes[0], nodes[1]
    );

    let http = reqwest::Client::new();
    let (_, admin) = call(
        &http,
        "",
        format!("{}/api/auth/login", nodes[0]),
        json!({"email": "admin@soak.test", "password": "soak-admin-pass-2026"}),
    )
    .await;
    let admin = admin["access_token"]
        .as_str()
        .expect("admin login")
        .to_string();
    let register = |n: usize, role: &'static str| {
        let http = http.clone();
        let url = format!("{}/api/auth/register", nodes[n % 2]);
        async move {
            let (_, body) = call(
                &http,
                "",
                url,
                json!({"email": format!("{role}{n}@soak.test").to_lowercase(), "password": "soak-pass-2026", "name": "Soak Person", "role": role}),
            )
            .await;
            body["access_token"].as_str().expect("register").to_string()
        }
    };
    let mentor = register(0, "MENTOR").await;
    let profile: Value = http
        .get(format!("{}/api/mentor/profile", nodes[0]))
        .bearer_auth(&mentor)
        .send()
        .await
        .expect("profile")
        .json()
        .await
        .expect("profile json");
    let mentor_id = profile["mentor_id"].as_str().expect("mentor_id");
    http.put(format!("{}/api/admin/mentors/{mentor_id}/verify", nodes[0]))
        .bearer_auth(&admin)
        .json(&json!({"status": "APPROVED", "reason": "soak"}))
        .send()
        .await
        .expect("approve");
    let when = (chrono::Utc::now() + chrono::Duration::days(7)).to_rfc3339();
    let mut events = Vec::new();
    for i in 0..knobs.events {
        let (_, body) = call(
            &http,
            &mentor,
            format!("{}/api/mentor/events", nodes[0]),
            json!({"title": format!("Soak {i}"), "description": "load", "category": "Programming",
                   "event_datetime": when, "duration": 60, "available_slots": knobs.slots, "price_per_lead": 100}),
        )
        .await;
        events.push(body["event_id"].as_str().expect("event").to_string());
    }
    let learners: Vec<String> =
        futures_util::future::join_all((0..knobs.learners).map(|n| register(n + 1, "USER"))).await;
    println!(
        "soak: {} events × {} seats, {} learners, {} watchers per event per node",
        knobs.events, knobs.slots, knobs.learners, knobs.watchers
    );

    let tally = Arc::new(Tally::default());
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut watchers = Vec::new();
    for event in &events {
        for node in &nodes {
            for _ in 0..knobs.watchers {
                let ws = format!("{}/api/ws", node.replace("http://", "ws://"));
                let task = watch(ws, format!("event:{event}"), tally.clone(), stopped.clone());
                watchers.push((event.clone(), tokio::spawn(task)));
            }
        }
    }
    tokio::time::sleep(Duration::from_secs(2)).await;

    let started = Instant::now();
    let mut outcomes: HashMap<u16, u64> = HashMap::new();
    let mut booked: HashMap<String, u64> = HashMap::new();
    // Live bookings per event (booked minus cancelled): never more than its seats.
    let mut live: HashMap<String, i64> = HashMap::new();
    let mut cancelled = 0u64;
    let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / knobs.rate));
    let mut attempt = 0usize;
    let mut restarted = false;
    let mut last_report = Instant::now();
    let contact = |n: usize| {
        json!({"name": "Soak Learner", "email": format!("c{n}@contact-soak.org"),
               "phone": format!("+91 98{:08}", n % 100_000_000), "message": "soak"})
    };
    while started.elapsed() < Duration::from_secs(knobs.seconds) {
        tick.tick().await;
        if !restarted && started.elapsed() >= Duration::from_secs(knobs.seconds / 2) {
            restarted = true;
            println!("soak: restarting Redis");
            let redis = &mut processes.0[0];
            let _ = Command::new("kill")
                .args(["-TERM", &redis.id().to_string()])
                .status();
            let _ = redis.wait();
            tokio::time::sleep(Duration::from_secs(3)).await;
            processes.0[0] = self::redis(redis_port, dir.path());
        }
        let event = &events[attempt % events.len()];
        let learner = &learners[(attempt / events.len()) % learners.len()];
        let node = &nodes[attempt % 2];
        let (status, booking) = call(
            &http,
            learner,
            format!("{node}/api/events/{event}/book"),
            contact(attempt),
        )
        .await;
        *outcomes.entry(status).or_default() += 1;
        if status == 200 {
            *booked.entry(event.clone()).or_default() += 1;
            *live.entry(event.clone()).or_default() += 1;
            // Past half full, bookings are cancelled again, so seats keep changing hands for
            // the whole run (through the Redis restart) instead of running out early.
            let half_full = live[event] > knobs.slots as i64 / 2;
            if let (true, Some(lead_id)) = (half_full, booking["lead_id"].as_str()) {
                let other = &nodes[(attempt + 1) % 2];
                let url = format!("{other}/api/user/bookings/{lead_id}/cancel");
                if call(&http, learner, url, json!({})).await.0 == 200 {
                    cancelled += 1;
                    *live.entry(event.clone()).or_default() -= 1;
                }
            }
        }
        attempt += 1;
        if last_report.elapsed() >= Duration::from_secs(5) {
            last_report = Instant::now();
            println!(
                "soak: {:>4}s  attempts {attempt}  booked {}  delivered {}  resyncs {}  reconnects {}",
                started.elapsed().as_secs(),
                outcomes.get(&200).unwrap_or(&0),
                tally.delivered.load(Ordering::Relaxed),
                tally.resyncs.load(Ordering::Relaxed),
                tally.reconnects.load(Ordering::Relaxed),
            );
        }
    }
    let _ = stop.send(true);

    let mut correct = 0;
    let mut total = 0;
    for (event, task) in watchers {
        let seen = task.await.ok().flatten();
        let stored: Value = http
            .get(format!("{}/api/events/{event}", nodes[0]))
            .send()
            .await
            .expect("event")
            .json()
            .await
            .expect("event json");
        total += 1;
        if seen == stored["available_slots"].as_i64() {
            correct += 1;
        }
    }
    // Every booking and every cancellation moves the seat count once, seen on both nodes.
    let expected: u64 = (booked.values().sum::<u64>() + cancelled) * 2 * knobs.watchers as u64;
    println!("\nsoak results after {}s", started.elapsed().as_secs());
    println!("  booking attempts by status: {outcomes:?}");
    println!("  cancellations:              {cancelled}");
    let oversold = live.values().filter(|n| **n > knobs.slots as i64).count();
    println!("  oversold events:            {oversold}");
    println!(
        "  messages delivered:         {} of {expected} expected without resyncs",
        tally.delivered.load(Ordering::Relaxed)
    );
    println!(
        "  resyncs (snapshot instead of replay): {}",
        tally.resyncs.load(Ordering::Relaxed)
    );
    println!(
        "  reconnects:                 {}",
        tally.reconnects.load(Ordering::Relaxed)
    );
    println!(
        "  gaps inside an epoch:       {}",
        tally.gaps.load(Ordering::Relaxed)
    );
    println!("  watchers ending on the stored seat count: {correct}/{total}");
    if correct != total || oversold != 0 || tally.gaps.load(Ordering::Relaxed) != 0 {
        std::process::exit(1);
    }
}
