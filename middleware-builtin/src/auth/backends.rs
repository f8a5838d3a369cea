//! Authentication backends: where users come from (Django's `AUTHENTICATION_BACKENDS`).
//!
//! ```
//! use middleware_builtin::auth::{AuthBackends, Credentials, InMemoryUserBackend, User, UserBackend};
//! use middleware_builtin::auth::hashers::make_password_with;
//!
//! let users = InMemoryUserBackend::new();
//! users.insert(User::new("1", "alice", make_password_with("wonderland", "salt", 1000).unwrap()));
//! let backends = AuthBackends::new();
//! backends.insert("django.contrib.auth.backends.ModelBackend", users.clone());
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let ok = users.authenticate(&Credentials::new("alice", "wonderland")).await.unwrap();
//! assert_eq!(ok.unwrap().id, "1");
//! assert!(users.authenticate(&Credentials::new("alice", "nope")).await.unwrap().is_none());
//! # });
//! ```

use std::collections::BTreeSet;
use std::fmt;
use std::path::Path;
use std::sync::{Arc, PoisonError, RwLock};

use async_trait::async_trait;
use middleware_core::body::BoxError;
use middleware_core::registry::NamedTable;

use super::hashers::{self, HashingBusy, HashingError, PasswordHashing, Verified};
use super::user::User;

/// Django's default `AUTHENTICATION_BACKENDS` entry.
pub const MODEL_BACKEND: &str = "django.contrib.auth.backends.ModelBackend";
/// Django's `RemoteUserBackend` path (register a backend with remote users enabled under it).
pub const REMOTE_USER_BACKEND: &str = "django.contrib.auth.backends.RemoteUserBackend";

/// A username and a password (Django's `authenticate(request, username=..., password=...)`).
/// `Debug` leaves the password out.
///
/// [`super::authenticate`] hands backends the credentials with the chain's
/// [`PasswordHashing`] (`PASSWORD_HASHERS` on the bounded pool): a backend checks the
/// password with [`Credentials::verify_password`], never on its own thread.
#[derive(Clone)]
pub struct Credentials {
    /// The username.
    pub username: String,
    /// The raw password.
    pub password: String,
    hashing: Option<PasswordHashing>,
}

impl Credentials {
    /// Credentials from a login form.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        Credentials {
            username: username.into(),
            password: password.into(),
            hashing: None,
        }
    }

    /// The same credentials checked with `hashing` (set by [`super::authenticate`]).
    pub fn with_hashing(mut self, hashing: PasswordHashing) -> Self {
        self.hashing = Some(hashing);
        self
    }

    /// The hashers and pool these credentials are checked with: the chain's, or Django's
    /// defaults on a process-wide pool when the credentials did not come through
    /// [`super::authenticate`].
    pub fn hashing(&self) -> &PasswordHashing {
        self.hashing
            .as_ref()
            .unwrap_or_else(|| PasswordHashing::shared_default())
    }

    /// Django's `verify_password(self.password, encoded)` on the hashing pool (`encoded`
    /// `None`: an unknown user, for whom the preferred hasher still runs so that timing does
    /// not tell which usernames exist). [`BackendError::Unavailable`] when the pool stayed
    /// busy for its queue timeout.
    pub async fn verify_password(&self, encoded: Option<&str>) -> Result<Verified, BackendError> {
        let result = match encoded {
            Some(encoded) => {
                self.hashing()
                    .verify_password(&self.password, encoded)
                    .await
            }
            None => self
                .hashing()
                .make_password(&self.password)
                .await
                .map(|_| Verified {
                    is_correct: false,
                    must_update: false,
                }),
        };
        result.map_err(BackendError::from)
    }

    /// The password hashed with the preferred hasher, on the pool (Django's `set_password`
    /// after an upgrade on login).
    pub async fn make_password(&self) -> Result<String, BackendError> {
        self.hashing()
            .make_password(&self.password)
            .await
            .map_err(BackendError::from)
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// Why a backend gave no answer.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// Django's `PermissionDenied` raised by a backend's `authenticate`: stop trying the
    /// remaining backends; the credentials are rejected.
    #[error("permission denied")]
    PermissionDenied,
    /// The user store failed (a 500, as a database error is in Django).
    #[error("user store failed: {0}")]
    Store(BoxError),
    /// Every password hashing worker stayed busy: a 503 with `Retry-After`.
    #[error(transparent)]
    Unavailable(HashingBusy),
}

impl From<HashingError> for BackendError {
    fn from(e: HashingError) -> Self {
        match e {
            HashingError::Busy(busy) => BackendError::Unavailable(busy),
            HashingError::Failed(_) => BackendError::Store(Box::new(e)),
        }
    }
}

