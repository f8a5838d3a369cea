//! `RedirectFallbackMiddleware`: Django's `django.contrib.redirects`, on its `django_redirect`
//! table. When the rest of the chain answers 404, the request's full path is looked up among
//! the current site's redirects (and, with `APPEND_SLASH`, the path with a slash): a row with
//! a `new_path` answers **301** to it, a row with an empty `new_path` answers **410 Gone**.
//! The rows are Django's, so redirects made in Django's admin are served here as they are.
//! It reads `APPEND_SLASH`, the sites framework's `SITE_ID` and the `default` database.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use middleware_builtin::db::Param;
//! use middleware_core::test_client::Client;
//! use middleware_core::{Chain, Registry, Router, Settings};
//!
//! let dir = std::env::temp_dir().join(format!("redirects-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let settings = Settings::from_toml_str(&format!(r#"
//!     MIDDLEWARE = ["django.contrib.redirects.middleware.RedirectFallbackMiddleware"]
//!     ALLOWED_HOSTS = ["testserver"]
//!     SITE_ID = 1
//!     [DATABASES.default]
//!     ENGINE = "django.db.backends.sqlite3"
//!     NAME = "{}"
//! "#, dir.join("db.sqlite3").display()), "settings.toml").unwrap();
//! let databases = middleware_builtin::db::databases_from_settings(&settings).unwrap();
//! let db = databases.get("default").unwrap();
//! middleware_builtin::db::migrate::migrate(&db).await.unwrap();
//! db.execute(
//!     "INSERT INTO django_redirect (site_id, old_path, new_path) VALUES (1, $1, $2)",
//!     &[Param::text("/old/"), Param::text("/new/")],
//! ).await.unwrap();
//!
//! let mut registry = Registry::new();
//! middleware_builtin::redirects::register(&mut registry);
//! let chain = Chain::builder(&registry, &settings).urls(Router::new()).build().unwrap();
//! let response = Client::new(chain).get("/old/").await;
//! assert_eq!(response.status, 301);
//! assert_eq!(response.header("location"), Some("/new/"));
//! # std::fs::remove_dir_all(&dir).ok();
//! # });
//! ```

use std::sync::Arc;

use http::header::{HeaderValue, LOCATION};
use http::StatusCode;
use middleware_core::http_utils::url::{full_path, iri_to_uri};
use middleware_core::{Error, Hook, Hooks, Registry, Request, RequestExt, Response, SettingsError};

use crate::db::{shared_databases, Database, Param};
use crate::sites::Sites;

/// Schemes a redirect may send a browser to (Django's `HttpResponseRedirectBase.allowed_schemes`);
/// a `new_path` with another one is a `DisallowedRedirect` (400).
const ALLOWED_SCHEMES: &[&str] = &["http", "https", "ftp"];

/// Django's `RedirectFallbackMiddleware`.
#[derive(Debug)]
pub struct RedirectFallbackMiddleware {
    db: Arc<Database>,
    sites: Arc<Sites>,
    append_slash: bool,
    gone_status: StatusCode,
    redirect_status: StatusCode,
}

impl RedirectFallbackMiddleware {
    /// Redirects from `db`'s `django_redirect` rows of the current site.
    pub fn new(db: Arc<Database>, sites: Arc<Sites>, append_slash: bool) -> Self {
        RedirectFallbackMiddleware {
            db,
            sites,
            append_slash,
            gone_status: StatusCode::GONE,
            redirect_status: StatusCode::MOVED_PERMANENTLY,
        }
    }

    /// The status for a row with an empty `new_path` (Django's `response_gone_class`; 410).
    pub fn gone_status(mut self, status: StatusCode) -> Self {
        self.gone_status = status;
        self
    }

    /// The status of a redirect (Django's `response_redirect_class`; 301).
    pub fn redirect_status(mut self, status: StatusCode) -> Self {
        self.redirect_status = status;
        self
    }

    async fn new_path(&self, site_id: i64, old_path: String) -> Result<Option<String>, Error> {
        let row = self
            .db
            .fetch_optional(
                "SELECT new_path FROM django_redirect WHERE site_id = $1 AND old_path = $2",
                &[Param::Int(site_id), Param::Text(old_path)],
            )
            .await
            .map_err(Error::internal)?;
        row.map(|r| r.text(0)).transpose().map_err(Error::internal)
    }

    fn answer(&self, new_path: &str) -> Result<Response, Error> {
        let mut response = Response::new(Default::default());
        if new_path.is_empty() {
            *response.status_mut() = self.gone_status;
            return Ok(response);
        }
        let location = iri_to_uri(new_path);
        if let Some((scheme, _)) = location.split_once(':') {
            let is_scheme = scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
            if is_scheme
                && !scheme.is_empty()
                && !ALLOWED_SCHEMES.contains(&&*scheme.to_ascii_lowercase())
            {
                return Err(Error::suspicious(
                    "DisallowedRedirect",
                    format!("Unsafe redirect to URL with protocol '{scheme}'"),
                ));
            }
        }
        let location = HeaderValue::from_str(&location).map_err(|_| {
            Error::suspicious(
                "DisallowedRedirect",
                "the redirect is not a valid header value",
            )
        })?;
        *response.status_mut() = self.redirect_status;
        response.headers_mut().insert(LOCATION, location);
        Ok(response)
    }
}

impl Hooks for RedirectFallbackMiddleware {
    fn process_response<'a>(
        &'a self,
        request: &'a mut Request,
        response: &'a mut Response,
    ) -> Hook<'a, Result<(), Error>> {
        // Only a 404 looks in the database: every other response needs no future.
        if response.status() != StatusCode::NOT_FOUND {
            return Hook::Ready(Ok(()));
        }
        Hook::pending(async move {
            if let Some(redirect) = self.redirect_for(request).await? {
                *response = redirect;
            }
            Ok(())
        })
    }
}

impl RedirectFallbackMiddleware {
    /// The redirect the `django_redirect` table holds for the request's path, if any.
    async fn redirect_for(&self, request: &mut Request) -> Result<Option<Response>, Error> {
        let path = request.path_info();
        let query = request.uri().query().map(str::to_owned);
        let site = self.sites.get_current(request).await?;
        let mut found = self
            .new_path(site.id, full_path(&path, query.as_deref(), false))
            .await?;
        if found.is_none() && self.append_slash && !path.ends_with('/') {
            found = self
                .new_path(site.id, full_path(&path, query.as_deref(), true))
                .await?;
        }
        found.map(|new_path| self.answer(&new_path)).transpose()
    }
}

fn build(
    ctx: &middleware_core::BuildContext<'_>,
) -> Result<RedirectFallbackMiddleware, SettingsError> {
    let databases = shared_databases(ctx)?;
    let db = databases.require(ctx.settings, "default", "RedirectFallbackMiddleware")?;
    Ok(RedirectFallbackMiddleware::new(
        db,
        Sites::shared(ctx)?,
        ctx.settings.core().append_slash,
    ))
}

/// Registers `RedirectFallbackMiddleware` under its Django path.
pub fn register(registry: &mut Registry) {
    registry
        .register_ready_hooks("RedirectFallbackMiddleware", |ctx| Ok(build(ctx)?))
        .alias("django.contrib.redirects.middleware.RedirectFallbackMiddleware")
        .declares::<crate::sites::SitesSettings>()
        .declares::<crate::db::DatabasesSettings>();
}
