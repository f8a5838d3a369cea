//! `RequestIDMiddleware`: a port of [django-log-request-id](https://github.com/dabapps/django-log-request-id)
//! (`log_request_id.middleware.RequestIDMiddleware`).
//!
//! Each request gets an id — taken from a request header (`LOG_REQUEST_ID_HEADER`) or generated
//! as a uuid4 in hex, like the original — stored in the request's extensions as [`RequestId`]
//! (Django's `request.id`), and attached to **every `tracing` event emitted while the rest of
//! the chain handles the request**: the inner call runs inside a `request` span carrying a
//! `request_id` field. That span replaces the original's thread-local plus `RequestIDFilter`.
//!
//! ```
//! use middleware_contrib::request_id::RequestId;
//! use middleware_core::{test_client::Client, Chain, Registry, Router, Settings, Request, Response, Error};
//!
//! async fn index(request: &mut Request) -> Result<Response, Error> {
//!     let id = request.extensions().get::<RequestId>().map(|r| r.0.clone()).unwrap_or_default();
//!     tracing::info!("handled"); // carries request_id=<id> through the span
//!     Ok(Response::new(id.into()))
//! }
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let mut registry = Registry::new();
//! middleware_contrib::request_id::register(&mut registry);
//! let settings = Settings::from_toml_str(r#"
//!     ALLOWED_HOSTS = ["testserver"]
//!     MIDDLEWARE = ["log_request_id.middleware.RequestIDMiddleware"]
//!     LOG_REQUEST_ID_HEADER = "HTTP_X_REQUEST_ID"
//!     REQUEST_ID_RESPONSE_HEADER = "X-Request-ID"
//! "#, "settings.toml").unwrap();
//! let mut router = Router::new();
//! router.route("", index).unwrap();
//! let mut client = Client::new(Chain::builder(&registry, &settings).urls(router).build().unwrap());
//! let response = client.request(http::Method::GET, "/", &[("x-request-id", "abc-123")], Default::default()).await;
//! assert_eq!(response.text(), "abc-123");
//! assert_eq!(response.header("x-request-id"), Some("abc-123"));
//! # });
//! ```
//!
//! Settings, as the original: `LOG_REQUEST_ID_HEADER` (a `META` name such as
//! `HTTP_X_REQUEST_ID`, or a plain header name; unset: always generate),
//! `GENERATE_REQUEST_ID_IF_NOT_IN_HEADER` (default `false`: a missing header gives
//! `NO_REQUEST_ID`), `NO_REQUEST_ID` (default `"none"`), `REQUEST_ID_RESPONSE_HEADER` (unset: no
//! response header) and `LOG_REQUESTS` (default `false`: when set, one
//! `method=GET path=/ status=200` line per request at info level, target
//! `log_request_id.middleware`, skipping paths containing `favicon`).
//!
//! **Incoming ids are validated** (unlike the original): at most [`MAX_REQUEST_ID_LEN`]
//! characters of `A-Z a-z 0-9 - _ . : = ; + / @`. Anything else — spaces, quotes, `%`, `{`,
//! non-ASCII — is treated as a missing header (so `GENERATE_REQUEST_ID_IF_NOT_IN_HEADER` /
//! `NO_REQUEST_ID` apply), which makes log injection through the header impossible whatever the
//! log format. `tracing` formats the field with `Display`, so what is logged is exactly the id.
//!
//! Events from tasks the view *spawns* are outside the span unless the task is instrumented with
//! `tracing::Span::current()`; events inside the chain's own futures are all covered. The
//! original's `LOG_USER_ATTRIBUTE` (append `user=<pk>`) is not ported: this project has no
//! `request.user`.

use std::sync::Arc;

use http::{HeaderName, HeaderValue};
use middleware_core::settings::meta_to_header;
use middleware_core::{
    async_trait, BuildContext, Error, FactoryError, Middleware, Next, Registry, Request,
    RequestExt, Response, Settings,
};
use tracing::Instrument;

middleware_core::declare_settings! {
    /// Every setting the middleware reads, with django-log-request-id's defaults.
    pub struct RequestIdSettings {
        /// `RequestIDMiddleware` (django-log-request-id): the request header holding the id
        /// (`HTTP_X_REQUEST_ID` or a plain name)
        LOG_REQUEST_ID_HEADER => header: Option<String> = unset,
        /// generate an id when that header is absent
        GENERATE_REQUEST_ID_IF_NOT_IN_HEADER => generate_if_not_in_header: bool = false,
        /// the id when there is none and none is generated
        NO_REQUEST_ID => no_request_id: String = "none",
        /// echo the id in this response header
        REQUEST_ID_RESPONSE_HEADER => response_header: Option<String> = unset,
        /// log one line per request, inside the request's span
        LOG_REQUESTS => log_requests: bool = false,
    }
}

/// The original's `DEFAULT_NO_REQUEST_ID`.
pub const DEFAULT_NO_REQUEST_ID: &str = "none";

