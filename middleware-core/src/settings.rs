//! Settings: one TOML file with Django's setting names, read once at start-up into typed values.
//!
//! ```
//! use middleware_core::Settings;
//!
//! let settings = Settings::from_toml_str(r#"
//!     DEBUG = true
//!     ALLOWED_HOSTS = ["example.com"]
//!     MIDDLEWARE = ["django.middleware.security.SecurityMiddleware"]
//!     SECURE_HSTS_SECONDS = 3600
//! "#, "inline").unwrap();
//! assert!(settings.core().debug);
//! assert_eq!(settings.get_or("SECURE_HSTS_SECONDS", 0u64).unwrap(), 3600);
//! assert_eq!(settings.get_or("SECURE_HSTS_PRELOAD", false).unwrap(), false);
//! ```
//!
//! Every key is checked against the settings that the core and the registered middleware
//! declare; an unknown key is a start-up error that names it and suggests the closest known name.
//! Settings can also be built in code, e.g. by a framework that embeds the chain:
//!
//! ```
//! use middleware_core::Settings;
//!
//! let settings = Settings::builder()
//!     .set("ALLOWED_HOSTS", vec!["example.com"])
//!     .set("MIDDLEWARE", vec!["SecurityMiddleware"])
//!     .set("SECURE_HSTS_SECONDS", 3600)
//!     .build()
//!     .unwrap();
//! assert_eq!(settings.core().middleware, ["SecurityMiddleware"]);
//! ```
//!
//! `SECRET_KEY` may come from the environment: `SECRET_KEY = { env = "MY_SECRET" }`, or, when the
//! file has no `SECRET_KEY`, from the `SECRET_KEY` environment variable.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use serde::de::DeserializeOwned;

/// One setting as declared: its name, its type and default as shown to people, and what it
/// does. The registry knows every declared name; `docs/settings.md` has one
/// [`reference_row`](Setting::reference_row) per setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Setting {
    /// Django's name, e.g. `SECURE_HSTS_SECONDS`.
    pub name: &'static str,
    /// The Rust type it is read as.
    pub rust_type: &'static str,
    /// The default as the reference shows it (Markdown): `` `0` ``, `unset`, a phrase.
    pub default: &'static str,
    /// What it does, in one line of Markdown (may be empty).
    pub doc: &'static str,
}

impl Setting {
    /// The row of the settings reference: `` | `NAME` | default | doc | ``.
    pub fn reference_row(&self) -> String {
        let doc = self.doc.trim();
        let doc = if doc.is_empty() {
            String::from(" ")
        } else {
            format!(" {doc} ")
        };
        // `stringify!` may break a long default over lines; a table row is one line.
        let default: Vec<&str> = self.default.lines().map(str::trim).collect();
        format!("| `{}` | {} |{doc}|", self.name, default.join(" "))
    }
}

const fn core(
    name: &'static str,
    rust_type: &'static str,
    default: &'static str,
    doc: &'static str,
) -> Setting {
    Setting {
        name,
        rust_type,
        default,
        doc,
    }
}

