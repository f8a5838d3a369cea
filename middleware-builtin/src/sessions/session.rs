//! The per-request session handle: Django's `request.session` (a `SessionBase`).

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use middleware_core::{signing, Error};
use serde_json::Value;

use super::backends::{new_session_key, SessionStore, StoreError};
use super::data::SessionData;
use super::expiry::{expiry_age_at, format_iso};

/// Salt of Django's `signed_cookies` session backend.
pub const SIGNED_COOKIES_SALT: &str = "django.contrib.sessions.backends.signed_cookies";
/// The session key holding a custom expiry.
pub const EXPIRY_KEY: &str = "_session_expiry";

/// Where a session's data lives.
#[derive(Debug)]
pub(crate) enum Engine {
    /// Django's `signed_cookies`: the cookie value is the signed data.
    SignedCookies,
    /// A server-side store keyed by the session key.
    Store(Arc<dyn SessionStore>),
}

/// What every session of one middleware shares.
pub(crate) struct Backend {
    pub(crate) engine: Engine,
    pub(crate) secret: Vec<u8>,
    pub(crate) fallbacks: Vec<Vec<u8>>,
    pub(crate) cookie_age: i64,
    pub(crate) expire_at_browser_close: bool,
}

impl fmt::Debug for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Backend")
            .field("engine", &self.engine)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Default)]
struct State {
    key: Option<String>,
    /// Whether the request came with a session cookie (valid or not).
    had_cookie: bool,
    /// `None` until loaded (Django's missing `_session_cache`).
    data: Option<SessionData>,
    accessed: bool,
    modified: bool,
}

/// A custom expiry for [`Session::set_expiry`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expiry {
    /// Back to the global policy (`SESSION_COOKIE_AGE`, `SESSION_EXPIRE_AT_BROWSER_CLOSE`):
    /// Django's `set_expiry(None)`.
    Default,
    /// Expires when the browser closes: Django's `set_expiry(0)`.
    BrowserClose,
    /// Expires after this many seconds of inactivity: Django's `set_expiry(int)`.
    Seconds(i64),
    /// Expires this long from now: Django's `set_expiry(timedelta)` (stored as a datetime).
    In(Duration),
    /// Expires at this instant: Django's `set_expiry(datetime)`.
    At(SystemTime),
}

/// Django's `request.session`: a cheap, cloneable handle on this request's session.
///
/// Nothing is loaded until the data is first used. Reads mark the session *accessed* (the
/// response then varies on `Cookie`); writes mark it *modified* (it is then saved and its cookie
/// sent). A store that fails while loading gives an empty session, as in Django.
#[derive(Clone)]
pub struct Session {
    state: Arc<Mutex<State>>,
    backend: Arc<Backend>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.lock();
        // Never the key or the data: both are secrets.
        f.debug_struct("Session")
            .field("loaded", &st.data.is_some())
            .field("accessed", &st.accessed)
            .field("modified", &st.modified)
            .finish()
    }
}

/// Django's `_validate_session_key`: truthy and at least 8 characters.
fn valid_key(key: &str) -> bool {
    key.len() >= 8
}

