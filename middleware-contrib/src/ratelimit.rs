//! `RatelimitMiddleware`: a port of [django-ratelimit](https://github.com/jsocol/django-ratelimit)
//! 4.1 (`django_ratelimit.middleware.RatelimitMiddleware` together with the `@ratelimit`
//! decorator and `django_ratelimit.core`).
//!
//! Django's decorator becomes a route marker, [`Ratelimit`] (or [`Ratelimits`] for stacked
//! decorators), evaluated by the middleware in `process_view`; the counters live in the
//! `CACHES` backend named by `RATELIMIT_USE_CACHE`, so with Redis they are shared by every
//! instance of the site.
//!
//! ```
//! use middleware_contrib::ratelimit::Ratelimit;
//! use middleware_core::{test_client::Client, Chain, Registry, Route, Router, Settings, Request, Response, Error};
//!
//! async fn login(_: &mut Request) -> Result<Response, Error> {
//!     Ok(Response::new("welcome".into()))
//! }
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let mut registry = Registry::new();
//! middleware_contrib::ratelimit::register(&mut registry);
//! let settings = Settings::from_toml_str(r#"
//!     ALLOWED_HOSTS = ["testserver"]
//!     MIDDLEWARE = ["django_ratelimit.middleware.RatelimitMiddleware"]
//!     RATELIMIT_VIEW = "middleware_contrib.ratelimit.too_many_requests"
//! "#, "settings.toml").unwrap();
//! let mut router = Router::new();
//! // @ratelimit(key="header:x-api-key", rate="2/m", method="POST")
//! router.add(Route::new("login/", login).marker(Ratelimit::new("header:x-api-key", "2/m").method("POST"))).unwrap();
//! let mut client = Client::new(Chain::builder(&registry, &settings).urls(router).build().unwrap());
//! for expected in [200, 200, 429] {
//!     let response = client.request(http::Method::POST, "/login/", &[("x-api-key", "k1")], Default::default()).await;
//!     assert_eq!(response.status, expected);
//! }
//! # });
//! ```
//!
//! The algorithm is the original's fixed window: the window of a rule `N/P` ends at a point
//! `P`-aligned from the epoch plus a jitter of `crc32(key value) % P`; the counter key is
//! `RATELIMIT_CACHE_PREFIX + hex(hash(group + "N/Ps" + value + window + methods))`, created with
//! `add(key, 1, P + 5)` and otherwise `incr`-ed; the request is limited when the count exceeds
//! `N`. Counters are stored as decimal text, which is what Django's own Redis backend stores for
//! an `int`, so a Django site and this one sharing a Redis database (same `KEY_PREFIX`,
//! `VERSION` and `RATELIMIT_CACHE_PREFIX`) share the counters too.
//!
//! Settings, with the original's names and defaults: `RATELIMIT_ENABLE` (`true`),
//! `RATELIMIT_USE_CACHE` (`"default"`), `RATELIMIT_CACHE_PREFIX` (`"rl:"`),
//! `RATELIMIT_HASH_ALGORITHM` (`"hashlib.sha256"`; also `hashlib.sha1`, `hashlib.md5`,
//! `hashlib.sha512`), `RATELIMIT_FAIL_OPEN` (`false`: when the cache fails, requests are
//! **limited**; `true` lets them through), `RATELIMIT_IP_META_KEY` (unset or `"REMOTE_ADDR"`:
//! the connection's peer address from [`ConnectionInfo`](middleware_core::ConnectionInfo); `"HTTP_X_FORWARDED_FOR"`-style names:
//! that request header, which must then hold one address), `RATELIMIT_IPV4_MASK` (32),
//! `RATELIMIT_IPV6_MASK` (64) and `RATELIMIT_VIEW`, the name of a [`RatelimitViews`] entry that
//! answers blocked requests. Unset, a blocked request is Django's unhandled `Ratelimited`
//! (a `PermissionDenied`): a 403.
//!
//! Differences, all at start-up rather than per request: an unknown `RATELIMIT_USE_CACHE` alias,
//! an `RATELIMIT_IP_META_KEY` that is not `REMOTE_ADDR` or `HTTP_*`, masks out of range and an
//! unknown `RATELIMIT_VIEW` or hash algorithm are settings errors. A client-supplied IP header
//! that does not parse is a 400 (the original raises `ValueError`, a 500). Callables given by
//! dotted path (keys, rates, `RATELIMIT_IP_META_KEY`) are closures here ([`Ratelimit::key_fn`],
//! [`Ratelimit::rate_fn`]); `RATELIMIT_EXCEPTION_CLASS` has no equivalent.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use http::{HeaderName, StatusCode};
use middleware_builtin::cache::{
    caches_from_settings, shared_caches, CacheBackend, Caches, CachesSettings, Timeout,
};
use middleware_core::checks::CheckMessage;
use middleware_core::registry::NamedTable;
use middleware_core::settings::meta_to_header;
use middleware_core::{
    async_trait, BuildContext, Error, FactoryError, Middleware, Next, Registry, Request,
    RequestBodyExt, RequestExt, ResolverMatch, Response, Settings,
};

