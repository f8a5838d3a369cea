//! `DATABASES`, typed: Django's keys, read once, each bad value an error naming the setting.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use middleware_core::{Secret, SecretSetting, Settings, SettingsError};

/// `ENGINE` of Django's SQLite backend.
pub const SQLITE_ENGINE: &str = "django.db.backends.sqlite3";
/// `ENGINE` of Django's PostgreSQL backend.
pub const POSTGRES_ENGINE: &str = "django.db.backends.postgresql";

/// Which server a `DATABASES` entry talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// `django.db.backends.sqlite3`.
    Sqlite,
    /// `django.db.backends.postgresql`.
    Postgres,
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Engine::Sqlite => SQLITE_ENGINE,
            Engine::Postgres => POSTGRES_ENGINE,
        })
    }
}

/// One `DATABASES` entry, typed.
#[derive(Clone)]
#[non_exhaustive]
pub struct DatabaseConfig {
    /// The alias (`default`, ...).
    pub alias: String,
    /// `ENGINE`.
    pub engine: Engine,
    /// `NAME`: the database name, or for SQLite the file (relative paths are taken from the
    /// settings file's folder, as Django's `BASE_DIR / "db.sqlite3"`), or `:memory:`.
    pub name: String,
    /// `USER`.
    pub user: String,
    /// `PASSWORD` (never printed).
    pub password: Secret,
    /// `HOST` (default `localhost`; a path starting with `/` is a Unix socket folder).
    pub host: String,
    /// `PORT` (default 5432).
    pub port: u16,
    /// `CONN_MAX_AGE`: how long a connection is kept for reuse; `Some(0)` (Django's default)
    /// closes it after each use, `None` keeps it without limit.
    pub conn_max_age: Option<Duration>,
    /// `CONN_HEALTH_CHECKS` (default false). Pooled connections are always checked before
    /// reuse here (see docs/database.md), so this only documents intent.
    pub conn_health_checks: bool,
    /// `OPTIONS.connect_timeout` (PostgreSQL, seconds, default 5): how long a request waits
    /// for a connection, new or pooled.
    pub connect_timeout: Duration,
    /// The bound on one statement: PostgreSQL's `-c statement_timeout=` in `OPTIONS.options`
    /// (milliseconds, also sent to the server), SQLite's `OPTIONS.timeout` (seconds, the busy
    /// timeout); default 30 s for PostgreSQL, 5 s for SQLite (Django's sqlite3 default).
    pub statement_timeout: Duration,
    /// PostgreSQL run-time parameters from `OPTIONS.options` (`-c name=value`).
    pub server_options: Vec<(String, String)>,
    /// `OPTIONS.application_name` (PostgreSQL).
    pub application_name: Option<String>,
    /// `OPTIONS.init_command` (SQLite): SQL run on each new connection.
    pub init_command: Option<String>,
    /// `OPTIONS.pool.max_size`: the most connections open at once (default 10).
    pub max_connections: u32,
    /// `OPTIONS.pool.min_size`: connections kept open while idle (default 0).
    pub min_connections: u32,
}

impl fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The password is a secret; the rest says which server it is.
        f.debug_struct("DatabaseConfig")
            .field("alias", &self.alias)
            .field("engine", &self.engine)
            .field("name", &self.name)
            .field("user", &self.user)
            .field("host", &self.host)
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl DatabaseConfig {
    /// For SQLite, the database file (`None` for `:memory:`).
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        (self.name != ":memory:" && !self.name.is_empty()).then(|| PathBuf::from(&self.name))
    }
}

#[derive(Clone, serde::Deserialize)]
#[serde(untagged)]
enum Port {
    Number(u16),
    Text(String),
}

#[derive(Clone, serde::Deserialize)]
#[serde(untagged)]
enum MaxAge {
    Seconds(i64),
    Word(String),
}

