//! The part of Django's `django.core.mail` the built-ins need: the `EMAIL_*` settings, read once
//! at start-up into [`EmailConfig`], `mail_managers` ([`EmailConfig::managers_message`]) and the
//! backends `EMAIL_BACKEND` names. SMTP, Django's default, needs the `mail` cargo feature
//! ([`smtp::SmtpMailer`]); the console and dummy backends are always there.
//!
//! Sending never runs on the request's path: a [`MailQueue`] sends in background tasks (the
//! request's after-response tasks, which graceful shutdown waits for), at most `capacity` at once, and drops (with a log line) what comes while it is full. A failed
//! send is logged, never raised: Django's `mail_managers(..., fail_silently=True)`.
//!
//! ```
//! let settings = middleware_core::Settings::from_toml_str(r#"
//!     MANAGERS = ["manager@example.com"]
//!     EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
//! "#, "settings.toml").unwrap();
//! let config = middleware_builtin::mail::EmailConfig::from_settings(&settings).unwrap();
//! let message = config.managers_message("Broken link", "body").unwrap();
//! assert_eq!(message.subject, "[Django] Broken link");
//! assert_eq!(message.from_email, "root@localhost");
//! assert_eq!(message.to, ["manager@example.com"]);
//! ```

use std::fmt;
use std::future::Future;
use std::io::Write;
use std::sync::Arc;

use middleware_core::{async_trait, AfterResponse, Settings, SettingsError, TaskRefused};
use serde::Deserialize;
use tokio::sync::Semaphore;

pub mod mailers;
#[cfg(feature = "mail")]
pub mod smtp;

#[cfg(not(feature = "mail"))]
use mailers::CONSOLE_BACKEND;
pub use mailers::{Backend, MailerConfig, Mailers, SmtpOptions, DEFAULT_MAILER_ALIAS};

middleware_core::declare_settings! {
    /// The settings this module reads, with Django's names.
    pub struct MailSettings {
        /// who gets the broken-link mails (`mail_managers`): addresses (`"ops@example.com"` or
        /// `"Ops <ops@example.com>"`); Django's deprecated `["Name", "address"]` pairs are
        /// accepted. Empty: nothing is sent
        MANAGERS => managers: Vec<Recipient> = [],
        /// the `From` of the mails
        SERVER_EMAIL => server_email: String = "root@localhost",
        /// put before each subject
        EMAIL_SUBJECT_PREFIX => subject_prefix: String = "[Django] ",
    }
    shared {
        /// `MAILERS` or the `EMAIL_*` mailer settings.
        mailers: mailers::MailerSettings,
    }
}

/// One e-mail, as Django's `EmailMessage` with a plain-text body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmailMessage {
    /// The `Subject` header.
    pub subject: String,
    /// The text body.
    pub body: String,
    /// The `From` header and envelope sender.
    pub from_email: String,
    /// The `To` header and envelope recipients.
    pub to: Vec<String>,
}

/// Why a message was not sent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MailError {
    /// An address does not parse (Django's `ValueError` from `prep_address`).
    #[error("invalid address {address:?}: {reason}")]
    Address {
        /// The address as configured.
        address: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The message could not be put together.
    #[error("could not build the message: {0}")]
    Message(String),
    /// The SMTP server could not be reached or refused the message.
    #[error("SMTP error talking to {host}:{port}: {reason}")]
    Smtp {
        /// `EMAIL_HOST`.
        host: String,
        /// `EMAIL_PORT`.
        port: u16,
        /// The transport's error (it never contains the password).
        reason: String,
    },
    /// Writing the message (console backend) failed.
    #[error("could not write the message: {0}")]
    Io(#[from] std::io::Error),
}

/// A mail backend (Django's `BaseEmailBackend.send_messages`, one message at a time).
#[async_trait]
pub trait Mailer: Send + Sync + fmt::Debug + 'static {
    /// Sends `message`.
    async fn send(&self, message: &EmailMessage) -> Result<(), MailError>;
}

/// Django's console backend: each message on stdout, followed by a line of 79 dashes.
#[derive(Debug, Default)]
pub struct ConsoleMailer;

