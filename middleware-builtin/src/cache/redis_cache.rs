//! Django's `RedisCache` on the `redis` crate, with hard time limits so an outage is an error
//! within about a second, never a hang.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::FromRedisValue;
use tokio::sync::Mutex;

use super::{resolve_timeout, CacheBackend, CacheError, KeyMaker, Timeout};

/// Django's `django.core.cache.backends.redis.RedisCache` (one server).
///
/// The connection is made on first use and kept. Each attempt to connect is limited by
/// `connect_timeout` (`OPTIONS.CONNECT_TIMEOUT`, default 0.5 s) and each command by
/// `command_timeout` (`OPTIONS.COMMAND_TIMEOUT`, default 0.5 s), so a Redis that is down or
/// frozen is an error within about a second, never a hang.
///
/// A kept connection can die while idle (Redis restarted, a proxy closed it). Like redis-py's
/// pool, which Django's backend uses, a command that finds its connection dropped is sent again,
/// once, on a fresh connection, so the first request after a restart does not fail. A timeout
/// is not retried: the command may be running, and a second wait would double the delay.
pub struct RedisCache {
    alias: String,
    client: redis::Client,
    keys: KeyMaker,
    default_timeout: Option<u64>,
    connect_timeout: Duration,
    command_timeout: Duration,
    /// The kept connection and its generation: a failure only discards the connection it
    /// happened on, not a fresh one another request has made meanwhile.
    conn: Mutex<(u64, Option<ConnectionManager>)>,
}

impl fmt::Debug for RedisCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL may hold a password: show only the alias and the key maker.
        f.debug_struct("RedisCache")
            .field("alias", &self.alias)
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}

/// `location` with the password of its user-info replaced, for messages.
pub(crate) fn redact(location: &str) -> String {
    let Some((scheme, rest)) = location.split_once("://") else {
        return location.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => {
            let user = rest[..at].split(':').next().unwrap_or("");
            format!("{scheme}://{user}:********{}", &rest[at..])
        }
        None => location.to_owned(),
    }
}

/// How one attempt at a command failed.
enum Failure {
    /// The connection was gone before or while the command was sent: worth one retry.
    Dropped(CacheError),
    /// Anything else: connecting failed, Redis said no, or the time ran out.
    Final(CacheError),
}

impl RedisCache {
    /// The cache `alias` on the Redis server at `location` (`redis://host:port/db`). Nothing
    /// connects yet.
    pub fn new(
        alias: &str,
        location: &str,
        keys: KeyMaker,
        default_timeout: Option<u64>,
        connect_timeout: Duration,
        command_timeout: Duration,
    ) -> Result<Self, CacheError> {
        let client = redis::Client::open(location).map_err(|e| CacheError::Backend {
            alias: alias.to_owned(),
            reason: e.to_string(),
        })?;
        Ok(RedisCache {
            alias: alias.to_owned(),
            client,
            keys,
            default_timeout,
            connect_timeout,
            command_timeout,
            conn: Mutex::new((0, None)),
        })
    }

    fn backend_error(&self, e: &redis::RedisError) -> CacheError {
        CacheError::Backend {
            alias: self.alias.clone(),
            reason: e.to_string(),
        }
    }

    fn timeout_error(&self, after: Duration) -> CacheError {
        CacheError::Timeout {
            alias: self.alias.clone(),
            after,
        }
    }

    async fn connection(&self) -> Result<(u64, ConnectionManager), CacheError> {
        let mut slot = self.conn.lock().await;
        if let (generation, Some(conn)) = &*slot {
            return Ok((*generation, conn.clone()));
        }
        // No retries inside the manager: a Redis that is down must fail this request fast.
        let config = ConnectionManagerConfig::new()
            .set_number_of_retries(0)
            .set_connection_timeout(self.connect_timeout)
            .set_response_timeout(self.command_timeout);
        let connect = ConnectionManager::new_with_config(self.client.clone(), config);
        let conn = match tokio::time::timeout(self.connect_timeout, connect).await {
            Err(_) => return Err(self.timeout_error(self.connect_timeout)),
            Ok(Err(e)) => return Err(self.backend_error(&e)),
            Ok(Ok(conn)) => conn,
        };
        slot.0 += 1;
        slot.1 = Some(conn.clone());
        Ok((slot.0, conn))
    }

