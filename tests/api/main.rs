//! HTTP integration tests: the real server on port 0 with its own SQLite file, driven like
//! a user would drive it.

#[path = "../common/mod.rs"]
mod common;

mod access;
mod admin;
mod auth;
mod booking;
mod errors;
mod events;
mod exhaustion;
mod google;
mod journey;
mod limits;
mod payments;
mod persistence;
mod schema;
mod secrets;
mod sessions;
mod web;
