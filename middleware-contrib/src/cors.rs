//! `CorsMiddleware`: a port of [django-cors-headers](https://github.com/adamchainz/django-cors-headers)
//! (`corsheaders.middleware.CorsMiddleware`), with its setting names, defaults and header values.
//!
//! ```
//! use middleware_core::{test_client::Client, Chain, Registry, Router, Settings, Request, Response, Error};
//!
//! async fn index(_: &mut Request) -> Result<Response, Error> { Ok(Response::new("Index".into())) }
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let mut registry = Registry::new();
//! middleware_contrib::cors::register(&mut registry);
//! let settings = Settings::from_toml_str(r#"
//!     ALLOWED_HOSTS = ["testserver"]
//!     MIDDLEWARE = ["corsheaders.middleware.CorsMiddleware"]
//!     CORS_ALLOWED_ORIGINS = ["https://example.com"]
//! "#, "settings.toml").unwrap();
//! let mut router = Router::new();
//! router.route("", index).unwrap();
//! let mut client = Client::new(Chain::builder(&registry, &settings).urls(router).build().unwrap());
//! let preflight = client.request(http::Method::OPTIONS, "/", &[
//!     ("origin", "https://example.com"), ("access-control-request-method", "GET"),
//! ], Default::default()).await;
//! assert_eq!(preflight.status, 200);
//! assert_eq!(preflight.header("access-control-allow-origin"), Some("https://example.com"));
//! assert_eq!(preflight.header("access-control-allow-methods"), Some("DELETE, GET, OPTIONS, PATCH, POST, PUT"));
//! assert_eq!(preflight.header("vary"), Some("origin"));
//! # });
//! ```
//!
//! Behaviour, as the original:
//!
//! * Requests whose `path_info` matches `CORS_URLS_REGEX` (Python's `re.match`: anchored at the
//!   start only), or that a `check_request_enabled` handler accepts, are "CORS enabled".
//! * An enabled `OPTIONS` request carrying `Access-Control-Request-Method` (even empty) is a
//!   preflight: answered here with an empty 200 (`Content-Length: 0`), the view is not called.
//! * Every enabled response gets `Vary: origin`; when the `Origin` is allowed (exact
//!   scheme + netloc match in `CORS_ALLOWED_ORIGINS`, `"null"` listed literally, a regex of
//!   `CORS_ALLOWED_ORIGIN_REGEXES`, `CORS_ALLOW_ALL_ORIGINS`, or a handler), the
//!   `Access-Control-*` headers are added — to error responses too.
//!
//! Django's `check_request_enabled` signal becomes a list of [`CheckRequestEnabled`] handlers
//! passed to [`register_with`]. The regexes are Rust's `regex` syntax (no look-around or
//! back-references); one that does not compile is a start-up error naming the setting.

use std::sync::Arc;

use http::{header, HeaderName, HeaderValue, Method, StatusCode};
use middleware_core::checks::CheckMessage;
use middleware_core::http_utils::url::urlsplit;
use middleware_core::{
    async_trait, BuildContext, Error, FactoryError, Middleware, Next, Registry, Request,
    RequestExt, Response, ResponseExt, Settings,
};
use regex::Regex;

/// `access-control-allow-origin`.
pub const ACCESS_CONTROL_ALLOW_ORIGIN: &str = "access-control-allow-origin";
/// `access-control-expose-headers`.
pub const ACCESS_CONTROL_EXPOSE_HEADERS: &str = "access-control-expose-headers";
/// `access-control-allow-credentials`.
pub const ACCESS_CONTROL_ALLOW_CREDENTIALS: &str = "access-control-allow-credentials";
/// `access-control-allow-headers`.
pub const ACCESS_CONTROL_ALLOW_HEADERS: &str = "access-control-allow-headers";
/// `access-control-allow-methods`.
pub const ACCESS_CONTROL_ALLOW_METHODS: &str = "access-control-allow-methods";
/// `access-control-max-age`.
pub const ACCESS_CONTROL_MAX_AGE: &str = "access-control-max-age";
/// `access-control-request-private-network`.
pub const ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK: &str = "access-control-request-private-network";
/// `access-control-allow-private-network`.
pub const ACCESS_CONTROL_ALLOW_PRIVATE_NETWORK: &str = "access-control-allow-private-network";

