//! Django's authentication middleware without an ORM: `AuthenticationMiddleware`
//! (`request.user`), `LoginRequiredMiddleware`, `RemoteUserMiddleware` and
//! `PersistentRemoteUserMiddleware`, plus `authenticate` / `login` / `logout` and Django's
//! password hashes.
//!
//! ```
//! use middleware_builtin::auth::{self, AuthBackends, Credentials, InMemoryUserBackend, User};
//! use middleware_builtin::auth::hashers::make_password_with;
//! use middleware_builtin::BuiltinOptions;
//! use middleware_core::{Chain, Error, Registry, Request, Response, Router, Settings};
//!
//! async fn do_login(req: &mut Request) -> Result<Response, Error> {
//!     match auth::authenticate(req, &Credentials::new("alice", "wonderland")).await? {
//!         Some(user) => auth::login(req, &user, None).await?,
//!         None => return Ok(Response::new("bad credentials".into())),
//!     }
//!     Ok(Response::new("logged in".into()))
//! }
//! async fn whoami(req: &mut Request) -> Result<Response, Error> {
//!     let user = auth::get_user(req).await?;
//!     Ok(Response::new(format!("user={}", user.username()).into()))
//! }
//!
//! let users = InMemoryUserBackend::new();
//! users.insert(User::new("1", "alice", make_password_with("wonderland", "salt", 1000).unwrap()));
//! let backends = AuthBackends::new();
//! backends.insert("django.contrib.auth.backends.ModelBackend", users);
//! let mut registry = Registry::new();
//! middleware_builtin::register_all_with(&mut registry, BuiltinOptions::default().auth_backends(backends));
//! let settings = Settings::from_toml_str(r#"
//!     SECRET_KEY = "a-secret-key-long-enough-for-the-docs-0123456789"
//!     ALLOWED_HOSTS = ["testserver"]
//!     MIDDLEWARE = [
//!         "django.contrib.sessions.middleware.SessionMiddleware",
//!         "django.contrib.auth.middleware.AuthenticationMiddleware",
//!     ]
//! "#, "settings.toml").unwrap();
//! let mut router = Router::new();
//! router.route("login/", do_login).unwrap().route("me/", whoami).unwrap();
//! let chain = Chain::builder(&registry, &settings).urls(router).build().unwrap();
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let mut client = middleware_core::test_client::Client::new(chain);
//! assert_eq!(client.get("/me/").await.text(), "user=");
//! assert_eq!(client.get("/login/").await.text(), "logged in");
//! assert_eq!(client.get("/me/").await.text(), "user=alice");
//! # });
//! ```
//!
//! Users come from [`UserBackend`]s registered by name in an [`AuthBackends`] table (passed in
//! [`crate::BuiltinOptions`]) and listed, in order, by `AUTHENTICATION_BACKENDS` (default
//! `["django.contrib.auth.backends.ModelBackend"]`). The session keys (`_auth_user_id`,
//! `_auth_user_backend`, `_auth_user_hash`) and the session auth hash are Django's, so a
//! session shared with a Django site (same `SECRET_KEY`, same user ids and password hashes)
//! stays logged in on both.
//!
//! See `docs/middleware/auth.md` for settings, order and differences from Django.

pub mod backends;
mod checks;
pub mod hashers;
mod login_required;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub mod model_backend;
pub mod password_validation;
mod permissions;
mod remote_user;
pub mod user;

use std::future::Future;
use std::sync::Arc;

use middleware_core::crypto::constant_time_eq;
use middleware_core::{
    BuildContext, Error, FactoryError, Hook, Hooks, Registry, Request, Response, Settings,
};
use serde_json::Value;

use crate::sessions::{Session, SessionExt};

pub use backends::{
    AuthBackends, BackendError, Credentials, InMemoryUserBackend, UserBackend, UserFileError,
    MODEL_BACKEND, REMOTE_USER_BACKEND,
};
pub use login_required::{
    redirect_to_login, LoginNotRequired, LoginRequiredMiddleware, LoginRequiredOptions,
    LoginUrlSettings, DEFAULT_LOGIN_URL,
};
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub use model_backend::ModelBackend;
pub use permissions::{
    get_all_permissions, get_group_permissions, get_user_permissions, has_module_perms, has_perm,
    has_perms, permission_required, PermissionRequired, PermissionRequiredView,
};
pub use remote_user::{RemoteUserMiddleware, RemoteUserOptions};
pub use user::{session_auth_hash, CurrentUser, User, SESSION_AUTH_HASH_SALT};

