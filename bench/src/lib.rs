//! The LeadBridge load generator: each scenario starts what it measures (the release
//! `leadbridge` binary, a private Redis, the minimal actix-ws baseline server in this
//! crate), drives it from this process, and prints figures as ratios against the baseline
//! measured in the same run. `leadbridge-bench --help` lists the scenarios and knobs.

pub mod api;
pub mod baseline;
pub mod cluster;
pub mod histogram;
pub mod knobs;
pub mod process;
pub mod scenarios;
pub mod sockets;

/// Where a scenario sends its load: HTTP base URLs, and the server processes (for memory
/// and CPU readings; none when the server runs in-process, as in the smoke test).
#[derive(Debug, Clone)]
pub struct Target {
    pub nodes: Vec<String>,
    pub pids: Vec<u32>,
    pub admin: (String, String),
    /// Where sockets connect (`/api/ws`, or the baseline's `/ws`).
    pub ws_path: &'static str,
}

impl Target {
    pub fn ws(&self, node: usize) -> String {
        format!(
            "{}{}",
            self.nodes[node].replacen("http", "ws", 1),
            self.ws_path
        )
    }

    /// A server already running in this process (the smoke test).
    pub fn in_process(base: &str, admin_email: &str, admin_password: &str) -> Self {
        Self {
            nodes: vec![base.to_string()],
            pids: Vec::new(),
            admin: (admin_email.to_string(), admin_password.to_string()),
            ws_path: "/api/ws",
        }
    }
}