middleware_core::declare_settings! {
    /// Every setting the middleware reads (besides `CACHES`), with django-ratelimit's
    /// defaults.
    pub struct RatelimitSettings {
        /// `RatelimitMiddleware` (django-ratelimit): `false` limits nothing
        RATELIMIT_ENABLE => enable: bool = true,
        /// the alias of `CACHES` holding the counters
        RATELIMIT_USE_CACHE => use_cache: String = "default",
        /// prefix of the counter keys
        RATELIMIT_CACHE_PREFIX => cache_prefix: String = "rl:",
        /// hash of the counter keys (`sha1`, `md5`, `sha512` too)
        RATELIMIT_HASH_ALGORITHM => hash_algorithm: String = "hashlib.sha256",
        /// when the cache fails, let requests through instead of limiting them
        RATELIMIT_FAIL_OPEN => fail_open: bool = false,
        /// unset: the peer address; `"HTTP_X_REAL_IP"`-style: that header
        RATELIMIT_IP_META_KEY => ip_meta_key: Option<String> = unset,
        /// prefix length that groups IPv4 clients
        RATELIMIT_IPV4_MASK => ipv4_mask: i64 = 32,
        /// prefix length that groups IPv6 clients
        RATELIMIT_IPV6_MASK => ipv6_mask: i64 = 64,
        /// the view that answers a limited request, a name registered in `RatelimitViews`
        RATELIMIT_VIEW => view: Option<String> = unset("unset (403)"),
    }
}

/// The original's `EXPIRATION_FUDGE`: counters outlive their window by this many seconds.
pub const EXPIRATION_FUDGE: u64 = 5;

/// The name of the built-in `RATELIMIT_VIEW` answering `429 Too Many Requests`.
pub const TOO_MANY_REQUESTS_VIEW: &str = "middleware_contrib.ratelimit.too_many_requests";

mod rule;
pub use rule::{
    parse_rate, AuthenticatedUser, KeyFn, Limited, Methods, Rate, RateFn, Ratelimit, Ratelimits,
    Usage,
};
use rule::{KeySpec, RateSpec};

/// A `RATELIMIT_VIEW`: answers a blocked request (the original calls `view(request, exception)`).
pub type RatelimitView = Arc<dyn Fn(&Request) -> Response + Send + Sync>;

/// `RATELIMIT_VIEW` candidates by name, standing in for Django's dotted-path import. Cloning
/// shares the table; views may be added until the chain is built.
#[derive(Clone, Debug)]
pub struct RatelimitViews(NamedTable<RatelimitView>);

