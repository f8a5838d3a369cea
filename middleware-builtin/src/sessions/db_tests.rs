//! The `db` and `cached_db` engines on SQLite files and on a real PostgreSQL (started in a
//! temporary folder; SKIP when it is not installed). Each scenario mirrors the Django test of
//! `tests/sessions_tests/tests.py` it is named after, and runs on both engines.

use std::sync::Arc;

use super::*;
use crate::cache::{CacheBackend, KeyMaker, LocMemCache, Timeout};
use crate::db::migrate::{clear_expired_sessions, migrate};
use crate::db::tests::{sqlite_settings, temp_sqlite};
use crate::db::{databases_from_settings, Database, Param};

/// Where a scenario runs: the `[DATABASES.default]` table, and a handle on the same database.
struct Target {
    databases: String,
    db: Arc<Database>,
}

async fn target(databases: String) -> Target {
    let s = Settings::from_toml_str(&databases, "t.toml").unwrap();
    let db = databases_from_settings(&s).unwrap().get("default").unwrap();
    migrate(&db).await.unwrap();
    Target { databases, db }
}

async fn sqlite_target(name: &str) -> Target {
    target(sqlite_settings(&temp_sqlite(name))).await
}

impl Target {
    fn client(&self, engine: &str, extra: &str) -> Client {
        client(&format!(
            "SESSION_ENGINE = \"{engine}\"\n{extra}\n{}\n[CACHES.default]\nBACKEND = \"django.core.cache.backends.locmem.LocMemCache\"\n",
            self.databases
        ))
    }

    async fn row(&self, key: &str) -> Option<(String, f64)> {
        let sql = format!(
            "SELECT session_data, {} FROM django_session WHERE session_key = $1",
            self.db.epoch_sql("expire_date")
        );
        self.db
            .fetch_optional(&sql, &[Param::text(key)])
            .await
            .unwrap()
            .map(|r| (r.text(0).unwrap(), r.f64(1).unwrap()))
    }

    async fn rows(&self) -> i64 {
        self.db
            .fetch_optional("SELECT count(*) FROM django_session", &[])
            .await
            .unwrap()
            .unwrap()
            .i64(0)
            .unwrap()
    }

    async fn insert(&self, key: &str, data: &str, age: i64) {
        let at = if age >= 0 {
            SystemTime::now() + Duration::from_secs(age as u64)
        } else {
            SystemTime::now() - Duration::from_secs(age.unsigned_abs())
        };
        self.db
            .execute(
                "INSERT INTO django_session (session_key, session_data, expire_date) VALUES ($1, $2, $3)",
                &[Param::text(key), Param::text(data), Param::Timestamp(at)],
            )
            .await
            .unwrap();
    }

    fn keys(&self) -> Keys {
        Keys {
            secret: SECRET.as_bytes().to_vec(),
            fallbacks: vec![],
        }
    }
}

fn now_secs() -> f64 {
    crate::db::unix_seconds(SystemTime::now())
}

// Django: DatabaseSessionTests::test_session_get_decoded / test_sessionmanager_save /
// SessionTestsMixin::test_save / test_default_expiry: a row per session, Django's encoding,
// expire_date two weeks ahead; reading it back on the next request.
async fn test_session_get_decoded(t: &Target, engine: &str) {
    let mut c = t.client(engine, "");
    c.get("/set/?k=v").await;
    let key = c.cookie("sessionid").unwrap().to_owned();
    assert_eq!(key.len(), 32);
    let (data, expires) = t.row(&key).await.expect("a row");
    assert_eq!(
        decode(&data, SECRET.as_bytes(), &[]).get("k"),
        Some(&json!("v"))
    );
    let age = expires - now_secs();
    assert!((1_209_590.0..=1_209_601.0).contains(&age), "{age}");
    assert_eq!(c.get("/get/?k=k").await.text(), "\"v\"");
}

// Django: SessionTestsMixin::test_session_load_does_not_create_record: an unknown key makes no
// row, and its cookie is deleted.
async fn test_session_load_does_not_create_record(t: &Target, engine: &str) {
    let mut c = t.client(engine, "");
    c.set_cookie("sessionid", Some("0123456789abcdef0123456789abcdef"));
    let r = c.get("/get/?k=k").await;
    assert_eq!(r.text(), "null");
    assert!(r.set_cookie("sessionid").unwrap().contains("Max-Age=0"));
    assert_eq!(t.rows().await, 0);
}

