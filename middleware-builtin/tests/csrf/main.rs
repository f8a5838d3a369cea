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

mod bad_input;
mod cookie;
mod origin;
mod tokens;
mod use_sessions;
