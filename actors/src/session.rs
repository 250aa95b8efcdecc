//! One WebSocket session: a loop (the actix-ws way) that owns the socket and reacts to
//! client frames, deliveries from its topics, heartbeats, limits and control messages.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use actix::Addr;
use actix_ws::{CloseCode, CloseReason, Message as Frame, MessageStream, ProtocolError};
use async_trait::async_trait;
use bytestring::ByteString;
use futures_util::StreamExt;
use leadbridge_protocol::client::{ClientMessage, Since};
use leadbridge_protocol::close;
use leadbridge_protocol::server::ServerMessage;
use leadbridge_protocol::topic::Topic;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::access::{may_subscribe, Viewer};
use crate::bus::{Bus, History};
use crate::hub::{self, Hub};
use crate::publication::Publication;
use crate::sink::{SessionId, Sink};

/// Deliveries already queued that one wake-up sends before looking at anything else: one
/// less than actix-ws buffers per socket, so a full batch need not wait for the peer.
const DELIVERY_BATCH: usize = 31;

static NEXT_SESSION: AtomicU64 = AtomicU64::new(1);

/// How often a socket whose session outlived its expected end (used again meanwhile) looks
/// at the session again.
const SESSION_RECHECK: Duration = Duration::from_secs(60);

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
    /// How long one write may wait for the peer to read; longer means too slow (1013).
    pub write_timeout: Duration,
    /// Topics one socket may watch at once.
    pub max_subscriptions: usize,
    /// How long a user's last socket may be gone (a page reload) before what it held (an
    /// admin's review claims) is given back.
    pub reconnect_grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            heartbeat: Duration::from_secs(20),
            client_timeout: Duration::from_secs(60),
            max_frame: 64 * 1024,
            max_messages_per_second: 50,
            queue: 512,
            write_timeout: Duration::from_secs(5),
            max_subscriptions: 64,
            reconnect_grace: Duration::from_secs(10),
        }
    }
}

/// Re-checks, against the store, that a signed-in viewer may still be connected: after the
/// socket registered (a logout during the handshake) and on each private subscribe.
#[async_trait]
pub trait Gatekeeper: Send + Sync + 'static {
    /// `Some(close code)` when the viewer's session ended (4001) or access was revoked (4003).
    async fn revoked(&self, viewer: &Viewer) -> Option<u16>;
}

/// What a session needs from the node.
#[derive(Clone)]
pub struct Services {
    pub hub: Addr<Hub>,
    pub bus: Arc<dyn Bus>,
    pub snapshots: Arc<dyn Snapshots>,
    pub gatekeeper: Arc<dyn Gatekeeper>,
    pub limits: Limits,
}

/// Why the loop stops.
enum Stop {
    /// The peer is gone: nothing more can be sent.
    Gone,
    /// Close with this code.
    Close(u16),
}

/// The socket's write side. A write that waits longer than the limit means the peer stopped
/// reading: the session closes (1013) instead of parking, so control messages (logout,
/// revocation) and limits keep working.
struct Out {
    socket: actix_ws::Session,
    timeout: Duration,
    /// The last write had to wait for the peer: a batch of deliveries stops there, so
    /// close orders and the slow-consumer check are not held behind more waiting writes.
    waited: bool,
}

/// Runs one write, giving up after `limit`.
async fn within(
    limit: Duration,
    waited: &mut bool,
    write: impl std::future::Future<Output = Result<(), actix_ws::Closed>>,
) -> Result<(), Stop> {
    let mut write = std::pin::pin!(write);
    // Most writes complete at once (room in the socket's buffer): only one that has to
    // wait gets a timer, which would otherwise cost a timer-wheel entry per message.
    let at_once = std::future::poll_fn(|cx| Poll::Ready(write.as_mut().poll(cx))).await;
    *waited = at_once.is_pending();
    let written = match at_once {
        Poll::Ready(result) => Ok(result),
        Poll::Pending => tokio::time::timeout(limit, write).await,
    };
    match written {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) => Err(Stop::Gone),
        Err(_) => Err(Stop::Close(close::TRY_AGAIN_LATER)),
    }
}

impl Out {
    async fn text(&mut self, text: impl Into<ByteString>) -> Result<(), Stop> {
        within(self.timeout, &mut self.waited, self.socket.text(text)).await
    }

    async fn send(&mut self, message: ServerMessage) -> Result<(), Stop> {
        self.text(message.to_text()).await
    }

    async fn pong(&mut self, bytes: &[u8]) -> Result<(), Stop> {
        within(self.timeout, &mut self.waited, self.socket.pong(bytes)).await
    }

    async fn ping(&mut self) -> Result<(), Stop> {
        within(self.timeout, &mut self.waited, self.socket.ping(b"")).await
    }
}

/// Tells the hub the socket is gone even if the session task is dropped mid-way.
struct Registration {
    hub: Addr<Hub>,
    id: SessionId,
    armed: bool,
}

impl Drop for Registration {
    fn drop(&mut self) {
        if self.armed {
            self.hub.do_send(hub::Unregister { session: self.id });
        }
    }
}

