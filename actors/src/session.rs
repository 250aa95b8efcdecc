//! One WebSocket session: a loop (the actix-ws way) that owns the socket and reacts to
//! client frames, deliveries from its topics, heartbeats, limits and control messages.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use actix::Addr;
use actix_ws::{CloseCode, CloseReason, Message as Frame, MessageStream, ProtocolError};
use async_trait::async_trait;
use futures_util::StreamExt;
use leadbridge_protocol::client::{ClientMessage, Since};
use leadbridge_protocol::close;
use leadbridge_protocol::server::ServerMessage;
use leadbridge_protocol::topic::Topic;
use tokio::sync::{mpsc, Notify};
use tokio::time::Instant;

use crate::access::{may_subscribe, Viewer};
use crate::bus::{Bus, History, Publication};
use crate::hub::{self, Hub};

pub type SessionId = u64;

static NEXT_SESSION: AtomicU64 = AtomicU64::new(1);

/// Where a topic actor puts a session's deliveries: a bounded queue, and the signal that
/// the queue overflowed.
#[derive(Clone)]
pub struct Sink {
    pub queue: mpsc::Sender<Arc<Publication>>,
    pub too_slow: Arc<Notify>,
}

/// Orders from the hub to a session.
#[derive(Debug, Clone, Copy)]
pub enum Control {
    Close(u16),
}

/// Reads a topic's current state from the store for `subscribed` snapshots.
#[async_trait]
pub trait Snapshots: Send + Sync + 'static {
    async fn snapshot(&self, topic: &Topic) -> Result<serde_json::Value, String>;
}

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// How often the server pings.
    pub heartbeat: Duration,
    /// Silence after which a peer counts as dead.
    pub client_timeout: Duration,
    /// Largest accepted frame (bytes); larger closes with 1009.
    pub max_frame: usize,
    /// Client messages allowed per second; more closes with 1008.
    pub max_messages_per_second: u32,
    /// Deliveries a session may have queued before it counts as too slow (1013).
    pub queue: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            heartbeat: Duration::from_secs(20),
            client_timeout: Duration::from_secs(60),
            max_frame: 64 * 1024,
            max_messages_per_second: 50,
            queue: 512,
        }
    }
}

/// What a session needs from the node.
#[derive(Clone)]
pub struct Services {
    pub hub: Addr<Hub>,
    pub bus: Arc<dyn Bus>,
    pub snapshots: Arc<dyn Snapshots>,
    pub limits: Limits,
}

