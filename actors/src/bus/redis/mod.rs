//! The bus between nodes. Redis keeps each topic's offset, epoch and history, changed
//! together in one Lua script per operation; live publications travel on pub/sub, one
//! channel per topic, which a node subscribes to only while it has watchers.
//!
//! Pub/sub itself is at-most-once: a node that loses its link may have missed messages.
//! So losing the link closes this node's sockets (1012: reconnect with `since`), and a
//! publish that failed changes the epoch before anyone can recover across the gap.

mod link;
mod presence;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use leadbridge_protocol::client::Since;
use leadbridge_protocol::close;
use leadbridge_protocol::event::Event;
use leadbridge_protocol::server::ServerMessage;
use leadbridge_protocol::topic::Topic;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Msg, Script};
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};

use self::link::Command;
use super::{new_epoch, Bus, BusError, History, HistoryLimits, Peers, Position, Presence, Ready};
use crate::node::{CloseSockets, Deliver, NodeLink, ReportPresence, Selector};
use crate::publication::Publication;

const EPOCH_KEY: &str = "leadbridge:epoch";
const CONTROL: &str = "leadbridge:control";
const NODES: &str = "leadbridge:nodes";
const PRESENCE: &str = "leadbridge:presence:";
/// How long one Redis call may take before the bus counts as unavailable.
const TIMEOUT: Duration = Duration::from_secs(2);
/// The longest wait between two reconnection attempts.
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
    /// A node (re)linked and the epoch it found (possibly one it just started).
    Resumed { node: String, epoch: String },
}

/// What a pub/sub message meant to the link.
#[derive(Debug, PartialEq, Eq)]
enum Received {
    Other,
    /// This node's own `resumed` announcement: everything published before it was read.
    OwnEcho,
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
            rotate: with_common(include_str!("lua/rotate.lua")),
            elsewhere: Script::new(include_str!("lua/elsewhere.lua")),
        }
    }
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
    /// history is used again. Holds the epoch this node knew then (empty if none), so the
    /// change happens once even if several nodes failed in the same epoch.
    gap: Mutex<Option<String>>,
    /// This node's hub, where deliveries and closes go.
    here: OnceLock<NodeLink>,
    commands: mpsc::UnboundedSender<Command>,
    /// Presence changes, applied in the hub's order.
    presence: mpsc::UnboundedSender<Presence>,
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
            gap: Mutex::new(None),
            here: OnceLock::new(),
            commands,
            presence,
        });
        tokio::spawn(presence::run(Arc::downgrade(&inner), changes));
        let (first, linked) = oneshot::channel();
        tokio::spawn(link::run(Arc::downgrade(&inner), client, receiver, first));
        linked
            .await
            .map_err(|_| BusError("the pub/sub link stopped".into()))??;
        let _ = inner.presence.send(Presence::Exactly(HashSet::new()));
        Ok(Self { inner })
    }
}

impl Inner {
    fn connection(&self) -> ConnectionManager {
        self.connection.clone()
    }

    fn here(&self) -> Option<&NodeLink> {
        self.here.get()
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
        if let Some(node) = self.here() {
            node.close.do_send(CloseSockets {
                selector: Selector::All,
                code: close::SERVICE_RESTART,
            });
        }
    }

    /// Remembers that a publish failed, and in which epoch.
    fn note_gap(&self) {
        let known = self.epoch.lock().ok().and_then(|e| e.clone());
        if let Ok(mut gap) = self.gap.lock() {
            gap.get_or_insert_with(|| known.unwrap_or_default());
        }
    }

    fn take_gap(&self) -> Option<String> {
        self.gap.lock().ok().and_then(|mut gap| gap.take())
    }

    fn restore_gap(&self, epoch: Option<String>) {
        if let (Some(epoch), Ok(mut gap)) = (epoch, self.gap.lock()) {
            gap.get_or_insert(epoch);
        }
    }

