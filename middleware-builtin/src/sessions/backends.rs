//! Session engines that keep the data server-side, keyed by the session key: Django's `file`
//! and `cache` backends. (`signed_cookies` keeps the data in the cookie and needs no store.)

use std::fmt;
use std::path::PathBuf;
#[cfg(feature = "pickle")]
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use middleware_core::crypto::get_random_string;
use middleware_core::signing;
use tokio::io::AsyncWriteExt;

use super::data::SessionData;
use super::expiry::expiry_age_at;
use crate::cache::CacheError;
#[cfg(feature = "pickle")]
use crate::cache::{CacheBackend, Timeout};

/// Salt of Django's `SessionBase.encode` for the db/cache/file backends
/// (`"django.contrib.sessions." + SessionStore.__qualname__`).
pub const SESSION_STORE_SALT: &str = "django.contrib.sessions.SessionStore";
/// Prefix of Django's cache-backend keys.
pub const CACHE_KEY_PREFIX: &str = "django.contrib.sessions.cache";
/// Characters of a session key (Django's `VALID_KEY_CHARS`).
pub const VALID_KEY_CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// A store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Saving with `must_create` found the key taken (Django's `CreateError`).
    #[error("session key already exists")]
    Exists,
    /// Saving found the session gone (Django's `UpdateError`): answered with a 400.
    #[error("session was deleted before the request completed")]
    Gone,
    /// The cache failed.
    #[error(transparent)]
    Cache(#[from] CacheError),
    /// The database failed (`db`, `cached_db`).
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    #[error(transparent)]
    Database(crate::db::DbError),
    /// The file system failed.
    #[error("session file: {0}")]
    Io(#[from] std::io::Error),
    /// The data could not be encoded.
    #[error("session encoding: {0}")]
    Encode(#[from] signing::SigningError),
    /// The data could not be pickled for the cache.
    #[cfg(feature = "pickle")]
    #[error("session pickling: {0}")]
    Pickle(#[from] serde_pickle::Error),
}

/// A server-side session store: Django's `SessionStore` methods that touch storage.
#[async_trait]
pub trait SessionStore: Send + Sync + fmt::Debug + 'static {
    /// The data stored under `key`, `None` when there is no such (live) session.
    async fn load(&self, key: &str) -> Result<Option<SessionData>, StoreError>;
    /// Whether `key` is taken.
    async fn exists(&self, key: &str) -> Result<bool, StoreError>;
    /// Stores `data` for `expiry_age` seconds. With `must_create`, fails with
    /// [`StoreError::Exists`] when the key is taken; without it, may fail with
    /// [`StoreError::Gone`] when the session vanished.
    async fn save(
        &self,
        key: &str,
        data: &SessionData,
        expiry_age: i64,
        must_create: bool,
    ) -> Result<(), StoreError>;
    /// Removes the session `key`.
    async fn delete(&self, key: &str) -> Result<(), StoreError>;
}

/// Django's `SessionBase.encode`: `signing.dumps(data, salt=SESSION_STORE_SALT, compress=True)`.
pub fn encode(data: &SessionData, secret: &[u8]) -> Result<String, signing::SigningError> {
    signing::dumps(data, secret, SESSION_STORE_SALT, true)
}

/// Django's `SessionBase.decode`: any failure is an empty session (logged without the data).
pub fn decode(text: &str, secret: &[u8], fallbacks: &[&[u8]]) -> SessionData {
    match signing::loads(text, secret, fallbacks, SESSION_STORE_SALT, None) {
        Ok(data) => data,
        Err(e) => {
            tracing::warn!(target: "django.security.SuspiciousSession", error = %e, "Session data corrupted");
            SessionData::new()
        }
    }
}

/// The first byte of a pickle of protocol 2 or later (the `PROTO` opcode). Django's
/// `pickle.dumps(dict, HIGHEST_PROTOCOL)` always starts with it; `encode()` text never does.
#[cfg(feature = "pickle")]
const PICKLE_PROTO: u8 = 0x80;

/// The session dict as Django's cache backends store it: `pickle.dumps(dict)` (protocol 3).
#[cfg(feature = "pickle")]
pub fn pickle(data: &SessionData) -> Result<Vec<u8>, serde_pickle::Error> {
    serde_pickle::to_vec(data, serde_pickle::SerOptions::new())
}

/// Reads a session dict pickled by Django (any protocol up to 5); anything that is not a dict
/// of JSON-like values is an empty session (logged without the data), as Django's `decode`
/// treats corrupt data.
#[cfg(feature = "pickle")]
pub fn unpickle(bytes: &[u8]) -> SessionData {
    match serde_pickle::from_slice(bytes, serde_pickle::DeOptions::new()) {
        Ok(data) => data,
        Err(e) => {
            tracing::warn!(target: "django.security.SuspiciousSession", error = %e, "Session data in the cache could not be unpickled");
            SessionData::new()
        }
    }
}

/// A new random session key: 32 characters from `[a-z0-9]`.
pub fn new_session_key() -> String {
    get_random_string(32, VALID_KEY_CHARS)
}

/// `SECRET_KEY` and its fallbacks: what the stores' `encode`/`decode` and the session auth
/// hash sign with.
#[derive(Clone)]
pub(crate) struct Keys {
    pub(crate) secret: Vec<u8>,
    pub(crate) fallbacks: Vec<Vec<u8>>,
}

impl fmt::Debug for Keys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Keys(..)")
    }
}