/// Session key of the logged-in user's id (Django's `SESSION_KEY`).
pub const SESSION_KEY: &str = "_auth_user_id";
/// Session key of the backend that authenticated the user (Django's `BACKEND_SESSION_KEY`).
pub const BACKEND_SESSION_KEY: &str = "_auth_user_backend";
/// Session key of the session auth hash (Django's `HASH_SESSION_KEY`).
pub const HASH_SESSION_KEY: &str = "_auth_user_hash";
/// Django's `REDIRECT_FIELD_NAME`.
pub const REDIRECT_FIELD_NAME: &str = "next";

/// Django's dotted path of `AuthenticationMiddleware`.
pub const AUTHENTICATION_MIDDLEWARE: &str =
    "django.contrib.auth.middleware.AuthenticationMiddleware";
/// Django's dotted path of `LoginRequiredMiddleware`.
pub const LOGIN_REQUIRED_MIDDLEWARE: &str =
    "django.contrib.auth.middleware.LoginRequiredMiddleware";
/// Django's dotted path of `RemoteUserMiddleware`.
pub const REMOTE_USER_MIDDLEWARE: &str = "django.contrib.auth.middleware.RemoteUserMiddleware";
/// Django's dotted path of `PersistentRemoteUserMiddleware`.
pub const PERSISTENT_REMOTE_USER_MIDDLEWARE: &str =
    "django.contrib.auth.middleware.PersistentRemoteUserMiddleware";

middleware_core::declare_settings! {
    /// The settings `AuthenticationMiddleware` reads (and the password hashing ones).
    pub struct AuthSettings {
        /// names of `UserBackend`s registered in `BuiltinOptions::auth_backends`;
        /// `django.contrib.auth.backends.ModelBackend` is Django's, over `auth_user` of the
        /// `default` database, when `DATABASES` has one and nothing else is registered under
        /// that name; an unknown name fails at start-up
        AUTHENTICATION_BACKENDS => backends: Vec<String> =
            ["django.contrib.auth.backends.ModelBackend"],
        /// where a login view goes after logging in, through `auth_config`
        LOGIN_REDIRECT_URL => login_redirect_url: String = "/accounts/profile/",
        /// where a logout view goes after logging out, through `auth_config`
        LOGOUT_REDIRECT_URL => logout_redirect_url: Option<String> = unset,
    }
    shared {
        /// `LOGIN_URL`.
        login: LoginUrlSettings,
    }
}

/// The auth settings, read once by `AuthenticationMiddleware` and shared with every request
/// (see [`auth_config`]); a login view finds `LOGIN_REDIRECT_URL` here.
pub struct AuthConfig {
    backends: Vec<(String, Arc<dyn UserBackend>)>,
    keys: crate::sessions::Keys,
    hashing: hashers::PasswordHashing,
    password_validators: password_validation::PasswordValidators,
    /// `LOGIN_URL` (default `/accounts/login/`).
    pub login_url: String,
    /// `LOGIN_REDIRECT_URL` (default `/accounts/profile/`).
    pub login_redirect_url: String,
    /// `LOGOUT_REDIRECT_URL` (default none).
    pub logout_redirect_url: Option<String>,
}

impl std::fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secrets.
        f.debug_struct("AuthConfig")
            .field("backends", &self.backend_names().collect::<Vec<_>>())
            .field("login_url", &self.login_url)
            .field("login_redirect_url", &self.login_redirect_url)
            .field("logout_redirect_url", &self.logout_redirect_url)
            .finish_non_exhaustive()
    }
}

impl AuthConfig {
    /// Reads the settings and resolves `AUTHENTICATION_BACKENDS` in `table` only (no
    /// database: see [`AuthConfig::from_context`]).
    pub fn from_settings(settings: &Settings, table: &AuthBackends) -> Result<Self, FactoryError> {
        Self::resolve(settings, table, None)
    }

