//! Django's `tests/middleware/tests.py::BrokenLinkEmailsMiddlewareTest`, with a recording mailer
//! standing in for Django's locmem backend (`tests/broken_link_emails_smtp.rs` sends for real).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Mutex;

use http::Method;
use middleware_core::test_client::Client;
use middleware_core::{async_trait, Body, Chain, Router};

use super::*;
use crate::mail::{EmailMessage, MailError};

/// Django's `mail.outbox`.
#[derive(Debug, Default)]
struct Outbox(Mutex<Vec<EmailMessage>>);

#[async_trait]
impl Mailer for Outbox {
    async fn send(&self, message: &EmailMessage) -> Result<(), MailError> {
        self.0.lock().unwrap().push(message.clone());
        Ok(())
    }
}

/// The class-level `override_settings` of Django's test case.
const BASE: &str = "IGNORABLE_404_URLS = ['foo']\nMANAGERS = ['manager@example.com']\nALLOWED_HOSTS = ['testserver']\n";
const PATH: &str = "/regular_url/that/does/not/exist";

struct Harness {
    client: Client,
    outbox: Arc<Outbox>,
    queue: Arc<Mutex<Option<MailQueue>>>,
}

impl Harness {
    fn new(conf: &str) -> Self {
        Self::with_hooks(conf, Arc::new(DjangoHooks))
    }

    fn with_hooks(conf: &str, hooks: Arc<dyn BrokenLinkHooks>) -> Self {
        let outbox = Arc::new(Outbox::default());
        let queue = Arc::new(Mutex::new(None));
        let mut registry = Registry::new();
        let (o, q) = (outbox.clone(), queue.clone());
        registry
            .register_ready_hooks("Broken", move |ctx| {
                let email = EmailConfig::from_settings(ctx.settings)?;
                let mw = BrokenLinkEmailsMiddleware::with_mailer(ctx.settings, email, o.clone())?
                    .hooks(hooks.clone());
                *q.lock().unwrap() = Some(mw.queue().clone());
                Ok(mw)
            })
            .declares::<BrokenLinkSettings>()
            .declares::<mail::MailSettings>();
        let settings = Settings::from_toml_str(
            &format!("{BASE}MIDDLEWARE = ['Broken']\n{conf}"),
            "test.toml",
        )
        .unwrap();
        let chain = Chain::builder(&registry, &settings)
            .urls(Router::new())
            .build()
            .unwrap();
        Harness {
            client: Client::new(chain),
            outbox,
            queue,
        }
    }

    /// A GET of `path` with `headers`, then the mails it sent once the queue is idle.
    async fn get(&mut self, path: &str, headers: &[(&str, &str)]) -> Vec<EmailMessage> {
        let r = self
            .client
            .request(Method::GET, path, headers, Body::empty())
            .await;
        assert_eq!(r.status, 404, "the response is never changed");
        let queue = self.queue.lock().unwrap().clone().unwrap();
        queue.idle().await;
        self.outbox.0.lock().unwrap().clone()
    }
}

// Django: tests/middleware/tests.py::BrokenLinkEmailsMiddlewareTest::test_404_error_reporting
#[tokio::test]
async fn test_404_error_reporting() {
    let mut h = Harness::new("");
    let outbox = h.get(PATH, &[("referer", "/another/url/")]).await;
    assert_eq!(outbox.len(), 1);
    assert!(outbox[0].subject.contains("Broken"));
    // What Django's mail_managers makes of it.
    assert_eq!(outbox[0].subject, "[Django] Broken link on testserver");
    assert_eq!(outbox[0].from_email, "root@localhost");
    assert_eq!(outbox[0].to, ["manager@example.com"]);
    assert_eq!(
        outbox[0].body,
        format!("Referrer: /another/url/\nRequested URL: {PATH}\nUser agent: <none>\nIP address: <none>\n")
    );
}

// Django: BrokenLinkEmailsMiddleware.process_response's subject for a referrer on the same
// domain ("INTERNAL "), the query string in "Requested URL" (get_full_path), the user agent,
// EMAIL_SUBJECT_PREFIX and SERVER_EMAIL.
#[tokio::test]
async fn internal_referer_subject_and_full_path_body() {
    let mut h =
        Harness::new("EMAIL_SUBJECT_PREFIX = '[site] '\nSERVER_EMAIL = 'errors@example.com'");
    let outbox = h
        .get(
            "/missing?q=1",
            &[
                ("referer", "https://testserver/page/"),
                ("user-agent", "Browser 1.0"),
            ],
        )
        .await;
    assert_eq!(outbox.len(), 1);
    assert_eq!(
        outbox[0].subject,
        "[site] Broken INTERNAL link on testserver"
    );
    assert_eq!(outbox[0].from_email, "errors@example.com");
    assert_eq!(
        outbox[0].body,
        "Referrer: https://testserver/page/\nRequested URL: /missing?q=1\nUser agent: Browser 1.0\nIP address: <none>\n"
    );
}