/// The longest incoming id accepted.
pub const MAX_REQUEST_ID_LEN: usize = 200;

/// The request's id (Django's `request.id`), in the request's extensions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestId(pub String);

/// Whether `value` is accepted as an incoming request id: 1 to [`MAX_REQUEST_ID_LEN`]
/// characters of `A-Z a-z 0-9 - _ . : = ; + / @` (uuids, hex, AWS/Heroku style trace ids).
pub fn is_valid_request_id(value: &[u8]) -> bool {
    !value.is_empty()
        && value.len() <= MAX_REQUEST_ID_LEN
        && value.iter().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'-' | b'_' | b'.' | b':' | b'=' | b';' | b'+' | b'/' | b'@'
                )
        })
}

/// A new id: a random (version 4) uuid as 32 lower-case hex digits, as `uuid.uuid4().hex`.
pub fn generate_request_id() -> String {
    let mut bytes: [u8; 16] = rand::random();
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(Debug)]
struct RequestIdConfig {
    header: Option<HeaderName>,
    generate_if_not_in_header: bool,
    no_request_id: String,
    response_header: Option<HeaderName>,
    log_requests: bool,
}

fn header_setting(
    s: &Settings,
    key: &str,
    value: Option<String>,
) -> Result<Option<HeaderName>, FactoryError> {
    match value {
        None => Ok(None),
        // The original skips a falsy value: an empty string is "unset".
        Some(v) if v.is_empty() => Ok(None),
        Some(v) => meta_to_header(&v).map(Some).ok_or_else(|| {
            FactoryError::Settings(s.invalid(
                key,
                format!("{v:?} is not a valid header name"),
                "use a header name such as \"X-Request-ID\" (or its META form \"HTTP_X_REQUEST_ID\")",
            ))
        }),
    }
}

impl RequestIdConfig {
    fn from_settings(s: &Settings) -> Result<Self, FactoryError> {
        let declared = RequestIdSettings::from_settings(s)?;
        Ok(RequestIdConfig {
            header: header_setting(s, "LOG_REQUEST_ID_HEADER", declared.header)?,
            generate_if_not_in_header: declared.generate_if_not_in_header,
            no_request_id: declared.no_request_id,
            response_header: header_setting(
                s,
                "REQUEST_ID_RESPONSE_HEADER",
                declared.response_header,
            )?,
            log_requests: declared.log_requests,
        })
    }
}

/// django-log-request-id's `RequestIDMiddleware`.
#[derive(Debug)]
pub struct RequestIDMiddleware {
    next: Next,
    config: Arc<RequestIdConfig>,
}

impl RequestIDMiddleware {
    /// The original's `_get_request_id`, with incoming ids validated.
    fn request_id(&self, request: &Request) -> String {
        let c = &self.config;
        let Some(header) = &c.header else {
            return generate_request_id();
        };
        match request.headers().get(header) {
            Some(v) if is_valid_request_id(v.as_bytes()) => {
                String::from_utf8_lossy(v.as_bytes()).into_owned()
            }
            _ if c.generate_if_not_in_header => generate_request_id(),
            _ => c.no_request_id.clone(),
        }
    }
}

#[async_trait]
impl Middleware for RequestIDMiddleware {
    async fn call(&self, request: &mut Request) -> Result<Response, Error> {
        let id = self.request_id(request);
        request.extensions_mut().insert(RequestId(id.clone()));
        // ERROR level so the span is enabled whenever any event is: a span filtered out by
        // level would drop `request_id` from the warnings and errors that need it most.
        let span = tracing::error_span!("request", request_id = %id);
        let mut response = self
            .next
            .get_response(request)
            .instrument(span.clone())
            .await;

        if let Some(name) = &self.config.response_header {
            // `NO_REQUEST_ID` may be anything; a value that cannot be a header is not sent.
            if let Ok(value) = HeaderValue::from_str(&id) {
                if !id.is_empty() {
                    response.headers_mut().insert(name.clone(), value);
                }
            }
        }
        if self.config.log_requests && !request.path().contains("favicon") {
            span.in_scope(|| {
                tracing::info!(
                    target: "log_request_id.middleware",
                    "method={} path={} status={}",
                    request.method(),
                    request.path_info(),
                    response.status().as_u16()
                );
            });
        }
        Ok(response)
    }
}

/// Registers `RequestIDMiddleware` (also as `log_request_id.middleware.RequestIDMiddleware`) and
/// its settings.
pub fn register(registry: &mut Registry) {
    registry
        .register("RequestIDMiddleware", |next, ctx: &BuildContext<'_>| {
            Ok(RequestIDMiddleware {
                next,
                config: Arc::new(RequestIdConfig::from_settings(ctx.settings)?),
            })
        })
        .alias("log_request_id.middleware.RequestIDMiddleware")
        .declares::<RequestIdSettings>();
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
