//! LeadBridge: a realtime lead marketplace connecting mentors and learners through verified
//! leads, with admins in between.
//!
//! # Layout
//! - [`config`]: settings from the environment, read once.
//! - [`clock`]: what time it is, a dependency (tests advance a manual clock).
//! - [`domain`]: the rules as plain Rust (ids, money, e-mail/phone, the lead state machine,
//!   verification checks). No I/O.
//! - [`crypto`]: contact sealing at rest and blind indexes for duplicate detection.
//! - [`auth`]: password hashing, session tokens, access JWTs.
//! - [`store`]: the `Store` trait (the source of truth) and its SQLite backend.
//! - [`payments`]: Razorpay orders, signatures and webhooks (real or simulated).
//! - [`http`]: the actix-web API, one module per resource, and the WebSocket endpoint.
//! - [`net`]: accepting connections: per-address caps and writes that cannot stall.
//! - [`realtime`]: the hub and bus (from the `leadbridge-actors` crate) wired to the store:
//!   what each change publishes, snapshots, closing revoked sockets.
//! - [`private_files`]: the data directory and its files, readable by the server only.
//! - [`startup`]: `Application::build` / `run_until_stopped`, shared by `main` and tests.

pub mod app;
pub mod auth;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod domain;
pub mod http;
pub mod limits;
#[cfg(test)]
mod module_graph;
pub mod net;
pub mod payments;
pub mod private_files;
pub mod realtime;
pub mod relay;
pub mod startup;
pub mod state;
pub mod store;
pub mod telemetry;
