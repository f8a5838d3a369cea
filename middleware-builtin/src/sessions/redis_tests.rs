//! Sessions and the cache on a real `redis-server`, started by the tests on a random port.

use std::time::Instant;

use super::*;
use crate::cache::{caches_from_settings, Timeout};

// The same throwaway redis-server the integration tests use.
#[path = "../../tests/support/redis_server.rs"]
mod redis_server;
use redis_server::RedisServer;

fn redis_settings(port: u16) -> String {
    format!(
        "SESSION_ENGINE = \"{CACHE_ENGINE}\"\n[CACHES.default]\nBACKEND = \"django.core.cache.backends.redis.RedisCache\"\nLOCATION = \"redis://127.0.0.1:{port}/0\"\nKEY_PREFIX = \"site\"\nVERSION = 2\n"
    )
}

// Django: tests/cache/tests.py::RedisCacheTests (get/set/add/delete/incr, key prefix and version)
#[tokio::test]
async fn redis_cache_backend() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let s = settings(&redis_settings(server.port));
    let caches = caches_from_settings(&s).unwrap();
    let cache = caches.get("default").unwrap();
    assert_eq!(cache.make_key("k"), "site:2:k");
    assert_eq!(cache.get("k").await.unwrap(), None);
    cache.set("k", b"v", Timeout::Default).await.unwrap();
    assert_eq!(cache.get("k").await.unwrap(), Some(b"v".to_vec()));
    assert!(!cache.add("k", b"w", Timeout::Default).await.unwrap());
    assert!(cache.add("k2", b"w", Timeout::Seconds(100)).await.unwrap());
    assert!(cache.delete("k2").await.unwrap());
    assert!(!cache.delete("k2").await.unwrap());
    assert!(cache.incr("n", 1).await.is_err());
    cache.set("n", b"1", Timeout::Never).await.unwrap();
    assert_eq!(cache.incr("n", 5).await.unwrap(), 6);
    cache.set("gone", b"v", Timeout::Seconds(0)).await.unwrap();
    assert_eq!(cache.get("gone").await.unwrap(), None);
    // The raw key in Redis is Django's.
    let client = redis::Client::open(format!("redis://127.0.0.1:{}/0", server.port)).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let raw: Option<Vec<u8>> = redis::cmd("GET")
        .arg("site:2:k")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(raw, Some(b"v".to_vec()));
    let ttl: i64 = redis::cmd("TTL")
        .arg("site:2:k")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!((290..=300).contains(&ttl), "default TIMEOUT 300: {ttl}");
}

// Redis outage: loads give an empty session, saves a 500, each within 2 s; recovery after restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_sessions_survive_an_outage() {
    let Some(mut server) = RedisServer::start() else {
        return;
    };
    let port = server.port;
    let mut c = client(&redis_settings(port));
    let r = c.get("/set/?k=v").await;
    assert_eq!(r.status, 200);
    let key = c.cookie("sessionid").unwrap().to_owned();
    assert_eq!(key.len(), 32);
    assert_eq!(c.get("/get/?k=k").await.text(), "\"v\"");

    // The session is in Redis under Django's cache key, encoded as SessionBase.encode.
    {
        let client = redis::Client::open(format!("redis://127.0.0.1:{port}/0")).unwrap();
        let mut conn = client.get_multiplexed_async_connection().await.unwrap();
        let raw: String = redis::cmd("GET")
            .arg(format!("site:2:{CACHE_KEY_PREFIX}{key}"))
            .query_async(&mut conn)
            .await
            .unwrap();
        assert_eq!(
            decode(&raw, SECRET.as_bytes(), &[]).get("k"),
            Some(&json!("v"))
        );
    }

    server.stop();
    let started = Instant::now();
    let r = c.get("/get/?k=k").await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "load took {:?}",
        started.elapsed()
    );
    assert_eq!(
        (r.status, r.text().as_str()),
        (StatusCode::OK, "null"),
        "empty session on load failure"
    );

    c.set_cookie("sessionid", Some(&key));
    let started = Instant::now();
    let r = c.get("/set/?k=w").await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "save took {:?}",
        started.elapsed()
    );
    assert_eq!(r.status, 500, "Django's cache backend raises on save");
    assert!(r.set_cookie("sessionid").is_none());

    let server = RedisServer::start_on(port).expect("restart");
    c.set_cookie("sessionid", None);
    let r = c.get("/set/?k=again").await;
    assert_eq!(r.status, 200, "recovers once Redis is back");
    assert_eq!(c.get("/get/?k=k").await.text(), "\"again\"");

    // A Redis that accepts connections but never answers (frozen): the time limits apply.
    let pid = server.pid().to_string();
    let signal = |sig: &str| {
        let ok = std::process::Command::new("kill")
            .args([sig, &pid])
            .status()
            .map(|s| s.success());
        assert!(matches!(ok, Ok(true)), "kill {sig}");
    };
    signal("-STOP");
    let started = Instant::now();
    let r = c.get("/get/?k=k").await;
    let load_time = started.elapsed();
    let started = Instant::now();
    let r2 = c.get("/set/?k=frozen").await;
    let save_time = started.elapsed();
    signal("-CONT");
    assert!(
        load_time < Duration::from_secs(2),
        "load took {load_time:?}"
    );
    assert_eq!(r.text(), "null");
    assert!(
        save_time < Duration::from_secs(2),
        "save took {save_time:?}"
    );
    assert_eq!(r2.status, 500);
    let r = c.get("/set/?k=thawed").await;
    assert_eq!(r.status, 200, "recovers once Redis answers again");
    assert_eq!(c.get("/get/?k=k").await.text(), "\"thawed\"");
    drop(server);
}
