//! `CachePageView`, Django's `@cache_page` decorator, with nothing in `MIDDLEWARE` but what a
//! test lists: Django's `tests/cache/tests.py::CacheMiddlewareTest` cases that decorate a view.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;
use middleware_builtin::cache::{caches_from_settings, Caches};
use middleware_builtin::cache_middleware::{CachePage, CachePageView};
use middleware_builtin::sessions::SessionExt;
use middleware_core::http_utils::cookies::SetCookie;
use middleware_core::response::text;
use middleware_core::test_client::Client;
use middleware_core::{
    view_fn, Chain, Registry, Request, ResponseExt, Route, Router, Settings, View,
};

const CACHES: &str = "ALLOWED_HOSTS = [\"testserver\"]\n\
    SECRET_KEY = \"cache-page-tests-secret-key-0123456789abcdefghijklmnop\"\n\
    SESSION_ENGINE = \"django.contrib.sessions.backends.signed_cookies\"\n\
    [CACHES.default]\nBACKEND = \"django.core.cache.backends.locmem.LocMemCache\"\n\
    [CACHES.other]\nBACKEND = \"django.core.cache.backends.locmem.LocMemCache\"\nTIMEOUT = 1\n";

fn settings(middleware: &str) -> Settings {
    Settings::from_toml_str(
        &format!("MIDDLEWARE = [{middleware}]\n{CACHES}"),
        "settings.toml",
    )
    .unwrap()
}

/// Django's `hello_world_view(request, value)`: here the value is the view's run count.
fn hello_world(counter: &Arc<AtomicUsize>) -> impl View {
    let counter = counter.clone();
    view_fn(move |_: &mut Request| {
        let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
        async move { Ok(text(StatusCode::OK, format!("Hello World {n}"))) }
    })
}

/// A client whose `/view/` is `view` decorated with `page`, on `caches`.
fn serve(
    page: CachePage,
    view: impl View,
    settings: &Settings,
    caches: &Arc<Caches>,
) -> Result<Client, middleware_core::FactoryError> {
    let decorated = CachePageView::new(page, view, settings, caches.clone())?;
    let mut router = Router::new();
    router.add(Route::with_view("view/", decorated)).unwrap();
    let mut registry = Registry::new();
    middleware_builtin::register_all(&mut registry);
    Ok(Client::new(
        Chain::builder(&registry, settings)
            .urls(router)
            .build()
            .unwrap(),
    ))
}

// Django: tests/cache/tests.py::CacheMiddlewareTest::test_view_decorator — the same URL behind
// differently decorated views; the decorator alone caches (no cache middleware listed).
#[tokio::test]
async fn test_view_decorator() {
    let settings = settings("");
    let caches = Arc::new(caches_from_settings(&settings).unwrap());
    let runs = Arc::new(AtomicUsize::new(0));
    let client = |page: CachePage| serve(page, hello_world(&runs), &settings, &caches).unwrap();
    let mut default_view = client(CachePage::new(3));
    let mut default_with_prefix_view = client(CachePage::new(3).key_prefix("prefix1"));
    let mut explicit_default_view = client(CachePage::new(3).cache("default"));
    let mut explicit_default_with_prefix_view =
        client(CachePage::new(3).cache("default").key_prefix("prefix1"));
    let mut other_view = client(CachePage::new(1).cache("other"));
    let mut other_with_prefix_view = client(CachePage::new(1).cache("other").key_prefix("prefix2"));

    let first = default_view.get("/view/").await;
    assert_eq!(first.text(), "Hello World 1");
    assert_eq!(first.header("cache-control"), Some("max-age=3"));
    assert_eq!(default_view.get("/view/").await.text(), "Hello World 1");
    assert_eq!(
        explicit_default_view.get("/view/").await.text(),
        "Hello World 1"
    );
    let body = |n: usize| format!("Hello World {n}");
    assert_eq!(
        explicit_default_with_prefix_view.get("/view/").await.text(),
        body(2)
    );
    assert_eq!(
        explicit_default_with_prefix_view.get("/view/").await.text(),
        body(2)
    );
    assert_eq!(default_with_prefix_view.get("/view/").await.text(), body(2));
    assert_eq!(other_view.get("/view/").await.text(), body(3));
    assert_eq!(other_view.get("/view/").await.text(), body(3));
    assert_eq!(other_with_prefix_view.get("/view/").await.text(), body(4));

    tokio::time::sleep(Duration::from_millis(2000)).await;
    assert_eq!(default_view.get("/view/").await.text(), body(1));
    assert_eq!(default_with_prefix_view.get("/view/").await.text(), body(2));
    assert_eq!(explicit_default_view.get("/view/").await.text(), body(1));
    // The rapidly expiring cache is a miss, with or without a prefix.
    assert_eq!(other_view.get("/view/").await.text(), body(5));
    assert_eq!(other_with_prefix_view.get("/view/").await.text(), body(6));
}

