//! Realtime tests through real WebSocket clients against the real server.

#[path = "../common/mod.rs"]
mod common;

mod delivery;
mod limits;
mod recovery;
mod security;
