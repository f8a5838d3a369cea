//! The database layer on SQLite files and on a real PostgreSQL started in a temporary folder.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use middleware_core::Settings;

use super::migrate::{clear_expired_sessions, migrate, MIGRATIONS};
use super::*;

#[cfg(feature = "postgres")]
#[path = "../../tests/support/postgres_server.rs"]
pub(crate) mod postgres_server;
#[cfg(feature = "postgres")]
use postgres_server::PostgresServer;

const SQLITE_FIXTURE: &str = include_str!("../../tests/fixtures/django_6_1_schema_sqlite.txt");
#[cfg(feature = "postgres")]
const POSTGRES_FIXTURE: &str =
    include_str!("../../tests/fixtures/django_6_1_schema_postgresql.txt");
const DJANGO_MIGRATED: &str = include_str!("../../tests/fixtures/django_6_1_migrated_sqlite.sql");

pub(crate) fn temp_sqlite(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "mw-db-{}-{}-{name}",
        std::process::id(),
        middleware_core::crypto::get_random_string(8, b"abcdefghijklmnopqrstuvwxyz")
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("db.sqlite3")
}

pub(crate) fn sqlite_settings(path: &std::path::Path) -> String {
    format!(
        "[DATABASES.default]\nENGINE = \"django.db.backends.sqlite3\"\nNAME = \"{}\"\n",
        path.display()
    )
}

fn database(text: &str) -> std::sync::Arc<Database> {
    let settings = Settings::from_toml_str(text, "t.toml").unwrap();
    databases_from_settings(&settings)
        .unwrap()
        .get("default")
        .unwrap()
}

async fn sqlite_schema(db: &Database) -> String {
    let rows = db
        .fetch_all(
            "SELECT type||' '||name||' '||tbl_name||': '||sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name",
            &[],
        )
        .await
        .unwrap();
    rows.iter().map(|r| r.text(0).unwrap() + "\n").collect()
}

async fn count(db: &Database, table: &str) -> i64 {
    db.fetch_optional(&format!("SELECT count(*) FROM {table}"), &[])
        .await
        .unwrap()
        .unwrap()
        .i64(0)
        .unwrap()
}

#[tokio::test]
async fn bound_parameters_and_types_round_trip() {
    let db = database(
        "[DATABASES.default]\nENGINE = \"django.db.backends.sqlite3\"\nNAME = \":memory:\"\n",
    );
    db.execute(
        "CREATE TABLE t (s text, i integer, b bool, d datetime, n text)",
        &[],
    )
    .await
    .unwrap();
    let now = SystemTime::now();
    let evil = "x'); DROP TABLE t; --";
    db.execute(
        "INSERT INTO t VALUES ($1, $2, $3, $4, $5)",
        &[
            Param::text(evil),
            Param::Int(-7),
            Param::Bool(true),
            Param::Timestamp(now),
            Param::Null,
        ],
    )
    .await
    .unwrap();
    let row = db
        .fetch_optional(
            "SELECT s, i, b, d, n FROM t WHERE s = $1",
            &[Param::text(evil)],
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.text(0).unwrap(), evil);
    assert_eq!(row.i64(1).unwrap(), -7);
    assert!(row.bool(2).unwrap());
    let back = row.opt_timestamp(3).unwrap().unwrap();
    let diff = now.duration_since(back).unwrap_or_else(|e| e.duration());
    assert!(diff < Duration::from_micros(2), "{diff:?}");
    assert_eq!(row.opt_text(4).unwrap(), None);
    // Django's own text for a datetime on SQLite.
    let text = row_text(&db, "SELECT d FROM t").await;
    assert_eq!(text.len(), "2026-12-03 15:40:10.869713".len(), "{text}");
    assert_eq!(&text[10..11], " ");
}

async fn row_text(db: &Database, sql: &str) -> String {
    db.fetch_optional(sql, &[])
        .await
        .unwrap()
        .unwrap()
        .text(0)
        .unwrap()
}

