//! Django's `db` and `cached_db` session engines, on Django's `django_session` table.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;

use super::backends::{encode, Keys, SessionStore, StoreError, VALID_KEY_CHARS};
#[cfg(feature = "pickle")]
use super::backends::{pickle, unpickle};
use super::data::SessionData;
#[cfg(feature = "pickle")]
use crate::cache::{CacheBackend, Timeout};
#[cfg(feature = "pickle")]
use crate::db::unix_seconds;
use crate::db::{Database, DbError, Param};

/// Prefix of Django's `cached_db` cache keys (`CachedDBSessionStore.cache_key_prefix`).
pub const CACHED_DB_KEY_PREFIX: &str = "django.contrib.sessions.cached_db";

/// The first byte of a pickle of protocol 2 or later.
#[cfg(feature = "pickle")]
const PICKLE_PROTO: u8 = 0x80;

/// Whether `key` can be a key Django made (`get_random_string(32, VALID_KEY_CHARS)`, and the
/// column holds 40): anything else is a fresh session without a query.
fn storable(key: &str) -> bool {
    (8..=40).contains(&key.len()) && key.bytes().all(|b| VALID_KEY_CHARS.contains(&b))
}

impl From<DbError> for StoreError {
    fn from(e: DbError) -> Self {
        StoreError::Database(e)
    }
}

/// Django's `django.contrib.sessions.backends.db`: one row of `django_session` per session,
/// `session_data` in `SessionBase.encode`'s signed form, `expire_date` in UTC. A row whose data
/// does not verify or decode is an empty session (logged, without the data), as in Django.
#[derive(Debug)]
pub struct DbStore {
    db: Arc<Database>,
    keys: Keys,
}

impl DbStore {
    pub(crate) fn new(db: Arc<Database>, keys: Keys) -> Self {
        DbStore { db, keys }
    }

    /// The live row's data and expiry date (Django's `_get_session_from_db`).
    async fn load_row(&self, key: &str) -> Result<Option<(SessionData, SystemTime)>, StoreError> {
        if !storable(key) {
            return Ok(None);
        }
        let now = SystemTime::now();
        let sql = format!(
            "SELECT session_data, {} FROM django_session WHERE session_key = $1 AND expire_date > $2",
            self.db.epoch_sql("expire_date")
        );
        let Some(row) = self
            .db
            .fetch_optional(&sql, &[Param::text(key), Param::Timestamp(now)])
            .await?
        else {
            return Ok(None);
        };
        let data = self.keys.decode(&row.text(0)?);
        let expires = row.f64(1)?;
        let expires = SystemTime::UNIX_EPOCH + Duration::from_secs_f64(expires.max(0.0));
        Ok(Some((data, expires)))
    }
}

#[async_trait]
impl SessionStore for DbStore {
    async fn load(&self, key: &str) -> Result<Option<SessionData>, StoreError> {
        Ok(self.load_row(key).await?.map(|(data, _)| data))
    }

    async fn exists(&self, key: &str) -> Result<bool, StoreError> {
        if !storable(key) {
            return Ok(false);
        }
        Ok(self
            .db
            .fetch_optional(
                "SELECT 1 FROM django_session WHERE session_key = $1",
                &[Param::text(key)],
            )
            .await?
            .is_some())
    }

    async fn save(
        &self,
        key: &str,
        data: &SessionData,
        expiry_age: i64,
        must_create: bool,
    ) -> Result<(), StoreError> {
        if !storable(key) {
            return Err(StoreError::Gone);
        }
        let params = vec![
            Param::text(key),
            Param::Text(encode(data, &self.keys.secret)?),
            Param::Timestamp(expiry_date(expiry_age)),
        ];
        if must_create {
            // Django: `save(force_insert=True)`; an IntegrityError is `CreateError`.
            return match self
                .db
                .execute(
                    "INSERT INTO django_session (session_key, session_data, expire_date) VALUES ($1, $2, $3)",
                    &params,
                )
                .await
            {
                Ok(_) => Ok(()),
                Err(e) if e.is_unique_violation() => Err(StoreError::Exists),
                Err(e) => Err(e.into()),
            };
        }
        // Django: `save(force_update=True)`; no row updated is `UpdateError` (the session
        // was deleted meanwhile, e.g. logged out in another request): a 400.
        let updated = self
            .db
            .execute(
                "UPDATE django_session SET session_data = $2, expire_date = $3 WHERE session_key = $1",
                &params,
            )
            .await?;
        if updated == 0 {
            return Err(StoreError::Gone);
        }
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        if !storable(key) {
            return Ok(());
        }
        self.db
            .execute(
                "DELETE FROM django_session WHERE session_key = $1",
                &[Param::text(key)],
            )
            .await?;
        Ok(())
    }
}

