//! The URLconf of the second conformance contract (`shared/conformance2/ROUTES.md`): Django's
//! auth views, `LoginRequiredMiddleware`, CORS, `i18n_patterns`, CSP overrides and
//! `cache_page`, with the bodies the Django site that recorded the scenarios answers.
//!
//! `example-site --urlconf conformance2 serve --settings ../shared/conformance2/settings.toml`
//! serves it.
//!
//! ```
//! let settings = middleware_core::Settings::from_toml_str(
//!     r#"ALLOWED_HOSTS = ["testserver"]"#,
//!     "settings.toml",
//! ).unwrap();
//! let router = example_site::conformance2::router(&settings).unwrap();
//! assert_eq!(router.reverse("hello-fr", &[]).unwrap(), "/fr/hello/");
//! ```

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use http::{HeaderValue, Method, StatusCode};
use middleware_builtin::auth::{self, Credentials, LoginNotRequired};
use middleware_builtin::cache::{caches_from_settings, Caches};
use middleware_builtin::cache_middleware::{never_cache, CachePage, CachePageView};
use middleware_builtin::csp::{self, CspNonce, CspOverride, CspPolicy, CspReportOnlyOverride};
use middleware_builtin::csrf::{self, CsrfExempt};
use middleware_builtin::locale::{ActiveLanguage, I18nPatterns};
use middleware_builtin::sessions::SessionExt;
use middleware_core::error::html_escape;
use middleware_core::http_utils::url::url_has_allowed_host_and_scheme;
use middleware_core::response::{html, json, redirect, text, ResponseExt};
use middleware_core::{
    async_trait, view_fn, Error, Request, RequestBodyExt, RequestExt, Response, Route, Router,
    Settings, View,
};
use serde_json::json;

/// The URLconf's `i18n_patterns(..., prefix_default_language=True)`.
pub const I18N_PATTERNS: I18nPatterns = I18nPatterns {
    prefix_default_language: true,
};

/// The languages the prefixed routes exist for (the contract's `LANGUAGES`).
const LANGUAGES: &[&str] = &["en", "fr", "de"];

/// Django's `AuthenticationForm` message for wrong credentials (and inactive users, whom the
/// model backend does not authenticate).
pub const INVALID_LOGIN: &str =
    "Please enter a correct username and password. Note that both fields may be case-sensitive.";
/// Django's `Field.default_error_messages["required"]`.
pub const REQUIRED: &str = "This field is required.";

fn plain(body: impl Into<String>) -> Response {
    text(StatusCode::OK, body.into())
}

/// `request.user.get_username()`, or `None` for the anonymous user.
async fn username(request: &mut Request) -> Result<Option<String>, Error> {
    Ok(auth::get_user(request)
        .await?
        .user()
        .map(|u| u.username.clone()))
}

/// `get_language()`: the language `LocaleMiddleware` activated.
fn language(request: &Request) -> String {
    request
        .extensions()
        .get::<ActiveLanguage>()
        .map(|l| l.0.clone())
        .unwrap_or_default()
}

/// `request._csp_nonce`: the nonce, generated now if the CSP middleware has not yet.
fn nonce(request: &Request) -> Result<String, Error> {
    request
        .extensions()
        .get::<CspNonce>()
        .map(|n| n.value().to_owned())
        .ok_or_else(|| Error::internal("no CspNonce: ContentSecurityPolicyMiddleware is missing"))
}

/// The name of the logged-in user for a view that `LoginRequiredMiddleware` guards.
async fn required_username(request: &mut Request) -> Result<String, Error> {
    username(request)
        .await?
        .ok_or_else(|| Error::internal("login-required view reached by an anonymous user"))
}

/// Executions of the three `cache_page` views together (reset by `/cached/reset/`), so a
/// cache hit is visible in the body.
#[derive(Debug, Default)]
struct Executions(AtomicU64);

impl Executions {
    fn next(&self) -> u64 {
        self.0.fetch_add(1, Ordering::SeqCst) + 1
    }
}

/// Which of the `cache_page` views.
#[derive(Clone, Copy, Debug)]
enum CachedPage {
    Plain,
    Cookie,
    Session,
}

struct CachedView {
    page: CachedPage,
    executions: Arc<Executions>,
}

#[async_trait]
impl View for CachedView {
    async fn call(&self, request: &mut Request) -> Result<Response, Error> {
        let n = self.executions.next();
        Ok(match self.page {
            CachedPage::Plain => plain(format!("cached executions: {n}\n")),
            CachedPage::Cookie => {
                let mut r = plain(format!("cookie executions: {n}\n"));
                r.set_cookie(&middleware_core::http_utils::cookies::SetCookie::new(
                    "pref", "1",
                ));
                r.patch_vary_headers(&["Cookie"]);
                r
            }
            CachedPage::Session => {
                let visits = request.session()?.get("visits").await.unwrap_or(json!(0));
                plain(format!("session executions: {n} visits: {visits}\n"))
            }
        })
    }
}

