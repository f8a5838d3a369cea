//! `CSRF_USE_SESSIONS`: `CsrfViewMiddlewareUseSessionsTests`, through a probe between
//! SessionMiddleware and CsrfViewMiddleware.

use super::*;

/// A middleware placed between SessionMiddleware and CsrfViewMiddleware: reports what the CSRF
/// middleware put on the response (`x-probe-vary`, `x-probe-csrf-cookie`), and with
/// `drop_session` hides the session from it.
struct Probe {
    next: middleware_core::Next,
    drop_session: bool,
}

#[middleware_core::async_trait]
impl middleware_core::Middleware for Probe {
    async fn call(&self, req: &mut Request) -> Result<Response, Error> {
        if self.drop_session {
            req.extensions_mut().remove::<sessions::Session>();
        }
        let mut response = self.next.get_response(req).await;
        let vary = response
            .headers()
            .get("vary")
            .map_or("none".to_owned(), |v| v.to_str().unwrap().to_owned());
        let csrf_cookie = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .any(|v| v.to_str().unwrap().starts_with("csrftoken="));
        let headers = response.headers_mut();
        headers.insert("x-probe-vary", vary.parse().unwrap());
        headers.insert(
            "x-probe-csrf-cookie",
            csrf_cookie.to_string().parse().unwrap(),
        );
        Ok(response)
    }
}