middleware_core::declare_settings! {
    /// Every setting the middleware reads, including the original's deprecated aliases, with
    /// django-cors-headers' defaults (`corsheaders.defaults`).
    pub struct CorsSettings {
        /// `CorsMiddleware` (django-cors-headers): origins allowed, scheme and netloc
        CORS_ALLOWED_ORIGINS => allowed_origins: Option<Vec<String>> = unset("`[]`"),
        /// the older name of `CORS_ALLOWED_ORIGINS`
        CORS_ORIGIN_WHITELIST => origin_whitelist: Vec<String> = [],
        /// origins allowed by regular expression
        CORS_ALLOWED_ORIGIN_REGEXES => allowed_origin_regexes: Option<Vec<String>> = unset("`[]`"),
        /// the older name of `CORS_ALLOWED_ORIGIN_REGEXES`
        CORS_ORIGIN_REGEX_WHITELIST => origin_regex_whitelist: Vec<String> = [],
        /// every origin allowed
        CORS_ALLOW_ALL_ORIGINS => allow_all_origins: Option<bool> = unset("`false`"),
        /// the older name of `CORS_ALLOW_ALL_ORIGINS`
        CORS_ORIGIN_ALLOW_ALL => origin_allow_all: bool = false,
        /// the paths CORS applies to (`re.match` on `path_info`)
        CORS_URLS_REGEX => urls_regex: String = "^.*$",
        /// `Access-Control-Allow-Methods` of a preflight
        CORS_ALLOW_METHODS => allow_methods: Vec<String> =
            ["DELETE", "GET", "OPTIONS", "PATCH", "POST", "PUT"],
        /// `Access-Control-Allow-Headers` of a preflight
        CORS_ALLOW_HEADERS => allow_headers: Vec<String> = [
            "accept",
            "authorization",
            "content-type",
            "user-agent",
            "x-csrftoken",
            "x-requested-with"
        ],
        /// `Access-Control-Expose-Headers`
        CORS_EXPOSE_HEADERS => expose_headers: Vec<String> = [],
        /// `Access-Control-Max-Age`; `0` leaves it out
        CORS_PREFLIGHT_MAX_AGE => preflight_max_age: i64 = 86400,
        /// `Access-Control-Allow-Credentials: true`
        CORS_ALLOW_CREDENTIALS => allow_credentials: bool = false,
        /// `Access-Control-Allow-Private-Network: true` when asked
        CORS_ALLOW_PRIVATE_NETWORK => allow_private_network: bool = false,
    }
}

/// A `check_request_enabled` signal receiver: returns `true` to enable CORS for a request
/// whatever the path or origin lists say.
pub type CheckRequestEnabled = Arc<dyn Fn(&Request) -> bool + Send + Sync>;

/// The original's `request._cors_enabled`, left in the request's extensions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CorsEnabled(pub bool);

/// The settings, read once.
#[derive(Debug)]
struct CorsConfig {
    allowed_origins: Vec<String>,
    allowed_origin_regexes: Vec<Regex>,
    allow_all_origins: bool,
    urls_regex: Regex,
    allow_methods: HeaderValue,
    allow_headers: HeaderValue,
    expose_headers: Option<HeaderValue>,
    preflight_max_age: u64,
    allow_credentials: bool,
    allow_private_network: bool,
}

/// Python's `re.match`: a match anchored at the start of the text only.
fn anchored(settings: &Settings, key: &str, pattern: &str) -> Result<Regex, FactoryError> {
    Regex::new(&format!(r"\A(?:{pattern})")).map_err(|e| {
        FactoryError::Settings(settings.invalid(
            key,
            format!("{pattern:?} is not a valid regular expression: {e}"),
            "use Rust regex syntax (no look-around or back-references)",
        ))
    })
}

/// `", ".join(values)` as a header value; a value that cannot be a header is a settings error.
fn joined(settings: &Settings, key: &str, values: &[String]) -> Result<HeaderValue, FactoryError> {
    HeaderValue::from_str(&values.join(", ")).map_err(|_| {
        FactoryError::Settings(settings.invalid(
            key,
            "contains characters not allowed in a header",
            "list plain header or method names",
        ))
    })
}