/// `/cached/reset/`: clears the default cache and the execution counter.
struct CacheReset {
    caches: Arc<Caches>,
    executions: Arc<Executions>,
}

#[async_trait]
impl View for CacheReset {
    async fn call(&self, _: &mut Request) -> Result<Response, Error> {
        if let Some(cache) = self.caches.get("default") {
            cache.clear().await.map_err(Error::internal)?;
        }
        self.executions.0.store(0, Ordering::SeqCst);
        Ok(plain("cache reset\n"))
    }
}

/// `LoginView.get_redirect_url()`: the POST (else GET) `next` when it is safe for this host
/// (and HTTPS when the request is secure), else `""`.
fn safe_next(request: &Request, posted: Option<&str>) -> String {
    let next = match posted {
        Some(n) => n.to_owned(),
        None => request
            .query()
            .get(auth::REDIRECT_FIELD_NAME)
            .unwrap_or("")
            .to_owned(),
    };
    let safe = request
        .get_host()
        .is_ok_and(|host| url_has_allowed_host_and_scheme(&next, &[host], request.is_secure()));
    if safe {
        next
    } else {
        String::new()
    }
}

/// Django's `LoginView` with the contract's `registration/login.html`.
async fn login(request: &mut Request) -> Result<Response, Error> {
    let mut non_field = Vec::new();
    let mut field_errors: Vec<(&str, &str)> = Vec::new();
    let mut posted_next = None;
    if request.method() == Method::POST {
        let form = request.post().await?;
        // UsernameField strips surrounding whitespace; the password is taken as sent.
        let user_name = form.get("username").unwrap_or("").trim().to_owned();
        let password = form.get("password").unwrap_or("").to_owned();
        posted_next = form.get(auth::REDIRECT_FIELD_NAME).map(str::to_owned);
        if user_name.is_empty() {
            field_errors.push(("username", REQUIRED));
        }
        if password.is_empty() {
            field_errors.push(("password", REQUIRED));
        }
        if field_errors.is_empty() {
            match auth::authenticate(request, &Credentials::new(user_name, password)).await? {
                Some(user) if user.is_active => {
                    auth::login(request, &user, None).await?;
                    let next = safe_next(request, posted_next.as_deref());
                    let to = if next.is_empty() {
                        auth::auth_config(request)?.login_redirect_url.clone()
                    } else {
                        next
                    };
                    let mut response = redirect(&to);
                    never_cache(&mut response);
                    return Ok(response);
                }
                _ => non_field.push(INVALID_LOGIN),
            }
        }
    }
    let mut body = String::from("login\n");
    for e in non_field {
        body.push_str(&format!("error: {}\n", html_escape(e)));
    }
    for (field, e) in field_errors {
        body.push_str(&format!("error {field}: {}\n", html_escape(e)));
    }
    let token = csrf::get_token(request);
    let next = safe_next(request, posted_next.as_deref());
    body.push_str(&format!(
        "csrf: {}\nnext: {}\n",
        html_escape(&token),
        html_escape(&next)
    ));
    let mut response = html(StatusCode::OK, body);
    never_cache(&mut response);
    Ok(response)
}

/// Django's `LogoutView` (`http_method_names = ["post", "options"]`).
async fn logout(request: &mut Request) -> Result<Response, Error> {
    const ALLOW: &str = "POST, OPTIONS";
    let mut response = match *request.method() {
        Method::POST => {
            auth::logout(request).await?;
            let next = safe_next(request, None);
            let to = if next.is_empty() {
                let config = auth::auth_config(request)?;
                config
                    .logout_redirect_url
                    .clone()
                    .unwrap_or_else(|| request.path().to_owned())
            } else {
                next
            };
            redirect(&to)
        }
        Method::OPTIONS => {
            let mut r = html(StatusCode::OK, "");
            r.headers_mut()
                .insert(http::header::ALLOW, HeaderValue::from_static(ALLOW));
            r.headers_mut()
                .insert(http::header::CONTENT_LENGTH, HeaderValue::from_static("0"));
            r
        }
        _ => {
            let mut r = html(StatusCode::METHOD_NOT_ALLOWED, "");
            r.headers_mut()
                .insert(http::header::ALLOW, HeaderValue::from_static(ALLOW));
            r
        }
    };
    never_cache(&mut response);
    Ok(response)
}

async fn private(request: &mut Request) -> Result<Response, Error> {
    Ok(plain(format!(
        "private: {}\n",
        required_username(request).await?
    )))
}

async fn whoami(request: &mut Request) -> Result<Response, Error> {
    let name = username(request).await?;
    Ok(plain(format!(
        "user: {}\n",
        name.as_deref().unwrap_or("anonymous")
    )))
}

