//! Django's cache framework (`django.core.cache`), async: the `CACHES` setting, key making
//! (`KEY_PREFIX`, `VERSION`), and two backends, [`LocMemCache`] and [`RedisCache`].
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use middleware_builtin::cache::{caches_from_settings, Timeout};
//! let settings = middleware_core::Settings::from_toml_str(r#"
//!     [CACHES.default]
//!     BACKEND = "django.core.cache.backends.locmem.LocMemCache"
//!     KEY_PREFIX = "site"
//! "#, "settings.toml").unwrap();
//! let caches = caches_from_settings(&settings).unwrap();
//! let cache = caches.get("default").unwrap();
//! assert_eq!(cache.make_key("k"), "site:1:k");
//! cache.set("k", b"v", Timeout::Default).await.unwrap();
//! assert_eq!(cache.get("k").await.unwrap().as_deref(), Some(&b"v"[..]));
//! # });
//! ```
//!
//! Values are bytes. Django's own backends pickle Python objects, so a value written by Django
//! is not readable here (and the other way round) unless both sides store plain bytes.

mod locmem;
#[cfg(feature = "redis")]
mod redis_cache;

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use middleware_core::registry::BuildContext;
use middleware_core::{Settings, SettingsError};

pub use locmem::LocMemCache;
#[cfg(feature = "redis")]
pub use redis_cache::RedisCache;

/// Django's `DEFAULT_TIMEOUT`: 300 seconds.
pub const DEFAULT_TIMEOUT: u64 = 300;
/// Django's default `MAX_ENTRIES`.
pub const DEFAULT_MAX_ENTRIES: usize = 300;
/// Django's default `CULL_FREQUENCY`.
pub const DEFAULT_CULL_FREQUENCY: usize = 3;

/// How long an entry lives: Django's `timeout` argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timeout {
    /// The cache's configured `TIMEOUT` (Django's `DEFAULT_TIMEOUT` sentinel).
    Default,
    /// Never expires (Django's `timeout=None`).
    Never,
    /// Expires after this many seconds; zero or less expires at once (Django deletes the key).
    Seconds(i64),
}

/// A cache operation failed (e.g. Redis unreachable or too slow). The message names the cache
/// alias, so a log line says which `CACHES` entry is down; it never holds the server's password.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// The backend could not be reached or answered with an error.
    #[error("cache {alias:?}: {reason}")]
    Backend {
        /// The `CACHES` alias.
        alias: String,
        /// What went wrong (the driver's error).
        reason: String,
    },
    /// The backend did not answer in time.
    #[error("cache {alias:?}: no answer within {after:?}")]
    Timeout {
        /// The `CACHES` alias.
        alias: String,
        /// The time limit that ran out (`CONNECT_TIMEOUT` or `COMMAND_TIMEOUT`).
        after: Duration,
    },
    /// `incr` on a missing key or a non-integer value (Django's `ValueError`).
    #[error("{0}")]
    Value(String),
}

/// Django's key function: `KEY_PREFIX:VERSION:key`.
#[derive(Clone, Debug)]
pub struct KeyMaker {
    prefix: String,
    version: i64,
}

impl KeyMaker {
    /// A key maker with Django's `KEY_PREFIX` and `VERSION`.
    pub fn new(prefix: impl Into<String>, version: i64) -> Self {
        KeyMaker {
            prefix: prefix.into(),
            version,
        }
    }

    /// Django's `default_key_func`: `"%s:%s:%s" % (key_prefix, version, key)`.
    pub fn make_key(&self, key: &str) -> String {
        format!("{}:{}:{}", self.prefix, self.version, key)
    }
}

/// An async cache: Django's `BaseCache` API on bytes. Keys are the caller's keys; the backend
/// applies `KEY_PREFIX`/`VERSION` itself.
#[async_trait]
pub trait CacheBackend: Send + Sync + fmt::Debug + 'static {
    /// The full key stored for `key`.
    fn make_key(&self, key: &str) -> String;
    /// The value of `key`, if present and not expired.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError>;
    /// Stores `value` under `key`.
    async fn set(&self, key: &str, value: &[u8], timeout: Timeout) -> Result<(), CacheError>;
    /// Stores `value` only if `key` is absent; whether it was stored.
    async fn add(&self, key: &str, value: &[u8], timeout: Timeout) -> Result<bool, CacheError>;
    /// Removes `key`; whether it existed.
    async fn delete(&self, key: &str) -> Result<bool, CacheError>;
    /// Adds `delta` to the integer stored under `key` (which must exist); the new value.
    async fn incr(&self, key: &str, delta: i64) -> Result<i64, CacheError>;
    /// Whether `key` is present.
    async fn has_key(&self, key: &str) -> Result<bool, CacheError> {
        Ok(self.get(key).await?.is_some())
    }
    /// Removes every entry of this cache.
    async fn clear(&self) -> Result<(), CacheError>;
}

