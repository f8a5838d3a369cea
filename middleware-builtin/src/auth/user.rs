//! The user model: a small stand-in for Django's `AbstractUser`, and `request.user`.
//!
//! ```
//! use std::sync::Arc;
//! use middleware_builtin::auth::{CurrentUser, User};
//! use middleware_builtin::auth::hashers::make_password_with;
//!
//! let mut alice = User::new("1", "alice", make_password_with("wonderland", "salt", 1000).unwrap());
//! assert!(alice.check_password("wonderland"));
//! let before = alice.session_auth_hash(b"secret");
//! alice.password = make_password_with("new", "salt", 1000).unwrap();
//! assert_ne!(alice.session_auth_hash(b"secret"), before); // other sessions are logged out
//! let user = CurrentUser::Authenticated(Arc::new(alice));
//! assert!(user.is_authenticated() && user.username() == "alice");
//! assert!(CurrentUser::Anonymous.is_anonymous());
//! ```

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use middleware_core::crypto::{salted_hmac, Algorithm};
use serde::{Deserialize, Serialize};

use super::hashers;

/// The `key_salt` of Django's `AbstractBaseUser.get_session_auth_hash`.
pub const SESSION_AUTH_HASH_SALT: &str =
    "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash";

/// A user, as a backend stores it: the fields of Django's `AbstractUser` that authentication
/// reads.
///
/// `password` is a Django hash string (`pbkdf2_sha256$...`), never a raw password; `Debug`
/// leaves it out.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// The primary key, as a string (Django stores `str(user.pk)` in the session).
    pub id: String,
    /// The username (Django's `USERNAME_FIELD`).
    pub username: String,
    /// The hashed password (see [`hashers`]); `!...` when unusable.
    pub password: String,
    /// Inactive users cannot log in, and a logged-in user made inactive is logged out on the
    /// next request (by the backends shipped here, as by Django's `ModelBackend`).
    #[serde(default = "default_true")]
    pub is_active: bool,
    /// Django's `is_staff`.
    #[serde(default)]
    pub is_staff: bool,
    /// Django's `is_superuser`.
    #[serde(default)]
    pub is_superuser: bool,
    /// Django's `email`.
    #[serde(default)]
    pub email: String,
    /// Django's `first_name`.
    #[serde(default)]
    pub first_name: String,
    /// Django's `last_name`.
    #[serde(default)]
    pub last_name: String,
    /// Django's `last_login` (`None`: never logged in, or unknown to the backend);
    /// `ModelBackend` writes it on each [`super::login`].
    #[serde(skip)]
    pub last_login: Option<SystemTime>,
    /// Django's `date_joined` (`None` when the backend does not keep it).
    #[serde(skip)]
    pub date_joined: Option<SystemTime>,
    /// The backend that authenticated this user (Django's `user.backend`, set by
    /// [`super::authenticate`]); [`super::login`] stores it in the session.
    #[serde(skip)]
    pub backend: Option<String>,
}

