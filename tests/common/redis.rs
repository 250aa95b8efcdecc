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
        panic!("redis-server could not get a free port");
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
                // Answered; still ours only if our process is alive (it exits when the
                // port is taken).
                std::thread::sleep(Duration::from_millis(50));
                if self.running() {
                    return true;
                }
                self.child = None;
                return false;
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

    fn ping(&self) -> bool {
        let Ok(mut tcp) = std::net::TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = tcp.set_read_timeout(Some(Duration::from_millis(500)));
        let mut answer = [0u8; 7];
        tcp.write_all(b"PING\r\n").is_ok()
            && tcp.read_exact(&mut answer).is_ok()
            && &answer == b"+PONG\r\n"
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