#[async_trait]
impl Mailer for ConsoleMailer {
    async fn send(&self, message: &EmailMessage) -> Result<(), MailError> {
        let text = format!(
            "Content-Type: text/plain; charset=\"utf-8\"\nMIME-Version: 1.0\nSubject: {}\nFrom: {}\nTo: {}\n\n{}\n{}\n",
            message.subject,
            message.from_email,
            message.to.join(", "),
            message.body,
            "-".repeat(79)
        );
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes())?;
        out.flush()?;
        Ok(())
    }
}

/// Django's dummy backend: sends nothing.
#[derive(Debug, Default)]
pub struct DummyMailer;

#[async_trait]
impl Mailer for DummyMailer {
    async fn send(&self, _message: &EmailMessage) -> Result<(), MailError> {
        Ok(())
    }
}

/// Django's mail settings, read once at start-up.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct EmailConfig {
    /// `MAILERS`, or the one `"default"` mailer of the `EMAIL_*` settings.
    pub mailers: Mailers,
    /// `EMAIL_SUBJECT_PREFIX` (default `"[Django] "`).
    pub subject_prefix: String,
    /// `SERVER_EMAIL` (default `"root@localhost"`): the sender of `mail_managers`.
    pub server_email: String,
    /// `MANAGERS` (default `[]`): the recipients of `mail_managers`.
    pub managers: Vec<String>,
}

/// A `MANAGERS` entry: an address, or Django's deprecated `(name, address)` pair.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum Recipient {
    /// An address.
    Address(String),
    /// A name (ignored) and an address.
    Pair(serde::de::IgnoredAny, String),
}

impl EmailConfig {
    /// Reads the settings. A mailer Django would refuse (`EMAIL_USE_TLS` with `EMAIL_USE_SSL`,
    /// an SMTP mailer without `host`, an unknown option or backend) is an error here, at
    /// start-up, where Django raises when it first sends.
    pub fn from_settings(settings: &Settings) -> Result<Self, SettingsError> {
        let declared = MailSettings::from_settings(settings)?;
        let managers = declared
            .managers
            .into_iter()
            .map(|r| match r {
                Recipient::Address(a) | Recipient::Pair(_, a) => a,
            })
            .collect();
        let config = EmailConfig {
            mailers: Mailers::from_declared(settings, declared.mailers)?,
            subject_prefix: declared.subject_prefix,
            server_email: declared.server_email,
            managers,
        };
        for (key, address) in std::iter::once(("SERVER_EMAIL", &config.server_email))
            .chain(config.managers.iter().map(|a| ("MANAGERS", a)))
        {
            check_address(address).map_err(|e| {
                settings.invalid(key, e.to_string(), "an address such as \"ops@example.com\"")
            })?;
        }
        Ok(config)
    }

    /// Django's `mail_managers(subject, message)`: `EMAIL_SUBJECT_PREFIX` before the subject,
    /// from `SERVER_EMAIL` to `MANAGERS`; `None` when `MANAGERS` is empty (Django sends nothing).
    pub fn managers_message(&self, subject: &str, message: &str) -> Option<EmailMessage> {
        if self.managers.is_empty() {
            return None;
        }
        Some(EmailMessage {
            subject: format!("{}{subject}", self.subject_prefix),
            body: message.to_owned(),
            from_email: self.server_email.clone(),
            to: self.managers.clone(),
        })
    }

    /// The backend of `mail.mailers[using]` (`None`: the default one), built once; `Ok(None)`
    /// when there is no such mailer (Django's `MailerDoesNotExist`). SMTP without the `mail`
    /// feature is an error naming the feature.
    pub fn mailer(
        &self,
        settings: &Settings,
        using: Option<&str>,
    ) -> Result<Option<Arc<dyn Mailer>>, SettingsError> {
        self.mailers
            .get(using)
            .map(|config| build_mailer(settings, config))
            .transpose()
    }
}

