//! Message storages: Django's `CookieStorage`, `SessionStorage` and `FallbackStorage`, and their
//! wire formats.

use std::sync::Arc;

use middleware_core::signing::{self, TimestampSigner};
use middleware_core::{Error, Response, ResponseExt};
use serde_json::Value;

use super::Message;
use crate::sessions::{Session, SessionCookieConfig};

/// Marker of Django's `MessageEncoder` for one message.
pub const MESSAGE_KEY: &str = "__json_message";
/// Django's `CookieStorage.not_finished`: the cookie could not hold every message.
pub const NOT_FINISHED: &str = "__messagesnotfinished__";
/// Django's `CookieStorage.cookie_name`.
pub const COOKIE_NAME: &str = "messages";
/// Django's `CookieStorage.max_cookie_size`.
pub const MAX_COOKIE_SIZE: usize = 2048;
/// The signer salt of `CookieStorage` (`get_cookie_signer(salt="django.contrib.messages")`).
pub const COOKIE_SALT: &str = "django.contrib.messages";
/// Django's `SessionStorage.session_key`.
pub const SESSION_KEY: &str = "_messages";

/// One element of a decoded message list.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Item {
    Message(Message),
    NotFinished,
}

fn message_json(m: &Message) -> Value {
    let mut v = vec![
        Value::from(MESSAGE_KEY),
        Value::from(i64::from(m.is_safe)),
        Value::from(m.level),
        Value::from(m.message.clone()),
    ];
    if let Some(t) = &m.extra_tags {
        v.push(Value::from(t.clone()));
    }
    Value::Array(v)
}

/// Django's `MessageEncoder` output for a list (and the optional sentinel) as a JSON value.
pub(crate) fn encode_list(messages: &[Message], not_finished: bool) -> Value {
    let mut v: Vec<Value> = messages.iter().map(message_json).collect();
    if not_finished {
        v.push(Value::from(NOT_FINISHED));
    }
    Value::Array(v)
}

fn decode_item(v: &Value) -> Option<Item> {
    match v {
        Value::String(s) if s == NOT_FINISHED => Some(Item::NotFinished),
        Value::Array(a) if a.first().and_then(Value::as_str) == Some(MESSAGE_KEY) => {
            let is_safe = match a.get(1)? {
                Value::Bool(b) => *b,
                Value::Number(n) => n.as_i64()? != 0,
                _ => return None,
            };
            let level = i32::try_from(a.get(2)?.as_i64()?).ok()?;
            let message = a.get(3)?.as_str()?.to_owned();
            let extra_tags = match a.get(4) {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(s.clone()),
                Some(_) => return None,
            };
            if a.len() > 5 {
                return None;
            }
            Some(Item::Message(Message {
                level,
                message,
                extra_tags,
                is_safe,
                level_tag: String::new(),
            }))
        }
        _ => None,
    }
}

/// Django's `MessageDecoder` on a top-level list; anything else is an error.
pub(crate) fn decode_list(v: &Value) -> Option<Vec<Item>> {
    v.as_array()?.iter().map(decode_item).collect()
}

/// Python's `json.dumps(value)` with default separators (`", "`, `": "`) and ASCII escapes,
/// as `SessionStorage.serialize_messages` writes.
pub(crate) fn python_json(v: &Value) -> String {
    match v {
        Value::Array(a) => {
            let parts: Vec<String> = a.iter().map(python_json).collect();
            format!("[{}]", parts.join(", "))
        }
        Value::Object(o) => {
            let parts: Vec<String> = o
                .iter()
                .map(|(k, v)| {
                    format!(
                        "{}: {}",
                        python_json(&Value::from(k.clone())),
                        python_json(v)
                    )
                })
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        // Scalars: the compact ASCII form is Python's.
        other => signing::json_dumps(other).unwrap_or_else(|_| "null".to_owned()),
    }
}

/// Which storage `MESSAGE_STORAGE` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StorageKind {
    /// `django.contrib.messages.storage.cookie.CookieStorage`.
    Cookie,
    /// `django.contrib.messages.storage.session.SessionStorage`.
    Session,
    /// `django.contrib.messages.storage.fallback.FallbackStorage` (Django's default).
    Fallback,
}

/// What every request's storage shares: read once from the settings.
pub(crate) struct StorageConfig {
    pub(crate) kind: StorageKind,
    pub(crate) signer: TimestampSigner,
    pub(crate) cookie: SessionCookieConfig,
    pub(crate) level: i32,
    pub(crate) tags: Vec<(i32, String)>,
    pub(crate) debug: bool,
}

impl StorageConfig {
    pub(crate) fn level_tag(&self, level: i32) -> String {
        self.tags
            .iter()
            .find(|(l, _)| *l == level)
            .map(|(_, t)| t.clone())
            .unwrap_or_default()
    }
}

/// Result of reading one storage: `None` = nothing stored there (Django's `None`).
pub(crate) struct Loaded {
    pub(crate) messages: Option<Vec<Message>>,
    pub(crate) all_retrieved: bool,
    /// The cookie could not be decoded (Django sets `used`, so the cookie is deleted).
    pub(crate) bad_cookie: bool,
}

