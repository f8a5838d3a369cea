//! The pools, and a small engine-neutral way to run bound SQL on them.

use std::collections::HashMap;
use std::fmt;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use middleware_core::registry::BuildContext;
use middleware_core::{Settings, SettingsError};
use tokio::sync::OnceCell;

use super::config::{read_databases, DatabaseConfig, Engine};

#[cfg(feature = "postgres")]
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow, PgSslMode};
#[cfg(feature = "sqlite")]
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions, SqliteRow};
#[cfg(any(feature = "sqlite", feature = "postgres"))]
use sqlx::Row as _;

/// A database operation failed. Each message names the `DATABASES` alias; none holds the
/// password (connections are configured field by field, never from a URL).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DbError {
    /// No connection could be had in time: the server is down, unreachable, or refuses us.
    #[error("database {alias:?} is unavailable ({reason}); Fix: check that the server is running and DATABASES[{alias:?}] (HOST, PORT, NAME, USER, PASSWORD)")]
    Unavailable {
        /// The `DATABASES` alias.
        alias: String,
        /// What the driver said.
        reason: String,
    },
    /// A statement did not finish in time.
    #[error("database {alias:?}: no answer within {after:?}")]
    Timeout {
        /// The `DATABASES` alias.
        alias: String,
        /// The limit that ran out.
        after: Duration,
    },
    /// The server refused a statement (a constraint, a missing table...).
    #[error("database {alias:?}: {reason}")]
    Query {
        /// The `DATABASES` alias.
        alias: String,
        /// The server's message.
        reason: String,
        /// The SQLSTATE (PostgreSQL) or extended result code (SQLite), when there is one.
        code: Option<String>,
        /// Whether a unique or primary-key constraint was violated (Django's `IntegrityError`
        /// on insert).
        unique_violation: bool,
    },
    /// A column could not be read as the asked-for type.
    #[error("database column {column}: {reason}")]
    Decode {
        /// The column index.
        column: usize,
        /// Why.
        reason: String,
    },
    /// The engine is not compiled into this build.
    #[error(
        "database {alias:?}: {engine} is not compiled in (cargo features `sqlite`, `postgres`)"
    )]
    NotCompiled {
        /// The `DATABASES` alias.
        alias: String,
        /// The engine.
        engine: Engine,
    },
}

impl DbError {
    /// Whether this is a unique-constraint violation.
    pub fn is_unique_violation(&self) -> bool {
        matches!(
            self,
            DbError::Query {
                unique_violation: true,
                ..
            }
        )
    }
}

/// A value bound to a `$n` placeholder.
#[derive(Clone, Debug, PartialEq)]
pub enum Param {
    /// SQL `NULL` (its type is taken from where it is used).
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// Text.
    Text(String),
    /// A date and time, stored as Django stores a `DateTimeField` with `USE_TZ = True`: UTC,
    /// as `timestamp with time zone` on PostgreSQL and as `YYYY-MM-DD HH:MM:SS[.ffffff]` text
    /// on SQLite.
    Timestamp(SystemTime),
}

impl Param {
    /// [`Param::Text`] from anything string-like.
    pub fn text(s: impl Into<String>) -> Self {
        Param::Text(s.into())
    }
}

/// A result row, read by column index.
pub enum Row {
    /// From SQLite.
    #[cfg(feature = "sqlite")]
    Sqlite(SqliteRow),
    /// From PostgreSQL.
    #[cfg(feature = "postgres")]
    Postgres(PgRow),
}

impl fmt::Debug for Row {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Rows may hold session data or password hashes.
        f.write_str("Row(..)")
    }
}

fn decode_error(column: usize, e: impl fmt::Display) -> DbError {
    DbError::Decode {
        column,
        reason: e.to_string(),
    }
}

impl Row {
    /// Column `i` as text (`NULL` is an error; see [`Row::opt_text`]).
    pub fn text(&self, i: usize) -> Result<String, DbError> {
        self.opt_text(i)?
            .ok_or_else(|| decode_error(i, "unexpected NULL"))
    }

