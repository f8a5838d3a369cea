//! `FlatpageFallbackMiddleware`: Django's `django.contrib.flatpages`, on its `django_flatpage`
//! and `django_flatpage_sites` tables. When the rest of the chain answers 404, a flat page of
//! the current site whose `url` is the request's path is rendered instead (with `APPEND_SLASH`,
//! a page at the path plus `/` answers a 301 there). Pages made in Django's admin are served
//! as they are.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use std::sync::Arc;
//! use middleware_builtin::db::Param;
//! use middleware_builtin::flatpages::FlatpageOptions;
//! use middleware_core::test_client::Client;
//! use middleware_core::{Chain, Error, Registry, Render, Router, Settings};
//!
//! /// The site's template engine (the example site uses minijinja).
//! struct Templates;
//! impl Render for Templates {
//!     fn render(&self, _name: &str, context: &serde_json::Map<String, serde_json::Value>)
//!         -> Result<String, Error> {
//!         Ok(format!("<h1>{}</h1>", context["flatpage"]["title"].as_str().unwrap_or("")))
//!     }
//! }
//!
//! let dir = std::env::temp_dir().join(format!("flatpages-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let settings = Settings::from_toml_str(&format!(r#"
//!     MIDDLEWARE = ["django.contrib.flatpages.middleware.FlatpageFallbackMiddleware"]
//!     ALLOWED_HOSTS = ["testserver"]
//!     SITE_ID = 1
//!     [DATABASES.default]
//!     ENGINE = "django.db.backends.sqlite3"
//!     NAME = "{}"
//! "#, dir.join("db.sqlite3").display()), "settings.toml").unwrap();
//! let db = middleware_builtin::db::databases_from_settings(&settings).unwrap().get("default").unwrap();
//! middleware_builtin::db::migrate::migrate(&db).await.unwrap();
//! db.execute("INSERT INTO django_flatpage (id, url, title, content, enable_comments, \
//!     template_name, registration_required) VALUES (1, '/about/', 'About', 'Hi', false, '', false)", &[])
//!     .await.unwrap();
//! db.execute("INSERT INTO django_flatpage_sites (flatpage_id, site_id) VALUES (1, 1)", &[])
//!     .await.unwrap();
//!
//! let mut registry = Registry::new();
//! middleware_builtin::flatpages::register(&mut registry, FlatpageOptions::new(Arc::new(Templates)));
//! let chain = Chain::builder(&registry, &settings).urls(Router::new()).build().unwrap();
//! assert_eq!(Client::new(chain).get("/about/").await.text(), "<h1>About</h1>");
//! # std::fs::remove_dir_all(&dir).ok();
//! # });
//! ```
//!
//! The page is rendered by the application's [`Render`] with the context
//! `{"flatpage": {"id", "url", "title", "content", "enable_comments", "template_name",
//! "registration_required"}}`, from `template_name`, else `flatpages/default.html` (Django's
//! `select_template`). As in Django the page is CSRF-protected on its own (`csrf_protect`,
//! whether or not `CsrfViewMiddleware` is listed: a 404 never reached its `process_view`), and a
//! page with `registration_required` sends anonymous users to `LOGIN_URL`.

use std::sync::Arc;

use http::header::{HeaderValue, LOCATION};
use http::StatusCode;
use middleware_core::http_utils::url::iri_to_uri;
use middleware_core::{
    BuildContext, Error, FactoryError, Hook, Hooks, Markers, Registry, Render, Request, RequestExt,
    Response,
};
use serde_json::{json, Map, Value};

use crate::auth::redirect_to_login;
use crate::csrf::{CsrfFailureViews, CsrfProtect};
use crate::db::{shared_databases, Database, DbError, Param};
use crate::sites::Sites;

/// The template a page without `template_name` is rendered with.
pub const DEFAULT_TEMPLATE: &str = "flatpages/default.html";

/// A row of `django_flatpage` (Django's `FlatPage`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlatPage {
    /// The primary key.
    pub id: i64,
    /// The path it answers, e.g. `/about/`.
    pub url: String,
    /// The title (HTML, not escaped by Django's templates).
    pub title: String,
    /// The content (HTML, not escaped by Django's templates).
    pub content: String,
    /// Django's `enable_comments`.
    pub enable_comments: bool,
    /// The template to render it with; empty for [`DEFAULT_TEMPLATE`].
    pub template_name: String,
    /// Only logged-in users may see it.
    pub registration_required: bool,
}

impl FlatPage {
    fn context(&self) -> Map<String, Value> {
        let mut context = Map::new();
        context.insert(
            "flatpage".to_owned(),
            json!({
                "id": self.id,
                "url": self.url,
                "title": self.title,
                "content": self.content,
                "enable_comments": self.enable_comments,
                "template_name": self.template_name,
                "registration_required": self.registration_required,
            }),
        );
        context
    }
}

/// What the application gives the flat pages: its template engine and the CSRF failure views
/// `CSRF_FAILURE_VIEW` may name.
#[derive(Clone)]
pub struct FlatpageOptions {
    renderer: Arc<dyn Render>,
    csrf_failure_views: CsrfFailureViews,
}

impl std::fmt::Debug for FlatpageOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlatpageOptions").finish_non_exhaustive()
    }
}

impl FlatpageOptions {
    /// Pages rendered by `renderer`, CSRF failures answered by Django's default page.
    pub fn new(renderer: Arc<dyn Render>) -> Self {
        FlatpageOptions {
            renderer,
            csrf_failure_views: CsrfFailureViews::new(),
        }
    }

    /// Resolves `CSRF_FAILURE_VIEW` in `views`.
    pub fn csrf_failure_views(mut self, views: CsrfFailureViews) -> Self {
        self.csrf_failure_views = views;
        self
    }
}