/// The settings the core itself reads, with Django's names and defaults. Read by hand (the
/// secret from the environment, the proxy header converted, `false` for no limit), so declared
/// here rather than through [`declare_settings!`](crate::declare_settings).
pub const CORE_SETTINGS: &[Setting] = &[
    core("DEBUG", "bool", "`false`", "error pages, `ALLOWED_HOSTS` relaxation, `MiddlewareNotUsed` logging"),
    core("SECRET_KEY", "Secret", "the `SECRET_KEY` environment variable, else `\"\"`", "signing (sessions, messages, CSRF). May be `{ env = \"VARIABLE\" }`. Empty or missing: with `DEBUG = false` the server refuses to start (\"The SECRET_KEY setting must not be empty.\"); with `DEBUG = true` it starts with a warning, but every middleware that signs (sessions, authentication, cookie messages) refuses to be built. Nothing ever signs or verifies with an empty key. `check --deploy` reports weak keys (W009)"),
    core("SECRET_KEY_FALLBACKS", "Vec<Secret>", "`[]`", "signatures made with older keys are still accepted"),
    core("ALLOWED_HOSTS", "Vec<String>", "`[]`", "`get_host()`; with `DEBUG` and an empty list, `.localhost`, `127.0.0.1`, `[::1]`"),
    core("MIDDLEWARE", "Vec<String>", "`[]`", "the chain, outermost first; Rust names or Django's dotted paths"),
    core("SECURE_PROXY_SSL_HEADER", "Option<(HeaderName, String)>", "unset", "`[\"HTTP_X_FORWARDED_PROTO\", \"https\"]`: `is_secure()` behind a proxy"),
    core("USE_X_FORWARDED_HOST", "bool", "`false`", "`get_host()` prefers `X-Forwarded-Host`"),
    core("USE_X_FORWARDED_PORT", "bool", "`false`", "the port Django reports prefers `X-Forwarded-Port`"),
    core("DATA_UPLOAD_MAX_MEMORY_SIZE", "Option<usize>", "`2621440`", "`body_bytes()` / `post()` limit; `false` (or a negative number) for Django's `None`"),
    core("DATA_UPLOAD_MAX_NUMBER_FIELDS", "Option<usize>", "`1000`", "`post()` field limit; `false` for `None`"),
    core("DEFAULT_CHARSET", "String", "`\"utf-8\"`", "accepted for compatibility; only `\"utf-8\"` is supported (responses are built as UTF-8)"),
    core("APPEND_SLASH", "bool", "`true`", "`CommonMiddleware`"),
];

/// A secret as a settings file writes it: the text, or `{ env = "VARIABLE" }` to read it from
/// the environment at start-up (a password in `DATABASES` or `MAILERS`). `Debug` shows the
/// variable's name, never the text.
#[derive(Clone, serde::Deserialize)]
#[serde(untagged)]
pub enum SecretSetting {
    /// The secret itself.
    Plain(String),
    /// The environment variable holding it.
    Env {
        /// The variable's name.
        env: String,
    },
}

impl fmt::Debug for SecretSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretSetting::Plain(_) => f.write_str("Plain(****)"),
            SecretSetting::Env { env } => f.debug_struct("Env").field("env", env).finish(),
        }
    }
}

impl SecretSetting {
    /// The secret; `Err` with the variable's name when that environment variable is not set.
    pub fn resolve(self) -> Result<Secret, String> {
        match self {
            SecretSetting::Plain(text) => Ok(Secret::new(text)),
            SecretSetting::Env { env } => std::env::var(&env).map(Secret::new).map_err(|_| env),
        }
    }
}

/// A secret string (`SECRET_KEY`): never printed by `Debug`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    /// The secret's bytes, for key derivation.
    pub fn expose(&self) -> &str {
        &self.0
    }
    /// Whether the secret is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(****)")
    }
}

/// The core settings, typed. Read once; cheap to share (`Arc`).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct CoreSettings {
    /// `DEBUG` (default `false`).
    pub debug: bool,
    /// `SECRET_KEY` (default empty: anything that signs refuses to start without one).
    pub secret_key: Secret,
    /// `SECRET_KEY_FALLBACKS` (default `[]`): older keys still accepted when verifying.
    pub secret_key_fallbacks: Vec<Secret>,
    /// `ALLOWED_HOSTS` (default `[]`; with `DEBUG` an empty list allows the localhost names).
    pub allowed_hosts: Vec<String>,
    /// `MIDDLEWARE`, outermost first (default `[]`).
    pub middleware: Vec<String>,
    /// `SECURE_PROXY_SSL_HEADER` as (request header name, value), e.g. (`x-forwarded-proto`,
    /// `https`); Django's `HTTP_` META name is converted to the header name.
    pub secure_proxy_ssl_header: Option<(http::HeaderName, String)>,
    /// `USE_X_FORWARDED_HOST` (default `false`).
    pub use_x_forwarded_host: bool,
    /// `USE_X_FORWARDED_PORT` (default `false`).
    pub use_x_forwarded_port: bool,
    /// `DATA_UPLOAD_MAX_MEMORY_SIZE` (default 2.5 MiB; `None` = no limit).
    pub data_upload_max_memory_size: Option<usize>,
    /// `DATA_UPLOAD_MAX_NUMBER_FIELDS` (default 1000; `None` = no limit).
    pub data_upload_max_number_fields: Option<usize>,
    /// `APPEND_SLASH` (default `true`).
    pub append_slash: bool,
}

