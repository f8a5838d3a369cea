//! `CsrfViewMiddleware`: Django's cross-site request forgery protection, wire-compatible with
//! Django 6.1 (same cookie, same token format, same checks, same reject reasons).
//!
//! ```
//! use middleware_builtin::csrf::{self, CsrfExempt};
//! use middleware_core::{test_client::Client, Chain, Error, Registry, Request, Response, Route, Router, Settings};
//!
//! async fn form(req: &mut Request) -> Result<Response, Error> {
//!     let token = csrf::get_token(req); // 64 characters, fresh mask each call
//!     Ok(Response::new(format!("<input name=\"csrfmiddlewaretoken\" value=\"{token}\">").into()))
//! }
//! async fn hook(_: &mut Request) -> Result<Response, Error> {
//!     Ok(Response::new("ok".into()))
//! }
//!
//! let mut registry = Registry::new();
//! csrf::register(&mut registry);
//! let settings = Settings::from_toml_str(r#"
//!     ALLOWED_HOSTS = ["testserver"]
//!     MIDDLEWARE = ["django.middleware.csrf.CsrfViewMiddleware"]
//! "#, "settings.toml").unwrap();
//! let mut router = Router::new();
//! router.add(Route::new("form/", form)).unwrap();
//! router.add(Route::new("hook/", hook).marker(CsrfExempt)).unwrap();
//! let chain = Chain::builder(&registry, &settings).urls(router).build().unwrap();
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let mut client = Client::new(chain).enforce_csrf_checks(true);
//! assert_eq!(client.post_form("/form/", &[]).await.status, 403); // CSRF cookie not set.
//! assert_eq!(client.post_form("/hook/", &[]).await.status, 200); // exempt
//! let page = client.get("/form/").await; // sets the csrftoken cookie
//! let token = page.text()[41..105].to_owned();
//! assert_eq!(client.post_form("/form/", &[("csrfmiddlewaretoken", &token)]).await.status, 200);
//! # });
//! ```
//!
//! Per request: the secret is read from the `CSRF_COOKIE_NAME` cookie (a malformed cookie is
//! replaced by a new secret, sent back on the response); `process_view` checks unsafe requests
//! (Origin, then strict Referer on HTTPS, then the token from the `csrfmiddlewaretoken` POST
//! field or the `CSRF_HEADER_NAME` header); a rejection is answered by `CSRF_FAILURE_VIEW`
//! (403) and logged at warning on target `django.security.csrf`. The cookie is (re)sent only
//! when [`get_token`] or [`rotate_token`] was called, or the cookie was malformed.
//!
//! With `CSRF_USE_SESSIONS = true` the secret lives in the session under [`CSRF_SESSION_KEY`]
//! (`_csrftoken`) instead: no CSRF cookie is set and CSRF adds no `Vary: Cookie`; the session is
//! written only when the secret changed (a new or rotated secret). `SessionMiddleware` must come
//! before this middleware (a start-up error otherwise; at request time, a request without a
//! session is Django's `ImproperlyConfigured`).
//!
//! See `docs/middleware/csrf.md` for settings, order and differences from Django.

pub mod failure;
pub mod multipart;
pub mod token;
pub mod url;

mod checks;

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::Arc;

use http::header::{self, HeaderName};
use middleware_core::http_utils::cookies::SetCookie;
use middleware_core::request::DontEnforceCsrfChecks;
use middleware_core::response::ResponseExt;
use middleware_core::settings::meta_to_header;
use middleware_core::{
    BuildContext, Error, FactoryError, Hook, Hooks, Registry, Request, RequestBodyExt, RequestExt,
    ResolverMatch, Response, Settings,
};

use crate::sessions::{Session, SessionCookieSettings};

pub use failure::{csrf_failure, CsrfFailureView, CsrfFailureViews, DEFAULT_FAILURE_VIEW};
pub use token::{
    check_token_format, does_token_match, mask_cipher_secret, unmask_cipher_token,
    TokenFormatError, CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH, CSRF_TOKEN_LENGTH,
};

/// `Origin checking failed - %s does not match any trusted origins.`
pub const REASON_BAD_ORIGIN: &str =
    "Origin checking failed - %s does not match any trusted origins.";
