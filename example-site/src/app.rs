//! The site as a small application: HTML pages rendered by minijinja templates
//! (`example-site/templates/`, built into the binary) through [`TemplateResponse`], so
//! `process_template_response` hooks see them before they are rendered.
//!
//! | Path | What it does |
//! |---|---|
//! | `/accounts/login/` | GET: the login form (with the CSRF token). POST: `authenticate` + `login`, then a redirect to a safe `next` or `LOGIN_REDIRECT_URL`; bad credentials re-render the form (200) with an error, as Django's `LoginView` |
//! | `/accounts/logout/` | POST only (CSRF-protected): `logout`, a message, a redirect to the login page |
//! | `/private/` | signed-in users only; others are redirected to the login page with `next` |
//! | `/notes/` | a CSRF-protected form; POST adds a success message with the text and redirects (302) back |
//!
//! ```
//! use std::sync::Arc;
//! use middleware_core::Render;
//! let templates = example_site::app::Templates::new().unwrap();
//! let mut context = serde_json::Map::new();
//! context.insert("user".into(), "<b>demo</b>".into());
//! context.insert("email".into(), "demo@example.com".into());
//! context.insert("csrf_token".into(), "token".into());
//! context.insert("messages".into(), serde_json::json!([]));
//! let html = templates.render("private.html", &context).unwrap();
//! // Everything is escaped (autoescape is on for .html templates).
//! assert!(html.contains("&lt;b&gt;demo&lt;&#x2f;b&gt;"));
//! // A variable missing from the context is an error, not a blank.
//! context.remove("email");
//! assert!(templates.render("private.html", &context).is_err());
//! # let _ = Arc::new(templates);
//! ```

use std::sync::Arc;

use http::{HeaderValue, Method, StatusCode};
use middleware_builtin::auth::{self, Credentials, CurrentUser};
use middleware_builtin::cache_middleware::never_cache;
use middleware_builtin::{csrf, messages};
use middleware_core::http_utils::url::url_has_allowed_host_and_scheme;
use middleware_core::response::redirect;
use middleware_core::urls::UrlError;
use middleware_core::{
    async_trait, Error, Render, Request, RequestBodyExt, RequestExt, Response, Route, Router,
    TemplateResponse, View,
};
use serde_json::{Map, Value};

/// The templates, by name, and the source each is built from.
const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../templates/base.html")),
    ("login.html", include_str!("../templates/login.html")),
    ("private.html", include_str!("../templates/private.html")),
    ("notes.html", include_str!("../templates/notes.html")),
    (
        "flatpages/default.html",
        include_str!("../templates/flatpages/default.html"),
    ),
];

/// The site's template engine: one minijinja environment, built once at start-up, with the
/// templates compiled in. Autoescaping is minijinja's default for `.html` names: HTML.
pub struct Templates {
    env: minijinja::Environment<'static>,
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Templates").finish_non_exhaustive()
    }
}

impl Templates {
    /// Compiles the site's templates; a syntax error in one is reported here, at start-up.
    pub fn new() -> Result<Self, minijinja::Error> {
        let mut env = minijinja::Environment::new();
        // A missing variable is an error, not an empty string: a typo in a template must not
        // silently render a blank field.
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        for (name, source) in TEMPLATES {
            env.add_template(name, source)?;
        }
        Ok(Templates { env })
    }
}

impl Render for Templates {
    fn render(&self, template_name: &str, context: &Map<String, Value>) -> Result<String, Error> {
        let template = self
            .env
            .get_template(template_name)
            .map_err(|e| Error::internal(format!("template {template_name}: {e}")))?;
        template
            .render(context)
            .map_err(|e| Error::internal(format!("template {template_name}: {e:#}")))
    }
}

/// The pages of the application.
#[derive(Clone, Copy, Debug)]
enum Page {
    Login,
    Logout,
    Private,
    Notes,
}

/// One page bound to the templates it renders with.
struct AppView {
    templates: Arc<Templates>,
    page: Page,
}

#[async_trait]
impl View for AppView {
    async fn call(&self, request: &mut Request) -> Result<Response, Error> {
        let templates = self.templates.clone();
        match self.page {
            Page::Login => login(templates, request).await,
            Page::Logout => logout(request).await,
            Page::Private => private(templates, request).await,
            Page::Notes => notes(templates, request).await,
        }
    }
}

/// Adds the application's routes to `router`.
pub fn add_routes(router: &mut Router, templates: Arc<Templates>) -> Result<(), UrlError> {
    let view = |page| AppView {
        templates: templates.clone(),
        page,
    };
    router
        .add(Route::with_view("accounts/login/", view(Page::Login)).name("login"))?
        .add(Route::with_view("accounts/logout/", view(Page::Logout)).name("logout"))?
        .add(Route::with_view("private/", view(Page::Private)).name("private"))?
        .add(Route::with_view("notes/", view(Page::Notes)).name("notes"))?;
    Ok(())
}

/// The current user, anonymous when the stack has no `AuthenticationMiddleware` (pages that
/// only show the user still work then; the ones that need it fail in `login`/`authenticate`).
async fn current_user(request: &mut Request) -> Result<CurrentUser, Error> {
    match auth::get_user(request).await {
        Ok(user) => Ok(user),
        Err(Error::ImproperlyConfigured(_)) => Ok(CurrentUser::Anonymous),
        Err(e) => Err(e),
    }
}