    /// Reads the settings and resolves `AUTHENTICATION_BACKENDS` as
    /// [`AuthBackends`] describes: `django.contrib.auth.backends.ModelBackend` is
    /// [`ModelBackend`] over the chain's `default` database when `DATABASES` has one and
    /// `table` holds no backend of that name.
    pub fn from_context(
        ctx: &BuildContext<'_>,
        table: &AuthBackends,
    ) -> Result<Self, FactoryError> {
        #[cfg(any(feature = "sqlite", feature = "postgres"))]
        let model: Option<Arc<dyn UserBackend>> = crate::db::shared_databases(ctx)?
            .get("default")
            .map(|db| Arc::new(ModelBackend::new(db)) as Arc<dyn UserBackend>);
        #[cfg(not(any(feature = "sqlite", feature = "postgres")))]
        let model: Option<Arc<dyn UserBackend>> = None;
        Self::resolve(ctx.settings, table, model)
    }

    fn resolve(
        settings: &Settings,
        table: &AuthBackends,
        model: Option<Arc<dyn UserBackend>>,
    ) -> Result<Self, FactoryError> {
        let declared = AuthSettings::from_settings(settings)?;
        let names = declared.backends;
        if names.is_empty() {
            return Err(settings
                .invalid(
                    "AUTHENTICATION_BACKENDS",
                    "No authentication backends have been defined. Does AUTHENTICATION_BACKENDS contain anything?",
                    "list at least one backend registered in BuiltinOptions::auth_backends",
                )
                .into());
        }
        let mut backends = Vec::with_capacity(names.len());
        for name in names {
            let backend = table
                .get(&name)
                .or_else(|| model.clone().filter(|_| name == MODEL_BACKEND))
                .or_else(|| table.fallback(&name));
            let Some(backend) = backend else {
                return Err(settings
                    .invalid(
                        "AUTHENTICATION_BACKENDS",
                        format!("no authentication backend is registered as {name:?}"),
                        "for Django's ModelBackend, add DATABASES (a \"default\" database migrated with \
                         `migrate`); otherwise register a UserBackend (e.g. auth::InMemoryUserBackend) under that \
                         name in the AuthBackends table passed to register_all_with (BuiltinOptions::auth_backends)",
                    )
                    .into());
            };
            backends.push((name, backend));
        }
        let logout_redirect_url = declared.logout_redirect_url.filter(|s| !s.is_empty());
        Ok(AuthConfig {
            backends,
            keys: crate::sessions::Keys::from_settings(settings)?,
            hashing: hashers::PasswordHashing::from_settings(settings)?,
            password_validators: password_validation::PasswordValidators::from_settings(settings)?,
            login_url: declared.login.login_url,
            login_redirect_url: declared.login_redirect_url,
            logout_redirect_url,
        })
    }

    /// `PASSWORD_HASHERS` on the bounded hashing pool (`PASSWORD_HASHING_WORKERS`,
    /// `PASSWORD_HASHING_QUEUE_TIMEOUT`), shared by every request of the chain: hash passwords
    /// through it (e.g. a password change view's `set_password`).
    pub fn hashing(&self) -> &hashers::PasswordHashing {
        &self.hashing
    }

    /// `AUTH_PASSWORD_VALIDATORS`, read when the chain was built.
    pub fn password_validators(&self) -> &password_validation::PasswordValidators {
        &self.password_validators
    }

    /// The names of `AUTHENTICATION_BACKENDS`, in order.
    pub fn backend_names(&self) -> impl Iterator<Item = &str> {
        self.backends.iter().map(|(n, _)| n.as_str())
    }

    /// The configured backend called `name` (Django's `backend_path in
    /// settings.AUTHENTICATION_BACKENDS` then `load_backend`).
    pub fn backend(&self, name: &str) -> Option<&Arc<dyn UserBackend>> {
        self.backends
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, b)| b)
    }
}

