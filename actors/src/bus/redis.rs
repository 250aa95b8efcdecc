//! The bus between nodes. Redis keeps each topic's offset, epoch and history, changed
//! together in one Lua script per operation; live publications travel on pub/sub, one
//! channel per topic, which a node subscribes to only while it has watchers.
//!
//! Pub/sub itself is at-most-once: a node that loses its link may have missed messages.
//! So losing the link closes this node's sockets (1012: reconnect with `since`), and a
//! publish that failed changes the epoch before anyone can recover across the gap.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use actix::Addr;
use async_trait::async_trait;
use futures_util::StreamExt;
use leadbridge_protocol::client::Since;
use leadbridge_protocol::close;
use leadbridge_protocol::event::Event;
use leadbridge_protocol::server::ServerMessage;
use leadbridge_protocol::topic::Topic;
use redis::aio::{ConnectionManager, ConnectionManagerConfig, PubSubSink, PubSubStream};
use redis::{Msg, Script};
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};

use super::{
    new_epoch, Bus, BusError, Deliver, History, HistoryLimits, Position, Publication, Ready,
};
use crate::hub::{CloseSockets, ConnectedUsers, Hub, Selector};

const EPOCH_KEY: &str = "leadbridge:epoch";
const CONTROL: &str = "leadbridge:control";
const NODES: &str = "leadbridge:nodes";
const PRESENCE: &str = "leadbridge:presence:";
/// How long a node counts as alive after its last heartbeat (housekeeping, every few s).
const PRESENCE_TTL_SECONDS: i64 = 15;
/// How long one Redis call may take before the bus counts as unavailable.
const TIMEOUT: Duration = Duration::from_secs(2);
const MAX_BACKOFF: Duration = Duration::from_secs(2);

fn offset_key(topic: &Topic) -> String {
    format!("leadbridge:offset:{topic}")
}

fn history_key(topic: &Topic) -> String {
    format!("leadbridge:history:{topic}")
}

fn channel(topic: &Topic) -> String {
    format!("leadbridge:topic:{topic}")
}

/// What nodes tell each other on the control channel.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Control {
    /// The history started over (Redis lost it, or a node rotated it after a failed publish).
    Epoch(String),
    /// Close these sockets (logout, revoked access) wherever they are.
    Close {
        from: String,
        selector: Selector,
        code: u16,
    },
}

struct Scripts {
    publish: Script,
    position: Script,
    since: Script,
    epoch: Script,
    rotate: Script,
    elsewhere: Script,
}

impl Scripts {
    fn new() -> Self {
        let common = include_str!("lua/common.lua");
        let with_common = |body: &str| Script::new(&format!("{common}{body}"));
        Self {
            publish: with_common(include_str!("lua/publish.lua")),
            position: with_common(include_str!("lua/position.lua")),
            since: with_common(include_str!("lua/since.lua")),
            epoch: with_common(include_str!("lua/epoch.lua")),
            rotate: Script::new(include_str!("lua/rotate.lua")),
            elsewhere: Script::new(include_str!("lua/elsewhere.lua")),
        }
    }
}

enum Command {
    Watch(Topic, oneshot::Sender<Result<(), BusError>>),
    Unwatch(Topic),
}

pub struct RedisBus {
    inner: Arc<Inner>,
}

struct Inner {
    node: String,
    limits: HistoryLimits,
    connection: ConnectionManager,
    scripts: Scripts,
    /// The epoch this node's sockets were given. Seeing another means they may have a gap.
    epoch: Mutex<Option<String>>,
    /// Whether the pub/sub link is up (publications from other nodes arrive).
    linked: AtomicBool,
    /// A publish failed, so the history may lack a message: the epoch changes before the
    /// history is used again.
    gap: AtomicBool,
    hub: OnceLock<Addr<Hub>>,
    commands: mpsc::UnboundedSender<Command>,
}

fn unavailable(e: impl std::fmt::Display) -> BusError {
    BusError(e.to_string())
}

