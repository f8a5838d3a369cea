//! A bounded pool for password hashing: at most `PASSWORD_HASHING_WORKERS` hashes run at once
//! (default: the number of cores), and a request that waits longer than
//! `PASSWORD_HASHING_QUEUE_TIMEOUT` for a worker is answered 503 with `Retry-After` instead.
//!
//! Each hash is CPU work of hundreds of milliseconds (Django's parameters). Unbounded (a
//! `spawn_blocking` per login: up to 512 threads), a login flood shares the cores among
//! hundreds of hashes, so every login times out and the other routes slow down with them.
//! Bounded, the hashes in flight finish at full speed and the rest are refused quickly.
//!
//! ```
//! use std::time::Duration;
//! use middleware_builtin::auth::hashers::{PasswordHashers, PasswordHashing};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let hashing = PasswordHashing::new(PasswordHashers::default(), 2, Duration::from_secs(5));
//! // 1000 iterations: correct, and to be hashed again with Django's 1,500,000.
//! let encoded = middleware_builtin::auth::hashers::make_password_with("s3cret", "somesalt", 1000).unwrap();
//! let verified = hashing.verify_password("s3cret", &encoded).await.unwrap();
//! assert!(verified.is_correct && verified.must_update);
//! # });
//! ```

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use middleware_core::{FactoryError, Settings};
use tokio::sync::Semaphore;

use super::{PasswordHashers, Verified};

/// Default `PASSWORD_HASHING_QUEUE_TIMEOUT`: how long a login waits for a free worker.
pub const DEFAULT_QUEUE_TIMEOUT: Duration = Duration::from_secs(5);

/// Every worker stayed busy for the whole queue timeout: answer 503, retry later.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("every password hashing worker is busy; retry in {retry_after} s")]
pub struct HashingBusy {
    /// Seconds for the `Retry-After` header.
    pub retry_after: u64,
}

/// Why a hash did not run.
#[derive(Debug, thiserror::Error)]
pub enum HashingError {
    /// No worker became free in time.
    #[error(transparent)]
    Busy(#[from] HashingBusy),
    /// The hashing thread panicked or was cancelled at shutdown.
    #[error("password hashing failed: {0}")]
    Failed(String),
}

struct Inner {
    hashers: PasswordHashers,
    permits: Arc<Semaphore>,
    workers: usize,
    queue_timeout: Duration,
}

/// The configured `PASSWORD_HASHERS` behind a bounded pool of workers. Cloning shares the
/// pool; build one per process (the auth middleware builds it from the settings, see
/// [`crate::auth::AuthConfig::hashing`]).
#[derive(Clone)]
pub struct PasswordHashing {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for PasswordHashing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHashing")
            .field("preferred", &self.inner.hashers.preferred().algorithm())
            .field("workers", &self.inner.workers)
            .field("busy", &self.busy())
            .field("queue_timeout", &self.inner.queue_timeout)
            .finish()
    }
}

/// The number of cores, as `std` sees them (cgroup quotas included).
fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

impl PasswordHashing {
    /// `hashers` on `workers` threads at most (at least one), waiting up to `queue_timeout`
    /// for one to be free (zero: refuse at once when all are busy).
    pub fn new(hashers: PasswordHashers, workers: usize, queue_timeout: Duration) -> Self {
        let workers = workers.max(1);
        PasswordHashing {
            inner: Arc::new(Inner {
                hashers,
                permits: Arc::new(Semaphore::new(workers)),
                workers,
                queue_timeout,
            }),
        }
    }

    /// Reads `PASSWORD_HASHERS`, `PASSWORD_HASHING_WORKERS` (default: the number of cores)
    /// and `PASSWORD_HASHING_QUEUE_TIMEOUT` (seconds, default 5).
    pub fn from_settings(settings: &Settings) -> Result<Self, FactoryError> {
        let hashers = PasswordHashers::from_settings(settings)?;
        let declared = super::PasswordHashingSettings::from_settings(settings)?;
        let workers = declared.workers.unwrap_or_else(cores);
        if workers == 0 {
            return Err(settings
                .invalid(
                    "PASSWORD_HASHING_WORKERS",
                    "must be at least 1",
                    "about the number of cores (the default)",
                )
                .into());
        }
        let timeout = declared.queue_timeout;
        let Ok(queue_timeout) = Duration::try_from_secs_f64(timeout) else {
            return Err(settings
                .invalid(
                    "PASSWORD_HASHING_QUEUE_TIMEOUT",
                    format!("{timeout} is not a number of seconds"),
                    "a number of seconds, 0 or more (default 5)",
                )
                .into());
        };
        Ok(Self::new(hashers, workers, queue_timeout))
    }

    /// The pool used where no settings were read (a backend called outside a request):
    /// Django's default hashers on one worker per core.
    pub fn shared_default() -> &'static PasswordHashing {
        static DEFAULT: OnceLock<PasswordHashing> = OnceLock::new();
        DEFAULT.get_or_init(|| {
            PasswordHashing::new(PasswordHashers::default(), cores(), DEFAULT_QUEUE_TIMEOUT)
        })
    }

    /// The configured hashers.
    pub fn hashers(&self) -> &PasswordHashers {
        &self.inner.hashers
    }

    /// How many hashes may run at once.
    pub fn workers(&self) -> usize {
        self.inner.workers
    }

    /// How many workers are hashing now.
    pub fn busy(&self) -> usize {
        self.inner.workers - self.inner.permits.available_permits()
    }

    /// The `Retry-After` given when busy: the queue timeout rounded up, at least a second.
    fn retry_after(&self) -> u64 {
        (self.inner.queue_timeout.as_secs_f64().ceil() as u64).max(1)
    }

    /// Runs `work` on a worker once one is free, or fails with [`HashingBusy`] after the
    /// queue timeout. The worker stays taken until `work` returns, even if the caller stops
    /// waiting (the CPU is busy either way).
    pub async fn run<T, F>(&self, work: F) -> Result<T, HashingError>
    where
        T: Send + 'static,
        F: FnOnce(&PasswordHashers) -> T + Send + 'static,
    {
        // A free worker is taken without a timer (so a runtime without the time driver works
        // while the pool is not full).
        let waited = match self.inner.permits.clone().try_acquire_owned() {
            Ok(permit) => Ok(Ok(permit)),
            Err(_) => {
                let acquire = self.inner.permits.clone().acquire_owned();
                tokio::time::timeout(self.inner.queue_timeout, acquire).await
            }
        };
        let permit = match waited {
            Ok(Ok(permit)) => permit,
            // Timed out, or (never: the semaphore is not closed) closed.
            Ok(Err(_)) | Err(_) => {
                tracing::warn!(
                    target: "django.contrib.auth",
                    workers = self.inner.workers,
                    "password hashing queue timeout: answering 503"
                );
                return Err(HashingBusy {
                    retry_after: self.retry_after(),
                }
                .into());
            }
        };
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            work(&inner.hashers)
        })
        .await
        .map_err(|e| HashingError::Failed(e.to_string()))
    }

    /// [`PasswordHashers::verify_password`] on a worker.
    pub async fn verify_password(
        &self,
        password: &str,
        encoded: &str,
    ) -> Result<Verified, HashingError> {
        let (password, encoded) = (password.to_owned(), encoded.to_owned());
        self.run(move |h| h.verify_password(&password, &encoded))
            .await
    }

    /// [`PasswordHashers::make_password`] on a worker.
    pub async fn make_password(&self, password: &str) -> Result<String, HashingError> {
        let password = password.to_owned();
        self.run(move |h| h.make_password(&password)).await
    }
}