impl Session {
    pub(crate) fn new(backend: Arc<Backend>, key: Option<String>) -> Self {
        Session {
            state: Arc::new(Mutex::new(State {
                had_cookie: key.is_some(),
                key: key.filter(|k| valid_key(k)),
                ..State::default()
            })),
            backend,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Loads the data if needed and marks the session accessed (Django's `_get_session`).
    async fn load(&self) {
        let key = {
            let mut st = self.lock();
            st.accessed = true;
            if st.data.is_some() {
                return;
            }
            st.key.clone()
        };
        let Some(key) = key else {
            let mut st = self.lock();
            st.data.get_or_insert_with(SessionData::new);
            return;
        };
        // (data, forget the key, mark modified)
        let (data, forget, modify) = match &self.backend.engine {
            Engine::SignedCookies => {
                let fallbacks: Vec<&[u8]> =
                    self.backend.fallbacks.iter().map(Vec::as_slice).collect();
                let max_age = Duration::from_secs(self.backend.cookie_age.max(0) as u64);
                match signing::loads::<SessionData>(
                    &key,
                    &self.backend.secret,
                    &fallbacks,
                    SIGNED_COOKIES_SALT,
                    Some(max_age),
                ) {
                    Ok(d) => (d, false, false),
                    // Django's `create()`: a fresh (empty) cookie will be written.
                    Err(_) => (SessionData::new(), false, true),
                }
            }
            Engine::Store(store) => match store.load(&key).await {
                Ok(Some(d)) => (d, false, false),
                Ok(None) => (SessionData::new(), true, false),
                Err(e) => {
                    tracing::error!(error = %e, "session store failed while loading; using an empty session");
                    (SessionData::new(), true, false)
                }
            },
        };
        let mut st = self.lock();
        if st.data.is_none() {
            st.data = Some(data);
            if forget && st.key.as_deref() == Some(key.as_str()) {
                st.key = None;
            }
            st.modified |= modify;
        }
    }

    fn with_data<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let mut st = self.lock();
        st.data.get_or_insert_with(SessionData::new);
        f(&mut st)
    }

    /// `session.get(key)`.
    pub async fn get(&self, key: &str) -> Option<Value> {
        self.load().await;
        self.with_data(|st| st.data.as_ref().and_then(|d| d.get(key).cloned()))
    }

    /// `session[key] = value`.
    pub async fn set(&self, key: &str, value: impl Into<Value>) {
        self.load().await;
        let value = value.into();
        self.with_data(|st| {
            if let Some(d) = st.data.as_mut() {
                d.insert(key, value);
            }
            st.modified = true;
        });
    }

    /// `session.setdefault(key, value)`: the existing value, or `value` after storing it.
    pub async fn setdefault(&self, key: &str, value: impl Into<Value>) -> Value {
        self.load().await;
        let value = value.into();
        self.with_data(|st| {
            if let Some(v) = st.data.as_ref().and_then(|d| d.get(key)) {
                return v.clone();
            }
            st.modified = true;
            if let Some(d) = st.data.as_mut() {
                d.insert(key, value.clone());
            }
            value
        })
    }

    /// `session.pop(key, None)`: modified only when the key was there.
    pub async fn pop(&self, key: &str) -> Option<Value> {
        self.load().await;
        self.with_data(|st| {
            let v = st.data.as_mut().and_then(|d| d.remove(key));
            st.modified |= v.is_some();
            v
        })
    }

    /// `del session[key]`: whether the key existed (Django raises `KeyError` when it did not,
    /// and marks the session modified only after a successful delete).
    pub async fn delete(&self, key: &str) -> bool {
        self.pop(key).await.is_some()
    }

    /// `key in session`.
    pub async fn contains(&self, key: &str) -> bool {
        self.load().await;
        self.with_data(|st| st.data.as_ref().is_some_and(|d| d.contains_key(key)))
    }

    /// `session.keys()`, in insertion order.
    pub async fn keys(&self) -> Vec<String> {
        self.load().await;
        self.with_data(|st| {
            st.data
                .as_ref()
                .map(|d| d.keys().map(str::to_owned).collect())
                .unwrap_or_default()
        })
    }

    /// `session.items()`, in insertion order.
    pub async fn items(&self) -> Vec<(String, Value)> {
        self.load().await;
        self.with_data(|st| {
            st.data
                .as_ref()
                .map(|d| d.iter().map(|(k, v)| (k.to_owned(), v.clone())).collect())
                .unwrap_or_default()
        })
    }

    /// `session.update(pairs)`: always marks the session modified.
    pub async fn update<I, K>(&self, pairs: I)
    where
        I: IntoIterator<Item = (K, Value)>,
        K: Into<String>,
    {
        self.load().await;
        let pairs: Vec<(String, Value)> = pairs.into_iter().map(|(k, v)| (k.into(), v)).collect();
        self.with_data(|st| {
            if let Some(d) = st.data.as_mut() {
                for (k, v) in pairs {
                    d.insert(k, v);
                }
            }
            st.modified = true;
        });
    }

    /// `session.clear()`: empties the data (loading nothing) and marks it accessed and modified.
    pub fn clear(&self) {
        let mut st = self.lock();
        st.data = Some(SessionData::new());
        st.accessed = true;
        st.modified = true;
    }

    /// `session.is_empty()`: no session key, and no data loaded or set. Loads nothing.
    pub fn is_empty(&self) -> bool {
        let st = self.lock();
        st.key.as_deref().is_none_or(str::is_empty) && st.data.as_ref().is_none_or(|d| d.is_empty())
    }

    /// The session key (for `signed_cookies`, the cookie value), if any.
    pub fn session_key(&self) -> Option<String> {
        self.lock().key.clone().filter(|k| !k.is_empty())
    }

    /// Whether the request came with a session cookie: Django's `SESSION_COOKIE_NAME in
    /// request.COOKIES`.
    pub(crate) fn had_cookie(&self) -> bool {
        self.lock().had_cookie
    }

    /// Whether the data was read or written during this request.
    pub fn accessed(&self) -> bool {
        self.lock().accessed
    }

    /// Whether the data changed during this request (it will be saved).
    pub fn modified(&self) -> bool {
        self.lock().modified
    }

    /// Marks the session modified, e.g. after changing a nested value in place
    /// (Django's `request.session.modified = True`).
    pub fn set_modified(&self, modified: bool) {
        self.lock().modified = modified;
    }

    /// `session.set_expiry(value)`.
    pub async fn set_expiry(&self, expiry: Expiry) {
        match expiry {
            Expiry::Default => {
                self.pop(EXPIRY_KEY).await;
            }
            Expiry::BrowserClose => self.set(EXPIRY_KEY, 0).await,
            Expiry::Seconds(s) => self.set(EXPIRY_KEY, s).await,
            Expiry::In(d) => {
                self.set(EXPIRY_KEY, format_iso(SystemTime::now() + d))
                    .await
            }
            Expiry::At(t) => self.set(EXPIRY_KEY, format_iso(t)).await,
        }
    }

    /// `session.get_expiry_age()`: seconds until the session expires.
    pub async fn get_expiry_age(&self) -> i64 {
        let v = self.get(EXPIRY_KEY).await;
        expiry_age_at(v.as_ref(), self.backend.cookie_age, SystemTime::now())
    }

    /// `session.get_expiry_date()`: when the session expires.
    pub async fn get_expiry_date(&self) -> SystemTime {
        let age = self.get_expiry_age().await;
        let now = SystemTime::now();
        if age >= 0 {
            now + Duration::from_secs(age as u64)
        } else {
            now - Duration::from_secs(age.unsigned_abs())
        }
    }

    /// `session.get_expire_at_browser_close()`.
    pub async fn get_expire_at_browser_close(&self) -> bool {
        match self.get(EXPIRY_KEY).await {
            None | Some(Value::Null) => self.backend.expire_at_browser_close,
            Some(v) => v == 0,
        }
    }

    /// `session.flush()`: deletes the data and the stored session, and forgets the key
    /// (logging out). Store errors are returned (Django raises them: a 500).
    pub async fn flush(&self) -> Result<(), Error> {
        self.clear();
        let key = {
            let mut st = self.lock();
            st.key.take()
        };
        if let (Some(key), Engine::Store(store)) = (key, &self.backend.engine) {
            store.delete(&key).await.map_err(store_error)?;
        }
        Ok(())
    }

    /// `session.cycle_key()`: the same data under a new key (call it at login, against session
    /// fixation). For `signed_cookies` a new cookie is written.
    pub async fn cycle_key(&self) -> Result<(), Error> {
        self.load().await;
        match &self.backend.engine {
            Engine::SignedCookies => {
                self.lock().modified = true;
                Ok(())
            }
            Engine::Store(store) => {
                let old = self.lock().key.clone();
                self.create(store.as_ref()).await?;
                if let Some(old) = old {
                    store.delete(&old).await.map_err(store_error)?;
                }
                Ok(())
            }
        }
    }

    /// Django's `create()`: saves the current data under a new, unused key.
    async fn create(&self, store: &dyn SessionStore) -> Result<(), Error> {
        for _ in 0..100 {
            let key = new_session_key();
            if store.exists(&key).await.map_err(store_error)? {
                continue;
            }
            let (data, age) = self.snapshot().await;
            match store.save(&key, &data, age, true).await {
                Ok(()) => {
                    let mut st = self.lock();
                    st.key = Some(key);
                    st.modified = true;
                    return Ok(());
                }
                Err(StoreError::Exists) => continue,
                Err(e) => return Err(store_error(e)),
            }
        }
        Err(Error::internal("could not find an unused session key"))
    }

    async fn snapshot(&self) -> (SessionData, i64) {
        let age = self.get_expiry_age().await;
        let data = self.with_data(|st| st.data.clone().unwrap_or_default());
        (data, age)
    }

    /// Django's `save()`: writes the data; returns the value for the session cookie.
    pub(crate) async fn save(&self) -> Result<String, Error> {
        match &self.backend.engine {
            Engine::SignedCookies => {
                let (data, _) = self.snapshot().await;
                let value = signing::dumps(&data, &self.backend.secret, SIGNED_COOKIES_SALT, true)
                    .map_err(Error::internal)?;
                let mut st = self.lock();
                st.key = Some(value.clone());
                st.modified = true;
                Ok(value)
            }
            Engine::Store(store) => {
                let key = self.lock().key.clone();
                match key {
                    None => self.create(store.as_ref()).await?,
                    Some(key) => {
                        let (data, age) = self.snapshot().await;
                        store.save(&key, &data, age, false).await.map_err(|e| match e {
                            StoreError::Gone => Error::bad_request(
                                "The request's session was deleted before the request completed. \
                                 The user may have logged out in a concurrent request, for example.",
                            ),
                            other => store_error(other),
                        })?;
                    }
                }
                self.session_key()
                    .ok_or_else(|| Error::internal("session saved without a key"))
            }
        }
    }
}

fn store_error(e: StoreError) -> Error {
    Error::internal(e)
}

/// The session of `request`, put there by `SessionMiddleware`.
///
/// Without the middleware this is Django's `ImproperlyConfigured`, naming it.
pub fn session<B>(request: &http::Request<B>) -> Result<Session, Error> {
    request.extensions().get::<Session>().cloned().ok_or_else(|| {
        Error::ImproperlyConfigured(
            "this view needs request.session: add \"django.contrib.sessions.middleware.SessionMiddleware\" \
             (SessionMiddleware) to MIDDLEWARE, before the middleware that uses the session"
                .to_owned(),
        )
    })
}

/// `request.session()` for views and middleware.
pub trait SessionExt {
    /// See [`session`].
    fn session(&self) -> Result<Session, Error>;
}

impl<B> SessionExt for http::Request<B> {
    fn session(&self) -> Result<Session, Error> {
        session(self)
    }
}