/// One entry of `DATABASES`, as written.
#[derive(Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseEntry {
    #[serde(rename = "ENGINE")]
    engine: Option<String>,
    #[serde(rename = "NAME")]
    name: Option<String>,
    #[serde(rename = "USER")]
    user: Option<String>,
    #[serde(rename = "PASSWORD")]
    password: Option<SecretSetting>,
    #[serde(rename = "HOST")]
    host: Option<String>,
    #[serde(rename = "PORT")]
    port: Option<Port>,
    #[serde(rename = "OPTIONS")]
    options: Option<toml::Table>,
    #[serde(rename = "CONN_MAX_AGE")]
    conn_max_age: Option<MaxAge>,
    #[serde(rename = "CONN_HEALTH_CHECKS")]
    conn_health_checks: Option<bool>,
}

impl std::fmt::Debug for DatabaseEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The password may be written in the entry: show where it connects, not how.
        f.debug_struct("DatabaseEntry")
            .field("engine", &self.engine)
            .field("name", &self.name)
            .field("host", &self.host)
            .finish_non_exhaustive()
    }
}

middleware_core::declare_settings! {
    /// The `DATABASES` setting, read by everything that uses a database.
    pub struct DatabasesSettings {
        /// Django's names, one table per alias: `[DATABASES.default]` with `ENGINE`
        /// (`"django.db.backends.sqlite3"` or `"django.db.backends.postgresql"`), `NAME` (SQLite:
        /// a file, relative to the settings file's folder, or `":memory:"`), `USER`, `PASSWORD`
        /// (or `{ env = "VAR" }`), `HOST`, `PORT`, `CONN_MAX_AGE` (default `0`: a connection is
        /// closed after each use; seconds; `"None"` to keep), `CONN_HEALTH_CHECKS`, `OPTIONS`
        /// (SQLite: `timeout`, `init_command`; PostgreSQL: `connect_timeout`, `options = "-c
        /// statement_timeout=5000"`, `application_name`, `sslmode` without TLS; both: `pool = {
        /// min_size, max_size, timeout }`). Needs the `sqlite` / `postgres` cargo features of
        /// middleware-builtin. See [Databases](database.md)
        DATABASES => databases: Option<BTreeMap<String, DatabaseEntry>> =
            unset("unset (no database)"),
    }
}

/// Reads `DATABASES` into one [`DatabaseConfig`] per alias; unset, there is none (as in
/// Django, where the empty `DATABASES` is the dummy backend).
pub fn read_databases(settings: &Settings) -> Result<Vec<DatabaseConfig>, SettingsError> {
    let Some(table) = DatabasesSettings::from_settings(settings)?.databases else {
        return Ok(Vec::new());
    };
    table
        .into_iter()
        .map(|(alias, entry)| read_entry(settings, alias, entry))
        .collect()
}