    /// Column `i` as text or `NULL`.
    pub fn opt_text(&self, i: usize) -> Result<Option<String>, DbError> {
        match self {
            #[cfg(feature = "sqlite")]
            Row::Sqlite(r) => r.try_get(i).map_err(|e| decode_error(i, e)),
            #[cfg(feature = "postgres")]
            Row::Postgres(r) => r.try_get(i).map_err(|e| decode_error(i, e)),
        }
    }

    /// Column `i` as an integer (any integer width).
    pub fn i64(&self, i: usize) -> Result<i64, DbError> {
        match self {
            #[cfg(feature = "sqlite")]
            Row::Sqlite(r) => r.try_get(i).map_err(|e| decode_error(i, e)),
            #[cfg(feature = "postgres")]
            Row::Postgres(r) => r
                .try_get::<i64, _>(i)
                .or_else(|_| r.try_get::<i32, _>(i).map(i64::from))
                .or_else(|_| r.try_get::<i16, _>(i).map(i64::from))
                .map_err(|e| decode_error(i, e)),
        }
    }

    /// Column `i` as a float.
    pub fn f64(&self, i: usize) -> Result<f64, DbError> {
        match self {
            #[cfg(feature = "sqlite")]
            Row::Sqlite(r) => r.try_get(i).map_err(|e| decode_error(i, e)),
            #[cfg(feature = "postgres")]
            Row::Postgres(r) => r.try_get::<f64, _>(i).map_err(|e| decode_error(i, e)),
        }
    }

    /// Column `i` as a boolean (SQLite stores Django's `bool` as 0/1).
    pub fn bool(&self, i: usize) -> Result<bool, DbError> {
        match self {
            #[cfg(feature = "sqlite")]
            Row::Sqlite(r) => r.try_get(i).map_err(|e| decode_error(i, e)),
            #[cfg(feature = "postgres")]
            Row::Postgres(r) => r.try_get(i).map_err(|e| decode_error(i, e)),
        }
    }

    /// Column `i` as a date and time (Django's `DateTimeField`), or `NULL`.
    pub fn opt_timestamp(&self, i: usize) -> Result<Option<SystemTime>, DbError> {
        match self {
            #[cfg(feature = "sqlite")]
            Row::Sqlite(r) => {
                let text: Option<String> = r.try_get(i).map_err(|e| decode_error(i, e))?;
                text.map(|t| {
                    parse_sqlite_timestamp(&t)
                        .ok_or_else(|| decode_error(i, format!("{t:?} is not a datetime")))
                })
                .transpose()
            }
            #[cfg(feature = "postgres")]
            Row::Postgres(r) => {
                let ts: Option<pg_time::PgTimestamp> =
                    r.try_get(i).map_err(|e| decode_error(i, e))?;
                Ok(ts.map(|t| t.0))
            }
        }
    }
}

/// Django's SQLite text for a UTC datetime: Python's `str(naive_datetime)`, microseconds only
/// when non-zero.
pub(crate) fn sqlite_timestamp(t: SystemTime) -> String {
    let iso = crate::sessions::expiry::format_iso(t);
    // `2024-01-02T03:04:05.123456+00:00` → `2024-01-02 03:04:05.123456`
    iso.trim_end_matches("+00:00").replacen('T', " ", 1)
}

/// Reads Django's SQLite datetime text (also with a `T` or a `+00:00`).
pub(crate) fn parse_sqlite_timestamp(text: &str) -> Option<SystemTime> {
    let mut iso = text.trim().replacen(' ', "T", 1);
    if !(iso.ends_with('Z') || iso[iso.len().saturating_sub(6)..].starts_with(['+', '-'])) {
        iso.push_str("+00:00");
    }
    crate::sessions::expiry::parse_iso(&iso)
}