// Django: SessionTestsMixin::test_invalid_key / CacheDBSessionTests::test_load_overlong_key:
// keys Django never makes are a fresh session, and never reach the database.
async fn test_invalid_key(t: &Target, engine: &str) {
    let mut c = t.client(engine, "");
    for bad in [
        "x' OR '1'='1",
        "../../../../etc/passwd",
        &"a".repeat(41),
        "ABCDEFGHIJKLMNOP",
    ] {
        c.set_cookie("sessionid", Some(bad));
        let r = c.get("/get/?k=k").await;
        assert_eq!(
            (r.status, r.text().as_str()),
            (StatusCode::OK, "null"),
            "{bad}"
        );
    }
    // On a database without the table any query fails: none is made for those keys.
    let s = Settings::from_toml_str(
        "[DATABASES.default]\nENGINE = \"django.db.backends.sqlite3\"\nNAME = \":memory:\"\n",
        "t.toml",
    )
    .unwrap();
    let bare = databases_from_settings(&s).unwrap().get("default").unwrap();
    let store = DbStore::new(bare, t.keys());
    assert!(store
        .load("0123456789abcdef0123456789abcdef")
        .await
        .is_err());
    assert!(store.load("x' OR '1'='1").await.unwrap().is_none());
    assert!(!store.exists(&"a".repeat(41)).await.unwrap());
    assert!(store.delete("../etc/passwd").await.is_ok());
}

// Django: SessionTestsMixin::test_decode_failure_logged_to_security: garbage session_data is
// an empty session, not a 500.
async fn test_decode_failure(t: &Target, engine: &str) {
    let key = "garbagegarbagegarbagegarbage0001";
    t.insert(key, "not-base64:signature", 100).await;
    let mut c = t.client(engine, "");
    c.set_cookie("sessionid", Some(key));
    let r = c.get("/get/?k=k").await;
    assert_eq!((r.status, r.text().as_str()), (StatusCode::OK, "null"));
    // Written again, the same row now holds valid data.
    let r = c.get("/set/?k=w").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(c.cookie("sessionid"), Some(key));
    assert_eq!(c.get("/get/?k=k").await.text(), "\"w\"");
}

// Django: SessionTestsMixin::test_actual_expiry: an expired row is an empty session; saving
// makes a new key.
async fn test_actual_expiry(t: &Target, engine: &str) {
    let data: SessionData = [("k", json!("old"))].into_iter().collect();
    let key = "expiredexpiredexpiredexpired0001";
    t.insert(key, &encode(&data, SECRET.as_bytes()).unwrap(), -5)
        .await;
    let mut c = t.client(engine, "");
    c.set_cookie("sessionid", Some(key));
    assert_eq!(c.get("/get/?k=k").await.text(), "null");
    c.set_cookie("sessionid", Some(key));
    c.get("/set/?k=new").await;
    assert_ne!(c.cookie("sessionid"), Some(key));
}

// Django: SessionTestsMixin::test_cycle / test_flush: cycle_key moves the data to a new row
// and deletes the old one; flush deletes the row.
async fn test_cycle_and_flush(t: &Target, engine: &str) {
    let mut c = t.client(engine, "");
    c.get("/set/?k=v").await;
    let key = c.cookie("sessionid").unwrap().to_owned();
    c.get("/cycle/").await;
    let new_key = c.cookie("sessionid").unwrap().to_owned();
    assert_ne!(new_key, key);
    assert!(t.row(&key).await.is_none(), "old row deleted");
    assert_eq!(c.get("/get/?k=k").await.text(), "\"v\"");
    let r = c.get("/flush/").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(t.row(&new_key).await.is_none(), "flushed row deleted");
    assert_eq!(t.rows().await, 0);
}

// Django: SessionMiddlewareTests::test_session_save_on_every_request: with
// SESSION_SAVE_EVERY_REQUEST, a request that only reads renews expire_date.
async fn test_session_save_on_every_request(t: &Target, engine: &str) {
    let mut c = t.client(
        engine,
        "SESSION_SAVE_EVERY_REQUEST = true\nSESSION_COOKIE_AGE = 1000",
    );
    c.get("/set/?k=v").await;
    let key = c.cookie("sessionid").unwrap().to_owned();
    t.db.execute(
        "UPDATE django_session SET expire_date = $2 WHERE session_key = $1",
        &[
            Param::text(key.as_str()),
            Param::Timestamp(SystemTime::now() + Duration::from_secs(10)),
        ],
    )
    .await
    .unwrap();
    let r = c.get("/get/?k=k").await;
    assert!(r.set_cookie("sessionid").is_some());
    let (_, expires) = t.row(&key).await.unwrap();
    let age = expires - now_secs();
    assert!(age > 900.0, "renewed: {age}");
}

