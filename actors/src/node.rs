//! This node as the bus sees it: where the bus hands the publications and the orders that
//! arrive for this node's sockets. The hub answers these messages; the bus holds only
//! their recipients, so it knows nothing of the hub (no module depends back on the bus's
//! users).

use actix::{Message, Recipient};
use serde::{Deserialize, Serialize};

use crate::publication::Publication;

/// Which sockets to close.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Selector {
    /// Every socket opened with this session (logout).
    Session(String),
    /// Every socket of this user (role revoked, account gone).
    User(String),
    /// Every socket (shutdown).
    All,
}

/// A publication for this node's subscribers of its topic.
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub struct Deliver(pub Publication);

/// Closes the selected sockets with `code`; answers how many were closed.
#[derive(Message)]
#[rtype(result = "usize")]
pub struct CloseSockets {
    pub selector: Selector,
    pub code: u16,
}

/// Asks for exactly which signed-in users have sockets here (a periodic refresh the hub
/// answers in order with the arrivals and departures it reports as they happen).
#[derive(Message)]
#[rtype(result = "()")]
pub struct ReportPresence;

/// The node's side of the bus: set once at start (`Bus::attach`).
#[derive(Clone)]
pub struct NodeLink {
    pub deliver: Recipient<Deliver>,
    pub close: Recipient<CloseSockets>,
    pub report_presence: Recipient<ReportPresence>,
}