/// Django's `CookieStorage._encode`: the signed, compressed value of the `messages` cookie for
/// `messages` (with the "not finished" sentinel last when `not_finished`). `signer` is
/// `get_cookie_signer(SECRET_KEY, SECRET_KEY_FALLBACKS, COOKIE_SALT)`.
pub fn encode_cookie(
    signer: &TimestampSigner,
    messages: &[Message],
    not_finished: bool,
) -> Result<String, signing::SigningError> {
    signer.sign_object(&encode_list(messages, not_finished), true)
}

/// Django's `CookieStorage._decode`: the messages of a `messages` cookie value and whether it
/// ended with the "not finished" sentinel; `None` when it does not verify or is not a message
/// list. Level tags are left empty (the middleware fills them from `MESSAGE_TAGS`).
pub fn decode_cookie(signer: &TimestampSigner, value: &str) -> Option<(Vec<Message>, bool)> {
    let decoded = signer.unsign_object::<Value>(value, None).ok()?;
    let mut items = decode_list(&decoded)?;
    let not_finished = items.last() == Some(&Item::NotFinished);
    if not_finished {
        items.pop();
    }
    let messages = items
        .into_iter()
        .filter_map(|i| match i {
            Item::Message(m) => Some(m),
            Item::NotFinished => None,
        })
        .collect();
    Some((messages, not_finished))
}

pub(crate) fn cookie_get(config: &StorageConfig, cookie: Option<&str>) -> Loaded {
    let Some(data) = cookie.filter(|c| !c.is_empty()) else {
        return Loaded {
            messages: None,
            all_retrieved: true,
            bad_cookie: false,
        };
    };
    let Some((messages, not_finished)) = decode_cookie(&config.signer, data) else {
        tracing::debug!("messages cookie could not be decoded; ignored");
        return Loaded {
            messages: None,
            all_retrieved: true,
            bad_cookie: true,
        };
    };
    Loaded {
        messages: Some(messages),
        all_retrieved: !not_finished,
        bad_cookie: false,
    }
}

/// `CookieStorage._encode`.
fn cookie_encode(
    config: &StorageConfig,
    messages: &[Message],
    not_finished: bool,
) -> Result<Option<String>, Error> {
    if messages.is_empty() && !not_finished {
        return Ok(None);
    }
    encode_cookie(&config.signer, messages, not_finished)
        .map(Some)
        .map_err(Error::internal)
}

/// `CookieStorage._store`: sets or deletes the cookie; returns the messages that did not fit.
pub(crate) fn cookie_store(
    config: &StorageConfig,
    mut messages: Vec<Message>,
    response: &mut Response,
    remove_oldest: bool,
) -> Result<Vec<Message>, Error> {
    let too_large = |e: &Option<String>| e.as_ref().is_some_and(|s| s.len() > MAX_COOKIE_SIZE);
    let mut encoded = cookie_encode(config, &messages, false)?;
    let mut unstored = Vec::new();
    if too_large(&encoded) {
        // Keep as many messages as fit with the sentinel (the newest when removing the oldest,
        // else the oldest), as Django's bisection does.
        let n = messages.len();
        let mut kept_count = 0;
        let mut kept_encoding = cookie_encode(config, &[], true)?;
        for count in (0..n).rev() {
            let slice = if remove_oldest {
                &messages[n - count..]
            } else {
                &messages[..count]
            };
            let e = cookie_encode(config, slice, true)?;
            if !too_large(&e) {
                kept_count = count;
                kept_encoding = e;
                break;
            }
        }
        if remove_oldest {
            unstored = messages.drain(..n - kept_count).collect();
        } else {
            unstored = messages.split_off(kept_count);
        }
        encoded = kept_encoding;
    }
    let cookie = &config.cookie;
    match encoded {
        Some(value) => {
            let mut c = middleware_core::http_utils::cookies::SetCookie::new(COOKIE_NAME, value)
                .secure(cookie.secure)
                .httponly(cookie.httponly);
            if let Some(d) = &cookie.domain {
                c = c.domain(d.clone());
            }
            if let Some(s) = &cookie.samesite {
                if let Ok(with) = c.clone().samesite_str(s) {
                    c = with;
                }
            }
            response.set_cookie(&c);
        }
        None => response.delete_cookie(
            COOKIE_NAME,
            "/",
            cookie.domain.as_deref(),
            cookie.samesite_enum(),
        ),
    }
    Ok(unstored)
}

pub(crate) async fn session_get(session: &Session) -> Loaded {
    let messages = match session.get(SESSION_KEY).await {
        Some(Value::String(s)) => serde_json::from_str::<Value>(&s)
            .ok()
            .and_then(|v| decode_list(&v))
            .map(|items| {
                items
                    .into_iter()
                    .filter_map(|i| match i {
                        Item::Message(m) => Some(m),
                        Item::NotFinished => None,
                    })
                    .collect()
            })
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    Loaded {
        messages: Some(messages),
        all_retrieved: true,
        bad_cookie: false,
    }
}

pub(crate) async fn session_store(session: &Session, messages: &[Message]) {
    if messages.is_empty() {
        session.pop(SESSION_KEY).await;
    } else {
        session
            .set(SESSION_KEY, python_json(&encode_list(messages, false)))
            .await;
    }
}

/// Shared handle type for the storage config.
pub(crate) type Config = Arc<StorageConfig>;
