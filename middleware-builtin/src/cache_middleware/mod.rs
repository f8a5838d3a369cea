//! Django's site cache (`django.middleware.cache`): [`UpdateCacheMiddleware`] (listed first),
//! [`FetchFromCacheMiddleware`] (listed last) and the single-entry [`CacheMiddleware`], on the
//! `CACHES` backends, plus the per-view helpers of `django.views.decorators.cache` and `.vary`
//! ([`CachePage`], [`never_cache`], [`cache_control`], [`vary_on_headers`], [`vary_on_cookie`]).
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use std::sync::atomic::{AtomicUsize, Ordering};
//! use std::sync::Arc;
//! use middleware_core::{response::text, test_client::Client, Chain, Registry, Route, Router, Settings};
//!
//! let mut registry = Registry::new();
//! middleware_builtin::register_all(&mut registry);
//! let settings = Settings::from_toml_str(r#"
//!     ALLOWED_HOSTS = ["testserver"]
//!     MIDDLEWARE = [
//!         "django.middleware.cache.UpdateCacheMiddleware",
//!         "django.middleware.common.CommonMiddleware",
//!         "django.middleware.cache.FetchFromCacheMiddleware",
//!     ]
//! "#, "settings.toml").unwrap();
//! let hits = Arc::new(AtomicUsize::new(0));
//! let counter = hits.clone();
//! let mut router = Router::new();
//! router.add(Route::with_view("", middleware_core::view_fn(move |_req: &mut middleware_core::Request| {
//!     let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
//!     async move { Ok(text(http::StatusCode::OK, format!("view ran {n} time(s)"))) }
//! }))).unwrap();
//! let mut client = Client::new(Chain::builder(&registry, &settings).urls(router).build().unwrap());
//! assert_eq!(client.get("/").await.text(), "view ran 1 time(s)");
//! let cached = client.get("/").await;
//! assert_eq!(cached.text(), "view ran 1 time(s)");
//! assert_eq!(cached.header("cache-control"), Some("max-age=600"));
//! assert!(cached.header("age").is_some());
//! # });
//! ```
//!
//! Cached responses are stored whole (status, headers, body) as JSON, so a [`RedisCache`]
//! entry written by one process is served by another. A failing backend (Redis down or slow)
//! is a miss: the view answers, a warning is logged, nothing is stored.
//!
//! [`RedisCache`]: crate::cache::RedisCache

mod keys;
mod page;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::SystemTime;

use async_trait::async_trait;
use base64::Engine;
use http::header::{HeaderName, HeaderValue, AUTHORIZATION, CACHE_CONTROL, EXPIRES, SET_COOKIE};
use http::{Method, StatusCode};
use middleware_core::checks::{CheckContext, CheckMessage};
use middleware_core::http_utils::cache::{
    add_never_cache_headers, get_max_age, has_vary_header, patch_cache_control,
    patch_response_headers, patch_vary_headers, split_directive_names, CacheDirective,
    InvalidHeader,
};
use middleware_core::http_utils::dates::parse_http_date;
use middleware_core::{
    BuildContext, Error, FactoryError, Middleware, Next, Registry, Request, Resolve, Response,
    ResponseExt, Settings,
};

use crate::cache::{CacheBackend, Caches, CachesSettings, Timeout};

pub use keys::{
    cache_uri, get_cache_key, learn_cache_key, CacheKeyConfig, CacheKeySettings, CacheRequest,
};
pub use page::CachePageView;

/// `middleware.W110`: a middleware that changes `Vary`, cookies or the body is listed above
/// `UpdateCacheMiddleware`, so what is cached differs from what is sent.
pub const W_UPDATE_CACHE_NOT_FIRST: &str = "middleware.W110";
/// `middleware.W111`: `FetchFromCacheMiddleware` is not the last entry of `MIDDLEWARE`.
pub const W_FETCH_FROM_CACHE_NOT_LAST: &str = "middleware.W111";
/// `middleware.W112`: one half of the two-part cache is listed without the other (nothing
/// would ever be cached), or the halves are in the wrong order.
pub const W_CACHE_HALF_MISSING: &str = "middleware.W112";