/// What every page shows: the user, the CSRF token (for the logout form) and the messages
/// (consumed: they are shown once).
async fn base_context(request: &mut Request) -> Result<Map<String, Value>, Error> {
    let user = current_user(request).await?;
    let mut context = Map::new();
    context.insert(
        "user".into(),
        match user.user() {
            Some(u) => Value::String(u.username.clone()),
            None => Value::Null,
        },
    );
    context.insert("csrf_token".into(), Value::String(csrf::get_token(request)));
    let pending = messages::get_messages(request).await;
    let pending: Vec<Value> = pending
        .iter()
        .map(|m| serde_json::json!({ "tags": m.tags(), "message": m.message }))
        .collect();
    context.insert("messages".into(), Value::Array(pending));
    Ok(context)
}

/// A rendered page that no cache may keep (it shows the user, the token and messages).
fn page(templates: Arc<Templates>, name: &str, context: Map<String, Value>) -> Response {
    let mut response = TemplateResponse::new(templates, name, context).into_response();
    never_cache(&mut response);
    response
}

/// Django's `LoginView.get_success_url`: `next` (POST, then GET) when it is safe for this host
/// (and for HTTPS when the request is secure), else `LOGIN_REDIRECT_URL`.
fn success_url(request: &Request, next: &str, login_redirect_url: &str) -> String {
    let safe = match request.get_host() {
        Ok(host) => url_has_allowed_host_and_scheme(next, &[host], request.is_secure()),
        Err(_) => false,
    };
    if safe {
        next.to_owned()
    } else {
        login_redirect_url.to_owned()
    }
}

/// `/accounts/login/`.
async fn login(templates: Arc<Templates>, request: &mut Request) -> Result<Response, Error> {
    let config = auth::auth_config(request)?;
    let query_next = request
        .query()
        .get(auth::REDIRECT_FIELD_NAME)
        .unwrap_or("")
        .to_owned();
    let mut error = None;
    let mut username = String::new();
    let mut next = query_next;
    if request.method() == Method::POST {
        let form = request.post().await?;
        username = form.get("username").unwrap_or("").to_owned();
        let password = form.get("password").unwrap_or("").to_owned();
        if let Some(n) = form
            .get(auth::REDIRECT_FIELD_NAME)
            .filter(|n| !n.is_empty())
        {
            next = n.to_owned();
        }
        let user = if username.is_empty() || password.is_empty() {
            None
        } else {
            auth::authenticate(request, &Credentials::new(username.clone(), password)).await?
        };
        match user {
            Some(user) if user.is_active => {
                auth::login(request, &user, None).await?;
                let to = success_url(request, &next, &config.login_redirect_url);
                return Ok(redirect(&to));
            }
            // Django's AuthenticationForm message, for wrong credentials and inactive users
            // alike (ModelBackend does not authenticate inactive users).
            _ => {
                error = Some(
                    "Please enter a correct username and password. Note that both fields may be \
                     case-sensitive.",
                )
            }
        }
    }
    let mut context = base_context(request).await?;
    context.insert(
        "error".into(),
        error.map(Value::from).unwrap_or(Value::Null),
    );
    context.insert("username".into(), Value::String(username));
    context.insert("next".into(), Value::String(next));
    Ok(page(templates, "login.html", context))
}

/// `/accounts/logout/`: POST only, as Django's `LogoutView` (a GET could be forged by any
/// page with an `<img>`).
async fn logout(request: &mut Request) -> Result<Response, Error> {
    if request.method() != Method::POST {
        let mut response = middleware_core::response::text(StatusCode::METHOD_NOT_ALLOWED, "");
        response
            .headers_mut()
            .insert(http::header::ALLOW, HeaderValue::from_static("POST"));
        return Ok(response);
    }
    let config = auth::auth_config(request)?;
    auth::logout(request).await?;
    messages::info(request, "You have been logged out.")?;
    let to = config
        .logout_redirect_url
        .clone()
        .unwrap_or_else(|| config.login_url.clone());
    Ok(redirect(&to))
}

/// `/private/`: Django's `login_required` in the view (the site's settings do not list
/// `LoginRequiredMiddleware`, which would guard every page).
async fn private(templates: Arc<Templates>, request: &mut Request) -> Result<Response, Error> {
    let user = current_user(request).await?;
    let Some(user) = user.user().cloned() else {
        let login_url = auth::auth_config(request)
            .map(|c| c.login_url.clone())
            .unwrap_or_else(|_| auth::DEFAULT_LOGIN_URL.to_owned());
        let next = request.full_path();
        return Ok(auth::redirect_to_login(
            &next,
            &login_url,
            auth::REDIRECT_FIELD_NAME,
        ));
    };
    let mut context = base_context(request).await?;
    context.insert("email".into(), Value::String(user.email.clone()));
    Ok(page(templates, "private.html", context))
}

/// `/notes/`: POST adds the text as a success message and redirects back (post/redirect/get).
async fn notes(templates: Arc<Templates>, request: &mut Request) -> Result<Response, Error> {
    let mut error = None;
    if request.method() == Method::POST {
        let form = request.post().await?;
        let text = form.get("text").unwrap_or("").trim().to_owned();
        if text.is_empty() {
            error = Some("Write something first.");
        } else if text.chars().count() > 200 {
            error = Some("A note is at most 200 characters.");
        } else {
            messages::success(request, &format!("Note saved: {text}"))?;
            return Ok(redirect("/notes/"));
        }
    }
    let mut context = base_context(request).await?;
    context.insert(
        "error".into(),
        error.map(Value::from).unwrap_or(Value::Null),
    );
    Ok(page(templates, "notes.html", context))
}
