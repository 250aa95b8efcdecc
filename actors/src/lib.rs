//! LeadBridge realtime: how a published event reaches every WebSocket that watches its topic.
//!
//! # Layout
//! - [`bus`]: the `Bus` trait (publish with an offset and a bounded history per topic, read
//!   back since an offset), `Peers` for what only a bus shared by several nodes does, and
//!   [`bus::MemoryBus`] and [`bus::RedisBus`].
//! - [`hub`]: the `Hub` actor: this node's registry of live topics and sessions; it starts a
//!   [`topic::TopicActor`] on a topic's first subscriber and stops it with the last.
//! - [`topic`]: one actor per live topic, fanning each publication out to its sessions.
//! - [`session`]: the per-socket loop (actix-ws): client frames, deliveries, heartbeats,
//!   limits, and the subscribe/recover handshake.
//! - [`access`]: who may subscribe to what.
//! - [`publication`], [`sink`], [`node`]: what the others share: a publication's bytes,
//!   how deliveries and stop orders reach a session, and the node as the bus reaches it
//!   (message recipients, so the bus does not depend on the hub).
//!
//! Dependencies go one way: `session` → `hub` → `topic` → `sink` → `publication`, `session`
//! and `hub` → `bus` → `node` → `publication`; no module imports one that imports it back.
//!
//! Domain code publishes after the store commits; the store stays the source of truth and
//! snapshots are read from it.

pub mod access;
pub mod bus;
pub mod hub;
pub mod node;
pub mod publication;
pub mod session;
pub mod sink;
pub mod topic;

pub use leadbridge_protocol as protocol;
