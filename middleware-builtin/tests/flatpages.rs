//! `FlatpageFallbackMiddleware` on a real SQLite database migrated as Django's migrations leave
//! it, with Django's own test data (tests/flatpages_tests/test_middleware.py, TestDataMixin):
//! each test is named after the Django test it mirrors.
#![cfg(feature = "sqlite")]
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "support/temp_sqlite.rs"]
mod temp_sqlite;

use std::sync::Arc;

use http::StatusCode;
use middleware_builtin::auth::hashers::make_password_with;
use middleware_builtin::auth::{self, AuthBackends, Credentials, InMemoryUserBackend, User};
use middleware_builtin::flatpages::FlatpageOptions;
use middleware_builtin::BuiltinOptions;
use middleware_core::test_client::Client;
use middleware_core::{Chain, Error, Registry, Render, Request, Response, Route, Router, Settings};
use serde_json::{Map, Value};
use temp_sqlite::TempDb;

/// Django's tests/flatpages_tests/templates/flatpages/default.html, reduced to what the tests
/// read; any other template name does not exist.
struct Templates;

impl Render for Templates {
    fn render(&self, name: &str, context: &Map<String, Value>) -> Result<String, Error> {
        let page = &context["flatpage"];
        match name {
            "flatpages/default.html" => Ok(format!(
                "<title>{}</title><p>{}</p>",
                page["title"].as_str().unwrap_or(""),
                page["content"].as_str().unwrap_or("")
            )),
            "flatpages/custom.html" => {
                Ok(format!("custom: {}", page["title"].as_str().unwrap_or("")))
            }
            other => Err(Error::internal(format!("TemplateDoesNotExist: {other}"))),
        }
    }
}

/// TestDataMixin: four pages on site 1, two of them for logged-in users only.
async fn test_data() -> TempDb {
    let db = TempDb::new().await;
    for (id, url, title, content, registration_required) in [
        (1, "/flatpage/", "A Flatpage", "Isn't it flat!", false),
        (
            2,
            "/location/flatpage/",
            "A Nested Flatpage",
            "Isn't it flat and deep!",
            false,
        ),
        (3, "/sekrit/", "Sekrit Flatpage", "Isn't it sekrit!", true),
        (
            4,
            "/location/sekrit/",
            "Sekrit Nested Flatpage",
            "Isn't it sekrit and deep!",
            true,
        ),
    ] {
        add_page(&db, id, url, title, content, registration_required, "").await;
    }
    db
}

async fn add_page(
    db: &TempDb,
    id: i64,
    url: &str,
    title: &str,
    content: &str,
    registration_required: bool,
    template_name: &str,
) {
    let sql = format!(
        "INSERT INTO django_flatpage (id, url, title, content, enable_comments, template_name, \
         registration_required) VALUES ({id}, $1, $2, $3, false, $4, {registration_required})"
    );
    db.exec(&sql, &[url, title, content, template_name]).await;
    db.exec(
        &format!("INSERT INTO django_flatpage_sites (flatpage_id, site_id) VALUES ({id}, 1)"),
        &[],
    )
    .await;
}

/// The page of the `*_special_chars` tests.
async fn add_special_page(db: &TempDb) {
    let url = "/some.very_special~chars-here/";
    add_page(
        db,
        5,
        url,
        "A very special page",
        "Isn't it special!",
        false,
        "",
    )
    .await;
}

async fn login_view(request: &mut Request) -> Result<Response, Error> {
    let creds = Credentials::new("testuser", "s3krit");
    let user = auth::authenticate(request, &creds)
        .await?
        .expect("the test user");
    auth::login(request, &user, None).await?;
    Ok(Response::new("logged in".into()))
}

/// The settings of FlatpageMiddlewareTests: Common, Session, Csrf, Authentication, Messages,
/// then FlatpageFallbackMiddleware; `LOGIN_URL = "/accounts/login/"`, `SITE_ID = 1`.
/// Every built-in, the test user, and the flat pages with [`Templates`].
fn registry() -> Registry {
    let users = InMemoryUserBackend::new();
    users.insert(User::new(
        "1",
        "testuser",
        make_password_with("s3krit", "salt", 1).unwrap(),
    ));
    let backends = AuthBackends::new();
    backends.insert(auth::MODEL_BACKEND, users);
    let mut registry = Registry::new();
    middleware_builtin::register_all_with(
        &mut registry,
        BuiltinOptions::default().auth_backends(backends),
    );
    middleware_builtin::flatpages::register(
        &mut registry,
        FlatpageOptions::new(Arc::new(Templates)),
    );
    registry
}