fn session_chain_with_probe(drop_session: bool) -> Chain {
    let mut registry = registry();
    registry.register(
        "Probe",
        move |next, _: &middleware_core::BuildContext<'_>| Ok(Probe { next, drop_session }),
    );
    let conf = format!(
        r#"
ALLOWED_HOSTS = ["testserver"]
MIDDLEWARE = ["django.contrib.sessions.middleware.SessionMiddleware", "Probe", "django.middleware.csrf.CsrfViewMiddleware"]
CSRF_USE_SESSIONS = true
CSRF_FAILURE_VIEW = "tests.reason"
SECRET_KEY = "{SECRET_KEY}"
DEBUG = {drop_session}
"#
    );
    let settings = Settings::from_toml_str(&conf, "t").unwrap();
    Chain::builder(&registry, &settings)
        .urls(router())
        .build()
        .unwrap()
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareUseSessionsTests::test_no_session_on_request
#[tokio::test]
async fn test_no_session_on_request() {
    USE_SESSIONS.with(|m| m.set(true));
    let chain = session_chain_with_probe(true);
    let r = send(&chain, Req::get("/token/").build()).await;
    assert_eq!(r.status, 500);
    // DEBUG is on in this chain: the technical 500 page shows Django's message.
    assert!(
        r.body.contains(
            "CSRF_USE_SESSIONS is enabled, but request.session is not set. SessionMiddleware \
             must appear before CsrfViewMiddleware in MIDDLEWARE."
        ),
        "{}",
        r.body
    );
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareUseSessionsTests::test_masked_unmasked_combinations
#[tokio::test]
async fn test_masked_unmasked_combinations_use_sessions() {
    USE_SESSIONS.with(|m| m.set(true));
    for (cookie, post_token, header_token) in [
        (MASKED_TEST_SECRET1, Some(TEST_SECRET), None),
        (MASKED_TEST_SECRET1, Some(MASKED_TEST_SECRET2), None),
        (MASKED_TEST_SECRET1, None, Some(TEST_SECRET)),
        (MASKED_TEST_SECRET1, None, Some(MASKED_TEST_SECRET2)),
    ] {
        let mut req = Req::post("/token/").cookie(cookie);
        req.post_token = post_token;
        if let Some(t) = header_token {
            req = req.header("x-csrftoken", t);
        }
        let r = run("", req).await;
        assert!(r.accepted(), "{post_token:?} {header_token:?}: {}", r.body);
    }
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareUseSessionsTests::test_process_response_get_token_used
// (here through the middleware: markers need it) and ::test_ensures_csrf_cookie_with_middleware
#[tokio::test]
async fn test_process_response_get_token_used_use_sessions() {
    USE_SESSIONS.with(|m| m.set(true));
    for path in ["/token/", "/ensure/"] {
        let r = run("", Req::get(path)).await;
        let secret = r.cookie("csrftoken").unwrap();
        assert_eq!(secret.len(), 32, "{path}");
        assert_eq!(
            r.raw_cookie("csrftoken"),
            None,
            "no CSRF cookie in session mode"
        );
    }
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareUseSessionsTests::test_session_modify
#[tokio::test]
async fn test_session_modify() {
    USE_SESSIONS.with(|m| m.set(true));
    let chain = chain("");
    let first = send(&chain, Req::get("/ensure/").build()).await;
    let secret = first.cookie("csrftoken").unwrap();
    // The same secret again: the session is not modified, so no session cookie is sent.
    let again = send(&chain, Req::get("/ensure/").cookie(&secret).build()).await;
    assert_eq!(again.raw_cookie("sessionid"), None);
    let again = send(&chain, Req::get("/token/").cookie(&secret).build()).await;
    assert_eq!(again.raw_cookie("sessionid"), None);
    assert_eq!(unmask_cipher_token(&again.token()).unwrap(), secret);
}

// CSRF in session mode sets no cookie and adds no `Vary: Cookie` itself (Django's
// `_set_csrf_cookie`); SessionMiddleware, outside, varies on the session it read.
#[tokio::test]
async fn session_mode_sets_no_csrf_cookie_and_no_vary() {
    USE_SESSIONS.with(|m| m.set(true));
    let chain = session_chain_with_probe(false);
    for req in [
        Req::get("/token/"),
        Req::get("/rotate/").cookie(TEST_SECRET),
        Req::get("/ensure/"),
    ] {
        let r = send(&chain, req.build()).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.headers["x-probe-vary"], "none");
        assert_eq!(r.headers["x-probe-csrf-cookie"], "false");
        assert_eq!(r.raw_cookie("csrftoken"), None);
        assert_eq!(r.headers["vary"], "Cookie");
        assert_eq!(r.cookie("csrftoken").unwrap().len(), 32);
    }
    // rotate_token writes a new secret into the session.
    let r = send(&chain, Req::get("/rotate/").cookie(TEST_SECRET).build()).await;
    assert_ne!(r.cookie("csrftoken").unwrap(), TEST_SECRET);
}

// A session whose `_csrftoken` is not a usable secret (not a string, wrong length, bad
// characters) gets a new secret instead of a 500.
#[tokio::test]
async fn session_mode_bad_stored_secret_is_replaced() {
    USE_SESSIONS.with(|m| m.set(true));
    let junk = [
        serde_json::json!(42),
        serde_json::json!(["x"]),
        serde_json::json!("short"),
        serde_json::json!("*".repeat(64)),
        serde_json::json!("é".repeat(32)),
    ];
    for value in junk {
        let data = serde_json::json!({ csrf::CSRF_SESSION_KEY: value });
        let cookie =
            signing::dumps(&data, SECRET_KEY.as_bytes(), SIGNED_COOKIES_SALT, true).unwrap();
        let mut req = Req::get("/token/").build();
        req.headers_mut()
            .insert("cookie", format!("sessionid={cookie}").parse().unwrap());
        let r = send(&chain(""), req).await;
        assert_eq!(r.status, 200, "{value}");
        let secret = r.cookie("csrftoken").unwrap();
        assert_eq!(secret.len(), 32);
        assert_eq!(unmask_cipher_token(&r.token()).unwrap(), secret);
        // And an unsafe request with such a session is a 403 naming the problem, not a 500.
        let mut req = Req::post("/post/").token(MASKED_TEST_SECRET2).build();
        req.headers_mut()
            .insert("cookie", format!("sessionid={cookie}").parse().unwrap());
        let r = send(&chain(""), req).await;
        assert!(r.reason().starts_with("CSRF cookie "), "{}", r.reason());
    }
}

#[test]
fn bad_settings_are_startup_errors() {
    for (conf, key) in [
        (
            "CSRF_COOKIE_SAMESITE = \"Sometimes\"",
            "CSRF_COOKIE_SAMESITE",
        ),
        ("CSRF_COOKIE_AGE = \"soon\"", "CSRF_COOKIE_AGE"),
        (
            "CSRF_TRUSTED_ORIGINS = [\"https://[\"]",
            "CSRF_TRUSTED_ORIGINS",
        ),
        ("CSRF_HEADER_NAME = \"bad header\"", "CSRF_HEADER_NAME"),
    ] {
        let err = Chain::builder(&registry(), &settings(conf))
            .urls(router())
            .build()
            .unwrap_err()
            .to_string();
        assert!(err.contains(key), "{conf}: {err}");
    }
}

fn check_ids(toml: &str, deploy: bool) -> Vec<String> {
    let settings = Settings::from_toml_str(toml, "t").unwrap();
    // CSRF's checks only (the sessions checks of `registry()` are tested with sessions).
    let mut registry = Registry::new();
    csrf::register(&mut registry);
    registry
        .run_checks(&settings, deploy)
        .into_iter()
        .map(|m| m.id)
        .collect()
}

// Django: tests/check_framework/test_security.py::CheckCSRFMiddlewareTest,
// ::CheckCSRFCookieSecureTest, ::CSRFFailureViewTest; tests/check_framework/test_4_0_compatibility.py
#[test]
fn system_checks() {
    assert_eq!(check_ids("MIDDLEWARE = []", true), ["security.W003"]);
    assert!(check_ids("MIDDLEWARE = []", false).is_empty());
    let with = "MIDDLEWARE = [\"django.middleware.csrf.CsrfViewMiddleware\"]\n";
    assert_eq!(check_ids(with, true), ["security.W016"]);
    assert!(check_ids(&format!("{with}CSRF_COOKIE_SECURE = true"), true).is_empty());
    assert!(check_ids(&format!("{with}CSRF_USE_SESSIONS = true"), true).is_empty());
    assert_eq!(
        check_ids(
            &format!("{with}CSRF_COOKIE_SECURE = true\nCSRF_FAILURE_VIEW = \"x.y\""),
            false
        ),
        ["security.E102"]
    );
    let ids = check_ids(
        &format!("{with}CSRF_TRUSTED_ORIGINS = [\"example.com\", \"https://ok.com\", \"*.x.com\"]"),
        false,
    );
    assert_eq!(ids, ["4_0.E001", "4_0.E001"]);
}

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

// Django: tests/csrf_tests/tests.py::CsrfFunctionTestMixin::assertForbiddenReason (the log
// record "Forbidden (%s): %s" at WARNING on django.security.csrf), never with the token.
#[tokio::test]
async fn rejections_are_logged_without_secrets() {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::WARN)
        .finish();
    // Global: a thread-local default would miss events whose callsites other tests (running in
    // parallel without a subscriber) already cached as disabled. Only lines about /logged/ count.
    tracing::subscriber::set_global_default(subscriber).unwrap();
    let wrong = "a".repeat(64);
    let mut req = post_with(Some(&wrong), None);
    req.path = "/logged/";
    let r = run("", req).await;
    assert_eq!(r.status, 403);
    let mut req = post_with(Some(MASKED_TEST_SECRET2), None);
    req.path = "/logged/";
    assert!(run("", req).await.accepted());
    let log = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<&str> = log.lines().filter(|l| l.contains("/logged/")).collect();
    assert_eq!(lines.len(), 1, "{log}");
    let line = lines[0];
    assert!(line.contains("WARN"), "{line}");
    assert!(line.contains("django.security.csrf"), "{line}");
    assert!(
        line.contains("Forbidden (CSRF token from POST incorrect.): /logged/"),
        "{line}"
    );
    // Only this test's lines: other tests log Origin values that are long runs of "a".
    assert!(
        !line.contains(&wrong) && !line.contains(MASKED_TEST_SECRET1),
        "{line}"
    );
}