/// Django's `get_expiry_date()` for an age in seconds.
fn expiry_date(age: i64) -> SystemTime {
    let now = SystemTime::now();
    if age >= 0 {
        now + Duration::from_secs(age as u64)
    } else {
        now - Duration::from_secs(age.unsigned_abs())
    }
}

/// Django's `django.contrib.sessions.backends.cached_db`: the database is the truth; the
/// session dict is also kept in the `SESSION_CACHE_ALIAS` cache under
/// `django.contrib.sessions.cached_db<key>` (with the cache's `KEY_PREFIX`/`VERSION`), pickled as
/// Django's cache backends store it, so Django and ours share the cache entries too.
///
/// Reads try the cache first, then the database, and fill the cache (read-through); saves
/// write the database, then the cache (write-through; a cache failure there is logged, as in
/// Django). Deletes remove both, and a failing cache delete is an error: a logged-out session
/// must not live on in the cache.
#[cfg(feature = "pickle")]
#[derive(Debug)]
pub struct CachedDbStore {
    db: DbStore,
    cache: Arc<dyn CacheBackend>,
    keys: Keys,
}

#[cfg(feature = "pickle")]
impl CachedDbStore {
    pub(crate) fn new(db: Arc<Database>, cache: Arc<dyn CacheBackend>, keys: Keys) -> Self {
        CachedDbStore {
            db: DbStore::new(db, keys.clone()),
            cache,
            keys,
        }
    }

    fn cache_key(key: &str) -> String {
        format!("{CACHED_DB_KEY_PREFIX}{key}")
    }
}

#[cfg(feature = "pickle")]
#[async_trait]
impl SessionStore for CachedDbStore {
    async fn load(&self, key: &str) -> Result<Option<SessionData>, StoreError> {
        if !storable(key) {
            return Ok(None);
        }
        // Django: a cache that fails on get counts as a miss.
        match self.cache.get(&Self::cache_key(key)).await {
            Ok(Some(bytes)) if bytes.first() == Some(&PICKLE_PROTO) => {
                return Ok(Some(unpickle(&bytes)))
            }
            Ok(Some(bytes)) => return Ok(Some(self.keys.decode(&String::from_utf8_lossy(&bytes)))),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "session cache read failed; reading the database"),
        }
        let Some((data, expires)) = self.db.load_row(key).await? else {
            return Ok(None);
        };
        let age = (unix_seconds(expires) - unix_seconds(SystemTime::now())).floor() as i64;
        match pickle(&data) {
            Ok(value) => {
                if let Err(e) = self
                    .cache
                    .set(&Self::cache_key(key), &value, Timeout::Seconds(age))
                    .await
                {
                    tracing::warn!(error = %e, "session cache fill failed");
                }
            }
            Err(e) => tracing::warn!(error = %e, "session could not be pickled for the cache"),
        }
        Ok(Some(data))
    }

    async fn exists(&self, key: &str) -> Result<bool, StoreError> {
        if !storable(key) {
            return Ok(false);
        }
        if self
            .cache
            .has_key(&Self::cache_key(key))
            .await
            .unwrap_or(false)
        {
            return Ok(true);
        }
        self.db.exists(key).await
    }

    async fn save(
        &self,
        key: &str,
        data: &SessionData,
        expiry_age: i64,
        must_create: bool,
    ) -> Result<(), StoreError> {
        self.db.save(key, data, expiry_age, must_create).await?;
        let value = pickle(data)?;
        if let Err(e) = self
            .cache
            .set(&Self::cache_key(key), &value, Timeout::Seconds(expiry_age))
            .await
        {
            tracing::error!(error = %e, "Error saving to cache");
        }
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.db.delete(key).await?;
        if storable(key) {
            self.cache.delete(&Self::cache_key(key)).await?;
        }
        Ok(())
    }
}