// Our migrate leaves the schema Django 6.1.3's migrate leaves (fixture: sqlite_master of a
// database Django migrated), records Django's migrations, and the post_migrate rows.
#[tokio::test]
async fn migrate_creates_djangos_schema_on_sqlite() {
    let path = temp_sqlite("schema");
    let db = database(&sqlite_settings(&path));
    let report = migrate(&db).await.unwrap();
    assert_eq!(report.applied.len(), MIGRATIONS.len());
    assert_eq!(sqlite_schema(&db).await, SQLITE_FIXTURE);
    assert_eq!(count(&db, "django_migrations").await, 20);
    assert_eq!(count(&db, "django_content_type").await, 8);
    assert_eq!(count(&db, "auth_permission").await, 32);
    assert_eq!(
        row_text(&db, "SELECT id||' '||domain||' '||name FROM django_site").await,
        "1 example.com example.com"
    );
    assert_eq!(
        row_text(
            &db,
            "SELECT name FROM auth_permission WHERE codename = 'view_flatpage'"
        )
        .await,
        "Can view flat page"
    );
    // Twice is a no-op.
    assert!(migrate(&db).await.unwrap().applied.is_empty());
    assert_eq!(count(&db, "auth_permission").await, 32);
}

// A database Django already migrated: nothing is applied and nothing changes.
#[tokio::test]
async fn migrate_changes_nothing_on_a_database_django_migrated() {
    let path = temp_sqlite("django");
    let db = database(&sqlite_settings(&path));
    let statements: Vec<(String, Vec<Param>)> = DJANGO_MIGRATED
        .split(";\n")
        .map(str::trim)
        .filter(|s| {
            !s.is_empty() && !s.starts_with("PRAGMA") && *s != "BEGIN TRANSACTION" && *s != "COMMIT"
        })
        .map(|s| (s.to_owned(), Vec::new()))
        .collect();
    db.execute_in_transaction(&statements).await.unwrap();
    let before = sqlite_schema(&db).await;
    let applied = row_text(&db, "SELECT group_concat(applied) FROM django_migrations").await;
    assert!(migrate(&db).await.unwrap().applied.is_empty());
    assert_eq!(sqlite_schema(&db).await, before);
    assert_eq!(
        row_text(&db, "SELECT group_concat(applied) FROM django_migrations").await,
        applied
    );
    assert_eq!(count(&db, "auth_permission").await, 32);

    // One migration of an app missing: refused, naming the app and the fix.
    db.execute(
        "DELETE FROM django_migrations WHERE app = 'auth' AND name = '0012_alter_user_first_name_max_length'",
        &[],
    )
    .await
    .unwrap();
    let err = migrate(&db).await.unwrap_err().to_string();
    assert!(
        err.contains("\"auth\"") && err.contains("manage.py migrate"),
        "{err}"
    );
}

#[tokio::test]
async fn clearsessions_deletes_only_expired_rows() {
    let path = temp_sqlite("clear");
    let db = database(&sqlite_settings(&path));
    migrate(&db).await.unwrap();
    let now = SystemTime::now();
    for (key, at) in [
        ("expiredexpiredexpired", now - Duration::from_secs(10)),
        ("livelivelivelivelive", now + Duration::from_secs(100)),
    ] {
        db.execute(
            "INSERT INTO django_session (session_key, session_data, expire_date) VALUES ($1, $2, $3)",
            &[Param::text(key), Param::text("x"), Param::Timestamp(at)],
        )
        .await
        .unwrap();
    }
    assert_eq!(clear_expired_sessions(&db).await.unwrap(), 1);
    assert_eq!(
        row_text(&db, "SELECT session_key FROM django_session").await,
        "livelivelivelivelive"
    );
}

#[tokio::test]
async fn a_missing_sqlite_folder_is_an_error_naming_the_alias() {
    let db = database(
        "[DATABASES.default]\nENGINE = \"django.db.backends.sqlite3\"\nNAME = \"/nonexistent-dir-mw/db.sqlite3\"\nPASSWORD = \"hunter2\"\n",
    );
    let err = db.execute("SELECT 1", &[]).await.unwrap_err().to_string();
    assert!(
        err.contains("\"default\"") && !err.contains("hunter2"),
        "{err}"
    );
}

#[cfg(feature = "postgres")]
fn pg_schema(server: &PostgresServer, db: &str) -> String {
    let out = std::process::Command::new(std::path::Path::new(&pg_bin()).join("pg_dump"))
        .args(["-s", "-h", "127.0.0.1", "-U", "postgres", "-p"])
        .arg(server.port.to_string())
        .arg(db)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with("--") && !l.starts_with('\\'))
        .map(|l| format!("{l}\n"))
        .collect()
}

#[cfg(feature = "postgres")]
fn pg_bin() -> String {
    ["17", "16", "15"]
        .iter()
        .map(|v| format!("/usr/lib/postgresql/{v}/bin"))
        .find(|d| std::path::Path::new(d).join("pg_dump").exists())
        .unwrap_or_default()
}