fn client(db: &TempDb, append_slash: bool, enforce_csrf: bool) -> Client {
    let registry = registry();
    let text = format!(
        r#"SECRET_KEY = "flatpages-test-key-0123456789abcdefghijklmnopqrstuvwxyz"
ALLOWED_HOSTS = ["testserver"]
APPEND_SLASH = {append_slash}
LOGIN_URL = "/accounts/login/"
SITE_ID = 1
SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
MIDDLEWARE = [
    "django.middleware.common.CommonMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.contrib.flatpages.middleware.FlatpageFallbackMiddleware",
]
{}"#,
        db.settings
    );
    let settings = Settings::from_toml_str(&text, "test.toml").unwrap();
    let mut router = Router::new();
    router.add(Route::new("login/", login_view)).unwrap();
    let chain = Chain::builder(&registry, &settings)
        .urls(router)
        .build()
        .unwrap();
    Client::new(chain).enforce_csrf_checks(enforce_csrf)
}

// Django: tests/flatpages_tests/test_middleware.py::FlatpageMiddlewareTests::test_fallback_flatpage
#[tokio::test]
async fn test_fallback_flatpage() {
    let db = test_data().await;
    let r = client(&db, false, false).get("/flatpage/").await;
    assert_eq!(r.status, 200);
    assert!(r.text().contains("<p>Isn't it flat!</p>"), "{}", r.text());
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
}

// Django: tests/flatpages_tests/test_middleware.py::FlatpageMiddlewareTests::test_fallback_non_existent_flatpage
#[tokio::test]
async fn test_fallback_non_existent_flatpage() {
    let db = test_data().await;
    let r = client(&db, false, false).get("/no_such_flatpage/").await;
    assert_eq!(r.status, 404);
}

// Django: tests/flatpages_tests/test_middleware.py::FlatpageMiddlewareTests::test_fallback_authenticated_flatpage
#[tokio::test]
async fn test_fallback_authenticated_flatpage() {
    let db = test_data().await;
    let mut c = client(&db, false, false);
    let r = c.get("/sekrit/").await;
    assert_eq!(r.status, 302);
    assert_eq!(r.header("location"), Some("/accounts/login/?next=/sekrit/"));
    assert_eq!(c.get("/login/").await.status, 200);
    let r = c.get("/sekrit/").await;
    assert_eq!(r.status, 200);
    assert!(r.text().contains("<p>Isn't it sekrit!</p>"), "{}", r.text());
}

// Django: tests/flatpages_tests/test_middleware.py::FlatpageMiddlewareTests::test_fallback_flatpage_special_chars
#[tokio::test]
async fn test_fallback_flatpage_special_chars() {
    let db = test_data().await;
    add_special_page(&db).await;
    let r = client(&db, false, false)
        .get("/some.very_special~chars-here/")
        .await;
    assert_eq!(r.status, 200);
    assert!(r.text().contains("<p>Isn't it special!</p>"));
}

// Django: tests/flatpages_tests/test_middleware.py::FlatpageMiddlewareAppendSlashTests::test_redirect_fallback_flatpage
#[tokio::test]
async fn test_redirect_fallback_flatpage() {
    let db = test_data().await;
    let r = client(&db, true, false).get("/flatpage").await;
    assert_eq!(r.status, 301);
    assert_eq!(r.header("location"), Some("/flatpage/"));
    // Without APPEND_SLASH the slashless path is a plain 404.
    assert_eq!(client(&db, false, false).get("/flatpage").await.status, 404);
}

// Django: tests/flatpages_tests/test_middleware.py::FlatpageMiddlewareAppendSlashTests::test_redirect_fallback_non_existent_flatpage
#[tokio::test]
async fn test_redirect_fallback_non_existent_flatpage() {
    let db = test_data().await;
    assert_eq!(
        client(&db, true, false)
            .get("/no_such_flatpage")
            .await
            .status,
        404
    );
}

// Django: tests/flatpages_tests/test_middleware.py::FlatpageMiddlewareAppendSlashTests::test_redirect_fallback_flatpage_special_chars
#[tokio::test]
async fn test_redirect_fallback_flatpage_special_chars() {
    let db = test_data().await;
    add_special_page(&db).await;
    let r = client(&db, true, false)
        .get("/some.very_special~chars-here")
        .await;
    assert_eq!(r.status, 301);
    assert_eq!(r.header("location"), Some("/some.very_special~chars-here/"));
}

// Django: tests/flatpages_tests/test_middleware.py::FlatpageMiddlewareAppendSlashTests::test_redirect_fallback_flatpage_root
#[tokio::test]
async fn test_redirect_fallback_flatpage_root() {
    let db = test_data().await;
    add_page(&db, 5, "/", "Root", "Root", false, "").await;
    let r = client(&db, true, false).get("/").await;
    assert_eq!(r.status, 200);
    assert!(r.text().contains("<p>Root</p>"));
}