impl std::ops::Deref for RatelimitViews {
    type Target = NamedTable<RatelimitView>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl Default for RatelimitViews {
    fn default() -> Self {
        Self::new()
    }
}

impl RatelimitViews {
    /// A table holding [`TOO_MANY_REQUESTS_VIEW`] (429, plain text).
    pub fn new() -> Self {
        let views = RatelimitViews(NamedTable::default());
        views.insert(
            TOO_MANY_REQUESTS_VIEW,
            Arc::new(|_: &Request| {
                middleware_core::response::text(
                    StatusCode::TOO_MANY_REQUESTS,
                    "429 Too Many Requests\n",
                )
            }),
        );
        views
    }
}

#[derive(Clone, Copy, Debug)]
enum HashAlgorithm {
    Sha256,
    Sha1,
    Md5,
    Sha512,
}

impl HashAlgorithm {
    fn hexdigest(self, data: &[u8]) -> String {
        use sha2::Digest as _;
        let bytes: Vec<u8> = match self {
            HashAlgorithm::Sha256 => sha2::Sha256::digest(data).to_vec(),
            HashAlgorithm::Sha512 => sha2::Sha512::digest(data).to_vec(),
            HashAlgorithm::Sha1 => sha1::Sha1::digest(data).to_vec(),
            HashAlgorithm::Md5 => md5::Md5::digest(data).to_vec(),
        };
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }
}

#[derive(Clone, Debug)]
enum IpSource {
    RemoteAddr,
    Header(String, HeaderName),
}

/// The original's `django_ratelimit.core`: settings read once, and the cache.
pub struct Ratelimiter {
    enable: bool,
    cache: Arc<dyn CacheBackend>,
    cache_alias: String,
    prefix: String,
    hash: HashAlgorithm,
    fail_open: bool,
    ip_source: IpSource,
    ipv4_mask: u8,
    ipv6_mask: u8,
}

impl fmt::Debug for Ratelimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ratelimiter")
            .field("enable", &self.enable)
            .field("cache_alias", &self.cache_alias)
            .field("fail_open", &self.fail_open)
            .finish_non_exhaustive()
    }
}

fn improperly(message: impl Into<String>) -> Error {
    Error::ImproperlyConfigured(message.into())
}

impl Ratelimiter {
    /// Reads the `RATELIMIT_*` settings and opens the `RATELIMIT_USE_CACHE` cache from a
    /// fresh `CACHES` (a chain shares its caches instead: see [`Ratelimiter::with_caches`]).
    pub fn from_settings(s: &Settings) -> Result<Self, FactoryError> {
        Ratelimiter::with_caches(s, &caches_from_settings(s)?)
    }

    /// Reads the `RATELIMIT_*` settings and takes the `RATELIMIT_USE_CACHE` cache from `caches`.
    pub fn with_caches(s: &Settings, caches: &Caches) -> Result<Self, FactoryError> {
        let declared = RatelimitSettings::from_settings(s)?;
        let cache_alias = declared.use_cache;
        let cache = caches.get(&cache_alias).ok_or_else(|| {
            s.invalid(
                "RATELIMIT_USE_CACHE",
                format!("{cache_alias:?} does not appear in CACHES"),
                "name a cache defined in CACHES (django_ratelimit.E002)",
            )
        })?;
        let hash_name = declared.hash_algorithm;
        let hash = match hash_name.trim_start_matches("hashlib.") {
            "sha256" => HashAlgorithm::Sha256,
            "sha1" => HashAlgorithm::Sha1,
            "md5" => HashAlgorithm::Md5,
            "sha512" => HashAlgorithm::Sha512,
            _ => {
                return Err(s
                    .invalid(
                        "RATELIMIT_HASH_ALGORITHM",
                        format!("{hash_name:?} is not supported"),
                        "use \"hashlib.sha256\", \"hashlib.sha1\", \"hashlib.md5\" or \"hashlib.sha512\"",
                    )
                    .into())
            }
        };
        let ip_source = match declared.ip_meta_key.as_deref() {
            None | Some("") | Some("REMOTE_ADDR") => IpSource::RemoteAddr,
            Some(meta) if meta.starts_with("HTTP_") => match meta_to_header(meta) {
                Some(h) => IpSource::Header(meta.to_owned(), h),
                None => return Err(bad_ip_meta(s, meta)),
            },
            Some(meta) => return Err(bad_ip_meta(s, meta)),
        };
        let mask = |key: &str, v: i64, max: u8| -> Result<u8, FactoryError> {
            u8::try_from(v).ok().filter(|m| *m <= max).ok_or_else(|| {
                FactoryError::Settings(s.invalid(
                    key,
                    format!("{v} is not a prefix length between 0 and {max}"),
                    format!("use a number from 0 to {max}"),
                ))
            })
        };
        Ok(Ratelimiter {
            enable: declared.enable,
            cache,
            cache_alias,
            prefix: declared.cache_prefix,
            hash,
            fail_open: declared.fail_open,
            ip_source,
            ipv4_mask: mask("RATELIMIT_IPV4_MASK", declared.ipv4_mask, 32)?,
            ipv6_mask: mask("RATELIMIT_IPV6_MASK", declared.ipv6_mask, 128)?,
        })
    }

