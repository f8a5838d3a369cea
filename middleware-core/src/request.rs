//! Reading requests the way Django's `HttpRequest` does: path, query, cookies, form bodies with
//! Django's limits, `is_secure()` and a validated `get_host()`.
//!
//! ```
//! use middleware_core::{Body, RequestExt};
//!
//! let request = http::Request::get("/items/?a=1&a=2&b=x%20y")
//!     .header("cookie", "sessionid=abc; csrftoken=def")
//!     .header("host", "example.com")
//!     .body(Body::empty())
//!     .unwrap();
//! assert_eq!(request.query().get("a"), Some("2")); // the last value, as QueryDict[...] does
//! assert_eq!(request.query().get_list("a"), vec!["1", "2"]);
//! assert_eq!(request.cookie("csrftoken").as_deref(), Some("def"));
//! assert!(!request.is_secure());
//! ```

use std::any::Any;
use std::net::SocketAddr;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use http::header;

use crate::after_response::{AfterResponse, AfterResponseTasks};
use crate::body::{Body, BodyError, BoxError};
use crate::error::Error;
use crate::http_utils;
use crate::settings::CoreSettings;
use crate::view::ResolverMatch;
use crate::Request;

/// Django's `request._dont_enforce_csrf_checks`: present on requests from a test client that
/// does not enforce CSRF checks (`test_client::Client` sets it). The CSRF middleware reads it;
/// it is the model's, so CSRF builds without the test client.
#[derive(Clone, Copy, Debug)]
pub struct DontEnforceCsrfChecks;

/// Facts about the connection a request came on; the server records them with
/// [`RequestExt::set_connection_info`].
#[derive(Clone, Debug)]
pub struct ConnectionInfo {
    /// The peer's address.
    pub remote_addr: Option<SocketAddr>,
    /// The local address the request arrived on.
    pub local_addr: Option<SocketAddr>,
    /// `http` or `https`, as the server knows it (before `SECURE_PROXY_SSL_HEADER`).
    pub scheme: &'static str,
}

/// What the server and the chain attach to a request, which Django keeps on the request object
/// (`META`'s connection keys, the settings, `resolver_match`). One extension for all three:
/// each extension is an allocation of its own, on every request.
#[derive(Clone, Default)]
pub(crate) struct RequestState {
    connection: Option<ConnectionInfo>,
    core: Option<Arc<CoreSettings>>,
    resolver_match: Option<ResolverMatch>,
    /// The chain's after-response count, which a task queued on this request joins.
    tasks: Option<Arc<AfterResponseTasks>>,
    /// This request's after-response queue, made when the first task is queued.
    after: Option<AfterResponse>,
}

fn state<B>(request: &http::Request<B>) -> Option<&RequestState> {
    request.extensions().get::<RequestState>()
}

fn state_mut<B>(request: &mut http::Request<B>) -> &mut RequestState {
    request
        .extensions_mut()
        .get_or_insert_default::<RequestState>()
}

/// Gives the request the chain's settings, unless it has some already (the test client's),
/// and the chain's after-response count, unless an outer chain gave its own.
pub(crate) fn ensure_core_settings(
    request: &mut Request,
    core: &Arc<CoreSettings>,
    tasks: &Arc<AfterResponseTasks>,
) {
    let state = state_mut(request);
    if state.core.is_none() {
        state.core = Some(core.clone());
    }
    if state.tasks.is_none() {
        state.tasks = Some(tasks.clone());
    }
}

/// The request's after-response queue, made now if it has none.
pub(crate) fn after_response<B>(request: &mut http::Request<B>) -> AfterResponse {
    let state = state_mut(request);
    let tasks = state.tasks.clone();
    state
        .after
        .get_or_insert_with(|| AfterResponse::new(tasks))
        .clone()
}

/// The tasks queued on a finished request, for its response body to run.
pub(crate) fn take_after_response(request: &Request) -> Option<crate::after_response::Pending> {
    state(request)?.after.as_ref()?.take()
}