/// What is wrong with a settings file. Each message names the setting and how to fix it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SettingsError {
    /// The file could not be read.
    #[error("cannot read settings file {path}: {source}. Fix: pass an existing file with --settings PATH")]
    Io {
        /// The path that was tried.
        path: String,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML.
    #[error("settings file {path} is not valid TOML: {message}")]
    Parse {
        /// The file.
        path: String,
        /// The parser's message, with line and column.
        message: String,
    },
    /// A key no component knows.
    #[error("unknown setting {key} in {path}{}. Fix: remove it or correct its name", suggest(.suggestions))]
    UnknownKey {
        /// The file.
        path: String,
        /// The unknown key.
        key: String,
        /// The closest known names.
        suggestions: Vec<String>,
    },
    /// `SECRET_KEY` is empty or missing where something needs it: anyone could forge what is
    /// signed with an empty key (sessions, a logged-in user, messages), so nothing starts.
    #[error("The SECRET_KEY setting must not be empty ({path}{}). Fix: {SECRET_KEY_FIX}", if *.debug { "" } else { ", DEBUG = false" })]
    EmptySecretKey {
        /// The file.
        path: String,
        /// Whether `DEBUG` was on (then only the middleware that sign refuse to start).
        debug: bool,
    },
    /// A key whose value has the wrong type or is out of range.
    #[error("invalid setting {key} in {path}: {message}. Fix: {hint}")]
    Invalid {
        /// The file.
        path: String,
        /// The setting.
        key: String,
        /// What was wrong.
        message: String,
        /// How to fix it.
        hint: String,
    },
}

const SECRET_KEY_FIX: &str = "set SECRET_KEY = { env = \"DJANGO_SECRET_KEY\" } and export a long random \
     value (python3 -c 'import secrets; print(secrets.token_urlsafe(50))'), or write it in the \
     settings file; for local development only, DEBUG = true starts without the middleware that sign";

fn suggest(suggestions: &[String]) -> String {
    if suggestions.is_empty() {
        String::new()
    } else {
        format!(" (did you mean {}?)", suggestions.join(" or "))
    }
}

