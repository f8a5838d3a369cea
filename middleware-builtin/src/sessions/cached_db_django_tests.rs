//! Live interop with Django 6.1.3's `cached_db` engine (scripts/django_crosscheck.sh): one
//! database (a SQLite file, then PostgreSQL when it and psycopg are installed) and one Redis,
//! shared by Django and ours, with the same `SECRET_KEY` and cache `KEY_PREFIX`/`VERSION`.
//! Each side reads what the other wrote, from the cache alone, from the database alone and
//! through the engine; a cache miss is filled from the database in Django's format; a delete
//! on Django's side ends the session on ours.

use std::process::Command;

use super::*;

use super::redis_server::RedisServer;

/// Django's cache key for a `cached_db` session in a cache with KEY_PREFIX "site", VERSION 2.
fn redis_key(session_key: &str) -> String {
    format!("site:2:{CACHED_DB_KEY_PREFIX}{session_key}")
}

struct Django<'a> {
    python: &'a std::path::Path,
    spec: String,
    redis_port: u16,
}

impl Django<'_> {
    /// Runs `commands` (`command` or `command=KEY`) in one Django process: a line each.
    fn batch(&self, commands: &[String]) -> Vec<String> {
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/fixtures/django/cached_db_sessions.py");
        let out = Command::new(self.python)
            .arg(script)
            .args([&self.spec, &self.redis_port.to_string(), SECRET])
            .args(commands)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "cached_db_sessions.py {commands:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    fn run(&self, command: &str, key: &str) -> String {
        self.batch(&[format!("{command}={key}")]).remove(0)
    }

    /// `cache-get`, `read-db`, `read` (JSON) and `cache-ttl` of `key`, in one process.
    fn views(&self, key: &str) -> ([Value; 3], i64) {
        let lines = self
            .batch(&["cache-get", "read-db", "read", "cache-ttl"].map(|c| format!("{c}={key}")));
        let json = |i: usize| serde_json::from_str::<Value>(&lines[i]).unwrap();
        ([json(0), json(1), json(2)], lines[3].parse().unwrap())
    }
}

async fn redis(port: u16) -> redis::aio::MultiplexedConnection {
    redis::Client::open(format!("redis://127.0.0.1:{port}/0"))
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

async fn share_cached_db_with_django(t: &Target, django: &Django<'_>) {
    let mut conn = redis(django.redis_port).await;
    let mut c = client(&format!(
        "SESSION_ENGINE = \"{CACHED_DB_ENGINE}\"\n{}\n[CACHES.default]\nBACKEND = \"django.core.cache.backends.redis.RedisCache\"\nLOCATION = \"redis://127.0.0.1:{}/0\"\nKEY_PREFIX = \"site\"\nVERSION = 2\n",
        t.databases, django.redis_port
    ));

    // Ours writes through: Django finds the dict in its cache entry, in the row, and through
    // its engine; the entry lives SESSION_COOKIE_AGE, as Django's save sets it.
    c.get("/set/?k=v").await;
    c.get("/set/?city=Z%C3%BCrich").await;
    let key = c.cookie("sessionid").unwrap().to_owned();
    let ours = json!({"k": "v", "city": "Zürich"});
    let (seen, ttl) = django.views(&key);
    assert_eq!(seen, [ours.clone(), ours.clone(), ours]);
    assert!((1_209_500..=1_209_600).contains(&ttl), "{ttl}");

    // Django writes through (pickle protocol 5, under Django's key); ours reads it from the
    // cache alone: with the row gone, the session is still there.
    let written = django.batch(&["write", "write", "write"].map(String::from));
    let [from_django, key, read_through] = [&written[0], &written[1], &written[2]];
    let raw: Option<Vec<u8>> = redis::cmd("GET")
        .arg(redis_key(from_django))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(raw.unwrap().get(..2), Some(&[0x80, 5][..]));
    t.db.execute(
        "DELETE FROM django_session WHERE session_key = $1",
        &[Param::text(from_django)],
    )
    .await
    .unwrap();
    c.set_cookie("sessionid", Some(from_django.as_str()));
    assert_eq!(c.get("/get/?k=from").await.text(), "\"django\"");
    assert_eq!(
        c.get("/get/?k=nested").await.text(),
        r#"{"a":[1,2.5,null,true]}"#
    );

    // A session Django wrote, updated on ours: Django reads the update from cache and row.
    c.set_cookie("sessionid", Some(key.as_str()));
    assert_eq!(c.get("/get/?k=n").await.text(), "1");
    assert_eq!(c.get("/set/?k=rust").await.status, 200);
    assert_eq!(c.cookie("sessionid"), Some(key.as_str()));
    let (seen, _) = django.views(key);
    for (how, seen) in ["cache-get", "read-db", "read"].iter().zip(seen) {
        assert_eq!(seen["k"], json!("rust"), "{how}");
        assert_eq!(seen["from"], json!("django"), "{how}");
    }

    // Read-through: the cache entry gone, ours reads the row and fills the cache as Django's
    // load does (the dict pickled, the row's remaining age as timeout); Django reads that entry.
    let key = read_through;
    let deleted: i64 = redis::cmd("DEL")
        .arg(redis_key(key))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(deleted, 1);
    c.set_cookie("sessionid", Some(key.as_str()));
    assert_eq!(c.get("/get/?k=from").await.text(), "\"django\"");
    let (seen, ttl) = django.views(key);
    assert_eq!(seen[0]["from"], json!("django"));
    assert!((1_209_500..=1_209_600).contains(&ttl), "{ttl}");

    // A delete on Django's side (logout) removes row and entry: the session is over on ours.
    assert_eq!(django.run("delete", key), "ok");
    assert_eq!(c.get("/get/?k=from").await.text(), "null");
    let left: i64 = redis::cmd("EXISTS")
        .arg(redis_key(key))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(left, 0);
}

// Live interop with Django 6.1.3's cached_db engine, both ways, on SQLite + Redis and (when
// installed) PostgreSQL + Redis.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn django_and_rust_share_cached_db_sessions() {
    let Some(python) = django_python("redis") else {
        eprintln!("SKIP: no Python with Django 6.1.3 and redis (run scripts/django_crosscheck.sh, or set DJANGO_PYTHON)");
        return;
    };
    let Some(server) = RedisServer::start() else {
        return;
    };
    let path = temp_sqlite("django-share-cached-db");
    let t = target(sqlite_settings(&path)).await;
    let django = Django {
        python: &python,
        spec: format!("sqlite:{}", path.display()),
        redis_port: server.port,
    };
    share_cached_db_with_django(&t, &django).await;
    eprintln!("shared cached_db (SQLite + Redis) with Django: ok");

    #[cfg(feature = "postgres")]
    {
        if django_python("psycopg").is_none() {
            eprintln!("SKIP: shared cached_db on PostgreSQL with Django (psycopg is not installed for Django)");
            return;
        }
        let Some(pg) = crate::db::tests::postgres_server::PostgresServer::start() else {
            return;
        };
        pg.create_database("shared_cached");
        let t = target(pg.settings("shared_cached")).await;
        let django = Django {
            python: &python,
            spec: format!("pg:{}:shared_cached", pg.port),
            redis_port: server.port,
        };
        share_cached_db_with_django(&t, &django).await;
        eprintln!("shared cached_db (PostgreSQL + Redis) with Django: ok");
    }
}