fn default_true() -> bool {
    true
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the password hash: it is what the session auth hash is derived from.
        f.debug_struct("User")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("is_active", &self.is_active)
            .field("is_staff", &self.is_staff)
            .field("is_superuser", &self.is_superuser)
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

impl User {
    /// An active user with an already hashed password (e.g. from [`hashers::make_password`]).
    pub fn new(
        id: impl Into<String>,
        username: impl Into<String>,
        password_hash: impl Into<String>,
    ) -> Self {
        User {
            id: id.into(),
            username: username.into(),
            password: password_hash.into(),
            is_active: true,
            is_staff: false,
            is_superuser: false,
            email: String::new(),
            first_name: String::new(),
            last_name: String::new(),
            last_login: None,
            date_joined: None,
            backend: None,
        }
    }

    /// Django's `set_password(raw)`: hashes `raw` with [`hashers::make_password`] (slow on
    /// purpose).
    pub fn set_password(&mut self, raw: &str) {
        self.password = hashers::make_password(raw);
    }

    /// Django's `set_unusable_password()`.
    pub fn set_unusable_password(&mut self) {
        self.password = hashers::make_unusable_password();
    }

    /// Django's `has_usable_password()`.
    pub fn has_usable_password(&self) -> bool {
        hashers::is_password_usable(&self.password)
    }

    /// Django's `check_password(raw)` (without the re-hash on upgrade: see
    /// [`hashers::must_update`]).
    pub fn check_password(&self, raw: &str) -> bool {
        hashers::check_password(raw, &self.password)
    }

    /// Django's `get_session_auth_hash()` under `secret`: the HMAC-SHA256 of the password hash,
    /// hex. Changing the password changes it, which logs out every other session.
    pub fn session_auth_hash(&self, secret: &[u8]) -> String {
        session_auth_hash(&self.password, secret)
    }

    /// Django's `get_username()`.
    pub fn get_username(&self) -> &str {
        &self.username
    }
}

/// `salted_hmac(SESSION_AUTH_HASH_SALT, password_hash, secret, sha256).hexdigest()`.
pub fn session_auth_hash(password_hash: &str, secret: &[u8]) -> String {
    salted_hmac(
        SESSION_AUTH_HASH_SALT,
        password_hash.as_bytes(),
        secret,
        Algorithm::Sha256,
    )
    .iter()
    .map(|b| format!("{b:02x}"))
    .collect()
}

/// `request.user`: Django's `AnonymousUser` or a user model instance.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum CurrentUser {
    /// Nobody is logged in (Django's `AnonymousUser`).
    #[default]
    Anonymous,
    /// The logged-in user.
    Authenticated(Arc<User>),
}

impl CurrentUser {
    /// Django's `user.is_authenticated`.
    pub fn is_authenticated(&self) -> bool {
        matches!(self, CurrentUser::Authenticated(_))
    }

    /// Django's `user.is_anonymous`.
    pub fn is_anonymous(&self) -> bool {
        !self.is_authenticated()
    }

    /// The user, when one is logged in.
    pub fn user(&self) -> Option<&Arc<User>> {
        match self {
            CurrentUser::Anonymous => None,
            CurrentUser::Authenticated(u) => Some(u),
        }
    }

    /// Django's `get_username()`: empty for the anonymous user.
    pub fn username(&self) -> &str {
        self.user().map_or("", |u| u.username.as_str())
    }

    /// Django's `user.pk` as a string; `None` for the anonymous user.
    pub fn id(&self) -> Option<&str> {
        self.user().map(|u| u.id.as_str())
    }

    /// Django's `is_active` (false for the anonymous user).
    pub fn is_active(&self) -> bool {
        self.user().is_some_and(|u| u.is_active)
    }

    /// Django's `is_staff` (false for the anonymous user).
    pub fn is_staff(&self) -> bool {
        self.user().is_some_and(|u| u.is_staff)
    }

    /// Django's `is_superuser` (false for the anonymous user).
    pub fn is_superuser(&self) -> bool {
        self.user().is_some_and(|u| u.is_superuser)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    // docs/reference §4.4 vector, also in middleware-core's crypto doc.
    #[test]
    fn session_auth_hash_vector() {
        let u = User::new("1", "a", "pbkdf2_sha256$x");
        assert_eq!(
            u.session_auth_hash(b"django-insecure-test-key-0123456789"),
            "04347477c94e271ac4b7ad600084497bca9791a239aeb93e52540ea0023a1e29"
        );
    }

    #[test]
    fn debug_hides_the_password_hash() {
        let u = User::new("1", "alice", "pbkdf2_sha256$1$salt$SECRETHASH");
        assert!(!format!("{u:?}").contains("SECRETHASH"));
    }

    #[test]
    fn anonymous_user_has_no_rights() {
        let a = CurrentUser::Anonymous;
        assert!(a.is_anonymous() && !a.is_authenticated());
        assert_eq!(a.username(), "");
        assert!(!a.is_active() && !a.is_staff() && !a.is_superuser());
        let mut u = User::new("7", "bob", "!x");
        u.is_staff = true;
        let u = CurrentUser::Authenticated(Arc::new(u));
        assert!(u.is_authenticated() && u.is_staff() && !u.is_superuser());
        assert_eq!(u.id(), Some("7"));
    }

    #[test]
    fn json_defaults() {
        let u: User = serde_json::from_str(r#"{"id":"1","username":"a","password":"!x"}"#).unwrap();
        assert!(u.is_active && !u.is_staff && u.backend.is_none());
    }
}