/// `Referer checking failed - no Referer.`
pub const REASON_NO_REFERER: &str = "Referer checking failed - no Referer.";
/// `Referer checking failed - %s does not match any trusted origins.`
pub const REASON_BAD_REFERER: &str =
    "Referer checking failed - %s does not match any trusted origins.";
/// `CSRF cookie not set.`
pub const REASON_NO_CSRF_COOKIE: &str = "CSRF cookie not set.";
/// `CSRF token missing.`
pub const REASON_CSRF_TOKEN_MISSING: &str = "CSRF token missing.";
/// `Referer checking failed - Referer is malformed.`
pub const REASON_MALFORMED_REFERER: &str = "Referer checking failed - Referer is malformed.";
/// `Referer checking failed - Referer is insecure while host is secure.`
pub const REASON_INSECURE_REFERER: &str =
    "Referer checking failed - Referer is insecure while host is secure.";

middleware_core::declare_settings! {
    /// The settings `CsrfViewMiddleware` reads (all Django's, with Django's defaults), besides
    /// `SESSION_COOKIE_DOMAIN` in session mode.
    pub struct CsrfSettings {
        ///
        CSRF_COOKIE_NAME => cookie_name: String = "csrftoken",
        /// one year, in seconds
        CSRF_COOKIE_AGE => cookie_age: OrFalse<i64> = 31449600,
        ///
        CSRF_COOKIE_DOMAIN => cookie_domain: Option<OrFalse<String>> = unset,
        ///
        CSRF_COOKIE_PATH => cookie_path: String = "/",
        ///
        CSRF_COOKIE_SECURE => cookie_secure: bool = false,
        ///
        CSRF_COOKIE_HTTPONLY => cookie_httponly: bool = false,
        ///
        CSRF_COOKIE_SAMESITE => cookie_samesite: OrFalse<String> = "Lax",
        /// Django's `META` form
        CSRF_HEADER_NAME => header_name: String = "HTTP_X_CSRFTOKEN",
        /// `["https://*.example.com"]`
        CSRF_TRUSTED_ORIGINS => trusted_origins: Vec<String> = [],
        /// store the token in the session (needs `SessionMiddleware` before it)
        CSRF_USE_SESSIONS => use_sessions: bool = false,
        /// a name the application registered through `BuiltinOptions`
        CSRF_FAILURE_VIEW => failure_view: String = "django.views.csrf.csrf_failure",
    }
}

/// The session key holding the CSRF secret when `CSRF_USE_SESSIONS` is on (Django's
/// `CSRF_SESSION_KEY`).
pub const CSRF_SESSION_KEY: &str = "_csrftoken";

/// Django's `ImproperlyConfigured` message when `CSRF_USE_SESSIONS` is on and the request has
/// no session.
pub const NO_SESSION_MESSAGE: &str = "CSRF_USE_SESSIONS is enabled, but request.session is not \
     set. SessionMiddleware must appear before CsrfViewMiddleware in MIDDLEWARE.";

/// Django's `csrf_exempt`: the route's view is not checked (the cookie machinery still runs, so
/// [`get_token`] works).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CsrfExempt;

/// Django's `ensure_csrf_cookie`: after the middleware accepted (or exempted) the request,
/// [`get_token`] is called, so the response always carries the cookie. Needs the middleware.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EnsureCsrfCookie;

/// The per-request CSRF state: Django's `META["CSRF_COOKIE"]`, `META["CSRF_COOKIE_NEEDS_UPDATE"]`
/// and `request.csrf_processing_done`. Lives in the request's extensions.
#[derive(Clone, Default)]
struct CsrfState {
    secret: Option<String>,
    needs_update: bool,
    processing_done: bool,
}

impl fmt::Debug for CsrfState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the secret.
        f.debug_struct("CsrfState")
            .field("has_secret", &self.secret.is_some())
            .field("needs_update", &self.needs_update)
            .field("processing_done", &self.processing_done)
            .finish()
    }
}

fn state_mut<B>(request: &mut http::Request<B>) -> &mut CsrfState {
    request
        .extensions_mut()
        .get_or_insert_default::<CsrfState>()
}