impl RedisBus {
    /// Connects to Redis and starts the pub/sub link; fails if Redis cannot be reached now.
    pub async fn connect(url: &str, limits: HistoryLimits) -> Result<Self, BusError> {
        let client = redis::Client::open(url).map_err(unavailable)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(TIMEOUT)
            .set_response_timeout(TIMEOUT)
            .set_number_of_retries(1)
            .set_max_delay(MAX_BACKOFF.as_millis() as u64);
        let connection = tokio::time::timeout(
            TIMEOUT,
            ConnectionManager::new_with_config(client.clone(), config),
        )
        .await
        .map_err(|_| BusError(format!("no answer from Redis at {url}")))?
        .map_err(unavailable)?;
        let (commands, receiver) = mpsc::unbounded_channel();
        let inner = Arc::new(Inner {
            node: format!("node-{}", new_epoch()),
            limits,
            connection,
            scripts: Scripts::new(),
            epoch: Mutex::new(None),
            linked: AtomicBool::new(false),
            gap: AtomicBool::new(false),
            hub: OnceLock::new(),
            commands,
        });
        let (first, linked) = oneshot::channel();
        tokio::spawn(link(Arc::downgrade(&inner), client, receiver, first));
        linked
            .await
            .map_err(|_| BusError("the pub/sub link stopped".into()))??;
        inner.heartbeat(&HashSet::new()).await?;
        Ok(Self { inner })
    }
}

impl Inner {
    fn connection(&self) -> ConnectionManager {
        self.connection.clone()
    }

    fn hub(&self) -> Option<&Addr<Hub>> {
        self.hub.get()
    }

    /// Notes the epoch Redis answered with. A change means sockets given the old one may
    /// have missed messages: they are closed and come back with `since`.
    fn observe(&self, epoch: &str) {
        let changed = {
            let Ok(mut known) = self.epoch.lock() else {
                return;
            };
            let changed = known.as_deref().is_some_and(|k| k != epoch);
            if known.as_deref() != Some(epoch) {
                *known = Some(epoch.to_string());
            }
            changed
        };
        if changed {
            tracing::warn!(
                epoch,
                "realtime history started over; sockets resynchronise"
            );
            self.interrupt();
        }
    }

    /// Closes every socket on this node: they may have a gap.
    fn interrupt(&self) {
        if let Some(hub) = self.hub() {
            hub.do_send(CloseSockets {
                selector: Selector::All,
                code: close::SERVICE_RESTART,
            });
        }
    }

    /// After a failed publish, moves the history to a new epoch so nobody recovers across
    /// the message that may be missing.
    async fn heal(&self) -> Result<(), BusError> {
        if !self.gap.load(Ordering::SeqCst) {
            return Ok(());
        }
        let epoch = new_epoch();
        let _: String = self
            .scripts
            .rotate
            .key(EPOCH_KEY)
            .arg(&epoch)
            .arg(CONTROL)
            .invoke_async(&mut self.connection())
            .await
            .map_err(unavailable)?;
        self.gap.store(false, Ordering::SeqCst);
        tracing::info!(%epoch, "realtime history moved to a new epoch after a failed publish");
        self.observe(&epoch);
        Ok(())
    }

    async fn publish(&self, topic: &Topic, event: &Event) -> Result<Position, BusError> {
        if !self.linked.load(Ordering::SeqCst) {
            return Err(BusError("no link to Redis".into()));
        }
        self.heal().await?;
        let json = serde_json::to_string(event).map_err(unavailable)?;
        let (epoch, offset): (String, u64) = self
            .scripts
            .publish
            .key(EPOCH_KEY)
            .key(offset_key(topic))
            .key(history_key(topic))
            .arg(new_epoch())
            .arg(CONTROL)
            .arg(channel(topic))
            .arg(json)
            .arg(self.limits.max_messages)
            .arg(self.limits.max_age.as_millis() as u64)
            .invoke_async(&mut self.connection())
            .await
            .map_err(unavailable)?;
        self.observe(&epoch);
        Ok(Position { offset, epoch })
    }

    /// Tells other nodes which signed-in users have sockets here (replacing what it said
    /// before), and that this node is alive.
    async fn heartbeat(&self, users: &HashSet<String>) -> Result<(), BusError> {
        let key = format!("{PRESENCE}{}", self.node);
        let mut pipe = redis::pipe();
        pipe.atomic()
            .del(&key)
            .ignore()
            // A marker member, so a node without users still shows as alive.
            .sadd(&key, "*")
            .ignore();
        if !users.is_empty() {
            pipe.sadd(&key, users.iter().collect::<Vec<_>>()).ignore();
        }
        pipe.expire(&key, PRESENCE_TTL_SECONDS)
            .ignore()
            .sadd(NODES, &self.node)
            .ignore();
        pipe.query_async::<()>(&mut self.connection())
            .await
            .map_err(unavailable)
    }

