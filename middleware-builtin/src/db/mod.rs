//! Django's databases: the `DATABASES` setting, a connection pool per alias, and Django's own
//! tables (see [`migrate`]). SQLite and PostgreSQL, through one driver (sqlx), each behind its
//! cargo feature (`sqlite`, `postgres`); `DATABASES` is read (and refused with a clear error)
//! without them.
//!
//! ```
//! # #[cfg(feature = "sqlite")]
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use middleware_builtin::db::{databases_from_settings, Param};
//! let settings = middleware_core::Settings::from_toml_str(r#"
//!     [DATABASES.default]
//!     ENGINE = "django.db.backends.sqlite3"
//!     NAME = ":memory:"
//! "#, "settings.toml").unwrap();
//! let databases = databases_from_settings(&settings).unwrap();
//! let db = databases.get("default").unwrap();
//! db.execute("CREATE TABLE t (k text, v integer)", &[]).await.unwrap();
//! // `$1`, `$2`... on both engines; values are always bound, never spliced into the SQL.
//! db.execute("INSERT INTO t VALUES ($1, $2)", &[Param::text("a"), Param::Int(1)]).await.unwrap();
//! let row = db.fetch_optional("SELECT v FROM t WHERE k = $1", &[Param::text("a")]).await.unwrap();
//! assert_eq!(row.unwrap().i64(0).unwrap(), 1);
//! # });
//! ```
//!
//! Connections are made on first use, so building the chain never blocks on a server; a pooled
//! connection is checked before each reuse, so one that died while idle (a restarted server) is
//! replaced without failing the request. Every error names the alias, never the password.

mod config;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod database;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub mod migrate;
#[cfg(all(test, feature = "sqlite"))]
#[allow(clippy::unwrap_used, clippy::expect_used)]
pub(crate) mod tests;

pub use config::{
    read_databases, DatabaseConfig, DatabaseEntry, DatabasesSettings, Engine, POSTGRES_ENGINE,
    SQLITE_ENGINE,
};
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub use database::{
    databases_from_settings, shared_databases, unix_seconds, Database, Databases, DbError, Param,
    Row,
};
