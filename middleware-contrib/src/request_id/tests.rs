//! Ports of django-log-request-id's `log_request_id/tests.py::RequestIDLoggingTestCase`. The
//! original captures the `testproject` logger's messages (formatted with `[%(request_id)s]`);
//! here a `tracing` subscriber writes formatted lines into a buffer, and the view logs with
//! `tracing::info!` as `testproject/views.py::test_view` logs with `logger.error`.

use std::io::Write;
use std::sync::Mutex;

use super::*;
use middleware_core::test_client::{Client, TestResponse};
use middleware_core::{Body, Chain, Router};

/// `testproject/views.py::test_view`: logs one line and answers.
async fn test_view(_: &mut Request) -> Result<Response, Error> {
    tracing::info!("A log message.");
    Ok(Response::new("ok".into()))
}

/// A view that returns the id from the extensions.
async fn echo_id(request: &mut Request) -> Result<Response, Error> {
    let id = request
        .extensions()
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_else(|| "<missing>".into());
    Ok(Response::new(id.into()))
}

/// An inner middleware that logs a warning before and after the view.
struct InnerLogger(Next);

#[async_trait]
impl Middleware for InnerLogger {
    async fn call(&self, request: &mut Request) -> Result<Response, Error> {
        tracing::warn!("inner middleware before");
        let response = self.0.get_response(request).await;
        tracing::warn!("inner middleware after");
        Ok(response)
    }
}

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Buffer {
    fn lines(&self) -> Vec<String> {
        String::from_utf8(self.0.lock().unwrap().clone())
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

/// Runs one request through `RequestIDMiddleware` + `InnerLogger` + the views with `conf`,
/// capturing every formatted log line (the subscriber is set for this thread only).
fn run(conf: &str, path: &str, headers: &[(&str, &str)]) -> (TestResponse, Vec<String>) {
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .finish();
    let mut registry = Registry::new();
    register(&mut registry);
    registry.register("InnerLogger", |next, _| Ok(InnerLogger(next)));
    let settings = Settings::from_toml_str(
        &format!(
            "ALLOWED_HOSTS = [\"*\"]\nMIDDLEWARE = [\"log_request_id.middleware.RequestIDMiddleware\", \"InnerLogger\"]\n{conf}"
        ),
        "test.toml",
    )
    .unwrap();
    let mut router = Router::new();
    router.route("", test_view).unwrap();
    router.route("favicon.ico", test_view).unwrap();
    router.route("id/", echo_id).unwrap();
    let chain = Chain::builder(&registry, &settings)
        .urls(router)
        .build()
        .unwrap();
    let response = tracing::subscriber::with_default(subscriber, || {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(async {
                Client::new(chain)
                    .request(http::Method::GET, path, headers, Body::empty())
                    .await
            })
    });
    (response, buffer.lines())
}

fn line_with<'a>(lines: &'a [String], needle: &str) -> &'a str {
    lines
        .iter()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with {needle:?} in {lines:#?}"))
}

fn is_uuid4_hex(id: &str) -> bool {
    id.len() == 32
        && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        && &id[12..13] == "4"
        && matches!(&id[16..17], "8" | "9" | "a" | "b")
}

// log_request_id: tests.py::RequestIDLoggingTestCase::test_request and ::test_id_generation
#[test]
fn test_id_generation() {
    let (r, _) = run("", "/id/", &[]);
    let id = r.text();
    assert!(is_uuid4_hex(&id), "{id}");
    // A second request gets another id.
    let (r2, _) = run("", "/id/", &[]);
    assert_ne!(r2.text(), id);
    // The view's log line carries the id.
    let (_, lines) = run("", "/", &[]);
    let line = line_with(&lines, "A log message.");
    let id = line
        .split("request_id=")
        .nth(1)
        .and_then(|rest| rest.get(..32))
        .unwrap();
    assert!(is_uuid4_hex(id), "{line}");
}

/// Every event emitted inside the chain — by an inner middleware, before and after the view,
/// and by the view — carries the request's id.
#[test]
fn every_event_inside_the_request_carries_the_id() {
    let conf = "LOG_REQUEST_ID_HEADER = \"HTTP_X_REQUEST_ID\"";
    let (_, lines) = run(conf, "/", &[("x-request-id", "req-42")]);
    for needle in [
        "inner middleware before",
        "A log message.",
        "inner middleware after",
    ] {
        assert!(
            line_with(&lines, needle).contains("request_id=req-42"),
            "{lines:#?}"
        );
    }
    // And nothing is logged with another id.
    assert_eq!(
        lines.iter().filter(|l| l.contains("request_id=")).count(),
        3
    );
}

// log_request_id: tests.py::RequestIDLoggingTestCase::test_external_id_in_http_header
#[test]
fn test_external_id_in_http_header() {
    let conf = "LOG_REQUEST_ID_HEADER = \"HTTP_REQUEST_ID_HEADER\"";
    let (r, _) = run(conf, "/id/", &[("request-id-header", "some_request_id")]);
    assert_eq!(r.text(), "some_request_id");
    let (_, lines) = run(conf, "/", &[("request-id-header", "some_request_id")]);
    assert!(line_with(&lines, "A log message.").contains("request_id=some_request_id"));
}

// log_request_id: tests.py::RequestIDLoggingTestCase::test_default_no_request_id_is_used
// (here: the header is configured but absent, so the id is `NO_REQUEST_ID`'s default)
#[test]
fn test_default_no_request_id_is_used() {
    let conf = "LOG_REQUEST_ID_HEADER = \"HTTP_X_REQUEST_ID\"";
    let (r, _) = run(conf, "/id/", &[]);
    assert_eq!(r.text(), DEFAULT_NO_REQUEST_ID);
    let (_, lines) = run(conf, "/", &[]);
    assert!(line_with(&lines, "A log message.").contains("request_id=none"));
}

// log_request_id: tests.py::RequestIDLoggingTestCase::test_custom_request_id_is_used
#[test]
fn test_custom_request_id_is_used() {
    let conf = "LOG_REQUEST_ID_HEADER = \"HTTP_X_REQUEST_ID\"\nNO_REQUEST_ID = \"-\"";
    let (_, lines) = run(conf, "/", &[]);
    assert!(line_with(&lines, "A log message.").contains("request_id=-"));
}

// log_request_id: tests.py::RequestIDLoggingTestCase::test_external_id_missing_in_http_header_should_fallback_to_generated_id
#[test]
fn test_external_id_missing_in_http_header_should_fallback_to_generated_id() {
    let conf = "LOG_REQUEST_ID_HEADER = \"HTTP_X_REQUEST_ID\"\nGENERATE_REQUEST_ID_IF_NOT_IN_HEADER = true";
    let (r, _) = run(conf, "/id/", &[]);
    assert!(is_uuid4_hex(&r.text()), "{}", r.text());
    // With the header present, it still wins.
    let (r, _) = run(conf, "/id/", &[("x-request-id", "given")]);
    assert_eq!(r.text(), "given");
}

// log_request_id: tests.py::RequestIDLoggingTestCase::test_log_requests
#[test]
fn test_log_requests() {
    let conf = "LOG_REQUESTS = true\nLOG_REQUEST_ID_HEADER = \"HTTP_X_REQUEST_ID\"";
    let (_, lines) = run(conf, "/", &[("x-request-id", "r1")]);
    let line = line_with(&lines, "method=GET path=/ status=200");
    assert!(line.contains("request_id=r1"), "{line}");
    assert!(line.contains("log_request_id.middleware"), "{line}");
    // Without LOG_REQUESTS, no such line.
    let (_, lines) = run("", "/", &[]);
    assert!(
        !lines.iter().any(|l| l.contains("method=GET")),
        "{lines:#?}"
    );
}

/// The original does not log requests whose path contains `favicon`.
#[test]
fn favicon_requests_are_not_logged() {
    let (r, lines) = run("LOG_REQUESTS = true", "/favicon.ico", &[]);
    assert_eq!(r.status, 200);
    assert!(
        !lines.iter().any(|l| l.contains("method=GET")),
        "{lines:#?}"
    );
}

// log_request_id: tests.py::RequestIDLoggingTestCase::test_response_header_unset
#[test]
fn test_response_header_unset() {
    let conf = "LOG_REQUEST_ID_HEADER = \"HTTP_X_REQUEST_ID\"";
    let (r, _) = run(conf, "/", &[("x-request-id", "some_request_id")]);
    assert!(r.header("request-id").is_none());
    assert!(r.header("x-request-id").is_none());
}

// log_request_id: tests.py::RequestIDLoggingTestCase::test_response_header_set
#[test]
fn test_response_header_set() {
    let conf =
        "LOG_REQUEST_ID_HEADER = \"HTTP_X_REQUEST_ID\"\nREQUEST_ID_RESPONSE_HEADER = \"REQUEST_ID\"";
    let (r, _) = run(conf, "/", &[("x-request-id", "some_request_id")]);
    assert_eq!(r.header("request-id"), Some("some_request_id"));
}

/// Incoming ids that could forge or break log lines are refused: treated as missing.
#[test]
fn invalid_incoming_ids_are_refused() {
    let conf = "LOG_REQUEST_ID_HEADER = \"HTTP_X_REQUEST_ID\"\nREQUEST_ID_RESPONSE_HEADER = \"X-Request-ID\"";
    let long = "a".repeat(MAX_REQUEST_ID_LEN + 1);
    for bad in [
        "abc status=500 user=admin",
        "abc\" injected=\"1",
        "{evil}",
        "%0aINFO fake",
        "",
        long.as_str(),
    ] {
        let (r, lines) = run(conf, "/id/", &[("x-request-id", bad)]);
        assert_eq!(r.text(), "none", "{bad:?}");
        assert_eq!(r.header("x-request-id"), Some("none"));
        assert!(!lines.iter().any(|l| !bad.is_empty() && l.contains(bad)));
    }
    let ok = "a".repeat(MAX_REQUEST_ID_LEN);
    for good in [
        "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8",
        "0f8fad5b-d9cb-469f-a165-70867728950e",
        ok.as_str(),
    ] {
        let (r, _) = run(conf, "/id/", &[("x-request-id", good)]);
        assert_eq!(r.text(), good);
    }
    assert!(!is_valid_request_id("caf\u{e9}".as_bytes()));
    assert!(!is_valid_request_id(b"a\x00b"));
}

/// A response header name that is not a header is a start-up error naming the setting.
#[test]
fn bad_header_setting_is_named() {
    let mut registry = Registry::new();
    register(&mut registry);
    let settings = Settings::from_toml_str(
        "MIDDLEWARE = [\"RequestIDMiddleware\"]\nREQUEST_ID_RESPONSE_HEADER = \"bad header\"",
        "t",
    )
    .unwrap();
    let err = Chain::builder(&registry, &settings)
        .urls(Router::new())
        .build()
        .unwrap_err()
        .to_string();
    assert!(err.contains("REQUEST_ID_RESPONSE_HEADER"), "{err}");
}
