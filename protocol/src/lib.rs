//! The LeadBridge WebSocket protocol, version 1: the wire types and nothing else (no I/O).
//!
//! # Layout
//! - [`topic`]: topic names (`event:{id}`, `mentor:{id}`, `admin:queue`, `user:{id}`).
//! - [`client`]: what a client sends (`subscribe`, `unsubscribe`, `ping`).
//! - [`server`]: what the server sends (`subscribed`, `message`, `unsubscribed`, `error`, `pong`).
//! - [`event`]: the events carried inside `message`, one payload struct per kind.
//! - [`close`]: close codes and what each means.
//!
//! Every frame is one JSON object. Server frames carry `"v": 1`; a client may also ask for
//! the `leadbridge.v1` subprotocol. See `protocol/README.md` for an example session.

pub mod client;
pub mod close;
pub mod event;
pub mod server;
pub mod topic;

/// The protocol version every server frame carries as `"v"`.
pub const VERSION: u8 = 1;
/// The WebSocket subprotocol name of this version.
pub const SUBPROTOCOL: &str = "leadbridge.v1";