/// What `process_request` found: a secret to keep, none, or a malformed one to replace.
fn keep_secret<B>(
    request: &mut http::Request<B>,
    secret: Result<Option<String>, TokenFormatError>,
) {
    match secret {
        Err(_) => {
            add_new_csrf_cookie(request);
        }
        Ok(Some(secret)) => state_mut(request).secret = Some(secret),
        Ok(None) => {}
    }
}

/// The secret to send with the response, when the token was used or the secret renewed; once
/// (an outer instance, decorator and middleware both, must not send it twice).
fn secret_to_send<B>(request: &mut http::Request<B>) -> Option<String> {
    let state = request.extensions_mut().get_mut::<CsrfState>()?;
    if !state.needs_update {
        return None;
    }
    state.needs_update = false;
    state.secret.clone()
}

fn add_new_csrf_cookie<B>(request: &mut http::Request<B>) -> String {
    let secret = token::new_csrf_string();
    let state = state_mut(request);
    state.secret = Some(secret.clone());
    state.needs_update = true;
    secret
}

/// Django's `get_token(request)`: the token for a form or an AJAX header (64 characters, a fresh
/// mask of the request's secret on every call). Creates a secret if the request has none, and
/// flags the cookie to be sent with the response (renewing its expiry), as Django does.
pub fn get_token<B>(request: &mut http::Request<B>) -> String {
    let existing = {
        let state = state_mut(request);
        if state.secret.is_some() {
            state.needs_update = true;
        }
        state.secret.clone()
    };
    let secret = match existing {
        Some(secret) => secret,
        None => add_new_csrf_cookie(request),
    };
    // The secret is always well formed (from the alphabet, or a validated cookie); should that
    // ever fail, a new secret keeps the page working instead of panicking.
    match token::mask_cipher_secret(&secret) {
        Ok(token) => token,
        Err(_) => {
            let secret = add_new_csrf_cookie(request);
            token::mask_cipher_secret(&secret).unwrap_or_default()
        }
    }
}

/// Django's `rotate_token(request)`: a new secret for this request, sent with the response.
/// Call it when a user logs in.
pub fn rotate_token<B>(request: &mut http::Request<B>) {
    add_new_csrf_cookie(request);
}

/// Cookie attributes and checks, read once from the settings.
struct CsrfConfig {
    /// `CSRF_USE_SESSIONS`: the secret lives in the session under [`CSRF_SESSION_KEY`].
    use_sessions: bool,
    cookie_name: String,
    cookie_age: Option<i64>,
    cookie_domain: Option<String>,
    cookie_path: String,
    cookie_secure: bool,
    cookie_httponly: bool,
    cookie_samesite: Option<String>,
    header: HeaderName,
    header_label: String,
    trusted_origin_hosts: Vec<String>,
    allowed_origins_exact: HashSet<String>,
    allowed_origin_subdomains: HashMap<String, Vec<String>>,
    use_x_forwarded_port: bool,
    failure_view: CsrfFailureView,
}

/// A setting that Django allows to be `None`: TOML has no null, so `false` stands for it.
#[derive(Clone, Debug, serde::Deserialize)]
#[serde(untagged)]
pub enum OrFalse<T> {
    /// A value.
    Value(T),
    /// `false` (Django's `None`); `true` is refused.
    Flag(bool),
}

impl<T> OrFalse<T> {
    /// The value of the setting `key`, `None` for `false`.
    fn value(self, settings: &Settings, key: &str) -> Result<Option<T>, FactoryError> {
        match self {
            OrFalse::Value(v) => Ok(Some(v)),
            OrFalse::Flag(false) => Ok(None),
            OrFalse::Flag(true) => Err(settings
                .invalid(
                    key,
                    "true is not a valid value",
                    format!("give {key} a value, or false for None"),
                )
                .into()),
        }
    }
}

