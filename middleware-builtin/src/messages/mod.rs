//! Django's messages framework: `MessageMiddleware`
//! (`django.contrib.messages.middleware.MessageMiddleware`) and one-time notifications.
//!
//! ```
//! use middleware_builtin::messages;
//! use middleware_core::{Error, Request, Response};
//!
//! async fn save(request: &mut Request) -> Result<Response, Error> {
//!     messages::success(request, "Saved.")?;
//!     Ok(middleware_core::response::redirect("/show/"))
//! }
//!
//! async fn show(request: &mut Request) -> Result<Response, Error> {
//!     let lines: Vec<String> = messages::get_messages(request)
//!         .await
//!         .iter()
//!         .map(|m| format!("{}: {}", m.tags(), m.message))
//!         .collect();
//!     Ok(Response::new(lines.join("\n").into()))
//! }
//!
//! let mut registry = middleware_core::Registry::new();
//! middleware_builtin::register_all(&mut registry);
//! let settings = middleware_core::Settings::from_toml_str(r#"
//!     SECRET_KEY = "a-secret-key-long-enough-for-the-docs-0123456789"
//!     ALLOWED_HOSTS = ["testserver"]
//!     MIDDLEWARE = ["SessionMiddleware", "MessageMiddleware"]
//! "#, "settings.toml").unwrap();
//! let mut router = middleware_core::Router::new();
//! router.route("save/", save).unwrap().route("show/", show).unwrap();
//! let chain = middleware_core::Chain::builder(&registry, &settings).urls(router).build().unwrap();
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let mut client = middleware_core::test_client::Client::new(chain);
//! assert_eq!(client.get("/save/").await.status, 302);
//! assert_eq!(client.get("/show/").await.text(), "success: Saved.");
//! assert_eq!(client.get("/show/").await.text(), "");
//! # });
//! ```
//!
//! Storages (`MESSAGE_STORAGE`, Django's names): `…storage.cookie.CookieStorage` (signed
//! `messages` cookie, Django's format), `…storage.session.SessionStorage` (session key
//! `_messages`) and `…storage.fallback.FallbackStorage` (the default: the cookie, overflowing
//! into the session).

mod storage;

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use middleware_core::signing::get_cookie_signer;
use middleware_core::{
    BuildContext, Error, FactoryError, Hook, Hooks, Registry, Request, RequestExt, Response,
};

use crate::sessions::{Session, SessionCookieConfig};
pub use storage::{
    decode_cookie, encode_cookie, StorageKind, COOKIE_NAME, COOKIE_SALT, MAX_COOKIE_SIZE,
    MESSAGE_KEY, NOT_FINISHED, SESSION_KEY,
};
use storage::{Config, StorageConfig};

/// `messages.DEBUG`.
pub const DEBUG: i32 = 10;
/// `messages.INFO`.
pub const INFO: i32 = 20;
/// `messages.SUCCESS`.
pub const SUCCESS: i32 = 25;
/// `messages.WARNING`.
pub const WARNING: i32 = 30;
/// `messages.ERROR`.
pub const ERROR: i32 = 40;

/// `MESSAGE_STORAGE` for the cookie storage.
pub const COOKIE_STORAGE: &str = "django.contrib.messages.storage.cookie.CookieStorage";
/// `MESSAGE_STORAGE` for the session storage.
pub const SESSION_STORAGE: &str = "django.contrib.messages.storage.session.SessionStorage";
/// `MESSAGE_STORAGE` for the fallback storage (Django's default).
pub const FALLBACK_STORAGE: &str = "django.contrib.messages.storage.fallback.FallbackStorage";

/// One message: Django's `django.contrib.messages.storage.base.Message`.
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    /// The level (`DEBUG`=10 … `ERROR`=40, or a custom one).
    pub level: i32,
    /// The text.
    pub message: String,
    /// Extra tags (`""` when added through this API, as Django's `add_message` passes).
    pub extra_tags: Option<String>,
    /// Whether the text was marked safe (Django's `SafeData`); kept through the round trip.
    pub is_safe: bool,
    level_tag: String,
}

impl Message {
    /// A message with no extra tags.
    pub fn new(level: i32, message: impl Into<String>, extra_tags: Option<String>) -> Self {
        Message {
            level,
            message: message.into(),
            extra_tags,
            is_safe: false,
            level_tag: String::new(),
        }
    }

    /// The tag of the level (`MESSAGE_TAGS` over Django's defaults), e.g. `info`.
    pub fn level_tag(&self) -> &str {
        &self.level_tag
    }

