//! `LoginRequiredMiddleware`: Django's `TestLoginRequiredMiddleware`, `LoginRequiredTestCase` and
//! the `auth.E013` check.

use super::*;

fn login_required_client(users: &InMemoryUserBackend, extra: &str) -> Client {
    client_with(backends(users), &[SESSION, AUTH, LOGIN_REQUIRED], extra)
}

// Django: test_middleware.py::TestLoginRequiredMiddleware::test_public_paths
#[tokio::test]
async fn public_paths() {
    let mut c = login_required_client(&users(), "");
    let r = c.get("/public_view/").await;
    assert_eq!(r.status, StatusCode::OK);
    // test_public_view_logged_in_performance: public views never load the user.
    assert_eq!(r.header("vary"), None);
}

// Django: TestLoginRequiredMiddleware::test_protected_paths
#[tokio::test]
async fn protected_paths() {
    let mut c = login_required_client(&users(), "");
    let r = c.get("/protected_view/").await;
    assert_eq!(r.status, StatusCode::FOUND);
    assert_eq!(
        r.header("location"),
        Some("/accounts/login/?next=/protected_view/")
    );
    let r = c.get("/protected_view/?a=1&b=x%20y").await;
    assert_eq!(
        r.header("location"),
        Some("/accounts/login/?next=/protected_view/%3Fa%3D1%26b%3Dx%2520y")
    );
}

// Django: TestLoginRequiredMiddleware::test_login_required_paths (view's login_url and
// redirect_field_name)
#[tokio::test]
async fn login_required_paths() {
    let mut c = login_required_client(&users(), "");
    let r = c.get("/login_required_decorator_view/").await;
    assert_eq!(
        r.header("location"),
        Some("/custom_login/?step=/login_required_decorator_view/")
    );
    // An empty redirect field name adds no query.
    let r = c.get("/no_field_view/").await;
    assert_eq!(r.header("location"), Some("/accounts/login/"));
}

// Django: TestLoginRequiredMiddleware::test_non_existent_path
#[tokio::test]
async fn non_existent_path() {
    let mut c = login_required_client(&users(), "");
    assert_eq!(c.get("/non_existent/").await.status, StatusCode::NOT_FOUND);
}

// Django: TestLoginRequiredMiddleware::test_paths_with_logged_in_user
#[tokio::test]
async fn paths_with_logged_in_user() {
    let mut c = login_required_client(&users(), "");
    login(&mut c, "alice", "wonderland").await;
    for path in [
        "/public_view/",
        "/protected_view/",
        "/login_required_decorator_view/",
        "/no_field_view/",
    ] {
        assert_eq!(c.get(path).await.status, StatusCode::OK, "{path}");
    }
}

// Django: TestLoginRequiredMiddleware::test_get_login_url_from_settings
#[tokio::test]
async fn login_url_from_settings() {
    let mut c = login_required_client(&users(), "LOGIN_URL = \"/settings_login/\"");
    let r = c.get("/protected_view/").await;
    assert_eq!(
        r.header("location"),
        Some("/settings_login/?next=/protected_view/")
    );
}

// Django: TestLoginRequiredMiddleware::test_get_login_url_no_login_url
#[tokio::test]
async fn no_login_url_is_improperly_configured() {
    let mut c = login_required_client(&users(), "LOGIN_URL = \"\"");
    assert_eq!(
        c.get("/protected_view/").await.status,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    // A view with its own login_url still works.
    let r = c.get("/login_required_decorator_view/").await;
    assert_eq!(r.status, StatusCode::FOUND);
}

// Django: TestLoginRequiredMiddleware::test_login_url_resolve_logic (a subclass with
// redirect_field_name = "redirect_to")
#[tokio::test]
async fn login_url_resolve_logic() {
    let users = users();
    let mut registry = registry_with(backends(&users));
    registry
        .register("LoginRequiredMiddlewareSubclass", |next, ctx| {
            LoginRequiredMiddleware::with_redirect_field_name(next, ctx, "redirect_to")
        })
        .requires_before("AuthenticationMiddleware");
    let chain = Chain::builder(
        &registry,
        &settings(
            &[SESSION, AUTH, "LoginRequiredMiddlewareSubclass"],
            "LOGIN_URL = \"/settings_login/\"",
        ),
    )
    .urls(router())
    .build()
    .unwrap();
    let mut c = Client::new(chain);
    let r = c.get("/login_required_decorator_view/").await;
    assert_eq!(
        r.header("location"),
        Some("/custom_login/?step=/login_required_decorator_view/")
    );
    let r = c.get("/protected_view/").await;
    assert_eq!(
        r.header("location"),
        Some("/settings_login/?redirect_to=/protected_view/")
    );
}

// Django: tests/auth_tests/test_decorators.py::LoginRequiredTestCase (redirect_to_login
// absolute URL logic): another host or scheme gets the full URL as `next`.
#[tokio::test]
async fn absolute_login_url() {
    let mut c = login_required_client(&users(), "LOGIN_URL = \"https://sso.example/login/\"");
    let r = c.get("/protected_view/?a=1").await;
    assert_eq!(
        r.header("location"),
        Some("https://sso.example/login/?next=http%3A//testserver/protected_view/%3Fa%3D1")
    );
    let mut c = login_required_client(&users(), "LOGIN_URL = \"http://testserver/login/\"");
    let r = c.get("/protected_view/").await;
    assert_eq!(
        r.header("location"),
        Some("http://testserver/login/?next=/protected_view/")
    );
    let mut c = login_required_client(&users(), "LOGIN_URL = \"https://testserver/login/\"");
    let r = c.get("/protected_view/").await;
    assert_eq!(
        r.header("location"),
        Some("https://testserver/login/?next=http%3A//testserver/protected_view/")
    );
}

#[test]
fn login_url_that_is_a_url_name_refuses_to_start() {
    let users = users();
    let err = Chain::builder(
        &registry_with(backends(&users)),
        &settings(&[SESSION, AUTH, LOGIN_REQUIRED], "LOGIN_URL = \"login\""),
    )
    .urls(router())
    .build()
    .err()
    .unwrap_or_else(|| panic!("must not build"));
    assert!(err.to_string().contains("LOGIN_URL"), "{err}");
}

// Django: tests/auth_tests/test_checks.py::LoginRequiredMiddlewareTests (auth.E013)
#[test]
fn check_auth_e013() {
    let registry = registry_with(backends(&users()));
    let ids = |mw: &[&str]| -> Vec<String> {
        registry
            .run_checks(&settings(mw, ""), false)
            .into_iter()
            .map(|m| m.id)
            .collect()
    };
    assert!(ids(&[SESSION, LOGIN_REQUIRED, AUTH]).contains(&"auth.E013".to_owned()));
    assert!(ids(&[SESSION, LOGIN_REQUIRED]).contains(&"auth.E013".to_owned()));
    assert!(!ids(&[SESSION, AUTH, LOGIN_REQUIRED]).contains(&"auth.E013".to_owned()));
    assert!(!ids(&[SESSION, AUTH]).contains(&"auth.E013".to_owned()));
    // The chain refuses the wrong order too.
    assert!(
        Chain::builder(&registry, &settings(&[SESSION, LOGIN_REQUIRED, AUTH], ""))
            .urls(router())
            .build()
            .is_err()
    );
}
