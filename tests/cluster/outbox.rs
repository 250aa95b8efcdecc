//! The outbox across processes: a change committed by a node that dies before announcing it
//! is announced by whoever relays next, and with two nodes each change is announced once.

use reqwest::StatusCode;
use serde_json::json;

use crate::common::redis::RedisServer;
use crate::common::ws::{connect, Auth};
use crate::two_nodes;

/// A TCP relay to Redis that the test can cut: the node behind it loses Redis while Redis
/// itself (and its epoch) carries on for everyone else.
struct Cable {
    url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Cable {
    async fn to(redis: &RedisServer) -> Self {
        let upstream = redis.url().trim_start_matches("redis://").to_string();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("redis://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let mut links = tokio::task::JoinSet::new();
            while let Ok((mut client, _)) = listener.accept().await {
                let upstream = upstream.clone();
                links.spawn(async move {
                    if let Ok(mut server) = tokio::net::TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
            }
        });
        Self { url, task }
    }

    /// Drops every connection through it and refuses new ones.
    fn cut(self) {
        self.task.abort();
    }
}

#[tokio::test]
async fn a_booking_committed_by_a_node_killed_before_announcing_it_still_reaches_its_watcher() {
    let redis = RedisServer::start();
    let cable = Cable::to(&redis).await;
    let mut a = crate::common::spawn_app_with(&[("LEADBRIDGE_REDIS_URL", &redis.url())]).await;
    a.vars
        .insert("LEADBRIDGE_REDIS_URL".into(), cable.url.clone());
    let mut b = a.process_sibling().await;
    a.vars.insert("LEADBRIDGE_REDIS_URL".into(), redis.url());
    let admin = a.admin().await;
    let (mentor, _) = a.approved_mentor(&admin).await;
    let event_id = a.create_event(&mentor, 5, 500).await;
    let topic = format!("event:{event_id}");
    let learner = b.learner().await;
    let second = b.learner().await;
    // Only B is left to commit and relay.
    a.stop().await;

    let mut watcher = connect(&b, Auth::Anonymous).await;
    let subscribed = watcher.subscribe(&topic).await;
    assert_eq!(b.book(&learner, &event_id).await.0, StatusCode::OK);
    let first = watcher.event("slots_changed").await;
    assert_eq!(first["event"]["available_slots"], 4, "B relays: {first}");
    let epoch = subscribed["epoch"].as_str().unwrap().to_string();
    let offset = first["offset"].as_u64().unwrap();
    drop(watcher);

    // B loses Redis, commits the next booking, cannot announce it, and dies.
    cable.cut();
    let (status, body) = b.book(&second, &event_id).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    b.kill();

    // A node started on the same data finds the change in the outbox and announces it
    // (once B's lease has run out). A client that resumes from where it was gets it as a
    // message, in order, within the same history: nothing silently missed.
    let c = a.process_sibling().await;
    c.settled().await;
    let mut back = connect(&c, Auth::Anonymous).await;
    back.send(
        json!({"type": "subscribe", "topic": topic, "since": {"offset": offset, "epoch": epoch}}),
    )
    .await;
    let resumed = back.until(|f| f["type"] == "subscribed").await;
    assert_eq!(resumed["recovered"], true, "{resumed}");
    let missed = back.event("slots_changed").await;
    assert_eq!(missed["event"]["available_slots"], 3, "{missed}");
    assert_eq!(missed["offset"], offset + 1);
}

#[tokio::test]
async fn with_two_nodes_each_change_is_announced_once() {
    let redis = RedisServer::start();
    let (a, b) = two_nodes(&redis, &[]).await;
    let admin = a.admin().await;
    let (mentor, _) = a.approved_mentor(&admin).await;
    let event_id = a.create_event(&mentor, 20, 500).await;

    let mut learners = Vec::new();
    let mut sockets = Vec::new();
    for i in 0..6 {
        let node = if i % 2 == 0 { &a } else { &b };
        let learner = node.learner().await;
        let mut socket = connect(&b, Auth::Bearer(&learner.access_token)).await;
        socket.subscribe(&format!("user:{}", learner.user_id)).await;
        sockets.push(socket);
        learners.push((learner, node));
    }
    for (learner, node) in &learners {
        assert_eq!(node.book(learner, &event_id).await.0, StatusCode::OK);
    }
    for socket in &mut sockets {
        socket.event("booking_updated").await;
    }
    // A last booking, relayed after all of the above: any second relay's copies would be
    // published by now.
    let marker = a.learner().await;
    let mut marker_socket = connect(&b, Auth::Bearer(&marker.access_token)).await;
    marker_socket
        .subscribe(&format!("user:{}", marker.user_id))
        .await;
    assert_eq!(a.book(&marker, &event_id).await.0, StatusCode::OK);
    marker_socket.event("booking_updated").await;
    for socket in &mut sockets {
        let repeats: Vec<_> = socket
            .drain()
            .await
            .into_iter()
            .filter(|f| f["event"]["type"] == "booking_updated")
            .collect();
        assert!(repeats.is_empty(), "announced twice: {repeats:?}");
    }
}
