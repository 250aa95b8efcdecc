//! Server processes for a run: `leadbridge` nodes (the release binary beside this one), a
//! private `redis-server` for two nodes, and the baseline server. All are killed when the
//! [`Cluster`] is dropped, however the run ends.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::Target;

pub const ADMIN_EMAIL: &str = "admin@bench.test";
pub const ADMIN_PASSWORD: &str = "bench-admin-pass-2026";

pub struct Cluster {
    children: Vec<Child>,
    dir: tempfile::TempDir,
    /// The private Redis: its index in `children` and its port.
    redis: Option<(usize, u16)>,
    pub target: Target,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A binary built beside this one (`target/release/`).
fn sibling(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("own path");
    exe.with_file_name(name)
}

pub async fn wait_http(base: &str, path: &str) {
    for _ in 0..600 {
        if reqwest::get(format!("{base}{path}"))
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{base}{path} never answered");
}

/// Children die with the generator, even when it is interrupted (Ctrl-C).
fn die_with_parent(command: &mut Command) -> &mut Command {
    use std::os::unix::process::CommandExt;
    // SAFETY: prctl only sets this child's parent-death signal, between fork and exec.
    unsafe {
        command.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        })
    }
}

pub fn redis_server(port: u16, dir: &std::path::Path, persistent: bool) -> Child {
    die_with_parent(&mut Command::new("redis-server"))
        .args(["--port", &port.to_string(), "--save", ""])
        .args(["--appendonly", if persistent { "yes" } else { "no" }])
        .arg("--dir")
        .arg(dir)
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server (apt-get install redis-server)")
}

impl Cluster {
    /// `nodes` leadbridge processes sharing one SQLite file; with two or more, a private
    /// Redis between them.
    pub async fn leadbridge(nodes: usize) -> Self {
        // Built first, so a start that fails half-way still kills what it started.
        let mut cluster = Self {
            children: Vec::new(),
            dir: tempfile::tempdir().expect("temp dir"),
            redis: None,
            target: Target {
                nodes: Vec::new(),
                pids: Vec::new(),
                admin: (ADMIN_EMAIL.into(), ADMIN_PASSWORD.into()),
                ws_path: "/api/ws",
            },
        };
        if nodes > 1 {
            let port = free_port();
            cluster
                .children
                .push(redis_server(port, cluster.dir.path(), true));
            cluster.redis = Some((0, port));
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        let redis_url = cluster
            .redis
            .map(|(_, port)| format!("redis://127.0.0.1:{port}"));
        let binary = sibling("leadbridge");
        for _ in 0..nodes {
            let base = format!("http://127.0.0.1:{}", free_port());
            let mut command = Command::new(&binary);
            die_with_parent(&mut command)
                .arg("serve")
                .env("LEADBRIDGE_ADDR", base.trim_start_matches("http://"))
                .env("LEADBRIDGE_DATA_DIR", cluster.dir.path())
                .env("LEADBRIDGE_JWT_SECRET", "b".repeat(64))
                .env("LEADBRIDGE_DATA_KEY", "c".repeat(64))
                .env("LEADBRIDGE_ADMIN_EMAIL", ADMIN_EMAIL)
                .env("LEADBRIDGE_ADMIN_PASSWORD", ADMIN_PASSWORD)
                // A load generator is thousands of sign-ins and bookings from one address.
                .env("LEADBRIDGE_RATE_LIMITS", "off")
                // And thousands of sockets from one address.
                .env("LEADBRIDGE_MAX_CONNECTIONS_PER_ADDRESS", "0")
                .env("RUST_LOG", "error")
                .stdout(Stdio::null());
            if let Some(url) = &redis_url {
                command.env("LEADBRIDGE_REDIS_URL", url);
            }
            let child = command.spawn().unwrap_or_else(|e| {
                panic!(
                    "start {} ({e}); build it first: cargo build --release --bin leadbridge",
                    binary.display()
                )
            });
            cluster.target.pids.push(child.id());
            cluster.children.push(child);
            wait_http(&base, "/readyz").await;
            cluster.target.nodes.push(base);
        }
        cluster
    }

    /// Stops the private Redis (SIGTERM, so it writes its append-only file) and starts it
    /// again on the same port after `down`.
    pub async fn restart_redis(&mut self, down: Duration) {
        let Some((index, port)) = self.redis else {
            return;
        };
        let redis = &mut self.children[index];
        let _ = Command::new("kill")
            .args(["-TERM", &redis.id().to_string()])
            .status();
        let _ = redis.wait();
        tokio::time::sleep(down).await;
        self.children[index] = redis_server(port, self.dir.path(), true);
    }

    /// The baseline: this binary's minimal actix-ws broadcast server.
    pub async fn baseline() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let child = die_with_parent(&mut Command::new(
            std::env::current_exe().expect("own path"),
        ))
        .args(["baseline-server", "--port", &port.to_string()])
        .stdout(Stdio::null())
        .spawn()
        .expect("start the baseline server");
        let base = format!("http://127.0.0.1:{port}");
        let target = Target {
            nodes: vec![base.clone()],
            pids: vec![child.id()],
            admin: (String::new(), String::new()),
            ws_path: "/ws",
        };
        let cluster = Self {
            children: vec![child],
            dir,
            redis: None,
            target,
        };
        wait_http(&base, "/json").await;
        cluster
    }
}
