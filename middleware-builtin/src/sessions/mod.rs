//! Django's `SessionMiddleware` (`django.contrib.sessions.middleware.SessionMiddleware`) and
//! `request.session`.
//!
//! ```
//! use middleware_builtin::sessions::SessionExt;
//! use middleware_core::{Error, Request, Response};
//!
//! async fn visit(request: &mut Request) -> Result<Response, Error> {
//!     let session = request.session()?;
//!     let n = session.get("visits").await.and_then(|v| v.as_i64()).unwrap_or(0) + 1;
//!     session.set("visits", n).await;
//!     Ok(Response::new(format!("visit {n}").into()))
//! }
//!
//! let mut registry = middleware_core::Registry::new();
//! middleware_builtin::register_all(&mut registry);
//! let settings = middleware_core::Settings::from_toml_str(r#"
//!     SECRET_KEY = "a-secret-key-long-enough-for-the-docs-0123456789"
//!     ALLOWED_HOSTS = ["testserver"]
//!     MIDDLEWARE = ["django.contrib.sessions.middleware.SessionMiddleware"]
//! "#, "settings.toml").unwrap();
//! let mut router = middleware_core::Router::new();
//! router.route("", visit).unwrap();
//! let chain = middleware_core::Chain::builder(&registry, &settings).urls(router).build().unwrap();
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let mut client = middleware_core::test_client::Client::new(chain);
//! assert_eq!(client.get("/").await.text(), "visit 1");
//! assert_eq!(client.get("/").await.text(), "visit 2");
//! # });
//! ```
//!
//! Engines (`SESSION_ENGINE`, Django's names):
//! * `django.contrib.sessions.backends.db` — Django's default, and ours when `DATABASES` has a
//!   `default` entry: Django's `django_session` table (`example-site migrate` creates it), rows
//!   Django reads and writes too. Needs the `sqlite` or `postgres` cargo feature.
//! * `django.contrib.sessions.backends.cached_db` — the same, with the `SESSION_CACHE_ALIAS`
//!   cache in front under Django's keys (`django.contrib.sessions.cached_db<key>`).
//! * `django.contrib.sessions.backends.signed_cookies` — the default when there is no
//!   `DATABASES` (a Django project always has one; an embedded chain often has none).
//! * `django.contrib.sessions.backends.file` — `SESSION_FILE_PATH` (default: the temp dir).
//! * `django.contrib.sessions.backends.cache` — the `SESSION_CACHE_ALIAS` cache of `CACHES`.
//!
//! Errors follow Django: a store that fails while *loading* gives an empty session (logged,
//! without session data); a store that fails while *saving* is a 500; a session deleted
//! concurrently before saving (file, db engines) is Django's `SessionInterrupted`, a 400.

mod backends;
mod data;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod db_store;
pub(crate) mod expiry;
mod session;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use middleware_core::checks::CheckMessage;
use middleware_core::http_utils::cookies::{SameSite, SetCookie};
use middleware_core::http_utils::dates::http_date;
use middleware_core::{
    BuildContext, Error, FactoryError, Hook, Hooks, Registry, Request, RequestExt, Response,
    ResponseExt, Settings, SettingsError,
};

pub use backends::{
    decode, encode, new_session_key, FileStore, SessionStore, StoreError, CACHE_KEY_PREFIX,
    SESSION_STORE_SALT, VALID_KEY_CHARS,
};
#[cfg(feature = "pickle")]
pub use backends::{pickle, unpickle, CacheStore};
pub use data::SessionData;
#[cfg(all(feature = "pickle", any(feature = "sqlite", feature = "postgres")))]
pub use db_store::CachedDbStore;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub use db_store::{DbStore, CACHED_DB_KEY_PREFIX};
pub use session::{session, Expiry, Session, SessionExt, EXPIRY_KEY, SIGNED_COOKIES_SALT};

pub(crate) use backends::Keys;
use session::{Backend, Engine};