impl CorsConfig {
    fn from_settings(s: &Settings) -> Result<Self, FactoryError> {
        let declared = CorsSettings::from_settings(s)?;
        // A setting's deprecated alias counts when the setting itself is unset.
        let regexes = declared
            .allowed_origin_regexes
            .unwrap_or(declared.origin_regex_whitelist);
        // corsheaders.E004: an integer >= 0.
        let preflight_max_age = u64::try_from(declared.preflight_max_age).map_err(|_| {
            s.invalid(
                "CORS_PREFLIGHT_MAX_AGE",
                "should be an integer greater than or equal to zero",
                "use a number of seconds, or 0 to send no Access-Control-Max-Age",
            )
        })?;
        let expose = &declared.expose_headers;
        Ok(CorsConfig {
            allowed_origins: declared
                .allowed_origins
                .unwrap_or(declared.origin_whitelist),
            allowed_origin_regexes: regexes
                .iter()
                .map(|r| anchored(s, "CORS_ALLOWED_ORIGIN_REGEXES", r))
                .collect::<Result<_, _>>()?,
            allow_all_origins: declared
                .allow_all_origins
                .unwrap_or(declared.origin_allow_all),
            urls_regex: anchored(s, "CORS_URLS_REGEX", &declared.urls_regex)?,
            allow_methods: joined(s, "CORS_ALLOW_METHODS", &declared.allow_methods)?,
            allow_headers: joined(s, "CORS_ALLOW_HEADERS", &declared.allow_headers)?,
            expose_headers: if expose.is_empty() {
                None
            } else {
                Some(joined(s, "CORS_EXPOSE_HEADERS", expose)?)
            },
            preflight_max_age,
            allow_credentials: declared.allow_credentials,
            allow_private_network: declared.allow_private_network,
        })
    }
}

/// django-cors-headers' `CorsMiddleware`.
pub struct CorsMiddleware {
    next: Next,
    config: Arc<CorsConfig>,
    handlers: Arc<[CheckRequestEnabled]>,
}

impl std::fmt::Debug for CorsMiddleware {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CorsMiddleware")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl CorsMiddleware {
    fn check_signal(&self, request: &Request) -> bool {
        // Every receiver is called, as `Signal.send` does, then any truthy answer wins.
        let answers: Vec<bool> = self.handlers.iter().map(|h| h(request)).collect();
        answers.into_iter().any(|a| a)
    }

    fn is_enabled(&self, request: &Request) -> bool {
        self.config.urls_regex.is_match(&request.path_info()) || self.check_signal(request)
    }

    fn origin_found_in_white_lists(&self, origin: &str, scheme: &str, netloc: &str) -> bool {
        let c = &self.config;
        (origin == "null" && c.allowed_origins.iter().any(|o| o == "null"))
            || c.allowed_origins.iter().any(|allowed| {
                // An allowed origin Python cannot split matches nothing (it would raise there;
                // the system check reports such entries).
                urlsplit(allowed).is_ok_and(|a| a.scheme == scheme && a.netloc == netloc)
            })
            || c.allowed_origin_regexes.iter().any(|r| r.is_match(origin))
    }

    fn add_response_headers(&self, request: &Request, response: &mut Response) {
        let enabled = match request.extensions().get::<CorsEnabled>() {
            Some(CorsEnabled(e)) => *e,
            None => self.is_enabled(request),
        };
        if !enabled {
            return;
        }
        response.patch_vary_headers(&["origin"]);

        let Some(origin_value) = request.headers().get(header::ORIGIN).cloned() else {
            return;
        };
        // Django decodes header bytes as latin-1; non-ASCII origins never match a list entry,
        // and are only echoed back as the same bytes.
        let origin = String::from_utf8_lossy(origin_value.as_bytes()).into_owned();
        if origin.is_empty() {
            return;
        }
        let Ok(url) = urlsplit(&origin) else {
            return;
        };
        let c = &self.config;
        if !c.allow_all_origins
            && !self.origin_found_in_white_lists(&origin, &url.scheme, &url.netloc)
            && !self.check_signal(request)
        {
            return;
        }

        let headers = response.headers_mut();
        let name = HeaderName::from_static;
        if c.allow_all_origins && !c.allow_credentials {
            headers.insert(
                name(ACCESS_CONTROL_ALLOW_ORIGIN),
                HeaderValue::from_static("*"),
            );
        } else {
            headers.insert(name(ACCESS_CONTROL_ALLOW_ORIGIN), origin_value);
        }
        if c.allow_credentials {
            headers.insert(
                name(ACCESS_CONTROL_ALLOW_CREDENTIALS),
                HeaderValue::from_static("true"),
            );
        }
        if let Some(expose) = &c.expose_headers {
            headers.insert(name(ACCESS_CONTROL_EXPOSE_HEADERS), expose.clone());
        }
        if request.method() == Method::OPTIONS {
            headers.insert(name(ACCESS_CONTROL_ALLOW_HEADERS), c.allow_headers.clone());
            headers.insert(name(ACCESS_CONTROL_ALLOW_METHODS), c.allow_methods.clone());
            if c.preflight_max_age > 0 {
                headers.insert(name(ACCESS_CONTROL_MAX_AGE), c.preflight_max_age.into());
            }
        }
        if c.allow_private_network
            && request
                .headers()
                .get(ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK)
                .is_some_and(|v| v.as_bytes() == b"true")
        {
            headers.insert(
                name(ACCESS_CONTROL_ALLOW_PRIVATE_NETWORK),
                HeaderValue::from_static("true"),
            );
        }
    }
}

