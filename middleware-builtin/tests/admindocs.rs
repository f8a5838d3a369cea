//! `XViewMiddleware` through a real chain (SessionMiddleware, AuthenticationMiddleware with an
//! in-memory user backend): Django's tests/admin_docs/test_middleware.py::XViewMiddlewareTest.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use middleware_builtin::auth::{InMemoryUserBackend, User};
use middleware_core::test_client::{Client, TestResponse};
use middleware_core::{
    async_trait, Chain, Error, Request, Response, Route, Router, Settings, View,
};

#[path = "support/login_registry.rs"]
mod login_registry;
use login_registry::registry_with_login;

const SETTINGS: &str = r#"
SECRET_KEY = "admindocs-tests-secret-key-0123456789-abcdefghijklm"
ALLOWED_HOSTS = ["testserver"]
INTERNAL_IPS = ["10.0.0.9"]
"#;
const STACK: &str = r#"MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "TestLogin",
    "django.contrib.admindocs.middleware.XViewMiddleware",
]"#;

async fn xview(_: &mut Request) -> Result<Response, Error> {
    Ok(Response::new("the view ran".into()))
}

/// Django's class-based and callable-object views: a type implementing `View`.
struct XViewClass;

#[async_trait]
impl View for XViewClass {
    async fn call(&self, _: &mut Request) -> Result<Response, Error> {
        Ok(Response::new("the view ran".into()))
    }
}

struct Site {
    client: Client,
    users: InMemoryUserBackend,
}

fn site(stack: &str) -> Result<Site, String> {
    let users = InMemoryUserBackend::new();
    let mut superuser = User::new("1", "super", "!");
    superuser.is_staff = true;
    superuser.is_superuser = true;
    users.insert(superuser);
    // `/login/` logs the superuser in (Django's `force_login`).
    let registry = registry_with_login(&users, "/login/");
    let settings = Settings::from_toml_str(&format!("{SETTINGS}{stack}"), "settings.toml").unwrap();
    let mut router = Router::new();
    router.route("xview/func/", xview).unwrap();
    router.route("login/", xview).unwrap();
    router
        .add(Route::with_view("xview/class/", XViewClass))
        .unwrap();
    let chain = Chain::builder(&registry, &settings)
        .urls(router)
        .build()
        .map_err(|e| e.to_string())?;
    Ok(Site {
        client: Client::new(chain).remote_addr("192.0.2.1:5000".parse().unwrap()),
        users,
    })
}

impl Site {
    async fn head(&mut self, path: &str) -> TestResponse {
        self.client.head(path).await
    }

    fn update(&self, change: impl FnOnce(&mut User)) {
        let mut user = self.users.user("1").unwrap();
        change(&mut user);
        self.users.insert(user);
    }
}

/// Django's test_xview_func and test_xview_class: nothing for the anonymous user, the view's
/// name for an active staff user, nothing once the user is no longer staff or no longer active.
async fn staff_only(path: &str, expected: &str) {
    let mut site = site(STACK).unwrap();
    let response = site.head(path).await;
    assert!(!response.headers.contains_key("x-view"));
    assert_eq!(site.client.get("/login/").await.status, 200);
    let response = site.head(path).await;
    assert_eq!(response.status, 200);
    assert_eq!(response.headers["x-view"], expected);
    assert_eq!(response.headers["content-type"], "text/html; charset=utf-8");
    site.update(|u| u.is_staff = false);
    assert!(!site.head(path).await.headers.contains_key("x-view"));
    site.update(|u| {
        u.is_staff = true;
        u.is_active = false;
    });
    assert!(!site.head(path).await.headers.contains_key("x-view"));
}

// Django: tests/admin_docs/test_middleware.py::XViewMiddlewareTest::test_xview_func
#[tokio::test]
async fn test_xview_func() {
    staff_only("/xview/func/", "admindocs::xview").await;
}

// Django: tests/admin_docs/test_middleware.py::XViewMiddlewareTest::test_xview_class and
// ::test_callable_object_view (a type implementing View is both here).
#[tokio::test]
async fn test_xview_class() {
    staff_only("/xview/class/", "admindocs::XViewClass").await;
}

// Django's `REMOTE_ADDR in INTERNAL_IPS`: no login needed; only HEAD; a GET runs the view.
#[tokio::test]
async fn internal_ips_get_the_header_without_logging_in() {
    let mut site = site(STACK).unwrap();
    site.client
        .set_remote_addr(Some("10.0.0.9:5000".parse().unwrap()));
    let response = site.head("/xview/func/").await;
    assert_eq!(response.headers["x-view"], "admindocs::xview");
    let response = site.client.get("/xview/func/").await;
    assert!(!response.headers.contains_key("x-view"));
    assert_eq!(response.text(), "the view ran");
}

// Django: tests/admin_docs/test_middleware.py::XViewMiddlewareTest::test_no_auth_middleware,
// at start-up here rather than on the first request.
#[test]
fn test_no_auth_middleware() {
    let Err(error) =
        site(r#"MIDDLEWARE = ["django.contrib.admindocs.middleware.XViewMiddleware"]"#)
    else {
        panic!("built without AuthenticationMiddleware");
    };
    assert!(error.contains("AuthenticationMiddleware"), "{error}");
}