/// Per-request auth state: the config and the user, once loaded.
#[derive(Clone)]
struct AuthState {
    config: Arc<AuthConfig>,
    user: Option<CurrentUser>,
    /// The user's permissions, once asked for (Django's `_perm_cache` & co. on `request.user`).
    perms: permissions::PermCache,
}

/// Django's `AuthenticationMiddleware`: makes [`get_user`] work for this request. The user is
/// loaded from the session on first use only, so requests that never ask for it do not touch
/// the session (and get no `Vary: Cookie` from it).
pub struct AuthenticationMiddleware {
    config: Arc<AuthConfig>,
}

impl AuthenticationMiddleware {
    /// Reads the settings once and resolves the backends in `table`.
    pub fn new(ctx: &BuildContext<'_>, table: &AuthBackends) -> Result<Self, FactoryError> {
        Ok(AuthenticationMiddleware {
            config: Arc::new(AuthConfig::from_context(ctx, table)?),
        })
    }
}

impl Hooks for AuthenticationMiddleware {
    fn process_request<'a>(
        &'a self,
        request: &'a mut Request,
    ) -> Hook<'a, Result<Option<Response>, Error>> {
        if request.extensions().get::<Session>().is_none() {
            return Hook::Ready(Err(Error::ImproperlyConfigured(
                "The Django authentication middleware requires session middleware to be installed. \
                 Edit your MIDDLEWARE setting to insert 'django.contrib.sessions.middleware.SessionMiddleware' \
                 before 'django.contrib.auth.middleware.AuthenticationMiddleware'."
                    .to_owned(),
            )));
        }
        request.extensions_mut().insert(AuthState {
            config: self.config.clone(),
            user: None,
            perms: permissions::PermCache::default(),
        });
        Hook::Ready(Ok(None))
    }

    fn process_response<'a>(
        &'a self,
        _request: &'a mut Request,
        response: &'a mut Response,
    ) -> Hook<'a, Result<(), Error>> {
        with_retry_after(response);
        Hook::Ready(Ok(()))
    }
}

fn no_auth_middleware() -> Error {
    Error::ImproperlyConfigured(
        "this needs request.user: add \"django.contrib.auth.middleware.AuthenticationMiddleware\" \
         (AuthenticationMiddleware) to MIDDLEWARE, after SessionMiddleware and before the code that \
         uses the user"
            .to_owned(),
    )
}

fn state<B>(request: &http::Request<B>) -> Result<&AuthState, Error> {
    request
        .extensions()
        .get::<AuthState>()
        .ok_or_else(no_auth_middleware)
}

fn set_cached_user<B>(request: &mut http::Request<B>, user: CurrentUser) {
    if let Some(st) = request.extensions_mut().get_mut::<AuthState>() {
        st.user = Some(user);
        // Another user: the permissions cached so far were someone else's.
        st.perms = permissions::PermCache::default();
    }
}

/// The auth settings of this request's `AuthenticationMiddleware`.
pub fn auth_config<B>(request: &http::Request<B>) -> Result<Arc<AuthConfig>, Error> {
    Ok(state(request)?.config.clone())
}

/// Django's `request.user`: the logged-in user or [`CurrentUser::Anonymous`], loaded from the
/// session on first use and then cached for the request.
///
/// A session naming an unknown user, a backend not in `AUTHENTICATION_BACKENDS`, or holding
/// values of the wrong type gives the anonymous user; a session whose auth hash does not match
/// the user's password (changed since) is flushed. Errors: no `AuthenticationMiddleware`
/// (ImproperlyConfigured, a 500), or a backend's store failing.
pub async fn get_user<B: Send>(request: &mut http::Request<B>) -> Result<CurrentUser, Error> {
    let st = state(request)?;
    if let Some(user) = &st.user {
        return Ok(user.clone());
    }
    let config = st.config.clone();
    let session = request.session()?;
    let user = load_user(&config, &session).await?;
    set_cached_user(request, user.clone());
    Ok(user)
}

/// Django's `request.user` as a method: [`get_user`] on any `http::Request<B>`, so a view, a
/// middleware and a handler behind `ChainLayer` (an axum handler taking the whole request) read
/// the user the same way.
#[middleware_core::async_trait]
pub trait UserExt {
    /// See [`get_user`].
    async fn user(&mut self) -> Result<CurrentUser, Error>;
}