#[cfg(feature = "postgres")]
mod pg_time {
    //! `timestamp with time zone` in PostgreSQL's binary format (microseconds since
    //! 2000-01-01 UTC), so no date crate is needed.
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use sqlx::encode::IsNull;
    use sqlx::error::BoxDynError;
    use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo, PgValueRef, Postgres};

    const PG_EPOCH_FROM_UNIX: i64 = 946_684_800_000_000;

    pub(super) struct PgTimestamp(pub(super) SystemTime);

    impl sqlx::Type<Postgres> for PgTimestamp {
        fn type_info() -> PgTypeInfo {
            PgTypeInfo::with_name("timestamptz")
        }
    }

    impl sqlx::Encode<'_, Postgres> for PgTimestamp {
        fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
            let unix = match self.0.duration_since(UNIX_EPOCH) {
                Ok(d) => d.as_micros() as i64,
                Err(e) => -(e.duration().as_micros() as i64),
            };
            buf.extend_from_slice(&(unix - PG_EPOCH_FROM_UNIX).to_be_bytes());
            Ok(IsNull::No)
        }
    }

    impl<'r> sqlx::Decode<'r, Postgres> for PgTimestamp {
        fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
            let bytes: [u8; 8] = value.as_bytes()?.try_into()?;
            let unix = i64::from_be_bytes(bytes) + PG_EPOCH_FROM_UNIX;
            let t = if unix >= 0 {
                UNIX_EPOCH + Duration::from_micros(unix as u64)
            } else {
                UNIX_EPOCH - Duration::from_micros(unix.unsigned_abs())
            };
            Ok(PgTimestamp(t))
        }
    }

    /// A `NULL` whose type the server infers from where it is used.
    pub(super) struct PgNull;

    impl sqlx::Type<Postgres> for PgNull {
        fn type_info() -> PgTypeInfo {
            PgTypeInfo::with_oid(sqlx::postgres::types::Oid(0))
        }
    }

    impl sqlx::Encode<'_, Postgres> for PgNull {
        fn encode_by_ref(&self, _: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
            Ok(IsNull::Yes)
        }
    }
}

enum Pool {
    #[cfg(feature = "sqlite")]
    Sqlite(SqlitePool),
    #[cfg(feature = "postgres")]
    Postgres(PgPool),
}

/// One `DATABASES` alias: its settings and its pool, opened on first use.
pub struct Database {
    config: DatabaseConfig,
    pool: OnceCell<Pool>,
}

impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Database")
            .field("config", &self.config)
            .field("open", &self.pool.initialized())
            .finish()
    }
}

impl Database {
    /// A database for `config`; nothing connects until the first statement.
    pub fn new(config: DatabaseConfig) -> Self {
        Database {
            config,
            pool: OnceCell::new(),
        }
    }

    /// The alias.
    pub fn alias(&self) -> &str {
        &self.config.alias
    }

    /// The engine.
    pub fn engine(&self) -> Engine {
        self.config.engine
    }

    /// The settings it was built from.
    pub fn config(&self) -> &DatabaseConfig {
        &self.config
    }

    /// An SQL expression for the Unix time (seconds, float) of a Django `DateTimeField`
    /// column, the same on both engines.
    pub fn epoch_sql(&self, column: &str) -> String {
        match self.config.engine {
            Engine::Sqlite => format!("((julianday({column}) - 2440587.5) * 86400.0)"),
            Engine::Postgres => format!("EXTRACT(EPOCH FROM {column})::float8"),
        }
    }

    async fn pool(&self) -> Result<&Pool, DbError> {
        self.pool.get_or_try_init(|| async { self.open() }).await
    }

    /// (max_lifetime, idle_timeout) of the pool: CONN_MAX_AGE bounds a connection's life.
    /// `CONN_MAX_AGE = 0` is neither: a zero lifetime would make sqlx's reaper task, which
    /// wakes every `min(max_lifetime, idle_timeout)`, spin on a core for as long as the pool
    /// lives; those connections are closed as they are given back instead
    /// ([`Database::close_after_use`]).
    fn lifetime(&self) -> (Option<Duration>, Option<Duration>) {
        match self.config.conn_max_age {
            Some(age) if age.is_zero() => (None, None),
            Some(age) => (Some(age), Some(age)),
            None => (None, Some(Duration::from_secs(600))),
        }
    }

    /// Django's `CONN_MAX_AGE = 0` (its default): a connection is closed at the end of each
    /// use, as Django closes it at the end of each request.
    fn close_after_use(&self) -> bool {
        self.config.conn_max_age.is_some_and(|age| age.is_zero())
    }

