//! `XViewMiddleware`: Django's `django.contrib.admindocs.middleware.XViewMiddleware`. A `HEAD`
//! request from an address in `INTERNAL_IPS`, or from an active staff user, is answered at
//! `process_view`, before the view runs, with an empty 200 whose `X-View` header names the view
//! the URL resolves to ([`ResolverMatch::view_name`]: the Rust path of the view, where Django
//! gives `module.qualname`). Other requests pass untouched. It reads `request.user`, so
//! `AuthenticationMiddleware` must come before it (a start-up error otherwise, where Django
//! raises `ImproperlyConfigured` on the first request).
//!
//! ```
//! use middleware_core::test_client::Client;
//! use middleware_core::{Chain, Error, Registry, Request, Response, Router, Settings};
//!
//! async fn index(_: &mut Request) -> Result<Response, Error> {
//!     Ok(Response::new("home".into()))
//! }
//!
//! // Users from memory here; from `auth_user` with DATABASES (Django's ModelBackend).
//! let backends = middleware_builtin::auth::AuthBackends::new();
//! backends.insert(middleware_builtin::auth::MODEL_BACKEND, middleware_builtin::auth::InMemoryUserBackend::new());
//! let mut registry = Registry::new();
//! let options = middleware_builtin::BuiltinOptions::default().auth_backends(backends);
//! middleware_builtin::register_all_with(&mut registry, options);
//! let settings = Settings::from_toml_str(r#"
//!     SECRET_KEY = "admindocs-example-secret-key-0123456789-abcdefghij"
//!     ALLOWED_HOSTS = ["testserver"]
//!     INTERNAL_IPS = ["127.0.0.1"]
//!     MIDDLEWARE = [
//!         "django.contrib.sessions.middleware.SessionMiddleware",
//!         "django.contrib.auth.middleware.AuthenticationMiddleware",
//!         "django.contrib.admindocs.middleware.XViewMiddleware",
//!     ]
//! "#, "settings.toml").unwrap();
//! let mut router = Router::new();
//! router.route("", index).unwrap();
//! let chain = Chain::builder(&registry, &settings).urls(router).build().unwrap();
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let mut client = Client::new(chain).remote_addr("127.0.0.1:4000".parse().unwrap());
//! let response = client.request(http::Method::HEAD, "/", &[], Default::default()).await;
//! // The function's Rust path: `my_crate::views::index` in a crate.
//! assert!(response.headers["x-view"].to_str().unwrap().ends_with("::index"));
//! # });
//! ```

use http::header::CONTENT_TYPE;
use http::{HeaderValue, Method};
use middleware_core::view::ResolverMatch;
use middleware_core::{
    Error, Hook, Hooks, Registry, Request, RequestExt, Response, Settings, SettingsError,
};

use crate::auth;

middleware_core::declare_settings! {
    /// The settings `XViewMiddleware` reads, with Django's names.
    pub struct XViewSettings {
        /// client addresses (`REMOTE_ADDR`, as strings) that `XViewMiddleware` answers without a
        /// staff login. See [admin docs](middleware/admindocs.md)
        INTERNAL_IPS => internal_ips: Vec<String> = [],
    }
}

/// Django's `XViewMiddleware`.
#[derive(Debug, Clone)]
pub struct XViewMiddleware {
    internal_ips: Vec<String>,
}

impl XViewMiddleware {
    /// Reads `INTERNAL_IPS` (default `[]`): the client addresses (`REMOTE_ADDR`, compared as
    /// strings, as Django does) that get the header without logging in.
    pub fn from_settings(settings: &Settings) -> Result<Self, SettingsError> {
        Ok(XViewMiddleware {
            internal_ips: XViewSettings::from_settings(settings)?.internal_ips,
        })
    }

    fn is_internal(&self, request: &Request) -> bool {
        request
            .connection_info()
            .and_then(|c| c.remote_addr)
            .is_some_and(|addr| self.internal_ips.contains(&addr.ip().to_string()))
    }
}

impl Hooks for XViewMiddleware {
    fn process_view<'a>(
        &'a self,
        request: &'a mut Request,
        view: &'a ResolverMatch,
    ) -> Hook<'a, Result<Option<Response>, Error>> {
        // Only HEAD requests are answered: the others, nearly all, need no future.
        if request.method() != Method::HEAD {
            return Hook::Ready(Ok(None));
        }
        if self.is_internal(request) {
            return Hook::Ready(Ok(Some(x_view(view))));
        }
        Hook::pending(async move {
            let user = auth::get_user(request).await?;
            Ok((user.is_active() && user.is_staff()).then(|| x_view(view)))
        })
    }
}

/// The answer to a HEAD request from an internal address or a staff member: the view's name.
fn x_view(view: &ResolverMatch) -> Response {
    let mut response = Response::new(Default::default());
    let headers = response.headers_mut();
    // Django's HttpResponse() default.
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    // A Rust path is ASCII identifiers and `::`, `<`, `>`, `,`, spaces: always a valid value.
    if let Ok(name) = HeaderValue::from_str(view.view_name()) {
        headers.insert("x-view", name);
    }
    response
}

/// Registers `XViewMiddleware` under its Rust name and Django's dotted path.
pub fn register(registry: &mut Registry) {
    registry
        .register_ready_hooks("XViewMiddleware", |ctx| {
            Ok(XViewMiddleware::from_settings(ctx.settings)?)
        })
        .alias("django.contrib.admindocs.middleware.XViewMiddleware")
        .declares::<XViewSettings>()
        .requires_before("AuthenticationMiddleware");
}