/// Parsed settings: the raw table, where middleware read their own typed values, and the
/// typed core settings.
#[derive(Clone)]
pub struct Settings {
    table: toml::Table,
    path: Arc<str>,
    core: Arc<CoreSettings>,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Values may be secrets: show only which keys are set.
        f.debug_struct("Settings")
            .field("path", &self.path)
            .field("keys", &self.table.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Default for Settings {
    fn default() -> Self {
        match Settings::from_table(toml::Table::new(), "<defaults>") {
            Ok(s) => s,
            // The empty table always parses; keep a fallback rather than a panic.
            Err(_) => Settings {
                table: toml::Table::new(),
                path: Arc::from("<defaults>"),
                core: Arc::new(CoreSettings::defaults()),
            },
        }
    }
}

impl CoreSettings {
    /// Django refuses to run with an empty `SECRET_KEY`. With `DEBUG = false` that is an error
    /// (the server calls this before it listens, so a site does not start); with
    /// `DEBUG = true` a loud warning, and still only the middleware that sign refuse to be
    /// built (see [`Settings::signing_key`]). `source` names the settings in the message.
    pub fn check_secret_key(&self, source: &str) -> Result<(), SettingsError> {
        if !self.secret_key.is_empty() {
            return Ok(());
        }
        if !self.debug {
            return Err(SettingsError::EmptySecretKey {
                path: source.to_owned(),
                debug: false,
            });
        }
        tracing::warn!(
            settings = %source,
            "SECRET_KEY is empty: DEBUG = true lets the site start, but sessions, logins and \
             signed cookies refuse to work until it is set; never deploy like this"
        );
        Ok(())
    }

    fn defaults() -> Self {
        CoreSettings {
            debug: false,
            secret_key: Secret::default(),
            secret_key_fallbacks: Vec::new(),
            allowed_hosts: Vec::new(),
            middleware: Vec::new(),
            secure_proxy_ssl_header: None,
            use_x_forwarded_host: false,
            use_x_forwarded_port: false,
            data_upload_max_memory_size: Some(2_621_440),
            data_upload_max_number_fields: Some(1000),
            append_slash: true,
        }
    }
}

/// Builds [`Settings`] in code; see [`Settings::builder`].
#[derive(Clone, Default)]
pub struct SettingsBuilder {
    table: toml::Table,
    source: Option<String>,
}

impl fmt::Debug for SettingsBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Values may be secrets: show only which keys are set.
        f.debug_struct("SettingsBuilder")
            .field("keys", &self.table.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl SettingsBuilder {
    /// Sets `key` to `value` (a later call for the same key replaces it).
    pub fn set(mut self, key: &str, value: impl Into<toml::Value>) -> Self {
        self.table.insert(key.to_owned(), value.into());
        self
    }

    /// Names the settings in error messages (default `<code>`).
    pub fn source(mut self, name: &str) -> Self {
        self.source = Some(name.to_owned());
        self
    }

    /// Reads the core settings; a value of the wrong type is an error naming its key.
    pub fn build(self) -> Result<Settings, SettingsError> {
        let source = self.source.as_deref().unwrap_or("<code>");
        Settings::from_table(self.table, source)
    }
}

impl Settings {
    /// Starts building settings in code, with each key checked when [`SettingsBuilder::build`]
    /// reads the core settings (and, as for a file, against the registry when a chain is built).
    pub fn builder() -> SettingsBuilder {
        SettingsBuilder::default()
    }

    /// Reads and parses a TOML settings file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, SettingsError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| SettingsError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Settings::from_toml_str(&text, &path.display().to_string())
    }

    /// Parses settings from TOML text; `source` names it in error messages.
    pub fn from_toml_str(text: &str, source: &str) -> Result<Self, SettingsError> {
        let table: toml::Table =
            text.parse()
                .map_err(|e: toml::de::Error| SettingsError::Parse {
                    path: source.to_owned(),
                    message: e.to_string().trim().to_owned(),
                })?;
        Settings::from_table(table, source)
    }

    /// Settings from a table built in code.
    pub fn from_table(table: toml::Table, source: &str) -> Result<Self, SettingsError> {
        let mut settings = Settings {
            table,
            path: Arc::from(source),
            core: Arc::new(CoreSettings::defaults()),
        };
        settings.core = Arc::new(settings.read_core()?);
        Ok(settings)
    }

    /// Sets `key` (for settings built in code and for tests) and re-reads the core settings.
    pub fn set(&mut self, key: &str, value: impl Into<toml::Value>) -> Result<(), SettingsError> {
        self.table.insert(key.to_owned(), value.into());
        self.core = Arc::new(self.read_core()?);
        Ok(())
    }

    /// Where the settings came from (a path, or a name given by the caller).
    pub fn source(&self) -> &str {
        &self.path
    }

    /// The typed core settings.
    pub fn core(&self) -> &Arc<CoreSettings> {
        &self.core
    }

    /// Whether `key` is set.
    pub fn contains(&self, key: &str) -> bool {
        self.table.contains_key(key)
    }

    /// The keys that are set.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.table.keys().map(String::as_str)
    }

    /// The value of `key` as `T`, or `None` when unset. A value of the wrong type is an error
    /// that names the key.
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, SettingsError> {
        let Some(value) = self.table.get(key) else {
            return Ok(None);
        };
        value
            .clone()
            .try_into()
            .map(Some)
            .map_err(|e: toml::de::Error| {
                self.invalid(
                    key,
                    format!("{} (found {})", e.message().trim(), describe(value)),
                    format!("give {key} a value of the type Django documents for it"),
                )
            })
    }

    /// The value of `key` as `T`, or `default` when unset.
    pub fn get_or<T: DeserializeOwned>(&self, key: &str, default: T) -> Result<T, SettingsError> {
        Ok(self.get(key)?.unwrap_or(default))
    }

    /// `SECRET_KEY` as bytes, for whatever signs or verifies with it (sessions, the session auth
    /// hash, signed cookies, messages); an empty key is [`SettingsError::EmptySecretKey`], so no
    /// such middleware starts with one, whatever `DEBUG` says.
    pub fn signing_key(&self) -> Result<&[u8], SettingsError> {
        let key = self.core.secret_key.expose().as_bytes();
        if key.is_empty() {
            return Err(self.empty_secret_key());
        }
        Ok(key)
    }

    /// [`CoreSettings::check_secret_key`] for these settings.
    pub fn check_secret_key(&self) -> Result<(), SettingsError> {
        self.core.check_secret_key(&self.path)
    }

    fn empty_secret_key(&self) -> SettingsError {
        SettingsError::EmptySecretKey {
            path: self.path.to_string(),
            debug: self.core.debug,
        }
    }

    /// An [`SettingsError::Invalid`] for `key`, for middleware that validate their own settings.
    pub fn invalid(
        &self,
        key: &str,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> SettingsError {
        SettingsError::Invalid {
            path: self.path.to_string(),
            key: key.to_owned(),
            message: message.into(),
            hint: hint.into(),
        }
    }

    /// Fails on the first key that is not in `known`, suggesting the closest known names.
    pub fn check_known<'a>(
        &self,
        known: impl IntoIterator<Item = &'a str> + Clone,
    ) -> Result<(), SettingsError> {
        for key in self.table.keys() {
            if !known.clone().into_iter().any(|k| k == key) {
                return Err(SettingsError::UnknownKey {
                    path: self.path.to_string(),
                    key: key.clone(),
                    suggestions: crate::suggest::closest(key, known.into_iter()),
                });
            }
        }
        Ok(())
    }

    fn read_core(&self) -> Result<CoreSettings, SettingsError> {
        let d = CoreSettings::defaults();
        let secret_key = match self.table.get("SECRET_KEY") {
            None => Secret::new(std::env::var("SECRET_KEY").unwrap_or_default()),
            Some(toml::Value::String(s)) => Secret::new(s.clone()),
            Some(toml::Value::Table(t)) => match t.get("env") {
                Some(toml::Value::String(var)) => {
                    Secret::new(std::env::var(var).map_err(|_| {
                        self.invalid(
                            "SECRET_KEY",
                            format!("the environment variable {var} is not set"),
                            format!("export {var}=<a long random string> before starting"),
                        )
                    })?)
                }
                _ => return Err(self.invalid(
                    "SECRET_KEY",
                    "a table must be { env = \"VARIABLE\" }",
                    "write SECRET_KEY = \"...\" or SECRET_KEY = { env = \"DJANGO_SECRET_KEY\" }",
                )),
            },
            Some(other) => {
                return Err(self.invalid(
                    "SECRET_KEY",
                    format!("expected a string, found {}", describe(other)),
                    "write SECRET_KEY = \"...\" or SECRET_KEY = { env = \"DJANGO_SECRET_KEY\" }",
                ))
            }
        };
        let fallbacks: Vec<String> = self.get_or("SECRET_KEY_FALLBACKS", Vec::new())?;
        let secure_proxy_ssl_header = match self.get::<Vec<String>>("SECURE_PROXY_SSL_HEADER")? {
            None => None,
            Some(pair) if pair.len() == 2 => Some((
                meta_to_header(&pair[0]).ok_or_else(|| {
                    self.invalid(
                        "SECURE_PROXY_SSL_HEADER",
                        format!("{:?} is not a valid header name", pair[0]),
                        "use Django's META form, e.g. [\"HTTP_X_FORWARDED_PROTO\", \"https\"]",
                    )
                })?,
                pair[1].clone(),
            )),
            Some(_) => {
                return Err(self.invalid(
                    "SECURE_PROXY_SSL_HEADER",
                    "must be a list of two strings (header, value)",
                    "write SECURE_PROXY_SSL_HEADER = [\"HTTP_X_FORWARDED_PROTO\", \"https\"]",
                ))
            }
        };
        Ok(CoreSettings {
            debug: self.get_or("DEBUG", d.debug)?,
            secret_key,
            secret_key_fallbacks: fallbacks.into_iter().map(Secret::new).collect(),
            allowed_hosts: self.get_or("ALLOWED_HOSTS", d.allowed_hosts)?,
            middleware: self.get_or("MIDDLEWARE", d.middleware)?,
            secure_proxy_ssl_header,
            use_x_forwarded_host: self.get_or("USE_X_FORWARDED_HOST", false)?,
            use_x_forwarded_port: self.get_or("USE_X_FORWARDED_PORT", false)?,
            data_upload_max_memory_size: self
                .optional_limit("DATA_UPLOAD_MAX_MEMORY_SIZE", d.data_upload_max_memory_size)?,
            data_upload_max_number_fields: self.optional_limit(
                "DATA_UPLOAD_MAX_NUMBER_FIELDS",
                d.data_upload_max_number_fields,
            )?,
            append_slash: self.get_or("APPEND_SLASH", d.append_slash)?,
        })
    }

    /// A size limit where Django's `None` (no limit) is written as `false` or a negative number.
    fn optional_limit(
        &self,
        key: &str,
        default: Option<usize>,
    ) -> Result<Option<usize>, SettingsError> {
        match self.table.get(key) {
            None => Ok(default),
            Some(toml::Value::Boolean(false)) => Ok(None),
            Some(toml::Value::Integer(n)) if *n < 0 => Ok(None),
            Some(toml::Value::Integer(n)) => Ok(Some(usize::try_from(*n).unwrap_or(usize::MAX))),
            Some(other) => Err(self.invalid(
                key,
                format!(
                    "expected a number of bytes or fields, found {}",
                    describe(other)
                ),
                format!("write {key} = 2621440, or {key} = false for no limit"),
            )),
        }
    }
}

/// Django's `META` header name (`HTTP_X_FORWARDED_PROTO`) as an HTTP header name
/// (`x-forwarded-proto`). Plain header names are accepted too.
pub fn meta_to_header(meta: &str) -> Option<http::HeaderName> {
    let name = meta.strip_prefix("HTTP_").unwrap_or(meta);
    let name = name.replace('_', "-").to_ascii_lowercase();
    http::HeaderName::from_bytes(name.as_bytes()).ok()
}

fn describe(value: &toml::Value) -> String {
    match value {
        toml::Value::String(s) => format!("string {s:?}"),
        toml::Value::Integer(i) => format!("integer {i}"),
        toml::Value::Float(f) => format!("float {f}"),
        toml::Value::Boolean(b) => format!("boolean {b}"),
        toml::Value::Datetime(d) => format!("datetime {d}"),
        toml::Value::Array(_) => "a list".to_owned(),
        toml::Value::Table(_) => "a table".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The one reader of `PASSWORD = { env = "VAR" }` in DATABASES and MAILERS.
    #[test]
    fn secret_settings_read_the_environment_and_stay_out_of_debug() {
        let plain: SecretSetting = toml::Value::String("hunter2".into()).try_into().unwrap();
        assert!(!format!("{plain:?}").contains("hunter2"));
        assert_eq!(plain.resolve().unwrap().expose(), "hunter2");
        let from_env: SecretSetting = toml::from_str("env = \"PATH\"").unwrap();
        let path = std::env::var("PATH").unwrap();
        assert_eq!(from_env.resolve().unwrap().expose(), path);
        let missing: SecretSetting = toml::from_str("env = \"NO_SUCH_SECRET_VAR_MW\"").unwrap();
        assert_eq!(missing.resolve().unwrap_err(), "NO_SUCH_SECRET_VAR_MW");
    }

    #[test]
    fn defaults_are_djangos() {
        let s = Settings::default();
        let c = s.core();
        assert!(!c.debug);
        assert!(c.allowed_hosts.is_empty());
        assert_eq!(c.data_upload_max_memory_size, Some(2_621_440));
        assert_eq!(c.data_upload_max_number_fields, Some(1000));
        assert!(c.append_slash);
    }

    #[test]
    fn wrong_type_names_the_key_and_the_fix() {
        let err = Settings::from_toml_str("DEBUG = \"yes\"", "site.toml").unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("DEBUG") && msg.contains("site.toml") && msg.contains("string \"yes\""),
            "{msg}"
        );
    }

    #[test]
    fn unknown_key_is_named_with_a_suggestion() {
        let s = Settings::from_toml_str("ALLOWED_HOST = [\"x\"]", "site.toml").unwrap();
        let msg = s
            .check_known(CORE_SETTINGS.iter().map(|s| s.name))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("unknown setting ALLOWED_HOST"), "{msg}");
        assert!(msg.contains("did you mean ALLOWED_HOSTS"), "{msg}");
    }

