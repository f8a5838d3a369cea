//! `BrokenLinkEmailsMiddleware`: Django's `django.middleware.common.BrokenLinkEmailsMiddleware`.
//! When `DEBUG` is false and the rest of the chain answers 404, it mails the `MANAGERS`
//! (Django's `mail_managers`: `EMAIL_SUBJECT_PREFIX`, from `SERVER_EMAIL`) a "Broken link"
//! message naming the referrer, the URL, the user agent and the client's IP, unless the
//! request is ignorable: no `Referer`, a URL matching one of `IGNORABLE_404_URLS`, the
//! `APPEND_SLASH` redirect's own hop, a search engine's `?` referrer from another domain, or a
//! bot that gives the URL itself as referrer. The response is never changed and never waits
//! for the mail: it goes out in the background ([`MailQueue`]), and a failure is only logged.
//!
//! ```
//! use middleware_core::test_client::Client;
//! use middleware_core::{Chain, Registry, Router, Settings};
//!
//! let mut registry = Registry::new();
//! middleware_builtin::broken_link_emails::register(&mut registry);
//! let settings = Settings::from_toml_str(r#"
//!     MIDDLEWARE = ["django.middleware.common.BrokenLinkEmailsMiddleware"]
//!     ALLOWED_HOSTS = ["testserver"]
//!     MANAGERS = ["manager@example.com"]
//!     IGNORABLE_404_URLS = ['\.php$']
//!     EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
//! "#, "settings.toml").unwrap();
//! let chain = Chain::builder(&registry, &settings).urls(Router::new()).build().unwrap();
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let response = Client::new(chain).get("/gone/").await;
//! assert_eq!(response.status, 404);
//! # });
//! ```

use std::sync::Arc;

use http::header::{REFERER, USER_AGENT};
use http::StatusCode;
use middleware_core::http_utils::url::{full_path, urlsplit};
use middleware_core::{
    Error, Hook, Hooks, Registry, Request, RequestExt, Response, Settings, SettingsError,
};
use regex::Regex;

use crate::mail::{self, DummyMailer, EmailConfig, MailQueue, Mailer, DEFAULT_QUEUE_CAPACITY};

middleware_core::declare_settings! {
    /// The settings `BrokenLinkEmailsMiddleware` reads besides the core's `DEBUG` and
    /// `APPEND_SLASH`.
    pub struct BrokenLinkSettings {
        /// regular expressions (Rust's `regex` syntax, searched anywhere in the full path) of
        /// 404s never mailed; an invalid one is a start-up error
        IGNORABLE_404_URLS => ignorable_404_urls: Vec<String> = [],
    }
}

/// Django's `is_ignorable_request` and `is_internal_request`, with the settings they read.
#[derive(Clone, Debug)]
pub struct BrokenLinkRules {
    ignorable_404_urls: Vec<Regex>,
    append_slash: bool,
}