#[cfg(feature = "postgres")]
// pg_dump --schema-only of our migrate equals that of Django 6.1.3's migrate (fixture).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_creates_djangos_schema_on_postgresql() {
    let Some(server) = PostgresServer::start() else {
        return;
    };
    server.create_database("ours");
    let db = database(&server.settings("ours"));
    assert_eq!(migrate(&db).await.unwrap().applied.len(), 20);
    assert_eq!(pg_schema(&server, "ours"), POSTGRES_FIXTURE);
    assert_eq!(count(&db, "auth_permission").await, 32);
    assert!(migrate(&db).await.unwrap().applied.is_empty());
    // The site sequence moved past the explicit id 1, as Django's reset does.
    db.execute(
        "INSERT INTO django_site (domain, name) VALUES ($1, $2)",
        &[Param::text("b.example"), Param::text("b")],
    )
    .await
    .unwrap();
    let now = SystemTime::now();
    db.execute(
        "INSERT INTO django_session (session_key, session_data, expire_date) VALUES ($1, $2, $3)",
        &[
            Param::text("k1k1k1k1k1"),
            Param::text("x"),
            Param::Timestamp(now),
        ],
    )
    .await
    .unwrap();
    let row = db
        .fetch_optional("SELECT expire_date FROM django_session", &[])
        .await
        .unwrap()
        .unwrap();
    let back = row.opt_timestamp(0).unwrap().unwrap();
    let diff = now.duration_since(back).unwrap_or_else(|e| e.duration());
    assert!(diff < Duration::from_micros(2), "{diff:?}");
    assert_eq!(clear_expired_sessions(&db).await.unwrap(), 1);
}

#[cfg(feature = "postgres")]
// A pooled connection that died while idle (PostgreSQL restarted) is replaced without failing
// the statement; while the server is down, the error is quick and names the alias.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgresql_restart_fails_no_statement_once_it_is_back() {
    let Some(server) = PostgresServer::start() else {
        return;
    };
    server.create_database("site");
    let db = database(&format!(
        "{}CONN_MAX_AGE = \"None\"\nPASSWORD = \"hunter2\"\nOPTIONS = {{ connect_timeout = 1 }}\n",
        server.settings("site")
    ));
    assert_eq!(row_i64(&db).await.unwrap(), 1);
    server.stop();
    let started = std::time::Instant::now();
    let err = row_i64(&db).await.unwrap_err().to_string();
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert!(
        err.contains("\"default\"") && !err.contains("hunter2"),
        "{err}"
    );
    assert!(server.start_again());
    for _ in 0..3 {
        assert_eq!(row_i64(&db).await.unwrap(), 1);
    }
    // And a restart while the pool holds idle connections, with no request in between.
    server.stop();
    assert!(server.start_again());
    assert_eq!(row_i64(&db).await.unwrap(), 1);
}

#[cfg(feature = "postgres")]
async fn row_i64(db: &Database) -> Result<i64, DbError> {
    db.fetch_optional("SELECT 1", &[])
        .await?
        .map(|r| r.i64(0))
        .transpose()
        .map(|v| v.unwrap_or(0))
}

// CONN_MAX_AGE 0 (Django's default) closes each connection as it is given back, with no
// lifetime or idle timeout on the pool: sqlx's reaper wakes every min(max_lifetime,
// idle_timeout), so a zero there kept a core busy for as long as the pool lived. A positive
// CONN_MAX_AGE keeps the connection.
#[tokio::test]
async fn conn_max_age_zero_closes_connections_without_a_reaper() {
    for (max_age, kept) in [("0", 0), ("600", 1)] {
        let path = temp_sqlite(&format!("max-age-{max_age}"));
        let db = database(&format!(
            "{}CONN_MAX_AGE = {max_age}\n",
            sqlite_settings(&path)
        ));
        assert_eq!(row_text(&db, "SELECT 'x'").await, "x");
        let pool = db.sqlite_pool().await.unwrap().unwrap();
        // A connection goes back (or is closed) on a task of its own: wait for it, 5 s at most.
        for _ in 0..500 {
            if pool.size() == kept {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(pool.size(), kept, "CONN_MAX_AGE {max_age}");
        if kept == 0 {
            assert_eq!(pool.options().get_max_lifetime(), None);
            assert_eq!(pool.options().get_idle_timeout(), None);
        }
    }
}
