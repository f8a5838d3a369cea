//! Sessions and the cache on a real `redis-server`, started by the tests on a random port.

use std::process::{Command, Stdio};
use std::time::Instant;

use super::*;
use crate::cache::{caches_from_settings, Timeout};

// The same throwaway redis-server the integration tests use.
#[path = "../../tests/support/redis_server.rs"]
pub(super) mod redis_server;
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

    // The session is in Redis under Django's cache key, pickled as Django's RedisCache does.
    {
        let client = redis::Client::open(format!("redis://127.0.0.1:{port}/0")).unwrap();
        let mut conn = client.get_multiplexed_async_connection().await.unwrap();
        let raw: Vec<u8> = redis::cmd("GET")
            .arg(format!("site:2:{CACHE_KEY_PREFIX}{key}"))
            .query_async(&mut conn)
            .await
            .unwrap();
        assert_eq!(raw[0], 0x80, "a pickle");
        assert_eq!(unpickle(&raw).get("k"), Some(&json!("v")));
        // A value in the format of earlier versions (SessionBase.encode text) is still read.
        let legacy: SessionData = [("k", json!("old"))].into_iter().collect();
        let text = encode(&legacy, SECRET.as_bytes()).unwrap();
        let _: () = redis::cmd("SET")
            .arg(format!("site:2:{CACHE_KEY_PREFIX}{key}"))
            .arg(text)
            .query_async(&mut conn)
            .await
            .unwrap();
    }
    assert_eq!(c.get("/get/?k=k").await.text(), "\"old\"");

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
        let ok = Command::new("kill")
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