impl BrokenLinkRules {
    /// Reads `IGNORABLE_404_URLS` (regexes searched in the URL) and `APPEND_SLASH`.
    pub fn from_settings(settings: &Settings) -> Result<Self, SettingsError> {
        let patterns = BrokenLinkSettings::from_settings(settings)?.ignorable_404_urls;
        let ignorable_404_urls = patterns
            .iter()
            .map(|p| {
                Regex::new(p).map_err(|e| {
                    settings.invalid(
                        "IGNORABLE_404_URLS",
                        format!("{p:?} is not a valid regular expression: {e}"),
                        "use the Rust regex syntax (no look-around or back-references)",
                    )
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(BrokenLinkRules {
            ignorable_404_urls,
            append_slash: settings.core().append_slash,
        })
    }

    /// Whether `referer` is a URL on `domain` (Django's `is_internal_request`: another
    /// subdomain is another domain).
    pub fn is_internal_request(&self, domain: &str, referer: &str) -> bool {
        referer
            .strip_prefix("http://")
            .or_else(|| referer.strip_prefix("https://"))
            .and_then(|rest| rest.strip_prefix(domain))
            .is_some_and(|rest| rest.starts_with('/'))
    }

    /// Whether a 404 for `uri` (the full path) on `domain`, coming from `referer`, should not
    /// be mailed (Django's `is_ignorable_request`).
    pub fn is_ignorable_request(&self, uri: &str, domain: &str, referer: &str) -> bool {
        if referer.is_empty() {
            return true;
        }
        // APPEND_SLASH's redirect: the referrer is this URL without its trailing slash.
        if self.append_slash && uri.strip_suffix('/') == Some(referer) {
            return true;
        }
        // A '?' in an outside referrer: a search engine's result page.
        if !self.is_internal_request(domain, referer) && referer.contains('?') {
            return true;
        }
        // A bot giving the URL itself as referrer, whatever the scheme.
        match urlsplit(referer) {
            Ok(parts) => {
                if (parts.netloc.is_empty() || parts.netloc == domain) && parts.path == uri {
                    return true;
                }
            }
            // Python's urlsplit raises here, and Django answers 500; a referrer no URL parser
            // accepts is not worth a mail either.
            Err(_) => return true,
        }
        self.ignorable_404_urls.iter().any(|p| p.is_match(uri))
    }
}

/// What a Django subclass of `BrokenLinkEmailsMiddleware` overrides: which requests are
/// ignorable and what is mailed. Every method defaults to Django's behaviour.
pub trait BrokenLinkHooks: Send + Sync + 'static {
    /// Django's `is_ignorable_request(request, uri, domain, referer)`.
    fn is_ignorable_request(
        &self,
        rules: &BrokenLinkRules,
        request: &Request,
        uri: &str,
        domain: &str,
        referer: &str,
    ) -> bool {
        let _ = request;
        rules.is_ignorable_request(uri, domain, referer)
    }

    /// Django's `send_mail(subject, message)`: the subject and body to mail (before
    /// `EMAIL_SUBJECT_PREFIX`).
    fn compose(&self, subject: String, message: String) -> (String, String) {
        (subject, message)
    }
}

/// Django's own rules.
#[derive(Debug, Default)]
pub struct DjangoHooks;

impl BrokenLinkHooks for DjangoHooks {}

/// Django's `BrokenLinkEmailsMiddleware`.
pub struct BrokenLinkEmailsMiddleware {
    rules: BrokenLinkRules,
    debug: bool,
    email: EmailConfig,
    queue: MailQueue,
    hooks: Arc<dyn BrokenLinkHooks>,
}

impl std::fmt::Debug for BrokenLinkEmailsMiddleware {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrokenLinkEmailsMiddleware")
            .field("rules", &self.rules)
            .field("debug", &self.debug)
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

/// A header as Django's `request.META` has it: bytes read as Latin-1.
fn header_latin1(request: &Request, name: http::header::HeaderName) -> Option<String> {
    request
        .headers()
        .get(name)
        .map(|v| v.as_bytes().iter().map(|&b| char::from(b)).collect())
}

impl BrokenLinkEmailsMiddleware {
    /// The middleware from `settings`, sending with the default mailer (`MAILERS["default"]`,
    /// or the `EMAIL_*` settings without `MAILERS`).
    pub fn from_settings(settings: &Settings) -> Result<Self, SettingsError> {
        Self::using(settings, None)
    }

    /// The middleware from `settings`, sending with the mailer `using` names (Django's `using`
    /// class attribute; `None` is the default mailer). When `MAILERS` has no such mailer it
    /// sends nothing, as Django's `except MailerDoesNotExist: pass`, and says so at start-up.
    pub fn using(settings: &Settings, using: Option<&str>) -> Result<Self, SettingsError> {
        let email = EmailConfig::from_settings(settings)?;
        let mailer = match email.mailer(settings, using)? {
            Some(mailer) => mailer,
            None => {
                tracing::warn!(
                    mailer = using.unwrap_or(mail::DEFAULT_MAILER_ALIAS),
                    "BrokenLinkEmailsMiddleware sends no mail: MAILERS has no such mailer"
                );
                Arc::new(DummyMailer)
            }
        };
        Self::with_mailer(settings, email, mailer)
    }

    /// The middleware from `settings`, sending with `mailer`.
    pub fn with_mailer(
        settings: &Settings,
        email: EmailConfig,
        mailer: Arc<dyn Mailer>,
    ) -> Result<Self, SettingsError> {
        Ok(BrokenLinkEmailsMiddleware {
            rules: BrokenLinkRules::from_settings(settings)?,
            debug: settings.core().debug,
            email,
            queue: MailQueue::new(mailer, DEFAULT_QUEUE_CAPACITY),
            hooks: Arc::new(DjangoHooks),
        })
    }

    /// Uses `hooks` to decide and compose (Django's subclassing).
    pub fn hooks(mut self, hooks: Arc<dyn BrokenLinkHooks>) -> Self {
        self.hooks = hooks;
        self
    }

    /// The queue the mails go through (to wait for them with [`MailQueue::idle`]).
    pub fn queue(&self) -> &MailQueue {
        &self.queue
    }

    /// The subject and body Django's `process_response` mails for a broken link.
    fn report(
        &self,
        request: &Request,
        uri: &str,
        domain: &str,
        referer: &str,
    ) -> (String, String) {
        let ua = header_latin1(request, USER_AGENT).unwrap_or_else(|| "<none>".to_owned());
        let ip = request
            .connection_info()
            .and_then(|c| c.remote_addr)
            .map_or_else(|| "<none>".to_owned(), |a| a.ip().to_string());
        let internal = if self.rules.is_internal_request(domain, referer) {
            "INTERNAL "
        } else {
            ""
        };
        (
            format!("Broken {internal}link on {domain}"),
            format!(
                "Referrer: {referer}\nRequested URL: {uri}\nUser agent: {ua}\nIP address: {ip}\n"
            ),
        )
    }
}

impl Hooks for BrokenLinkEmailsMiddleware {
    fn process_response<'a>(
        &'a self,
        request: &'a mut Request,
        response: &'a mut Response,
    ) -> Hook<'a, Result<(), Error>> {
        if response.status() != StatusCode::NOT_FOUND || self.debug {
            return Hook::Ready(Ok(()));
        }
        // The mail is sent after the response (`submit_after_response`): nothing to wait for.
        Hook::Ready(self.report_broken_link(request))
    }
}

impl BrokenLinkEmailsMiddleware {
    /// Django's `process_response` for a 404: mails the managers unless the request is one
    /// to ignore.
    fn report_broken_link(&self, request: &mut Request) -> Result<(), Error> {
        let domain = request.get_host()?;
        let uri = full_path(&request.path_info(), request.uri().query(), false);
        let referer = header_latin1(request, REFERER).unwrap_or_default();
        if self
            .hooks
            .is_ignorable_request(&self.rules, request, &uri, &domain, &referer)
        {
            return Ok(());
        }
        let (subject, body) = self.report(request, &uri, &domain, &referer);
        let (subject, body) = self.hooks.compose(subject, body);
        if let Some(message) = self.email.managers_message(&subject, &body) {
            self.queue
                .submit_after_response(&request.after_response(), message);
        }
        Ok(())
    }
}

/// Registers `BrokenLinkEmailsMiddleware` under its Rust name and Django's dotted path.
pub fn register(registry: &mut Registry) {
    registry
        .register_ready_hooks("BrokenLinkEmailsMiddleware", |ctx| {
            Ok(BrokenLinkEmailsMiddleware::from_settings(ctx.settings)?)
        })
        .alias("django.middleware.common.BrokenLinkEmailsMiddleware")
        .declares::<BrokenLinkSettings>()
        .declares::<mail::MailSettings>();
}

#[cfg(test)]
#[path = "broken_link_emails_tests.rs"]
mod tests;