impl CsrfConfig {
    fn from_settings(settings: &Settings, views: &CsrfFailureViews) -> Result<Self, FactoryError> {
        let declared = CsrfSettings::from_settings(settings)?;
        let use_sessions = declared.use_sessions;
        let cookie_samesite = declared
            .cookie_samesite
            .value(settings, "CSRF_COOKIE_SAMESITE")?;
        if let Some(s) = &cookie_samesite {
            if SetCookie::new("csrftoken", "").samesite_str(s).is_err() {
                return Err(settings
                    .invalid(
                        "CSRF_COOKIE_SAMESITE",
                        format!("{s:?} is not a SameSite value"),
                        "use \"Lax\", \"Strict\", \"None\" or false",
                    )
                    .into());
            }
        }
        let header_setting = declared.header_name;
        let header = meta_to_header(&header_setting).ok_or_else(|| {
            settings.invalid(
                "CSRF_HEADER_NAME",
                format!("{header_setting:?} is not a header name"),
                "use Django's META form, e.g. \"HTTP_X_CSRFTOKEN\"",
            )
        })?;
        let trusted = declared.trusted_origins;
        let mut trusted_origin_hosts = Vec::new();
        let mut allowed_origins_exact = HashSet::new();
        let mut allowed_origin_subdomains: HashMap<String, Vec<String>> = HashMap::new();
        for origin in &trusted {
            // Django would fail on every request using an unparsable entry; refuse at start-up.
            let parsed = url::urlsplit(origin).map_err(|e| {
                settings.invalid(
                    "CSRF_TRUSTED_ORIGINS",
                    format!("{origin:?} is not a valid origin ({e})"),
                    "list origins like \"https://example.com\" or \"https://*.example.com\"",
                )
            })?;
            let host = parsed.netloc.trim_start_matches('*').to_owned();
            trusted_origin_hosts.push(host.clone());
            if origin.contains('*') {
                allowed_origin_subdomains
                    .entry(parsed.scheme)
                    .or_default()
                    .push(host);
            } else {
                allowed_origins_exact.insert(origin.clone());
            }
        }
        let view_name = declared.failure_view;
        let failure_view = views.get(&view_name).ok_or_else(|| {
            settings.invalid(
                "CSRF_FAILURE_VIEW",
                format!("the CSRF failure view {view_name:?} is not registered (security.E102)"),
                format!(
                    "register it with CsrfFailureViews::insert before building the chain, or use {DEFAULT_FAILURE_VIEW:?}"
                ),
            )
        })?;
        // Django's `_check_referer` compares with the domain of the cookie that holds the secret:
        // SESSION_COOKIE_DOMAIN in session mode.
        let cookie_domain = if use_sessions {
            SessionCookieSettings::from_settings(settings)?.domain
        } else {
            match declared.cookie_domain {
                Some(domain) => domain.value(settings, "CSRF_COOKIE_DOMAIN")?,
                None => None,
            }
        };
        Ok(CsrfConfig {
            use_sessions,
            cookie_name: declared.cookie_name,
            cookie_age: declared.cookie_age.value(settings, "CSRF_COOKIE_AGE")?,
            cookie_domain,
            cookie_path: declared.cookie_path,
            cookie_secure: declared.cookie_secure,
            cookie_httponly: declared.cookie_httponly,
            cookie_samesite,
            header,
            header_label: url::header_label(&header_setting),
            trusted_origin_hosts,
            allowed_origins_exact,
            allowed_origin_subdomains,
            use_x_forwarded_port: settings.core().use_x_forwarded_port,
            failure_view,
        })
    }
}

/// Django's `CsrfViewMiddleware`.
pub struct CsrfViewMiddleware {
    protect: CsrfProtect,
}

impl fmt::Debug for CsrfViewMiddleware {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CsrfViewMiddleware")
            .field("cookie_name", &self.protect.config.cookie_name)
            .finish_non_exhaustive()
    }
}

/// Django's `csrf_protect`: the middleware's checks for a response made outside the view layer,
/// where `process_view` never runs (a flatpage that `FlatpageFallbackMiddleware` renders in
/// place of a 404). [`CsrfProtect::check`] is `process_request` + `process_view`,
/// [`CsrfProtect::finish`] is `process_response`. Running after the middleware on the same
/// request is harmless: a request the middleware accepted is not checked twice, and the
/// cookie is set once.
#[derive(Clone)]
pub struct CsrfProtect {
    config: Arc<CsrfConfig>,
}