/// A source of users: Django's authentication backend.
///
/// Return `Ok(None)` for unknown users, wrong passwords and users who may not log in
/// (Django's `user_can_authenticate`, e.g. inactive users).
#[async_trait]
pub trait UserBackend: Send + Sync + 'static {
    /// Django's `backend.get_user(user_id)`: the user whose id is stored in the session, if it
    /// still exists and may be logged in. `id` comes from the session: treat it as untrusted.
    async fn get_user(&self, id: &str) -> Result<Option<User>, BackendError>;

    /// Django's `backend.authenticate(request, username, password)`.
    async fn authenticate(&self, credentials: &Credentials) -> Result<Option<User>, BackendError>;

    /// Django's `RemoteUserBackend.authenticate(request, remote_user)`: the user named by a
    /// trusted front end (created when unknown, if the backend does that). The default answers
    /// `None`: the backend does not take remote users.
    async fn authenticate_remote_user(
        &self,
        _username: &str,
    ) -> Result<Option<User>, BackendError> {
        Ok(None)
    }

    /// Django's `RemoteUserBackend.clean_username`: normalizes a remote username before lookup
    /// and comparison (default: unchanged).
    fn clean_username(&self, username: &str) -> String {
        username.to_owned()
    }

    /// Whether this is a remote-user backend (Django's `isinstance(backend,
    /// RemoteUserBackend)`): `RemoteUserMiddleware` logs out only users logged in through one.
    fn is_remote_user_backend(&self) -> bool {
        false
    }

    /// Django's `backend.get_user_permissions(user)`: `"app_label.codename"` strings the user
    /// holds directly. Called for active users only (Django's `ModelBackend` answers nothing
    /// for the others); the default holds none.
    async fn get_user_permissions(&self, _user: &User) -> Result<BTreeSet<String>, BackendError> {
        Ok(BTreeSet::new())
    }

    /// Django's `backend.get_group_permissions(user)`: the permissions of the user's groups
    /// (active users only, as [`UserBackend::get_user_permissions`]); the default holds none.
    async fn get_group_permissions(&self, _user: &User) -> Result<BTreeSet<String>, BackendError> {
        Ok(BTreeSet::new())
    }

    /// Django's `user_logged_in` signal as `update_last_login` receives it: [`super::login`]
    /// calls it on the backend that authenticated `user`. The default keeps nothing.
    async fn user_logged_in(&self, _user: &User) -> Result<(), BackendError> {
        Ok(())
    }
}

/// Backends by name, so `AUTHENTICATION_BACKENDS` can name them as Django names dotted paths.
///
/// Cloning shares the same table; pass one to [`crate::register_all_with`] through
/// [`crate::BuiltinOptions::auth_backends`]. Backends may be added until the chain is built
/// (the names are resolved by the middleware's factory). There is no process-wide table.
///
/// How `AuthenticationMiddleware` resolves a name: a backend [`inserted`](Self::insert) under
/// it; else, for `django.contrib.auth.backends.ModelBackend` when `DATABASES` has a `default`
/// database (and an engine is compiled in), [`super::ModelBackend`] over it; else a backend
/// inserted with [`AuthBackends::insert_fallback`] (e.g. an in-memory demo user for settings
/// without a database); else the chain refuses to start.
#[derive(Clone, Debug, Default)]
pub struct AuthBackends {
    table: NamedTable<Arc<dyn UserBackend>>,
    fallbacks: NamedTable<Arc<dyn UserBackend>>,
}

impl std::ops::Deref for AuthBackends {
    type Target = NamedTable<Arc<dyn UserBackend>>;
    fn deref(&self) -> &Self::Target {
        &self.table
    }
}

impl AuthBackends {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) the backend called `name`.
    pub fn insert<B: UserBackend>(&self, name: &str, backend: B) {
        self.insert_arc(name, Arc::new(backend));
    }

    /// Adds (or replaces) a shared backend called `name`.
    pub fn insert_arc(&self, name: &str, backend: Arc<dyn UserBackend>) {
        self.table.insert(name, backend);
    }

    /// Adds (or replaces) the backend used for `name` only when nothing else provides it: for
    /// `django.contrib.auth.backends.ModelBackend`, when `DATABASES` has no `default`.
    pub fn insert_fallback<B: UserBackend>(&self, name: &str, backend: B) {
        self.fallbacks.insert(name, Arc::new(backend));
    }

    /// The fallback backend called `name` (see [`AuthBackends::insert_fallback`]).
    pub fn fallback(&self, name: &str) -> Option<Arc<dyn UserBackend>> {
        self.fallbacks.get(name)
    }
}

/// Why a user file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum UserFileError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// The file is not a JSON list of users.
    #[error("{path} is not a JSON list of users: {source}")]
    Json {
        /// The file.
        path: String,
        /// The error.
        source: serde_json::Error,
    },
    /// Two users share an id or a username.
    #[error("duplicate user id or username: {0:?}")]
    Duplicate(String),
}

