//! A throwaway SMTP server (aiosmtpd from PyPI) on a random loopback port, for tests: each
//! message it receives is appended to a JSON-lines file the test reads. Skipped, loudly, when
//! no Python with aiosmtpd is found (`SMTP_SINK_PYTHON`, then the workspace's
//! `.venv/smtp-sink`, which `.ci/run` makes, then `python3`). Stopped on drop.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SINK: &str = r#"
import json, sys
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
port, out = int(sys.argv[1]), sys.argv[2]
user, password = (sys.argv[3], sys.argv[4]) if len(sys.argv) > 4 else (None, None)
class Handler:
    async def handle_DATA(self, server, session, envelope):
        with open(out, "a") as f:
            f.write(json.dumps({
                "mail_from": envelope.mail_from,
                "rcpt_tos": envelope.rcpt_tos,
                "data": envelope.content.decode("utf-8", "replace"),
                "authenticated": bool(session.authenticated),
            }) + "\n")
        return "250 Message accepted for delivery"
def authenticator(server, session, envelope, mechanism, auth_data):
    ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user
          and auth_data.password.decode() == password)
    return AuthResult(success=ok)
options = {}
if user is not None:
    options = dict(authenticator=authenticator, auth_require_tls=False, auth_required=True)
controller = Controller(Handler(), hostname="127.0.0.1", port=port, **options)
controller.start()
print("READY", flush=True)
sys.stdin.read()
controller.stop()
"#;

/// One message the sink received.
#[derive(Debug, Clone)]
pub struct Received {
    /// The envelope sender (`MAIL FROM`).
    pub mail_from: String,
    /// The envelope recipients (`RCPT TO`).
    pub rcpt_tos: Vec<String>,
    /// The message as sent (headers, blank line, body; CRLF line ends).
    pub data: String,
    /// Whether the client logged in first.
    pub authenticated: bool,
}

impl Received {
    /// The first header `name` (case-insensitive), unfolded.
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next().unwrap_or("");
        let mut found: Option<String> = None;
        for line in head.split("\r\n") {
            if line.starts_with([' ', '\t']) {
                if let Some(v) = found.as_mut() {
                    v.push_str(line.trim_start());
                }
                continue;
            }
            if found.is_some() {
                break;
            }
            if let Some((n, v)) = line.split_once(':') {
                if n.eq_ignore_ascii_case(name) {
                    found = Some(v.trim().to_owned());
                }
            }
        }
        found
    }

    /// The body after the blank line.
    pub fn body(&self) -> String {
        self.data
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default()
    }
}

/// A running sink.
pub struct SmtpSink {
    child: Child,
    /// Its port on 127.0.0.1.
    pub port: u16,
    out: PathBuf,
}

fn python() -> Option<String> {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/smtp-sink/bin/python");
    let candidates = [
        std::env::var("SMTP_SINK_PYTHON").ok(),
        Some(venv.display().to_string()),
        Some("python3".to_owned()),
    ];
    candidates.into_iter().flatten().find(|py| {
        Command::new(py)
            .args(["-c", "import aiosmtpd"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

impl SmtpSink {
    /// Starts one; `None` (and a SKIP line) without a Python that has aiosmtpd.
    pub fn start() -> Option<SmtpSink> {
        Self::start_with_login(None)
    }

    /// Starts one that requires `AUTH` with `user` / `password`.
    pub fn start_with_login(login: Option<(&str, &str)>) -> Option<SmtpSink> {
        let Some(py) = python() else {
            eprintln!("SKIP: no Python with aiosmtpd (pip install aiosmtpd, or set SMTP_SINK_PYTHON): SMTP test not run");
            return None;
        };
        for attempt in 0..5 {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .ok()?
                .local_addr()
                .ok()?
                .port();
            let out = std::env::temp_dir().join(format!(
                "smtp-sink-{}-{port}-{attempt}.jsonl",
                std::process::id()
            ));
            let _ = std::fs::remove_file(&out);
            let mut cmd = Command::new(&py);
            cmd.args(["-c", SINK, &port.to_string(), &out.display().to_string()]);
            if let Some((user, password)) = login {
                cmd.args([user, password]);
            }
            let mut child = cmd
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .ok()?;
            let stdout = child.stdout.take()?;
            let mut line = String::new();
            let ready =
                BufReader::new(stdout).read_line(&mut line).is_ok() && line.starts_with("READY");
            if ready {
                return Some(SmtpSink { child, port, out });
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        None
    }

    /// What the sink received so far.
    pub fn received(&self) -> Vec<Received> {
        let text = std::fs::read_to_string(&self.out).unwrap_or_default();
        text.lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .map(|v| Received {
                mail_from: v["mail_from"].as_str().unwrap_or("").to_owned(),
                rcpt_tos: v["rcpt_tos"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|x| x.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default(),
                data: v["data"].as_str().unwrap_or("").to_owned(),
                authenticated: v["authenticated"].as_bool().unwrap_or(false),
            })
            .collect()
    }

    /// Waits up to `timeout` for `n` messages (asleep on tokio's timer, so the sends run).
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Received> {
        let deadline = Instant::now() + timeout;
        loop {
            let got = self.received();
            if got.len() >= n || Instant::now() > deadline {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        // Closing stdin lets the sink stop its controller; kill in case it does not.
        drop(self.child.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.out);
    }
}