    fn open(&self) -> Result<Pool, DbError> {
        let c = &self.config;
        let (max_lifetime, idle_timeout) = self.lifetime();
        match c.engine {
            #[cfg(feature = "sqlite")]
            Engine::Sqlite => {
                let mut options = SqliteConnectOptions::new()
                    .foreign_keys(true)
                    .busy_timeout(c.statement_timeout)
                    .pragma("legacy_alter_table", "OFF");
                let mut pool = SqlitePoolOptions::new()
                    .acquire_timeout(c.connect_timeout)
                    .test_before_acquire(true);
                match c.sqlite_path() {
                    Some(path) => {
                        options = options.filename(path).create_if_missing(true);
                        pool = pool
                            .max_connections(c.max_connections)
                            .min_connections(c.min_connections)
                            .max_lifetime(max_lifetime)
                            .idle_timeout(idle_timeout);
                        if self.close_after_use() {
                            pool = pool.after_release(|_, _| Box::pin(async { Ok(false) }));
                        }
                    }
                    None => {
                        // One connection that lives as long as the pool: each new connection
                        // to `:memory:` would be a new, empty database.
                        options = options.in_memory(true);
                        pool = pool
                            .max_connections(1)
                            .min_connections(1)
                            .max_lifetime(None)
                            .idle_timeout(None);
                    }
                }
                if let Some(init) = c.init_command.clone() {
                    // The hook's future must not borrow from the closure (sqlx's bound is
                    // for any connection lifetime); one small string per pool, kept for
                    // the life of the process.
                    let init: &'static str = Box::leak(init.into_boxed_str());
                    pool =
                        pool.after_connect(move |conn, _| Box::pin(run_init_command(conn, init)));
                }
                Ok(Pool::Sqlite(pool.connect_lazy_with(options)))
            }
            #[cfg(feature = "postgres")]
            Engine::Postgres => {
                let mut options = PgConnectOptions::new()
                    .port(c.port)
                    .database(&c.name)
                    .ssl_mode(PgSslMode::Disable);
                options = if c.host.starts_with('/') {
                    options.socket(&c.host)
                } else {
                    options.host(&c.host)
                };
                if !c.user.is_empty() {
                    options = options.username(&c.user);
                }
                if !c.password.is_empty() {
                    options = options.password(c.password.expose());
                }
                if let Some(name) = &c.application_name {
                    options = options.application_name(name);
                }
                if !c.server_options.is_empty() {
                    options = options.options(c.server_options.iter().cloned());
                }
                let mut pool = PgPoolOptions::new()
                    .max_connections(c.max_connections)
                    .min_connections(c.min_connections)
                    .acquire_timeout(c.connect_timeout)
                    .max_lifetime(max_lifetime)
                    .idle_timeout(idle_timeout)
                    // A connection that died while idle (server restarted) fails its ping
                    // and is replaced before the request's statement runs.
                    .test_before_acquire(true);
                if self.close_after_use() {
                    pool = pool.after_release(|_, _| Box::pin(async { Ok(false) }));
                }
                Ok(Pool::Postgres(pool.connect_lazy_with(options)))
            }
            #[allow(unreachable_patterns)]
            engine => Err(DbError::NotCompiled {
                alias: c.alias.clone(),
                engine,
            }),
        }
    }

    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    fn error(&self, e: sqlx::Error) -> DbError {
        let alias = self.config.alias.clone();
        match e {
            sqlx::Error::Database(d) => DbError::Query {
                alias,
                reason: d.message().to_owned(),
                code: d.code().map(|c| c.into_owned()),
                unique_violation: d.is_unique_violation(),
            },
            sqlx::Error::PoolTimedOut => DbError::Unavailable {
                alias,
                reason: format!("no connection within {:?}", self.config.connect_timeout),
            },
            sqlx::Error::ColumnDecode { index, source } => DbError::Decode {
                column: index.parse().unwrap_or(0),
                reason: source.to_string(),
            },
            other => DbError::Unavailable {
                alias,
                reason: other.to_string(),
            },
        }
    }