#[middleware_core::async_trait]
impl<B: Send> UserExt for http::Request<B> {
    async fn user(&mut self) -> Result<CurrentUser, Error> {
        get_user(self).await
    }
}

/// A user id as stored in the session. Django stores `str(pk)`; an integer (written by other
/// code) is accepted as Django's `to_python` would. Anything else is nobody.
fn session_user_id(value: Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s),
        Value::Number(n) if n.is_i64() || n.is_u64() => Some(n.to_string()),
        _ => None,
    }
}

/// Django's `auth.get_user(request)`.
async fn load_user(config: &AuthConfig, session: &Session) -> Result<CurrentUser, Error> {
    let Some(id) = session.get(SESSION_KEY).await.and_then(session_user_id) else {
        return Ok(CurrentUser::Anonymous);
    };
    let Some(Value::String(backend_name)) = session.get(BACKEND_SESSION_KEY).await else {
        return Ok(CurrentUser::Anonymous);
    };
    // A backend no longer (or never) configured: anonymous, the session is kept (Django).
    let Some(backend) = config.backend(&backend_name) else {
        return Ok(CurrentUser::Anonymous);
    };
    let mut user = match backend.get_user(&id).await {
        Ok(Some(user)) => user,
        Ok(None) | Err(BackendError::PermissionDenied) => return Ok(CurrentUser::Anonymous),
        Err(BackendError::Store(e)) => return Err(Error::internal(e)),
        Err(BackendError::Unavailable(busy)) => return Err(busy_error(busy)),
    };
    // Verify the session: the stored hash must be the user's, under SECRET_KEY or a fallback.
    let stored = match session.get(HASH_SESSION_KEY).await {
        Some(Value::String(s)) if !s.is_empty() => Some(s),
        _ => None,
    };
    let current = user.session_auth_hash(&config.keys.secret);
    let verified = stored
        .as_deref()
        .is_some_and(|s| constant_time_eq(s.as_bytes(), current.as_bytes()));
    if !verified {
        let by_fallback =
            stored.as_deref().is_some_and(|s| {
                config.keys.fallbacks.iter().any(|key| {
                    constant_time_eq(s.as_bytes(), user.session_auth_hash(key).as_bytes())
                })
            });
        if by_fallback {
            // Signed with a retired key: move the session to the current one.
            session.cycle_key().await?;
            session.set(HASH_SESSION_KEY, current).await;
        } else {
            session.flush().await?;
            return Ok(CurrentUser::Anonymous);
        }
    }
    user.backend = Some(backend_name);
    Ok(CurrentUser::Authenticated(Arc::new(user)))
}

/// A full hashing pool as an error: 503, given its `Retry-After` by
/// [`AuthenticationMiddleware`] (see [`with_retry_after`]).
fn busy_error(busy: hashers::HashingBusy) -> Error {
    Error::custom(http::StatusCode::SERVICE_UNAVAILABLE, busy)
}

/// A response made from a [`hashers::HashingBusy`] error (a login refused because every
/// hashing worker stayed busy) answers 503 with `Retry-After`, whatever the 500 handler made.
fn with_retry_after(response: &mut Response) {
    let busy = response
        .extensions()
        .get::<middleware_core::ErrorInfo>()
        .and_then(|info| info.0.downcast_ref::<hashers::HashingBusy>())
        .copied();
    if let Some(busy) = busy {
        *response.status_mut() = http::StatusCode::SERVICE_UNAVAILABLE;
        response
            .headers_mut()
            .insert(http::header::RETRY_AFTER, busy.retry_after.into());
    }
}