/// The configured caches by alias (Django's `caches`).
#[derive(Clone, Debug, Default)]
pub struct Caches {
    by_alias: HashMap<String, Arc<dyn CacheBackend>>,
}

impl Caches {
    /// The cache named `alias` (e.g. `"default"`).
    pub fn get(&self, alias: &str) -> Option<Arc<dyn CacheBackend>> {
        self.by_alias.get(alias).cloned()
    }

    /// Adds or replaces a cache.
    pub fn insert(&mut self, alias: impl Into<String>, cache: Arc<dyn CacheBackend>) {
        self.by_alias.insert(alias.into(), cache);
    }

    /// Every alias.
    pub fn aliases(&self) -> impl Iterator<Item = &str> {
        self.by_alias.keys().map(String::as_str)
    }
}

/// The dotted path of Django's local-memory backend.
pub const LOCMEM_BACKEND: &str = "django.core.cache.backends.locmem.LocMemCache";
/// The dotted path of Django's Redis backend.
pub const REDIS_BACKEND: &str = "django.core.cache.backends.redis.RedisCache";

#[derive(Clone, serde::Deserialize)]
#[serde(untagged)]
enum TimeoutSetting {
    Seconds(i64),
    Word(String),
}

#[derive(Clone, serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Options {
    #[serde(rename = "MAX_ENTRIES")]
    max_entries: Option<usize>,
    #[serde(rename = "CULL_FREQUENCY")]
    cull_frequency: Option<usize>,
    // Only the Redis backend reads it; without Redis it is still accepted, then refused.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    #[serde(rename = "CONNECT_TIMEOUT")]
    connect_timeout: Option<f64>,
    // Only the Redis backend reads it; without Redis it is still accepted, then refused.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    #[serde(rename = "COMMAND_TIMEOUT")]
    command_timeout: Option<f64>,
}

/// One entry of `CACHES`, as written.
#[derive(Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheSetting {
    #[serde(rename = "BACKEND")]
    backend: Option<String>,
    // Only the Redis backend reads it; without Redis it is still accepted, then refused.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    #[serde(rename = "LOCATION")]
    location: Option<toml::Value>,
    #[serde(rename = "TIMEOUT")]
    timeout: Option<TimeoutSetting>,
    #[serde(rename = "KEY_PREFIX")]
    key_prefix: Option<String>,
    #[serde(rename = "VERSION")]
    version: Option<i64>,
    #[serde(rename = "OPTIONS")]
    options: Option<Options>,
}

impl fmt::Debug for CacheSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // LOCATION may hold the server's password.
        f.debug_struct("CacheSetting")
            .field("backend", &self.backend())
            .finish_non_exhaustive()
    }
}

impl CacheSetting {
    /// The entry's `BACKEND` (default [`LOCMEM_BACKEND`]).
    pub fn backend(&self) -> &str {
        self.backend.as_deref().unwrap_or(LOCMEM_BACKEND)
    }
}

middleware_core::declare_settings! {
    /// The `CACHES` setting, read by everything that uses a cache.
    pub struct CachesSettings {
        /// `{ default = { BACKEND = "django.core.cache.backends.redis.RedisCache", LOCATION =
        /// "redis://127.0.0.1:6379" } }`
        CACHES => caches: Option<HashMap<String, CacheSetting>> =
            unset("a local-memory `default` cache"),
    }
}

/// The chain's caches: built from `CACHES` once per chain and shared by every middleware that
/// uses them (sessions, the site cache, rate limits), as Django shares its `caches` handler. So a
/// `LocMemCache` is one store for all of them, and one Redis connection is reused.
pub fn shared_caches(ctx: &BuildContext<'_>) -> Result<Arc<Caches>, SettingsError> {
    ctx.resources
        .get_or_try_init(|| caches_from_settings(ctx.settings))
}

