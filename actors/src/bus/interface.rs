//! What a bus is: the `Bus` trait every bus implements, `Peers` for what only a bus shared
//! by several nodes does, and the values they answer with.

use std::collections::HashSet;
use std::time::Duration;

use async_trait::async_trait;
use futures_util::future::BoxFuture;
use leadbridge_protocol::client::Since;
use leadbridge_protocol::event::Event;
use leadbridge_protocol::topic::Topic;
use rand::Rng;

use crate::node::{NodeLink, Selector};
use crate::publication::Publication;

/// Where a topic stands: the offset of its latest message within the epoch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    pub offset: u64,
    pub epoch: String,
}

#[derive(Debug, Clone)]
pub enum History {
    /// Every message after the client's offset, in order (possibly none).
    Complete(Vec<Publication>),
    /// The history no longer covers the client's position (other epoch, or trimmed).
    Lost,
}

#[derive(Debug, thiserror::Error)]
#[error("bus unavailable: {0}")]
pub struct BusError(pub String);

/// How much history each topic keeps.
#[derive(Debug, Clone, Copy)]
pub struct HistoryLimits {
    pub max_messages: usize,
    pub max_age: Duration,
}

impl Default for HistoryLimits {
    fn default() -> Self {
        Self {
            max_messages: 1000,
            max_age: Duration::from_secs(15 * 60),
        }
    }
}

/// A change in which signed-in users have sockets on this node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Presence {
    /// The user's first socket here opened.
    Here(String),
    /// The user's last socket here closed.
    Gone(String),
    /// Exactly these users (a periodic refresh that repairs anything lost).
    Exactly(HashSet<String>),
}

/// Resolves once this node receives a watched topic's publications.
pub type Ready = BoxFuture<'static, Result<(), BusError>>;

/// What every bus does: publish with offsets, keep history, deliver to this node.
#[async_trait]
pub trait Bus: Send + Sync + 'static {
    /// Appends to the topic's history under the next offset and delivers to every node.
    async fn publish(&self, topic: &Topic, event: Event) -> Result<Position, BusError>;
    async fn position(&self, topic: &Topic) -> Result<Position, BusError>;
    /// Everything after `since`, or `Lost` when the history no longer covers it.
    async fn since(&self, topic: &Topic, since: &Since) -> Result<History, BusError>;
    /// Sets where this node's deliveries and closes go (its hub). Called once at start.
    fn attach(&self, node: NodeLink);
    /// This node has subscribers for `topic`. Called by the hub, in order, for every
    /// subscription; the answer resolves once other nodes' publications arrive here too.
    fn watch(&self, _topic: &Topic) -> Ready {
        Box::pin(async { Ok(()) })
    }
    /// This node's last subscriber of `topic` left.
    fn unwatch(&self, _topic: &Topic) {}
    /// The other nodes on this bus, when there are any: they publish too (their messages may
    /// interleave with this node's) and hold sockets of their own.
    fn peers(&self) -> Option<&dyn Peers> {
        None
    }
    /// Whether publications reach every node right now (the in-process bus always does).
    fn available(&self) -> bool {
        true
    }
    /// Periodic upkeep: drops history older than the limits (also on topics nobody
    /// publishes to any more) and tells other nodes this one is alive.
    async fn housekeeping(&self) {}
}

/// What only a bus shared by several nodes does: reach the sockets and presence of the
/// others.
#[async_trait]
pub trait Peers: Send + Sync {
    /// Closes the selected sockets on the other nodes (the caller closes this node's).
    async fn close_elsewhere(&self, selector: &Selector, code: u16) -> Result<(), BusError>;
    /// Who has sockets on this node, as the hub sees it; called in the hub's order.
    fn presence(&self, change: Presence);
    /// Whether `user_id` has a socket open on another node.
    async fn connected_elsewhere(&self, user_id: &str) -> Result<bool, BusError>;
}

/// A fresh epoch name: a history that starts over gets one, so no client mistakes it for
/// the one it knew.
pub fn new_epoch() -> String {
    let mut rng = rand::thread_rng();
    (0..12)
        .map(|_| char::from(b"abcdefghijklmnopqrstuvwxyz0123456789"[rng.gen_range(0..36)]))
        .collect()
}