    /// Runs `attempt` within the statement timeout; a connection that broke under it (the
    /// server went away between the health check and the statement) is tried once more on
    /// a fresh connection.
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    async fn run<T, F, Fut>(&self, attempt: F) -> Result<T, DbError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, sqlx::Error>>,
    {
        let limit = self.config.connect_timeout + self.config.statement_timeout;
        for retry in [true, false] {
            match tokio::time::timeout(limit, attempt()).await {
                Err(_) => {
                    return Err(DbError::Timeout {
                        alias: self.config.alias.clone(),
                        after: limit,
                    })
                }
                Ok(Ok(v)) => return Ok(v),
                Ok(Err(sqlx::Error::Io(e))) if retry => {
                    tracing::warn!(database = %self.config.alias, error = %e, "database connection broke; retrying on a new one");
                }
                Ok(Err(e)) => {
                    let e = self.error(e);
                    tracing::error!(database = %self.config.alias, error = %e, "database error");
                    return Err(e);
                }
            }
        }
        Err(DbError::Unavailable {
            alias: self.config.alias.clone(),
            reason: "the connection broke twice".to_owned(),
        })
    }

    /// Runs one statement; the number of rows it changed.
    pub async fn execute(&self, sql: &str, params: &[Param]) -> Result<u64, DbError> {
        match self.pool().await? {
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(p) => {
                self.run(|| async {
                    Ok(sqlite_query(sql, params).execute(p).await?.rows_affected())
                })
                .await
            }
            #[cfg(feature = "postgres")]
            Pool::Postgres(p) => {
                self.run(|| async { Ok(pg_query(sql, params).execute(p).await?.rows_affected()) })
                    .await
            }
        }
    }

    /// Runs a query; every row.
    pub async fn fetch_all(&self, sql: &str, params: &[Param]) -> Result<Vec<Row>, DbError> {
        match self.pool().await? {
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(p) => {
                self.run(|| async {
                    let rows = sqlite_query(sql, params).fetch_all(p).await?;
                    Ok(rows.into_iter().map(Row::Sqlite).collect())
                })
                .await
            }
            #[cfg(feature = "postgres")]
            Pool::Postgres(p) => {
                self.run(|| async {
                    let rows = pg_query(sql, params).fetch_all(p).await?;
                    Ok(rows.into_iter().map(Row::Postgres).collect())
                })
                .await
            }
        }
    }

    /// Runs a query; its first row, if any.
    pub async fn fetch_optional(
        &self,
        sql: &str,
        params: &[Param],
    ) -> Result<Option<Row>, DbError> {
        match self.pool().await? {
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(p) => {
                self.run(|| async {
                    Ok(sqlite_query(sql, params)
                        .fetch_optional(p)
                        .await?
                        .map(Row::Sqlite))
                })
                .await
            }
            #[cfg(feature = "postgres")]
            Pool::Postgres(p) => {
                self.run(|| async {
                    Ok(pg_query(sql, params)
                        .fetch_optional(p)
                        .await?
                        .map(Row::Postgres))
                })
                .await
            }
        }
    }

    /// Runs `statements` in one transaction: all of them or none.
    pub async fn execute_in_transaction(
        &self,
        statements: &[(String, Vec<Param>)],
    ) -> Result<(), DbError> {
        match self.pool().await? {
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(p) => {
                self.run(|| async {
                    let mut tx = p.begin().await?;
                    for (sql, params) in statements {
                        sqlite_query(sql, params).execute(&mut *tx).await?;
                    }
                    tx.commit().await
                })
                .await
            }
            #[cfg(feature = "postgres")]
            Pool::Postgres(p) => {
                self.run(|| async {
                    let mut tx = p.begin().await?;
                    for (sql, params) in statements {
                        pg_query(sql, params).execute(&mut *tx).await?;
                    }
                    tx.commit().await
                })
                .await
            }
        }
    }

    /// The SQLite pool, for code that needs sqlx itself (`None` on another engine).
    #[cfg(feature = "sqlite")]
    pub async fn sqlite_pool(&self) -> Result<Option<SqlitePool>, DbError> {
        #[allow(unreachable_patterns)]
        match self.pool().await? {
            Pool::Sqlite(p) => Ok(Some(p.clone())),
            _ => Ok(None),
        }
    }