    /// Discards the connection of `generation` (if it is still the kept one), so the next
    /// command connects afresh.
    async fn forget(&self, generation: u64) {
        let mut slot = self.conn.lock().await;
        if slot.0 == generation {
            slot.1 = None;
        }
    }

    async fn attempt<T: FromRedisValue>(&self, cmd: &redis::Cmd) -> Result<T, Failure> {
        let (generation, mut conn) = self.connection().await.map_err(Failure::Final)?;
        let outcome = tokio::time::timeout(self.command_timeout, cmd.query_async(&mut conn)).await;
        let failure = match outcome {
            Ok(Ok(v)) => return Ok(v),
            Ok(Err(e)) if e.kind() == redis::ErrorKind::IoError && e.is_unrecoverable_error() => {
                Failure::Dropped(self.backend_error(&e))
            }
            // Redis answered (e.g. WRONGTYPE): the connection is fine, keep it.
            Ok(Err(e)) if !e.is_io_error() && !e.is_unrecoverable_error() => {
                return Err(Failure::Final(self.backend_error(&e)))
            }
            Ok(Err(e)) => Failure::Final(self.backend_error(&e)),
            Err(_) => Failure::Final(self.timeout_error(self.command_timeout)),
        };
        self.forget(generation).await;
        Err(failure)
    }

    /// Runs one command within the time limits, retrying once on a fresh connection if the
    /// kept one turns out to be dead; a failure is logged with the alias.
    async fn query<T: FromRedisValue>(&self, cmd: &redis::Cmd) -> Result<T, CacheError> {
        let result = match self.attempt(cmd).await {
            Err(Failure::Dropped(first)) => {
                tracing::debug!(cache = %self.alias, error = %first, "Redis connection was dropped; reconnecting");
                self.attempt(cmd).await
            }
            other => other,
        };
        result.map_err(|failure| {
            let (Failure::Dropped(e) | Failure::Final(e)) = failure;
            tracing::warn!(cache = %self.alias, error = %e, "Redis cache unavailable");
            e
        })
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
        self.query(redis::cmd("GET").arg(self.make_key(key))).await
    }

    async fn set(&self, key: &str, value: &[u8], timeout: Timeout) -> Result<(), CacheError> {
        let key = self.make_key(key);
        match self.seconds(timeout) {
            // Django's RedisCache deletes on a zero (or negative) timeout.
            Some(s) if s <= 0 => self.query(redis::cmd("DEL").arg(key)).await,
            Some(s) => {
                self.query(redis::cmd("SET").arg(key).arg(value).arg("EX").arg(s))
                    .await
            }
            None => self.query(redis::cmd("SET").arg(key).arg(value)).await,
        }
    }

    async fn add(&self, key: &str, value: &[u8], timeout: Timeout) -> Result<bool, CacheError> {
        let key = self.make_key(key);
        let seconds = self.seconds(timeout);
        let mut cmd = redis::cmd("SET");
        cmd.arg(&key).arg(value).arg("NX");
        if let Some(s) = seconds {
            cmd.arg("EX").arg(s.max(1));
        }
        let stored: Option<String> = self.query(&cmd).await?;
        if stored.is_some() && seconds.is_some_and(|s| s <= 0) {
            self.query::<()>(redis::cmd("DEL").arg(&key)).await?;
        }
        Ok(stored.is_some())
    }

    async fn delete(&self, key: &str) -> Result<bool, CacheError> {
        let n: i64 = self
            .query(redis::cmd("DEL").arg(self.make_key(key)))
            .await?;
        Ok(n > 0)
    }

    async fn incr(&self, key: &str, delta: i64) -> Result<i64, CacheError> {
        let full = self.make_key(key);
        let exists: bool = self.query(redis::cmd("EXISTS").arg(&full)).await?;
        if !exists {
            return Err(CacheError::Value(format!("Key '{key}' not found")));
        }
        self.query(redis::cmd("INCRBY").arg(&full).arg(delta)).await
    }

    async fn clear(&self) -> Result<(), CacheError> {
        // Django's RedisCache.clear() is FLUSHDB too.
        self.query(&redis::cmd("FLUSHDB")).await
    }
}
