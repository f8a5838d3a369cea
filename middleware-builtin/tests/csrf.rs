//! CsrfViewMiddleware through a real chain: Django's `tests/csrf_tests/tests.py` and bad input.
//!
//! As Django's `CsrfViewMiddlewareTestMixin` runs under both `CsrfViewMiddlewareTests` (cookie)
//! and `CsrfViewMiddlewareUseSessionsTests` (`CSRF_USE_SESSIONS = true`), every test written
//! with `both_modes!` runs twice: `<name>::cookie_mode` and `<name>::session_mode`. In session
//! mode the chain is `SessionMiddleware` (signed cookies) then `CsrfViewMiddleware`, the
//! request's "CSRF cookie" is put in the signed session cookie under `_csrftoken`, and the
//! response's "CSRF cookie" is read back from the session cookie it sets.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use middleware_builtin::csrf::{
    self, unmask_cipher_token, CsrfExempt, CsrfFailureViews, EnsureCsrfCookie,
};
use middleware_core::response::text;
use middleware_core::{
    Body, Chain, ConnectionInfo, Error, Registry, Request, RequestExt, Response, Route, Router,
    Settings,
};

use std::cell::Cell;

use middleware_builtin::sessions::{self, SIGNED_COOKIES_SALT};
use middleware_core::signing;

const SECRET_KEY: &str = "csrf-tests-secret-key-0123456789-abcdefghijklmnop";

thread_local! {
    /// The mode of the running test (a `#[tokio::test]` runs on its own thread).
    static USE_SESSIONS: Cell<bool> = const { Cell::new(false) };
}

fn sessions() -> bool {
    USE_SESSIONS.with(Cell::get)
}

/// Runs one test body in cookie mode and in session mode, as Django's mixin does.
macro_rules! both_modes {
    (async fn $name:ident() $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn case() $body

            #[tokio::test]
            async fn cookie_mode() {
                super::USE_SESSIONS.with(|m| m.set(false));
                case().await
            }

            #[tokio::test]
            async fn session_mode() {
                super::USE_SESSIONS.with(|m| m.set(true));
                case().await
            }
        }
    };
}

/// The domain setting the Referer check uses: `CSRF_COOKIE_DOMAIN`, or `SESSION_COOKIE_DOMAIN`
/// in session mode (Django's `CsrfViewMiddlewareUseSessionsTests` overrides).
fn domain_setting() -> String {
    if sessions() {
        "SESSION_COOKIE_DOMAIN = \".example.com\"".to_owned()
    } else {
        "CSRF_COOKIE_DOMAIN = \".example.com\"".to_owned()
    }
}

/// A signed-cookies session value holding `secret` as the CSRF secret.
fn session_cookie_with(secret: &str) -> String {
    let data = serde_json::json!({ csrf::CSRF_SESSION_KEY: secret });
    signing::dumps(&data, SECRET_KEY.as_bytes(), SIGNED_COOKIES_SALT, true).unwrap()
}

const TEST_SECRET: &str = "lcccccccX2kcccccccY2jcccccccssIC";
const MASKED_TEST_SECRET1: &str =
    "1bcdefghij2bcdefghij3bcdefghij4bcdefghij5bcdefghij6bcdefghijABCD";
const MASKED_TEST_SECRET2: &str =
    "2JgchWvM1tpxT2lfz9aydoXW9yT1DN3NdLiejYxOOlzzV4nhBbYqmqZYbAV3V5Bf";

async fn post_form_view(_: &mut Request) -> Result<Response, Error> {
    Ok(text(StatusCode::OK, "OK"))
}

async fn token_view(req: &mut Request) -> Result<Response, Error> {
    let token = csrf::get_token(req);
    Ok(text(
        StatusCode::OK,
        format!("<input name=\"csrfmiddlewaretoken\" value=\"{token}\">"),
    ))
}

async fn rotate_view(req: &mut Request) -> Result<Response, Error> {
    csrf::rotate_token(req);
    Ok(text(StatusCode::OK, "OK"))
}

fn registry() -> Registry {
    let views = CsrfFailureViews::new();
    views.insert(
        "tests.reason",
        Arc::new(|_: &Request, reason: &str| {
            text(StatusCode::FORBIDDEN, format!("REASON:{reason}"))
        }),
    );
    let mut registry = Registry::new();
    csrf::register_with_failure_views(&mut registry, views);
    sessions::register(&mut registry);
    registry
}

fn router() -> Router {
    let mut r = Router::new();
    r.add(Route::new("post/", post_form_view)).unwrap();
    r.add(Route::new("token/", token_view)).unwrap();
    r.add(Route::new("exempt/", token_view).marker(CsrfExempt))
        .unwrap();
    r.add(Route::new("ensure/", post_form_view).marker(EnsureCsrfCookie))
        .unwrap();
    r.add(Route::new("rotate/", rotate_view)).unwrap();
    r.add(Route::new("logged/", post_form_view)).unwrap();
    r
}

fn settings(extra: &str) -> Settings {
    let base = if sessions() {
        format!(
            r#"
ALLOWED_HOSTS = ["testserver", "www.example.com", "10.0.0.2"]
MIDDLEWARE = ["django.contrib.sessions.middleware.SessionMiddleware", "django.middleware.csrf.CsrfViewMiddleware"]
CSRF_USE_SESSIONS = true
SECRET_KEY = "{SECRET_KEY}"
"#
        )
    } else {
        r#"
ALLOWED_HOSTS = ["testserver", "www.example.com", "10.0.0.2"]
MIDDLEWARE = ["django.middleware.csrf.CsrfViewMiddleware"]
"#
        .to_owned()
    };
    let failure = if extra.contains("CSRF_FAILURE_VIEW") {
        ""
    } else {
        "CSRF_FAILURE_VIEW = \"tests.reason\"\n"
    };
    Settings::from_toml_str(&format!("{base}{failure}{extra}"), "test").unwrap()
}

