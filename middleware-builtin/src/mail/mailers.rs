//! Django 6.1's `MAILERS`: named mail backends, each a `BACKEND` and its `OPTIONS`, read once at
//! start-up. Without `MAILERS` the one mailer, `"default"`, comes from the deprecated
//! `EMAIL_*` settings, as Django 6.1 still does (`RemovedInDjango2028Warning`).
//!
//! ```
//! use middleware_builtin::mail::{Backend, EmailConfig};
//!
//! let settings = middleware_core::Settings::from_toml_str(r#"
//!     [MAILERS.default]
//!     BACKEND = "django.core.mail.backends.smtp.EmailBackend"
//!     OPTIONS = { host = "smtp.example.com", use_tls = true }
//!     [MAILERS.bulk]
//!     BACKEND = "django.core.mail.backends.dummy.EmailBackend"
//! "#, "settings.toml").unwrap();
//! let config = EmailConfig::from_settings(&settings).unwrap();
//! let default = config.mailers.get(None).unwrap();
//! assert_eq!(default.backend, Backend::Smtp);
//! assert_eq!(default.smtp.port, 587); // Django's port for use_tls
//! assert_eq!(config.mailers.get(Some("bulk")).unwrap().backend, Backend::Dummy);
//! assert!(config.mailers.get(Some("newsletters")).is_none()); // MailerDoesNotExist
//! ```

use std::collections::BTreeMap;
use std::time::Duration;

use middleware_core::{Secret, SecretSetting, Settings, SettingsError};
use serde::Deserialize;

/// The alias Django sends with when none is given (`DEFAULT_MAILER_ALIAS`).
pub const DEFAULT_MAILER_ALIAS: &str = "default";

pub(super) const SMTP_BACKEND: &str = "django.core.mail.backends.smtp.EmailBackend";
pub(super) const CONSOLE_BACKEND: &str = "django.core.mail.backends.console.EmailBackend";
pub(super) const DUMMY_BACKEND: &str = "django.core.mail.backends.dummy.EmailBackend";

/// Which backend a mailer sends with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Backend {
    /// `django.core.mail.backends.smtp.EmailBackend` (the default; the `mail` feature).
    Smtp,
    /// `django.core.mail.backends.console.EmailBackend`: writes each message to stdout.
    Console,
    /// `django.core.mail.backends.dummy.EmailBackend`: sends nothing.
    Dummy,
}

impl Backend {
    /// The backend a dotted path names; `key` is the setting it came from, for the error.
    fn from_path(settings: &Settings, key: &str, path: &str) -> Result<Self, SettingsError> {
        match path {
            SMTP_BACKEND => Ok(Backend::Smtp),
            CONSOLE_BACKEND => Ok(Backend::Console),
            DUMMY_BACKEND => Ok(Backend::Dummy),
            other => Err(settings.invalid(
                key,
                format!("{other:?} is not a mail backend this build has"),
                format!("use {SMTP_BACKEND:?}, {CONSOLE_BACKEND:?} or {DUMMY_BACKEND:?}"),
            )),
        }
    }
}

/// Where and how the SMTP backend connects.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SmtpOptions {
    /// The server (`host`, or `EMAIL_HOST`, default `"localhost"`).
    pub host: String,
    /// The port (`port`; `EMAIL_PORT`, default 25; under `MAILERS` the default follows the TLS
    /// options: 465 with `use_ssl`, 587 with `use_tls`, else 25, as Django's backend).
    pub port: u16,
    /// With a password, the SMTP login (`username`, `EMAIL_HOST_USER`).
    pub username: String,
    /// `password`, `EMAIL_HOST_PASSWORD`.
    pub password: Secret,
    /// STARTTLS on a plain connection (`use_tls`, `EMAIL_USE_TLS`).
    pub use_tls: bool,
    /// Implicit TLS from the first byte (`use_ssl`, `EMAIL_USE_SSL`).
    pub use_ssl: bool,
    /// `timeout`, `EMAIL_TIMEOUT`, in seconds (none: the SMTP backend then uses 60 s, see
    /// docs/middleware/broken-link-emails.md).
    pub timeout: Option<Duration>,
}