/// Django's `DEFAULT_CACHE_ALIAS`.
pub const DEFAULT_CACHE_ALIAS: &str = "default";

/// Django's `@cache_page(timeout, cache=None, key_prefix=None)` as a route marker: the cache
/// middleware caches this route's page for `timeout` seconds (over any `max-age`), under
/// `key_prefix` (default `""`) in the cache `cache_alias` (default `"default"`).
///
/// Needs [`CacheMiddleware`] or the Update/Fetch pair in `MIDDLEWARE`: unlike Django's
/// decorator, the marker alone caches nothing.
///
/// ```
/// use middleware_builtin::cache_middleware::CachePage;
/// let marker = CachePage::new(60).key_prefix("news").cache("other");
/// assert_eq!(marker.timeout, 60);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CachePage {
    /// Seconds the page is cached; it also becomes the response's `max-age`.
    pub timeout: u64,
    /// Django's `key_prefix` (`None` = `""`, as the decorator does).
    pub key_prefix: Option<String>,
    /// Django's `cache` (`None` = `"default"`).
    pub cache_alias: Option<String>,
}

impl CachePage {
    /// `cache_page(timeout)`.
    pub fn new(timeout: u64) -> Self {
        CachePage {
            timeout,
            key_prefix: None,
            cache_alias: None,
        }
    }

    /// `key_prefix=...`.
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.key_prefix = Some(prefix.into());
        self
    }

    /// `cache=...`: the alias in `CACHES`.
    pub fn cache(mut self, alias: impl Into<String>) -> Self {
        self.cache_alias = Some(alias.into());
        self
    }
}

/// Django's `never_cache`: `Expires: <now>` (if absent) and
/// `Cache-Control: max-age=0, no-cache, no-store, must-revalidate, private`.
pub fn never_cache(response: &mut Response) {
    add_never_cache_headers(response.headers_mut(), SystemTime::now());
}

/// Django's `cache_control(**kwargs)`: patches `Cache-Control` (`_` in names becomes `-`; the
/// smaller `max-age` wins; `public` and `private` replace each other).
///
/// ```
/// use middleware_builtin::cache_middleware::cache_control;
/// use middleware_core::http_utils::cache::CacheDirective;
/// let mut response = middleware_core::response::text(http::StatusCode::OK, "");
/// cache_control(&mut response, &[("max_age", 3600.into()), ("public", CacheDirective::Flag)]).unwrap();
/// assert_eq!(response.headers()["cache-control"], "max-age=3600, public");
/// ```
pub fn cache_control(
    response: &mut Response,
    directives: &[(&str, CacheDirective)],
) -> Result<(), InvalidHeader> {
    patch_cache_control(response.headers_mut(), directives)
}

/// Django's `vary_on_headers(*headers)`: adds the names to `Vary`.
pub fn vary_on_headers(response: &mut Response, headers: &[&str]) -> Result<(), InvalidHeader> {
    patch_vary_headers(response.headers_mut(), headers)
}

/// Django's `vary_on_cookie`: `Vary: Cookie`.
pub fn vary_on_cookie(response: &mut Response) {
    // "Cookie" is a valid header value: this cannot fail.
    let _ = patch_vary_headers(response.headers_mut(), &["Cookie"]);
}

/// The cache middleware settings, read once.
#[derive(Clone, Debug)]
pub struct CacheMiddlewareConfig {
    /// `CACHE_MIDDLEWARE_SECONDS` (default 600): the timeout when the response has no `max-age`.
    pub cache_timeout: i64,
    /// `CACHE_MIDDLEWARE_KEY_PREFIX` (default `""`).
    pub key_prefix: String,
    /// `CACHE_MIDDLEWARE_ALIAS` (default `"default"`).
    pub cache_alias: String,
    /// What goes into the keys besides the URL.
    pub keys: CacheKeyConfig,
}