fn read_entry(
    settings: &Settings,
    alias: String,
    entry: DatabaseEntry,
) -> Result<DatabaseConfig, SettingsError> {
    let bad = |what: String, fix: &str| settings.invalid("DATABASES", what, fix);
    let engine = match entry.engine.as_deref() {
        Some(SQLITE_ENGINE) => Engine::Sqlite,
        Some(POSTGRES_ENGINE) => Engine::Postgres,
        Some(other) => {
            return Err(bad(
                format!("DATABASES[{alias:?}].ENGINE {other:?} is not supported"),
                "use \"django.db.backends.sqlite3\" or \"django.db.backends.postgresql\"",
            ))
        }
        None => return Err(bad(
            format!("DATABASES[{alias:?}] has no ENGINE"),
            "add ENGINE = \"django.db.backends.sqlite3\" (or \"django.db.backends.postgresql\")",
        )),
    };
    if !compiled(engine) {
        return Err(bad(
            format!("DATABASES[{alias:?}].ENGINE {engine} is not compiled into this build"),
            if engine == Engine::Sqlite {
                "build with the `sqlite` feature of middleware-builtin"
            } else {
                "build with the `postgres` feature of middleware-builtin"
            },
        ));
    }
    let mut name = entry.name.unwrap_or_default();
    if name.is_empty() {
        return Err(bad(
            format!("DATABASES[{alias:?}].NAME is empty"),
            if engine == Engine::Sqlite {
                "set NAME = \"db.sqlite3\" (a file, relative to the settings file) or \":memory:\""
            } else {
                "set NAME to the PostgreSQL database's name"
            },
        ));
    }
    if engine == Engine::Sqlite && name != ":memory:" {
        name = resolve_relative(settings.source(), &name);
    }
    let password = match entry.password {
        None => Secret::default(),
        Some(password) => password.resolve().map_err(|env| {
            bad(
                format!("DATABASES[{alias:?}].PASSWORD names the environment variable {env}, which is not set"),
                "export it before starting",
            )
        })?,
    };
    let port = match entry.port {
        None => 5432,
        Some(Port::Number(p)) => p,
        Some(Port::Text(t)) if t.is_empty() => 5432,
        Some(Port::Text(t)) => t.parse().map_err(|_| {
            bad(
                format!("DATABASES[{alias:?}].PORT {t:?} is not a port number"),
                "write PORT = 5432",
            )
        })?,
    };
    let conn_max_age = match entry.conn_max_age {
        None => Some(Duration::ZERO),
        Some(MaxAge::Seconds(s)) if s >= 0 => Some(Duration::from_secs(s as u64)),
        Some(MaxAge::Word(w)) if w.eq_ignore_ascii_case("none") => None,
        Some(MaxAge::Seconds(s)) => {
            return Err(bad(
                format!("DATABASES[{alias:?}].CONN_MAX_AGE is {s}"),
                "use 0 (close after each use), a number of seconds, or \"None\" (keep)",
            ))
        }
        Some(MaxAge::Word(w)) => {
            return Err(bad(
                format!("DATABASES[{alias:?}].CONN_MAX_AGE is {w:?}"),
                "use 0 (close after each use), a number of seconds, or \"None\" (keep)",
            ))
        }
    };
    let mut config = DatabaseConfig {
        alias,
        engine,
        name,
        user: entry.user.unwrap_or_default(),
        password,
        host: entry
            .host
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "localhost".to_owned()),
        port,
        conn_max_age,
        conn_health_checks: entry.conn_health_checks.unwrap_or(false),
        connect_timeout: Duration::from_secs(5),
        statement_timeout: match engine {
            Engine::Sqlite => Duration::from_secs(5),
            Engine::Postgres => Duration::from_secs(30),
        },
        server_options: Vec::new(),
        application_name: None,
        init_command: None,
        max_connections: 10,
        min_connections: 0,
    };
    read_options(settings, &mut config, entry.options.unwrap_or_default())?;
    Ok(config)
}

fn compiled(engine: Engine) -> bool {
    match engine {
        Engine::Sqlite => cfg!(feature = "sqlite"),
        Engine::Postgres => cfg!(feature = "postgres"),
    }
}

/// A relative SQLite `NAME` is taken from the settings file's folder (Django's `BASE_DIR`),
/// so the site finds the same file whatever the working directory.
fn resolve_relative(source: &str, name: &str) -> String {
    let path = Path::new(name);
    if path.is_absolute() {
        return name.to_owned();
    }
    match Path::new(source).parent() {
        Some(dir) if Path::new(source).is_file() => dir.join(path).display().to_string(),
        _ => name.to_owned(),
    }
}

fn seconds(value: &toml::Value) -> Option<Duration> {
    let secs = match value {
        toml::Value::Integer(i) if *i >= 0 => *i as f64,
        toml::Value::Float(f) if *f >= 0.0 && f.is_finite() => *f,
        _ => return None,
    };
    Some(Duration::from_secs_f64(secs.min(86_400.0)))
}

