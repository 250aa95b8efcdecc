//! A private `redis-server` on a free port for tests that share it between nodes, stop it or
//! restart it. Killed when dropped.

use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tempfile::TempDir;

const REDIS_SERVER: &str = "/usr/bin/redis-server";

pub struct RedisServer {
    pub port: u16,
    dir: TempDir,
    persistent: bool,
    child: Option<Child>,
}

impl RedisServer {
    /// Keeps nothing on disk: a restart loses every key (the bus's epoch changes).
    pub fn start() -> Self {
        Self::launch(false)
    }

    /// Keeps its data across a restart (append-only file), as a production Redis would.
    pub fn start_persistent() -> Self {
        Self::launch(true)
    }

    fn launch(persistent: bool) -> Self {
        super::install::debian_package(REDIS_SERVER, "redis-server")
            .unwrap_or_else(|e| panic!("these tests need redis-server: {e}"));
        // The port was free a moment ago; if another test took it meanwhile, this
        // redis-server exits at once (and a PING may even be answered by the other test's
        // server): that is noticed, and it starts again on another port.
        for _ in 0..5 {
            let mut server = RedisServer {
                port: super::free_port(),
                dir: tempfile::tempdir().expect("redis dir"),
                persistent,
                child: None,
            };
            if server.try_start() {
                return server;
            }
        }
        panic!("redis-server did not start on any of five free ports");
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Starts it again on the same port and data directory; returns once it answers. The
    /// nodes know this port: if another test took it meanwhile, that is an error, never
    /// silently someone else's Redis.
    pub fn start_again(&mut self) {
        assert!(
            self.try_start(),
            "redis-server could not start again on port {}",
            self.port
        );
    }

    /// Starts it; true once this very process answers on its port.
    fn try_start(&mut self) -> bool {
        assert!(self.child.is_none(), "redis-server is already running");
        let child = Command::new(REDIS_SERVER)
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", ""])
            .args(["--appendonly", if self.persistent { "yes" } else { "no" }])
            .args(["--appendfsync", "always"])
            .arg("--dir")
            .arg(self.dir.path())
            .args(["--loglevel", "warning"])
            .stdout(Stdio::null())
            .spawn()
            .expect("start redis-server");
        self.child = Some(child);
        for _ in 0..200 {
            if !self.running() {
                self.child = None;
                return false;
            }
            if self.ping() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("redis-server on port {} did not answer", self.port);
    }

    fn running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|child| matches!(child.try_wait(), Ok(None)))
    }

    /// Stops it the way an operator's restart does (SIGTERM, data flushed).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let _ = child.wait();
        }
    }

    /// Freezes it (SIGSTOP): connections stay open and nothing is answered, the way a
    /// Redis stuck on a slow disk or a dead network path looks.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// Lets a paused Redis go on (SIGCONT).
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, which: &str) {
        if let Some(child) = &self.child {
            let _ = Command::new("kill")
                .args([which, &child.id().to_string()])
                .status();
        }
    }

    /// Whether the server answering on the port is this one: `INFO server` names its
    /// process id (another test's Redis on a port taken meanwhile would answer too).
    fn ping(&self) -> bool {
        let Some(pid) = self.child.as_ref().map(Child::id) else {
            return false;
        };
        let Ok(mut tcp) = std::net::TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = tcp.set_read_timeout(Some(Duration::from_millis(500)));
        if tcp.write_all(b"INFO server\r\n").is_err() {
            return false;
        }
        let wanted = format!("process_id:{pid}\r\n");
        let mut answer = Vec::new();
        let mut chunk = [0u8; 4096];
        while answer.len() < 64 * 1024 {
            match tcp.read(&mut chunk) {
                Ok(0) | Err(_) => return false,
                Ok(n) => answer.extend_from_slice(&chunk[..n]),
            }
            let text = String::from_utf8_lossy(&answer);
            if text.contains(&wanted) {
                return true;
            }
            if text.contains("process_id:") && text.ends_with("\r\n\r\n") {
                return false;
            }
        }
        false
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
