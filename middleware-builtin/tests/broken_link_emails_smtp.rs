//! `BrokenLinkEmailsMiddleware` sending over SMTP to a real server (aiosmtpd, started on a
//! loopback port; SKIP without it): what Django's `mail_managers` puts on the wire, the SMTP
//! login, and that neither a hanging nor a missing server touches the response. The Django
//! tests it extends: tests/middleware/tests.py::BrokenLinkEmailsMiddlewareTest (the decisions,
//! mirrored in src/broken_link_emails_tests.rs) and tests/mail/tests.py::SMTPBackendTests.
#![cfg(feature = "mail")]
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use http::Method;
use middleware_builtin::broken_link_emails::BrokenLinkEmailsMiddleware;
use middleware_core::test_client::Client;
use middleware_core::{Body, Chain, Registry, Router, Settings};

#[path = "support/smtp_sink.rs"]
mod smtp_sink;
use smtp_sink::SmtpSink;

fn client(conf: &str) -> Client {
    let mut registry = Registry::new();
    middleware_builtin::broken_link_emails::register(&mut registry);
    client_of(
        &registry,
        "django.middleware.common.BrokenLinkEmailsMiddleware",
        conf,
    )
}

/// A client of the chain `registry` builds with `MIDDLEWARE = [middleware]` and `conf`.
fn client_of(registry: &Registry, middleware: &str, conf: &str) -> Client {
    let settings = Settings::from_toml_str(
        &format!("MIDDLEWARE = ['{middleware}']\nALLOWED_HOSTS = ['testserver']\n{conf}"),
        "settings.toml",
    )
    .unwrap();
    let chain = Chain::builder(registry, &settings)
        .urls(Router::new())
        .build()
        .unwrap();
    Client::new(chain)
}

async fn get(c: &mut Client, path: &str, headers: &[(&str, &str)]) -> u16 {
    c.request(Method::GET, path, headers, Body::empty())
        .await
        .status
        .as_u16()
}

/// The log lines of this test binary: one global subscriber (a thread-local one would miss
/// events whose callsites tests running in parallel cached as disabled). Tests pick out their
/// own lines by the port they use.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

static LOGS: OnceLock<Logs> = OnceLock::new();

fn logs() -> &'static Logs {
    LOGS.get_or_init(|| {
        let logs = Logs::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
        logs
    })
}