/// `SESSION_ENGINE` for signed cookies.
pub const SIGNED_COOKIES_ENGINE: &str = "django.contrib.sessions.backends.signed_cookies";
/// `SESSION_ENGINE` for files.
pub const FILE_ENGINE: &str = "django.contrib.sessions.backends.file";
/// `SESSION_ENGINE` for the cache.
pub const CACHE_ENGINE: &str = "django.contrib.sessions.backends.cache";
/// `SESSION_ENGINE` for the database (Django's default).
pub const DB_ENGINE: &str = "django.contrib.sessions.backends.db";
/// `SESSION_ENGINE` for the database with a cache in front.
pub const CACHED_DB_ENGINE: &str = "django.contrib.sessions.backends.cached_db";

middleware_core::declare_settings! {
    /// The session cookie's settings: `SessionMiddleware` and the messages framework read
    /// them, and CSRF in session mode.
    pub struct SessionCookieSettings {
        ///
        SESSION_COOKIE_NAME => name: String = "sessionid",
        /// two weeks, in seconds
        SESSION_COOKIE_AGE => age: i64 = 1209600,
        ///
        SESSION_COOKIE_DOMAIN => domain: Option<String> = unset,
        ///
        SESSION_COOKIE_SECURE => secure: bool = false,
        ///
        SESSION_COOKIE_PATH => path: String = "/",
        ///
        SESSION_COOKIE_HTTPONLY => httponly: bool = true,
        ///
        SESSION_COOKIE_SAMESITE => samesite: toml::Value = "Lax",
    }
}

middleware_core::declare_settings! {
    /// Every setting `SessionMiddleware` reads.
    pub struct SessionSettings {
        /// also `…backends.cached_db`, `…backends.file`, `…backends.cache`; `db` and
        /// `cached_db` use Django's `django_session` table
        SESSION_ENGINE => engine: Option<String> = unset(
            "`\"django.contrib.sessions.backends.db\"` when `DATABASES` has a `default` entry (Django's default), else `\"django.contrib.sessions.backends.signed_cookies\"`"
        ),
        ///
        SESSION_SAVE_EVERY_REQUEST => save_every_request: bool = false,
        ///
        SESSION_EXPIRE_AT_BROWSER_CLOSE => expire_at_browser_close: bool = false,
        /// file engine
        SESSION_FILE_PATH => file_path: Option<String> = unset("the system temporary directory"),
        /// cache and cached_db engines
        SESSION_CACHE_ALIAS => cache_alias: String = "default",
        /// the only one supported
        SESSION_SERIALIZER => serializer: String = "django.contrib.sessions.serializers.JSONSerializer",
        /// read only by the system checks
        INSTALLED_APPS => installed_apps: Option<Vec<String>> =
            unset("unset (every app counts as installed)"),
    }
    shared {
        /// The session cookie.
        cookie: SessionCookieSettings,
        /// `DATABASES`, for the database engines.
        databases: crate::db::DatabasesSettings,
    }
}

/// The session cookie's attributes, read once from the `SESSION_COOKIE_*` settings (the
/// messages framework reuses them).
#[derive(Clone, Debug)]
pub struct SessionCookieConfig {
    /// `SESSION_COOKIE_NAME` (default `sessionid`).
    pub name: String,
    /// `SESSION_COOKIE_AGE` in seconds (default two weeks).
    pub age: i64,
    /// `SESSION_COOKIE_DOMAIN`.
    pub domain: Option<String>,
    /// `SESSION_COOKIE_SECURE`.
    pub secure: bool,
    /// `SESSION_COOKIE_PATH` (default `/`).
    pub path: String,
    /// `SESSION_COOKIE_HTTPONLY` (default true).
    pub httponly: bool,
    /// `SESSION_COOKIE_SAMESITE` as spelled (default `Lax`; `false` or `""` for none).
    pub samesite: Option<String>,
}

impl SessionCookieConfig {
    /// Reads the `SESSION_COOKIE_*` settings.
    pub fn from_settings(settings: &Settings) -> Result<Self, SettingsError> {
        Self::from_declared(settings, SessionCookieSettings::from_settings(settings)?)
    }

