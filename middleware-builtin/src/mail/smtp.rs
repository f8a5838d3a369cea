//! Django's SMTP backend (`django.core.mail.backends.smtp.EmailBackend`) on lettre: a new
//! connection per message, STARTTLS with `EMAIL_USE_TLS`, implicit TLS with `EMAIL_USE_SSL`
//! (rustls, the webpki roots), and a login only when both `EMAIL_HOST_USER` and
//! `EMAIL_HOST_PASSWORD` are set, as Django.

use std::str::FromStr;
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use middleware_core::async_trait;

use super::{EmailMessage, MailError, Mailer, SmtpOptions};

/// Sends over SMTP with a mailer's options (or the `EMAIL_*` settings).
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    host: String,
    port: u16,
    timeout: Duration,
}

/// lettre's default command timeout, used when `EMAIL_TIMEOUT` is unset: Django's "no
/// timeout" would let a server that stops answering hold a send slot for ever.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

impl std::fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpMailer")
            .field("host", &self.host)
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

/// Parses one address (`a@example.com` or `Name <a@example.com>`).
pub(super) fn parse_mailbox(address: &str) -> Result<Mailbox, MailError> {
    Mailbox::from_str(address).map_err(|e| MailError::Address {
        address: address.to_owned(),
        reason: e.to_string(),
    })
}

impl SmtpMailer {
    /// The transport for `config` (no connection is made until a message is sent).
    pub fn new(config: &SmtpOptions) -> Result<Self, MailError> {
        let smtp_error = |e: lettre::transport::smtp::Error| MailError::Smtp {
            host: config.host.clone(),
            port: config.port,
            reason: e.to_string(),
        };
        let builder = if config.use_ssl {
            AsyncSmtpTransport::<Tokio1Executor>::relay(&config.host).map_err(smtp_error)?
        } else if config.use_tls {
            AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&config.host)
                .map_err(smtp_error)?
        } else {
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host)
        };
        let timeout = config.timeout.unwrap_or(DEFAULT_TIMEOUT);
        let mut builder = builder.port(config.port).timeout(Some(timeout));
        if !config.username.is_empty() && !config.password.expose().is_empty() {
            builder = builder.credentials(Credentials::new(
                config.username.clone(),
                config.password.expose().to_owned(),
            ));
        }
        Ok(SmtpMailer {
            transport: builder.build(),
            host: config.host.clone(),
            port: config.port,
            timeout,
        })
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, message: &EmailMessage) -> Result<(), MailError> {
        // Django's EmailMessage always carries a Message-ID (make_msgid).
        let mut builder = Message::builder()
            .message_id(None)
            .from(parse_mailbox(&message.from_email)?)
            .subject(message.subject.clone())
            .header(ContentType::TEXT_PLAIN);
        for to in &message.to {
            builder = builder.to(parse_mailbox(to)?);
        }
        let email = builder
            .body(message.body.clone())
            .map_err(|e| MailError::Message(e.to_string()))?;
        let smtp_error = |reason: String| MailError::Smtp {
            host: self.host.clone(),
            port: self.port,
            reason,
        };
        // lettre's async transport only times the connect: the whole exchange is bounded here,
        // so a server that accepts and then stalls fails the send instead of hanging it.
        match tokio::time::timeout(self.timeout, self.transport.send(email)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(smtp_error(e.to_string())),
            Err(_) => Err(smtp_error(format!(
                "no answer within the timeout ({:?})",
                self.timeout
            ))),
        }
    }
}