impl Keys {
    /// `SECRET_KEY` and `SECRET_KEY_FALLBACKS`, as bytes; an empty `SECRET_KEY` is refused.
    pub(crate) fn from_settings(
        settings: &middleware_core::Settings,
    ) -> Result<Self, middleware_core::SettingsError> {
        let core = settings.core();
        Ok(Keys {
            secret: settings.signing_key()?.to_vec(),
            fallbacks: core
                .secret_key_fallbacks
                .iter()
                .map(|s| s.expose().as_bytes().to_vec())
                .collect(),
        })
    }

    pub(crate) fn decode(&self, text: &str) -> SessionData {
        let fallbacks: Vec<&[u8]> = self.fallbacks.iter().map(Vec::as_slice).collect();
        decode(text, &self.secret, &fallbacks)
    }
}

/// Django's `django.contrib.sessions.backends.cache`: the session dict under
/// `django.contrib.sessions.cache<key>` in a [`CacheBackend`], expiring with the session.
///
/// The value is what Django's cache backends store for a dict: a pickle (written with
/// protocol 3, which every Python 3 reads; read at any protocol up to 5, Django's
/// `pickle.HIGHEST_PROTOCOL`), so a Django site using the same Redis reads and writes the same
/// sessions. Values must be JSON-like (strings, numbers, booleans, `None`, lists, dicts); a
/// session holding other Python objects (datetimes, sets...) loads as an empty session, logged.
/// Values written by earlier versions of this port (Django's `encode()` text) are still read.
#[cfg(feature = "pickle")]
#[derive(Debug)]
pub struct CacheStore {
    cache: Arc<dyn CacheBackend>,
    keys: Keys,
}

#[cfg(feature = "pickle")]
impl CacheStore {
    pub(crate) fn new(cache: Arc<dyn CacheBackend>, keys: Keys) -> Self {
        CacheStore { cache, keys }
    }

    fn cache_key(key: &str) -> String {
        format!("{CACHE_KEY_PREFIX}{key}")
    }
}

#[cfg(feature = "pickle")]
#[async_trait]
impl SessionStore for CacheStore {
    async fn load(&self, key: &str) -> Result<Option<SessionData>, StoreError> {
        let Some(bytes) = self.cache.get(&Self::cache_key(key)).await? else {
            return Ok(None);
        };
        if bytes.first() == Some(&PICKLE_PROTO) {
            return Ok(Some(unpickle(&bytes)));
        }
        Ok(Some(self.keys.decode(&String::from_utf8_lossy(&bytes))))
    }

    async fn exists(&self, key: &str) -> Result<bool, StoreError> {
        Ok(self.cache.has_key(&Self::cache_key(key)).await?)
    }

    async fn save(
        &self,
        key: &str,
        data: &SessionData,
        expiry_age: i64,
        must_create: bool,
    ) -> Result<(), StoreError> {
        let value = pickle(data)?;
        let timeout = Timeout::Seconds(expiry_age);
        if must_create {
            if !self
                .cache
                .add(&Self::cache_key(key), &value, timeout)
                .await?
            {
                return Err(StoreError::Exists);
            }
        } else {
            self.cache
                .set(&Self::cache_key(key), &value, timeout)
                .await?;
        }
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.cache.delete(&Self::cache_key(key)).await?;
        Ok(())
    }
}