impl fmt::Debug for CsrfProtect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CsrfProtect")
            .field("cookie_name", &self.config.cookie_name)
            .finish_non_exhaustive()
    }
}

/// A header as Django's `META` holds it: every line joined with `,` (as a WSGI/ASGI server
/// does) and decoded as Latin-1, so any byte sequence is a string of the same length.
fn meta_header(request: &Request, name: &HeaderName) -> Option<String> {
    let mut values = request.headers().get_all(name).iter().peekable();
    values.peek()?;
    let bytes: Vec<u8> = values
        .map(|v| v.as_bytes())
        .collect::<Vec<_>>()
        .join(&b","[..]);
    Some(bytes.into_iter().map(char::from).collect())
}

/// `Result` of a check: `Err(reason)` rejects.
type Verdict = Result<(), String>;

impl CsrfProtect {
    /// The checks as `settings` configure the middleware, failing with the failure view
    /// `CSRF_FAILURE_VIEW` names in `views`.
    pub fn from_settings(
        settings: &Settings,
        views: &CsrfFailureViews,
    ) -> Result<Self, FactoryError> {
        Ok(CsrfProtect {
            config: Arc::new(CsrfConfig::from_settings(settings, views)?),
        })
    }

    /// Django's `csrf_protect` before the view: `Ok(Some(response))` is the failure view's 403
    /// to answer instead; `markers` are the view's (`CsrfExempt`...).
    pub async fn check(
        &self,
        request: &mut Request,
        markers: &middleware_core::Markers,
    ) -> Result<Option<Response>, Error> {
        self.process_request(request).await?;
        Ok(self
            .verdict(request, markers)
            .await?
            .map(|reason| self.reject(request, &reason)))
    }

    /// Django's `csrf_protect` after the view: sets the CSRF cookie if the token was used.
    pub async fn finish(&self, request: &mut Request, response: &mut Response) {
        if let Some(secret) = secret_to_send(request) {
            self.send_secret(request, response, secret).await;
        }
    }

    /// Django's `_get_secret`: `Ok(None)` without a secret, the secret (a legacy 64-character
    /// masked value unmasked), or why the stored value is malformed. In session mode the secret
    /// is the session's [`CSRF_SESSION_KEY`]; without a session this is Django's
    /// `ImproperlyConfigured` (the outer `Err`).
    async fn get_secret(
        &self,
        // `&mut` only so the future is `Send` (a `Request` is not `Sync`).
        request: &mut Request,
    ) -> Result<Result<Option<String>, TokenFormatError>, Error> {
        if self.config.use_sessions {
            let session = request
                .extensions()
                .get::<Session>()
                .cloned()
                .ok_or_else(|| Error::ImproperlyConfigured(NO_SESSION_MESSAGE.to_owned()))?;
            return Ok(match session.get(CSRF_SESSION_KEY).await {
                None | Some(serde_json::Value::Null) => Ok(None),
                // Django does not check the format of a session secret (only the server writes
                // it), and a value it cannot use (not a string, bad characters in a masked one)
                // is a 500 there; here it is checked and replaced like a malformed cookie.
                Some(serde_json::Value::String(secret)) => {
                    check_token_format(&secret).and_then(|()| Self::stored_secret(secret))
                }
                Some(_) => Err(TokenFormatError::InvalidCharacters),
            });
        }
        Ok(self.cookie_secret(request))
    }

    /// [`get_secret`](Self::get_secret) without sessions: the secret in the CSRF cookie.
    fn cookie_secret(&self, request: &Request) -> Result<Option<String>, TokenFormatError> {
        let Some(cookie) = request.cookie(&self.config.cookie_name) else {
            return Ok(None);
        };
        // Django sees the cookie header decoded as Latin-1: count bytes as characters.
        let cookie: String = cookie.bytes().map(char::from).collect();
        check_token_format(&cookie)?;
        Self::stored_secret(cookie)
    }