/// Runs a socket until it closes. Returns how many sockets the viewer still has open on
/// this node (0 for anonymous ones), so the caller can release what a last socket held.
pub async fn run(
    socket: actix_ws::Session,
    mut stream: MessageStream,
    services: Services,
    viewer: Option<Viewer>,
    expires_at: Option<Instant>,
) -> usize {
    let id = NEXT_SESSION.fetch_add(1, Ordering::Relaxed);
    let limits = services.limits;
    let mut out = Out {
        socket,
        timeout: limits.write_timeout,
        waited: false,
    };
    let (queue, mut deliveries) = mpsc::channel(limits.queue);
    let sink = Sink {
        queue,
        stopper: Arc::default(),
    };
    let _ = services
        .hub
        .send(hub::Register {
            session: id,
            user_id: viewer.as_ref().map(|v| v.user_id.clone()),
            session_hash: viewer.as_ref().map(|v| v.session_hash.clone()),
            stopper: Arc::clone(&sink.stopper),
        })
        .await;
    let mut registration = Registration {
        hub: services.hub.clone(),
        id,
        armed: true,
    };
    // A logout or revocation between authentication and registration found no socket to
    // close; look again now that the hub knows this one.
    let revoked_meanwhile = match &viewer {
        Some(viewer) => services.gatekeeper.revoked(viewer).await,
        None => None,
    };

    let mut state = State {
        id,
        viewer,
        services: services.clone(),
        sink: sink.clone(),
        last_offsets: HashMap::new(),
    };
    // Reassigned, not shadowed: a second binding would keep a second copy in the task.
    stream = stream.max_frame_size(limits.max_frame);
    let mut heartbeat = tokio::time::interval(limits.heartbeat);
    heartbeat.tick().await;
    let mut last_heard = Instant::now();
    let mut window = (Instant::now(), 0u32);
    let expiry = tokio::time::sleep_until(
        expires_at.unwrap_or_else(|| Instant::now() + Duration::from_secs(86_400 * 365)),
    );
    tokio::pin!(expiry);

    let stop: Stop = match revoked_meanwhile {
        Some(code) => Stop::Close(code),
        None => loop {
            let step: Result<(), Stop> = tokio::select! {
                // Orders and overload first: they must not wait behind traffic.
                biased;
                code = sink.stopper.stopped() => Err(Stop::Close(code)),
                // The session's end, or its idle end: used meanwhile, it lives on (looked
                // at again a minute later), else the socket goes with it.
                _ = &mut expiry => match &state.viewer {
                    Some(viewer) => match services.gatekeeper.revoked(viewer).await {
                        Some(code) => Err(Stop::Close(code)),
                        None => {
                            expiry.as_mut().reset(Instant::now() + SESSION_RECHECK);
                            Ok(())
                        }
                    },
                    None => Err(Stop::Close(close::SESSION_ENDED)),
                },
                frame = stream.next() => match frame {
                    None => Err(Stop::Gone),
                    Some(Err(ProtocolError::Overflow)) => Err(Stop::Close(close::MESSAGE_TOO_BIG)),
                    Some(Err(e)) => {
                        tracing::debug!(error = %e, "websocket protocol error");
                        Err(Stop::Close(1002))
                    }
                    Some(Ok(frame)) => {
                        last_heard = Instant::now();
                        if window.0.elapsed() >= Duration::from_secs(1) {
                            window = (Instant::now(), 0);
                        }
                        window.1 += 1;
                        if window.1 > limits.max_messages_per_second {
                            Err(Stop::Close(close::POLICY_VIOLATION))
                        } else {
                            match frame {
                                // Boxed: handling a subscribe is a large future, and keeping it inline would
                                // make every idle socket's task that large too.
                                Frame::Text(text) => Box::pin(state.on_text(&mut out, &text)).await,
                                Frame::Binary(_) | Frame::Continuation(_) => {
                                    out.send(ServerMessage::error("BAD_MESSAGE", "send JSON text frames", None)).await
                                }
                                Frame::Ping(bytes) => out.pong(&bytes).await,
                                // Answered with a close of our own, as RFC 6455 asks.
                                Frame::Close(_) => Err(Stop::Close(close::NORMAL)),
                                Frame::Pong(_) | Frame::Nop => Ok(()),
                            }
                        }
                    }
                },
                Some(publication) = deliveries.recv() => {
                    // Whatever else is already queued goes out in the same turn, without
                    // another pass through every branch of this select.
                    let mut sent = state.deliver(&mut out, &publication).await;
                    for _ in 0..DELIVERY_BATCH {
                        if sent.is_err() || out.waited {
                            break;
                        }
                        let Ok(next) = deliveries.try_recv() else { break };
                        sent = state.deliver(&mut out, &next).await;
                    }
                    sent
                }
                _ = heartbeat.tick() => {
                    if last_heard.elapsed() > limits.client_timeout {
                        Err(Stop::Close(close::IDLE_TIMEOUT))
                    } else {
                        out.ping().await
                    }
                }
            };
            if let Err(stop) = step {
                break stop;
            }
        },
    };

    let remaining = services
        .hub
        .send(hub::Unregister { session: id })
        .await
        .unwrap_or(0);
    // Only now: if this task is dropped while waiting above, the guard still unregisters.
    registration.armed = false;
    if let Stop::Close(code) = stop {
        let reason = CloseReason {
            code: CloseCode::from(code),
            description: Some(close::reason(code).to_string()),
        };
        // A peer that stopped reading cannot take the close frame either; do not wait for it.
        let _ = tokio::time::timeout(limits.write_timeout, out.socket.close(Some(reason))).await;
    }
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

impl State {
    async fn deliver(&mut self, out: &mut Out, publication: &Publication) -> Result<(), Stop> {
        match self.last_offsets.get_mut(&publication.topic) {
            Some(last) if publication.offset > *last => {
                *last = publication.offset;
                out.text(publication.frame.clone()).await
            }
            _ => Ok(()),
        }
    }

    async fn on_text(&mut self, out: &mut Out, text: &str) -> Result<(), Stop> {
        match ClientMessage::parse(text) {
            Err(e) => {
                out.send(ServerMessage::error(
                    "BAD_MESSAGE",
                    format!("not a client message: {}", e.0),
                    None,
                ))
                .await
            }
            Ok(ClientMessage::Ping) => out.send(ServerMessage::Pong).await,
            Ok(ClientMessage::Unknown) => {
                out.send(ServerMessage::error(
                    "UNKNOWN_TYPE",
                    "type must be subscribe, unsubscribe or ping",
                    None,
                ))
                .await
            }
            Ok(ClientMessage::Unsubscribe { topic: name }) => {
                let Ok(topic) = name.parse::<Topic>() else {
                    return out
                        .send(ServerMessage::error(
                            "BAD_TOPIC",
                            "unknown topic",
                            Some(&name),
                        ))
                        .await;
                };
                self.last_offsets.remove(&topic);
                self.services.hub.do_send(hub::Unsubscribe {
                    session: self.id,
                    topic,
                });
                out.send(ServerMessage::Unsubscribed { topic: name }).await
            }
            Ok(ClientMessage::Subscribe { topic: name, since }) => {
                self.subscribe(out, name, since).await
            }
        }
    }

    /// Registers for live deliveries first, then sends what the client missed (or a
    /// snapshot): whatever is published meanwhile waits in the queue and is de-duplicated
    /// by offset, so the client sees no gap and no repeat.
    async fn subscribe(
        &mut self,
        out: &mut Out,
        name: String,
        since: Option<Since>,
    ) -> Result<(), Stop> {
        let topic = match name.parse::<Topic>() {
            Ok(topic) => topic,
            Err(e) => {
                return out
                    .send(ServerMessage::error(
                        "BAD_TOPIC",
                        e.to_string(),
                        Some(&name),
                    ))
                    .await
            }
        };
        if !may_subscribe(self.viewer.as_ref(), &topic) {
            let message = if self.viewer.is_none() {
                "sign in to watch this topic"
            } else {
                "you may not watch this topic"
            };
            return out
                .send(ServerMessage::error("FORBIDDEN", message, Some(&name)))
                .await;
        }
        if !topic.is_public() {
            if let Some(viewer) = &self.viewer {
                if let Some(code) = self.services.gatekeeper.revoked(viewer).await {
                    return Err(Stop::Close(code));
                }
            }
        }
        if self.last_offsets.contains_key(&topic) {
            return out
                .send(ServerMessage::error(
                    "ALREADY_SUBSCRIBED",
                    "unsubscribe first to start over",
                    Some(&name),
                ))
                .await;
        }
        if self.last_offsets.len() >= self.services.limits.max_subscriptions {
            return out
                .send(ServerMessage::error(
                    "TOO_MANY_SUBSCRIPTIONS",
                    format!(
                        "at most {} topics per socket",
                        self.services.limits.max_subscriptions
                    ),
                    Some(&name),
                ))
                .await;
        }
        let registered = self
            .services
            .hub
            .send(hub::Subscribe {
                session: self.id,
                topic: topic.clone(),
                sink: self.sink.clone(),
            })
            .await;
        if !matches!(registered, Ok(Ok(()))) {
            self.services.hub.do_send(hub::Unsubscribe {
                session: self.id,
                topic,
            });
            return out
                .send(ServerMessage::error(
                    "UNAVAILABLE",
                    "live updates are unavailable right now; try again",
                    Some(&name),
                ))
                .await;
        }
        match self.catch_up(&topic, since).await {
            Ok((subscribed, replay, last)) => {
                self.last_offsets.insert(topic, last);
                out.send(subscribed).await?;
                for publication in replay {
                    out.text(publication.frame.clone()).await?;
                }
                Ok(())
            }
            Err(message) => {
                self.services.hub.do_send(hub::Unsubscribe {
                    session: self.id,
                    topic,
                });
                out.send(ServerMessage::error("UNAVAILABLE", message, Some(&name)))
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
