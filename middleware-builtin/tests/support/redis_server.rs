//! A throwaway `redis-server` on a random loopback port, for tests (skipped when the binary is
//! not installed). Killed on drop.
#![allow(dead_code)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `redis-server` child.
pub struct RedisServer {
    child: Child,
    /// Its port on 127.0.0.1.
    pub port: u16,
}

impl RedisServer {
    /// Starts one on `port`; `None` if it is not accepting connections within 5 s.
    pub fn start_on(port: u16) -> Option<RedisServer> {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let mut server = RedisServer { child, port };
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                // Something answers on the port; make sure it is our child and not another
                // test's server that got the same port (ours would then exit on `bind`).
                std::thread::sleep(Duration::from_millis(100));
                return match server.child.try_wait() {
                    Ok(None) => Some(server),
                    _ => None,
                };
            }
            if !matches!(server.child.try_wait(), Ok(None)) {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Starts one on a free port; `None` (and a SKIP note) without `redis-server`.
    pub fn start() -> Option<RedisServer> {
        if Command::new("redis-server")
            .arg("--version")
            .output()
            .is_err()
        {
            eprintln!("SKIP: redis-server not found");
            return None;
        }
        // A free port can be taken again before redis-server binds it (tests run in parallel):
        // try a few.
        for _ in 0..5 {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .ok()?
                .local_addr()
                .ok()?
                .port();
            if let Some(server) = RedisServer::start_on(port) {
                return Some(server);
            }
        }
        None
    }

    /// Its process id (to freeze it with `SIGSTOP` in outage tests).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills it and waits for it to exit.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}