    /// Django versions before 4.0 stored the secret masked: unmask a 64-character value.
    fn stored_secret(secret: String) -> Result<Option<String>, TokenFormatError> {
        if secret.len() == CSRF_TOKEN_LENGTH {
            return unmask_cipher_token(&secret).map(Some);
        }
        Ok(Some(secret))
    }

    async fn process_request(&self, request: &mut Request) -> Result<(), Error> {
        let secret = self.get_secret(request).await?;
        keep_secret(request, secret);
        Ok(())
    }

    /// [`process_request`](Self::process_request), with nothing to wait for unless the secret
    /// is in the session.
    fn process_request_hook<'a>(
        &'a self,
        request: &'a mut Request,
    ) -> Hook<'a, Result<Option<Response>, Error>> {
        if self.config.use_sessions {
            return Hook::pending(
                async move { self.process_request(request).await.map(|()| None) },
            );
        }
        let secret = self.cookie_secret(request);
        keep_secret(request, secret);
        Hook::Ready(Ok(None))
    }

    /// [`finish`](Self::finish) as the middleware's hook, with nothing to wait for unless the
    /// secret goes to the session.
    fn process_response_hook<'a>(
        &'a self,
        request: &'a mut Request,
        response: &'a mut Response,
    ) -> Hook<'a, Result<(), Error>> {
        let Some(secret) = secret_to_send(request) else {
            return Hook::Ready(Ok(()));
        };
        if self.config.use_sessions {
            return Hook::pending(async move {
                self.send_secret(request, response, secret).await;
                Ok(())
            });
        }
        self.set_cookie(response, secret);
        Hook::Ready(Ok(()))
    }

    /// Sends the secret back: into the session, or as the CSRF cookie.
    async fn send_secret(&self, request: &mut Request, response: &mut Response, secret: String) {
        if !self.config.use_sessions {
            self.set_cookie(response, secret);
            return;
        }
        // Django writes the session only when the secret changed, so get_token() alone does
        // not re-save it; SessionMiddleware (outside) sends the session cookie. No CSRF cookie
        // and no `Vary: Cookie` from here.
        if let Some(session) = request.extensions().get::<Session>().cloned() {
            let stored = session.get(CSRF_SESSION_KEY).await;
            if stored.as_ref().and_then(serde_json::Value::as_str) != Some(secret.as_str()) {
                session.set(CSRF_SESSION_KEY, secret).await;
            }
        }
    }

    fn set_cookie(&self, response: &mut Response, secret: String) {
        let c = &self.config;
        let mut cookie = SetCookie::new(c.cookie_name.clone(), secret)
            .path(c.cookie_path.clone())
            .secure(c.cookie_secure)
            .httponly(c.cookie_httponly);
        if let Some(age) = c.cookie_age {
            cookie = cookie.max_age(age);
        }
        if let Some(domain) = c.cookie_domain.as_deref().filter(|d| !d.is_empty()) {
            cookie = cookie.domain(domain);
        }
        if let Some(samesite) = &c.cookie_samesite {
            // Validated at start-up.
            cookie = cookie.clone().samesite_str(samesite).unwrap_or(cookie);
        }
        response.set_cookie(&cookie);
        response.patch_vary_headers(&["Cookie"]);
    }

    /// Django's `request.get_port()`.
    fn get_port(&self, request: &Request) -> String {
        if self.config.use_x_forwarded_port {
            if let Some(port) = meta_header(request, &HeaderName::from_static("x-forwarded-port")) {
                return port;
            }
        }
        request
            .connection_info()
            .and_then(|c| c.local_addr)
            // Django's test client and most servers report 80 when nothing better is known.
            .map_or_else(|| "80".to_owned(), |a| a.port().to_string())
    }

    /// Django's `_origin_verified`.
    fn origin_verified(&self, request: &Request, origin: &str) -> bool {
        if let Ok(host) = request.get_host() {
            let scheme = if request.is_secure() { "https" } else { "http" };
            if origin == format!("{scheme}://{host}") {
                return true;
            }
        }
        if self.config.allowed_origins_exact.contains(origin) {
            return true;
        }
        let Ok(parsed) = url::urlsplit(origin) else {
            return false;
        };
        self.config
            .allowed_origin_subdomains
            .get(&parsed.scheme)
            .is_some_and(|hosts| hosts.iter().any(|h| url::is_same_domain(&parsed.netloc, h)))
    }

    /// Django's `_check_referer` (HTTPS requests without `Origin`).
    fn check_referer(&self, request: &Request) -> Verdict {
        let Some(referer) = meta_header(request, &header::REFERER) else {
            return Err(REASON_NO_REFERER.into());
        };
        let parsed = url::urlsplit(&referer).map_err(|_| REASON_MALFORMED_REFERER.to_owned())?;
        if parsed.scheme.is_empty() || parsed.netloc.is_empty() {
            return Err(REASON_MALFORMED_REFERER.into());
        }
        if parsed.scheme != "https" {
            return Err(REASON_INSECURE_REFERER.into());
        }
        if self
            .config
            .trusted_origin_hosts
            .iter()
            .any(|h| url::is_same_domain(&parsed.netloc, h))
        {
            return Ok(());
        }
        let bad = || REASON_BAD_REFERER.replace("%s", &parsed.geturl());
        let good = match &self.config.cookie_domain {
            None => request.get_host().map_err(|_| bad())?,
            Some(domain) => {
                let port = self.get_port(request);
                if port == "443" || port == "80" {
                    domain.clone()
                } else {
                    format!("{domain}:{port}")
                }
            }
        };
        if url::is_same_domain(&parsed.netloc, &good) {
            Ok(())
        } else {
            Err(bad())
        }
    }

    fn bad_token_message(&self, reason: &str, from_post: bool) -> String {
        if from_post {
            format!("CSRF token from POST {reason}.")
        } else {
            format!(
                "CSRF token from the {} HTTP header {reason}.",
                self.config.header_label
            )
        }
    }

    /// The `csrfmiddlewaretoken` POST field (`""` when absent), for POST requests only.
    async fn post_token(&self, request: &mut Request) -> Result<String, Error> {
        let content_type = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        if let Some(boundary) = multipart::boundary(&content_type) {
            return match request.body_bytes().await {
                Ok(body) => Ok(
                    multipart::find_field(&body, &boundary, "csrfmiddlewaretoken")
                        .unwrap_or_default(),
                ),
                // Django's UnreadablePostError (client went away): no token.
                Err(Error::BadRequest(_)) => Ok(String::new()),
                Err(e) => Err(e),
            };
        }
        match request.post().await {
            Ok(form) => Ok(form.get("csrfmiddlewaretoken").unwrap_or("").to_owned()),
            Err(Error::BadRequest(_)) => Ok(String::new()),
            // Too big / too many fields: Django raises from request.POST too (400).
            Err(e) => Err(e),
        }
    }

    /// Django's `_check_token`.
    async fn check_token(&self, request: &mut Request) -> Result<Verdict, Error> {
        // Read again rather than from the state: rotate_token() may have run since.
        let secret = match self.get_secret(request).await? {
            Err(e) => return Ok(Err(format!("CSRF cookie {e}."))),
            Ok(None) => return Ok(Err(REASON_NO_CSRF_COOKIE.into())),
            Ok(Some(secret)) => secret,
        };
        let mut token = String::new();
        if request.method() == http::Method::POST {
            token = self.post_token(request).await?;
        }
        let from_post = !token.is_empty();
        if !from_post {
            match meta_header(request, &self.config.header) {
                Some(value) => token = value,
                None => return Ok(Err(REASON_CSRF_TOKEN_MISSING.into())),
            }
        }
        if let Err(e) = check_token_format(&token) {
            return Ok(Err(self.bad_token_message(&e.to_string(), from_post)));
        }
        if !does_token_match(&token, &secret) {
            return Ok(Err(self.bad_token_message("incorrect", from_post)));
        }
        Ok(Ok(()))
    }

    /// Django's `process_view` decision: `Ok(None)` accepts, `Ok(Some(reason))` rejects.
    async fn verdict(
        &self,
        request: &mut Request,
        markers: &middleware_core::Markers,
    ) -> Result<Option<String>, Error> {
        if self.settled(request, markers) {
            return Ok(None);
        }
        if let Some(origin) = meta_header(request, &header::ORIGIN) {
            if !self.origin_verified(request, &origin) {
                return Ok(Some(REASON_BAD_ORIGIN.replace("%s", &origin)));
            }
        } else if request.is_secure() {
            if let Err(reason) = self.check_referer(request) {
                return Ok(Some(reason));
            }
        }
        if let Err(reason) = self.check_token(request).await? {
            return Ok(Some(reason));
        }
        state_mut(request).processing_done = true;
        Ok(None)
    }

    /// Whether the request passes without a check of its token: already checked, exempt, a
    /// safe method, or `DontEnforceCsrfChecks`.
    ///
    /// Django marks a request accepted this way done (`csrf_processing_done`); here it is not
    /// marked, which a later check (a `csrf_protect` inside the middleware) cannot tell apart:
    /// it finds the same safe method or the same exemption. Marking it cost an extension (an
    /// allocation) on every GET.
    fn settled(&self, request: &Request, markers: &middleware_core::Markers) -> bool {
        let done = request
            .extensions()
            .get::<CsrfState>()
            .is_some_and(|state| state.processing_done);
        done || markers.contains::<CsrfExempt>()
            || request.is_safe_method()
            || request
                .extensions()
                .get::<DontEnforceCsrfChecks>()
                .is_some()
    }

    fn reject(&self, request: &Request, reason: &str) -> Response {
        let response = (self.config.failure_view)(request, reason);
        // Django's log_response: "Forbidden (%s): %s" at warning. The reason names headers
        // and lengths, never the token or the secret.
        tracing::warn!(
            target: "django.security.csrf",
            status_code = response.status().as_u16(),
            path = request.path(),
            "Forbidden ({reason}): {}",
            request.path()
        );
        response
    }
}

