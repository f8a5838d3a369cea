//! Helpers shared by the tests that run the real `example-site` binary.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A free port on 127.0.0.1 (the OS picks; released before use, so a tiny race remains).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits until something accepts connections on `port`.
pub fn wait_for_port(port: u16, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// A child process killed (and reaped) on drop, so a failing test leaves nothing running.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The example site (the real binary) serving on a random loopback port with `settings`
/// (`None`: the site's own settings.toml). Its log goes to `log` when given.
pub struct Site {
    pub port: u16,
    pub process: KillOnDrop,
}

impl Site {
    pub fn start(settings: Option<&Path>, log: Option<&Path>) -> Site {
        let port = free_port();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_example-site"));
        cmd.arg("serve")
            .arg("--bind")
            .arg(format!("127.0.0.1:{port}"));
        if let Some(s) = settings {
            cmd.arg("--settings").arg(s);
        }
        cmd.env("RUST_LOG", "info");
        // The site logs (tracing) to stdout; both streams go to the log file.
        match log {
            Some(path) => {
                let file = std::fs::File::create(path).unwrap();
                cmd.stdout(file.try_clone().unwrap()).stderr(file)
            }
            None => cmd.stdout(Stdio::null()).stderr(Stdio::null()),
        };
        let process = KillOnDrop(cmd.spawn().unwrap());
        assert!(
            wait_for_port(port, Duration::from_secs(20)),
            "the example site did not start on port {port}"
        );
        Site { port, process }
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// A fresh directory under the workspace's `target/` (kept after the test, for inspection).
pub fn target_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../target")
        .join(name);
    std::fs::create_dir_all(&dir).unwrap();
    // Absolute and without `..`: Chromium does not find its DevToolsActivePort file otherwise.
    dir.canonicalize().unwrap()
}

/// One HTTP/1.1 answer: status, headers (lower-case names), body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// `name=value` of every `Set-Cookie` (attributes dropped).
    pub fn set_cookies(&self) -> Vec<(String, String)> {
        self.headers
            .iter()
            .filter(|(k, _)| k == "set-cookie")
            .filter_map(|(_, v)| {
                let pair = v.split(';').next()?;
                let (n, v) = pair.split_once('=')?;
                Some((n.trim().to_owned(), v.trim().to_owned()))
            })
            .collect()
    }
}

/// One request over a fresh connection (`Connection: close`), with a read/write time limit:
/// the answer, or an error naming what timed out or failed.
pub fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
    limit: Duration,
) -> Result<Answer, String> {
    let mut stream = TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), limit)
        .map_err(|e| format!("connect: {e}"))?;
    stream.set_read_timeout(Some(limit)).ok();
    stream.set_write_timeout(Some(limit)).ok();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    // The Host a proxy would pass on, unless the caller gives one.
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        head.push_str(&format!("Host: 127.0.0.1:{port}\r\n"));
    }
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream
        .write_all(head.as_bytes())
        .and_then(|_| stream.write_all(body.as_bytes()))
        .map_err(|e| format!("write: {e}"))?;
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .map_err(|e| format!("read (no answer within {limit:?}?): {e}"))?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, rest) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("no complete head in {text:?}"))?;
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad status line in {head:?}"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"));
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.to_owned()
    };
    Ok(Answer {
        status,
        headers,
        body,
    })
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}