    pub(crate) fn from_declared(
        settings: &Settings,
        declared: SessionCookieSettings,
    ) -> Result<Self, SettingsError> {
        let samesite = match declared.samesite {
            toml::Value::Boolean(false) => None,
            toml::Value::String(s) if s.is_empty() => None,
            toml::Value::String(s) => {
                if s.parse::<SameSite>().is_err() {
                    return Err(settings.invalid(
                        "SESSION_COOKIE_SAMESITE",
                        format!("{s:?} is not a SameSite value"),
                        "use \"Lax\", \"Strict\", \"None\", or false for no attribute",
                    ));
                }
                Some(s)
            }
            other => {
                return Err(settings.invalid(
                    "SESSION_COOKIE_SAMESITE",
                    format!("{other} is not a SameSite value"),
                    "use \"Lax\", \"Strict\", \"None\", or false for no attribute",
                ))
            }
        };
        Ok(SessionCookieConfig {
            name: declared.name,
            age: declared.age,
            domain: declared.domain,
            secure: declared.secure,
            path: declared.path,
            httponly: declared.httponly,
            samesite,
        })
    }

    /// A `Set-Cookie` with these attributes (no expiry).
    pub fn cookie(&self, value: impl Into<String>) -> SetCookie {
        let mut c = SetCookie::new(self.name.clone(), value)
            .path(self.path.clone())
            .secure(self.secure)
            .httponly(self.httponly);
        if let Some(d) = &self.domain {
            c = c.domain(d.clone());
        }
        if let Some(s) = &self.samesite {
            // Validated when read.
            if let Ok(with) = c.clone().samesite_str(s) {
                c = with;
            }
        }
        c
    }

    /// The `SameSite` Django passes to `delete_cookie`.
    pub fn samesite_enum(&self) -> Option<SameSite> {
        self.samesite.as_deref().and_then(|s| s.parse().ok())
    }
}

/// Django's `SessionMiddleware`.
pub struct SessionMiddleware {
    backend: Arc<Backend>,
    cookie: SessionCookieConfig,
    save_every_request: bool,
}

impl SessionMiddleware {
    /// Reads the settings once and builds the engine.
    pub fn new(ctx: &BuildContext<'_>) -> Result<Self, FactoryError> {
        let settings = ctx.settings;
        let declared = SessionSettings::from_settings(settings)?;
        let cookie = SessionCookieConfig::from_declared(settings, declared.cookie)?;
        let serializer = &declared.serializer;
        if serializer != "django.contrib.sessions.serializers.JSONSerializer" {
            return Err(settings
                .invalid(
                    "SESSION_SERIALIZER",
                    format!("{serializer:?} is not supported"),
                    "only django.contrib.sessions.serializers.JSONSerializer (the default) is",
                )
                .into());
        }
        let keys = Keys::from_settings(settings)?;
        let default_engine = if declared.databases.databases.is_some()
            && crate::db::read_databases(settings)?
                .iter()
                .any(|d| d.alias == "default")
        {
            DB_ENGINE
        } else {
            SIGNED_COOKIES_ENGINE
        };
        let engine_name = declared.engine.unwrap_or_else(|| default_engine.to_owned());
        let engine = match engine_name.as_str() {
            SIGNED_COOKIES_ENGINE => Engine::SignedCookies,
            FILE_ENGINE => {
                let dir = declared
                    .file_path
                    .map(PathBuf::from)
                    .unwrap_or_else(std::env::temp_dir);
                if !dir.is_dir() {
                    return Err(FactoryError::ImproperlyConfigured(format!(
                        "The session storage path {:?} doesn't exist. Please set your SESSION_FILE_PATH setting to an \
                         existing directory in which Django can store session data.",
                        dir.display().to_string()
                    )));
                }
                Engine::Store(Arc::new(FileStore::new(
                    dir,
                    cookie.name.clone(),
                    cookie.age,
                    keys.clone(),
                )))
            }
            #[cfg(feature = "pickle")]
            CACHE_ENGINE => Engine::Store(Arc::new(CacheStore::new(
                session_cache(ctx, &declared.cache_alias)?,
                keys.clone(),
            ))),
            #[cfg(not(feature = "pickle"))]
            CACHE_ENGINE => return Err(without_pickle(settings, CACHE_ENGINE).into()),
            DB_ENGINE | CACHED_DB_ENGINE => {
                db_engine(ctx, &engine_name, &keys, &declared.cache_alias)?
            }
            other => {
                return Err(settings
                    .invalid(
                        "SESSION_ENGINE",
                        format!("unknown session engine {other:?}"),
                        format!("use {DB_ENGINE:?}, {CACHED_DB_ENGINE:?}, {SIGNED_COOKIES_ENGINE:?}, {CACHE_ENGINE:?} or {FILE_ENGINE:?}"),
                    )
                    .into())
            }
        };
        Ok(SessionMiddleware {
            backend: Arc::new(Backend {
                engine,
                secret: keys.secret,
                fallbacks: keys.fallbacks,
                cookie_age: cookie.age,
                expire_at_browser_close: declared.expire_at_browser_close,
            }),
            save_every_request: declared.save_every_request,
            cookie,
        })
    }