fn chain(extra: &str) -> Chain {
    Chain::builder(&registry(), &settings(extra))
        .urls(router())
        .build()
        .unwrap()
}

struct Resp {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Resp {
    fn reason(&self) -> &str {
        assert_eq!(self.status, 403, "expected a rejection, got {}", self.body);
        self.body.strip_prefix("REASON:").unwrap_or(&self.body)
    }
    fn accepted(&self) -> bool {
        self.status == 200
    }
    /// The CSRF secret the response stores: the `csrftoken` cookie it sets, or in session mode
    /// `_csrftoken` of the session cookie it sets.
    fn cookie(&self, name: &str) -> Option<String> {
        if sessions() && name == "csrftoken" {
            let value = self.raw_cookie("sessionid")?;
            let data: serde_json::Value = signing::loads(
                &value,
                SECRET_KEY.as_bytes(),
                &[],
                SIGNED_COOKIES_SALT,
                None,
            )
            .unwrap();
            return data[csrf::CSRF_SESSION_KEY].as_str().map(str::to_owned);
        }
        self.raw_cookie(name)
    }
    /// The value of the cookie `name` set on the response, if any.
    fn raw_cookie(&self, name: &str) -> Option<String> {
        let line = self
            .headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|l| l.starts_with(&format!("{name}=")))?;
        Some(line[name.len() + 1..].split(';').next().unwrap().to_owned())
    }
    fn set_cookie_line(&self) -> String {
        self.headers
            .get("set-cookie")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    }
    fn token(&self) -> String {
        let start = self.body.find("value=\"").unwrap() + 7;
        self.body[start..start + 64].to_owned()
    }
}

#[derive(Default)]
struct Req<'a> {
    method: &'a str,
    path: &'a str,
    cookie: Option<&'a str>,
    post_token: Option<&'a str>,
    headers: Vec<(&'a str, &'a str)>,
    secure: bool,
    port: Option<u16>,
    body: Option<Body>,
}

impl<'a> Req<'a> {
    fn post(path: &'a str) -> Self {
        Req {
            method: "POST",
            path,
            ..Req::default()
        }
    }
    fn get(path: &'a str) -> Self {
        Req {
            method: "GET",
            path,
            ..Req::default()
        }
    }
    fn cookie(mut self, c: &'a str) -> Self {
        self.cookie = Some(c);
        self
    }
    fn token(mut self, t: &'a str) -> Self {
        self.post_token = Some(t);
        self
    }
    fn header(mut self, n: &'a str, v: &'a str) -> Self {
        self.headers.push((n, v));
        self
    }
    fn secure(mut self) -> Self {
        self.secure = true;
        self
    }
    fn build(self) -> Request {
        let mut b = http::Request::builder()
            .method(self.method)
            .uri(self.path)
            .header("host", "testserver");
        if let Some(c) = self.cookie {
            if sessions() {
                b = b.header("cookie", format!("sessionid={}", session_cookie_with(c)));
            } else {
                b = b.header("cookie", format!("csrftoken={c}"));
            }
        }
        let body = match (self.body, self.post_token) {
            (Some(body), _) => body,
            (None, Some(t)) => {
                b = b.header("content-type", "application/x-www-form-urlencoded");
                form_urlencoded::Serializer::new(String::new())
                    .append_pair("csrfmiddlewaretoken", t)
                    .finish()
                    .into()
            }
            (None, None) => {
                b = b.header("content-type", "application/x-www-form-urlencoded");
                Body::from("a=1")
            }
        };
        let mut req = b.body(body).unwrap();
        for (n, v) in self.headers {
            let name = http::HeaderName::from_bytes(n.as_bytes()).unwrap();
            req.headers_mut()
                .insert(name, http::HeaderValue::from_bytes(v.as_bytes()).unwrap());
        }
        req.set_connection_info(ConnectionInfo {
            remote_addr: None,
            local_addr: self
                .port
                .map(|p| std::net::SocketAddr::from(([127, 0, 0, 1], p))),
            scheme: if self.secure { "https" } else { "http" },
        });
        req
    }
}