/// The Python of the venv `scripts/django_crosscheck.sh` makes (Django 6.1.3 and `redis`), or
/// `DJANGO_PYTHON`; `None` (the test then skips, saying so) when it is absent.
fn django_python() -> Option<std::path::PathBuf> {
    let path = std::env::var_os("DJANGO_PYTHON").map_or_else(
        || {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../.venv/django-6.1.3/bin/python")
        },
        std::path::PathBuf::from,
    );
    let ok = Command::new(&path)
        .args(["-c", "import django, redis"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    ok.then_some(path)
}

fn django_sessions(python: &std::path::Path, port: u16, args: &[&str]) -> String {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/django/redis_sessions.py");
    let out = Command::new(python)
        .arg(script)
        .arg(port.to_string())
        .args(args)
        .output()
        .expect("run redis_sessions.py");
    assert!(
        out.status.success(),
        "redis_sessions.py {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

// Live interop: Django 6.1.3's cache session backend (RedisCache) and ours share one Redis.
#[tokio::test]
async fn django_and_rust_share_redis_sessions() {
    let Some(python) = django_python() else {
        eprintln!(
            "SKIP: no Python with Django 6.1.3 and redis (run scripts/django_crosscheck.sh, or set DJANGO_PYTHON)"
        );
        return;
    };
    let Some(server) = RedisServer::start() else {
        return;
    };
    let port = server.port;
    let mut c = client(&redis_settings(port));

    // Rust writes, Django reads.
    assert_eq!(c.get("/set/?k=v").await.status, 200);
    assert_eq!(c.get("/set/?city=Z%C3%BCrich").await.status, 200);
    let key = c.cookie("sessionid").unwrap().to_owned();
    let seen: serde_json::Value =
        serde_json::from_str(&django_sessions(&python, port, &["read", &key])).unwrap();
    assert_eq!(seen, json!({"k": "v", "city": "Zürich"}));

    // Django writes (pickle protocol 5), Rust reads and updates, Django reads the update.
    let key = django_sessions(&python, port, &["write"]);
    assert_eq!(key.len(), 32);
    c.set_cookie("sessionid", Some(&key));
    assert_eq!(c.get("/get/?k=from").await.text(), "\"django\"");
    assert_eq!(
        c.get("/get/?k=nested").await.text(),
        r#"{"a":[1,2.5,null,true]}"#
    );
    assert_eq!(c.get("/get/?k=_auth_user_id").await.text(), "\"42\"");
    assert_eq!(c.get("/set/?k=rust").await.status, 200);
    let seen: serde_json::Value =
        serde_json::from_str(&django_sessions(&python, port, &["read", &key])).unwrap();
    assert_eq!(seen["k"], json!("rust"));
    assert_eq!(seen["from"], json!("django"));
    assert_eq!(seen["nested"], json!({"a": [1, 2.5, null, true]}));

    // A session holding a Python object JSON has no form for: an empty session here.
    let key = django_sessions(&python, port, &["write-datetime"]);
    c.set_cookie("sessionid", Some(&key));
    assert_eq!(c.get("/get/?k=from").await.text(), "null");
    drop(server);
}

// The bug this guards against: two instances share a Redis; it restarts while one of them is
// idle. That instance's kept connection is dead, and its first request after the restart used
// to fail (a 500 on save, an empty session on load). It must be retried on a fresh connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_restart_fails_no_request_on_an_idle_instance() {
    let Some(mut server) = RedisServer::start() else {
        return;
    };
    let port = server.port;
    let mut busy = client(&redis_settings(port));
    let mut idle = client(&redis_settings(port));
    assert_eq!(busy.get("/set/?k=busy").await.status, 200);
    assert_eq!(idle.get("/set/?k=idle").await.status, 200);

    server.stop();
    // Only `busy` sees the outage; `idle`'s connection dies unnoticed.
    assert_eq!(busy.get("/set/?k=down").await.status, 500);
    let mut server = RedisServer::start_on(port).expect("restart");

    // The restarted Redis kept nothing (no persistence): a new session on each, saved first try.
    for c in [&mut idle, &mut busy] {
        c.set_cookie("sessionid", None);
        let r = c.get("/set/?k=after").await;
        assert_eq!(r.status, 200, "first request after the restart");
        assert_eq!(c.get("/get/?k=k").await.text(), "\"after\"");
    }

    // A load on a dead kept connection is retried too: a stored session is not lost for the
    // request (an empty session would log a user out).
    server.stop();
    let server = RedisServer::start_on(port).expect("restart");
    assert_eq!(busy.get("/set/?k=again").await.status, 200);
    let cache = caches_from_settings(&settings(&redis_settings(port)))
        .unwrap()
        .get("default")
        .unwrap();
    cache.set("probe", b"1", Timeout::Never).await.unwrap();
    drop(server);
    let _server = RedisServer::start_on(port).expect("restart");
    cache.set("probe", b"2", Timeout::Never).await.unwrap();
    assert_eq!(
        cache.get("probe").await.unwrap(),
        Some(b"2".to_vec()),
        "a read after a restart answers from the new server"
    );
    assert_eq!(
        busy.get("/get/?k=k").await.text(),
        "null",
        "the restarted Redis is empty"
    );
}

// A Redis that is down is a fast error naming the alias, and never the password; the same
// cache object works again, without a failed command, once Redis is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_down_is_a_fast_clear_error_and_recovers() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let port = server.port;
    drop(server);
    let conf = |userinfo: &str| {
        format!(
            "[CACHES.sessions_store]\nBACKEND = \"django.core.cache.backends.redis.RedisCache\"\nLOCATION = \"redis://{userinfo}127.0.0.1:{port}/0\"\n"
        )
    };
    let cache = |conf: String| {
        caches_from_settings(&settings(&conf))
            .unwrap()
            .get("sessions_store")
            .unwrap()
    };
    let with_password = cache(conf(":s3cret-pass@"));
    let plain = cache(conf(""));
    assert!(!format!("{with_password:?}").contains("s3cret"));
    for c in [&with_password, &plain, &plain] {
        let started = Instant::now();
        let err = c.get("k").await.unwrap_err();
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "took {:?}",
            started.elapsed()
        );
        let message = err.to_string();
        assert!(message.contains("\"sessions_store\""), "{message}");
        assert!(!message.contains("s3cret"), "{message}");
    }
    let _server = RedisServer::start_on(port).expect("start");
    plain.set("k", b"v", Timeout::Never).await.unwrap();
    assert_eq!(plain.get("k").await.unwrap(), Some(b"v".to_vec()));
}

// A bad LOCATION fails at start-up naming the setting, with the password blanked out.
#[test]
fn redis_location_error_hides_the_password() {
    let conf = "[CACHES.default]\nBACKEND = \"django.core.cache.backends.redis.RedisCache\"\nLOCATION = \"bogus://u:s3cret@host/0\"\n";
    let err = caches_from_settings(&settings(conf))
        .unwrap_err()
        .to_string();
    assert!(err.contains("CACHES"), "{err}");
    assert!(!err.contains("s3cret"), "{err}");
    assert!(err.contains("u:********@host"), "{err}");
}