/// Starts a request the server received: its connection and the chain's settings, recorded in
/// `spare` (the extensions of an earlier request on the same connection, see [`recycle`]) when
/// there is one, so the request allocates no extension map of its own.
#[cfg(feature = "server")]
pub(crate) fn start(
    request: &mut Request,
    spare: Option<http::Extensions>,
    connection: ConnectionInfo,
    core: &Arc<CoreSettings>,
    tasks: &Arc<AfterResponseTasks>,
) {
    if let Some(mut spare) = spare {
        // What hyper attached (an upgrade handle, say) comes along.
        spare.extend(std::mem::take(request.extensions_mut()));
        *request.extensions_mut() = spare;
    }
    let state = state_mut(request);
    state.connection = Some(connection);
    state.core = Some(core.clone());
    state.tasks = Some(tasks.clone());
}

/// Empties a finished request's extensions for the next request on the same connection,
/// keeping their allocations: the map and its table, and the `RequestState` box when nothing
/// else is there.
#[cfg(feature = "server")]
pub(crate) fn recycle(request: &mut Request) -> http::Extensions {
    let mut extensions = std::mem::take(request.extensions_mut());
    if extensions.len() == 1 {
        if let Some(state) = extensions.get_mut::<RequestState>() {
            *state = RequestState::default();
            return extensions;
        }
    }
    extensions.clear();
    extensions
}

/// Records what URL resolution found, before `process_view` runs.
pub(crate) fn set_resolver_match(request: &mut Request, resolved: ResolverMatch) {
    state_mut(request).resolver_match = Some(resolved);
}

/// A query string or form body: Django's `QueryDict`, an ordered multi-map.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueryDict(Vec<(String, String)>);