impl Logs {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    /// The lines containing `needle`, once there is one (or after `timeout`).
    async fn wait_for(&self, needle: &str, timeout: Duration) -> Vec<String> {
        let deadline = Instant::now() + timeout;
        loop {
            let lines: Vec<String> = self
                .text()
                .lines()
                .filter(|l| l.contains(needle))
                .map(str::to_owned)
                .collect();
            if !lines.is_empty() || Instant::now() > deadline {
                return lines;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

// Django: tests/middleware/tests.py::BrokenLinkEmailsMiddlewareTest::test_404_error_reporting,
// over SMTP: Django's mail_managers message (EMAIL_SUBJECT_PREFIX + subject, From SERVER_EMAIL,
// To every MANAGERS address, the four-line body) as the SMTP server receives it.
#[tokio::test]
async fn test_404_error_reporting_over_smtp() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let mut c = client(&format!(
        "EMAIL_HOST = '127.0.0.1'\nEMAIL_PORT = {}\nEMAIL_TIMEOUT = 10\nMANAGERS = ['manager@example.com', 'Ops <ops@example.com>']\nSERVER_EMAIL = 'errors@example.com'\nEMAIL_SUBJECT_PREFIX = '[site] '\nIGNORABLE_404_URLS = ['foo']",
        sink.port
    ));
    // Ignorable ones first: nothing is sent for them.
    assert_eq!(get(&mut c, "/gone/", &[]).await, 404);
    assert_eq!(
        get(&mut c, "/foo/", &[("referer", "/another/url/")]).await,
        404
    );
    let status = get(
        &mut c,
        "/regular_url/that/does/not/exist?x=1",
        &[
            ("referer", "http://testserver/from/"),
            ("user-agent", "Browser 1.0"),
        ],
    )
    .await;
    assert_eq!(status, 404);
    let got = sink.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 1, "{got:?}");
    let m = &got[0];
    assert_eq!(m.mail_from, "errors@example.com");
    assert_eq!(m.rcpt_tos, ["manager@example.com", "ops@example.com"]);
    assert!(!m.authenticated);
    assert_eq!(
        m.header("Subject").as_deref(),
        Some("[site] Broken INTERNAL link on testserver")
    );
    assert_eq!(m.header("From").as_deref(), Some("errors@example.com"));
    let to = m.header("To").unwrap();
    assert!(
        to.contains("manager@example.com") && to.contains("ops@example.com"),
        "{to}"
    );
    assert!(m
        .header("Content-Type")
        .unwrap()
        .starts_with("text/plain; charset=utf-8"));
    assert!(
        m.header("Date").is_some() && m.header("Message-ID").is_some(),
        "{}",
        m.data
    );
    // The SMTP line ends; aiosmtpd keeps the CRLF before the final dot.
    assert_eq!(
        m.body().trim_end_matches("\r\n"),
        "Referrer: http://testserver/from/\r\nRequested URL: /regular_url/that/does/not/exist?x=1\r\nUser agent: Browser 1.0\r\nIP address: <none>"
    );
    // Nothing more comes for the ignorable ones.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(sink.received().len(), 1);
}

// Django's SMTP backend logs in when EMAIL_HOST_USER and EMAIL_HOST_PASSWORD are both set
// (tests/mail/tests.py::SMTPBackendTests::test_email_authentication_use_settings); a refused
// login is logged without the password, and the response is the 404 either way.
#[tokio::test]
async fn email_host_user_and_password_log_in() {
    let Some(sink) = SmtpSink::start_with_login(Some(("mailer", "s3cret-pw"))) else {
        return;
    };
    let conf = |password: &str| {
        format!(
            "EMAIL_HOST = '127.0.0.1'\nEMAIL_PORT = {}\nEMAIL_TIMEOUT = 3\nMANAGERS = ['manager@example.com']\nEMAIL_HOST_USER = 'mailer'\nEMAIL_HOST_PASSWORD = '{password}'",
            sink.port
        )
    };
    let mut c = client(&conf("s3cret-pw"));
    assert_eq!(
        get(&mut c, "/missing/", &[("referer", "/another/url/")]).await,
        404
    );
    let got = sink.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].authenticated);

    let logs = logs();
    let mut c = client(&conf("wrong-pw-value"));
    assert_eq!(
        get(&mut c, "/missing/", &[("referer", "/another/url/")]).await,
        404
    );
    let lines = logs
        .wait_for(&format!("127.0.0.1:{}", sink.port), Duration::from_secs(10))
        .await;
    assert_eq!(lines.len(), 1, "{}", logs.text());
    assert!(lines[0].contains("mail not sent"), "{lines:?}");
    assert!(!logs.text().contains("wrong-pw-value") && !logs.text().contains("s3cret-pw"));
    assert_eq!(sink.received().len(), 1);
}