impl Hooks for CsrfViewMiddleware {
    fn process_request<'a>(
        &'a self,
        request: &'a mut Request,
    ) -> Hook<'a, Result<Option<Response>, Error>> {
        self.protect.process_request_hook(request)
    }

    fn process_response<'a>(
        &'a self,
        request: &'a mut Request,
        response: &'a mut Response,
    ) -> Hook<'a, Result<(), Error>> {
        self.protect.process_response_hook(request, response)
    }

    fn process_view<'a>(
        &'a self,
        request: &'a mut Request,
        view: &'a ResolverMatch,
    ) -> Hook<'a, Result<Option<Response>, Error>> {
        let accepted = |request: &mut Request| {
            if view.markers().contains::<EnsureCsrfCookie>() {
                get_token(request);
            }
            Ok(None)
        };
        // Safe methods, the common case, need no token from the body: nothing to wait for.
        if self.protect.settled(request, view.markers()) {
            return Hook::Ready(accepted(request));
        }
        Hook::pending(async move {
            match self.protect.verdict(request, view.markers()).await? {
                Some(reason) => Ok(Some(self.protect.reject(request, &reason))),
                None => accepted(request),
            }
        })
    }
}

/// Registers `CsrfViewMiddleware` (also as `django.middleware.csrf.CsrfViewMiddleware`), its
/// settings and system checks, with only Django's default failure view.
pub fn register(registry: &mut Registry) {
    register_with_failure_views(registry, CsrfFailureViews::new());
}

/// As [`register`], resolving `CSRF_FAILURE_VIEW` in `views` (for embedders that keep their own
/// table, and for tests).
pub fn register_with_failure_views(registry: &mut Registry, views: CsrfFailureViews) {
    let for_factory = views.clone();
    registry
        .register_ready_hooks("CsrfViewMiddleware", move |ctx: &BuildContext<'_>| {
            Ok(CsrfViewMiddleware {
                protect: CsrfProtect::from_settings(ctx.settings, &for_factory)?,
            })
        })
        .alias("django.middleware.csrf.CsrfViewMiddleware")
        .needs_process_view()
        .declares::<CsrfSettings>()
        .declares::<SessionCookieSettings>()
        .requires_before_if("SessionMiddleware", |s| {
            CsrfSettings::for_checks(s).is_ok_and(|c| c.use_sessions)
        });
    checks::register(registry, views);
}