    /// A pub/sub message: a topic's publication or a note from another node.
    fn receive(&self, message: Msg) {
        let name = message.get_channel_name();
        let Ok(payload) = message.get_payload::<String>() else {
            return;
        };
        if name == CONTROL {
            match serde_json::from_str::<Control>(&payload) {
                Ok(Control::Epoch(epoch)) => self.observe(&epoch),
                Ok(Control::Close {
                    from,
                    selector,
                    code,
                }) => {
                    if from != self.node {
                        if let Some(hub) = self.hub() {
                            hub.do_send(CloseSockets { selector, code });
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "unreadable control message"),
            }
            return;
        }
        let Some(topic) = name
            .strip_prefix("leadbridge:topic:")
            .and_then(|t| t.parse::<Topic>().ok())
        else {
            return;
        };
        let mut parts = payload.splitn(3, ' ');
        let (Some(epoch), Some(offset), Some(json)) = (parts.next(), parts.next(), parts.next())
        else {
            tracing::warn!(%topic, "unreadable publication");
            return;
        };
        self.observe(epoch);
        match publication(&topic, offset, json) {
            Some(publication) => {
                if let Some(hub) = self.hub() {
                    hub.do_send(Deliver(publication));
                }
            }
            None => tracing::warn!(%topic, "unreadable publication"),
        }
    }
}

/// A publication as this node's subscribers get it: the frame is built once per node.
fn publication(topic: &Topic, offset: &str, json: &str) -> Option<Publication> {
    let offset: u64 = offset.parse().ok()?;
    let event: Event = serde_json::from_str(json).ok()?;
    let frame = ServerMessage::Message {
        topic: topic.to_string(),
        offset,
        event,
    }
    .to_text();
    Some(Publication {
        topic: topic.clone(),
        offset,
        frame: frame.into(),
    })
}

/// One history entry: `<offset> <published ms> <event json>`.
fn entry(topic: &Topic, entry: &str) -> Option<Publication> {
    let mut parts = entry.splitn(3, ' ');
    let offset = parts.next()?;
    parts.next()?;
    publication(topic, offset, parts.next()?)
}

async fn subscribe_link(
    client: &redis::Client,
    watched: &HashSet<Topic>,
) -> redis::RedisResult<(PubSubSink, PubSubStream)> {
    let pubsub = tokio::time::timeout(TIMEOUT, client.get_async_pubsub())
        .await
        .map_err(|_| {
            redis::RedisError::from(std::io::Error::from(std::io::ErrorKind::TimedOut))
        })??;
    let (mut sink, stream) = pubsub.split();
    sink.subscribe(CONTROL).await?;
    if !watched.is_empty() {
        let channels: Vec<String> = watched.iter().map(channel).collect();
        sink.subscribe(channels).await?;
    }
    Ok((sink, stream))
}

/// The pub/sub link: keeps this node subscribed to the channels of its watched topics,
/// hands publications to the hub, and reconnects (with backoff) when Redis goes away.
async fn link(
    inner: Weak<Inner>,
    client: redis::Client,
    mut commands: mpsc::UnboundedReceiver<Command>,
    first: oneshot::Sender<Result<(), BusError>>,
) {
    let mut first = Some(first);
    let mut watched: HashSet<Topic> = HashSet::new();
    let mut backoff = Duration::from_millis(100);
    loop {
        let attempt = match subscribe_link(&client, &watched).await {
            Ok(link) => {
                let Some(bus) = inner.upgrade() else { return };
                match resume(&bus).await {
                    Ok(()) => Ok(link),
                    Err(e) => Err(e.to_string()),
                }
            }
            Err(e) => Err(e.to_string()),
        };
        match attempt {
            Ok((mut sink, mut stream)) => {
                backoff = Duration::from_millis(100);
                if let Some(bus) = inner.upgrade() {
                    bus.linked.store(true, Ordering::SeqCst);
                }
                if let Some(first) = first.take() {
                    let _ = first.send(Ok(()));
                } else {
                    tracing::info!("realtime bus link to Redis restored");
                }
                loop {
                    tokio::select! {
                        command = commands.recv() => match command {
                            None => return,
                            Some(Command::Watch(topic, reply)) => {
                                let result = if watched.insert(topic.clone()) {
                                    sink.subscribe(channel(&topic)).await.map_err(unavailable)
                                } else {
                                    Ok(())
                                };
                                let _ = reply.send(result);
                            }
                            Some(Command::Unwatch(topic)) => {
                                if watched.remove(&topic) {
                                    let _ = sink.unsubscribe(channel(&topic)).await;
                                }
                            }
                        },
                        message = stream.next() => match (message, inner.upgrade()) {
                            (Some(message), Some(bus)) => bus.receive(message),
                            (None, _) | (_, None) => break,
                        },
                    }
                }
                let Some(bus) = inner.upgrade() else { return };
                bus.linked.store(false, Ordering::SeqCst);
                tracing::warn!("realtime bus lost its link to Redis; closing sockets, retrying");
                bus.interrupt();
            }
            Err(e) => {
                if let Some(first) = first.take() {
                    let _ = first.send(Err(BusError(e)));
                    return;
                }
                tracing::debug!(error = %e, "realtime bus: Redis still unreachable");
            }
        }
        // Unlinked until the next attempt: watches fail at once (their sockets are told the
        // topic is unavailable), and are resubscribed with the link.
        let retry = tokio::time::sleep(backoff);
        tokio::pin!(retry);
        backoff = (backoff * 2).min(MAX_BACKOFF);
        loop {
            tokio::select! {
                _ = &mut retry => break,
                command = commands.recv() => match command {
                    None => return,
                    Some(Command::Watch(topic, reply)) => {
                        watched.insert(topic);
                        let _ = reply.send(Err(BusError("no link to Redis".into())));
                    }
                    Some(Command::Unwatch(topic)) => {
                        watched.remove(&topic);
                    }
                },
            }
        }
    }
}

/// Once (re)linked: first heal a gap left by failed publishes, then learn the epoch.
async fn resume(bus: &Inner) -> Result<(), BusError> {
    bus.heal().await?;
    let epoch: String = bus
        .scripts
        .epoch
        .key(EPOCH_KEY)
        .arg(new_epoch())
        .arg(CONTROL)
        .invoke_async(&mut bus.connection())
        .await
        .map_err(unavailable)?;
    bus.observe(&epoch);
    Ok(())
}

#[async_trait]
impl Bus for RedisBus {
    async fn publish(&self, topic: &Topic, event: Event) -> Result<Position, BusError> {
        let result = self.inner.publish(topic, &event).await;
        if result.is_err() {
            self.inner.gap.store(true, Ordering::SeqCst);
        }
        result
    }

    async fn position(&self, topic: &Topic) -> Result<Position, BusError> {
        let bus = &self.inner;
        bus.heal().await?;
        let (epoch, offset): (String, u64) = bus
            .scripts
            .position
            .key(EPOCH_KEY)
            .key(offset_key(topic))
            .arg(new_epoch())
            .arg(CONTROL)
            .invoke_async(&mut bus.connection())
            .await
            .map_err(unavailable)?;
        bus.observe(&epoch);
        Ok(Position { offset, epoch })
    }

    async fn since(&self, topic: &Topic, since: &Since) -> Result<History, BusError> {
        let bus = &self.inner;
        bus.heal().await?;
        let (epoch, _last, covered, entries): (String, u64, i64, Vec<String>) = bus
            .scripts
            .since
            .key(EPOCH_KEY)
            .key(offset_key(topic))
            .key(history_key(topic))
            .arg(new_epoch())
            .arg(CONTROL)
            .arg(&since.epoch)
            .arg(since.offset)
            .arg(bus.limits.max_age.as_millis() as u64)
            .invoke_async(&mut bus.connection())
            .await
            .map_err(unavailable)?;
        bus.observe(&epoch);
        if covered == 0 {
            return Ok(History::Lost);
        }
        let replay: Option<Vec<Publication>> = entries.iter().map(|e| entry(topic, e)).collect();
        // An unreadable entry cannot be replayed: a snapshot is the honest answer.
        Ok(replay.map_or(History::Lost, History::Complete))
    }

    fn attach(&self, hub: Addr<Hub>) {
        let _ = self.inner.hub.set(hub);
    }

    fn watch(&self, topic: &Topic) -> Ready {
        let (reply, answer) = oneshot::channel();
        let sent = self
            .inner
            .commands
            .send(Command::Watch(topic.clone(), reply));
        Box::pin(async move {
            sent.map_err(|_| BusError("the pub/sub link stopped".into()))?;
            answer
                .await
                .map_err(|_| BusError("the pub/sub link stopped".into()))?
        })
    }

    fn unwatch(&self, topic: &Topic) {
        let _ = self.inner.commands.send(Command::Unwatch(topic.clone()));
    }

    async fn close_elsewhere(&self, selector: &Selector, code: u16) -> Result<(), BusError> {
        let message = serde_json::to_string(&Control::Close {
            from: self.inner.node.clone(),
            selector: selector.clone(),
            code,
        })
        .map_err(unavailable)?;
        redis::cmd("PUBLISH")
            .arg(CONTROL)
            .arg(message)
            .query_async::<()>(&mut self.inner.connection())
            .await
            .map_err(unavailable)
    }

    fn presence(&self, user_id: &str, here: bool) {
        let bus = Arc::clone(&self.inner);
        let user_id = user_id.to_string();
        tokio::spawn(async move {
            let key = format!("{PRESENCE}{}", bus.node);
            let mut pipe = redis::pipe();
            if here {
                pipe.sadd(&key, user_id)
                    .ignore()
                    .expire(&key, PRESENCE_TTL_SECONDS)
                    .ignore();
            } else {
                pipe.srem(&key, user_id).ignore();
            }
            if let Err(e) = pipe.query_async::<()>(&mut bus.connection()).await {
                // The next heartbeat rewrites this node's presence from its sockets.
                tracing::debug!(error = %e, "presence not recorded");
            }
        });
    }

    async fn connected_elsewhere(&self, user_id: &str) -> Result<bool, BusError> {
        let bus = &self.inner;
        let found: i64 = bus
            .scripts
            .elsewhere
            .key(NODES)
            .arg(&bus.node)
            .arg(user_id)
            .arg(PRESENCE)
            .invoke_async(&mut bus.connection())
            .await
            .map_err(unavailable)?;
        Ok(found == 1)
    }

    fn available(&self) -> bool {
        self.inner.linked.load(Ordering::SeqCst)
    }

    async fn housekeeping(&self) {
        // History trims itself on every publish and expires when a topic goes quiet.
        let Some(hub) = self.inner.hub() else { return };
        let Ok(users) = hub.send(ConnectedUsers).await else {
            return;
        };
        if let Err(e) = self.inner.heartbeat(&users).await {
            tracing::debug!(error = %e, "presence heartbeat failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_and_publications_parse_into_frames_or_nothing() {
        let topic: Topic = "event:e1".parse().unwrap();
        let json =
            r#"{"type":"slots_changed","event_id":"e1","available_slots":3,"total_slots":5}"#;
        let replayed = entry(&topic, &format!("7 1732530000000 {json}")).unwrap();
        assert_eq!(replayed.offset, 7);
        let frame: serde_json::Value = serde_json::from_str(&replayed.frame).unwrap();
        assert_eq!(frame["type"], "message");
        assert_eq!(frame["offset"], 7);
        assert_eq!(frame["topic"], "event:e1");
        assert_eq!(frame["event"]["available_slots"], 3);
        assert!(entry(&topic, "7 1732530000000 {not json").is_none());
        assert!(entry(&topic, "seven 1 {}").is_none());
        assert!(entry(&topic, "7").is_none());
    }

    #[test]
    fn control_messages_match_what_the_scripts_publish() {
        // The scripts announce a new epoch with cjson.encode({epoch = ...}).
        let parsed: Control = serde_json::from_str(r#"{"epoch":"abc123"}"#).unwrap();
        assert!(matches!(parsed, Control::Epoch(e) if e == "abc123"));
        let close = Control::Close {
            from: "node-a".into(),
            selector: Selector::Session("hash".into()),
            code: 4001,
        };
        let text = serde_json::to_string(&close).unwrap();
        let back: Control = serde_json::from_str(&text).unwrap();
        assert!(matches!(
            back,
            Control::Close { selector: Selector::Session(h), code: 4001, .. } if h == "hash"
        ));
    }
}
