//! The site's application pages through the test client: login (Django's `LoginView`
//! behaviours), logout (POST only, CSRF), the private page, the notes form, and escaping.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use middleware_core::test_client::Client;

fn site() -> Client {
    let settings = example_site::load_settings(None).unwrap();
    Client::new(example_site::build_chain(&settings).unwrap())
}

/// The CSRF token in a rendered form.
fn token(body: &str) -> String {
    body.split("name=\"csrfmiddlewaretoken\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a csrf token in the page")
        .to_owned()
}

async fn log_in(
    client: &mut Client,
    password: &str,
    next: &str,
) -> middleware_core::test_client::TestResponse {
    let page = client.get("/accounts/login/").await;
    let token = token(&page.text());
    client
        .post_form(
            "/accounts/login/",
            &[
                ("csrfmiddlewaretoken", &token),
                ("username", "demo"),
                ("password", password),
                ("next", next),
            ],
        )
        .await
}

#[tokio::test]
async fn private_page_redirects_anonymous_users_to_login_with_next() {
    // Django: tests/auth_tests/test_decorators.py::LoginRequiredTestCase::test_login_required
    let mut c = site();
    let r = c.get("/private/?a=1").await;
    assert_eq!(r.status, 302);
    assert_eq!(
        r.header("location"),
        Some("/accounts/login/?next=/private/%3Fa%3D1")
    );
}

#[tokio::test]
async fn login_form_carries_the_csrf_token_and_is_never_cached() {
    let mut c = site().enforce_csrf_checks(true);
    let r = c.get("/accounts/login/?next=/private/").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(token(&r.text()).len(), 64);
    assert!(r.set_cookie("csrftoken").is_some());
    assert!(r.header("cache-control").unwrap().contains("no-cache"));
    assert!(r
        .text()
        .contains("name=\"next\" value=\"&#x2f;private&#x2f;\""));
}

#[tokio::test]
async fn bad_credentials_rerender_the_form_with_status_200() {
    // Django's LoginView.form_invalid: the form again, with its errors, status 200.
    let mut c = site().enforce_csrf_checks(true);
    let r = log_in(&mut c, "wrong", "/private/").await;
    assert_eq!(r.status, 200);
    assert!(r
        .text()
        .contains("Please enter a correct username and password."));
    // The username is kept, the password is not echoed.
    assert!(r.text().contains("value=\"demo\""));
    assert!(!r.text().contains("wrong"));
    assert!(c.cookie("sessionid").is_none());
}

#[tokio::test]
async fn login_redirects_to_a_safe_next_and_opens_the_private_page() {
    // Django: tests/auth_tests/test_views.py::LoginTest::test_security_check (safe URLs)
    let mut c = site().enforce_csrf_checks(true);
    let r = log_in(&mut c, "demo-password", "/private/").await;
    assert_eq!(r.status, 302);
    assert_eq!(r.header("location"), Some("/private/"));
    let private = c.get("/private/").await;
    assert_eq!(private.status, 200);
    assert!(private.text().contains("Signed in as demo"));
    assert!(private.text().contains("demo@example.com"));
}

#[tokio::test]
async fn login_ignores_an_unsafe_next() {
    // Django: tests/auth_tests/test_views.py::LoginTest::test_security_check (bad URLs)
    for next in [
        "http://evil.example/",
        "//evil.example/x",
        "https:///evil.example",
        "javascript:alert(1)",
    ] {
        let mut c = site().enforce_csrf_checks(true);
        let r = log_in(&mut c, "demo-password", next).await;
        assert_eq!(r.status, 302, "{next}");
        // LOGIN_REDIRECT_URL of the site's settings.
        assert_eq!(r.header("location"), Some("/"), "{next}");
    }
}

#[tokio::test]
async fn login_post_without_the_csrf_token_is_refused() {
    let mut c = site().enforce_csrf_checks(true);
    c.get("/accounts/login/").await;
    let r = c
        .post_form(
            "/accounts/login/",
            &[("username", "demo"), ("password", "demo-password")],
        )
        .await;
    assert_eq!(r.status, 403);
    assert!(r.text().contains("CSRF token missing."));
}

#[tokio::test]
async fn logout_is_post_only_and_csrf_protected() {
    // Django's LogoutView: http_method_names = ["post", "options"] since 5.0 (GET is 405).
    let mut c = site().enforce_csrf_checks(true);
    log_in(&mut c, "demo-password", "").await;
    let r = c.get("/accounts/logout/").await;
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("POST"));
    let r = c.post_form("/accounts/logout/", &[]).await;
    assert_eq!(r.status, 403, "no token: still logged in");
    assert_eq!(c.get("/private/").await.status, 200);

    let page = c.get("/notes/").await;
    let r = c
        .post_form(
            "/accounts/logout/",
            &[("csrfmiddlewaretoken", &token(&page.text()))],
        )
        .await;
    assert_eq!(r.status, 302);
    assert_eq!(r.header("location"), Some("/accounts/login/"));
    let login = c.get("/accounts/login/").await;
    assert!(login.text().contains("You have been logged out."));
    assert_eq!(c.get("/private/").await.status, 302);
}

#[tokio::test]
async fn notes_post_adds_an_escaped_message_and_redirects_back() {
    let mut c = site().enforce_csrf_checks(true);
    let page = c.get("/notes/").await;
    let r = c
        .post_form(
            "/notes/",
            &[
                ("csrfmiddlewaretoken", &token(&page.text())),
                ("text", "<script>alert('x')</script>"),
            ],
        )
        .await;
    assert_eq!(r.status, 302);
    assert_eq!(r.header("location"), Some("/notes/"));
    let shown = c.get("/notes/").await.text();
    assert!(
        shown.contains("Note saved: &lt;script&gt;alert(&#x27;x&#x27;)&lt;&#x2f;script&gt;"),
        "{shown}"
    );
    assert!(!shown.contains("<script>"));
    // Shown once.
    assert!(!c.get("/notes/").await.text().contains("Note saved"));
}

#[tokio::test]
async fn notes_rejects_empty_text_and_a_missing_token() {
    let mut c = site().enforce_csrf_checks(true);
    let page = c.get("/notes/").await;
    let r = c
        .post_form(
            "/notes/",
            &[
                ("csrfmiddlewaretoken", &token(&page.text())),
                ("text", "   "),
            ],
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(r.text().contains("Write something first."));
    let r = c.post_form("/notes/", &[("text", "hi")]).await;
    assert_eq!(r.status, 403);
}

#[tokio::test]
async fn app_routes_do_not_shadow_conformance_routes() {
    let mut c = site();
    assert_eq!(c.get("/").await.text(), "Hello, world!");
    assert_eq!(c.get("/accounts/").await.status, 404);
    assert_eq!(c.get("/private").await.status, 301, "APPEND_SLASH");
}
