//! The three contrib middleware together with Django's default stack, in the order their
//! projects document: `RequestIDMiddleware` outermost (so every line is tagged),
//! `CorsMiddleware` "as high as possible" before `CommonMiddleware`, `RatelimitMiddleware` last.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use http::Method;
use middleware_contrib::ratelimit::{Ratelimit, TOO_MANY_REQUESTS_VIEW};
use middleware_core::test_client::Client;
use middleware_core::{Body, Chain, Error, Registry, Request, Response, Route, Router, Settings};

async fn index(_: &mut Request) -> Result<Response, Error> {
    Ok(Response::new("Index".into()))
}

fn client() -> Client {
    let mut registry = Registry::new();
    middleware_builtin::register_all(&mut registry);
    middleware_contrib::register_all(&mut registry);
    let settings = Settings::from_toml_str(
        &format!(
            r#"
SECRET_KEY = "contrib-test-key-0123456789abcdefghijklmnopqrstuvwxyz"
ALLOWED_HOSTS = ["testserver"]
SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
MESSAGE_STORAGE = "django.contrib.messages.storage.cookie.CookieStorage"
MIDDLEWARE = [
    "log_request_id.middleware.RequestIDMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.gzip.GZipMiddleware",
    "django.middleware.http.ConditionalGetMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_ratelimit.middleware.RatelimitMiddleware",
]
CORS_ALLOWED_ORIGINS = ["https://app.example.com"]
REQUEST_ID_RESPONSE_HEADER = "X-Request-ID"
RATELIMIT_VIEW = "{TOO_MANY_REQUESTS_VIEW}"
"#
        ),
        "test.toml",
    )
    .unwrap();
    let mut router = Router::new();
    router.add(Route::new("", index)).unwrap();
    router
        .add(Route::new("limited/", index).marker(Ratelimit::new("ip", "2/m")))
        .unwrap();
    let chain = Chain::builder(&registry, &settings)
        .urls(router)
        .build()
        .unwrap();
    Client::new(chain).remote_addr("192.0.2.7:50000".parse().unwrap())
}

#[tokio::test]
async fn all_three_with_the_default_stack() {
    let mut c = client();
    let origin = [("origin", "https://app.example.com")];

    // A plain GET: every layer did its part.
    let r = c.request(Method::GET, "/", &origin, Body::empty()).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("https://app.example.com")
    );
    assert_eq!(r.header("x-frame-options"), Some("DENY"));
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(r.header("x-request-id").map(str::len), Some(32));
    assert!(
        r.header("vary").unwrap().contains("origin"),
        "{:?}",
        r.headers
    );

    // A preflight is answered by CorsMiddleware before the inner layers (no X-Frame-Options)
    // and still carries the outer layers' headers.
    let preflight = [
        ("origin", "https://app.example.com"),
        ("access-control-request-method", "POST"),
    ];
    let r = c
        .request(Method::OPTIONS, "/limited/", &preflight, Body::empty())
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("access-control-allow-methods"),
        Some("DELETE, GET, OPTIONS, PATCH, POST, PUT")
    );
    assert!(r.header("x-frame-options").is_none());
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));

    // The preflight did not count: two requests pass, the third is limited — and the 429 still
    // gets the CORS and request-id headers from the outer layers.
    for _ in 0..2 {
        let r = c
            .request(Method::GET, "/limited/", &origin, Body::empty())
            .await;
        assert_eq!(r.status, 200);
    }
    let r = c
        .request(Method::GET, "/limited/", &origin, Body::empty())
        .await;
    assert_eq!(r.status, 429);
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("https://app.example.com")
    );
    assert!(r.header("x-request-id").is_some());
    // Unmarked routes are not limited.
    assert_eq!(c.get("/").await.status, 200);
}
