//! The state a Redis-backed bus shares between its callers, its pub/sub link and its
//! presence task: the connection, the epoch it knows, the node's hub, and what arrives from
//! Redis (publications and control messages).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use leadbridge_protocol::close;
use leadbridge_protocol::server::ServerMessage;
use leadbridge_protocol::topic::Topic;
use redis::aio::ConnectionManager;
use redis::{Msg, Script};
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};

use leadbridge_protocol::event::Event;

use crate::bus::interface::{new_epoch, BusError, HistoryLimits, Position, Presence};
use crate::node::{CloseSockets, Deliver, NodeLink, Selector};
use crate::publication::Publication;

/// What the bus asks of its pub/sub link.
pub(super) enum Command {
    Watch(Topic, oneshot::Sender<Result<(), BusError>>),
    Unwatch(Topic),
}

pub(super) const EPOCH_KEY: &str = "leadbridge:epoch";
pub(super) const CONTROL: &str = "leadbridge:control";
pub(super) const NODES: &str = "leadbridge:nodes";
pub(super) const PRESENCE: &str = "leadbridge:presence:";
/// How long one Redis call may take before the bus counts as unavailable.
pub(super) const TIMEOUT: Duration = Duration::from_secs(2);
/// The longest wait between two reconnection attempts.
pub(super) const MAX_BACKOFF: Duration = Duration::from_secs(2);

pub(super) fn offset_key(topic: &Topic) -> String {
    format!("leadbridge:offset:{topic}")
}

pub(super) fn history_key(topic: &Topic) -> String {
    format!("leadbridge:history:{topic}")
}

pub(super) fn channel(topic: &Topic) -> String {
    format!("leadbridge:topic:{topic}")
}

/// What nodes tell each other on the control channel.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum Control {
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
pub(super) enum Received {
    Other,
    /// This node's own `resumed` announcement: everything published before it was read.
    OwnEcho,
}

pub(super) struct Scripts {
    pub(super) publish: Script,
    pub(super) position: Script,
    pub(super) since: Script,
    pub(super) epoch: Script,
    pub(super) rotate: Script,
    pub(super) elsewhere: Script,
}

impl Scripts {
    pub(super) fn new() -> Self {
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

pub(super) struct Inner {
    pub(super) node: String,
    pub(super) limits: HistoryLimits,
    pub(super) connection: ConnectionManager,
    pub(super) scripts: Scripts,
    /// The epoch this node's sockets were given. Seeing another means they may have a gap.
    /// Learnt when the link comes up, then only from the pub/sub stream: Redis delivers
    /// it in publishing order, so a rotation's announcement always follows the old epoch's
    /// last publication and precedes the new one's first (answers on the other connection
    /// could arrive in either order and make the node flap between epochs).
    pub(super) epoch: Mutex<Option<String>>,
    /// Whether the pub/sub link is up (publications from other nodes arrive).
    pub(super) linked: AtomicBool,
    /// A publish failed, so the history may lack a message: the epoch changes before the
    /// history is used again. Holds the epoch this node knew then (empty if none), so the
    /// change happens once even if several nodes failed in the same epoch.
    pub(super) gap: Mutex<Option<String>>,
    /// This node's hub, where deliveries and closes go.
    pub(super) here: OnceLock<NodeLink>,
    pub(super) commands: mpsc::UnboundedSender<Command>,
    /// Presence changes, applied in the hub's order.
    pub(super) presence: mpsc::UnboundedSender<Presence>,
}

pub(super) fn unavailable(e: impl std::fmt::Display) -> BusError {
    BusError(e.to_string())
}

impl Inner {
    pub(super) fn connection(&self) -> ConnectionManager {
        self.connection.clone()
    }

    pub(super) fn here(&self) -> Option<&NodeLink> {
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
    pub(super) fn interrupt(&self) {
        if let Some(node) = self.here() {
            node.close.do_send(CloseSockets {
                selector: Selector::All,
                code: close::SERVICE_RESTART,
            });
        }
    }

    /// Remembers that a publish failed, and in which epoch.
    pub(super) fn note_gap(&self) {
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
    pub(super) async fn heal(&self) -> Result<(), BusError> {
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
    pub(super) async fn publish(&self, topic: &Topic, event: &Event) -> Result<Position, BusError> {
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
    pub(super) fn receive(&self, message: Msg) -> Received {
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
pub(super) fn entry(topic: &Topic, entry: &str) -> Option<Publication> {
    let mut parts = entry.splitn(3, ' ');
    let offset = parts.next()?;
    parts.next()?;
    publication(topic, offset, parts.next()?)
}

/// Once (re)linked: announces this node with the current epoch, which starts over if
/// Redis restarted or failed over since it was last checked (its run id changed), or if
/// this node failed to publish while unlinked and nobody moved the epoch since. The node
/// learns the epoch from its own announcement coming back on the stream.
pub(super) async fn resume(bus: &Inner) -> Result<(), BusError> {
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