    /// Django's `tags`: the extra tags then the level tag, space-separated, empty ones left out.
    pub fn tags(&self) -> String {
        [self.extra_tags.as_deref().unwrap_or(""), &self.level_tag]
            .iter()
            .filter(|t| !t.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

#[derive(Default)]
struct State {
    cookie: Option<String>,
    loaded: Option<Vec<Message>>,
    queued: Vec<Message>,
    used: bool,
    added_new: bool,
    level: Option<i32>,
    used_cookie: bool,
    used_session: bool,
}

/// This request's message storage (Django's `request._messages`), put in the request's
/// extensions by [`MessageMiddleware`].
#[derive(Clone)]
pub struct Messages {
    state: Arc<Mutex<State>>,
    config: Config,
    session: Option<Session>,
}

impl fmt::Debug for Messages {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Messages")
            .field("kind", &self.config.kind)
            .finish_non_exhaustive()
    }
}

impl Messages {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The minimum level recorded (`MESSAGE_LEVEL` unless changed for this request).
    pub fn level(&self) -> i32 {
        self.lock().level.unwrap_or(self.config.level)
    }

    /// Changes the minimum level for this request (`None`: back to `MESSAGE_LEVEL`).
    pub fn set_level(&self, level: Option<i32>) {
        self.lock().level = level;
    }

    /// Django's `storage.add`: queues a message unless it is empty or below the level.
    pub fn add(&self, level: i32, message: &str, extra_tags: &str) {
        if message.is_empty() || level < self.level() {
            return;
        }
        let mut st = self.lock();
        st.added_new = true;
        st.queued
            .push(Message::new(level, message, Some(extra_tags.to_owned())));
    }

    /// Loads the stored messages once (Django's `_loaded_messages`).
    async fn ensure_loaded(&self) {
        let cookie = {
            let st = self.lock();
            if st.loaded.is_some() {
                return;
            }
            st.cookie.clone()
        };
        let mut all = Vec::new();
        let (mut used, mut used_cookie, mut used_session) = (false, false, false);
        match self.config.kind {
            StorageKind::Cookie => {
                let l = storage::cookie_get(&self.config, cookie.as_deref());
                used = l.bad_cookie;
                all = l.messages.unwrap_or_default();
            }
            StorageKind::Session => {
                if let Some(session) = &self.session {
                    all = storage::session_get(session)
                        .await
                        .messages
                        .unwrap_or_default();
                }
            }
            StorageKind::Fallback => {
                let l = storage::cookie_get(&self.config, cookie.as_deref());
                if let Some(messages) = l.messages {
                    used_cookie = !messages.is_empty();
                    all.extend(messages);
                    if !l.all_retrieved {
                        if let Some(session) = &self.session {
                            let s = storage::session_get(session).await;
                            let messages = s.messages.unwrap_or_default();
                            used_session = !messages.is_empty();
                            all.extend(messages);
                        }
                    }
                }
            }
        }
        let mut st = self.lock();
        if st.loaded.is_none() {
            st.loaded = Some(all);
            st.used |= used;
            st.used_cookie = used_cookie;
            st.used_session = used_session;
        }
    }

    /// Django's `iter(storage)`: every message (stored, then new), marking them used so they
    /// are not stored again.
    pub async fn iter(&self) -> Vec<Message> {
        self.ensure_loaded().await;
        let mut st = self.lock();
        st.used = true;
        let queued = std::mem::take(&mut st.queued);
        let loaded = st.loaded.get_or_insert_with(Vec::new);
        loaded.extend(queued);
        loaded
            .iter()
            .cloned()
            .map(|mut m| {
                m.level_tag = self.config.level_tag(m.level);
                m
            })
            .collect()
    }

    /// How many messages there are (stored and new), without marking them used.
    pub async fn len(&self) -> usize {
        self.ensure_loaded().await;
        let st = self.lock();
        st.loaded.as_ref().map_or(0, Vec::len) + st.queued.len()
    }

    /// Whether there are no messages.
    pub async fn is_empty(&self) -> bool {
        self.len().await == 0
    }

    /// Whether [`update`](Self::update) has anything to do: messages were read or added.
    fn has_changes(&self) -> bool {
        let st = self.lock();
        st.used || st.added_new
    }

    /// Django's `storage.update(response)`: stores what is left; returns what could not be.
    async fn update(&self, response: &mut Response) -> Result<Vec<Message>, Error> {
        let (used, added_new) = {
            let st = self.lock();
            (st.used, st.added_new)
        };
        let messages = if used {
            std::mem::take(&mut self.lock().queued)
        } else if added_new {
            self.ensure_loaded().await;
            let mut st = self.lock();
            let mut all = st.loaded.clone().unwrap_or_default();
            all.append(&mut st.queued);
            all
        } else {
            return Ok(Vec::new());
        };
        self.store(messages, response).await
    }

    async fn store(
        &self,
        messages: Vec<Message>,
        response: &mut Response,
    ) -> Result<Vec<Message>, Error> {
        match self.config.kind {
            StorageKind::Cookie => storage::cookie_store(&self.config, messages, response, true),
            StorageKind::Session => {
                if let Some(session) = &self.session {
                    storage::session_store(session, &messages).await;
                }
                Ok(Vec::new())
            }
            StorageKind::Fallback => {
                let (used_cookie, used_session) = {
                    let st = self.lock();
                    (st.used_cookie, st.used_session)
                };
                let mut remaining = messages;
                if !remaining.is_empty() {
                    remaining = storage::cookie_store(&self.config, remaining, response, false)?;
                } else if used_cookie {
                    storage::cookie_store(&self.config, Vec::new(), response, false)?;
                }
                if let Some(session) = &self.session {
                    if !remaining.is_empty() {
                        storage::session_store(session, &remaining).await;
                        remaining = Vec::new();
                    } else if used_session {
                        storage::session_store(session, &[]).await;
                    }
                }
                Ok(remaining)
            }
        }
    }
}

const NO_MIDDLEWARE: &str = "You cannot add messages without installing \
     django.contrib.messages.middleware.MessageMiddleware";

/// Django's `add_message(request, level, message, extra_tags="")`. Without the middleware this
/// is Django's `MessageFailure` (a 500 if not handled).
pub fn add_message<B>(
    request: &http::Request<B>,
    level: i32,
    message: &str,
    extra_tags: &str,
) -> Result<(), Error> {
    let storage = request
        .extensions()
        .get::<Messages>()
        .ok_or_else(|| Error::ImproperlyConfigured(NO_MIDDLEWARE.to_owned()))?;
    storage.add(level, message, extra_tags);
    Ok(())
}

/// `add_message` with no extra tags.
pub fn add<B>(request: &http::Request<B>, level: i32, message: &str) -> Result<(), Error> {
    add_message(request, level, message, "")
}

/// `messages.debug(request, message)`.
pub fn debug<B>(request: &http::Request<B>, message: &str) -> Result<(), Error> {
    add(request, DEBUG, message)
}

/// `messages.info(request, message)`.
pub fn info<B>(request: &http::Request<B>, message: &str) -> Result<(), Error> {
    add(request, INFO, message)
}

/// `messages.success(request, message)`.
pub fn success<B>(request: &http::Request<B>, message: &str) -> Result<(), Error> {
    add(request, SUCCESS, message)
}

/// `messages.warning(request, message)`.
pub fn warning<B>(request: &http::Request<B>, message: &str) -> Result<(), Error> {
    add(request, WARNING, message)
}

/// `messages.error(request, message)`.
pub fn error<B>(request: &http::Request<B>, message: &str) -> Result<(), Error> {
    add(request, ERROR, message)
}

/// Django's `get_messages(request)` iterated: every pending message, now marked used (they
/// will not be shown again). Empty without the middleware, as in Django.
pub fn get_messages<B>(
    request: &http::Request<B>,
) -> impl std::future::Future<Output = Vec<Message>> + Send + 'static {
    // Take the handle now, so the future does not borrow the (non-`Sync`) request.
    let storage = storage(request);
    async move {
        match storage {
            Some(storage) => storage.iter().await,
            None => Vec::new(),
        }
    }
}

/// This request's storage, if `MessageMiddleware` ran.
pub fn storage<B>(request: &http::Request<B>) -> Option<Messages> {
    request.extensions().get::<Messages>().cloned()
}

/// Django's `get_level(request)`.
pub fn get_level<B>(request: &http::Request<B>) -> i32 {
    storage(request).map_or(INFO, |s| s.level())
}

/// Django's `set_level(request, level)`: whether the middleware is there to take it.
pub fn set_level<B>(request: &http::Request<B>, level: Option<i32>) -> bool {
    match storage(request) {
        Some(s) => {
            s.set_level(level);
            true
        }
        None => false,
    }
}

/// Django's `MessageMiddleware`.
pub struct MessageMiddleware {
    config: Config,
}

fn storage_kind(name: &str) -> Option<StorageKind> {
    match name {
        COOKIE_STORAGE | "CookieStorage" => Some(StorageKind::Cookie),
        SESSION_STORAGE | "SessionStorage" => Some(StorageKind::Session),
        FALLBACK_STORAGE | "FallbackStorage" => Some(StorageKind::Fallback),
        _ => None,
    }
}

middleware_core::declare_settings! {
    /// The settings `MessageMiddleware` reads.
    pub struct MessageSettings {
        /// also the cookie and session storages
        MESSAGE_STORAGE => storage: String = "django.contrib.messages.storage.fallback.FallbackStorage",
        /// INFO
        MESSAGE_LEVEL => level: i32 = 20,
        /// extra or replaced level tags
        MESSAGE_TAGS => tags: std::collections::BTreeMap<String, String> = {},
    }
    shared {
        /// The cookie storage's cookie.
        cookie: crate::sessions::SessionCookieSettings,
    }
}

/// `MESSAGE_STORAGE` for the order requirement: a value of the wrong type is reported when the
/// chain is built.
fn storage_setting(settings: &middleware_core::Settings) -> String {
    MessageSettings::for_checks(settings)
        .map(|s| s.values.storage)
        .unwrap_or_else(|_| FALLBACK_STORAGE.to_owned())
}

impl MessageMiddleware {
    /// Reads `MESSAGE_STORAGE`, `MESSAGE_LEVEL`, `MESSAGE_TAGS` and the session cookie settings.
    pub fn new(ctx: &BuildContext<'_>) -> Result<Self, FactoryError> {
        let settings = ctx.settings;
        let declared = MessageSettings::from_settings(settings)?;
        let name = declared.storage;
        let kind = storage_kind(&name).ok_or_else(|| {
            settings.invalid(
                "MESSAGE_STORAGE",
                format!("unknown message storage {name:?}"),
                format!("use {FALLBACK_STORAGE:?}, {COOKIE_STORAGE:?} or {SESSION_STORAGE:?}"),
            )
        })?;
        let mut tags: Vec<(i32, String)> = vec![
            (DEBUG, "debug".into()),
            (INFO, "info".into()),
            (SUCCESS, "success".into()),
            (WARNING, "warning".into()),
            (ERROR, "error".into()),
        ];
        for (level, tag) in declared.tags {
            let level: i32 = level.trim().parse().map_err(|_| {
                settings.invalid(
                    "MESSAGE_TAGS",
                    format!("{level:?} is not a message level"),
                    "use integer levels as keys, e.g. MESSAGE_TAGS = { 40 = \"danger\" }",
                )
            })?;
            tags.retain(|(l, _)| *l != level);
            tags.push((level, tag));
        }
        let core = settings.core();
        let fallbacks: Vec<&[u8]> = core
            .secret_key_fallbacks
            .iter()
            .map(|s| s.expose().as_bytes())
            .collect();
        Ok(MessageMiddleware {
            config: Arc::new(StorageConfig {
                kind,
                signer: get_cookie_signer(settings.signing_key()?, &fallbacks, COOKIE_SALT)
                    .map_err(|e| FactoryError::ImproperlyConfigured(e.to_string()))?,
                cookie: SessionCookieConfig::from_declared(settings, declared.cookie)?,
                level: declared.level,
                tags,
                debug: core.debug,
            }),
        })
    }
}

impl Hooks for MessageMiddleware {
    fn process_request<'a>(
        &'a self,
        request: &'a mut Request,
    ) -> Hook<'a, Result<Option<Response>, Error>> {
        let session = match self.config.kind {
            StorageKind::Cookie => None,
            _ => match crate::sessions::session(request) {
                Ok(session) => Some(session),
                Err(_) => {
                    return Hook::Ready(Err(Error::ImproperlyConfigured(
                        "The session-based temporary message storage requires session middleware to be installed, \
                         and come before the message middleware in the MIDDLEWARE list."
                            .to_owned(),
                    )))
                }
            },
        };
        let storage = Messages {
            state: Arc::new(Mutex::new(State {
                cookie: request.cookie(COOKIE_NAME),
                ..State::default()
            })),
            config: self.config.clone(),
            session,
        };
        request.extensions_mut().insert(storage);
        Hook::Ready(Ok(None))
    }

    fn process_response<'a>(
        &'a self,
        request: &'a mut Request,
        response: &'a mut Response,
    ) -> Hook<'a, Result<(), Error>> {
        let Some(storage) = request
            .extensions()
            .get::<Messages>()
            .filter(|s| s.has_changes())
        else {
            return Hook::Ready(Ok(()));
        };
        let storage = storage.clone();
        Hook::pending(async move {
            let unstored = storage.update(response).await?;
            if !unstored.is_empty() && self.config.debug {
                return Err(Error::internal(
                    "Not all temporary messages could be stored.",
                ));
            }
            Ok(())
        })
    }
}

/// Registers `MessageMiddleware`.
pub fn register(registry: &mut Registry) {
    registry
        .register_ready_hooks("MessageMiddleware", MessageMiddleware::new)
        .alias("django.contrib.messages.middleware.MessageMiddleware")
        .declares::<MessageSettings>()
        .requires_before_if("SessionMiddleware", |settings| {
            storage_kind(&storage_setting(settings)) != Some(StorageKind::Cookie)
        });
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