#[derive(Default)]
struct Store {
    users: Vec<User>,
}

impl Store {
    fn by_username(&self, username: &str) -> Option<&User> {
        self.users.iter().find(|u| u.username == username)
    }
}

/// Users held in memory: Django's `ModelBackend` over a table of users (and, with
/// [`InMemoryUserBackend::remote_users`], its `RemoteUserBackend`).
///
/// Cloning shares the users. Passwords are checked on the hashing pool of the credentials
/// (hashing is slow on purpose), and a correct password whose hash is out of date (another
/// hasher or other parameters than the first of `PASSWORD_HASHERS`) is hashed again and
/// stored, as Django's `check_password` setter does. As in Django, a login attempt for an
/// unknown username still hashes the password, so timing does not tell which usernames exist.
#[derive(Clone, Default)]
pub struct InMemoryUserBackend {
    store: Arc<RwLock<Store>>,
    remote: Option<RemoteUsers>,
}

#[derive(Clone, Copy, Debug)]
struct RemoteUsers {
    create_unknown_user: bool,
}

impl fmt::Debug for InMemoryUserBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InMemoryUserBackend")
            .field("users", &self.read().users.len())
            .field("remote", &self.remote)
            .finish()
    }
}

impl InMemoryUserBackend {
    /// No users.
    pub fn new() -> Self {
        Self::default()
    }

    /// Users from a JSON list: `[{"id": "1", "username": "alice", "password": "pbkdf2_sha256$..."}]`
    /// (optional fields: `is_active` (default true), `is_staff`, `is_superuser`, `email`,
    /// `first_name`, `last_name`).
    pub fn from_json(json: &str, origin: &str) -> Result<Self, UserFileError> {
        let users: Vec<User> =
            serde_json::from_str(json).map_err(|source| UserFileError::Json {
                path: origin.to_owned(),
                source,
            })?;
        let backend = Self::new();
        for user in users {
            if !backend.insert_new(user.clone()) {
                return Err(UserFileError::Duplicate(user.username));
            }
        }
        Ok(backend)
    }