    /// After a failed publish, moves the history to a new epoch so nobody recovers across
    /// the message that may be missing, unless someone already moved it since. While the
    /// link is down, relinking does this instead.
    async fn heal(&self) -> Result<(), BusError> {
        if !self.linked.load(Ordering::SeqCst) {
            return Ok(());
        }
        let Some(failed_in) = self.take_gap() else {
            return Ok(());
        };
        let rotated: Result<String, _> = self
            .scripts
            .rotate
            .key(EPOCH_KEY)
            .arg(new_epoch())
            .arg(CONTROL)
            .arg(&failed_in)
            .invoke_async(&mut self.connection())
            .await;
        match rotated {
            // Every node, this one included, learns the new epoch from the control channel.
            Ok(epoch) => {
                tracing::info!(%epoch, "realtime history moved on after a failed publish");
                Ok(())
            }
            Err(e) => {
                self.restore_gap(Some(failed_in));
                Err(unavailable(e))
            }
        }
    }

    /// Publishing needs only the command connection: a node whose pub/sub link is down
    /// still records its messages (its own sockets are closed until it relinks).
    async fn publish(&self, topic: &Topic, event: &Event) -> Result<Position, BusError> {
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

    /// A pub/sub message: a topic's publication or a note from another node.
    fn receive(&self, message: Msg) -> Received {
        let name = message.get_channel_name();
        let Ok(payload) = message.get_payload::<String>() else {
            return Received::Other;
        };
        if name == CONTROL {
            match serde_json::from_str::<Control>(&payload) {
                Ok(Control::Epoch(epoch)) => {
                    self.observe(&epoch);
                }
                Ok(Control::Resumed { node, epoch }) => {
                    self.observe(&epoch);
                    if node == self.node {
                        return Received::OwnEcho;
                    }
                }
                Ok(Control::Close {
                    from,
                    selector,
                    code,
                }) => {
                    if from != self.node {
                        if let Some(node) = self.here() {
                            node.close.do_send(CloseSockets { selector, code });
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "unreadable control message"),
            }
            return Received::Other;
        }
        let Some(topic) = name
            .strip_prefix("leadbridge:topic:")
            .and_then(|t| t.parse::<Topic>().ok())
        else {
            return Received::Other;
        };
        let mut parts = payload.splitn(3, ' ');
        let (Some(epoch), Some(offset), Some(json)) = (parts.next(), parts.next(), parts.next())
        else {
            tracing::warn!(%topic, "unreadable publication");
            return Received::Other;
        };
        self.observe(epoch);
        match publication(&topic, offset, json) {
            Some(publication) => {
                if let Some(node) = self.here() {
                    node.deliver.do_send(Deliver(publication));
                }
            }
            None => tracing::warn!(%topic, "unreadable publication"),
        }
        Received::Other
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

/// Once (re)linked: announces this node with the current epoch, which starts over if
/// Redis restarted or failed over since it was last checked (its run id changed), or if
/// this node failed to publish while unlinked and nobody moved the epoch since. The node
/// learns the epoch from its own announcement coming back on the stream.
async fn resume(bus: &Inner) -> Result<(), BusError> {
    let failed_in = bus.take_gap();
    let announced: Result<String, _> = bus
        .scripts
        .epoch
        .key(EPOCH_KEY)
        .arg(new_epoch())
        .arg(CONTROL)
        .arg(failed_in.as_deref().unwrap_or("-"))
        .arg(&bus.node)
        .invoke_async(&mut bus.connection())
        .await;
    announced.map(drop).map_err(|e| {
        bus.restore_gap(failed_in);
        unavailable(e)
    })
}

#[async_trait]
impl Bus for RedisBus {
    async fn publish(&self, topic: &Topic, event: Event) -> Result<Position, BusError> {
        let result = self.inner.publish(topic, &event).await;
        // Whether or not the script ran (a timeout may come after it did), the history
        // may lack this message.
        if result.is_err() {
            self.inner.note_gap();
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

    fn attach(&self, node: NodeLink) {
        let _ = self.inner.here.set(node);
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

    fn peers(&self) -> Option<&dyn Peers> {
        Some(self)
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
        // The hub answers with this node's users, in order with arrivals and departures.
        if let Some(node) = self.inner.here() {
            node.report_presence.do_send(ReportPresence);
        }
    }
}

#[async_trait]
impl Peers for RedisBus {
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

    fn presence(&self, change: Presence) {
        let _ = self.inner.presence.send(change);
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