fn read_options(
    settings: &Settings,
    config: &mut DatabaseConfig,
    options: toml::Table,
) -> Result<(), SettingsError> {
    let alias = config.alias.clone();
    let bad = |key: &str, fix: &str| {
        settings.invalid(
            "DATABASES",
            format!("DATABASES[{alias:?}].OPTIONS.{key} is not valid"),
            fix,
        )
    };
    for (key, value) in options {
        match (config.engine, key.as_str()) {
            (Engine::Sqlite, "timeout") => {
                config.statement_timeout =
                    seconds(&value).ok_or_else(|| bad(&key, "write timeout = 5 (seconds)"))?;
            }
            (Engine::Sqlite, "init_command") => {
                config.init_command = Some(
                    value
                        .as_str()
                        .ok_or_else(|| bad(&key, "write init_command = \"PRAGMA ...;\""))?
                        .to_owned(),
                );
            }
            (Engine::Sqlite, "transaction_mode") => {
                if value.as_str() != Some("DEFERRED") {
                    return Err(bad(
                        &key,
                        "only \"DEFERRED\" (Django's default) is supported",
                    ));
                }
            }
            (Engine::Postgres, "connect_timeout") => {
                config.connect_timeout = seconds(&value)
                    .filter(|d| !d.is_zero())
                    .ok_or_else(|| bad(&key, "write connect_timeout = 5 (seconds)"))?;
            }
            (Engine::Postgres, "options") => {
                let text = value
                    .as_str()
                    .ok_or_else(|| bad(&key, "write options = \"-c statement_timeout=5000\""))?;
                config.server_options = parse_server_options(text)
                    .ok_or_else(|| bad(&key, "write options = \"-c name=value -c name=value\""))?;
                if let Some((_, ms)) = config
                    .server_options
                    .iter()
                    .find(|(k, _)| k == "statement_timeout")
                {
                    let ms: u64 = ms.parse().map_err(|_| {
                        bad(&key, "give statement_timeout in milliseconds, e.g. -c statement_timeout=5000")
                    })?;
                    if ms > 0 {
                        config.statement_timeout = Duration::from_millis(ms);
                    }
                }
            }
            (Engine::Postgres, "application_name") => {
                config.application_name = Some(
                    value
                        .as_str()
                        .ok_or_else(|| bad(&key, "write application_name = \"site\""))?
                        .to_owned(),
                );
            }
            (Engine::Postgres, "sslmode") => {
                // No TLS is compiled in: refuse modes that would demand it rather than talk
                // in clear to a server that was meant to be reached over TLS.
                if !matches!(value.as_str(), Some("disable" | "allow" | "prefer")) {
                    return Err(bad(
                        &key,
                        "TLS to PostgreSQL is not compiled in: use sslmode = \"disable\", or reach the server over loopback or a Unix socket",
                    ));
                }
            }
            (_, "pool") => read_pool(config, &value).ok_or_else(|| {
                bad(
                    &key,
                    "write pool = { min_size = 0, max_size = 10 } (or pool = true)",
                )
            })?,
            _ => {
                return Err(bad(
                    &key,
                    match config.engine {
                        Engine::Sqlite => "known: timeout, init_command, transaction_mode, pool",
                        Engine::Postgres => {
                            "known: connect_timeout, options, application_name, sslmode, pool"
                        }
                    },
                ))
            }
        }
    }
    Ok(())
}

/// Django's `OPTIONS["pool"]` (psycopg's pool arguments): `true`, or `min_size` / `max_size`
/// / `timeout`.
fn read_pool(config: &mut DatabaseConfig, value: &toml::Value) -> Option<()> {
    match value {
        toml::Value::Boolean(_) => Some(()),
        toml::Value::Table(t) => {
            for (k, v) in t {
                let n = v.as_integer().filter(|n| *n >= 0);
                match k.as_str() {
                    "min_size" => config.min_connections = u32::try_from(n?).ok()?,
                    "max_size" => config.max_connections = u32::try_from(n?).ok()?.max(1),
                    "timeout" => config.connect_timeout = seconds(v).filter(|d| !d.is_zero())?,
                    _ => return None,
                }
            }
            Some(())
        }
        _ => None,
    }
}