/// Runs a socket until it closes. Returns how many sockets the viewer still has open on
/// this node (0 for anonymous ones), so the caller can release what a last socket held.
pub async fn run(
    mut socket: actix_ws::Session,
    stream: MessageStream,
    services: Services,
    viewer: Option<Viewer>,
    expires_at: Option<Instant>,
) -> usize {
    let id = NEXT_SESSION.fetch_add(1, Ordering::Relaxed);
    let limits = services.limits;
    let (queue, mut deliveries) = mpsc::channel(limits.queue);
    let sink = Sink {
        queue,
        too_slow: Arc::new(Notify::new()),
    };
    let (control, mut controls) = mpsc::channel(4);
    let _ = services
        .hub
        .send(hub::Register {
            session: id,
            user_id: viewer.as_ref().map(|v| v.user_id.clone()),
            session_hash: viewer.as_ref().map(|v| v.session_hash.clone()),
            control,
        })
        .await;

    let mut state = State {
        id,
        viewer,
        services: services.clone(),
        sink: sink.clone(),
        last_offsets: HashMap::new(),
    };
    let mut stream = stream.max_frame_size(limits.max_frame);
    let mut heartbeat = tokio::time::interval(limits.heartbeat);
    heartbeat.tick().await;
    let mut last_heard = Instant::now();
    let mut window = (Instant::now(), 0u32);
    let expiry = tokio::time::sleep_until(
        expires_at.unwrap_or_else(|| Instant::now() + Duration::from_secs(86_400 * 365)),
    );
    tokio::pin!(expiry);

    let code: Option<u16> = loop {
        tokio::select! {
            frame = stream.next() => match frame {
                None => break None,
                Some(Err(ProtocolError::Overflow)) => break Some(close::MESSAGE_TOO_BIG),
                Some(Err(e)) => {
                    tracing::debug!(error = %e, "websocket protocol error");
                    break Some(1002);
                }
                Some(Ok(frame)) => {
                    last_heard = Instant::now();
                    match frame {
                        Frame::Text(text) => {
                            if window.0.elapsed() >= Duration::from_secs(1) {
                                window = (Instant::now(), 0);
                            }
                            window.1 += 1;
                            if window.1 > limits.max_messages_per_second {
                                break Some(close::POLICY_VIOLATION);
                            }
                            if state.on_text(&mut socket, &text).await.is_err() {
                                break None;
                            }
                        }
                        Frame::Binary(_) | Frame::Continuation(_) => {
                            let error = ServerMessage::error("BAD_MESSAGE", "send JSON text frames", None);
                            if socket.text(error.to_text()).await.is_err() {
                                break None;
                            }
                        }
                        Frame::Ping(bytes) => {
                            if socket.pong(&bytes).await.is_err() {
                                break None;
                            }
                        }
                        Frame::Close(_) => break None,
                        Frame::Pong(_) | Frame::Nop => {}
                    }
                }
            },
            Some(publication) = deliveries.recv() => {
                if state.deliver(&mut socket, &publication).await.is_err() {
                    break None;
                }
            }
            _ = sink.too_slow.notified() => break Some(close::TRY_AGAIN_LATER),
            Some(Control::Close(code)) = controls.recv() => break Some(code),
            _ = heartbeat.tick() => {
                if last_heard.elapsed() > limits.client_timeout {
                    break Some(close::IDLE_TIMEOUT);
                }
                if socket.ping(b"").await.is_err() {
                    break None;
                }
            }
            _ = &mut expiry => break Some(close::SESSION_ENDED),
        }
    };

    let remaining = services
        .hub
        .send(hub::Unregister { session: id })
        .await
        .unwrap_or(0);
    let reason = code.map(|code| CloseReason {
        code: CloseCode::from(code),
        description: Some(close::reason(code).to_string()),
    });
    let _ = socket.close(reason).await;
    remaining
}

struct State {
    id: SessionId,
    viewer: Option<Viewer>,
    services: Services,
    sink: Sink,
    /// Per subscribed topic, the offset of the last message sent: deliveries at or below it
    /// were already sent (from history) and are dropped, so there is no duplicate.
    last_offsets: HashMap<Topic, u64>,
}

/// The socket is gone; stop.
struct Gone;

impl State {
    async fn send(
        &self,
        socket: &mut actix_ws::Session,
        message: ServerMessage,
    ) -> Result<(), Gone> {
        socket.text(message.to_text()).await.map_err(|_| Gone)
    }

    async fn deliver(
        &mut self,
        socket: &mut actix_ws::Session,
        publication: &Publication,
    ) -> Result<(), Gone> {
        match self.last_offsets.get_mut(&publication.topic) {
            Some(last) if publication.offset > *last => {
                *last = publication.offset;
                socket
                    .text(publication.frame.clone())
                    .await
                    .map_err(|_| Gone)
            }
            _ => Ok(()),
        }
    }

    async fn on_text(&mut self, socket: &mut actix_ws::Session, text: &str) -> Result<(), Gone> {
        match ClientMessage::parse(text) {
            Err(e) => {
                self.send(
                    socket,
                    ServerMessage::error(
                        "BAD_MESSAGE",
                        format!("not a client message: {}", e.0),
                        None,
                    ),
                )
                .await
            }
            Ok(ClientMessage::Ping) => self.send(socket, ServerMessage::Pong).await,
            Ok(ClientMessage::Unknown) => {
                self.send(
                    socket,
                    ServerMessage::error(
                        "UNKNOWN_TYPE",
                        "type must be subscribe, unsubscribe or ping",
                        None,
                    ),
                )
                .await
            }
            Ok(ClientMessage::Unsubscribe { topic: name }) => {
                let Ok(topic) = name.parse::<Topic>() else {
                    return self
                        .send(
                            socket,
                            ServerMessage::error("BAD_TOPIC", "unknown topic", Some(&name)),
                        )
                        .await;
                };
                self.last_offsets.remove(&topic);
                self.services.hub.do_send(hub::Unsubscribe {
                    session: self.id,
                    topic,
                });
                self.send(socket, ServerMessage::Unsubscribed { topic: name })
                    .await
            }
            Ok(ClientMessage::Subscribe { topic: name, since }) => {
                self.subscribe(socket, name, since).await
            }
        }
    }