/// One mailer: its backend and, for SMTP, where it connects.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct MailerConfig {
    /// The alias it is known by (`"default"` for the `EMAIL_*` one).
    pub alias: String,
    /// The setting it comes from, named in errors: `EMAIL_BACKEND` or `MAILERS.<alias>`.
    pub setting: String,
    /// `BACKEND` (or `EMAIL_BACKEND`; default SMTP).
    pub backend: Backend,
    /// The SMTP options (used by [`Backend::Smtp`] only).
    pub smtp: SmtpOptions,
}

/// The mailers of a settings file.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Mailers {
    /// No `MAILERS`: one `"default"` mailer from the `EMAIL_*` settings.
    Legacy(MailerConfig),
    /// `MAILERS`, by alias (possibly none: `MAILERS = {}` sends no mail at all).
    Configured(BTreeMap<String, MailerConfig>),
}

impl Mailers {
    /// Django's `mail.mailers[using]` (`None`: the default one); `None` when there is no such
    /// alias (Django's `MailerDoesNotExist`). Without `MAILERS` only `"default"` exists.
    pub fn get(&self, using: Option<&str>) -> Option<&MailerConfig> {
        let alias = using.unwrap_or(DEFAULT_MAILER_ALIAS);
        match self {
            Mailers::Legacy(config) => (alias == DEFAULT_MAILER_ALIAS).then_some(config),
            Mailers::Configured(by_alias) => by_alias.get(alias),
        }
    }

    /// `MAILERS` when it is set, the `EMAIL_*` settings otherwise.
    pub(super) fn from_declared(
        settings: &Settings,
        declared: MailerSettings,
    ) -> Result<Self, SettingsError> {
        match declared.mailers {
            None => legacy(settings, declared).map(Mailers::Legacy),
            Some(by_alias) => by_alias
                .into_iter()
                .map(|(alias, setting)| {
                    let config = setting.into_config(settings, &alias)?;
                    Ok((alias, config))
                })
                .collect::<Result<_, _>>()
                .map(Mailers::Configured),
        }
    }
}

middleware_core::declare_settings! {
    /// The settings the mailers are read from.
    pub struct MailerSettings {
        /// Django 6.1's named mailers: `[MAILERS.<alias>]` with `BACKEND` (default SMTP) and
        /// `OPTIONS` (`host`, `port`, `username`, `password`, `use_tls`, `use_ssl`, `timeout`,
        /// `fail_silently`). Set, it replaces the `EMAIL_*` mailer settings below; `MAILERS =
        /// {}` sends no mail. See [broken link e-mails](middleware/broken-link-emails.md)
        MAILERS => mailers: Option<BTreeMap<String, MailerSetting>> = unset,
        /// also `...console.EmailBackend` (stdout) and `...dummy.EmailBackend` (nothing). SMTP
        /// needs middleware-builtin's `mail` cargo feature (the example site has it); another
        /// value is a start-up error
        EMAIL_BACKEND => backend: String = "django.core.mail.backends.smtp.EmailBackend",
        /// the SMTP server
        EMAIL_HOST => host: String = "localhost",
        /// whatever the TLS settings, as Django's
        EMAIL_PORT => port: u16 = 25,
        /// with `EMAIL_HOST_PASSWORD`, the SMTP login (only when both are non-empty)
        EMAIL_HOST_USER => user: String = "",
        /// or `{ env = "VARIABLE" }`, read at start-up; never logged nor shown in `Debug` output
        EMAIL_HOST_PASSWORD => password: Option<SecretSetting> = unset("`\"\"`"),
        /// STARTTLS (rustls, the webpki root certificates)
        EMAIL_USE_TLS => use_tls: bool = false,
        /// implicit TLS; with `EMAIL_USE_TLS` too, start-up fails with Django's
        /// "EMAIL_USE_TLS/EMAIL_USE_SSL are mutually exclusive"
        EMAIL_USE_SSL => use_ssl: bool = false,
        /// seconds (a number) for the whole SMTP exchange of one message; unset: 60 s (Django:
        /// no timeout)
        EMAIL_TIMEOUT => timeout: Option<f64> = unset,
    }
}

