//! An in-process test client, as Django's `django.test.Client`: requests go through the whole
//! chain without a socket, cookies persist across requests, redirects can be followed, and CSRF
//! checks are off unless asked for (`enforce_csrf_checks`).
//!
//! ```
//! use middleware_core::{test_client::Client, Chain, Registry, Router, Settings, Request, Response, Error};
//!
//! async fn hello(_: &mut Request) -> Result<Response, Error> {
//!     Ok(Response::new("Hello".into()))
//! }
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let mut router = Router::new();
//! router.route("hello/", hello).unwrap();
//! let settings = Settings::from_toml_str("ALLOWED_HOSTS = [\"testserver\"]", "t").unwrap();
//! let chain = Chain::builder(&Registry::new(), &settings).urls(router).build().unwrap();
//! let mut client = Client::new(chain);
//! let response = client.get("/hello/").await;
//! assert_eq!(response.status, 200);
//! assert_eq!(response.text(), "Hello");
//! # });
//! ```

use std::collections::BTreeMap;

use bytes::Bytes;
use http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};

use crate::body::Body;
use crate::chain::Chain;
use crate::request::{ConnectionInfo, RequestExt};

pub use crate::request::DontEnforceCsrfChecks;

/// A collected response.
#[derive(Debug)]
pub struct TestResponse {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The whole body (streams are collected).
    pub body: Bytes,
    /// The response's extensions (e.g. [`crate::ErrorInfo`]).
    pub extensions: http::Extensions,
    /// Redirects followed to get here: (location, status).
    pub redirect_chain: Vec<(String, StatusCode)>,
    /// Whether the body was streamed.
    pub streaming: bool,
}

impl TestResponse {
    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// One header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Every `Set-Cookie` line.
    pub fn set_cookies(&self) -> Vec<&str> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect()
    }

    /// The `Set-Cookie` line for `name`.
    pub fn set_cookie(&self, name: &str) -> Option<&str> {
        let prefix = format!("{name}=");
        self.set_cookies()
            .into_iter()
            .find(|l| l.starts_with(&prefix))
    }
}

/// The test client.
#[derive(Debug)]
pub struct Client {
    chain: Chain,
    jar: BTreeMap<String, String>,
    enforce_csrf_checks: bool,
    follow: bool,
    secure: bool,
    headers: HeaderMap,
    remote_addr: Option<std::net::SocketAddr>,
}