#[async_trait]
impl Middleware for CorsMiddleware {
    async fn call(&self, request: &mut Request) -> Result<Response, Error> {
        let enabled = self.is_enabled(request);
        request.extensions_mut().insert(CorsEnabled(enabled));
        let preflight = enabled
            && request.method() == Method::OPTIONS
            && request
                .headers()
                .contains_key("access-control-request-method");
        let mut response = if preflight {
            let mut r = middleware_core::response::html(StatusCode::OK, "");
            r.headers_mut()
                .insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
            r
        } else {
            self.next.get_response(request).await
        };
        self.add_response_headers(request, &mut response);
        Ok(response)
    }
}

/// corsheaders.E013 / E014: entries of `CORS_ALLOWED_ORIGINS` must be bare origins.
fn check_allowed_origins(settings: &Settings) -> Vec<CheckMessage> {
    let Ok(declared) = CorsSettings::for_checks(settings) else {
        return Vec::new();
    };
    let (alias, origins) = match declared.values.allowed_origins {
        Some(o) => ("CORS_ALLOWED_ORIGINS", o),
        None => ("CORS_ORIGIN_WHITELIST", declared.values.origin_whitelist),
    };
    let mut out = Vec::new();
    for origin in origins {
        if origin == "null" || origin == "file://" {
            continue;
        }
        let parsed = urlsplit(&origin).unwrap_or_default();
        if parsed.scheme.is_empty() || parsed.netloc.is_empty() {
            out.push(CheckMessage::error(
                "corsheaders.E013",
                format!("Origin {origin:?} in {alias} is missing scheme or netloc"),
                Some("Add a scheme (e.g. https://) or netloc (e.g. example.com)."),
            ));
            continue;
        }
        for (part, value) in [
            ("path", &parsed.path),
            ("query", &parsed.query),
            ("fragment", &parsed.fragment),
        ] {
            if !value.is_empty() {
                out.push(CheckMessage::error(
                    "corsheaders.E014",
                    format!("Origin {origin:?} in {alias} should not have {part}"),
                    None,
                ));
            }
        }
    }
    out
}

/// Registers `CorsMiddleware` (also as `corsheaders.middleware.CorsMiddleware`), its settings
/// and its origin checks.
pub fn register(registry: &mut Registry) {
    register_with(registry, Vec::new());
}

/// As [`register`], with `check_request_enabled` signal receivers.
pub fn register_with(registry: &mut Registry, handlers: Vec<CheckRequestEnabled>) {
    let handlers: Arc<[CheckRequestEnabled]> = handlers.into();
    registry
        .register("CorsMiddleware", move |next, ctx: &BuildContext<'_>| {
            Ok(CorsMiddleware {
                next,
                config: Arc::new(CorsConfig::from_settings(ctx.settings)?),
                handlers: handlers.clone(),
            })
        })
        .alias("corsheaders.middleware.CorsMiddleware")
        .declares::<CorsSettings>();
    registry.add_check(false, |ctx| {
        if ctx.has_middleware("CorsMiddleware") {
            check_allowed_origins(ctx.settings)
        } else {
            Vec::new()
        }
    });
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