fn password(
    settings: &Settings,
    key: &str,
    value: Option<SecretSetting>,
) -> Result<Secret, SettingsError> {
    value.map_or(Ok(Secret::default()), |password| {
        password.resolve().map_err(|env| {
            settings.invalid(
                key,
                format!("the environment variable {env} is not set"),
                format!("export {env}=... before starting"),
            )
        })
    })
}

fn seconds(
    settings: &Settings,
    key: &str,
    value: Option<f64>,
) -> Result<Option<Duration>, SettingsError> {
    value
        .map(|s| {
            Duration::try_from_secs_f64(s).map_err(|_| {
                settings.invalid(
                    key,
                    format!("{s} is not a number of seconds"),
                    "a positive number, e.g. 10",
                )
            })
        })
        .transpose()
}

/// The mailer the `EMAIL_*` settings describe.
fn legacy(settings: &Settings, declared: MailerSettings) -> Result<MailerConfig, SettingsError> {
    let (use_tls, use_ssl) = (declared.use_tls, declared.use_ssl);
    if use_tls && use_ssl {
        return Err(settings.invalid(
            "EMAIL_USE_SSL",
            "EMAIL_USE_TLS/EMAIL_USE_SSL are mutually exclusive, so only set one of those settings to True.",
            "EMAIL_USE_TLS is STARTTLS (usually port 587), EMAIL_USE_SSL implicit TLS (usually port 465)",
        ));
    }
    Ok(MailerConfig {
        alias: DEFAULT_MAILER_ALIAS.to_owned(),
        setting: "EMAIL_BACKEND".to_owned(),
        backend: Backend::from_path(settings, "EMAIL_BACKEND", &declared.backend)?,
        smtp: SmtpOptions {
            host: declared.host,
            port: declared.port,
            username: declared.user,
            password: password(settings, "EMAIL_HOST_PASSWORD", declared.password)?,
            use_tls,
            use_ssl,
            timeout: seconds(settings, "EMAIL_TIMEOUT", declared.timeout)?,
        },
    })
}

/// One `MAILERS` entry as written.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailerSetting {
    #[serde(rename = "BACKEND")]
    backend: Option<String>,
    #[serde(rename = "OPTIONS", default)]
    options: OptionsSetting,
}

/// The `OPTIONS` Django's built-in backends take; any other is an error, as Django's
/// `InvalidMailer("Unknown options ...")`.
#[derive(Clone, Deserialize, Default)]
struct OptionsSetting {
    host: Option<String>,
    port: Option<u16>,
    username: Option<String>,
    password: Option<SecretSetting>,
    use_tls: Option<bool>,
    use_ssl: Option<bool>,
    timeout: Option<f64>,
    // Accepted and moot: a failed send is always logged, never raised (see MailQueue).
    #[serde(rename = "fail_silently")]
    _fail_silently: Option<bool>,
    #[serde(flatten)]
    other: BTreeMap<String, toml::Value>,
}

impl std::fmt::Debug for MailerSetting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The options may hold a password.
        f.debug_struct("MailerSetting")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