/// Why no page was served.
enum Miss {
    /// Django's `Http404`: the original 404 stands.
    NotFound,
    /// Anything else: the original 404 stands unless `DEBUG` (Django re-raises then).
    Failed(Error),
}

impl From<DbError> for Miss {
    fn from(e: DbError) -> Self {
        Miss::Failed(Error::internal(e))
    }
}

impl From<Error> for Miss {
    fn from(e: Error) -> Self {
        Miss::Failed(e)
    }
}

/// Django's `FlatpageFallbackMiddleware`.
pub struct FlatpageFallbackMiddleware {
    db: Arc<Database>,
    sites: Arc<Sites>,
    renderer: Arc<dyn Render>,
    csrf: CsrfProtect,
    append_slash: bool,
    debug: bool,
    login_url: String,
}

impl std::fmt::Debug for FlatpageFallbackMiddleware {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlatpageFallbackMiddleware")
            .field("append_slash", &self.append_slash)
            .finish_non_exhaustive()
    }
}

impl FlatpageFallbackMiddleware {
    async fn find(&self, url: &str, site_id: i64) -> Result<Option<FlatPage>, DbError> {
        let Some(row) = self
            .db
            .fetch_optional(
                "SELECT f.id, f.url, f.title, f.content, f.enable_comments, f.template_name, \
                 f.registration_required FROM django_flatpage f \
                 JOIN django_flatpage_sites s ON s.flatpage_id = f.id \
                 WHERE f.url = $1 AND s.site_id = $2",
                &[Param::text(url), Param::Int(site_id)],
            )
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(FlatPage {
            id: row.i64(0)?,
            url: row.text(1)?,
            title: row.text(2)?,
            content: row.text(3)?,
            enable_comments: row.bool(4)?,
            template_name: row.text(5)?,
            registration_required: row.bool(6)?,
        }))
    }

    /// Django's `flatpages.views.flatpage(request, request.path_info)`.
    async fn flatpage(&self, request: &mut Request) -> Result<Response, Miss> {
        let path = request.path_info();
        let url = if path.starts_with('/') {
            path.clone()
        } else {
            format!("/{path}")
        };
        let site_id = self.sites.get_current(request).await?.id;
        if let Some(page) = self.find(&url, site_id).await? {
            return Ok(self.render(request, &page).await?);
        }
        if url.ends_with('/') || !self.append_slash {
            return Err(Miss::NotFound);
        }
        if self.find(&format!("{url}/"), site_id).await?.is_none() {
            return Err(Miss::NotFound);
        }
        let location =
            HeaderValue::from_str(&iri_to_uri(&format!("{path}/"))).map_err(|_| Miss::NotFound)?;
        let mut response = Response::new(Default::default());
        *response.status_mut() = StatusCode::MOVED_PERMANENTLY;
        response.headers_mut().insert(LOCATION, location);
        Ok(response)
    }

    /// Django's `render_flatpage`, `csrf_protect`ed.
    async fn render(&self, request: &mut Request, page: &FlatPage) -> Result<Response, Error> {
        if let Some(rejected) = self.csrf.check(request, &Markers::default()).await? {
            return Ok(rejected);
        }
        if page.registration_required && !crate::auth::get_user(request).await?.is_authenticated() {
            return Ok(redirect_to_login(
                &request.path_info(),
                &self.login_url,
                "next",
            ));
        }
        let context = page.context();
        let body = if page.template_name.is_empty() {
            self.renderer.render(DEFAULT_TEMPLATE, &context)?
        } else {
            match self.renderer.render(&page.template_name, &context) {
                Ok(body) => body,
                Err(_) => self.renderer.render(DEFAULT_TEMPLATE, &context)?,
            }
        };
        let mut response = Response::new(body.into());
        response.headers_mut().insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        self.csrf.finish(request, &mut response).await;
        Ok(response)
    }
}

impl Hooks for FlatpageFallbackMiddleware {
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
            match self.flatpage(request).await {
                Ok(page) => *response = page,
                Err(Miss::NotFound) => {}
                Err(Miss::Failed(e)) if self.debug => return Err(e),
                Err(Miss::Failed(e)) => {
                    tracing::warn!(target: "django.contrib.flatpages", error = %e, "flat page lookup failed; the 404 stands");
                }
            }
            Ok(())
        })
    }
}

fn build(
    ctx: &BuildContext<'_>,
    options: &FlatpageOptions,
) -> Result<FlatpageFallbackMiddleware, FactoryError> {
    let databases = shared_databases(ctx)?;
    let db = databases.require(ctx.settings, "default", "FlatpageFallbackMiddleware")?;
    let core = ctx.settings.core();
    Ok(FlatpageFallbackMiddleware {
        db,
        sites: Sites::shared(ctx)?,
        renderer: options.renderer.clone(),
        csrf: CsrfProtect::from_settings(ctx.settings, &options.csrf_failure_views)?,
        append_slash: core.append_slash,
        debug: core.debug,
        login_url: crate::auth::LoginUrlSettings::from_settings(ctx.settings)?.login_url,
    })
}

/// Registers `FlatpageFallbackMiddleware` under its Django path, rendering with the
/// application's template engine.
pub fn register(registry: &mut Registry, options: FlatpageOptions) {
    registry
        .register_ready_hooks("FlatpageFallbackMiddleware", move |ctx| {
            build(ctx, &options)
        })
        .alias("django.contrib.flatpages.middleware.FlatpageFallbackMiddleware")
        .declares::<crate::sites::SitesSettings>()
        .declares::<crate::db::DatabasesSettings>()
        .declares::<crate::auth::LoginUrlSettings>();
}