/// libpq's `options`: `-c name=value` pairs (also `-cname=value` and `--name=value`).
fn parse_server_options(text: &str) -> Option<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut words = text.split_whitespace();
    while let Some(word) = words.next() {
        let pair = if word == "-c" {
            words.next()?
        } else if let Some(rest) = word.strip_prefix("-c") {
            rest
        } else {
            word.strip_prefix("--")?
        };
        let (k, v) = pair.split_once('=')?;
        out.push((k.replace('-', "_"), v.to_owned()));
    }
    Some(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Vec<DatabaseConfig>, SettingsError> {
        read_databases(&Settings::from_toml_str(text, "t.toml").unwrap())
    }

    #[test]
    fn server_options_are_libpq_syntax() {
        assert_eq!(
            parse_server_options("-c statement_timeout=5000 -csearch_path=a").unwrap(),
            vec![
                ("statement_timeout".to_owned(), "5000".to_owned()),
                ("search_path".to_owned(), "a".to_owned())
            ]
        );
        assert!(parse_server_options("statement_timeout=5").is_none());
    }

    fn assert_refused(text: &str, needle: &str) {
        let msg = match read(text) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("{text} was accepted"),
        };
        assert!(
            msg.contains("DATABASES") && msg.contains(needle) && msg.contains("Fix"),
            "{msg}"
        );
    }

    #[test]
    fn bad_engines_name_the_setting_and_the_fix() {
        assert_refused("[DATABASES.default]\nNAME = \"x\"", "has no ENGINE");
        assert_refused(
            "[DATABASES.default]\nENGINE = \"django.db.backends.mysql\"\nNAME = \"x\"",
            "not supported",
        );
    }

    // Without the `sqlite` feature a valid sqlite3 entry is refused at start-up, naming the
    // feature, rather than failing at the first query.
    #[cfg(not(feature = "sqlite"))]
    #[test]
    fn an_engine_not_compiled_in_names_the_feature() {
        assert_refused(
            "[DATABASES.default]\nENGINE = \"django.db.backends.sqlite3\"\nNAME = \"x\"",
            "`sqlite` feature",
        );
    }

    #[cfg(feature = "sqlite")]
    #[test]
    fn bad_values_name_the_setting_and_the_fix() {
        let cases = [
            (
                "[DATABASES.default]\nENGINE = \"django.db.backends.sqlite3\"",
                "NAME is empty",
            ),
            (
                "[DATABASES.default]\nENGINE = \"django.db.backends.sqlite3\"\nNAME = \"x\"\nCONN_MAX_AGE = -1",
                "CONN_MAX_AGE",
            ),
            (
                "[DATABASES.default]\nENGINE = \"django.db.backends.sqlite3\"\nNAME = \"x\"\nNAM = 1",
                "NAM",
            ),
            (
                "[DATABASES.default]\nENGINE = \"django.db.backends.sqlite3\"\nNAME = \"x\"\nOPTIONS = { timeout = \"x\" }",
                "OPTIONS.timeout",
            ),
        ];
        for (text, needle) in cases {
            assert_refused(text, needle);
        }
    }

    #[cfg(feature = "sqlite")]
    #[test]
    fn defaults_are_djangos_and_the_password_is_never_printed() {
        let c = read(
            "[DATABASES.default]\nENGINE = \"django.db.backends.sqlite3\"\nNAME = \":memory:\"\nPASSWORD = \"hunter2\"",
        )
        .unwrap();
        let c = &c[0];
        assert_eq!(c.conn_max_age, Some(Duration::ZERO), "CONN_MAX_AGE 0");
        assert!(!c.conn_health_checks);
        assert_eq!(
            c.statement_timeout,
            Duration::from_secs(5),
            "sqlite3 timeout"
        );
        assert!(!format!("{c:?}").contains("hunter2"));
        let c = read(
            "[DATABASES.default]\nENGINE = \"django.db.backends.sqlite3\"\nNAME = \"x\"\nCONN_MAX_AGE = \"None\"",
        )
        .unwrap();
        assert_eq!(c[0].conn_max_age, None);
    }
}