    /// Django's `process_response`, up to the save, which is all that may wait.
    fn finish<'a>(
        &'a self,
        session: &'a Session,
        response: &'a mut Response,
    ) -> Hook<'a, Result<(), Error>> {
        let empty = session.is_empty();
        if session.had_cookie() && empty {
            response.delete_cookie(
                &self.cookie.name,
                &self.cookie.path,
                self.cookie.domain.as_deref(),
                self.cookie.samesite_enum(),
            );
            response.patch_vary_headers(&["Cookie"]);
            return Hook::Ready(Ok(()));
        }
        if session.accessed() {
            response.patch_vary_headers(&["Cookie"]);
        }
        if (session.modified() || self.save_every_request) && !empty {
            return Hook::pending(self.save(session, response));
        }
        Hook::Ready(Ok(()))
    }

    /// Saves the session and sets its cookie (unless the response is a server error).
    async fn save(&self, session: &Session, response: &mut Response) -> Result<(), Error> {
        let max_age = if session.get_expire_at_browser_close().await {
            None
        } else {
            Some(session.get_expiry_age().await)
        };
        if response.status().as_u16() < 500 {
            let value = session.save().await?;
            let mut cookie = self.cookie.cookie(value);
            if let Some(age) = max_age {
                let expires = if age >= 0 {
                    SystemTime::now() + Duration::from_secs(age as u64)
                } else {
                    SystemTime::now() - Duration::from_secs(age.unsigned_abs())
                };
                cookie = cookie.max_age(age).expires_text(http_date(expires));
            }
            response.set_cookie(&cookie);
        }
        Ok(())
    }
}

impl Hooks for SessionMiddleware {
    fn process_request<'a>(
        &'a self,
        request: &'a mut Request,
    ) -> Hook<'a, Result<Option<Response>, Error>> {
        let key = request.cookie(&self.cookie.name);
        let session = Session::new(self.backend.clone(), key);
        request.extensions_mut().insert(session);
        Hook::Ready(Ok(None))
    }

    fn process_response<'a>(
        &'a self,
        request: &'a mut Request,
        response: &'a mut Response,
    ) -> Hook<'a, Result<(), Error>> {
        match request.extensions().get::<Session>() {
            Some(session) => self.finish(session, response),
            None => Hook::Ready(Ok(())),
        }
    }
}

/// The `SESSION_CACHE_ALIAS` cache of `CACHES`.
#[cfg(feature = "pickle")]
fn session_cache(
    ctx: &BuildContext<'_>,
    alias: &str,
) -> Result<Arc<dyn crate::cache::CacheBackend>, SettingsError> {
    let settings = ctx.settings;
    let caches = crate::cache::shared_caches(ctx)?;
    caches.get(alias).ok_or_else(|| {
        settings.invalid(
            "SESSION_CACHE_ALIAS",
            format!("no cache named {alias:?} in CACHES"),
            "add it to CACHES or set SESSION_CACHE_ALIAS to an existing alias",
        )
    })
}

/// `db` / `cached_db`: Django's `django_session` table in `DATABASES["default"]` (Django's
/// router sends sessions there unless told otherwise).
#[cfg(any(feature = "sqlite", feature = "postgres"))]
#[cfg_attr(not(feature = "pickle"), allow(unused_variables))] // cache_alias: cached_db only
fn db_engine(
    ctx: &BuildContext<'_>,
    engine: &str,
    keys: &Keys,
    cache_alias: &str,
) -> Result<Engine, SettingsError> {
    let databases = crate::db::shared_databases(ctx)?;
    let db = databases.require(
        ctx.settings,
        "default",
        &format!("SESSION_ENGINE = {engine:?}"),
    )?;
    if engine == CACHED_DB_ENGINE {
        #[cfg(feature = "pickle")]
        return Ok(Engine::Store(Arc::new(CachedDbStore::new(
            db,
            session_cache(ctx, cache_alias)?,
            keys.clone(),
        ))));
        #[cfg(not(feature = "pickle"))]
        return Err(without_pickle(ctx.settings, engine));
    }
    Ok(Engine::Store(Arc::new(DbStore::new(db, keys.clone()))))
}