// Django: tests/flatpages_tests/test_csrf.py::FlatpageCSRFTests::test_post_fallback_flatpage
// ("POSTing to an unprotected flatpage generates a 403 if CSRF is enabled") and
// ::test_post_unknown_page (a POST to no page is still a 404, not a 403).
#[tokio::test]
async fn test_post_fallback_flatpage() {
    let db = test_data().await;
    let mut c = client(&db, false, true);
    let r = c.post_form("/flatpage/", &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN.as_u16());
    let r = c.post_form("/no_such_page/", &[]).await;
    assert_eq!(r.status, 404);
}

// Django: flatpages.views.render_flatpage's select_template((f.template_name, DEFAULT_TEMPLATE)):
// a page's own template, else the default one when it does not exist.
#[tokio::test]
async fn a_page_renders_with_its_template_else_the_default() {
    let db = test_data().await;
    add_page(
        &db,
        5,
        "/custom/",
        "Custom",
        "c",
        false,
        "flatpages/custom.html",
    )
    .await;
    add_page(
        &db,
        6,
        "/missing-template/",
        "Missing",
        "m",
        false,
        "flatpages/nowhere.html",
    )
    .await;
    let mut c = client(&db, false, false);
    assert_eq!(c.get("/custom/").await.text(), "custom: Custom");
    assert!(c
        .get("/missing-template/")
        .await
        .text()
        .contains("<p>m</p>"));
}

/// A page of another site is not served on this one.
#[tokio::test]
async fn a_page_of_another_site_is_a_404() {
    let db = test_data().await;
    db.exec(
        "INSERT INTO django_site (id, domain, name) VALUES (2, 'other.example', 'o')",
        &[],
    )
    .await;
    db.exec(
        "INSERT INTO django_flatpage (id, url, title, content, enable_comments, template_name, \
         registration_required) VALUES (9, '/elsewhere/', 'E', 'e', false, '', false)",
        &[],
    )
    .await;
    db.exec(
        "INSERT INTO django_flatpage_sites (flatpage_id, site_id) VALUES (9, 2)",
        &[],
    )
    .await;
    assert_eq!(
        client(&db, false, false).get("/elsewhere/").await.status,
        404
    );
}

/// The Python with Django 6.1.3 that scripts/django_crosscheck.sh prepares, if any.
fn python_with_django() -> Option<std::path::PathBuf> {
    let python = std::env::var_os("DJANGO_PYTHON").map(std::path::PathBuf::from)?;
    let has_django = std::process::Command::new(&python)
        .args(["-c", "import django"])
        .output()
        .is_ok_and(|o| o.status.success());
    has_django.then_some(python)
}

// Live interop (scripts/django_crosscheck.sh sets DJANGO_PYTHON): redirects and flat pages that
// Django's ORM writes into the database our migrate made are served by ours as Django serves
// them.
#[tokio::test]
async fn django_orm_redirects_and_flatpages_are_served() {
    let Some(python) = python_with_django() else {
        eprintln!("SKIP: DJANGO_PYTHON with Django 6.1.3 is not set (scripts/django_crosscheck.sh sets it)");
        return;
    };
    let db = TempDb::new().await;
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/django/contrib_pages.py"
    );
    let out = std::process::Command::new(python)
        .arg(script)
        .arg(format!("sqlite:{}", db.path().display()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let registry = registry();
    let text = format!(
        r#"SECRET_KEY = "crosscheck-key-0123456789abcdefghijklmnopqrstuvwxyz"
ALLOWED_HOSTS = ["testserver"]
SITE_ID = 1
SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.redirects.middleware.RedirectFallbackMiddleware",
    "django.contrib.flatpages.middleware.FlatpageFallbackMiddleware",
]
{}"#,
        db.settings
    );
    let settings = Settings::from_toml_str(&text, "test.toml").unwrap();
    let chain = Chain::builder(&registry, &settings)
        .urls(Router::new())
        .build()
        .unwrap();
    let mut c = Client::new(chain);
    let r = c.get("/from-django/").await;
    assert_eq!(r.status, 301);
    assert_eq!(r.header("location"), Some("/to-rust/"));
    assert_eq!(c.get("/retired/").await.status, 410);
    let r = c.get("/about-django/").await;
    assert_eq!(r.status, 200);
    assert!(
        r.text()
            .contains("<title>Made by <b>Django</b></title><p><p>Written with the ORM.</p></p>"),
        "{}",
        r.text()
    );
    let r = c.get("/members/").await;
    assert_eq!(r.status, 302);
    assert_eq!(
        r.header("location"),
        Some("/accounts/login/?next=/members/")
    );
    eprintln!("redirects and flat pages written by Django's ORM: ok");
}