async fn visit(request: &mut Request) -> Result<Response, Error> {
    let session = request.session()?;
    let n = session
        .get("visits")
        .await
        .and_then(|v| v.as_i64())
        .unwrap_or(0)
        + 1;
    session.set("visits", n).await;
    Ok(plain(format!("visits: {n}\n")))
}

async fn api_private(request: &mut Request) -> Result<Response, Error> {
    let name = required_username(request).await?;
    Ok(json(StatusCode::OK, &json!({ "user": name })))
}

async fn members(request: &mut Request) -> Result<Response, Error> {
    let l = language(request);
    let name = required_username(request).await?;
    Ok(plain(format!("members ({l}): {name}\n")))
}

fn public(pattern: &str, view: impl View) -> Route {
    Route::with_view(pattern, view).marker(LoginNotRequired)
}

/// The contract's URLconf, its `cache_page` views on the `CACHES` of `settings`.
pub fn router(settings: &Settings) -> Result<Router, Error> {
    let caches = Arc::new(caches_from_settings(settings).map_err(Error::internal)?);
    let executions = Arc::new(Executions::default());
    let cached = |page| -> Result<CachePageView<CachedView>, Error> {
        CachePageView::new(
            CachePage::new(60),
            CachedView {
                page,
                executions: executions.clone(),
            },
            settings,
            caches.clone(),
        )
        .map_err(|e| Error::ImproperlyConfigured(e.to_string()))
    };
    let urls = |e: middleware_core::urls::UrlError| Error::ImproperlyConfigured(e.to_string());
    let mut r = Router::new();
    r.add(public(
        "",
        view_fn(|_: &mut Request| async { Ok(plain("oracle2 index\n")) }),
    ))
    .map_err(urls)?
    .add(public("accounts/login/", view_fn(login)).name("login"))
    .map_err(urls)?
    .add(Route::new("accounts/logout/", logout).name("logout"))
    .map_err(urls)?
    .add(Route::new("private/", private))
    .map_err(urls)?
    .add(public(
        "public/",
        view_fn(|_: &mut Request| async { Ok(plain("public page\n")) }),
    ))
    .map_err(urls)?
    .add(public("whoami/", view_fn(whoami)))
    .map_err(urls)?
    .add(public("visit/", view_fn(visit)))
    .map_err(urls)?
    .add(public("cached/", cached(CachedPage::Plain)?))
    .map_err(urls)?
    .add(public("cached/cookie/", cached(CachedPage::Cookie)?))
    .map_err(urls)?
    .add(public("cached/session/", cached(CachedPage::Session)?))
    .map_err(urls)?
    .add(
        public(
            "cached/reset/",
            CacheReset {
                caches: caches.clone(),
                executions: executions.clone(),
            },
        )
        .marker(CsrfExempt),
    )
    .map_err(urls)?
    .add(public(
        "api/data/",
        view_fn(|req: &mut Request| {
            let method = req.method().as_str().to_owned();
            async move {
                Ok(json(
                    StatusCode::OK,
                    &json!({"data": [1, 2, 3], "method": method}),
                ))
            }
        }),
    ))
    .map_err(urls)?
    .add(Route::new("api/private/", api_private))
    .map_err(urls)?
    .add(public(
        "csp/",
        view_fn(|req: &mut Request| {
            let n = nonce(req);
            async move { Ok(plain(format!("nonce: {}\n", n?))) }
        }),
    ))
    .map_err(urls)?
    .add(public(
        "csp/unused/",
        view_fn(|_: &mut Request| async { Ok(plain("no nonce used\n")) }),
    ))
    .map_err(urls)?
    .add(
        public(
            "csp/override/",
            view_fn(|req: &mut Request| {
                let n = nonce(req);
                async move { Ok(plain(format!("override nonce: {}\n", n?))) }
            }),
        )
        .marker(CspOverride(
            CspPolicy::new()
                .directive("default-src", [csp::NONE])
                .directive("script-src", [csp::NONCE]),
        )),
    )
    .map_err(urls)?
    .add(
        public(
            "csp/report-only/",
            view_fn(|_: &mut Request| async { Ok(plain("report only\n")) }),
        )
        .marker(CspReportOnlyOverride(
            CspPolicy::new()
                .directive("default-src", [csp::SELF])
                .directive("report-uri", "/csp-report/"),
        )),
    )
    .map_err(urls)?;
    // i18n_patterns: one route per language; LocaleMiddleware activates the prefix's language.
    for lang in LANGUAGES {
        r.add(
            public(
                &format!("{lang}/hello/"),
                view_fn(|req: &mut Request| {
                    let l = language(req);
                    async move { Ok(plain(format!("language: {l}\n"))) }
                }),
            )
            .name(&format!("hello-{lang}")),
        )
        .map_err(urls)?
        .add(Route::new(&format!("{lang}/members/"), members).name(&format!("members-{lang}")))
        .map_err(urls)?;
    }
    Ok(r)
}