/// Django's `authenticate(request, username=..., password=...)`: asks each backend of
/// `AUTHENTICATION_BACKENDS` in order; the first user found is returned, with
/// [`User::backend`] set to that backend's name (so [`login`] can store it). A backend
/// answering [`BackendError::PermissionDenied`] stops the search: `None`.
pub fn authenticate(
    request: &Request,
    credentials: &Credentials,
) -> impl Future<Output = Result<Option<User>, Error>> + Send + 'static {
    // The config is taken now, so the future holds no reference to the request (which is not
    // `Sync`) and stays `Send`.
    let config = auth_config(request);
    let credentials = credentials.clone();
    async move {
        let config = config?;
        let credentials = credentials.with_hashing(config.hashing.clone());
        let user = first_user(&config, |backend| backend.authenticate(&credentials)).await?;
        if user.is_none() {
            tracing::debug!(target: "django.contrib.auth", "authentication failed");
        }
        Ok(user)
    }
}

/// Django's `authenticate(request, remote_user=username)`: as [`authenticate`], asking the
/// backends' [`UserBackend::authenticate_remote_user`].
pub fn authenticate_remote_user(
    request: &Request,
    username: &str,
) -> impl Future<Output = Result<Option<User>, Error>> + Send + 'static {
    let config = auth_config(request);
    let username = username.to_owned();
    async move {
        let config = config?;
        first_user(&config, |backend| {
            backend.authenticate_remote_user(&username)
        })
        .await
    }
}