impl MailerSetting {
    fn into_config(self, settings: &Settings, alias: &str) -> Result<MailerConfig, SettingsError> {
        let key = format!("MAILERS.{alias}");
        let backend = Backend::from_path(
            settings,
            &format!("{key}.BACKEND"),
            self.backend.as_deref().unwrap_or(SMTP_BACKEND),
        )?;
        let key = format!("{key}.OPTIONS");
        let o = self.options;
        let mut unknown: Vec<String> = o.other.keys().map(|k| format!("{k:?}")).collect();
        if o.other.contains_key("alias") {
            return Err(settings.invalid(
                &key,
                "OPTIONS must not define 'alias'.",
                "remove `alias`: the mailer's alias is its key in MAILERS",
            ));
        }
        if backend != Backend::Smtp {
            let smtp_only = [
                ("host", o.host.is_some()),
                ("port", o.port.is_some()),
                ("username", o.username.is_some()),
                ("password", o.password.is_some()),
                ("use_tls", o.use_tls.is_some()),
                ("use_ssl", o.use_ssl.is_some()),
                ("timeout", o.timeout.is_some()),
            ];
            unknown.extend(
                smtp_only
                    .iter()
                    .filter(|(_, set)| *set)
                    .map(|(name, _)| format!("{name:?}")),
            );
        }
        if !unknown.is_empty() {
            unknown.sort();
            return Err(settings.invalid(
                &key,
                format!("Unknown options {}.", unknown.join(", ")),
                "the SMTP backend takes host, port, username, password, use_tls, use_ssl, \
                 timeout and fail_silently; the console and dummy backends only fail_silently \
                 (ssl_keyfile / ssl_certfile are not supported here)",
            ));
        }
        let (use_tls, use_ssl) = (o.use_tls.unwrap_or(false), o.use_ssl.unwrap_or(false));
        if use_tls && use_ssl {
            return Err(settings.invalid(
                &key,
                "The 'use_ssl' and 'use_tls' OPTIONS are incompatible. Set at most one of them to True.",
                "use_tls is STARTTLS (usually port 587), use_ssl implicit TLS (usually port 465)",
            ));
        }
        let host = match (backend, o.host) {
            (_, Some(host)) => host,
            (Backend::Smtp, None) => {
                return Err(settings.invalid(
                    &key,
                    "OPTIONS must define 'host'.",
                    "add host = \"smtp.example.com\" to the mailer's OPTIONS",
                ))
            }
            (_, None) => String::new(),
        };
        let default_port = if use_ssl {
            465
        } else if use_tls {
            587
        } else {
            25
        };
        Ok(MailerConfig {
            alias: alias.to_owned(),
            setting: format!("MAILERS.{alias}"),
            backend,
            smtp: SmtpOptions {
                host,
                port: o.port.unwrap_or(default_port),
                username: o.username.unwrap_or_default(),
                password: password(settings, &key, o.password)?,
                use_tls,
                use_ssl,
                timeout: seconds(settings, &key, o.timeout)?,
            },
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn mailers(toml: &str) -> Result<Mailers, SettingsError> {
        let settings = Settings::from_toml_str(toml, "t.toml").unwrap();
        Mailers::from_declared(&settings, MailerSettings::from_settings(&settings)?)
    }

    fn error(toml: &str) -> String {
        mailers(toml).unwrap_err().to_string()
    }

    // Django: tests/mail/test_mailers.py — the default mailer falls back to the deprecated
    // EMAIL_* settings when MAILERS is not defined.
    #[test]
    fn without_mailers_the_default_comes_from_the_email_settings() {
        let m = mailers("EMAIL_HOST = \"mx\"\nEMAIL_PORT = 2525\nEMAIL_USE_TLS = true").unwrap();
        let default = m.get(None).unwrap();
        assert_eq!(default.alias, "default");
        assert_eq!(
            (default.smtp.host.as_str(), default.smtp.port),
            ("mx", 2525)
        );
        assert!(default.smtp.use_tls);
        assert_eq!(m.get(Some("default")), Some(default));
        assert!(m.get(Some("other")).is_none());
        // EMAIL_PORT stays 25 whatever the TLS settings, as Django's deprecated path.
        assert_eq!(
            mailers("EMAIL_USE_SSL = true")
                .unwrap()
                .get(None)
                .unwrap()
                .smtp
                .port,
            25
        );
    }

    // Django: tests/middleware/tests.py::BrokenLinkEmailsMiddlewareTest::
    // test_no_error_when_email_not_configured (MAILERS={}): no mailer, no error.
    #[test]
    fn empty_mailers_has_no_default() {
        assert!(mailers("[MAILERS]").unwrap().get(None).is_none());
        // MAILERS set: the EMAIL_* settings no longer make a mailer.
        let m = mailers("EMAIL_HOST = \"mx\"\n[MAILERS.bulk]\nOPTIONS = { host = \"a\" }").unwrap();
        assert!(m.get(None).is_none());
        assert_eq!(m.get(Some("bulk")).unwrap().smtp.host, "a");
    }

    // Django: django/core/mail/backends/smtp.py — the port follows use_ssl / use_tls.
    #[test]
    fn smtp_port_defaults_follow_the_tls_options() {
        let port = |options: &str| {
            mailers(&format!(
                "[MAILERS.default]\nOPTIONS = {{ host = \"h\"{options} }}"
            ))
            .unwrap()
            .get(None)
            .unwrap()
            .smtp
            .port
        };
        assert_eq!(port(""), 25);
        assert_eq!(port(", use_tls = true"), 587);
        assert_eq!(port(", use_ssl = true"), 465);
        assert_eq!(port(", use_ssl = true, port = 2465"), 2465);
    }

    // Django's InvalidMailer messages (django/core/mail/handler.py, backends/base.py and
    // backends/smtp.py), raised here at start-up instead of at the first send.
    #[test]
    fn invalid_mailers_fail_at_start_up_with_djangos_messages() {
        let e =
            error("[MAILERS.default]\nBACKEND = \"django.core.mail.backends.smtp.EmailBackend\"");
        assert!(
            e.contains("MAILERS.default.OPTIONS") && e.contains("OPTIONS must define 'host'."),
            "{e}"
        );
        let e =
            error("[MAILERS.default]\nOPTIONS = { host = \"h\", use_tls = true, use_ssl = true }");
        assert!(
            e.contains("The 'use_ssl' and 'use_tls' OPTIONS are incompatible."),
            "{e}"
        );
        let e = error("[MAILERS.default]\nOPTIONS = { host = \"h\", hots = 1 }");
        assert!(e.contains("Unknown options \"hots\"."), "{e}");
        let e = error("[MAILERS.default]\nOPTIONS = { host = \"h\", alias = \"x\" }");
        assert!(e.contains("OPTIONS must not define 'alias'."), "{e}");
        let e = error("[MAILERS.x]\nBACKEND = \"django.core.mail.backends.dummy.EmailBackend\"\nOPTIONS = { host = \"h\" }");
        assert!(e.contains("Unknown options \"host\"."), "{e}");
        let e = error("[MAILERS.x]\nBACKEND = \"myapp.Backend\"");
        assert!(
            e.contains("MAILERS.x.BACKEND") && e.contains("not a mail backend"),
            "{e}"
        );
        let e = error("[MAILERS.x]\nOPTIONS = { host = \"h\" }\nBACKNED = 1");
        assert!(e.contains("BACKNED"), "{e}");
        let e = error("[MAILERS.default]\nOPTIONS = { host = \"h\", timeout = -1 }");
        assert!(e.contains("not a number of seconds"), "{e}");
    }

    #[test]
    fn mailer_passwords_come_from_the_environment_and_stay_out_of_debug() {
        let m = mailers(
            "[MAILERS.default]\nOPTIONS = { host = \"h\", username = \"u\", password = { env = \"PATH\" } }",
        )
        .unwrap();
        let smtp = &m.get(None).unwrap().smtp;
        assert_eq!(smtp.password.expose(), std::env::var("PATH").unwrap());
        assert!(!format!("{m:?}").contains(smtp.password.expose()));
        let e = error("[MAILERS.default]\nOPTIONS = { host = \"h\", password = { env = \"NO_SUCH_MAILER_VAR\" } }");
        assert!(e.contains("NO_SUCH_MAILER_VAR"), "{e}");
    }
}