/// Reads Django's `CACHES` setting. Unset, it is Django's default: one `LocMemCache` named
/// `default`. `TIMEOUT = "None"` means never expire (TOML has no null). Redis connects lazily,
/// on first use, so building never blocks.
pub fn caches_from_settings(settings: &Settings) -> Result<Caches, SettingsError> {
    let table = match CachesSettings::from_settings(settings)?.caches {
        Some(t) => t,
        None => {
            let mut caches = Caches::default();
            caches.insert(
                "default",
                Arc::new(LocMemCache::new(
                    KeyMaker::new("", 1),
                    Some(DEFAULT_TIMEOUT),
                    DEFAULT_MAX_ENTRIES,
                    DEFAULT_CULL_FREQUENCY,
                )),
            );
            return Ok(caches);
        }
    };
    let mut caches = Caches::default();
    for (alias, conf) in table {
        let backend = conf.backend().to_owned();
        let timeout = match conf.timeout {
            None => Some(DEFAULT_TIMEOUT),
            Some(TimeoutSetting::Seconds(s)) => Some(s.max(0) as u64),
            Some(TimeoutSetting::Word(w)) if w.eq_ignore_ascii_case("none") => None,
            Some(TimeoutSetting::Word(w)) => {
                return Err(settings.invalid(
                    "CACHES",
                    format!("CACHES[{alias:?}].TIMEOUT is {w:?}"),
                    "use a number of seconds, or \"None\" for entries that never expire",
                ))
            }
        };
        let keys = KeyMaker::new(
            conf.key_prefix.unwrap_or_default(),
            conf.version.unwrap_or(1),
        );
        let options = conf.options.unwrap_or_default();
        let cache: Arc<dyn CacheBackend> = match backend.as_str() {
            LOCMEM_BACKEND => Arc::new(LocMemCache::new(
                keys,
                timeout,
                options.max_entries.unwrap_or(DEFAULT_MAX_ENTRIES),
                options.cull_frequency.unwrap_or(DEFAULT_CULL_FREQUENCY),
            )),
            #[cfg(feature = "redis")]
            REDIS_BACKEND => {
                let location = match &conf.location {
                    Some(toml::Value::String(s)) => s.clone(),
                    Some(toml::Value::Array(a)) => match a.first() {
                        // Django writes to the first server; replicas are not supported here.
                        Some(toml::Value::String(s)) => s.clone(),
                        _ => String::new(),
                    },
                    _ => String::new(),
                };
                let secs = |v: Option<f64>, d: f64| {
                    Duration::from_secs_f64(v.unwrap_or(d).clamp(0.001, 3600.0))
                };
                Arc::new(
                    RedisCache::new(
                        &alias,
                        &location,
                        keys,
                        timeout,
                        secs(options.connect_timeout, 0.5),
                        secs(options.command_timeout, 0.5),
                    )
                    .map_err(|e| {
                        settings.invalid(
                            "CACHES",
                            format!(
                                "CACHES[{alias:?}].LOCATION {:?} is not a Redis URL: {e}",
                                redis_cache::redact(&location)
                            ),
                            "use LOCATION = \"redis://127.0.0.1:6379/0\"",
                        )
                    })?,
                )
            }
            // A build without Redis refuses it at start-up rather than fall back to memory.
            #[cfg(not(feature = "redis"))]
            REDIS_BACKEND => {
                return Err(settings.invalid(
                    "CACHES",
                    format!("CACHES[{alias:?}].BACKEND {REDIS_BACKEND:?} needs Redis, which this build leaves out"),
                    format!("build middleware-builtin with the `redis` feature, or use {LOCMEM_BACKEND:?}"),
                ))
            }
            other => {
                return Err(settings.invalid(
                    "CACHES",
                    format!("CACHES[{alias:?}].BACKEND {other:?} is not supported"),
                    format!("use {LOCMEM_BACKEND:?} or {REDIS_BACKEND:?}"),
                ))
            }
        };
        caches.insert(alias, cache);
    }
    Ok(caches)
}

/// Resolves a [`Timeout`] against a configured default into seconds (`None` = never).
pub(crate) fn resolve_timeout(timeout: Timeout, default: Option<u64>) -> Option<i64> {
    match timeout {
        Timeout::Default => default.map(|d| d as i64),
        Timeout::Never => None,
        Timeout::Seconds(s) => Some(s),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use middleware_core::{
        async_trait, Chain, Error, Middleware, Next, Registry, Request, Response,
    };

    use super::*;

    struct Probe(Next);

    #[async_trait]
    impl Middleware for Probe {
        async fn call(&self, request: &mut Request) -> Result<Response, Error> {
            Ok(self.0.get_response(request).await)
        }
    }

    // Django's `caches` is one handler per process: every middleware of a chain must see the
    // same cache objects (one LocMemCache store, one Redis connection manager).
    #[test]
    fn middleware_of_one_chain_share_the_caches() {
        let seen: Arc<Mutex<Vec<Arc<Caches>>>> = Arc::default();
        let mut registry = Registry::new();
        for name in ["A", "B"] {
            let seen = seen.clone();
            registry.register(name, move |next, ctx| {
                seen.lock().unwrap().push(shared_caches(ctx)?);
                Ok(Probe(next))
            });
        }
        let settings = Settings::from_toml_str("MIDDLEWARE = [\"A\", \"B\"]", "t").unwrap();
        Chain::builder(&registry, &settings).build().unwrap();
        Chain::builder(&registry, &settings).build().unwrap();
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 4);
        assert!(
            Arc::ptr_eq(&seen[0], &seen[1]),
            "one chain, one set of caches"
        );
        assert!(
            !Arc::ptr_eq(&seen[1], &seen[2]),
            "each chain builds its own"
        );
    }
}