    #[test]
    fn toml_syntax_error_names_the_file_and_line() {
        let msg = Settings::from_toml_str("DEBUG = ", "site.toml")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("site.toml") && msg.contains("line 1"), "{msg}");
    }

    #[test]
    fn proxy_header_is_converted_from_meta_form() {
        let s = Settings::from_toml_str(
            "SECURE_PROXY_SSL_HEADER = [\"HTTP_X_FORWARDED_PROTO\", \"https\"]",
            "t",
        )
        .unwrap();
        let (name, value) = s.core().secure_proxy_ssl_header.clone().unwrap();
        assert_eq!(name, "x-forwarded-proto");
        assert_eq!(value, "https");
        let err = Settings::from_toml_str("SECURE_PROXY_SSL_HEADER = [\"a\"]", "t").unwrap_err();
        assert!(err.to_string().contains("SECURE_PROXY_SSL_HEADER"));
    }

    #[test]
    fn secret_key_from_env_table_and_never_debug_printed() {
        std::env::set_var("MWCORE_TEST_SECRET", "s3cr3t-value");
        let s =
            Settings::from_toml_str("SECRET_KEY = { env = \"MWCORE_TEST_SECRET\" }", "t").unwrap();
        assert_eq!(s.core().secret_key.expose(), "s3cr3t-value");
        assert!(!format!("{:?} {:?}", s, s.core()).contains("s3cr3t"));
        let err = Settings::from_toml_str("SECRET_KEY = { env = \"MWCORE_TEST_UNSET_VAR\" }", "t")
            .unwrap_err();
        assert!(err.to_string().contains("MWCORE_TEST_UNSET_VAR"));
    }

    #[test]
    fn upload_limits_accept_false_for_none() {
        let s = Settings::from_toml_str(
            "DATA_UPLOAD_MAX_MEMORY_SIZE = false\nDATA_UPLOAD_MAX_NUMBER_FIELDS = 5",
            "t",
        )
        .unwrap();
        assert_eq!(s.core().data_upload_max_memory_size, None);
        assert_eq!(s.core().data_upload_max_number_fields, Some(5));
    }
}