impl QueryDict {
    /// Parses `application/x-www-form-urlencoded` text.
    pub fn parse(input: &[u8]) -> Self {
        QueryDict(
            form_urlencoded::parse(input)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The last value for `key` (Django's `QueryDict[key]`).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every value for `key`, in order (Django's `getlist`).
    pub fn get_list(&self, key: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// All pairs, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The number of pairs.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no pairs.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The parsed form body, cached in the extensions so it is read once.
#[derive(Clone, Debug)]
struct ParsedPost(Arc<QueryDict>);

/// Django's `HttpRequest` API on any `http::Request<B>`: this crate's [`Request`], and the
/// request an axum handler or any tower service gets behind `ChainLayer` (the chain's state
/// travels in the extensions). Reading the body is [`RequestBodyExt`].
pub trait RequestExt {
    /// The connection the request came on, when a server recorded it.
    fn connection_info(&self) -> Option<&ConnectionInfo>;
    /// The client's address (Django's `REMOTE_ADDR`), when a server recorded it.
    fn client_addr(&self) -> Option<SocketAddr>;
    /// Records the connection the request came on: the server does it for every request; an
    /// embedder's own server should too (without it, `REMOTE_ADDR`-style lookups find nothing
    /// and the scheme comes from the URI).
    fn set_connection_info(&mut self, info: ConnectionInfo);
    /// What URL resolution found (Django's `request.resolver_match`): set before the
    /// `process_view` hooks run; `None` before that and when nothing resolved.
    fn resolver_match(&self) -> Option<&ResolverMatch>;
    /// The core settings the chain runs with (defaults outside a chain).
    fn core_settings(&self) -> Arc<CoreSettings>;
    /// The request's queue of work to run after its response has been sent (Django's
    /// `request_finished`); see [`crate::after_response`].
    fn after_response(&mut self) -> AfterResponse;
    /// Gives the request the settings to read (`ALLOWED_HOSTS`, ...) outside a chain, in tests
    /// or tools; a chain attaches its own to requests that have none.
    fn set_core_settings(&mut self, core: Arc<CoreSettings>);
    /// The raw (percent-encoded) path.
    fn path(&self) -> &str;
    /// The percent-decoded path (Django's `path_info`); invalid UTF-8 is replaced.
    fn path_info(&self) -> String;
    /// Path and query (Django's `get_full_path()`).
    fn full_path(&self) -> String;
    /// The query string, parsed (Django's `request.GET`).
    fn query(&self) -> QueryDict;
    /// All cookies (every `Cookie` header line, parsed as Django's `parse_cookie`); later
    /// duplicates win, as in Django.
    fn cookies(&self) -> Vec<(String, String)>;
    /// One cookie's value.
    fn cookie(&self, name: &str) -> Option<String>;
    /// `https` when `SECURE_PROXY_SSL_HEADER` says so, else the connection's scheme.
    fn scheme(&self) -> &'static str;
    /// Whether the request is secure (Django's `is_secure()`).
    fn is_secure(&self) -> bool;
    /// The host, validated against `ALLOWED_HOSTS` (Django's `get_host()`); an invalid or
    /// disallowed host is a `DisallowedHost` error (400).
    fn get_host(&self) -> Result<String, Error>;
    /// An absolute URI for `location` (or this request's full path), Django's
    /// `build_absolute_uri`.
    fn build_absolute_uri(&self, location: Option<&str>) -> Result<String, Error>;
    /// Whether the method is one Django treats as safe for CSRF (GET, HEAD, OPTIONS, TRACE).
    fn is_safe_method(&self) -> bool;
}

/// Reading the body the way Django does (`request.body`, `request.POST`), for a request whose
/// body can be put back once read: this crate's [`Body`], axum's, `Full<Bytes>`...
#[async_trait]
pub trait RequestBodyExt {
    /// The whole body, read once under `DATA_UPLOAD_MAX_MEMORY_SIZE` and kept, so it can be
    /// read again.
    async fn body_bytes(&mut self) -> Result<Bytes, Error>;
    /// The form body (Django's `request.POST`): parsed for POST requests with an urlencoded
    /// content type, empty otherwise; limited by `DATA_UPLOAD_MAX_NUMBER_FIELDS`.
    async fn post(&mut self) -> Result<Arc<QueryDict>, Error>;
}

fn header_str<'a, B>(request: &'a http::Request<B>, name: &header::HeaderName) -> Option<&'a str> {
    request.headers().get(name).and_then(|v| v.to_str().ok())
}

impl<B> RequestExt for http::Request<B> {
    fn connection_info(&self) -> Option<&ConnectionInfo> {
        state(self)?.connection.as_ref()
    }

    fn client_addr(&self) -> Option<SocketAddr> {
        self.connection_info()?.remote_addr
    }

    fn set_connection_info(&mut self, info: ConnectionInfo) {
        state_mut(self).connection = Some(info);
    }

    fn resolver_match(&self) -> Option<&ResolverMatch> {
        state(self)?.resolver_match.as_ref()
    }

    fn core_settings(&self) -> Arc<CoreSettings> {
        match state(self).and_then(|s| s.core.as_ref()) {
            Some(c) => c.clone(),
            None => crate::Settings::default().core().clone(),
        }
    }

    fn set_core_settings(&mut self, core: Arc<CoreSettings>) {
        state_mut(self).core = Some(core);
    }

    fn after_response(&mut self) -> AfterResponse {
        after_response(self)
    }

    fn path(&self) -> &str {
        self.uri().path()
    }

    fn path_info(&self) -> String {
        percent_encoding::percent_decode_str(self.uri().path())
            .decode_utf8_lossy()
            .into_owned()
    }

    fn full_path(&self) -> String {
        match self.uri().query() {
            Some(q) if !q.is_empty() => format!("{}?{}", self.uri().path(), q),
            _ => self.uri().path().to_owned(),
        }
    }

    fn query(&self) -> QueryDict {
        QueryDict::parse(self.uri().query().unwrap_or("").as_bytes())
    }

    fn cookies(&self) -> Vec<(String, String)> {
        // Several Cookie lines (HTTP/2, or clients that split them) are joined as ASGI does.
        let joined = self
            .headers()
            .get_all(header::COOKIE)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect::<Vec<_>>()
            .join("; ");
        http_utils::cookies::parse_cookie(&joined)
    }

    fn cookie(&self, name: &str) -> Option<String> {
        // Line by line gives the chunks of the joined header: the last occurrence wins.
        self.headers()
            .get_all(header::COOKIE)
            .iter()
            .rev()
            .find_map(|line| {
                http_utils::cookies::find_cookie(&String::from_utf8_lossy(line.as_bytes()), name)
            })
    }

    fn scheme(&self) -> &'static str {
        let core = self.core_settings();
        if let Some((name, expected)) = &core.secure_proxy_ssl_header {
            let lines: Vec<&[u8]> = self
                .headers()
                .get_all(name)
                .iter()
                .map(|v| v.as_bytes())
                .collect();
            if !lines.is_empty() {
                // Several lines are joined with ", " as a WSGI/ASGI server would; only the first
                // comma-separated value counts, compared exactly (Django 4.1+).
                let joined = lines.join(&b","[..]);
                let first = joined.split(|b| *b == b',').next().unwrap_or(&[]);
                let first = String::from_utf8_lossy(first);
                return if first.trim() == expected {
                    "https"
                } else {
                    "http"
                };
            }
        }
        match self.connection_info() {
            Some(c) => c.scheme,
            // Embedded without ConnectionInfo: HTTP/2 servers (and absolute-form requests) carry
            // the scheme in the URI.
            None if self.uri().scheme() == Some(&http::uri::Scheme::HTTPS) => "https",
            None => "http",
        }
    }

    fn is_secure(&self) -> bool {
        self.scheme() == "https"
    }

    fn get_host(&self) -> Result<String, Error> {
        let core = self.core_settings();
        // Without a Host header: the URI's authority (HTTP/2's `:authority`), then the local
        // address, as Django falls back to SERVER_NAME.
        http_utils::host::get_host_or_else(
            self.headers(),
            core.use_x_forwarded_host,
            &core.allowed_hosts,
            core.debug,
            || {
                self.uri()
                    .authority()
                    .map(|a| a.as_str().to_owned())
                    .or_else(|| {
                        self.connection_info()
                            .and_then(|c| c.local_addr)
                            .map(|a| a.to_string())
                    })
            },
        )
        .map_err(|e| Error::suspicious("DisallowedHost", e.to_string()))
    }

    fn build_absolute_uri(&self, location: Option<&str>) -> Result<String, Error> {
        let location = location
            .map(str::to_owned)
            .unwrap_or_else(|| self.full_path());
        if location.contains("://") {
            return Ok(location);
        }
        let host = self.get_host()?;
        let path = if location.starts_with('/') {
            location
        } else {
            let base = self.path();
            let dir = &base[..base.rfind('/').map_or(0, |i| i + 1)];
            format!("{dir}{location}")
        };
        Ok(format!("{}://{}{}", self.scheme(), host, path))
    }

    fn is_safe_method(&self) -> bool {
        matches!(self.method().as_str(), "GET" | "HEAD" | "OPTIONS" | "TRACE")
    }
}

#[async_trait]
impl<B> RequestBodyExt for http::Request<B>
where
    B: http_body::Body<Data = Bytes> + From<Bytes> + Default + Send + 'static,
    B::Error: Into<BoxError>,
{
    async fn body_bytes(&mut self) -> Result<Bytes, Error> {
        let limit = self
            .core_settings()
            .data_upload_max_memory_size
            .unwrap_or(usize::MAX);
        // This crate's body may hold its bytes already: no copy, no boxing.
        if let Some(body) = (self.body() as &dyn Any).downcast_ref::<Body>() {
            if let Some(bytes) = body.as_bytes() {
                if bytes.len() > limit {
                    return Err(BodyError::TooLarge { limit }.into());
                }
                return Ok(bytes.clone());
            }
        }
        let mut taken = Some(std::mem::take(self.body_mut()));
        let body = match (&mut taken as &mut dyn Any).downcast_mut::<Option<Body>>() {
            Some(ours) => ours.take().unwrap_or_default(),
            None => taken.map(Body::from_http_body).unwrap_or_default(),
        };
        let bytes = body.collect_limited(limit).await?;
        *self.body_mut() = B::from(bytes.clone());
        Ok(bytes)
    }

    async fn post(&mut self) -> Result<Arc<QueryDict>, Error> {
        if let Some(parsed) = self.extensions().get::<ParsedPost>() {
            return Ok(parsed.0.clone());
        }
        let is_form = header_str(self, &header::CONTENT_TYPE)
            .map(|ct| {
                ct.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            })
            .unwrap_or(false);
        let parsed = if self.method() == http::Method::POST && is_form {
            let bytes = self.body_bytes().await?;
            let form = QueryDict::parse(&bytes);
            if let Some(max) = self.core_settings().data_upload_max_number_fields {
                if form.len() > max {
                    return Err(Error::suspicious(
                        "TooManyFieldsSent",
                        "The number of GET/POST parameters exceeded settings.DATA_UPLOAD_MAX_NUMBER_FIELDS.",
                    ));
                }
            }
            form
        } else {
            QueryDict::default()
        };
        let parsed = Arc::new(parsed);
        self.extensions_mut().insert(ParsedPost(parsed.clone()));
        Ok(parsed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Body, Settings};

    fn with_settings(toml: &str, req: http::request::Builder) -> Request {
        let settings = Settings::from_toml_str(toml, "t").unwrap();
        let mut r = req.body(Body::empty()).unwrap();
        let tasks = Arc::new(AfterResponseTasks::new(1));
        ensure_core_settings(&mut r, settings.core(), &tasks);
        r
    }

    // Several Cookie lines (HTTP/2 sends one per cookie) read as the joined header, which is
    // what ASGI servers give Django: the last occurrence of a name wins, across lines too.
    #[test]
    fn cookies_over_several_header_lines() {
        let request = http::Request::get("/")
            .header("cookie", "a=1; b=2")
            .header("cookie", "c=\"q\"; a=3")
            .body(crate::Body::empty())
            .unwrap();
        assert_eq!(request.cookie("a").as_deref(), Some("3"));
        assert_eq!(request.cookie("b").as_deref(), Some("2"));
        assert_eq!(request.cookie("c").as_deref(), Some("q"));
        assert_eq!(request.cookie("d"), None);
        let names: Vec<_> = request.cookies().into_iter().map(|(k, _)| k).collect();
        assert_eq!(names, ["a", "b", "c", "a"]);
        let none = http::Request::get("/").body(crate::Body::empty()).unwrap();
        assert_eq!(none.cookie("a"), None);
    }

    // Django: tests/requests_tests/tests.py (is_secure with SECURE_PROXY_SSL_HEADER), and the
    // conformance notes: first value only, case-sensitive, several lines joined.
    #[test]
    fn proxy_ssl_header_first_value_only_and_case_sensitive() {
        let conf = "SECURE_PROXY_SSL_HEADER = [\"HTTP_X_FORWARDED_PROTO\", \"https\"]";
        let secure = |values: &[&str]| {
            let mut b = http::Request::get("/");
            for v in values {
                b = b.header("x-forwarded-proto", *v);
            }
            with_settings(conf, b).is_secure()
        };
        assert!(secure(&["https"]));
        assert!(secure(&["https, http"]));
        assert!(!secure(&["http, https"]));
        assert!(!secure(&["HTTPS"]));
        assert!(secure(&["https", "http"]));
        assert!(!secure(&[]));
    }

    #[tokio::test]
    async fn post_respects_field_and_size_limits() {
        let conf = "DATA_UPLOAD_MAX_NUMBER_FIELDS = 2\nDATA_UPLOAD_MAX_MEMORY_SIZE = 20";
        let mut r = with_settings(
            conf,
            http::Request::post("/").header("content-type", "application/x-www-form-urlencoded"),
        );
        *r.body_mut() = Body::from("a=1&b=2&c=3");
        let err = r.post().await.unwrap_err();
        assert!(matches!(
            err,
            Error::Suspicious {
                kind: "TooManyFieldsSent",
                ..
            }
        ));

        let mut r = with_settings(
            conf,
            http::Request::post("/").header("content-type", "application/x-www-form-urlencoded"),
        );
        *r.body_mut() = Body::from("a=0123456789012345678901234");
        let err = r.post().await.unwrap_err();
        assert!(matches!(
            err,
            Error::Suspicious {
                kind: "RequestDataTooBig",
                ..
            }
        ));

        let mut r = with_settings(
            conf,
            http::Request::post("/").header(
                "content-type",
                "application/x-www-form-urlencoded; charset=utf-8",
            ),
        );
        *r.body_mut() = Body::from("a=1&b=h%C3%A9");
        assert_eq!(r.post().await.unwrap().get("b"), Some("hé"));
        // The body can still be read after the form was parsed.
        assert_eq!(r.body_bytes().await.unwrap().as_ref(), b"a=1&b=h%C3%A9");
    }
}
