//! Django's `RemoteUserMiddleware` / `PersistentRemoteUserMiddleware`: trust a front end
//! (web server, SSO proxy) that puts the authenticated username in a request header.
//!
//! **Security:** the header is trusted as it arrives. Only use these behind a proxy that
//! always sets or strips it; a client reaching the site directly could otherwise send it and be
//! logged in as anybody.

use http::HeaderName;
use middleware_core::settings::meta_to_header;
use middleware_core::{
    async_trait, BuildContext, Error, FactoryError, Middleware, Next, Request, Response,
};
use serde_json::Value;

use std::sync::Arc;

use super::{
    auth_config, authenticate_remote_user, get_user, login, logout, AuthConfig, AuthState,
    UserBackend, BACKEND_SESSION_KEY,
};
use crate::sessions::{Session, SessionExt};

/// How a remote-user middleware reads its header.
#[derive(Clone, Debug)]
pub struct RemoteUserOptions {
    header: HeaderName,
    force_logout_if_no_header: bool,
    class_name: &'static str,
}

impl Default for RemoteUserOptions {
    /// Django's `RemoteUserMiddleware`: header `REMOTE_USER` (the HTTP header `remote-user`),
    /// logging out when the header goes away.
    fn default() -> Self {
        RemoteUserOptions {
            header: HeaderName::from_static("remote-user"),
            force_logout_if_no_header: true,
            class_name: "RemoteUserMiddleware",
        }
    }
}

impl RemoteUserOptions {
    /// Django's `PersistentRemoteUserMiddleware`: the login stays when the header goes away
    /// (the header is only set on some "log on" URL).
    pub fn persistent() -> Self {
        RemoteUserOptions {
            force_logout_if_no_header: false,
            class_name: "PersistentRemoteUserMiddleware",
            ..Self::default()
        }
    }

    /// Reads `header` instead: an HTTP header name (`x-auth-user`) or a Django `META` key
    /// (`HTTP_X_AUTH_USER`, `REMOTE_USER`). `None` if it cannot be a header name.
    pub fn header(mut self, header: &str) -> Option<Self> {
        self.header = meta_to_header(header)?;
        Some(self)
    }

    /// Whether a missing header logs out a user logged in through a remote-user backend
    /// (Django's `force_logout_if_no_header`).
    pub fn force_logout_if_no_header(mut self, force: bool) -> Self {
        self.force_logout_if_no_header = force;
        self
    }
}

/// Django's `RemoteUserMiddleware` (and, with [`RemoteUserOptions::persistent`],
/// `PersistentRemoteUserMiddleware`). Needs `AuthenticationMiddleware` before it, and a backend
/// taking remote users (e.g. `InMemoryUserBackend::remote_users`) in `AUTHENTICATION_BACKENDS`.
pub struct RemoteUserMiddleware {
    next: Next,
    options: RemoteUserOptions,
}

impl RemoteUserMiddleware {
    /// A remote-user middleware reading the header of `options`. To use another header,
    /// register your own entry:
    /// `registry.register("SsoMiddleware", |next, ctx| RemoteUserMiddleware::new(next, ctx,
    /// RemoteUserOptions::default().header("x-sso-user").unwrap()))
    /// .requires_before("AuthenticationMiddleware")`.
    pub fn new(
        next: Next,
        _ctx: &BuildContext<'_>,
        options: RemoteUserOptions,
    ) -> Result<Self, FactoryError> {
        Ok(RemoteUserMiddleware { next, options })
    }

    /// The header's value, decoded as Latin-1 as WSGI servers fill `META`.
    fn username(&self, request: &Request) -> Option<String> {
        let value = request.headers().get(&self.options.header)?;
        Some(value.as_bytes().iter().map(|&b| char::from(b)).collect())
    }

    /// The backend named in the session (Django's `load_backend(session[BACKEND_SESSION_KEY])`),
    /// if it is configured.
    async fn session_backend(
        session: &Session,
        config: &AuthConfig,
    ) -> Option<Arc<dyn UserBackend>> {
        match session.get(BACKEND_SESSION_KEY).await {
            Some(Value::String(name)) => config.backend(&name).cloned(),
            _ => None,
        }
    }

    /// Django's `_remove_invalid_user`: logs out a user who came in through a remote-user
    /// backend (or whose backend cannot be found); others keep their session.
    async fn remove_invalid_user(&self, request: &mut Request) -> Result<(), Error> {
        let session = request.session()?;
        let config = auth_config(request)?;
        let backend = Self::session_backend(&session, &config).await;
        if backend.is_none_or(|b| b.is_remote_user_backend()) {
            logout(request).await?;
        }
        Ok(())
    }

    /// Django's `process_request`.
    async fn process_request(&self, request: &mut Request) -> Result<(), Error> {
        if request.extensions().get::<AuthState>().is_none() {
            return Err(Error::ImproperlyConfigured(format!(
                "The Django remote user auth middleware requires the authentication middleware to be \
                 installed. Edit your MIDDLEWARE setting to insert \
                 'django.contrib.auth.middleware.AuthenticationMiddleware' before the {} class.",
                self.options.class_name
            )));
        }
        let Some(username) = self.username(request) else {
            if self.options.force_logout_if_no_header && get_user(request).await?.is_authenticated()
            {
                self.remove_invalid_user(request).await?;
            }
            return Ok(());
        };
        let current = get_user(request).await?;
        if let Some(user) = current.user() {
            // Django's `clean_username`: the backend that logged the user in normalizes it.
            let session = request.session()?;
            let config = auth_config(request)?;
            let cleaned = match Self::session_backend(&session, &config).await {
                Some(backend) => backend.clean_username(&username),
                None => username.clone(),
            };
            if user.username == cleaned {
                return Ok(());
            }
            // The session belongs to someone else than the front end says.
            self.remove_invalid_user(request).await?;
        }
        if let Some(user) = authenticate_remote_user(request, &username).await? {
            login(request, &user, None).await?;
        }
        Ok(())
    }
}

#[async_trait]
impl Middleware for RemoteUserMiddleware {
    async fn call(&self, request: &mut Request) -> Result<Response, Error> {
        self.process_request(request).await?;
        Ok(self.next.get_response(request).await)
    }
}