// Django: `response.status_code == 404 and not settings.DEBUG`: nothing is mailed in DEBUG.
#[tokio::test]
async fn nothing_in_debug() {
    let mut h = Harness::new("DEBUG = true");
    assert!(h
        .get(PATH, &[("referer", "/another/url/")])
        .await
        .is_empty());
}

// Django: tests/middleware/tests.py::BrokenLinkEmailsMiddlewareTest::test_404_error_reporting_no_referer
#[tokio::test]
async fn test_404_error_reporting_no_referer() {
    let mut h = Harness::new("");
    assert!(h.get(PATH, &[]).await.is_empty());
}

// Django: tests/middleware/tests.py::BrokenLinkEmailsMiddlewareTest::test_404_error_reporting_ignored_url
#[tokio::test]
async fn test_404_error_reporting_ignored_url() {
    let mut h = Harness::new("");
    let outbox = h
        .get(
            "/foo_url/that/does/not/exist",
            &[("referer", "/another/url/")],
        )
        .await;
    assert!(outbox.is_empty());
}

struct Subclassed;

impl BrokenLinkHooks for Subclassed {
    fn is_ignorable_request(
        &self,
        rules: &BrokenLinkRules,
        request: &Request,
        uri: &str,
        domain: &str,
        referer: &str,
    ) -> bool {
        if rules.is_ignorable_request(uri, domain, referer) {
            return true;
        }
        let agent = request
            .headers()
            .get(USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        [
            Regex::new("Spider.*").unwrap(),
            Regex::new("Robot.*").unwrap(),
        ]
        .iter()
        .any(|p| p.is_match(agent))
    }
}

// Django: tests/middleware/tests.py::BrokenLinkEmailsMiddlewareTest::test_custom_request_checker
#[tokio::test]
async fn test_custom_request_checker() {
    let mut h = Harness::with_hooks("", Arc::new(Subclassed));
    let referer = ("referer", "/another/url/");
    let outbox = h
        .get(PATH, &[referer, ("user-agent", "Spider machine 3.4")])
        .await;
    assert_eq!(outbox.len(), 0);
    let outbox = h
        .get(PATH, &[referer, ("user-agent", "My user agent")])
        .await;
    assert_eq!(outbox.len(), 1);
}

// Django: tests/middleware/tests.py::BrokenLinkEmailsMiddlewareTest::test_referer_equal_to_requested_url
#[tokio::test]
async fn test_referer_equal_to_requested_url() {
    let mut h = Harness::new("");
    assert!(h.get(PATH, &[("referer", PATH)]).await.is_empty());
    let with_host = format!("http://testserver{PATH}");
    assert!(h.get(PATH, &[("referer", &with_host)]).await.is_empty());
    // Bots use http:// in referrers even on HTTPS sites.
    let mut h = Harness::new("SECURE_PROXY_SSL_HEADER = ['HTTP_X_PROTO', 'https']");
    let outbox = h
        .get(PATH, &[("referer", &with_host), ("x-proto", "https")])
        .await;
    assert!(outbox.is_empty());
}

// Django: tests/middleware/tests.py::BrokenLinkEmailsMiddlewareTest::test_referer_equal_to_requested_url_on_another_domain
#[tokio::test]
async fn test_referer_equal_to_requested_url_on_another_domain() {
    let mut h = Harness::new("");
    let referer = format!("http://anotherserver{PATH}");
    assert_eq!(h.get(PATH, &[("referer", &referer)]).await.len(), 1);
}

// Django: tests/middleware/tests.py::BrokenLinkEmailsMiddlewareTest::test_referer_equal_to_requested_url_without_trailing_slash_with_append_slash
#[tokio::test]
async fn test_referer_equal_to_requested_url_without_trailing_slash_with_append_slash() {
    let mut h = Harness::new("APPEND_SLASH = true");
    let outbox = h.get(&format!("{PATH}/"), &[("referer", PATH)]).await;
    assert!(outbox.is_empty());
}

// Django: tests/middleware/tests.py::BrokenLinkEmailsMiddlewareTest::test_referer_equal_to_requested_url_without_trailing_slash_with_no_append_slash
#[tokio::test]
async fn test_referer_equal_to_requested_url_without_trailing_slash_with_no_append_slash() {
    let mut h = Harness::new("APPEND_SLASH = false");
    let outbox = h.get(&format!("{PATH}/"), &[("referer", PATH)]).await;
    assert_eq!(outbox.len(), 1);
}

// Django: is_ignorable_request's "A '?' in referer is identified as a search engine source",
// for outside referrers only.
#[tokio::test]
async fn search_engine_referer_is_ignored_unless_internal() {
    let mut h = Harness::new("");
    let outside = h
        .get(PATH, &[("referer", "https://search.example/?q=x")])
        .await;
    assert!(outside.is_empty());
    let inside = h
        .get(PATH, &[("referer", "http://testserver/search/?q=x")])
        .await;
    assert_eq!(inside.len(), 1);
    assert!(inside[0].subject.contains("INTERNAL"));
}

struct CustomSendMail;

impl BrokenLinkHooks for CustomSendMail {
    fn compose(&self, _subject: String, _message: String) -> (String, String) {
        ("custom subject".to_owned(), "custom message".to_owned())
    }
}

// Django: tests/middleware/tests.py::BrokenLinkEmailsMiddlewareTest::test_custom_send_mail
#[tokio::test]
async fn test_custom_send_mail() {
    let mut h = Harness::with_hooks("", Arc::new(CustomSendMail));
    let outbox = h.get(PATH, &[("referer", "/another/url/")]).await;
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].subject, "[Django] custom subject");
    assert_eq!(outbox[0].body, "custom message");
}