    /// The original's `_get_ip`: the client address, masked to its network.
    pub fn client_ip(&self, request: &Request) -> Result<String, Error> {
        let raw = match &self.ip_source {
            IpSource::RemoteAddr => request
                .connection_info()
                .and_then(|c| c.remote_addr)
                .map(|a| a.ip().to_string())
                .ok_or_else(|| {
                    improperly(
                        "IP address in REMOTE_ADDR is empty. This can happen when using a \
                         reverse proxy and connecting to the app server with Unix sockets. See \
                         the documentation for RATELIMIT_IP_META_KEY",
                    )
                })?,
            IpSource::Header(meta, name) => request
                .headers()
                .get(name)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_owned())
                .ok_or_else(|| improperly(format!("Could not get IP address from \"{meta}\"")))?,
        };
        let ip: IpAddr = raw
            .parse()
            .map_err(|_| Error::bad_request("the client IP address does not parse"))?;
        Ok(match ip {
            IpAddr::V4(v4) => {
                let bits = u32::from(v4);
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.ipv4_mask))
                    .unwrap_or(0);
                std::net::Ipv4Addr::from(bits & mask).to_string()
            }
            IpAddr::V6(v6) => {
                let bits = u128::from(v6);
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.ipv6_mask))
                    .unwrap_or(0);
                std::net::Ipv6Addr::from(bits & mask).to_string()
            }
        })
    }

    async fn key_value(
        &self,
        request: &mut Request,
        group: &str,
        key: &KeySpec,
    ) -> Result<String, Error> {
        let name = match key {
            KeySpec::Custom(f) => return Ok(f(group, request)),
            KeySpec::Named(name) => name.as_str(),
        };
        let user = || {
            request
                .extensions()
                .get::<AuthenticatedUser>()
                .map(|u| u.0.clone())
        };
        match name {
            "" => Err(improperly("Ratelimit key must be specified")),
            "ip" => self.client_ip(request),
            // An anonymous user's pk is None in Django.
            "user" => Ok(user().unwrap_or_else(|| "None".to_owned())),
            "user_or_ip" => match user() {
                Some(pk) => Ok(pk),
                None => self.client_ip(request),
            },
            _ => match name.split_once(':') {
                Some(("get", k)) => Ok(request.query().get(k).unwrap_or("").to_owned()),
                Some(("post", k)) => Ok(request.post().await?.get(k).unwrap_or("").to_owned()),
                Some(("header", h)) => {
                    Ok(HeaderName::from_bytes(h.to_ascii_lowercase().as_bytes())
                        .ok()
                        .and_then(|h| request.headers().get(h))
                        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                        .unwrap_or_default())
                }
                Some(_) => Err(improperly(format!("Unknown ratelimit key: {name}"))),
                None => Err(improperly(format!(
                    "Could not understand ratelimit key: {name}"
                ))),
            },
        }
    }

    fn rate_of(
        &self,
        request: &Request,
        group: &str,
        rule: &Ratelimit,
    ) -> Result<Option<Rate>, Error> {
        match &rule.rate {
            RateSpec::Unlimited => Ok(None),
            RateSpec::Fixed(r) => Ok(Some(*r)),
            RateSpec::Custom(f) => Ok(f(group, request)),
            RateSpec::Text(t) => parse_rate(t)
                .map(Some)
                .ok_or_else(|| improperly(format!("Could not parse ratelimit rate: {t:?}"))),
        }
    }

    /// The original's `_make_cache_key`.
    fn cache_key(
        &self,
        group: &str,
        window: u64,
        rate: Rate,
        value: &str,
        methods: &Methods,
    ) -> String {
        let parts = format!(
            "{group}{}/{}s{value}{window}{}",
            rate.count,
            rate.seconds,
            methods.key_part()
        );
        format!("{}{}", self.prefix, self.hash.hexdigest(parts.as_bytes()))
    }

    /// The original's `get_usage(request, group, key=..., rate=..., method=..., increment=...)`:
    /// `None` when the rule does not apply (disabled, other method, no rate) or the cache failed
    /// with `RATELIMIT_FAIL_OPEN`.
    pub async fn get_usage(
        &self,
        request: &mut Request,
        group: &str,
        rule: &Ratelimit,
        increment: bool,
    ) -> Result<Option<Usage>, Error> {
        if !self.enable || !rule.method.matches(request.method().as_str()) {
            return Ok(None);
        }
        let Some(rate) = self.rate_of(request, group, rule)? else {
            return Ok(None);
        };
        if rate.seconds == 0 {
            return Err(improperly("Ratelimit period must be greater than 0"));
        }
        let Some(key) = &rule.key else {
            return Err(improperly("Ratelimit key must be specified"));
        };
        let value = self.key_value(request, group, key).await?;
        let now = unix_now();
        let window = window_end(&value, rate.seconds, now);
        let cache_key = self.cache_key(group, window, rate, &value, &rule.method);
        let initial: i64 = if increment { 1 } else { 0 };
        let timeout = Timeout::Seconds(
            i64::try_from(rate.seconds.saturating_add(EXPIRATION_FUDGE)).unwrap_or(i64::MAX),
        );

        let added = match self
            .cache
            .add(&cache_key, initial.to_string().as_bytes(), timeout)
            .await
        {
            Ok(added) => added,
            Err(e) => {
                tracing::warn!(cache = %self.cache_alias, error = %e, "ratelimit: cache add failed");
                false
            }
        };
        let count = if added {
            Some(initial)
        } else if increment {
            match self.cache.incr(&cache_key, 1).await {
                Ok(n) => Some(n),
                Err(e) => {
                    tracing::warn!(cache = %self.cache_alias, error = %e, "ratelimit: cache incr failed");
                    None
                }
            }
        } else {
            // `cache.get(key, initial_value)`: a missing (or unreadable) counter reads as the
            // initial value, as the original's memcached backend answers on errors.
            match self.cache.get(&cache_key).await {
                Ok(Some(bytes)) => std::str::from_utf8(&bytes)
                    .ok()
                    .and_then(|t| t.parse().ok()),
                Ok(None) => Some(initial),
                Err(e) => {
                    tracing::warn!(cache = %self.cache_alias, error = %e, "ratelimit: cache get failed");
                    Some(initial)
                }
            }
        };
        let Some(count) = count else {
            if self.fail_open {
                return Ok(None);
            }
            return Ok(Some(Usage {
                count: 0,
                limit: 0,
                should_limit: true,
                time_left: -1,
            }));
        };
        Ok(Some(Usage {
            count,
            limit: rate.count,
            should_limit: count > i64::try_from(rate.count).unwrap_or(i64::MAX),
            time_left: i64::try_from(window).unwrap_or(i64::MAX) - i64::try_from(now).unwrap_or(0),
        }))
    }

    /// The original's `is_ratelimited`.
    pub async fn is_ratelimited(
        &self,
        request: &mut Request,
        group: &str,
        rule: &Ratelimit,
        increment: bool,
    ) -> Result<bool, Error> {
        Ok(self
            .get_usage(request, group, rule, increment)
            .await?
            .is_some_and(|u| u.should_limit))
    }
}