// A cache alias that is not in CACHES is refused when the URLconf is built (Django raises
// InvalidCacheBackendError when the decorator is applied).
#[test]
fn cache_page_with_unknown_alias_is_refused_at_start_up() {
    let settings = settings("");
    let caches = Arc::new(caches_from_settings(&settings).unwrap());
    let runs = Arc::new(AtomicUsize::new(0));
    let err = CachePageView::new(
        CachePage::new(3).cache("missing"),
        hello_world(&runs),
        &settings,
        caches,
    )
    .unwrap_err();
    assert!(err.to_string().contains("\"missing\""), "{err}");
}

// Django: tests/cache/tests.py::CacheMiddlewareTest::test_sensitive_cookie_not_cached and
// test_refreshed_cookie_not_cached — a page that sets a cookie and varies on Cookie is never
// stored, whatever cookies the request had.
#[tokio::test]
async fn test_sensitive_cookie_not_cached() {
    let settings = settings("");
    let caches = Arc::new(caches_from_settings(&settings).unwrap());
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = runs.clone();
    let view = view_fn(move |_: &mut Request| {
        let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
        async move {
            let mut r = text(StatusCode::OK, format!("run {n}"));
            r.set_cookie(&SetCookie::new("session", "new_value"));
            r.patch_vary_headers(&["Cookie"]);
            Ok(r)
        }
    });
    let mut client = serve(CachePage::new(60), view, &settings, &caches).unwrap();
    assert_eq!(client.get("/view/").await.text(), "run 1");
    client.set_cookie("session", Some("old_value"));
    assert_eq!(client.get("/view/").await.text(), "run 2");
    client.set_cookie("session", None);
    assert_eq!(client.get("/view/").await.text(), "run 3");
}

// Django: tests/cache/tests.py::CacheMiddlewareTest::test_304_response_has_http_caching_headers_but_not_cached
#[tokio::test]
async fn test_304_response_has_http_caching_headers_but_not_cached() {
    let settings = settings("");
    let caches = Arc::new(caches_from_settings(&settings).unwrap());
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = runs.clone();
    let view = view_fn(move |_: &mut Request| {
        counter.fetch_add(1, Ordering::SeqCst);
        async move { Ok(text(StatusCode::NOT_MODIFIED, "")) }
    });
    let mut client = serve(CachePage::new(2), view, &settings, &caches).unwrap();
    client.get("/view/").await;
    let second = client.get("/view/").await;
    assert_eq!(runs.load(Ordering::SeqCst), 2);
    assert_eq!(second.status, 304);
    assert_eq!(second.header("cache-control"), Some("max-age=2"));
    assert!(second.header("expires").is_some());
}

// The decorator runs inside MIDDLEWARE, as Django's: SessionMiddleware adds `Vary: Cookie`
// to a page whose view read the session only after the page was stored, so the stored copy
// is served again, to anyone (the conformance contract's /cached/session/, as Django answers).
#[tokio::test]
async fn cache_page_runs_inside_the_middleware() {
    let settings = settings("\"django.contrib.sessions.middleware.SessionMiddleware\"");
    let caches = Arc::new(caches_from_settings(&settings).unwrap());
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = runs.clone();
    let view = view_fn(move |request: &mut Request| {
        counter.fetch_add(1, Ordering::SeqCst);
        let session = request.session();
        async move {
            let visits = session?.get("visits").await;
            Ok(text(StatusCode::OK, format!("visits: {visits:?}")))
        }
    });
    let mut client = serve(CachePage::new(60), view, &settings, &caches).unwrap();
    let first = client.get("/view/").await;
    assert_eq!(first.header("vary"), Some("Cookie"));
    let second = client.get("/view/").await;
    assert_eq!(second.text(), first.text());
    // The hit did not read the session, so nothing adds `Vary: Cookie` to it either.
    assert_eq!(second.header("vary"), None);
    assert!(second.header("age").is_some());
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}