#[derive(Debug)]
struct Failing;

#[async_trait]
impl Mailer for Failing {
    async fn send(&self, _message: &EmailMessage) -> Result<(), MailError> {
        Err(MailError::Message("the backend is down".to_owned()))
    }
}

// Django: tests/middleware/tests.py::BrokenLinkEmailsMiddlewareTest::test_sends_using_fail_silently:
// a failing backend never changes the response.
#[tokio::test]
async fn test_sends_using_fail_silently() {
    let settings = Settings::from_toml_str(BASE, "t.toml").unwrap();
    assert_eq!(broken_link_through(&settings, Arc::new(Failing)).await, 404);
}

/// A 404 for `PATH` with a referer through the middleware sending with `mailer`; the status
/// of the response, once the mail queue is idle.
async fn broken_link_through(settings: &Settings, mailer: Arc<dyn Mailer>) -> StatusCode {
    let email = EmailConfig::from_settings(settings).unwrap();
    let mw = BrokenLinkEmailsMiddleware::with_mailer(settings, email, mailer).unwrap();
    let mut request = http::Request::get(PATH)
        .header("host", "testserver")
        .header("referer", "/another/url/")
        .body(Body::empty())
        .unwrap();
    request.set_core_settings(settings.core().clone());
    let mut not_found = Response::new(Default::default());
    *not_found.status_mut() = StatusCode::NOT_FOUND;
    mw.process_response(&mut request, &mut not_found)
        .outcome()
        .await
        .unwrap();
    mw.queue().idle().await;
    not_found.status()
}

// Django: tests/middleware/tests.py::BrokenLinkEmailsMiddlewareTest::test_no_error_when_email_not_configured
// (here: MANAGERS empty, Django's `if not recipients: return`).
#[tokio::test]
async fn test_no_error_when_email_not_configured() {
    let settings = Settings::from_toml_str("ALLOWED_HOSTS = ['testserver']", "t.toml").unwrap();
    let outbox = Arc::new(Outbox::default());
    assert_eq!(broken_link_through(&settings, outbox.clone()).await, 404);
    assert!(outbox.0.lock().unwrap().is_empty());
}

#[test]
fn registered_under_djangos_path_and_bad_regexes_fail_at_start_up() {
    let mut registry = Registry::new();
    register(&mut registry);
    for (extra, expected) in [
        (
            "EMAIL_BACKEND = 'django.core.mail.backends.dummy.EmailBackend'\nIGNORABLE_404_URLS = ['(']",
            "IGNORABLE_404_URLS",
        ),
        ("EMAIL_USE_TLS = true\nEMAIL_USE_SSL = true", "mutually exclusive"),
    ] {
        let settings = Settings::from_toml_str(
            &format!("MIDDLEWARE = ['django.middleware.common.BrokenLinkEmailsMiddleware']\n{extra}"),
            "t.toml",
        )
        .unwrap();
        let err = Chain::builder(&registry, &settings)
            .build()
            .unwrap_err()
            .to_string();
        assert!(err.contains(expected), "{err}");
    }
}

#[test]
fn is_internal_request_is_djangos_regex() {
    let rules = BrokenLinkRules::from_settings(&Settings::default()).unwrap();
    assert!(rules.is_internal_request("example.com", "http://example.com/"));
    assert!(rules.is_internal_request("example.com", "https://example.com/x?y"));
    assert!(!rules.is_internal_request("example.com", "http://example.com"));
    assert!(!rules.is_internal_request("example.com", "http://example.com.evil/"));
    assert!(!rules.is_internal_request("example.com", "http://sub.example.com/"));
    assert!(!rules.is_internal_request("example.com", "ftp://example.com/"));
    assert!(!rules.is_internal_request("example.com", "HTTP://example.com/"));
}