    /// Users from a JSON file (see [`InMemoryUserBackend::from_json`]).
    pub fn from_json_file(path: impl AsRef<Path>) -> Result<Self, UserFileError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| UserFileError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_json(&text, &path.display().to_string())
    }

    /// Makes this backend Django's `RemoteUserBackend`: [`UserBackend::authenticate_remote_user`]
    /// finds users by username, creating unknown ones (with an unusable password) when
    /// `create_unknown_user` (Django's default), and password logins are no longer taken (as
    /// in Django). For passwords too, list a second backend sharing the same users:
    /// `users.clone().remote_users(true)` and `users` share them.
    pub fn remote_users(mut self, create_unknown_user: bool) -> Self {
        self.remote = Some(RemoteUsers {
            create_unknown_user,
        });
        self
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Store> {
        self.store.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Store> {
        self.store.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds `user`, or replaces the user with the same id (e.g. after a password change).
    pub fn insert(&self, user: User) {
        let mut store = self.write();
        store.users.retain(|u| u.id != user.id);
        store.users.push(user);
    }

    /// Adds `user` unless its id or username is taken; whether it was added.
    fn insert_new(&self, user: User) -> bool {
        let mut store = self.write();
        if store
            .users
            .iter()
            .any(|u| u.id == user.id || u.username == user.username)
        {
            return false;
        }
        store.users.push(user);
        true
    }

    /// The user with `id`, active or not.
    pub fn user(&self, id: &str) -> Option<User> {
        self.read().users.iter().find(|u| u.id == id).cloned()
    }

    /// The user called `username`, active or not.
    pub fn user_by_username(&self, username: &str) -> Option<User> {
        self.read().by_username(username).cloned()
    }

    /// Removes the user with `id`; whether there was one.
    pub fn remove(&self, id: &str) -> bool {
        let mut store = self.write();
        let before = store.users.len();
        store.users.retain(|u| u.id != id);
        store.users.len() != before
    }

    /// How many users there are.
    pub fn len(&self) -> usize {
        self.read().users.len()
    }

    /// Whether there are no users.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[async_trait]
impl UserBackend for InMemoryUserBackend {
    async fn get_user(&self, id: &str) -> Result<Option<User>, BackendError> {
        // Django's ModelBackend.get_user: only users who may authenticate (active ones).
        Ok(self.user(id).filter(|u| u.is_active))
    }

    async fn authenticate(&self, credentials: &Credentials) -> Result<Option<User>, BackendError> {
        // Django's RemoteUserBackend takes no passwords (its authenticate() only accepts
        // remote_user), so a password login goes to the next backend.
        if self.remote.is_some() {
            return Ok(None);
        }
        let user = self.user_by_username(&credentials.username);
        let verified = credentials
            .verify_password(user.as_ref().map(|u| u.password.as_str()))
            .await?;
        let Some(mut user) = user.filter(|u| verified.is_correct && u.is_active) else {
            return Ok(None);
        };
        if verified.must_update {
            let encoded = credentials.make_password().await?;
            // Only if nobody changed the password meanwhile (Django saves the new hash with
            // update_fields=["password"], on the row it just read).
            let mut store = self.write();
            if let Some(stored) = store
                .users
                .iter_mut()
                .find(|u| u.id == user.id && u.password == user.password)
            {
                stored.password = encoded.clone();
                user.password = encoded;
            }
        }
        Ok(Some(user))
    }

    async fn authenticate_remote_user(&self, username: &str) -> Result<Option<User>, BackendError> {
        let Some(remote) = self.remote else {
            return Ok(None);
        };
        // Django's RemoteUserBackend: an empty name authenticates nobody.
        if username.is_empty() {
            return Ok(None);
        }
        let username = self.clean_username(username);
        let user = {
            let mut store = self.write();
            match store.by_username(&username) {
                Some(u) => Some(u.clone()),
                None if remote.create_unknown_user => {
                    // Django's get_or_create: a new row with the next primary key.
                    let next_id = store
                        .users
                        .iter()
                        .filter_map(|u| u.id.parse::<u64>().ok())
                        .max()
                        .unwrap_or(0)
                        .saturating_add(1);
                    let user = User::new(
                        next_id.to_string(),
                        username.clone(),
                        hashers::make_unusable_password(),
                    );
                    store.users.push(user.clone());
                    Some(user)
                }
                None => None,
            }
        };
        Ok(user.filter(|u| u.is_active))
    }

    fn is_remote_user_backend(&self) -> bool {
        self.remote.is_some()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn hashed(p: &str) -> String {
        hashers::make_password_with(p, "salt", 1).unwrap()
    }

    // Django: tests/auth_tests/test_auth_backends.py::ModelBackendTest (inactive users cannot
    // authenticate; get_user skips them).
    #[tokio::test]
    async fn inactive_users_are_rejected() {
        let b = InMemoryUserBackend::new();
        let mut u = User::new("1", "ina", hashed("pw"));
        u.is_active = false;
        b.insert(u);
        assert!(b
            .authenticate(&Credentials::new("ina", "pw"))
            .await
            .unwrap()
            .is_none());
        assert!(b.get_user("1").await.unwrap().is_none());
        assert!(b.user("1").is_some());
    }

    // Django: tests/auth_tests/test_remote_user.py::RemoteUserTest::test_unknown_user and
    // RemoteUserNoCreateTest::test_unknown_user
    #[tokio::test]
    async fn remote_users_are_created_only_when_asked() {
        let b = InMemoryUserBackend::new().remote_users(true);
        b.insert(User::new("41", "knownuser", hashed("pw")));
        let u = b
            .authenticate_remote_user("newuser")
            .await
            .unwrap()
            .unwrap();
        assert_eq!((u.id.as_str(), u.has_usable_password()), ("42", false));
        assert_eq!(b.len(), 2);
        assert!(b.authenticate_remote_user("").await.unwrap().is_none());
        // A remote-user backend takes no passwords (Django's RemoteUserBackend).
        assert!(b
            .authenticate(&Credentials::new("knownuser", "pw"))
            .await
            .unwrap()
            .is_none());
        let no_create = InMemoryUserBackend::new().remote_users(false);
        assert!(no_create
            .authenticate_remote_user("newuser")
            .await
            .unwrap()
            .is_none());
        assert!(no_create.is_empty());
        // Without remote users enabled, the backend takes none.
        assert!(InMemoryUserBackend::new()
            .authenticate_remote_user("knownuser")
            .await
            .unwrap()
            .is_none());
    }

    #[test]
    fn json_users() {
        let b = InMemoryUserBackend::from_json(
            r#"[{"id": "1", "username": "a", "password": "!x", "is_staff": true}]"#,
            "users.json",
        )
        .unwrap();
        assert!(b.user("1").unwrap().is_staff);
        let dup = InMemoryUserBackend::from_json(
            r#"[{"id": "1", "username": "a", "password": "!x"}, {"id": "2", "username": "a", "password": "!x"}]"#,
            "users.json",
        );
        assert!(matches!(dup, Err(UserFileError::Duplicate(_))));
        let bad = InMemoryUserBackend::from_json(r#"{"id": 1}"#, "users.json").unwrap_err();
        assert!(bad.to_string().contains("users.json"));
    }

    #[test]
    fn credentials_debug_hides_the_password() {
        assert!(!format!("{:?}", Credentials::new("u", "hunter2")).contains("hunter2"));
    }
}