// Django: SessionTestsMixin::test_session_save_does_not_resurrect_session_logged_out_in_other_context:
// a save after the row was deleted elsewhere is UpdateError (the middleware's 400), and the row
// stays deleted.
async fn test_session_save_does_not_resurrect(t: &Target, _engine: &str) {
    let store = DbStore::new(t.db.clone(), t.keys());
    let data: SessionData = [("k", json!("v"))].into_iter().collect();
    let key = new_session_key();
    store.save(&key, &data, 100, true).await.unwrap();
    assert!(matches!(
        store.save(&key, &data, 100, true).await,
        Err(StoreError::Exists)
    ));
    store.delete(&key).await.unwrap();
    assert!(matches!(
        store.save(&key, &data, 100, false).await,
        Err(StoreError::Gone)
    ));
    assert!(t.row(&key).await.is_none());
}

// Django: DatabaseSessionTests::test_clearsessions_command: expired rows go, live ones stay.
async fn test_clearsessions_command(t: &Target, _engine: &str) {
    t.insert("clearclearclearclearclear0000001", "x", -10).await;
    t.insert("keepkeepkeepkeepkeepkeep00000001", "x", 100).await;
    assert_eq!(clear_expired_sessions(&t.db).await.unwrap(), 1);
    assert_eq!(t.rows().await, 1);
}

// Django: CacheDBSessionTests::test_exists_searches_cache_first, and the read-through /
// write-through of CachedDBStore: Django's cache key, the pickled dict, the database row.
async fn test_cached_db_read_and_write_through(t: &Target, _engine: &str) {
    let cache = Arc::new(LocMemCache::new(KeyMaker::new("", 1), Some(300), 300, 3));
    let store = CachedDbStore::new(t.db.clone(), cache.clone(), t.keys());
    let ck = |k: &str| format!("{CACHED_DB_KEY_PREFIX}{k}");
    // Write-through.
    let data: SessionData = [("k", json!("v"))].into_iter().collect();
    let key = new_session_key();
    store.save(&key, &data, 100, true).await.unwrap();
    assert!(t.row(&key).await.is_some());
    let cached = cache.get(&ck(&key)).await.unwrap().unwrap();
    assert_eq!(unpickle(&cached).get("k"), Some(&json!("v")));
    // Exists looks in the cache first.
    let only_cached = new_session_key();
    cache
        .set(&ck(&only_cached), &cached, Timeout::Seconds(100))
        .await
        .unwrap();
    assert!(store.exists(&only_cached).await.unwrap());
    // Read-through: a row written by Django (database only) fills the cache.
    let from_django = "fromdjangofromdjangofromdjango01";
    let other: SessionData = [("who", json!("django"))].into_iter().collect();
    t.insert(from_django, &encode(&other, SECRET.as_bytes()).unwrap(), 50)
        .await;
    assert_eq!(
        store.load(from_django).await.unwrap().unwrap().get("who"),
        Some(&json!("django"))
    );
    let filled = cache.get(&ck(from_django)).await.unwrap().unwrap();
    assert_eq!(unpickle(&filled).get("who"), Some(&json!("django")));
    // Delete removes both.
    store.delete(&key).await.unwrap();
    assert!(t.row(&key).await.is_none());
    assert!(cache.get(&ck(&key)).await.unwrap().is_none());
}

// Django: CacheDBSessionTests through the middleware (save, load, cycle, flush).
async fn test_cached_db_through_the_middleware(t: &Target, engine: &str) {
    let mut c = t.client(engine, "");
    c.get("/set/?k=v").await;
    let key = c.cookie("sessionid").unwrap().to_owned();
    assert!(t.row(&key).await.is_some());
    assert_eq!(c.get("/get/?k=k").await.text(), "\"v\"");
    c.get("/flush/").await;
    assert_eq!(t.rows().await, 0);
}

macro_rules! scenarios {
    ($($name:ident => $engine:expr,)*) => {
        $(
            #[tokio::test]
            async fn $name() {
                let t = sqlite_target(stringify!($name)).await;
                super::$name(&t, $engine).await;
            }
        )*

        // Every scenario again on one PostgreSQL cluster, a database each.
        #[cfg(feature = "postgres")]
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn database_session_tests_on_postgresql() {
            let Some(server) = crate::db::tests::postgres_server::PostgresServer::start() else {
                return;
            };
            $(
                server.create_database(stringify!($name));
                let t = target(server.settings(stringify!($name))).await;
                super::$name(&t, $engine).await;
            )*
        }
    };
}

mod on_sqlite {
    use super::*;

    scenarios! {
        test_session_get_decoded => DB_ENGINE,
        test_session_load_does_not_create_record => DB_ENGINE,
        test_invalid_key => DB_ENGINE,
        test_decode_failure => DB_ENGINE,
        test_actual_expiry => DB_ENGINE,
        test_cycle_and_flush => DB_ENGINE,
        test_session_save_on_every_request => DB_ENGINE,
        test_session_save_does_not_resurrect => DB_ENGINE,
        test_clearsessions_command => DB_ENGINE,
        test_cached_db_read_and_write_through => CACHED_DB_ENGINE,
        test_cached_db_through_the_middleware => CACHED_DB_ENGINE,
    }
}