    /// Registers for live deliveries first, then sends what the client missed (or a
    /// snapshot): whatever is published meanwhile waits in the queue and is de-duplicated
    /// by offset, so the client sees no gap and no repeat.
    async fn subscribe(
        &mut self,
        socket: &mut actix_ws::Session,
        name: String,
        since: Option<Since>,
    ) -> Result<(), Gone> {
        let topic = match name.parse::<Topic>() {
            Ok(topic) => topic,
            Err(e) => {
                return self
                    .send(
                        socket,
                        ServerMessage::error("BAD_TOPIC", e.to_string(), Some(&name)),
                    )
                    .await
            }
        };
        if !may_subscribe(self.viewer.as_ref(), &topic) {
            let message = if self.viewer.is_none() {
                "sign in to watch this topic"
            } else {
                "you may not watch this topic"
            };
            return self
                .send(
                    socket,
                    ServerMessage::error("FORBIDDEN", message, Some(&name)),
                )
                .await;
        }
        if self.last_offsets.contains_key(&topic) {
            return self
                .send(
                    socket,
                    ServerMessage::error(
                        "ALREADY_SUBSCRIBED",
                        "unsubscribe first to start over",
                        Some(&name),
                    ),
                )
                .await;
        }
        if self
            .services
            .hub
            .send(hub::Subscribe {
                session: self.id,
                topic: topic.clone(),
                sink: self.sink.clone(),
            })
            .await
            .is_err()
        {
            return self
                .send(
                    socket,
                    ServerMessage::error("UNAVAILABLE", "realtime hub is down", Some(&name)),
                )
                .await;
        }
        match self.catch_up(&topic, since).await {
            Ok((subscribed, replay, last)) => {
                self.last_offsets.insert(topic, last);
                self.send(socket, subscribed).await?;
                for publication in replay {
                    socket
                        .text(publication.frame.clone())
                        .await
                        .map_err(|_| Gone)?;
                }
                Ok(())
            }
            Err(message) => {
                self.services.hub.do_send(hub::Unsubscribe {
                    session: self.id,
                    topic,
                });
                self.send(
                    socket,
                    ServerMessage::error("UNAVAILABLE", message, Some(&name)),
                )
                .await
            }
        }
    }

    /// The `subscribed` frame, the messages to replay, and the offset reached.
    async fn catch_up(
        &self,
        topic: &Topic,
        since: Option<Since>,
    ) -> Result<(ServerMessage, Vec<Publication>, u64), String> {
        let bus = &self.services.bus;
        if let Some(since) = since {
            if let History::Complete(replay) =
                bus.since(topic, &since).await.map_err(|e| e.to_string())?
            {
                let last = replay.last().map_or(since.offset, |p| p.offset);
                let subscribed = ServerMessage::Subscribed {
                    topic: topic.to_string(),
                    offset: since.offset,
                    epoch: since.epoch,
                    recovered: true,
                    snapshot: None,
                };
                return Ok((subscribed, replay, last));
            }
        }
        // Position first, then the snapshot: anything published in between is both in the
        // snapshot and delivered after it, which is harmless (events carry absolute state).
        let position = bus.position(topic).await.map_err(|e| e.to_string())?;
        let snapshot = self.services.snapshots.snapshot(topic).await?;
        let subscribed = ServerMessage::Subscribed {
            topic: topic.to_string(),
            offset: position.offset,
            epoch: position.epoch,
            recovered: false,
            snapshot: Some(snapshot),
        };
        Ok((subscribed, Vec::new(), position.offset))
    }
}