/// The backend `config` names.
fn build_mailer(
    settings: &Settings,
    config: &MailerConfig,
) -> Result<Arc<dyn Mailer>, SettingsError> {
    let key = &config.setting;
    match config.backend {
        Backend::Console => Ok(Arc::new(ConsoleMailer)),
        Backend::Dummy => Ok(Arc::new(DummyMailer)),
        #[cfg(feature = "mail")]
        Backend::Smtp => smtp::SmtpMailer::new(&config.smtp)
            .map(|m| Arc::new(m) as Arc<dyn Mailer>)
            .map_err(|e| {
                settings.invalid(key, e.to_string(), "check the host and the TLS settings")
            }),
        #[cfg(not(feature = "mail"))]
        Backend::Smtp => Err(settings.invalid(
            key,
            "the SMTP backend needs middleware-builtin's `mail` cargo feature",
            format!("build with --features mail, or use {CONSOLE_BACKEND:?}"),
        )),
    }
}

/// Refuses what Django's `prep_address` refuses outright: empty addresses and header
/// injection (CR/LF). The SMTP backend parses addresses fully at start-up as well.
fn check_address(address: &str) -> Result<(), MailError> {
    let reason = if address.trim().is_empty() {
        "empty"
    } else if address.contains(['\r', '\n']) {
        "contains a line break"
    } else {
        #[cfg(feature = "mail")]
        smtp::parse_mailbox(address)?;
        return Ok(());
    };
    Err(MailError::Address {
        address: address.to_owned(),
        reason: reason.to_owned(),
    })
}

/// Sends messages in background tasks, at most `capacity` at once; a message submitted while
/// all are busy is dropped and logged, so a mail server that hangs or a flood of 404s never
/// holds up responses nor piles up memory.
#[derive(Clone, Debug)]
pub struct MailQueue {
    mailer: Arc<dyn Mailer>,
    permits: Arc<Semaphore>,
    capacity: u32,
}

/// How many messages a [`MailQueue`] sends at once by default.
pub const DEFAULT_QUEUE_CAPACITY: u32 = 16;

impl MailQueue {
    /// A queue sending through `mailer`, `capacity` (at least 1) messages at a time.
    pub fn new(mailer: Arc<dyn Mailer>, capacity: u32) -> Self {
        let capacity = capacity.max(1);
        MailQueue {
            mailer,
            permits: Arc::new(Semaphore::new(capacity as usize)),
            capacity,
        }
    }

    /// Starts sending `message` in the background; `false` (logged) when the queue is full or
    /// there is no tokio runtime to send on.
    pub fn submit(&self, message: EmailMessage) -> bool {
        let Some(send) = self.reserve(message) else {
            return false;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!("mail not sent: no tokio runtime");
            return false;
        };
        runtime.spawn(send);
        true
    }

    /// Sends `message` once the response has gone out, as one of the request's
    /// after-response tasks (so the server's graceful shutdown waits for it); a request not
    /// handled by a chain sends it right away in the background, as [`MailQueue::submit`].
    pub fn submit_after_response(&self, after: &AfterResponse, message: EmailMessage) -> bool {
        let Some(send) = self.reserve(message.clone()) else {
            return false;
        };
        match after.add(send) {
            Ok(()) => true,
            Err(TaskRefused::NoChain) => self.submit(message),
            Err(_) => false,
        }
    }

