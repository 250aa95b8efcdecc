//! Soak (not a test): two nodes and a private Redis under booking load for a few minutes,
//! with a Redis restart halfway. Watchers on both nodes follow every event, reconnect with
//! `since` like the web app does, and at the end every watcher's last seat count is compared
//! with the store's. Reports messages delivered against expected; exits 1 on a mismatch.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::api::Api;
use crate::cluster::Cluster;
use crate::knobs::{Knob, Knobs};

pub const KNOBS: &[Knob] = &[
    Knob {
        name: "seconds",
        default: 180,
        help: "how long the booking load runs (Redis restarts halfway)",
    },
    Knob {
        name: "events",
        default: 10,
        help: "events, each with --slots seats",
    },
    Knob {
        name: "slots",
        default: 60,
        help: "seats per event",
    },
    Knob {
        name: "watchers",
        default: 5,
        help: "sockets per event on each node",
    },
    Knob {
        name: "rate",
        default: 20,
        help: "booking attempts per second, spread over both nodes",
    },
    Knob {
        name: "learners",
        default: 100,
        help: "learner accounts that book",
    },
];

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

/// Returns whether every check held.
pub async fn run(knobs: &Knobs) -> bool {
    let (seconds, slots, per_node) = (
        knobs.get("seconds"),
        knobs.get("slots") as i64,
        knobs.get("watchers") as usize,
    );
    let mut cluster = Cluster::leadbridge(2).await;
    let nodes = cluster.target.nodes.clone();
    println!("soak: nodes {} and {}", nodes[0], nodes[1]);
    let api = Api::default();
    let http = api.http.clone();
    let admin = api
        .login(&nodes[0], &cluster.target.admin.0, &cluster.target.admin.1)
        .await;
    let (mentor, _) = api.approved_mentor(&nodes[0], &admin, "soak").await;
    let mut events = Vec::new();
    for i in 0..knobs.get("events") {
        events.push(
            api.create_event(&nodes[0], &mentor, &format!("Soak {i}"), slots)
                .await,
        );
    }
    let learners: Vec<String> =
        futures_util::future::join_all((0..knobs.get("learners")).map(|n| {
            let (api, node) = (api.clone(), nodes[n as usize % 2].clone());
            async move {
                api.register(&node, &format!("learner{n}@soak.test"), "USER")
                    .await
            }
        }))
        .await;
    println!(
        "soak: {} events × {slots} seats, {} learners, {per_node} watchers per event per node",
        events.len(),
        learners.len()
    );

    let tally = Arc::new(Tally::default());
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut watchers = Vec::new();
    for event in &events {
        for node in &nodes {
            for _ in 0..per_node {
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
    let mut tick =
        tokio::time::interval(Duration::from_micros(1_000_000 / knobs.get("rate").max(1)));
    let mut attempt = 0usize;
    let mut restarted = false;
    let mut last_report = Instant::now();
    while started.elapsed() < Duration::from_secs(seconds) {
        tick.tick().await;
        if !restarted && started.elapsed() >= Duration::from_secs(seconds / 2) {
            restarted = true;
            println!("soak: restarting Redis");
            cluster.restart_redis(Duration::from_secs(3)).await;
        }
        let event = &events[attempt % events.len()];
        let learner = &learners[(attempt / events.len()) % learners.len()];
        let node = &nodes[attempt % 2];
        let (status, booking) = api.book(node, learner, event, attempt as u64).await;
        *outcomes.entry(status).or_default() += 1;
        if status == 200 {
            *booked.entry(event.clone()).or_default() += 1;
            *live.entry(event.clone()).or_default() += 1;
            // Past half full, bookings are cancelled again, so seats keep changing hands for
            // the whole run (through the Redis restart) instead of running out early.
            let half_full = live[event] > slots / 2;
            if let (true, Some(lead_id)) = (half_full, booking["lead_id"].as_str()) {
                let other = &nodes[(attempt + 1) % 2];
                let url = format!("{other}/api/user/bookings/{lead_id}/cancel");
                if api.post(learner, url, json!({})).await.0 == 200 {
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
    let expected: u64 = (booked.values().sum::<u64>() + cancelled) * 2 * per_node as u64;
    println!("\nsoak results after {}s", started.elapsed().as_secs());
    println!("  booking attempts by status: {outcomes:?}");
    println!("  cancellations:              {cancelled}");
    let oversold = live.values().filter(|n| **n > slots).count();
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
    correct == total && oversold == 0 && tally.gaps.load(Ordering::Relaxed) == 0
}