impl Client {
    /// A client for `chain`, sending `Host: testserver`.
    pub fn new(chain: Chain) -> Self {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("testserver"));
        Client {
            chain,
            jar: BTreeMap::new(),
            enforce_csrf_checks: false,
            follow: false,
            secure: false,
            headers,
            remote_addr: None,
        }
    }

    /// Django's `Client(enforce_csrf_checks=True)`.
    pub fn enforce_csrf_checks(mut self, enforce: bool) -> Self {
        self.enforce_csrf_checks = enforce;
        self
    }

    /// Follow redirects (up to 20), recording them in `redirect_chain`.
    pub fn follow_redirects(mut self, follow: bool) -> Self {
        self.follow = follow;
        self
    }

    /// Make requests as if over HTTPS (Django's `secure=True`).
    pub fn secure(mut self, secure: bool) -> Self {
        self.secure = secure;
        self
    }

    /// The peer address requests come from (Django's `REMOTE_ADDR`); none by default.
    pub fn remote_addr(mut self, addr: std::net::SocketAddr) -> Self {
        self.remote_addr = Some(addr);
        self
    }

    /// Changes the peer address of the following requests.
    pub fn set_remote_addr(&mut self, addr: Option<std::net::SocketAddr>) {
        self.remote_addr = addr;
    }

    /// A header sent with every request (replaces one of the same name).
    pub fn default_header(mut self, name: &'static str, value: &str) -> Self {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.insert(HeaderName::from_static(name), v);
        }
        self
    }

    /// A cookie in the jar.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.jar.get(name).map(String::as_str)
    }

    /// Puts a cookie in the jar (`None` removes it).
    pub fn set_cookie(&mut self, name: &str, value: Option<&str>) {
        match value {
            Some(v) => {
                self.jar.insert(name.to_owned(), v.to_owned());
            }
            None => {
                self.jar.remove(name);
            }
        }
    }

    /// `GET path`.
    pub async fn get(&mut self, path: &str) -> TestResponse {
        self.request(Method::GET, path, &[], Body::empty()).await
    }

    /// `HEAD path`.
    pub async fn head(&mut self, path: &str) -> TestResponse {
        self.request(Method::HEAD, path, &[], Body::empty()).await
    }

    /// `POST path` with an urlencoded form.
    pub async fn post_form(&mut self, path: &str, form: &[(&str, &str)]) -> TestResponse {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        self.request(
            Method::POST,
            path,
            &[("content-type", "application/x-www-form-urlencoded")],
            body.into(),
        )
        .await
    }

    /// `POST path` with a JSON body.
    pub async fn post_json(&mut self, path: &str, value: &serde_json::Value) -> TestResponse {
        self.request(
            Method::POST,
            path,
            &[("content-type", "application/json")],
            value.to_string().into(),
        )
        .await
    }

    /// `POST path` with a raw body and content type.
    pub async fn post_raw(
        &mut self,
        path: &str,
        content_type: &str,
        body: impl Into<Body>,
    ) -> TestResponse {
        self.request(
            Method::POST,
            path,
            &[("content-type", content_type)],
            body.into(),
        )
        .await
    }

    /// Any request: `extra` headers are added to the defaults (and replace them).
    pub async fn request(
        &mut self,
        method: Method,
        path: &str,
        extra: &[(&str, &str)],
        body: Body,
    ) -> TestResponse {
        let mut response = self.send_once(method.clone(), path, extra, body).await;
        let mut chain = Vec::new();
        while self.follow && response.status.is_redirection() && chain.len() < 20 {
            let Some(location) = response.header("location").map(str::to_owned) else {
                break;
            };
            chain.push((location.clone(), response.status));
            let target = match location.split_once("://") {
                Some((_, rest)) => rest
                    .find('/')
                    .map_or("/".to_owned(), |i| rest[i..].to_owned()),
                None => location,
            };
            let keep = matches!(response.status.as_u16(), 307 | 308);
            let (m, b) = if keep && method != Method::GET {
                (method.clone(), Body::empty())
            } else {
                (Method::GET, Body::empty())
            };
            response = self.send_once(m, &target, extra, b).await;
        }
        response.redirect_chain = chain;
        response
    }

    async fn send_once(
        &mut self,
        method: Method,
        path: &str,
        extra: &[(&str, &str)],
        body: Body,
    ) -> TestResponse {
        let mut request = http::Request::new(body);
        *request.method_mut() = method;
        *request.uri_mut() = path.parse().unwrap_or_else(|_| http::Uri::from_static("/"));
        *request.headers_mut() = self.headers.clone();
        for (name, value) in extra {
            if let (Ok(n), Ok(v)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) {
                request.headers_mut().insert(n, v);
            }
        }
        if !self.jar.is_empty() && !request.headers().contains_key(header::COOKIE) {
            let line = self
                .jar
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            if let Ok(v) = HeaderValue::from_str(&line) {
                request.headers_mut().insert(header::COOKIE, v);
            }
        }
        request.set_connection_info(ConnectionInfo {
            remote_addr: self.remote_addr,
            local_addr: None,
            scheme: if self.secure { "https" } else { "http" },
        });
        if !self.enforce_csrf_checks {
            request.extensions_mut().insert(DontEnforceCsrfChecks);
        }
        let response = self.chain.call(request).await;
        let (parts, body) = response.into_parts();
        let streaming = body.is_streaming();
        let body = body.collect_all().await.unwrap_or_default();
        self.update_jar(&parts.headers);
        TestResponse {
            status: parts.status,
            headers: parts.headers,
            body,
            extensions: parts.extensions,
            redirect_chain: Vec::new(),
            streaming,
        }
    }

    fn update_jar(&mut self, headers: &HeaderMap) {
        for line in headers.get_all(header::SET_COOKIE) {
            let Ok(line) = line.to_str() else { continue };
            let mut parts = line.split(';');
            let Some((name, value)) = parts.next().and_then(|nv| nv.split_once('=')) else {
                continue;
            };
            let expired = parts.any(|attr| {
                let attr = attr.trim().to_ascii_lowercase();
                attr == "max-age=0" || attr.starts_with("max-age=-") || attr.contains("01 jan 1970")
            });
            if expired {
                self.jar.remove(name.trim());
            } else {
                self.jar
                    .insert(name.trim().to_owned(), value.trim().to_owned());
            }
        }
    }
}
