//! Booking → mentor feed: how long after a learner's booking request leaves the generator
//! the mentor's socket has its `lead_created`, on one node and across two (Redis). The
//! server publishes before it answers, so the frame often arrives before the response.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

use crate::api::Api;
use crate::cluster::Cluster;
use crate::histogram::Histogram;
use crate::knobs::{Knob, Knobs};

pub const KNOBS: &[Knob] = &[
    Knob {
        name: "bookings",
        default: 200,
        help: "bookings measured on each setup (one learner, one event each)",
    },
    Knob {
        name: "rate",
        default: 20,
        help: "bookings per second",
    },
];

/// Books `count` times on the first node while the mentor watches on the last node;
/// answers (booking → lead_created, booking → response) histograms.
pub async fn measure(cluster: &Cluster, count: usize, rate: u64) -> (Histogram, Histogram) {
    let target = &cluster.target;
    let api = Api::default();
    let first = &target.nodes[0];
    let last = target.nodes.len() - 1;
    let admin = api.login(first, &target.admin.0, &target.admin.1).await;
    let (mentor, mentor_id) = api.approved_mentor(first, &admin, "feed").await;
    let learner = api.register(first, "learner-feed@bench.test", "USER").await;
    let mut events = Vec::with_capacity(count);
    for i in 0..count {
        events.push(
            api.create_event(first, &mentor, &format!("Feed {i}"), 10)
                .await,
        );
    }
    let url = format!("{}?token={mentor}", target.ws(last));
    let (mut socket, _) = tokio_tungstenite::connect_async(url.as_str())
        .await
        .expect("mentor socket");
    let subscribe = format!(r#"{{"type":"subscribe","topic":"mentor:{mentor_id}"}}"#);
    socket
        .send(Message::text(subscribe))
        .await
        .expect("subscribe");
    let (arrivals, mut arrived) = mpsc::unbounded_channel::<(String, Instant)>();
    let reader = tokio::spawn(async move {
        while let Some(Ok(message)) = socket.next().await {
            let Message::Text(text) = message else {
                continue;
            };
            if !text.contains("\"lead_created\"") {
                continue;
            }
            let frame: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
            if let Some(lead_id) = frame["event"]["lead"]["lead_id"].as_str() {
                let _ = arrivals.send((lead_id.to_string(), Instant::now()));
            }
        }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (to_feed, to_response) = (Histogram::default(), Histogram::default());
    let mut seen: HashMap<String, Instant> = HashMap::new();
    let mut tick = tokio::time::interval(Duration::from_nanos(1_000_000_000 / rate.max(1)));
    for (i, event_id) in events.iter().enumerate() {
        tick.tick().await;
        let started = Instant::now();
        let (status, body) = api.book(first, &learner, event_id, i as u64).await;
        to_response.record(started.elapsed());
        let Some(lead_id) = body["lead_id"].as_str().filter(|_| status == 200) else {
            println!("  booking {i} answered {status}: {body}");
            continue;
        };
        let deadline = Instant::now() + Duration::from_secs(5);
        while !seen.contains_key(lead_id) {
            match tokio::time::timeout_at(deadline.into(), arrived.recv()).await {
                Ok(Some((id, at))) => {
                    seen.insert(id, at);
                }
                _ => break,
            }
        }
        match seen.get(lead_id) {
            Some(at) => to_feed.record(at.saturating_duration_since(started)),
            None => println!("  booking {i}: no lead_created within 5 s"),
        }
    }
    reader.abort();
    (to_feed, to_response)
}

pub async fn run(knobs: &Knobs) {
    let count = knobs.get("bookings") as usize;
    println!("| nodes | booking → lead_created | booking → response |");
    println!("|---|---|---|");
    for nodes in [1, 2] {
        let cluster = Cluster::leadbridge(nodes).await;
        let (feed, response) = measure(&cluster, count, knobs.get("rate")).await;
        println!("| {nodes} | {} | {} |", feed.summary(), response.summary());
    }
}