impl CacheMiddlewareConfig {
    /// Reads the settings.
    pub fn from_settings(settings: &Settings) -> Result<Self, FactoryError> {
        let declared = CacheMiddlewareSettings::from_settings(settings)?;
        Ok(CacheMiddlewareConfig {
            cache_timeout: declared.seconds,
            key_prefix: declared.key_prefix,
            cache_alias: declared.alias,
            keys: declared.keys.into(),
        })
    }
}

/// Django's `request._cache_update_cache = True`, with what the update half needs: the cache
/// and key prefix the fetch half looked in, and a `cache_page` timeout.
#[derive(Clone)]
struct UpdatePlan {
    cache: Arc<dyn CacheBackend>,
    key_prefix: String,
    page_timeout: Option<i64>,
}

/// A response as stored in the cache.
#[derive(serde::Serialize, serde::Deserialize)]
struct StoredResponse {
    /// Format version.
    v: u8,
    status: u16,
    /// Header values as Latin-1 text (one char per byte), so any value round-trips.
    headers: Vec<(String, String)>,
    /// Standard base64.
    body: String,
}

const STORED_VERSION: u8 = 1;

fn encode_response(response: &Response, body: &[u8]) -> Vec<u8> {
    let stored = StoredResponse {
        v: STORED_VERSION,
        status: response.status().as_u16(),
        headers: response
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    v.as_bytes().iter().map(|&b| char::from(b)).collect(),
                )
            })
            .collect(),
        body: base64::engine::general_purpose::STANDARD.encode(body),
    };
    serde_json::to_vec(&stored).unwrap_or_default()
}

/// Decodes a stored response; `None` for anything this port did not write.
fn decode_response(data: &[u8]) -> Option<Response> {
    let stored: StoredResponse = serde_json::from_slice(data).ok()?;
    if stored.v != STORED_VERSION {
        return None;
    }
    let body = base64::engine::general_purpose::STANDARD
        .decode(stored.body.as_bytes())
        .ok()?;
    let mut response = Response::new(body.into());
    *response.status_mut() = StatusCode::from_u16(stored.status).ok()?;
    for (name, value) in stored.headers {
        let name = HeaderName::from_bytes(name.as_bytes()).ok()?;
        let bytes: Option<Vec<u8>> = value
            .chars()
            .map(|c| u8::try_from(u32::from(c)).ok())
            .collect();
        let value = HeaderValue::from_bytes(&bytes?).ok()?;
        response.headers_mut().append(name, value);
    }
    Some(response)
}

