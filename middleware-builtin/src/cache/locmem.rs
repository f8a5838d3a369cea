//! Django's `LocMemCache`: a per-process LRU dictionary bounded by `MAX_ENTRIES`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::{resolve_timeout, CacheBackend, CacheError, KeyMaker, Timeout};

#[derive(Debug)]
struct Entry {
    value: Vec<u8>,
    expires: Option<Instant>,
    /// Recency counter: Django's OrderedDict `move_to_end` on every read and write.
    used: u64,
}

#[derive(Debug, Default)]
struct Inner {
    entries: HashMap<String, Entry>,
    clock: u64,
}

/// Django's `django.core.cache.backends.locmem.LocMemCache`: in-process, least recently used
/// first out. When a write finds `MAX_ENTRIES` entries, `1/CULL_FREQUENCY` of them are culled
/// (the least recently used), or all when `CULL_FREQUENCY` is 0, as in Django.
#[derive(Debug)]
pub struct LocMemCache {
    keys: KeyMaker,
    default_timeout: Option<u64>,
    max_entries: usize,
    cull_frequency: usize,
    inner: Mutex<Inner>,
}

impl LocMemCache {
    /// A cache with Django's options (`default_timeout` `None` = never expire).
    pub fn new(
        keys: KeyMaker,
        default_timeout: Option<u64>,
        max_entries: usize,
        cull_frequency: usize,
    ) -> Self {
        LocMemCache {
            keys,
            default_timeout,
            max_entries,
            cull_frequency,
            inner: Mutex::new(Inner::default()),
        }
    }

    /// How many entries are stored (expired ones included until touched).
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding this lock cannot leave the map inconsistent: keep serving.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn expiry(&self, timeout: Timeout) -> Result<Option<Instant>, ()> {
        match resolve_timeout(timeout, self.default_timeout) {
            None => Ok(None),
            Some(s) if s <= 0 => Err(()),
            Some(s) => Ok(Some(Instant::now() + Duration::from_secs(s as u64))),
        }
    }

    fn cull(&self, inner: &mut Inner) {
        if self.cull_frequency == 0 {
            inner.entries.clear();
            return;
        }
        let count = inner.entries.len() / self.cull_frequency;
        let mut by_age: Vec<(u64, String)> = inner
            .entries
            .iter()
            .map(|(k, e)| (e.used, k.clone()))
            .collect();
        by_age.sort_unstable();
        for (_, k) in by_age.into_iter().take(count) {
            inner.entries.remove(&k);
        }
    }

    fn store(&self, inner: &mut Inner, key: String, value: &[u8], expires: Option<Instant>) {
        if inner.entries.len() >= self.max_entries && !inner.entries.contains_key(&key) {
            self.cull(inner);
        }
        inner.clock += 1;
        let used = inner.clock;
        inner.entries.insert(
            key,
            Entry {
                value: value.to_vec(),
                expires,
                used,
            },
        );
    }

    /// The live entry for a full key, dropping it when expired.
    fn live<'a>(inner: &'a mut Inner, key: &str) -> Option<&'a mut Entry> {
        let expired = match inner.entries.get(key) {
            None => return None,
            Some(e) => e.expires.is_some_and(|t| t <= Instant::now()),
        };
        if expired {
            inner.entries.remove(key);
            return None;
        }
        inner.clock += 1;
        let clock = inner.clock;
        let entry = inner.entries.get_mut(key)?;
        entry.used = clock;
        Some(entry)
    }
}

#[async_trait]
impl CacheBackend for LocMemCache {
    fn make_key(&self, key: &str) -> String {
        self.keys.make_key(key)
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        let key = self.make_key(key);
        let mut inner = self.lock();
        Ok(Self::live(&mut inner, &key).map(|e| e.value.clone()))
    }

    async fn set(&self, key: &str, value: &[u8], timeout: Timeout) -> Result<(), CacheError> {
        let key = self.make_key(key);
        let mut inner = self.lock();
        match self.expiry(timeout) {
            Ok(expires) => self.store(&mut inner, key, value, expires),
            Err(()) => {
                inner.entries.remove(&key);
            }
        }
        Ok(())
    }

    async fn add(&self, key: &str, value: &[u8], timeout: Timeout) -> Result<bool, CacheError> {
        let key = self.make_key(key);
        let mut inner = self.lock();
        if Self::live(&mut inner, &key).is_some() {
            return Ok(false);
        }
        match self.expiry(timeout) {
            Ok(expires) => self.store(&mut inner, key, value, expires),
            // Django stores it already expired: it is never readable.
            Err(()) => return Ok(true),
        }
        Ok(true)
    }