async fn send(chain: &Chain, req: Request) -> Resp {
    let response = chain.call(req).await;
    let (parts, body) = response.into_parts();
    let body = body.collect_all().await.unwrap();
    Resp {
        status: parts.status,
        headers: parts.headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

async fn run(extra: &str, req: Req<'_>) -> Resp {
    send(&chain(extra), req.build()).await
}

/// A POST with Django's default test cookie and the given form / header tokens.
fn post_with<'a>(post_token: Option<&'a str>, header_token: Option<&'a str>) -> Req<'a> {
    let mut r = Req::post("/post/").cookie(MASKED_TEST_SECRET1);
    r.post_token = post_token;
    if let Some(t) = header_token {
        r = r.header("x-csrftoken", t);
    }
    r
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTestMixin::test_process_response_get_token_not_used
both_modes! {
    async fn test_process_response_get_token_not_used() {
        let r = run("", Req::get("/post/")).await;
        assert!(r.accepted());
        assert_eq!(r.cookie("csrftoken"), None);
        if !sessions() {
            // (In session mode SessionMiddleware varies on Cookie: the session was read.)
            assert!(r.headers.get("vary").is_none());
        }
    }
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTestMixin::test_no_csrf_cookie
both_modes! {
    async fn test_no_csrf_cookie() {
        let r = run("", Req::post("/post/").token(MASKED_TEST_SECRET2)).await;
        assert_eq!(r.reason(), "CSRF cookie not set.");
    }
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTestMixin::test_csrf_cookie_bad_or_missing_token
both_modes! {
    async fn test_csrf_cookie_bad_or_missing_token() {
        let a16 = "a".repeat(16);
        let star64 = "*".repeat(64);
        let a64 = "a".repeat(64);
        let cases: [(Option<&str>, Option<&str>, &str); 7] = [
            (None, None, "CSRF token missing."),
            (
                Some(&a16),
                None,
                "CSRF token from POST has incorrect length.",
            ),
            (
                Some(&star64),
                None,
                "CSRF token from POST has invalid characters.",
            ),
            (Some(&a64), None, "CSRF token from POST incorrect."),
            (
                None,
                Some(&a16),
                "CSRF token from the 'X-Csrftoken' HTTP header has incorrect length.",
            ),
            (
                None,
                Some(&star64),
                "CSRF token from the 'X-Csrftoken' HTTP header has invalid characters.",
            ),
            (
                None,
                Some(&a64),
                "CSRF token from the 'X-Csrftoken' HTTP header incorrect.",
            ),
        ];
        for (post, header, expected) in cases {
            let r = run("", post_with(post, header)).await;
            assert_eq!(r.reason(), expected, "{post:?} {header:?}");
        }
    }
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTestMixin::test_csrf_cookie_bad_token_custom_header
both_modes! {
    async fn test_csrf_cookie_bad_token_custom_header() {
        let a16 = "a".repeat(16);
        let req = post_with(None, None).header("x-csrftoken-customized", &a16);
        let r = run("CSRF_HEADER_NAME = \"HTTP_X_CSRFTOKEN_CUSTOMIZED\"", req).await;
        assert_eq!(
            r.reason(),
            "CSRF token from the 'X-Csrftoken-Customized' HTTP header has incorrect length."
        );
    }
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTestMixin::test_process_request_csrf_cookie_and_token
both_modes! {
    async fn test_process_request_csrf_cookie_and_token() {
        assert!(run("", post_with(Some(MASKED_TEST_SECRET2), None))
            .await
            .accepted());
    }
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTestMixin::test_process_request_csrf_cookie_no_token_exempt_view
both_modes! {
    async fn test_process_request_csrf_cookie_no_token_exempt_view() {
        let r = run("", Req::post("/exempt/").cookie(MASKED_TEST_SECRET1)).await;
        assert!(r.accepted());
    }
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTestMixin::test_csrf_token_in_header
both_modes! {
    async fn test_csrf_token_in_header() {
        assert!(run("", post_with(None, Some(MASKED_TEST_SECRET2)))
            .await
            .accepted());
    }
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTestMixin::test_csrf_token_in_header_with_customized_name
both_modes! {
    async fn test_csrf_token_in_header_with_customized_name() {
        let req = post_with(None, None).header("x-csrftoken-customized", MASKED_TEST_SECRET2);
        let r = run("CSRF_HEADER_NAME = \"HTTP_X_CSRFTOKEN_CUSTOMIZED\"", req).await;
        assert!(r.accepted());
        // The default header no longer counts.
        let r = run(
            "CSRF_HEADER_NAME = \"HTTP_X_CSRFTOKEN_CUSTOMIZED\"",
            post_with(None, Some(MASKED_TEST_SECRET2)),
        )
        .await;
        assert_eq!(r.reason(), "CSRF token missing.");
    }
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTestMixin::test_put_and_delete_rejected
both_modes! {
    async fn test_put_and_delete_rejected() {
        for method in ["PUT", "DELETE", "PATCH"] {
            let mut req = Req::post("/post/");
            req.method = method;
            assert_eq!(run("", req).await.reason(), "CSRF cookie not set.");
        }
    }
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTestMixin::test_put_and_delete_allowed
both_modes! {
    async fn test_put_and_delete_allowed() {
        for method in ["PUT", "DELETE"] {
            let mut req = post_with(None, Some(MASKED_TEST_SECRET2));
            req.method = method;
            assert!(run("", req).await.accepted(), "{method}");
        }
        // A PUT's form body is not read for the token (Django reads POST only for POST).
        let mut req = post_with(Some(MASKED_TEST_SECRET2), None);
        req.method = "PUT";
        assert_eq!(run("", req).await.reason(), "CSRF token missing.");
    }
}

both_modes! {
    async fn safe_methods_are_never_checked() {
        for method in ["GET", "HEAD", "OPTIONS", "TRACE"] {
            let mut req = Req::post("/post/").header("origin", "http://evil.example");
            req.method = method;
            assert!(run("", req).await.accepted(), "{method}");
        }
    }
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTestMixin::test_token_node_no_csrf_cookie
// and ::test_token_node_with_new_csrf_cookie
both_modes! {
    async fn test_token_node_with_new_csrf_cookie() {
        let r = run("", Req::get("/token/")).await;
        let cookie = r.cookie("csrftoken").unwrap();
        assert_eq!(cookie.len(), 32);
        assert_eq!(unmask_cipher_token(&r.token()).unwrap(), cookie);
        assert_eq!(r.headers["vary"], "Cookie");
    }
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTestMixin::test_token_node_empty_csrf_cookie
both_modes! {
    async fn test_token_node_empty_csrf_cookie() {
        let r = run("", Req::get("/token/").cookie("")).await;
        let cookie = r.cookie("csrftoken").unwrap();
        assert_eq!(cookie.len(), 32);
        assert_eq!(unmask_cipher_token(&r.token()).unwrap(), cookie);
    }
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTestMixin::test_token_node_with_csrf_cookie
// and CsrfViewMiddlewareTests::test_masked_secret_accepted_and_replaced
both_modes! {
    async fn test_token_node_with_csrf_cookie_masked_replaced() {
        let r = run("", Req::get("/token/").cookie(MASKED_TEST_SECRET1)).await;
        assert_eq!(unmask_cipher_token(&r.token()).unwrap(), TEST_SECRET);
        assert_eq!(r.cookie("csrftoken").as_deref(), Some(TEST_SECRET));
        let r = run(
            "",
            Req::post("/token/")
                .cookie(MASKED_TEST_SECRET1)
                .token(MASKED_TEST_SECRET2),
        )
        .await;
        assert!(r.accepted());
        assert_eq!(r.cookie("csrftoken").as_deref(), Some(TEST_SECRET));
    }
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTests::test_bare_secret_accepted_and_not_replaced
// and CsrfViewMiddlewareTestMixin::test_cookie_not_reset_on_accepted_request
#[tokio::test]
async fn test_bare_secret_accepted_and_not_replaced() {
    let r = run(
        "",
        Req::post("/token/")
            .cookie(TEST_SECRET)
            .token(MASKED_TEST_SECRET2),
    )
    .await;
    assert!(r.accepted());
    assert_eq!(r.cookie("csrftoken").as_deref(), Some(TEST_SECRET));
    assert_eq!(unmask_cipher_token(&r.token()).unwrap(), TEST_SECRET);
}

// Conformance fact: get_token re-sends an existing cookie unchanged, on every call.
#[tokio::test]
async fn get_token_resends_same_cookie_each_time() {
    let chain = chain("");
    for _ in 0..3 {
        let r = send(&chain, Req::get("/token/").cookie(TEST_SECRET).build()).await;
        assert_eq!(r.cookie("csrftoken").as_deref(), Some(TEST_SECRET));
    }
    let a = send(&chain, Req::get("/token/").cookie(TEST_SECRET).build()).await;
    let b = send(&chain, Req::get("/token/").cookie(TEST_SECRET).build()).await;
    assert_ne!(a.token(), b.token(), "a fresh mask per call");
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTestMixin::test_get_token_for_exempt_view
both_modes! {
    async fn test_get_token_for_exempt_view() {
        let r = run("", Req::get("/exempt/").cookie(MASKED_TEST_SECRET1)).await;
        assert_eq!(unmask_cipher_token(&r.token()).unwrap(), TEST_SECRET);
    }
}

// Django: tests/csrf_tests/tests.py::CsrfFunctionTests::test_rotate_token (through the chain)
both_modes! {
    async fn rotate_token_sends_a_new_secret() {
        let r = run("", Req::get("/rotate/").cookie(TEST_SECRET)).await;
        let cookie = r.cookie("csrftoken").unwrap();
        assert_eq!(cookie.len(), 32);
        assert_ne!(cookie, TEST_SECRET);
    }
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTestMixin::test_https_bad_referer
both_modes! {
    async fn test_https_bad_referer() {
        let req = post_with(Some(MASKED_TEST_SECRET2), None)
            .secure()
            .header("host", "www.example.com")
            .header("referer", "https://www.evil.org/somepage");
        assert_eq!(
            run("", req).await.reason(),
            "Referer checking failed - https://www.evil.org/somepage does not match any trusted origins."
        );
    }
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTestMixin::test_https_no_referer
both_modes! {
    async fn test_https_no_referer() {
        let req = post_with(Some(MASKED_TEST_SECRET2), None).secure();
        assert_eq!(
            run("", req).await.reason(),
            "Referer checking failed - no Referer."
        );
    }
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTestMixin::test_https_malformed_host
both_modes! {
    async fn test_https_malformed_host() {
        let req = Req::post("/post/")
            .secure()
            .header("host", "@malformed")
            .header("referer", "https://www.evil.org/somepage");
        assert_eq!(
            run("", req).await.reason(),
            "Referer checking failed - https://www.evil.org/somepage does not match any trusted origins."
        );
    }
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTestMixin::test_origin_malformed_host
both_modes! {
    async fn test_origin_malformed_host() {
        let req = Req::post("/post/")
            .secure()
            .header("host", "@malformed")
            .header("origin", "https://www.evil.org");
        assert_eq!(
            run("", req).await.reason(),
            "Origin checking failed - https://www.evil.org does not match any trusted origins."
        );
    }
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTestMixin::test_https_malformed_referer
both_modes! {
    async fn test_https_malformed_referer() {
        let insecure = post_with(Some(MASKED_TEST_SECRET2), None)
            .secure()
            .header("referer", "http://http://www.example.com/");
        assert_eq!(
            run("", insecure).await.reason(),
            "Referer checking failed - Referer is insecure while host is secure."
        );
        for referer in ["", "ØBöIß", "//example.com/", "https://", "https://["] {
            let req = post_with(Some(MASKED_TEST_SECRET2), None)
                .secure()
                .header("referer", referer);
            assert_eq!(
                run("", req).await.reason(),
                "Referer checking failed - Referer is malformed.",
                "{referer}"
            );
        }
    }
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTestMixin::test_https_good_referer
// and ::test_https_good_referer_2
both_modes! {
    async fn test_https_good_referer() {
        for referer in [
            "https://www.example.com/somepage",
            "https://www.example.com",
        ] {
            let req = post_with(Some(MASKED_TEST_SECRET2), None)
                .secure()
                .header("host", "www.example.com")
                .header("referer", referer);
            assert!(run("", req).await.accepted(), "{referer}");
        }
    }
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTestMixin::test_https_good_referer_malformed_host
// and ::test_https_csrf_trusted_origin_allowed
both_modes! {
    async fn test_https_csrf_trusted_origin_allowed() {
        for host in ["www.example.com", "@malformed"] {
            let req = post_with(Some(MASKED_TEST_SECRET2), None)
                .secure()
                .header("host", host)
                .header("referer", "https://dashboard.example.com");
            let r = run(
                "CSRF_TRUSTED_ORIGINS = [\"https://dashboard.example.com\"]",
                req,
            )
            .await;
            assert!(r.accepted(), "{host}");
        }
    }
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTestMixin::test_https_csrf_wildcard_trusted_origin_allowed
both_modes! {
    async fn test_https_csrf_wildcard_trusted_origin_allowed() {
        let req = post_with(Some(MASKED_TEST_SECRET2), None)
            .secure()
            .header("host", "www.example.com")
            .header("referer", "https://dashboard.example.com");
        let r = run("CSRF_TRUSTED_ORIGINS = [\"https://*.example.com\"]", req).await;
        assert!(r.accepted());
    }
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTests::test_https_good_referer_behind_proxy
// and CsrfViewMiddlewareUseSessionsTests::test_https_good_referer_behind_proxy
both_modes! {
    async fn test_https_good_referer_behind_proxy() {
        let mut req = post_with(Some(MASKED_TEST_SECRET2), None)
            .secure()
            .header("host", "10.0.0.2")
            .header("referer", "https://www.example.com/somepage")
            .header("x-forwarded-host", "www.example.com")
            .header("x-forwarded-port", "443");
        req.port = Some(8080);
        let r = run(
            &format!("{}\nUSE_X_FORWARDED_PORT = true", domain_setting()),
            req,
        )
        .await;
        assert!(r.accepted(), "{}", r.body);
    }
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTests::test_https_good_referer_matches_cookie_domain
// and ::test_https_good_referer_matches_cookie_domain_with_different_port, and the same two of
// CsrfViewMiddlewareUseSessionsTests (SESSION_COOKIE_DOMAIN)
both_modes! {
    async fn test_https_good_referer_matches_cookie_domain() {
        let mut req = post_with(Some(MASKED_TEST_SECRET2), None)
            .secure()
            .header("referer", "https://foo.example.com/");
        req.port = Some(443);
        assert!(run(&domain_setting(), req)
            .await
            .accepted());

        let mut req = post_with(Some(MASKED_TEST_SECRET2), None)
            .secure()
            .header("host", "www.example.com")
            .header("referer", "https://foo.example.com:4443/");
        req.port = Some(4443);
        assert!(run(&domain_setting(), req)
            .await
            .accepted());

        // The port rule: a non-443 server port must appear in the Referer.
        let mut req = post_with(Some(MASKED_TEST_SECRET2), None)
            .secure()
            .header("referer", "https://foo.example.com/");
        req.port = Some(4443);
        assert_eq!(
            run(&domain_setting(), req)
                .await
                .reason(),
            "Referer checking failed - https://foo.example.com/ does not match any trusted origins."
        );
    }
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTests::test_https_reject_insecure_referer
// and CsrfViewMiddlewareUseSessionsTests::test_https_reject_insecure_referer
both_modes! {
    async fn test_https_reject_insecure_referer() {
        let req = post_with(Some(MASKED_TEST_SECRET2), None)
            .secure()
            .header("referer", "http://example.com/");
        assert_eq!(
            run(&domain_setting(), req)
                .await
                .reason(),
            "Referer checking failed - Referer is insecure while host is secure."
        );
    }
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTestMixin::test_bad_origin_bad_domain,
// ::test_bad_origin_null_origin, ::test_bad_origin_bad_protocol, ::test_bad_origin_cannot_be_parsed
both_modes! {
    async fn test_bad_origins() {
        for (secure, origin) in [
            (false, "https://www.evil.org"),
            (false, "null"),
            (true, "http://example.com"),
            (false, "https://["),
            (true, "http://www.example.com"),
        ] {
            let mut req = post_with(Some(MASKED_TEST_SECRET2), None)
                .header("host", "www.example.com")
                .header("origin", origin);
            req.secure = secure;
            assert_eq!(
                run("", req).await.reason(),
                format!("Origin checking failed - {origin} does not match any trusted origins.")
            );
        }
    }
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTestMixin::test_bad_origin_csrf_trusted_origin_bad_protocol
both_modes! {
    async fn test_bad_origin_csrf_trusted_origin_bad_protocol() {
        let req = post_with(Some(MASKED_TEST_SECRET2), None)
            .secure()
            .header("host", "www.example.com")
            .header("origin", "http://foo.example.com");
        let r = run(
            r#"CSRF_TRUSTED_ORIGINS = ["http://no-match.com", "https://*.example.com", "http://*.no-match.com", "http://*.no-match-2.com"]"#,
            req,
        )
        .await;
        assert_eq!(
            r.reason(),
            "Origin checking failed - http://foo.example.com does not match any trusted origins."
        );
    }
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTestMixin::test_good_origin_insecure,
// ::test_good_origin_secure, ::test_good_origin_csrf_trusted_origin_allowed,
// ::test_good_origin_wildcard_csrf_trusted_origin_allowed
both_modes! {
    async fn test_good_origins() {
        let trusted =
            r#"CSRF_TRUSTED_ORIGINS = ["https://dashboard.example.com", "https://*.other.com"]"#;
        for (secure, origin) in [
            (false, "http://www.example.com"),
            (true, "https://www.example.com"),
            (true, "https://dashboard.example.com"),
            (false, "https://dashboard.example.com"),
            (true, "https://foo.other.com"),
            (true, "https://other.com"),
        ] {
            let mut req = post_with(Some(MASKED_TEST_SECRET2), None)
                .header("host", "www.example.com")
                .header("origin", origin);
            req.secure = secure;
            // With an Origin, the Referer is not checked even on HTTPS.
            assert!(run(trusted, req).await.accepted(), "{origin}");
        }
    }
}

// Conformance fact: a wrong Origin is reported before a missing cookie.
both_modes! {
    async fn bad_origin_reported_before_missing_cookie() {
        let req = Req::post("/post/").header("origin", "http://evil.example");
        assert_eq!(
            run("", req).await.reason(),
            "Origin checking failed - http://evil.example does not match any trusted origins."
        );
    }
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTests::test_ensures_csrf_cookie_with_middleware
// and CsrfViewMiddlewareUseSessionsTests::test_ensures_csrf_cookie_with_middleware
both_modes! {
    async fn test_ensures_csrf_cookie_with_middleware() {
        let r = run("", Req::get("/ensure/")).await;
        assert_eq!(r.cookie("csrftoken").unwrap().len(), 32);
        assert!(r.headers["vary"].to_str().unwrap().contains("Cookie"));
        // Not when the middleware rejects the request.
        let r = run("", Req::post("/ensure/")).await;
        assert_eq!(r.reason(), "CSRF cookie not set.");
        assert_eq!(r.cookie("csrftoken"), None);
    }
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTests::test_csrf_cookie_age
#[tokio::test]
async fn test_csrf_cookie_age() {
    let conf = r#"
CSRF_COOKIE_NAME = "csrfcookie"
CSRF_COOKIE_DOMAIN = ".example.com"
CSRF_COOKIE_AGE = 123
CSRF_COOKIE_PATH = "/test/"
CSRF_COOKIE_SECURE = true
CSRF_COOKIE_HTTPONLY = true
"#;
    let r = run(conf, Req::get("/token/")).await;
    let line = r.set_cookie_line();
    assert!(line.starts_with("csrfcookie="), "{line}");
    for attr in [
        "Max-Age=123",
        "Domain=.example.com",
        "Path=/test/",
        "Secure",
        "HttpOnly",
        "SameSite=Lax",
        "expires=",
    ] {
        assert!(line.contains(attr), "{attr} missing in {line}");
    }
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTests::test_csrf_cookie_age_none
#[tokio::test]
async fn test_csrf_cookie_age_none() {
    let r = run("CSRF_COOKIE_AGE = false", Req::get("/token/")).await;
    let line = r.set_cookie_line();
    assert!(!line.contains("Max-Age"), "{line}");
    assert!(!line.contains("expires"), "{line}");
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTests::test_csrf_cookie_samesite
#[tokio::test]
async fn test_csrf_cookie_samesite() {
    let r = run("CSRF_COOKIE_SAMESITE = \"Strict\"", Req::get("/token/")).await;
    assert!(r.set_cookie_line().contains("SameSite=Strict"));
    let r = run("CSRF_COOKIE_SAMESITE = false", Req::get("/token/")).await;
    assert!(!r.set_cookie_line().contains("SameSite"));
    let default = run("", Req::get("/token/")).await.set_cookie_line();
    assert!(
        default.contains("Max-Age=31449600") && default.contains("Path=/"),
        "{default}"
    );
    assert!(
        !default.contains("Secure") && !default.contains("HttpOnly"),
        "{default}"
    );
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTests::test_bad_csrf_cookie_characters
// and ::test_bad_csrf_cookie_length; conformance fact: a fresh cookie rides on the 403.
#[tokio::test]
async fn test_bad_csrf_cookie() {
    let star64 = "*".repeat(64);
    let a16 = "a".repeat(16);
    for (cookie, reason) in [
        (star64.as_str(), "CSRF cookie has invalid characters."),
        (a16.as_str(), "CSRF cookie has incorrect length."),
    ] {
        let r = run("", Req::post("/post/").cookie(cookie).token(cookie)).await;
        assert_eq!(r.reason(), reason);
        let fresh = r.cookie("csrftoken").unwrap();
        assert_eq!(fresh.len(), 32);
        assert_ne!(fresh, cookie);
    }
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTests::test_process_view_token_too_long
// and ::test_process_view_token_invalid_chars
#[tokio::test]
async fn test_process_view_token_too_long_or_invalid_chars() {
    let long = "x".repeat(100_000);
    let bad = format!("!@#{MASKED_TEST_SECRET2}")[..64].to_owned();
    for cookie in [long.as_str(), bad.as_str()] {
        let r = run("", Req::get("/token/").cookie(cookie)).await;
        let fresh = r.cookie("csrftoken").unwrap();
        assert_eq!(fresh.len(), 32);
        assert_eq!(unmask_cipher_token(&r.token()).unwrap(), fresh);
    }
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTests::test_masked_unmasked_combinations
#[tokio::test]
async fn test_masked_unmasked_combinations() {
    for cookie in [TEST_SECRET, MASKED_TEST_SECRET1] {
        for token in [TEST_SECRET, MASKED_TEST_SECRET2] {
            let mut r = Req::post("/token/").cookie(cookie).token(token);
            assert!(run("", r).await.accepted(), "{cookie} {token} POST");
            r = Req::post("/token/")
                .cookie(cookie)
                .header("x-csrftoken", token);
            assert!(run("", r).await.accepted(), "{cookie} {token} header");
        }
    }
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTests::test_invalid_cookie_replaced_on_GET
// and ::test_valid_secret_not_replaced_on_GET
#[tokio::test]
async fn test_cookie_replaced_only_when_invalid_on_get() {
    let r = run("", Req::get("/post/").cookie("badvalue")).await;
    assert!(r.accepted());
    assert_eq!(r.cookie("csrftoken").unwrap().len(), 32);
    for cookie in [TEST_SECRET, MASKED_TEST_SECRET1] {
        let r = run("", Req::get("/post/").cookie(cookie)).await;
        assert_eq!(r.cookie("csrftoken"), None, "{cookie}");
    }
}

// Conformance csrf-token-source-precedence: a non-empty wrong field wins over a good header;
// an empty field falls back to the header.
both_modes! {
    async fn token_source_precedence() {
        let z = "Z".repeat(32);
        let r = run("", post_with(Some(&z), Some(TEST_SECRET))).await;
        assert_eq!(r.reason(), "CSRF token from POST incorrect.");
        let r = run("", post_with(Some(""), Some(TEST_SECRET))).await;
        assert!(r.accepted());
    }
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTestMixin::test_reading_post_data_raises_unreadable_post_error
both_modes! {
    async fn test_reading_post_data_raises_unreadable_post_error() {
        let stream = futures_util::stream::iter(vec![
            Ok(Bytes::from_static(b"csrfmiddlewaretoken=")),
            Err(std::io::Error::other("connection reset")),
        ]);
        let mut req = post_with(None, None);
        req.body = Some(Body::from_stream(stream));
        let r = run("", req).await;
        assert_eq!(r.reason(), "CSRF token missing.");
    }
}

both_modes! {
    async fn multipart_token_field() {
        let body = |token: &str| {
            format!(
                "--XX\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n\
                 --XX\r\nContent-Disposition: form-data; name=\"f\"; filename=\"f.txt\"\r\n\
                 Content-Type: text/plain\r\n\r\nfile body\r\n\
                 --XX\r\nContent-Disposition: form-data; name=\"csrfmiddlewaretoken\"\r\n\r\n{token}\r\n--XX--\r\n"
            )
        };
        let mut req = Req::post("/post/")
            .cookie(TEST_SECRET)
            .header("content-type", "multipart/form-data; boundary=XX");
        req.body = Some(Body::from(body(MASKED_TEST_SECRET2)));
        assert!(run("", req).await.accepted());

        let mut req = Req::post("/post/")
            .cookie(TEST_SECRET)
            .header("content-type", "multipart/form-data; boundary=XX");
        req.body = Some(Body::from(body(&"a".repeat(64))));
        assert_eq!(
            run("", req).await.reason(),
            "CSRF token from POST incorrect."
        );

        // No field: the header is used.
        let mut req = Req::post("/post/")
            .cookie(TEST_SECRET)
            .header("content-type", "multipart/form-data; boundary=XX")
            .header("x-csrftoken", TEST_SECRET);
        req.body = Some(Body::from(
            "--XX\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--XX--\r\n",
        ));
        assert!(run("", req).await.accepted());
    }
}

// Bad input: every wrong length, in the form and in the header, is a 403 with Django's reason.
both_modes! {
    async fn every_wrong_token_length_is_a_403() {
        let chain = chain("");
        for len in (0..=130).filter(|l| *l != 32 && *l != 64) {
            let token = "a".repeat(len);
            if len > 0 {
                let r = send(&chain, post_with(Some(&token), None).build()).await;
                assert_eq!(
                    r.reason(),
                    "CSRF token from POST has incorrect length.",
                    "{len}"
                );
            }
            let r = send(&chain, post_with(None, Some(&token)).build()).await;
            let expected = "CSRF token from the 'X-Csrftoken' HTTP header has incorrect length.";
            assert_eq!(r.reason(), expected, "{len}");
        }
    }
}

// Bad input: every non-alphanumeric printable ASCII character, and non-ASCII characters.
#[tokio::test]
async fn every_wrong_alphabet_is_a_403() {
    let chain = chain("");
    for c in (0x20u8..0x7f)
        .map(char::from)
        .filter(|c| !c.is_ascii_alphanumeric())
    {
        let token = format!("{c}{}", &TEST_SECRET[1..]);
        let r = send(&chain, post_with(Some(&token), None).build()).await;
        assert_eq!(
            r.reason(),
            "CSRF token from POST has invalid characters.",
            "{c:?}"
        );
        if c != ' ' {
            let r = send(&chain, post_with(None, Some(&token)).build()).await;
            let expected = "CSRF token from the 'X-Csrftoken' HTTP header has invalid characters.";
            assert_eq!(r.reason(), expected, "{c:?}");
        }
        let cookie = format!("{}{c}", &TEST_SECRET[1..]);
        if !matches!(c, ';' | ' ' | '"' | ',' | '\\') {
            let r = send(
                &chain,
                Req::post("/post/")
                    .cookie(&cookie)
                    .token(TEST_SECRET)
                    .build(),
            )
            .await;
            assert_eq!(r.reason(), "CSRF cookie has invalid characters.", "{c:?}");
        }
    }
    // 32 characters in the form (Python's len) but non-ASCII: invalid characters.
    let token = format!("é{}", &TEST_SECRET[1..]);
    let r = send(&chain, post_with(Some(&token), None).build()).await;
    assert_eq!(r.reason(), "CSRF token from POST has invalid characters.");
    // In a header, bytes count as Latin-1 characters (as in Django's META): 33 here.
    let r = send(&chain, post_with(None, Some(&token)).build()).await;
    assert_eq!(
        r.reason(),
        "CSRF token from the 'X-Csrftoken' HTTP header has incorrect length."
    );
    let mut bytes = TEST_SECRET.as_bytes().to_vec();
    bytes[0] = 0xff;
    let raw = String::from_utf8_lossy(&bytes).into_owned();
    let mut req = post_with(None, None).build();
    req.headers_mut().insert(
        "x-csrftoken",
        http::HeaderValue::from_bytes(&bytes).unwrap(),
    );
    let r = send(&chain, req).await;
    assert_eq!(
        r.reason(),
        "CSRF token from the 'X-Csrftoken' HTTP header has invalid characters.",
        "{raw}"
    );
}

// Bad input: junk cookies, Origin null, junk Referers and huge headers never give a 500.
#[tokio::test]
async fn junk_and_huge_headers_never_500() {
    let chain = chain("");
    let huge = "a".repeat(70_000);
    for cookie in ["", "=", "\"\"", "%00", "a b", huge.as_str(), "ÿÿÿ"] {
        let r = send(
            &chain,
            Req::post("/post/")
                .cookie(cookie)
                .token(TEST_SECRET)
                .build(),
        )
        .await;
        assert_eq!(r.status, 403, "{cookie:.20}");
        assert!(r.reason().starts_with("CSRF cookie "), "{}", r.reason());
    }
    let big_referer = format!("https://{huge}/");
    for referer in [
        "null",
        "https://[::1",
        "https://[zz]/",
        "javascript:alert(1)",
        "https://testserver:99999999/",
        big_referer.as_str(),
    ] {
        let req = post_with(Some(TEST_SECRET), None)
            .secure()
            .header("referer", referer);
        let r = send(&chain, req.build()).await;
        assert_eq!(r.status, 403, "{referer:.30}");
        assert!(
            r.reason().starts_with("Referer checking failed - "),
            "{}",
            &r.reason()[..40]
        );
    }
    let big_origin = format!("http://{huge}");
    for origin in [
        "null",
        "",
        "http://",
        "http://testserver:80",
        big_origin.as_str(),
    ] {
        let req = post_with(Some(TEST_SECRET), None).header("origin", origin);
        let r = send(&chain, req.build()).await;
        assert_eq!(r.status, 403, "{origin:.30}");
        assert!(r.reason().starts_with("Origin checking failed - "));
    }
    let r = send(&chain, post_with(None, Some(&huge)).build()).await;
    assert_eq!(
        r.reason(),
        "CSRF token from the 'X-Csrftoken' HTTP header has incorrect length."
    );
    // Multipart junk: no token, no 500.
    let mut req = Req::post("/post/")
        .cookie(TEST_SECRET)
        .header("content-type", "multipart/form-data; boundary=XX");
    req.body = Some(Body::from(
        "--XX\r\n\r\n--XX\r\nContent-Disposition: form-data; name=csrfmiddlewaretoken",
    ));
    assert_eq!(
        send(&chain, req.build()).await.reason(),
        "CSRF token missing."
    );
}

// The test client's `enforce_csrf_checks(false)` (Django's `_dont_enforce_csrf_checks`).
both_modes! {
    async fn test_client_does_not_enforce_by_default() {
        let mut client = middleware_core::test_client::Client::new(chain(""));
        assert_eq!(client.post_form("/post/", &[]).await.status, 200);
        let mut client = middleware_core::test_client::Client::new(chain("")).enforce_csrf_checks(true);
        assert_eq!(client.post_form("/post/", &[]).await.status, 403);
        // A round trip: the page's token and cookie are accepted.
        let page = client.get("/token/").await;
        let start = page.text().find("value=\"").unwrap() + 7;
        let token = page.text()[start..start + 64].to_owned();
        let r = client
            .post_form("/post/", &[("csrfmiddlewaretoken", &token)])
            .await;
        assert_eq!(r.status, 200);
    }
}

// Django: tests/view_tests/tests/test_csrf.py (default failure page), compared with the pages
// Django 6.1.3 rendered (tests/fixtures/csrf/*.html).
#[tokio::test]
async fn default_failure_page_matches_django() {
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/csrf/");
    let cases = [
        ("token_missing", "CSRF token missing."),
        ("no_referer", "Referer checking failed - no Referer."),
        ("no_cookie", "CSRF cookie not set."),
        (
            "escaped",
            "Origin checking failed - <b>&'\" does not match any trusted origins.",
        ),
    ];
    for debug in [false, true] {
        for (name, reason) in cases {
            let file = format!(
                "{fixtures}failure_{}_{name}.html",
                if debug { "debug" } else { "nodebug" }
            );
            let expected = std::fs::read_to_string(&file).unwrap();
            assert_eq!(
                csrf::failure::csrf_failure_page(reason, debug),
                expected,
                "{file}"
            );
        }
    }
    // Through the chain with the default view: 403 text/html, no reason without DEBUG.
    let settings = Settings::from_toml_str(
        "ALLOWED_HOSTS = [\"testserver\"]\nMIDDLEWARE = [\"CsrfViewMiddleware\"]",
        "t",
    )
    .unwrap();
    let mut registry = Registry::new();
    csrf::register_with_failure_views(&mut registry, CsrfFailureViews::new());
    let chain = Chain::builder(&registry, &settings)
        .urls(router())
        .build()
        .unwrap();
    let r = send(&chain, Req::post("/post/").build()).await;
    assert_eq!(r.status, 403);
    assert_eq!(r.headers["content-type"], "text/html; charset=utf-8");
    assert!(r
        .body
        .contains("CSRF verification failed. Request aborted."));
    assert!(!r.body.contains("CSRF cookie not set."));
    assert!(r
        .body
        .contains("requires a CSRF cookie when submitting forms"));
}

#[test]
fn unknown_failure_view_is_a_startup_error_naming_the_setting() {
    let err = Chain::builder(
        &registry(),
        &settings("CSRF_FAILURE_VIEW = \"nope.views.missing\""),
    )
    .urls(router())
    .build()
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("CSRF_FAILURE_VIEW") && err.contains("nope.views.missing"),
        "{err}"
    );
}

// CSRF_USE_SESSIONS without SessionMiddleware before it: the order error at start-up.
#[test]
fn csrf_use_sessions_needs_session_middleware_before() {
    for middleware in [
        r#"["django.middleware.csrf.CsrfViewMiddleware"]"#,
        r#"["django.middleware.csrf.CsrfViewMiddleware", "django.contrib.sessions.middleware.SessionMiddleware"]"#,
    ] {
        let conf = format!(
            "ALLOWED_HOSTS = [\"testserver\"]\nMIDDLEWARE = {middleware}\nCSRF_USE_SESSIONS = true\nSECRET_KEY = \"{SECRET_KEY}\""
        );
        let settings = Settings::from_toml_str(&conf, "t").unwrap();
        let err = Chain::builder(&registry(), &settings)
            .urls(router())
            .build()
            .unwrap_err()
            .to_string();
        assert!(err.contains("SessionMiddleware"), "{err}");
    }
}

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
