//! Realtime tests through real WebSocket clients against the real server.

#[path = "../common/mod.rs"]
mod common;

/// How the scenarios start a server: here one node; `tests/cluster` runs the same scenarios
/// on two nodes sharing Redis.
mod nodes {
    pub use crate::common::{spawn_app, spawn_app_with};
}

mod announcements;
mod delivery;
mod generator;
mod limits;
mod recovery;
mod security;