// A mail server that accepts the connection and never answers: the 404 comes back at once,
// and the send gives up after EMAIL_TIMEOUT with a log line; one that refuses connections is
// logged too. Django's fail_silently=True (BrokenLinkEmailsMiddlewareTest::test_sends_using_fail_silently),
// without the wait Django's synchronous send would add to the response.
#[tokio::test]
async fn a_hanging_or_missing_mail_server_never_delays_the_response() {
    let hang = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = hang.local_addr().unwrap().port();
    let logs = logs();
    let mut c = client(&format!(
        "EMAIL_HOST = '127.0.0.1'\nEMAIL_PORT = {port}\nEMAIL_TIMEOUT = 1\nMANAGERS = ['manager@example.com']\nEMAIL_HOST_PASSWORD = 'never-logged'\nEMAIL_HOST_USER = 'u'"
    ));
    let started = Instant::now();
    for _ in 0..3 {
        assert_eq!(
            get(&mut c, "/missing/", &[("referer", "/another/url/")]).await,
            404
        );
    }
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "{:?}",
        started.elapsed()
    );
    let lines = logs
        .wait_for(&format!("127.0.0.1:{port}"), Duration::from_secs(5))
        .await;
    assert!(!lines.is_empty(), "{}", logs.text());
    assert!(lines[0].contains("mail not sent"), "{lines:?}");
    assert!(!logs.text().contains("never-logged"));
    drop(hang);

    // Nothing listens on the port any more: connection refused, logged, the 404 unchanged.
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = free.local_addr().unwrap().port();
    drop(free);
    let mut c = client(&format!(
        "EMAIL_HOST = '127.0.0.1'\nEMAIL_PORT = {port}\nEMAIL_TIMEOUT = 2\nMANAGERS = ['refused@example.com']"
    ));
    assert_eq!(
        get(&mut c, "/missing/", &[("referer", "/another/url/")]).await,
        404
    );
    let lines = logs
        .wait_for(&format!("127.0.0.1:{port}"), Duration::from_secs(5))
        .await;
    assert!(!lines.is_empty(), "{}", logs.text());
}

// Django: tests/middleware/tests.py::BrokenLinkEmailsMiddlewareTest::test_sends_using_default_mailer:
// with MAILERS set, the mail goes through MAILERS["default"] (its OPTIONS, not the EMAIL_*
// settings, which point nowhere here), and a middleware built with `using` sends through the
// mailer it names (Django's `using` class attribute, test_custom_send_mail).
#[tokio::test]
async fn test_sends_using_default_mailer() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let port = sink.port;
    let conf = format!(
        "EMAIL_HOST = '192.0.2.1'\nEMAIL_PORT = 1\nMANAGERS = ['manager@example.com']\n\
         [MAILERS.default]\nOPTIONS = {{ host = '127.0.0.1', port = {port}, timeout = 10 }}\n\
         [MAILERS.custom]\nOPTIONS = {{ host = '127.0.0.1', port = {port}, timeout = 10 }}\n\
         [MAILERS.quiet]\nBACKEND = 'django.core.mail.backends.dummy.EmailBackend'"
    );
    let mut c = client(&conf);
    assert_eq!(
        get(&mut c, "/missing/", &[("referer", "/another/url/")]).await,
        404
    );
    let got = sink.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].rcpt_tos, ["manager@example.com"]);

    // A ported subclass: its own name, Django's settings, another mailer.
    for using in ["custom", "quiet", "missing"] {
        let mut registry = Registry::new();
        registry
            .register_ready_hooks("Broken", move |ctx| {
                Ok(BrokenLinkEmailsMiddleware::using(
                    ctx.settings,
                    Some(using),
                )?)
            })
            .declares::<middleware_builtin::mail::MailSettings>();
        let mut c = client_of(&registry, "Broken", &conf);
        assert_eq!(
            get(&mut c, "/missing/", &[("referer", "/another/url/")]).await,
            404
        );
        if using == "custom" {
            let got = sink.wait_for(2, Duration::from_secs(10)).await;
            assert_eq!(got.len(), 2, "{got:?}");
        }
    }
    // Neither the dummy mailer nor a missing one sent anything.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sink.received().len(), 2);
}

// Django: test_no_error_when_email_not_configured with MAILERS={}: no mailer, no mail, the 404.
#[tokio::test]
async fn empty_mailers_send_nothing() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let mut c = client(&format!(
        "EMAIL_HOST = '127.0.0.1'\nEMAIL_PORT = {}\nMANAGERS = ['manager@example.com']\n[MAILERS]",
        sink.port
    ));
    assert_eq!(
        get(&mut c, "/missing/", &[("referer", "/another/url/")]).await,
        404
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(sink.received().is_empty());
}