    async fn delete(&self, key: &str) -> Result<bool, CacheError> {
        let key = self.make_key(key);
        let mut inner = self.lock();
        let existed = Self::live(&mut inner, &key).is_some();
        inner.entries.remove(&key);
        Ok(existed)
    }

    async fn incr(&self, key: &str, delta: i64) -> Result<i64, CacheError> {
        let full = self.make_key(key);
        let mut inner = self.lock();
        let Some(entry) = Self::live(&mut inner, &full) else {
            return Err(CacheError::Value(format!("Key '{key}' not found")));
        };
        let current: i64 = std::str::from_utf8(&entry.value)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| CacheError::Value(format!("Key '{key}' does not hold an integer")))?;
        let new = current
            .checked_add(delta)
            .ok_or_else(|| CacheError::Value("integer overflow".to_owned()))?;
        entry.value = new.to_string().into_bytes();
        Ok(new)
    }

    async fn clear(&self) -> Result<(), CacheError> {
        self.lock().entries.clear();
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn cache(max: usize, freq: usize) -> LocMemCache {
        LocMemCache::new(KeyMaker::new("", 1), Some(300), max, freq)
    }

    // Django: tests/cache/tests.py::BaseCacheTests::test_simple / test_add / test_delete
    #[tokio::test]
    async fn get_set_add_delete() {
        let c = cache(300, 3);
        assert_eq!(c.get("k").await.unwrap(), None);
        c.set("k", b"v", Timeout::Default).await.unwrap();
        assert_eq!(c.get("k").await.unwrap(), Some(b"v".to_vec()));
        assert!(!c.add("k", b"w", Timeout::Default).await.unwrap());
        assert_eq!(c.get("k").await.unwrap(), Some(b"v".to_vec()));
        assert!(c.delete("k").await.unwrap());
        assert!(!c.delete("k").await.unwrap());
        assert!(c.add("k", b"w", Timeout::Default).await.unwrap());
    }

    // Django: tests/cache/tests.py::BaseCacheTests::test_incr
    #[tokio::test]
    async fn incr_needs_an_existing_integer() {
        let c = cache(300, 3);
        assert!(c.incr("n", 1).await.is_err());
        c.set("n", b"41", Timeout::Default).await.unwrap();
        assert_eq!(c.incr("n", 1).await.unwrap(), 42);
        assert_eq!(c.incr("n", -2).await.unwrap(), 40);
        c.set("s", b"abc", Timeout::Default).await.unwrap();
        assert!(c.incr("s", 1).await.is_err());
    }

    // Django: tests/cache/tests.py::BaseCacheTests::test_zero_timeout / test_forever_timeout
    #[tokio::test(start_paused = true)]
    async fn timeouts() {
        let c = cache(300, 3);
        c.set("zero", b"v", Timeout::Seconds(0)).await.unwrap();
        assert_eq!(c.get("zero").await.unwrap(), None);
        c.set("forever", b"v", Timeout::Never).await.unwrap();
        assert_eq!(c.get("forever").await.unwrap(), Some(b"v".to_vec()));
    }

    // Django: tests/cache/tests.py::BaseCacheTests::test_cull
    #[tokio::test]
    async fn culls_least_recently_used_third() {
        let c = cache(9, 3);
        for i in 0..9 {
            c.set(&format!("k{i}"), b"v", Timeout::Default)
                .await
                .unwrap();
        }
        // Touch k0 so it is the most recently used.
        assert!(c.get("k0").await.unwrap().is_some());
        c.set("new", b"v", Timeout::Default).await.unwrap();
        assert_eq!(c.len(), 7);
        assert!(c.get("k0").await.unwrap().is_some());
        assert!(c.get("k1").await.unwrap().is_none());
        assert!(c.get("k3").await.unwrap().is_none());
        assert!(c.get("k4").await.unwrap().is_some());
    }

    // Django: tests/cache/tests.py::BaseCacheTests::test_zero_cull
    #[tokio::test]
    async fn zero_cull_frequency_clears_everything() {
        let c = cache(5, 0);
        for i in 0..5 {
            c.set(&format!("k{i}"), b"v", Timeout::Default)
                .await
                .unwrap();
        }
        c.set("new", b"v", Timeout::Default).await.unwrap();
        assert_eq!(c.len(), 1);
    }

    // Django: tests/cache/tests.py::PrefixedCacheTests / test_cache_versioning_get_set
    #[test]
    fn key_format() {
        assert_eq!(KeyMaker::new("", 1).make_key("a"), ":1:a");
        assert_eq!(KeyMaker::new("p", 2).make_key("a"), "p:2:a");
    }
}
