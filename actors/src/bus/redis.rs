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
/// The run id of the Redis process the epoch was last checked against.
const RUN_KEY: &str = "leadbridge:epoch:run-id";
const CONTROL: &str = "leadbridge:control";
const NODES: &str = "leadbridge:nodes";
const PRESENCE: &str = "leadbridge:presence:";
/// How long a node counts as alive after its last heartbeat (housekeeping, every few s).
const PRESENCE_TTL_SECONDS: i64 = 15;
/// How long one Redis call may take before the bus counts as unavailable.
const TIMEOUT: Duration = Duration::from_secs(2);
const MAX_BACKOFF: Duration = Duration::from_secs(2);
/// How often an idle pub/sub link is pinged, so a dead one is noticed without traffic.
const LINK_PING: Duration = Duration::from_secs(5);

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
            epoch: Script::new(include_str!("lua/epoch.lua")),
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
    /// Learnt when the link comes up, then only from the pub/sub stream: Redis delivers
    /// it in publishing order, so a rotation's announcement always follows the old epoch's
    /// last publication and precedes the new one's first (answers on the other connection
    /// could arrive in either order and make the node flap between epochs).
    epoch: Mutex<Option<String>>,
    /// Whether the pub/sub link is up (publications from other nodes arrive).
    linked: AtomicBool,
    /// A publish failed, so the history may lack a message: the epoch changes before the
    /// history is used again.
    gap: AtomicBool,
    hub: OnceLock<Addr<Hub>>,
    commands: mpsc::UnboundedSender<Command>,
    /// Presence changes, applied in the order sockets opened and closed.
    presence: mpsc::UnboundedSender<(String, bool)>,
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
        let (presence, changes) = mpsc::unbounded_channel();
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
            presence,
        });
        tokio::spawn(record_presence(Arc::downgrade(&inner), changes));
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

    /// Notes the current epoch. A change means sockets given the old one may have missed
    /// messages: they are closed and come back with `since`.
    fn observe(&self, epoch: &str) {
        let changed = {
            let Ok(mut known) = self.epoch.lock() else {
                return;
            };
            match known.replace(epoch.to_string()) {
                Some(old) => old != epoch,
                None => false,
            }
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
        if !self.gap.swap(false, Ordering::SeqCst) {
            return Ok(());
        }
        let epoch = new_epoch();
        let rotated: Result<String, _> = self
            .scripts
            .rotate
            .key(EPOCH_KEY)
            .arg(&epoch)
            .arg(CONTROL)
            .invoke_async(&mut self.connection())
            .await;
        if let Err(e) = rotated {
            self.gap.store(true, Ordering::SeqCst);
            return Err(unavailable(e));
        }
        // Every node, this one included, learns it from the control channel.
        tracing::info!(%epoch, "realtime history moved to a new epoch after a failed publish");
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
                Ok(Control::Epoch(epoch)) => {
                    self.observe(&epoch);
                }
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

/// Applies presence changes one at a time, so a quick open-then-close never lands in
/// Redis the other way round.
async fn record_presence(inner: Weak<Inner>, mut changes: mpsc::UnboundedReceiver<(String, bool)>) {
    while let Some((user_id, here)) = changes.recv().await {
        let Some(bus) = inner.upgrade() else { return };
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
    }
}

/// One pub/sub call, bounded: a link that does not answer counts as lost.
async fn within<T>(
    call: impl std::future::Future<Output = redis::RedisResult<T>>,
) -> Result<T, BusError> {
    tokio::time::timeout(TIMEOUT, call)
        .await
        .map_err(|_| BusError("Redis did not answer in time".into()))?
        .map_err(unavailable)
}

async fn subscribe_link(
    client: &redis::Client,
    watched: &HashSet<Topic>,
) -> Result<(PubSubSink, PubSubStream), BusError> {
    let pubsub = within(client.get_async_pubsub()).await?;
    let (mut sink, stream) = pubsub.split();
    within(sink.subscribe(CONTROL)).await?;
    if !watched.is_empty() {
        let channels: Vec<String> = watched.iter().map(channel).collect();
        within(sink.subscribe(channels)).await?;
    }
    Ok((sink, stream))
}

/// Serves watch requests and hands publications to the hub until the link fails.
async fn serve_link(
    inner: &Weak<Inner>,
    commands: &mut mpsc::UnboundedReceiver<Command>,
    watched: &mut HashSet<Topic>,
    sink: &mut PubSubSink,
    stream: &mut PubSubStream,
) -> Result<(), BusError> {
    let mut ping = tokio::time::interval(LINK_PING);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            command = commands.recv() => match command {
                // The bus was dropped: nothing left to serve.
                None => return Ok(()),
                Some(Command::Watch(topic, reply)) => {
                    if watched.insert(topic.clone()) {
                        // A failed SUBSCRIBE leaves the topic watched: the next link
                        // subscribes it (or the session's unwatch removes it).
                        if let Err(e) = within(sink.subscribe(channel(&topic))).await {
                            let _ = reply.send(Err(BusError(e.0.clone())));
                            return Err(e);
                        }
                    }
                    let _ = reply.send(Ok(()));
                }
                Some(Command::Unwatch(topic)) => {
                    if watched.remove(&topic) {
                        within(sink.unsubscribe(channel(&topic))).await?;
                    }
                }
            },
            message = stream.next() => match (message, inner.upgrade()) {
                (Some(message), Some(bus)) => bus.receive(message),
                (None, _) => return Err(BusError("the pub/sub connection closed".into())),
                (_, None) => return Ok(()),
            },
            _ = ping.tick() => {
                within(sink.ping::<redis::Value>()).await?;
            }
        }
    }
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
            Ok(link) => match inner.upgrade() {
                Some(bus) => resume(&bus).await.map(|()| link),
                None => return,
            },
            Err(e) => Err(e),
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
                let served =
                    serve_link(&inner, &mut commands, &mut watched, &mut sink, &mut stream).await;
                let Some(bus) = inner.upgrade() else { return };
                let Err(e) = served else { return };
                bus.linked.store(false, Ordering::SeqCst);
                tracing::warn!(error = %e, "realtime bus lost its link to Redis; closing sockets, retrying");
                bus.interrupt();
            }
            Err(e) => {
                if let Some(first) = first.take() {
                    let _ = first.send(Err(e));
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

/// The run id of the Redis process answering: it changes when Redis restarts or fails over.
async fn run_id(connection: &mut ConnectionManager) -> Result<String, BusError> {
    let info: String = redis::cmd("INFO")
        .arg("server")
        .query_async(connection)
        .await
        .map_err(unavailable)?;
    info.lines()
        .find_map(|line| line.strip_prefix("run_id:"))
        .map(|id| id.trim().to_string())
        .ok_or_else(|| BusError("Redis did not tell its run id".into()))
}

/// Once (re)linked: learns the epoch, which starts over if Redis restarted since it was
/// last checked or a publish failed while the link was down.
async fn resume(bus: &Inner) -> Result<(), BusError> {
    let mut connection = bus.connection();
    let run_id = run_id(&mut connection).await?;
    let gap = bus.gap.swap(false, Ordering::SeqCst);
    let epoch: Result<String, _> = bus
        .scripts
        .epoch
        .key(EPOCH_KEY)
        .key(RUN_KEY)
        .arg(new_epoch())
        .arg(CONTROL)
        .arg(run_id)
        .arg(if gap { "1" } else { "0" })
        .invoke_async(&mut connection)
        .await;
    match epoch {
        Ok(epoch) => {
            bus.observe(&epoch);
            Ok(())
        }
        Err(e) => {
            if gap {
                bus.gap.store(true, Ordering::SeqCst);
            }
            Err(unavailable(e))
        }
    }
}

#[async_trait]
impl Bus for RedisBus {
    async fn publish(&self, topic: &Topic, event: Event) -> Result<Position, BusError> {
        let result = self.inner.publish(topic, &event).await;
        // Whether or not the script ran (a timeout may come after it did), the history
        // may lack this message.
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
        Ok(Position { offset, epoch })
    }

    async fn since(&self, topic: &Topic, since: &Since) -> Result<History, BusError> {
        let bus = &self.inner;
        bus.heal().await?;
        let (_epoch, _last, covered, entries): (String, u64, i64, Vec<String>) = bus
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
        let _ = self.inner.presence.send((user_id.to_string(), here));
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

    fn shared(&self) -> bool {
        true
    }

    fn available(&self) -> bool {
        self.inner.linked.load(Ordering::SeqCst)
    }

    async fn housekeeping(&self) {
        // History trims itself on every publish and expires when a topic goes quiet. A gap
        // left by a failed publish is closed here even if nothing else touches Redis.
        if let Err(e) = self.inner.heal().await {
            tracing::debug!(error = %e, "epoch not moved yet");
        }
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
