//! Django's `RedisCache` on the `redis` crate, with hard time limits so an outage is an error
//! within about a second, never a hang.

use std::fmt;
use std::future::Future;
use std::time::Duration;

use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::AsyncCommands;
use tokio::sync::Mutex;

use super::{resolve_timeout, CacheBackend, CacheError, KeyMaker, Timeout};

/// Django's `django.core.cache.backends.redis.RedisCache` (one server).
///
/// The connection is made on first use and remade after any failure. Each attempt to connect is
/// limited by `connect_timeout` (`OPTIONS.CONNECT_TIMEOUT`, default 0.5 s) and each command by
/// `command_timeout` (`OPTIONS.COMMAND_TIMEOUT`, default 0.5 s).
pub struct RedisCache {
    client: redis::Client,
    keys: KeyMaker,
    default_timeout: Option<u64>,
    connect_timeout: Duration,
    command_timeout: Duration,
    conn: Mutex<Option<ConnectionManager>>,
}

impl fmt::Debug for RedisCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL may hold a password: show only the prefix/version.
        f.debug_struct("RedisCache")
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}

impl RedisCache {
    /// A cache on the Redis server at `location` (`redis://host:port/db`). Nothing connects yet.
    pub fn new(
        location: &str,
        keys: KeyMaker,
        default_timeout: Option<u64>,
        connect_timeout: Duration,
        command_timeout: Duration,
    ) -> Result<Self, CacheError> {
        let client =
            redis::Client::open(location).map_err(|e| CacheError::Backend(e.to_string()))?;
        Ok(RedisCache {
            client,
            keys,
            default_timeout,
            connect_timeout,
            command_timeout,
            conn: Mutex::new(None),
        })
    }

    async fn connection(&self) -> Result<ConnectionManager, CacheError> {
        let mut slot = self.conn.lock().await;
        if let Some(conn) = slot.as_ref() {
            return Ok(conn.clone());
        }
        let config = ConnectionManagerConfig::new()
            .set_number_of_retries(0)
            .set_connection_timeout(self.connect_timeout)
            .set_response_timeout(self.command_timeout);
        let connect = ConnectionManager::new_with_config(self.client.clone(), config);
        let conn = match tokio::time::timeout(self.connect_timeout, connect).await {
            Err(_) => return Err(CacheError::Timeout(self.connect_timeout)),
            Ok(Err(e)) => return Err(CacheError::Backend(e.to_string())),
            Ok(Ok(conn)) => conn,
        };
        *slot = Some(conn.clone());
        Ok(conn)
    }

    /// Runs one command with the command time limit; any failure drops the connection so the
    /// next call reconnects.
    async fn run<T, F, Fut>(&self, f: F) -> Result<T, CacheError>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        let conn = self.connection().await?;
        let outcome = tokio::time::timeout(self.command_timeout, f(conn)).await;
        let error = match outcome {
            Ok(Ok(v)) => return Ok(v),
            Ok(Err(e)) => CacheError::Backend(e.to_string()),
            Err(_) => CacheError::Timeout(self.command_timeout),
        };
        *self.conn.lock().await = None;
        Err(error)
    }

    fn seconds(&self, timeout: Timeout) -> Option<i64> {
        resolve_timeout(timeout, self.default_timeout)
    }
}

#[async_trait]
impl CacheBackend for RedisCache {
    fn make_key(&self, key: &str) -> String {
        self.keys.make_key(key)
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        let key = self.make_key(key);
        self.run(|mut c| async move { c.get::<_, Option<Vec<u8>>>(key).await })
            .await
    }

    async fn set(&self, key: &str, value: &[u8], timeout: Timeout) -> Result<(), CacheError> {
        let key = self.make_key(key);
        let value = value.to_vec();
        match self.seconds(timeout) {
            Some(s) if s <= 0 => {
                // Django's RedisCache deletes on a zero (or negative) timeout.
                self.run(|mut c| async move { c.del::<_, ()>(key).await })
                    .await
            }
            Some(s) => {
                self.run(|mut c| async move { c.set_ex::<_, _, ()>(key, value, s as u64).await })
                    .await
            }
            None => {
                self.run(|mut c| async move { c.set::<_, _, ()>(key, value).await })
                    .await
            }
        }
    }

    async fn add(&self, key: &str, value: &[u8], timeout: Timeout) -> Result<bool, CacheError> {
        let key = self.make_key(key);
        let value = value.to_vec();
        let seconds = self.seconds(timeout);
        self.run(|mut c| async move {
            let mut cmd = redis::cmd("SET");
            cmd.arg(&key).arg(value).arg("NX");
            if let Some(s) = seconds {
                cmd.arg("EX").arg(s.max(1));
            }
            let stored: Option<String> = cmd.query_async(&mut c).await?;
            if stored.is_some() && seconds.is_some_and(|s| s <= 0) {
                c.del::<_, ()>(&key).await?;
            }
            Ok(stored.is_some())
        })
        .await
    }

    async fn delete(&self, key: &str) -> Result<bool, CacheError> {
        let key = self.make_key(key);
        self.run(|mut c| async move { c.del::<_, i64>(key).await.map(|n| n > 0) })
            .await
    }

    async fn incr(&self, key: &str, delta: i64) -> Result<i64, CacheError> {
        let full = self.make_key(key);
        let exists = {
            let full = full.clone();
            self.run(|mut c| async move { c.exists::<_, bool>(full).await })
                .await?
        };
        if !exists {
            return Err(CacheError::Value(format!("Key '{key}' not found")));
        }
        self.run(|mut c| async move { c.incr::<_, _, i64>(full, delta).await })
            .await
    }

    async fn clear(&self) -> Result<(), CacheError> {
        // Django's RedisCache.clear() is FLUSHDB too.
        self.run(|mut c| async move { redis::cmd("FLUSHDB").query_async::<()>(&mut c).await })
            .await
    }
}