    /// The PostgreSQL pool, for code that needs sqlx itself (`None` on another engine).
    #[cfg(feature = "postgres")]
    pub async fn postgres_pool(&self) -> Result<Option<PgPool>, DbError> {
        #[allow(unreachable_patterns)]
        match self.pool().await? {
            Pool::Postgres(p) => Ok(Some(p.clone())),
            _ => Ok(None),
        }
    }
}

#[cfg(feature = "sqlite")]
async fn run_init_command(
    conn: &mut sqlx::SqliteConnection,
    sql: &'static str,
) -> Result<(), sqlx::Error> {
    // Django runs each `;`-separated statement of init_command.
    for statement in sql.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        sqlx::Executor::execute(&mut *conn, statement).await?;
    }
    Ok(())
}

#[cfg(feature = "sqlite")]
fn sqlite_query<'q>(
    sql: &'q str,
    params: &'q [Param],
) -> sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>> {
    let mut q = sqlx::query(sql);
    for p in params {
        q = match p {
            Param::Null => q.bind(None::<String>),
            Param::Bool(b) => q.bind(*b),
            Param::Int(i) => q.bind(*i),
            Param::Float(f) => q.bind(*f),
            Param::Text(s) => q.bind(s.as_str()),
            Param::Timestamp(t) => q.bind(sqlite_timestamp(*t)),
        };
    }
    q
}

#[cfg(feature = "postgres")]
fn pg_query<'q>(
    sql: &'q str,
    params: &'q [Param],
) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
    let mut q = sqlx::query(sql);
    for p in params {
        q = match p {
            Param::Null => q.bind(pg_time::PgNull),
            Param::Bool(b) => q.bind(*b),
            Param::Int(i) => q.bind(*i),
            Param::Float(f) => q.bind(*f),
            Param::Text(s) => q.bind(s.as_str()),
            Param::Timestamp(t) => q.bind(pg_time::PgTimestamp(*t)),
        };
    }
    q
}

/// The configured databases by alias (Django's `connections`).
#[derive(Clone, Debug, Default)]
pub struct Databases {
    by_alias: HashMap<String, Arc<Database>>,
}

impl Databases {
    /// The database named `alias` (e.g. `"default"`).
    pub fn get(&self, alias: &str) -> Option<Arc<Database>> {
        self.by_alias.get(alias).cloned()
    }

    /// Adds or replaces a database.
    pub fn insert(&mut self, database: Database) {
        self.by_alias
            .insert(database.alias().to_owned(), Arc::new(database));
    }

    /// Every alias.
    pub fn aliases(&self) -> impl Iterator<Item = &str> {
        self.by_alias.keys().map(String::as_str)
    }

    /// The database for `alias`, or a `DATABASES` settings error saying that `needed_by`
    /// (e.g. `SESSION_ENGINE = "...db"`) needs it.
    pub fn require(
        &self,
        settings: &Settings,
        alias: &str,
        needed_by: &str,
    ) -> Result<Arc<Database>, SettingsError> {
        self.get(alias).ok_or_else(|| {
            settings.invalid(
                "DATABASES",
                format!("{needed_by} needs the database {alias:?}, which DATABASES does not define"),
                format!(
                    "add [DATABASES.{alias}] with ENGINE = \"django.db.backends.sqlite3\" and NAME = \"db.sqlite3\""
                ),
            )
        })
    }
}

/// Reads `DATABASES` into one [`Database`] per alias (nothing connects yet).
pub fn databases_from_settings(settings: &Settings) -> Result<Databases, SettingsError> {
    let mut databases = Databases::default();
    for config in read_databases(settings)? {
        databases.insert(Database::new(config));
    }
    Ok(databases)
}

/// The chain's databases: built from `DATABASES` once per chain and shared by every
/// middleware that asks (sessions, authentication, redirects...), as Django shares its
/// `connections`: one pool per alias.
pub fn shared_databases(ctx: &BuildContext<'_>) -> Result<Arc<Databases>, SettingsError> {
    ctx.resources
        .get_or_try_init(|| databases_from_settings(ctx.settings))
}

/// Unix seconds (float) of `t`, for comparing with [`Database::epoch_sql`].
pub fn unix_seconds(t: SystemTime) -> f64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs_f64(),
        Err(e) => -e.duration().as_secs_f64(),
    }
}