fn header_text(response: &Response, name: &HeaderName) -> String {
    response
        .headers()
        .get_all(name)
        .iter()
        .map(|v| {
            v.as_bytes()
                .iter()
                .map(|&b| char::from(b))
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// The request phase (Django's `FetchFromCacheMiddleware.process_request`).
#[derive(Clone)]
struct Fetcher {
    config: Arc<CacheMiddlewareConfig>,
    caches: Arc<Caches>,
    urls: Option<Arc<dyn Resolve>>,
    /// The decorator's arguments ([`CachePageView`]): used instead of a route marker.
    page: Option<CachePage>,
}

enum Fetched {
    /// A cached response to send.
    Hit(Response),
    /// Run the view; store its response when a plan is given.
    Miss(Option<UpdatePlan>),
}

impl Fetcher {
    fn new(ctx: &BuildContext<'_>) -> Result<Self, FactoryError> {
        let config = CacheMiddlewareConfig::from_settings(ctx.settings)?;
        let caches = crate::cache::shared_caches(ctx)?;
        if caches.get(&config.cache_alias).is_none() {
            return Err(ctx
                .settings
                .invalid(
                    "CACHE_MIDDLEWARE_ALIAS",
                    format!("no cache named {:?} in CACHES", config.cache_alias),
                    "name one of the CACHES aliases (Django's default is \"default\")",
                )
                .into());
        }
        Ok(Fetcher {
            config: Arc::new(config),
            caches,
            urls: ctx.urls.cloned(),
            page: None,
        })
    }

    /// The cache, key prefix and page timeout for this request: the route's [`CachePage`]
    /// marker if any, else the settings.
    fn target(&self, request: &Request) -> Result<UpdatePlan, Error> {
        let marker = self.page.clone().or_else(|| {
            self.urls
                .as_ref()
                .and_then(|urls| urls.resolve(request).ok())
                .and_then(|m| m.markers().get::<CachePage>().cloned())
        });
        let (alias, key_prefix, page_timeout) = match marker {
            Some(page) => (
                page.cache_alias
                    .unwrap_or_else(|| DEFAULT_CACHE_ALIAS.to_owned()),
                page.key_prefix.unwrap_or_default(),
                Some(i64::try_from(page.timeout).unwrap_or(i64::MAX)),
            ),
            None => (
                self.config.cache_alias.clone(),
                self.config.key_prefix.clone(),
                None,
            ),
        };
        let cache = self.caches.get(&alias).ok_or_else(|| {
            Error::ImproperlyConfigured(format!(
                "cache_page names the cache {alias:?}, which is not in CACHES"
            ))
        })?;
        Ok(UpdatePlan {
            cache,
            key_prefix,
            page_timeout,
        })
    }

    /// What to look up for `request`: `None` for methods other than GET and HEAD. Fails on a
    /// disallowed host (Django's DisallowedHost, a 400) before anything is looked up or cached.
    fn prepare(&self, request: &Request) -> Result<Option<(UpdatePlan, CacheRequest)>, Error> {
        let method = request.method();
        if method != Method::GET && method != Method::HEAD {
            return Ok(None);
        }
        let plan = self.target(request)?;
        let source = self.config.keys.request(request)?;
        Ok(Some((plan, source)))
    }

    async fn fetch(&self, prepared: Option<(UpdatePlan, CacheRequest)>) -> Fetched {
        let Some((plan, source)) = prepared else {
            return Fetched::Miss(None);
        };
        let keys = &self.config.keys;
        let is_head = source.method() == "HEAD";
        let cache = plan.cache.as_ref();
        let lookup = async {
            let Some(key) = get_cache_key(&source, &plan.key_prefix, "GET", cache, keys).await?
            else {
                return Ok(None);
            };
            let mut found = cache.get(&key).await?;
            if found.is_none() && is_head {
                if let Some(key) =
                    get_cache_key(&source, &plan.key_prefix, "HEAD", cache, keys).await?
                {
                    found = cache.get(&key).await?;
                }
            }
            Ok::<_, crate::cache::CacheError>(found)
        };
        let stored = match lookup.await {
            Ok(stored) => stored,
            Err(e) => {
                // Not marked for update either: a failing backend is not asked again for this
                // request.
                tracing::warn!(error = %e, "cache unavailable; serving without the cache");
                return Fetched::Miss(None);
            }
        };
        let Some(mut response) = stored.as_deref().and_then(decode_response) else {
            return Fetched::Miss(Some(plan));
        };
        let expires = response
            .headers()
            .get(EXPIRES)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_http_date);
        if let (Some(max_age), Some(expires)) = (get_max_age(response.headers()), expires) {
            // Whole seconds on both sides, as Django's `int(time.time())`.
            let unix = |t: SystemTime| match t.duration_since(SystemTime::UNIX_EPOCH) {
                Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
                Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
            };
            let remaining = unix(expires).saturating_sub(unix(SystemTime::now()));
            // Age 0 if the local clock went back.
            let age = max_age.saturating_sub(remaining).max(0);
            response
                .headers_mut()
                .insert(http::header::AGE, HeaderValue::from(age));
        }
        Fetched::Hit(response)
    }
}

/// The response phase (Django's `UpdateCacheMiddleware.process_response`).
#[derive(Clone)]
struct Updater {
    config: Arc<CacheMiddlewareConfig>,
}

impl Updater {
    /// What of `request` the update needs (taken before awaiting: requests are not `Sync`).
    fn prepare(&self, request: &Request) -> (Option<CacheRequest>, bool) {
        let source = self.config.keys.request(request).ok();
        let authorized = request
            .headers()
            .get_all(AUTHORIZATION)
            .iter()
            .any(|v| !v.as_bytes().is_empty());
        (source, authorized)
    }

    /// `source` is `None` when the request's host is not allowed (nothing is cached then).
    async fn update(
        &self,
        source: Option<CacheRequest>,
        authorized: bool,
        plan: &UpdatePlan,
        mut response: Response,
    ) -> Response {
        let status = response.status().as_u16();
        if response.is_streaming() || !(status == 200 || status == 304) {
            return response;
        }
        // A user-specific (maybe security-sensitive) cookie on a page that varies on Cookie.
        if response.headers().contains_key(SET_COOKIE)
            && has_vary_header(response.headers(), "Cookie")
        {
            return response;
        }
        let cache_control: HashSet<String> =
            split_directive_names(&header_text(&response, &CACHE_CONTROL)).collect();
        if ["private", "no-cache", "no-store"]
            .iter()
            .any(|d| cache_control.contains(*d))
        {
            return response;
        }
        if has_vary_header(response.headers(), "*") {
            return response;
        }
        let timeout = match plan.page_timeout {
            Some(t) => t,
            None => match get_max_age(response.headers()) {
                None => self.config.cache_timeout,
                Some(0) => return response,
                Some(t) => t,
            },
        };
        patch_response_headers(response.headers_mut(), timeout, SystemTime::now());
        // RFC 9111 §3.5: a shared cache must not reuse an authorized response unless public.
        if authorized && !cache_control.contains("public") {
            response.patch_vary_headers(&["Authorization"]);
        }
        if timeout == 0 || status != 200 {
            return response;
        }
        let Some(body) = response.content().cloned() else {
            return response;
        };
        let Some(source) = source else {
            return response;
        };
        let cache = plan.cache.as_ref();
        let key = match learn_cache_key(
            &source,
            response.headers(),
            timeout,
            &plan.key_prefix,
            cache,
            &self.config.keys,
        )
        .await
        {
            Ok(key) => key,
            Err(e) => {
                tracing::warn!(error = %e, "response not cached");
                return response;
            }
        };
        let encoded = encode_response(&response, &body);
        if let Err(e) = cache.set(&key, &encoded, Timeout::Seconds(timeout)).await {
            tracing::warn!(error = %e, "response not cached");
        }
        response
    }
}

/// Django's `django.middleware.cache.UpdateCacheMiddleware`: stores cacheable responses. List
/// it **first** in `MIDDLEWARE`, so it sees the response last (with every `Vary` and cookie).
pub struct UpdateCacheMiddleware {
    next: Next,
    updater: Updater,
}

/// Django's `django.middleware.cache.FetchFromCacheMiddleware`: answers `GET`/`HEAD` from the
/// cache. List it **last** in `MIDDLEWARE`, so every other middleware ran before the lookup.
pub struct FetchFromCacheMiddleware {
    next: Next,
    fetcher: Fetcher,
}

/// Django's `django.middleware.cache.CacheMiddleware`: both halves in one entry, for simple
/// sites where no other middleware changes the cache key.
pub struct CacheMiddleware {
    next: Next,
    fetcher: Fetcher,
    updater: Updater,
}

impl UpdateCacheMiddleware {
    /// Builds it from the settings.
    pub fn new(next: Next, ctx: &BuildContext<'_>) -> Result<Self, FactoryError> {
        Ok(UpdateCacheMiddleware {
            next,
            updater: Updater {
                config: Arc::new(CacheMiddlewareConfig::from_settings(ctx.settings)?),
            },
        })
    }
}

impl FetchFromCacheMiddleware {
    /// Builds it from the settings (and `CACHES`).
    pub fn new(next: Next, ctx: &BuildContext<'_>) -> Result<Self, FactoryError> {
        Ok(FetchFromCacheMiddleware {
            next,
            fetcher: Fetcher::new(ctx)?,
        })
    }
}

impl CacheMiddleware {
    /// Builds it from the settings (and `CACHES`).
    pub fn new(next: Next, ctx: &BuildContext<'_>) -> Result<Self, FactoryError> {
        let fetcher = Fetcher::new(ctx)?;
        Ok(CacheMiddleware {
            next,
            updater: Updater {
                config: fetcher.config.clone(),
            },
            fetcher,
        })
    }
}

#[async_trait]
impl Middleware for UpdateCacheMiddleware {
    async fn call(&self, request: &mut Request) -> Result<Response, Error> {
        let response = self.next.get_response(request).await;
        // Set by the fetch half on a miss (Django's `request._cache_update_cache`).
        let Some(plan) = request.extensions_mut().remove::<UpdatePlan>() else {
            return Ok(response);
        };
        let (source, authorized) = self.updater.prepare(request);
        Ok(self
            .updater
            .update(source, authorized, &plan, response)
            .await)
    }
}

#[async_trait]
impl Middleware for FetchFromCacheMiddleware {
    async fn call(&self, request: &mut Request) -> Result<Response, Error> {
        let prepared = self.fetcher.prepare(request)?;
        match self.fetcher.fetch(prepared).await {
            Fetched::Hit(response) => Ok(response),
            Fetched::Miss(plan) => {
                if let Some(plan) = plan {
                    request.extensions_mut().insert(plan);
                }
                Ok(self.next.get_response(request).await)
            }
        }
    }
}

#[async_trait]
impl Middleware for CacheMiddleware {
    async fn call(&self, request: &mut Request) -> Result<Response, Error> {
        let prepared = self.fetcher.prepare(request)?;
        match self.fetcher.fetch(prepared).await {
            Fetched::Hit(response) => Ok(response),
            Fetched::Miss(None) => Ok(self.next.get_response(request).await),
            Fetched::Miss(Some(plan)) => {
                let response = self.next.get_response(request).await;
                let (source, authorized) = self.updater.prepare(request);
                Ok(self
                    .updater
                    .update(source, authorized, &plan, response)
                    .await)
            }
        }
    }
}

middleware_core::declare_settings! {
    /// The settings `UpdateCacheMiddleware`, `FetchFromCacheMiddleware` and `CacheMiddleware`
    /// read.
    pub struct CacheMiddlewareSettings {
        /// how long pages are cached when the response sets no `max-age`
        CACHE_MIDDLEWARE_SECONDS => seconds: i64 = 600,
        /// prefix of the cache keys, to share one cache between sites
        CACHE_MIDDLEWARE_KEY_PREFIX => key_prefix: String = "",
        /// which entry of `CACHES` holds the pages
        CACHE_MIDDLEWARE_ALIAS => alias: String = "default",
    }
    shared {
        /// What goes into the keys.
        keys: CacheKeySettings,
    }
}

const UPDATE: &str = "UpdateCacheMiddleware";
const FETCH: &str = "FetchFromCacheMiddleware";

/// Middleware that add `Vary` values, set cookies or rewrite the body: listed above
/// `UpdateCacheMiddleware`, their changes are not part of what is cached.
const BELOW_UPDATE_CACHE: &[&str] = &[
    "SessionMiddleware",
    "GZipMiddleware",
    "LocaleMiddleware",
    "CsrfViewMiddleware",
    "AuthenticationMiddleware",
    "MessageMiddleware",
    "ConditionalGetMiddleware",
    "CommonMiddleware",
];

/// The order checks `middleware.W110`–`W112`.
pub fn check_cache_order(ctx: &CheckContext<'_>) -> Vec<CheckMessage> {
    let mut found = Vec::new();
    let update = ctx.middleware_index(UPDATE);
    let fetch = ctx.middleware_index(FETCH);
    let count = ctx.settings.core().middleware.len();
    if let Some(u) = update {
        for name in BELOW_UPDATE_CACHE {
            if let Some(i) = ctx.middleware_index(name) {
                if i < u {
                    found.push(CheckMessage::warning(
                        W_UPDATE_CACHE_NOT_FIRST,
                        format!(
                            "{name} (MIDDLEWARE[{i}]) is listed above UpdateCacheMiddleware \
                             (MIDDLEWARE[{u}]): the Vary headers, cookies or body it adds are \
                             not what gets cached."
                        ),
                        Some(
                            "List UpdateCacheMiddleware first in MIDDLEWARE (SecurityMiddleware \
                             may stay above it), so it runs last on the response.",
                        ),
                    ));
                }
            }
        }
    }
    if let Some(f) = fetch {
        if f + 1 < count {
            found.push(CheckMessage::warning(
                W_FETCH_FROM_CACHE_NOT_LAST,
                format!(
                    "FetchFromCacheMiddleware is MIDDLEWARE[{f}] but not the last entry: cache \
                     hits skip the middleware listed after it, and what they add to the cache \
                     key (e.g. the language) is not known at lookup time."
                ),
                Some("List FetchFromCacheMiddleware last in MIDDLEWARE."),
            ));
        }
    }
    match (update, fetch) {
        (Some(_), None) | (None, Some(_)) => found.push(CheckMessage::warning(
            W_CACHE_HALF_MISSING,
            "Only one of UpdateCacheMiddleware and FetchFromCacheMiddleware is in MIDDLEWARE: \
             nothing is ever cached (or served from the cache).",
            Some(
                "List UpdateCacheMiddleware first and FetchFromCacheMiddleware last, or use \
                 CacheMiddleware alone.",
            ),
        )),
        (Some(u), Some(f)) if u > f => found.push(CheckMessage::warning(
            W_CACHE_HALF_MISSING,
            format!(
                "UpdateCacheMiddleware (MIDDLEWARE[{u}]) is listed below \
                 FetchFromCacheMiddleware (MIDDLEWARE[{f}]): pages are never stored."
            ),
            Some("List UpdateCacheMiddleware first and FetchFromCacheMiddleware last."),
        )),
        _ => {}
    }
    found
}

/// Registers `UpdateCacheMiddleware`, `FetchFromCacheMiddleware` and `CacheMiddleware` (also
/// under Django's dotted paths), their settings, and the order checks.
pub fn register(registry: &mut Registry) {
    registry
        .register(UPDATE, UpdateCacheMiddleware::new)
        .alias("django.middleware.cache.UpdateCacheMiddleware")
        .declares::<CacheMiddlewareSettings>()
        .declares::<CachesSettings>();
    registry
        .register(FETCH, FetchFromCacheMiddleware::new)
        .alias("django.middleware.cache.FetchFromCacheMiddleware")
        .declares::<CacheMiddlewareSettings>()
        .declares::<CachesSettings>();
    registry
        .register("CacheMiddleware", CacheMiddleware::new)
        .alias("django.middleware.cache.CacheMiddleware")
        .declares::<CacheMiddlewareSettings>()
        .declares::<CachesSettings>();
    registry.add_check(false, check_cache_order);
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn stored_response_round_trips_any_header_bytes() {
        let mut response = Response::new(bytes::Bytes::from_static(b"\x00body\xff").into());
        *response.status_mut() = StatusCode::OK;
        response
            .headers_mut()
            .append("x-latin", HeaderValue::from_bytes(b"caf\xe9").unwrap());
        response
            .headers_mut()
            .append("set-cookie", HeaderValue::from_static("a=1"));
        response
            .headers_mut()
            .append("set-cookie", HeaderValue::from_static("b=2"));
        let encoded = encode_response(&response, b"\x00body\xff");
        let decoded = decode_response(&encoded).unwrap();
        assert_eq!(decoded.status(), StatusCode::OK);
        assert_eq!(decoded.headers(), response.headers());
        assert_eq!(decoded.content().unwrap().as_ref(), b"\x00body\xff");
    }

    #[test]
    fn foreign_or_corrupt_entries_are_misses() {
        for data in [
            &b""[..],
            b"\x80\x04\x95pickle",
            b"{\"v\":2,\"status\":200,\"headers\":[],\"body\":\"\"}",
            b"{\"v\":1,\"status\":99,\"headers\":[],\"body\":\"\"}",
            b"{\"v\":1,\"status\":200,\"headers\":[[\"bad name\",\"x\"]],\"body\":\"\"}",
            b"{\"v\":1,\"status\":200,\"headers\":[[\"x\",\"\xc4\x80\"]],\"body\":\"\"}",
            b"{\"v\":1,\"status\":200,\"headers\":[],\"body\":\"***\"}",
        ] {
            assert!(decode_response(data).is_none(), "{data:?}");
        }
    }
}