/// The `cache` and `cached_db` engines store pickles: a build without the `pickle` feature
/// refuses them at start-up rather than fall back to another engine.
#[cfg(not(feature = "pickle"))]
fn without_pickle(settings: &Settings, engine: &str) -> SettingsError {
    settings.invalid(
        "SESSION_ENGINE",
        format!("{engine:?} stores pickled sessions, which this build leaves out"),
        format!(
            "build middleware-builtin with the `pickle` feature, or set SESSION_ENGINE to {SIGNED_COOKIES_ENGINE:?} or {FILE_ENGINE:?}"
        ),
    )
}

#[cfg(not(any(feature = "sqlite", feature = "postgres")))]
fn db_engine(
    ctx: &BuildContext<'_>,
    engine: &str,
    _: &Keys,
    _: &str,
) -> Result<Engine, SettingsError> {
    Err(ctx.settings.invalid(
        "SESSION_ENGINE",
        format!("{engine:?} needs the database layer, which this build leaves out"),
        format!(
            "build middleware-builtin with the `sqlite` or `postgres` feature, or set SESSION_ENGINE to {SIGNED_COOKIES_ENGINE:?}, {CACHE_ENGINE:?} or {FILE_ENGINE:?}"
        ),
    ))
}

const SESSIONS_MIDDLEWARE: &str = "django.contrib.sessions.middleware.SessionMiddleware";

/// Registers `SessionMiddleware` and the session-cookie deploy checks.
pub fn register(registry: &mut Registry) {
    registry
        .register_ready_hooks("SessionMiddleware", SessionMiddleware::new)
        .alias(SESSIONS_MIDDLEWARE)
        .declares::<SessionSettings>()
        // Read through the chain's shared caches, by the cache engines only.
        .declares::<crate::cache::CachesSettings>();
    registry.add_check(true, session_cookie_checks);
}

/// Django's `check_session_cookie_secure` / `check_session_cookie_httponly` (W010-W015).
///
/// Without `INSTALLED_APPS` in the settings, the sessions app counts as installed, as in a
/// default Django project.
fn session_cookie_checks(ctx: &middleware_core::checks::CheckContext<'_>) -> Vec<CheckMessage> {
    let Ok(declared) = SessionSettings::for_checks(ctx.settings) else {
        return Vec::new();
    };
    let app = match &declared.installed_apps {
        Some(apps) => apps.iter().any(|a| a == "django.contrib.sessions"),
        None => true,
    };
    let middleware = ctx.has_middleware("SessionMiddleware");
    let mut out = Vec::new();
    let mut check = |ok: bool, ids: [&str; 3], setting: &str, why: &str| {
        if ok || !(app || middleware) {
            return;
        }
        let (id, msg) = if app && middleware {
            (ids[2], format!("{setting} is not set to True. {why}"))
        } else if app {
            (
                ids[0],
                format!("You have 'django.contrib.sessions' in your INSTALLED_APPS, but you have not set {setting} to True. {why}"),
            )
        } else {
            (
                ids[1],
                format!("You have 'django.contrib.sessions.middleware.SessionMiddleware' in your MIDDLEWARE, but you have not set {setting} to True. {why}"),
            )
        };
        out.push(CheckMessage::warning(id, msg, None));
    };
    check(
        declared.cookie.secure,
        ["security.W010", "security.W011", "security.W012"],
        "SESSION_COOKIE_SECURE",
        "Using a secure-only session cookie makes it more difficult for network traffic sniffers to hijack user sessions.",
    );
    check(
        declared.cookie.httponly,
        ["security.W013", "security.W014", "security.W015"],
        "SESSION_COOKIE_HTTPONLY",
        "Using an HttpOnly session cookie makes it more difficult for cross-site scripting attacks to hijack user sessions.",
    );
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