// A `db` engine without DATABASES is a start-up error naming both settings.
#[test]
fn db_engine_without_databases_names_the_fix() {
    let mut registry = Registry::new();
    crate::register_all(&mut registry);
    let err = Chain::builder(
        &registry,
        &settings(&format!("SESSION_ENGINE = \"{DB_ENGINE}\"")),
    )
    .urls(Router::new())
    .build()
    .err()
    .unwrap()
    .to_string();
    assert!(
        err.contains("DATABASES") && err.contains("SESSION_ENGINE"),
        "{err}"
    );
}

// Django's default engine is `db`: so is ours when DATABASES has a default entry.
#[tokio::test]
async fn db_is_the_default_engine_with_a_database() {
    let t = sqlite_target("default-engine").await;
    let mut c = client(&t.databases);
    c.get("/set/?k=v").await;
    let key = c.cookie("sessionid").unwrap().to_owned();
    assert!(t.row(&key).await.is_some());
}

// The Python with Django 6.1.3 that scripts/django_crosscheck.sh prepares (or `DJANGO_PYTHON`).
#[path = "../../tests/support/django_python.rs"]
mod django_python;
use django_python::django_python;

fn django_db(python: &std::path::Path, spec: &str, args: &[&str]) -> String {
    let mut all = vec![spec, SECRET];
    all.extend_from_slice(args);
    django_python::run_fixture(python, "db_sessions.py", &all)
}

/// Django and ours on one database: Django sees our migrations applied; a session set on ours
/// is read by Django's SessionStore, and back; clearsessions on ours removes Django's
/// expired rows.
async fn share_with_django(t: &Target, python: &std::path::Path, spec: &str) {
    assert_eq!(django_db(python, spec, &["check-migrations"]), "ok");
    let mut c = t.client(DB_ENGINE, "");
    c.get("/set/?k=v").await;
    c.get("/set/?city=Z%C3%BCrich").await;
    let key = c.cookie("sessionid").unwrap().to_owned();
    let seen: Value = serde_json::from_str(&django_db(python, spec, &["read", &key])).unwrap();
    assert_eq!(seen, json!({"k": "v", "city": "Zürich"}));

    let key = django_db(python, spec, &["write"]);
    c.set_cookie("sessionid", Some(&key));
    assert_eq!(c.get("/get/?k=from").await.text(), "\"django\"");
    assert_eq!(c.get("/get/?k=n").await.text(), "1");
    c.get("/set/?k=rust").await;
    assert_eq!(c.cookie("sessionid"), Some(key.as_str()));
    let seen: Value = serde_json::from_str(&django_db(python, spec, &["read", &key])).unwrap();
    assert_eq!(seen["k"], json!("rust"));
    assert_eq!(seen["from"], json!("django"));

    let expired = django_db(python, spec, &["write-expired"]);
    assert_eq!(django_db(python, spec, &["exists", &expired]), "true");
    assert!(clear_expired_sessions(&t.db).await.unwrap() >= 1);
    assert_eq!(django_db(python, spec, &["exists", &expired]), "false");
    assert_eq!(django_db(python, spec, &["exists", &key]), "true");
}

// Live interop with Django 6.1.3 (scripts/django_crosscheck.sh): a shared SQLite file, and a
// shared PostgreSQL database when psycopg and PostgreSQL are installed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn django_and_rust_share_db_sessions() {
    let Some(python) = django_python("sqlite3") else {
        eprintln!("SKIP: no Python with Django 6.1.3 (run scripts/django_crosscheck.sh, or set DJANGO_PYTHON)");
        return;
    };
    let path = temp_sqlite("django-share");
    let t = target(sqlite_settings(&path)).await;
    share_with_django(&t, &python, &format!("sqlite:{}", path.display())).await;
    eprintln!("shared SQLite with Django: ok");

    #[cfg(feature = "postgres")]
    {
        if django_python("psycopg").is_none() {
            eprintln!("SKIP: shared PostgreSQL with Django (psycopg is not installed for Django)");
            return;
        }
        let Some(server) = crate::db::tests::postgres_server::PostgresServer::start() else {
            return;
        };
        server.create_database("shared");
        let t = target(server.settings("shared")).await;
        share_with_django(&t, &python, &format!("pg:{}:shared", server.port)).await;
        eprintln!("shared PostgreSQL with Django: ok");
    }
}

// The throwaway redis-server the Redis session tests load.
use super::redis_tests::redis_server;

#[path = "cached_db_django_tests.rs"]
mod cached_db_django;

#[cfg(feature = "postgres")]
#[path = "outage_tests.rs"]
mod outage;