/// Asks each configured backend in order (Django's `authenticate` loop): the first user found
/// wins and remembers its backend's name; `PermissionDenied` stops the search.
async fn first_user<'a, F, Fut>(config: &'a AuthConfig, ask: F) -> Result<Option<User>, Error>
where
    F: Fn(&'a Arc<dyn UserBackend>) -> Fut,
    Fut: Future<Output = Result<Option<User>, BackendError>>,
{
    for (name, backend) in &config.backends {
        match ask(backend).await {
            Ok(Some(mut user)) => {
                user.backend = Some(name.clone());
                return Ok(Some(user));
            }
            Ok(None) => continue,
            Err(BackendError::PermissionDenied) => break,
            Err(BackendError::Store(e)) => return Err(Error::internal(e)),
            Err(BackendError::Unavailable(busy)) => return Err(busy_error(busy)),
        }
    }
    Ok(None)
}

/// Django's `validate_password(password, user)` with the validators of
/// `AUTH_PASSWORD_VALIDATORS` (read once, when the chain was built): `Err` holds every
/// validator's message, in order, for a password form to show. `user` is the user whose
/// password it will be (`None` for one not created yet: the similarity check is skipped).
pub fn validate_password<B>(
    request: &http::Request<B>,
    password: &str,
    user: Option<&User>,
) -> Result<Result<(), password_validation::ValidationErrors>, Error> {
    Ok(state(request)?
        .config
        .password_validators
        .validate_password(password, user))
}

/// Django's `login(request, user, backend)`: remembers `user` in the session.
///
/// Against session fixation, the session key is cycled (or, when the session belonged to
/// another user, the session is flushed); the CSRF token is rotated. `backend` defaults to
/// [`User::backend`] (set by [`authenticate`]), then to the only configured backend.
/// Errors: no `AuthenticationMiddleware` or `SessionMiddleware`; no backend to name (several
/// configured and none given); a backend that is not in `AUTHENTICATION_BACKENDS` (Django stores
/// it anyway and the login silently does not stick); a session store failure.
pub async fn login<B: Send>(
    request: &mut http::Request<B>,
    user: &User,
    backend: Option<&str>,
) -> Result<(), Error> {
    let config = auth_config(request)?;
    let session = request.session()?;
    let backend = match backend.or(user.backend.as_deref()) {
        Some(name) => name.to_owned(),
        None if config.backends.len() == 1 => config.backends[0].0.clone(),
        None => return Err(Error::ImproperlyConfigured(
            "You have multiple authentication backends configured and therefore must provide the \
                 `backend` argument or set the `backend` attribute on the user."
                .to_owned(),
        )),
    };
    if config.backend(&backend).is_none() {
        return Err(Error::ImproperlyConfigured(format!(
            "login() with backend {backend:?}, which is not in AUTHENTICATION_BACKENDS"
        )));
    }
    let hash = user.session_auth_hash(&config.keys.secret);
    if session.contains(SESSION_KEY).await {
        let same_user = session
            .get(SESSION_KEY)
            .await
            .and_then(session_user_id)
            .is_some_and(|id| id == user.id);
        let same_hash = match session.get(HASH_SESSION_KEY).await {
            Some(Value::String(s)) => constant_time_eq(s.as_bytes(), hash.as_bytes()),
            _ => false,
        };
        if !same_user || !same_hash {
            // Never reuse another user's session: start an empty one.
            session.flush().await?;
        }
    } else {
        session.cycle_key().await?;
    }
    session.set(SESSION_KEY, user.id.clone()).await;
    session.set(BACKEND_SESSION_KEY, backend.clone()).await;
    session.set(HASH_SESSION_KEY, hash).await;
    // Django's user_logged_in signal: update_last_login, on the backend's own store.
    let mut logged_in = user.clone();
    if let Some(store) = config.backend(&backend) {
        match store.user_logged_in(user).await {
            Ok(()) => logged_in.last_login = Some(std::time::SystemTime::now()),
            Err(BackendError::Store(e)) => return Err(Error::internal(e)),
            Err(BackendError::Unavailable(busy)) => return Err(busy_error(busy)),
            Err(BackendError::PermissionDenied) => {}
        }
    }
    logged_in.backend = Some(backend);
    set_cached_user(request, CurrentUser::Authenticated(Arc::new(logged_in)));
    crate::csrf::rotate_token(request);
    Ok(())
}

/// Django's `logout(request)`: flushes the session (data and key) and makes the user
/// anonymous. Needs `SessionMiddleware`.
pub async fn logout<B: Send>(request: &mut http::Request<B>) -> Result<(), Error> {
    let session = request.session()?;
    session.flush().await?;
    set_cached_user(request, CurrentUser::Anonymous);
    Ok(())
}

/// Registers the auth middleware with no backends (`AuthenticationMiddleware` then refuses to
/// start until one is registered under each name of `AUTHENTICATION_BACKENDS`): see
/// [`register_with_backends`].
pub fn register(registry: &mut Registry) {
    register_with_backends(registry, AuthBackends::new());
}

/// Registers `AuthenticationMiddleware`, `LoginRequiredMiddleware`, `RemoteUserMiddleware`,
/// `PersistentRemoteUserMiddleware` (Rust names and Django paths) and the `auth.E013` check;
/// `AUTHENTICATION_BACKENDS` names are looked up in `backends`.
///
/// Order: `AuthenticationMiddleware` needs `SessionMiddleware` before it; the others need
/// `AuthenticationMiddleware` before them (the chain refuses other orders at start-up).
pub fn register_with_backends(registry: &mut Registry, backends: AuthBackends) {
    registry
        .register_ready_hooks("AuthenticationMiddleware", move |ctx| {
            AuthenticationMiddleware::new(ctx, &backends)
        })
        .alias(AUTHENTICATION_MIDDLEWARE)
        .declares::<AuthSettings>()
        .requires_before("SessionMiddleware");
    registry
        .register("LoginRequiredMiddleware", |next, ctx| {
            LoginRequiredMiddleware::new(next, ctx)
        })
        .alias(LOGIN_REQUIRED_MIDDLEWARE)
        .needs_process_view()
        .declares::<LoginUrlSettings>()
        .requires_before("AuthenticationMiddleware");
    registry
        .register("RemoteUserMiddleware", |next, ctx| {
            RemoteUserMiddleware::new(next, ctx, RemoteUserOptions::default())
        })
        .alias(REMOTE_USER_MIDDLEWARE)
        .requires_before("AuthenticationMiddleware");
    registry
        .register("PersistentRemoteUserMiddleware", |next, ctx| {
            RemoteUserMiddleware::new(next, ctx, RemoteUserOptions::persistent())
        })
        .alias(PERSISTENT_REMOTE_USER_MIDDLEWARE)
        .requires_before("AuthenticationMiddleware");
    registry.add_check(false, checks::check_middleware);
    // Read by whatever hashes passwords (a view, a management command), not only by
    // AuthenticationMiddleware: known even when it is not in MIDDLEWARE.
    registry.declare::<hashers::PasswordHashingSettings>();
    registry.declare::<password_validation::PasswordValidationSettings>();
}

#[cfg(test)]
mod tests;