fn bad_ip_meta(s: &Settings, meta: &str) -> FactoryError {
    FactoryError::Settings(s.invalid(
        "RATELIMIT_IP_META_KEY",
        format!("Could not get IP address from {meta:?}"),
        "use \"REMOTE_ADDR\" (the default) or a header in META form such as \"HTTP_X_REAL_IP\"",
    ))
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The original's `_get_window`: the end of the current window of `period` seconds for `value`,
/// jittered by `crc32(value) % period` so windows of different keys do not all end together.
pub fn window_end(value: &str, period: u64, now: u64) -> u64 {
    if period <= 1 {
        return now;
    }
    let mut crc = flate2::Crc::new();
    crc.update(value.as_bytes());
    let w = now - (now % period) + (u64::from(crc.sum()) % period);
    if w < now {
        w + period
    } else {
        w
    }
}

/// django-ratelimit's `RatelimitMiddleware`, doing the `@ratelimit` decorator's work for routes
/// marked with [`Ratelimit`] / [`Ratelimits`].
pub struct RatelimitMiddleware {
    next: Next,
    limiter: Arc<Ratelimiter>,
    view: Option<RatelimitView>,
}

impl fmt::Debug for RatelimitMiddleware {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RatelimitMiddleware")
            .field("limiter", &self.limiter)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Middleware for RatelimitMiddleware {
    async fn call(&self, request: &mut Request) -> Result<Response, Error> {
        Ok(self.next.get_response(request).await)
    }

    async fn process_view(
        &self,
        request: &mut Request,
        view: &ResolverMatch,
    ) -> Result<Option<Response>, Error> {
        let rules: Vec<Ratelimit> = match (
            view.markers().get::<Ratelimits>(),
            view.markers().get::<Ratelimit>(),
        ) {
            (Some(many), _) => many.0.clone(),
            (None, Some(one)) => vec![one.clone()],
            (None, None) => return Ok(None),
        };
        for rule in &rules {
            let group = rule.group.as_deref().unwrap_or(view.route());
            let limited = self
                .limiter
                .is_ratelimited(request, group, rule, true)
                .await?;
            let old = request.extensions().get::<Limited>().is_some_and(|l| l.0);
            request.extensions_mut().insert(Limited(limited || old));
            if limited && rule.block {
                return match &self.view {
                    Some(v) => Ok(Some(v(request))),
                    None => Err(Error::permission_denied("Ratelimited")),
                };
            }
        }
        Ok(None)
    }
}

/// django_ratelimit.E002 / E003: the counters need a cache that exists and is shared.
fn check_cache(settings: &Settings) -> Vec<CheckMessage> {
    let Ok(declared) = RatelimitSettings::for_checks(settings) else {
        return Vec::new();
    };
    let alias = &declared.use_cache;
    let Ok(caches) = caches_from_settings(settings) else {
        return Vec::new();
    };
    if caches.get(alias).is_none() {
        return vec![CheckMessage::error(
            "django_ratelimit.E002",
            format!("RATELIMIT_USE_CACHE value \"{alias}\"\" does not appear in CACHES dictionary"),
            Some("RATELIMIT_USE_CACHE must be set to a valid cache"),
        )];
    }
    let backend = CachesSettings::for_checks(settings)
        .ok()
        .and_then(|s| Some(s.values.caches?.remove(alias)?.backend().to_owned()))
        .unwrap_or_else(|| middleware_builtin::cache::LOCMEM_BACKEND.to_owned());
    if backend == middleware_builtin::cache::LOCMEM_BACKEND {
        return vec![CheckMessage::error(
            "django_ratelimit.E003",
            format!("cache backend {backend} is not a shared cache"),
            Some("Use a supported cache backend"),
        )];
    }
    Vec::new()
}

/// Registers `RatelimitMiddleware` (also as `django_ratelimit.middleware.RatelimitMiddleware`),
/// its settings and its cache check, with the default [`RatelimitViews`].
pub fn register(registry: &mut Registry) {
    register_with(registry, RatelimitViews::new());
}

/// As [`register`], resolving `RATELIMIT_VIEW` in `views`.
pub fn register_with(registry: &mut Registry, views: RatelimitViews) {
    registry
        .register("RatelimitMiddleware", move |next, ctx: &BuildContext<'_>| {
            let s = ctx.settings;
            let view = match RatelimitSettings::from_settings(s)?.view {
                None => None,
                Some(name) => Some(views.get(&name).ok_or_else(|| {
                    s.invalid(
                        "RATELIMIT_VIEW",
                        format!("no view is registered as {name:?}"),
                        format!("register it with RatelimitViews::insert, or use {TOO_MANY_REQUESTS_VIEW:?}"),
                    )
                })?),
            };
            Ok(RatelimitMiddleware {
                next,
                limiter: Arc::new(Ratelimiter::with_caches(s, shared_caches(ctx)?.as_ref())?),
                view,
            })
        })
        .alias("django_ratelimit.middleware.RatelimitMiddleware")
        .needs_process_view()
        .declares::<RatelimitSettings>()
        .declares::<CachesSettings>();
    registry.add_check(false, |ctx| {
        if ctx.has_middleware("RatelimitMiddleware") {
            check_cache(ctx.settings)
        } else {
            Vec::new()
        }
    });
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