/// Django's `django.contrib.sessions.backends.file`: one file per session,
/// `SESSION_FILE_PATH/<SESSION_COOKIE_NAME><key>`, written atomically (temporary file + rename).
#[derive(Debug)]
pub struct FileStore {
    dir: PathBuf,
    prefix: String,
    cookie_age: i64,
    keys: Keys,
}

impl FileStore {
    pub(crate) fn new(dir: PathBuf, prefix: String, cookie_age: i64, keys: Keys) -> Self {
        FileStore {
            dir,
            prefix,
            cookie_age,
            keys,
        }
    }

    /// The file for `key`; `None` for keys with characters Django refuses
    /// (`InvalidSessionKey`), which keeps paths inside the directory.
    fn path(&self, key: &str) -> Option<PathBuf> {
        if key.is_empty() || !key.bytes().all(|b| VALID_KEY_CHARS.contains(&b)) {
            return None;
        }
        Some(self.dir.join(format!("{}{key}", self.prefix)))
    }
}

#[async_trait]
impl SessionStore for FileStore {
    async fn load(&self, key: &str) -> Result<Option<SessionData>, StoreError> {
        let Some(path) = self.path(key) else {
            return Ok(None);
        };
        let (text, modified) = match tokio::fs::read(&path).await {
            Ok(bytes) => {
                let modified = tokio::fs::metadata(&path)
                    .await
                    .and_then(|m| m.modified())
                    .unwrap_or_else(|_| SystemTime::now());
                (bytes, modified)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        if text.is_empty() {
            return Ok(Some(SessionData::new()));
        }
        let data = self.keys.decode(&String::from_utf8_lossy(&text));
        // Django's `_expiry_date`: `_session_expiry` when truthy, else mtime + SESSION_COOKIE_AGE.
        let now = SystemTime::now();
        let age = match data.get("_session_expiry") {
            Some(v) if is_truthy(v) => expiry_age_at(Some(v), self.cookie_age, now),
            _ => {
                let expires = modified + Duration::from_secs(self.cookie_age.max(0) as u64);
                match expires.duration_since(now) {
                    Ok(d) => d.as_secs() as i64,
                    Err(_) => 0,
                }
            }
        };
        if age <= 0 {
            self.delete(key).await?;
            return Ok(None);
        }
        Ok(Some(data))
    }

    async fn exists(&self, key: &str) -> Result<bool, StoreError> {
        match self.path(key) {
            None => Ok(false),
            Some(p) => Ok(tokio::fs::try_exists(p).await?),
        }
    }

    async fn save(
        &self,
        key: &str,
        data: &SessionData,
        _expiry_age: i64,
        must_create: bool,
    ) -> Result<(), StoreError> {
        let path = self
            .path(key)
            .ok_or_else(|| StoreError::Io(std::io::Error::other("invalid session key")))?;
        if must_create {
            match tokio::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
                .await
            {
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    return Err(StoreError::Exists)
                }
                Err(e) => return Err(e.into()),
            }
        } else if !tokio::fs::try_exists(&path).await? {
            return Err(StoreError::Gone);
        }
        let encoded = encode(data, &self.keys.secret)?;
        // Write beside the target, then rename over it: readers see the old or the new file.
        let tmp = self.dir.join(format!(
            "{}_out_{}",
            self.prefix,
            get_random_string(12, VALID_KEY_CHARS)
        ));
        let write = async {
            let mut f = tokio::fs::File::create(&tmp).await?;
            f.write_all(encoded.as_bytes()).await?;
            f.sync_all().await?;
            tokio::fs::rename(&tmp, &path).await
        };
        if let Err(e) = write.await {
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(e.into());
        }
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let Some(path) = self.path(key) else {
            return Ok(());
        };
        match tokio::fs::remove_file(path).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

fn is_truthy(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Null => false,
        serde_json::Value::Bool(b) => *b,
        serde_json::Value::Number(n) => n.as_f64() != Some(0.0),
        serde_json::Value::String(s) => !s.is_empty(),
        serde_json::Value::Array(a) => !a.is_empty(),
        serde_json::Value::Object(o) => !o.is_empty(),
    }
}