    /// The send of `message`, holding one of the queue's slots until it is done; `None`
    /// (logged) when all slots are taken.
    fn reserve(&self, message: EmailMessage) -> Option<impl Future<Output = ()> + Send + 'static> {
        let Ok(permit) = self.permits.clone().try_acquire_owned() else {
            tracing::warn!(
                subject = %message.subject,
                capacity = self.capacity,
                "mail not sent: too many messages already being sent"
            );
            return None;
        };
        let mailer = self.mailer.clone();
        Some(async move {
            if let Err(error) = mailer.send(&message).await {
                tracing::error!(%error, subject = %message.subject, "mail not sent");
            }
            drop(permit);
        })
    }

    /// Waits until every message submitted so far is sent or has failed.
    pub async fn idle(&self) {
        if let Ok(all) = self.permits.acquire_many(self.capacity).await {
            drop(all);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn config(toml: &str) -> Result<EmailConfig, SettingsError> {
        EmailConfig::from_settings(&Settings::from_toml_str(toml, "t.toml").unwrap())
    }

    // Django: tests/mail/tests.py::SMTPBackendTests::test_email_tls_use_settings and
    // ::test_email_ssl_use_settings with both set (EmailBackend raises ValueError).
    #[test]
    fn use_tls_and_use_ssl_are_mutually_exclusive() {
        let err = config("EMAIL_USE_TLS = true\nEMAIL_USE_SSL = true").unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("EMAIL_USE_TLS/EMAIL_USE_SSL are mutually exclusive"),
            "{text}"
        );
        let smtp = |toml| {
            config(toml)
                .unwrap()
                .mailers
                .get(None)
                .unwrap()
                .smtp
                .clone()
        };
        assert!(smtp("EMAIL_USE_TLS = true").use_tls);
        assert!(smtp("EMAIL_USE_SSL = true").use_ssl);
    }

    // Django's global_settings defaults.
    #[test]
    fn defaults_are_djangos() {
        let c = config("").unwrap();
        let default = c.mailers.get(None).unwrap();
        assert_eq!(default.backend, Backend::Smtp);
        assert_eq!(
            (default.smtp.host.as_str(), default.smtp.port),
            ("localhost", 25)
        );
        assert_eq!(c.subject_prefix, "[Django] ");
        assert_eq!(c.server_email, "root@localhost");
        assert!(c.managers.is_empty() && default.smtp.timeout.is_none());
        assert!(c.managers_message("s", "b").is_none());
        let c = config("EMAIL_TIMEOUT = 2.5\nMANAGERS = [[\"Ops\", \"ops@example.com\"]]").unwrap();
        let timeout = c.mailers.get(None).unwrap().smtp.timeout;
        assert_eq!(timeout, Some(Duration::from_millis(2500)));
        assert_eq!(c.managers, ["ops@example.com"]);
        assert!(config("EMAIL_TIMEOUT = -1").is_err());
        assert!(config("EMAIL_BACKEND = \"x.EmailBackend\"").is_err());
        assert!(config("SERVER_EMAIL = \"a@b\\r\\nBcc: c@d\"").is_err());
    }

    #[test]
    fn the_password_stays_out_of_debug_output() {
        let c = config("EMAIL_HOST_PASSWORD = \"hunter2\"").unwrap();
        assert_eq!(
            c.mailers.get(None).unwrap().smtp.password.expose(),
            "hunter2"
        );
        assert!(!format!("{c:?}").contains("hunter2"));
        let c = config("EMAIL_HOST_PASSWORD = { env = \"PATH\" }").unwrap();
        let password = c
            .mailers
            .get(None)
            .unwrap()
            .smtp
            .password
            .expose()
            .to_owned();
        assert_eq!(password, std::env::var("PATH").unwrap());
        let err = config("EMAIL_HOST_PASSWORD = { env = \"NO_SUCH_VARIABLE_FOR_MAIL\" }");
        assert!(err
            .unwrap_err()
            .to_string()
            .contains("NO_SUCH_VARIABLE_FOR_MAIL"));
    }

    #[derive(Debug)]
    struct Slow(Arc<Semaphore>);

    #[async_trait]
    impl Mailer for Slow {
        async fn send(&self, _message: &EmailMessage) -> Result<(), MailError> {
            let _gate = self.0.acquire().await;
            Ok(())
        }
    }

    #[tokio::test]
    async fn a_full_queue_drops_instead_of_waiting() {
        let gate = Arc::new(Semaphore::new(0));
        let queue = MailQueue::new(Arc::new(Slow(gate.clone())), 2);
        let message = config("MANAGERS = [\"m@example.com\"]")
            .unwrap()
            .managers_message("s", "b")
            .unwrap();
        assert!(queue.submit(message.clone()));
        assert!(queue.submit(message.clone()));
        assert!(!queue.submit(message.clone()));
        gate.add_permits(2);
        queue.idle().await;
        assert!(queue.submit(message));
        gate.add_permits(1);
        queue.idle().await;
    }
}
