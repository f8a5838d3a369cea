//! The site cache through real chains: Django's `tests/cache/tests.py` (CacheMiddlewareTest,
//! CacheHEADTest, CacheI18nTest, CacheUtils) and `tests/decorators/test_cache.py`, key vectors
//! generated with Django 6.1.3 (`tests/fixtures/django/cache_keys.py`), cache poisoning and a
//! Redis outage.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::{HeaderMap, HeaderValue, Method, StatusCode};
use middleware_builtin::cache::{KeyMaker, LocMemCache};
use middleware_builtin::cache_middleware::{
    cache_control, get_cache_key, learn_cache_key, never_cache, vary_on_cookie, vary_on_headers,
    CacheKeyConfig, CachePage,
};
use middleware_builtin::locale::ActiveLanguage;
use middleware_core::http_utils::cache::{has_vary_header, CacheDirective};
use middleware_core::http_utils::cookies::SetCookie;
use middleware_core::response::text;
use middleware_core::test_client::Client;
use middleware_core::{
    view_fn, Body, Chain, ConnectionInfo, Registry, Request, RequestExt, Response, ResponseExt,
    Route, Router, Settings,
};
use support::redis_server::RedisServer;

type Patch = Arc<dyn Fn(&mut Response) + Send + Sync>;

/// A view answering "Hello World {n}" (n counts its runs), then applying `patch`.
fn counting(path: &str, counter: &Arc<AtomicUsize>, patch: Patch) -> Route {
    let counter = counter.clone();
    Route::with_view(
        path,
        view_fn(move |_req: &mut Request| {
            let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
            let patch = patch.clone();
            async move {
                let mut response = text(StatusCode::OK, format!("Hello World {n}"));
                patch(&mut response);
                Ok(response)
            }
        }),
    )
}

fn nothing() -> Patch {
    Arc::new(|_| {})
}

fn registry() -> Registry {
    let mut registry = Registry::new();
    middleware_builtin::register_all(&mut registry);
    registry
}

const BOTH: &str = r#"MIDDLEWARE = ["UpdateCacheMiddleware", "FetchFromCacheMiddleware"]"#;

fn client(settings: &str, routes: Vec<Route>) -> Client {
    let settings = Settings::from_toml_str(
        &format!(
            "ALLOWED_HOSTS = [\"testserver\", \"a.example.com\", \"b.example.com\"]\n{settings}"
        ),
        "settings.toml",
    )
    .unwrap();
    let mut router = Router::new();
    for r in routes {
        router.add(r).unwrap();
    }
    Client::new(
        Chain::builder(&registry(), &settings)
            .urls(router)
            .build()
            .unwrap(),
    )
}

/// Two GETs of `/view/` for a view patched by `patch`; the bodies.
async fn twice(settings: &str, patch: Patch) -> (String, String) {
    let n = Arc::new(AtomicUsize::new(0));
    let mut c = client(settings, vec![counting("view/", &n, patch)]);
    (c.get("/view/").await.text(), c.get("/view/").await.text())
}

// Django: tests/cache/tests.py::CacheMiddlewareTest::test_middleware (and the module example).
#[tokio::test]
async fn test_middleware_second_get_is_a_hit() {
    for conf in [
        BOTH,
        r#"MIDDLEWARE = ["django.middleware.cache.CacheMiddleware"]"#,
    ] {
        let n = Arc::new(AtomicUsize::new(0));
        let mut c = client(
            &format!("{conf}\nCACHE_MIDDLEWARE_SECONDS = 30"),
            vec![counting("view/", &n, nothing())],
        );
        let first = c.get("/view/").await;
        assert_eq!(first.text(), "Hello World 1");
        assert_eq!(first.header("cache-control"), Some("max-age=30"));
        assert!(first.header("expires").is_some());
        assert_eq!(first.header("age"), None);
        let second = c.get("/view/").await;
        assert_eq!(second.text(), "Hello World 1", "{conf}");
        assert_eq!(second.header("age"), Some("0"));
        assert_eq!(second.header("cache-control"), Some("max-age=30"));
        assert_eq!(second.header("content-type"), first.header("content-type"));
        // Another URL (query string included) is another page.
        assert_eq!(c.get("/view/?a=1").await.text(), "Hello World 2");
        assert_eq!(n.load(Ordering::SeqCst), 2);
    }
}

// Django: tests/cache/tests.py::CacheMiddlewareTest::test_cache_control_max_age (Age counts up)
#[tokio::test]
async fn test_cache_control_max_age_age_header() {
    let n = Arc::new(AtomicUsize::new(0));
    let mut c = client(
        BOTH,
        vec![counting("view/", &n, nothing()).marker(CachePage::new(5))],
    );
    let first = c.get("/view/").await;
    assert_eq!(first.header("cache-control"), Some("max-age=5"));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let second = c.get("/view/").await;
    assert_eq!(second.text(), "Hello World 1");
    let age: i64 = second.header("age").unwrap().parse().unwrap();
    assert!((1..=2).contains(&age), "age {age}");
    assert_eq!(second.header("expires"), first.header("expires"));
}

// Django: tests/cache/tests.py::CacheMiddlewareTest::test_view_decorator (per-route
// cache_page with its own cache alias and timeout)
#[tokio::test]
async fn test_view_decorator() {
    let conf = format!(
        "{BOTH}\n[CACHES.default]\nBACKEND = \"django.core.cache.backends.locmem.LocMemCache\"\n\
         [CACHES.other]\nBACKEND = \"django.core.cache.backends.locmem.LocMemCache\"\nTIMEOUT = 1\n"
    );
    let (a, b, o) = (
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicUsize::new(0)),
    );
    let mut c = client(
        &conf,
        vec![
            counting("default/", &a, nothing()).marker(CachePage::new(3)),
            counting("prefixed/", &b, nothing()).marker(CachePage::new(3).key_prefix("prefix1")),
            counting("other/", &o, nothing()).marker(CachePage::new(1).cache("other")),
        ],
    );
    for path in ["/default/", "/prefixed/", "/other/"] {
        assert_eq!(c.get(path).await.text(), "Hello World 1");
        assert_eq!(c.get(path).await.text(), "Hello World 1", "{path}");
    }
    assert_eq!(
        c.get("/default/").await.header("cache-control"),
        Some("max-age=3")
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(c.get("/default/").await.text(), "Hello World 1");
    assert_eq!(c.get("/prefixed/").await.text(), "Hello World 1");
    // The rapidly expiring page is rebuilt.
    assert_eq!(c.get("/other/").await.text(), "Hello World 2");
}

// A cache_page naming a cache that does not exist is a configuration error (a 500), as
// Django's InvalidCacheBackendError.
#[tokio::test]
async fn cache_page_with_unknown_alias_is_improperly_configured() {
    let n = Arc::new(AtomicUsize::new(0));
    let mut c = client(
        BOTH,
        vec![counting("view/", &n, nothing()).marker(CachePage::new(3).cache("nope"))],
    );
    assert_eq!(
        c.get("/view/").await.status,
        StatusCode::INTERNAL_SERVER_ERROR
    );
}

#[test]
fn unknown_cache_middleware_alias_is_a_settings_error() {
    let settings = Settings::from_toml_str(
        &format!("{BOTH}\nCACHE_MIDDLEWARE_ALIAS = \"missing\""),
        "settings.toml",
    )
    .unwrap();
    let err = Chain::builder(&registry(), &settings)
        .build()
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("CACHE_MIDDLEWARE_ALIAS"), "{err}");
}

// Django: tests/cache/tests.py::CacheMiddlewareTest::test_cache_page_timeout
#[tokio::test]
async fn test_cache_page_timeout() {
    for (max_age, page_timeout) in [(1, 3), (3, 1)] {
        let n = Arc::new(AtomicUsize::new(0));
        let patch: Patch = Arc::new(move |r| {
            cache_control(r, &[("max_age", max_age.into())]).unwrap();
        });
        let mut c = client(
            BOTH,
            vec![counting("view/", &n, patch).marker(CachePage::new(page_timeout))],
        );
        assert_eq!(c.get("/view/").await.text(), "Hello World 1");
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let expected = if page_timeout > max_age as u64 {
            "Hello World 1"
        } else {
            "Hello World 2"
        };
        assert_eq!(c.get("/view/").await.text(), expected);
    }
}

// Django: tests/cache/tests.py::CacheMiddlewareTest::test_cache_control_not_cached,
// ::test_qualified_cache_control_value_not_cached
#[tokio::test]
async fn test_cache_control_not_cached() {
    for cc in [
        "private",
        "no-cache",
        "no-store",
        "PRIVATE",
        "NO-store",
        "private=\"Set-Cookie\"",
        "no-cache=\"Set-Cookie\"",
        "no-store=\"Set-Cookie\"",
        "private =\"Set-Cookie\"",
        "no-cache = \"Set-Cookie\"",
        "max-age=60, Private",
    ] {
        let patch: Patch = Arc::new(move |r| {
            r.headers_mut()
                .insert("cache-control", HeaderValue::from_static(cc));
        });
        let (a, b) = twice(BOTH, patch).await;
        assert_eq!(
            (a.as_str(), b.as_str()),
            ("Hello World 1", "Hello World 2"),
            "{cc}"
        );
    }
}

// Django: tests/cache/tests.py::CacheMiddlewareTest::test_cache_control_not_cached_superstring
#[tokio::test]
async fn test_cache_control_not_cached_superstring() {
    let patch: Patch = Arc::new(|r| {
        cache_control(r, &[("myprivate", CacheDirective::Flag)]).unwrap();
    });
    let (a, b) = twice(BOTH, patch).await;
    assert_eq!((a.as_str(), b.as_str()), ("Hello World 1", "Hello World 1"));
}

// Django: tests/decorators/test_cache.py::NeverCacheDecoratorTest — never_cache pages are not
// cached.
#[tokio::test]
async fn never_cache_pages_are_not_cached() {
    let patch: Patch = Arc::new(never_cache);
    let n = Arc::new(AtomicUsize::new(0));
    let mut c = client(BOTH, vec![counting("view/", &n, patch)]);
    let first = c.get("/view/").await;
    assert_eq!(
        first.header("cache-control"),
        Some("max-age=0, no-cache, no-store, must-revalidate, private")
    );
    assert!(first.header("expires").is_some());
    assert_eq!(c.get("/view/").await.text(), "Hello World 2");
}

// Django: tests/cache/tests.py::CacheMiddlewareTest::test_vary_asterisk_not_cached
#[tokio::test]
async fn test_vary_asterisk_not_cached() {
    let patches: [Patch; 3] = [
        Arc::new(|r| vary_on_headers(r, &["*"]).unwrap()),
        Arc::new(|r| vary_on_headers(r, &[" * "]).unwrap()),
        Arc::new(|r| {
            r.headers_mut()
                .insert("vary", HeaderValue::from_static("Cookie, *"));
        }),
    ];
    for patch in patches {
        let (a, b) = twice(BOTH, patch).await;
        assert_eq!((a.as_str(), b.as_str()), ("Hello World 1", "Hello World 2"));
    }
}

// Django: tests/cache/tests.py::CacheMiddlewareTest::test_max_age_zero — a max-age of 0 is not
// cached (UpdateCacheMiddleware's "max-age was set to 0" branch); errors are not cached.
#[tokio::test]
async fn max_age_zero_and_errors_not_cached() {
    let zero: Patch = Arc::new(|r| cache_control(r, &[("max_age", 0.into())]).unwrap());
    let (a, b) = twice(BOTH, zero).await;
    assert_eq!(b, "Hello World 2", "{a}");
    let not_found: Patch = Arc::new(|r| *r.status_mut() = StatusCode::NOT_FOUND);
    let (_, b) = twice(BOTH, not_found).await;
    assert_eq!(b, "Hello World 2");
}

// Django: tests/cache/tests.py::CacheMiddlewareTest::test_vary_on_authorization_for_authorization_header,
// ::test_no_vary_on_authorization_for_empty_authorization_header,
// ::test_authorization_header_exceptions, ::test_authorization_header_exception_superstring,
// ::test_authorization_header_exception_qualified_public_directive
#[tokio::test]
async fn test_authorization_header_vary() {
    let cases: [(&str, Patch, bool); 5] = [
        ("token", nothing(), true),
        ("", nothing(), false),
        (
            "token",
            Arc::new(|r| cache_control(r, &[("public", CacheDirective::Flag)]).unwrap()),
            false,
        ),
        (
            "token",
            Arc::new(|r| cache_control(r, &[("no_public", CacheDirective::Flag)]).unwrap()),
            true,
        ),
        (
            "token",
            Arc::new(|r| {
                r.headers_mut()
                    .insert("cache-control", HeaderValue::from_static("public=\"abc\""));
            }),
            false,
        ),
    ];
    for (auth, patch, varies) in cases {
        let n = Arc::new(AtomicUsize::new(0));
        let mut c = client(BOTH, vec![counting("view/", &n, patch)]);
        let r = c
            .request(
                Method::GET,
                "/view/",
                &[("authorization", auth)],
                Body::empty(),
            )
            .await;
        assert_eq!(
            has_vary_header(&r.headers, "Authorization"),
            varies,
            "{auth:?}"
        );
    }
}

// The CVE fix end to end: a page fetched with credentials is not served to a request without
// them (nor with other credentials).
#[tokio::test]
async fn authorized_page_not_served_to_others() {
    let n = Arc::new(AtomicUsize::new(0));
    let mut c = client(BOTH, vec![counting("view/", &n, nothing())]);
    let get = |auth: &'static str| {
        (
            Method::GET,
            "/view/",
            if auth.is_empty() {
                vec![]
            } else {
                vec![("authorization", auth)]
            },
        )
    };
    let mut send = async |auth| {
        let (m, p, h) = get(auth);
        c.request(m, p, &h, Body::empty()).await.text()
    };
    assert_eq!(send("Bearer alice").await, "Hello World 1");
    assert_eq!(send("Bearer alice").await, "Hello World 1");
    assert_eq!(send("Bearer bob").await, "Hello World 2");
    // The anonymous response replaces the URL's header list (Django keeps one per URL), so
    // from now on everyone gets the anonymous page, never Alice's or Bob's.
    assert_eq!(send("").await, "Hello World 3");
    assert_eq!(send("Bearer carol").await, "Hello World 3");
    assert_eq!(send("").await, "Hello World 3");
}

// Django: tests/cache/tests.py::CacheMiddlewareTest::test_sensitive_cookie_not_cached,
// ::test_refreshed_cookie_not_cached
#[tokio::test]
async fn test_sensitive_cookie_not_cached() {
    let patch: Patch = Arc::new(|r| {
        r.set_cookie(&SetCookie::new("session", "new_value"));
        vary_on_cookie(r);
    });
    for cookie in [None, Some("session=old_value"), Some("unrelated=value")] {
        let n = Arc::new(AtomicUsize::new(0));
        let mut c = client(BOTH, vec![counting("view/", &n, patch.clone())]);
        let extra: Vec<(&str, &str)> = cookie.map(|v| ("cookie", v)).into_iter().collect();
        c.request(Method::GET, "/view/", &extra, Body::empty())
            .await;
        let again = c
            .request(Method::GET, "/view/", &extra, Body::empty())
            .await;
        assert_eq!(again.text(), "Hello World 2", "{cookie:?}");
    }
    // A cookie without Vary: Cookie is cached with the page (as Django does).
    let plain: Patch = Arc::new(|r| r.set_cookie(&SetCookie::new("flavour", "x")));
    let (_, b) = twice(BOTH, plain).await;
    assert_eq!(b, "Hello World 1");
}

// Django: tests/cache/tests.py::CacheMiddlewareTest::test_304_response_has_http_caching_headers_but_not_cached
#[tokio::test]
async fn test_304_response_has_http_caching_headers_but_not_cached() {
    let patch: Patch = Arc::new(|r| *r.status_mut() = StatusCode::NOT_MODIFIED);
    let n = Arc::new(AtomicUsize::new(0));
    let mut c = client(
        BOTH,
        vec![counting("view/", &n, patch).marker(CachePage::new(2))],
    );
    c.get("/view/").await;
    let r = c.get("/view/").await;
    assert_eq!(r.status, StatusCode::NOT_MODIFIED);
    assert_eq!(n.load(Ordering::SeqCst), 2);
    assert_eq!(r.header("cache-control"), Some("max-age=2"));
    assert!(r.header("expires").is_some());
}

// Django: tests/cache/tests.py::CacheI18nTest::test_middleware_doesnt_cache_streaming_response
#[tokio::test]
async fn test_middleware_doesnt_cache_streaming_response() {
    let n = Arc::new(AtomicUsize::new(0));
    let counter = n.clone();
    let route = Route::with_view(
        "stream/",
        view_fn(move |_req: &mut Request| {
            counter.fetch_add(1, Ordering::SeqCst);
            async move {
                let chunks = futures_util::stream::iter(vec![Ok::<_, std::io::Error>(
                    bytes::Bytes::from_static(b"chunk"),
                )]);
                Ok(middleware_core::response::streaming(
                    StatusCode::OK,
                    "text/plain",
                    chunks,
                ))
            }
        }),
    );
    let mut c = client(BOTH, vec![route]);
    let first = c.get("/stream/").await;
    assert!(first.streaming);
    assert_eq!(first.header("cache-control"), None);
    c.get("/stream/").await;
    assert_eq!(n.load(Ordering::SeqCst), 2);
}

// Django: tests/cache/tests.py::CacheHEADTest::test_head_caches_correctly,
// ::test_head_with_cached_get
#[tokio::test]
async fn test_head() {
    let n = Arc::new(AtomicUsize::new(0));
    let mut c = client(BOTH, vec![counting("view/", &n, nothing())]);
    c.head("/view/").await;
    c.head("/view/").await;
    assert_eq!(
        n.load(Ordering::SeqCst),
        1,
        "HEAD served from the HEAD entry"
    );
    // A HEAD entry is not served to GET.
    assert_eq!(c.get("/view/").await.text(), "Hello World 2");

    let n = Arc::new(AtomicUsize::new(0));
    let mut c = client(BOTH, vec![counting("view/", &n, nothing())]);
    c.get("/view/").await;
    let head = c.head("/view/").await;
    assert_eq!(
        n.load(Ordering::SeqCst),
        1,
        "HEAD served from the GET entry"
    );
    assert!(head.header("age").is_some());
}

// Only GET and HEAD are fetched or stored (Django's `_cache_update_cache = False`).
#[tokio::test]
async fn other_methods_bypass_the_cache() {
    let n = Arc::new(AtomicUsize::new(0));
    let mut c = client(BOTH, vec![counting("view/", &n, nothing())]);
    for method in [Method::POST, Method::PUT, Method::OPTIONS, Method::POST] {
        c.request(method, "/view/", &[], Body::empty()).await;
    }
    assert_eq!(n.load(Ordering::SeqCst), 4);
    assert_eq!(c.get("/view/").await.text(), "Hello World 5");
}

/// A view echoing the Host it was asked for.
fn host_echo(counter: &Arc<AtomicUsize>) -> Route {
    let counter = counter.clone();
    Route::with_view(
        "page/",
        view_fn(move |req: &mut Request| {
            counter.fetch_add(1, Ordering::SeqCst);
            let host = req
                .headers()
                .get("host")
                .and_then(|h| h.to_str().ok())
                .unwrap_or("")
                .to_owned();
            async move { Ok(text(StatusCode::OK, format!("page for {host}"))) }
        }),
    )
}

// Django: tests/cache/tests.py::CacheUtils::test_cache_key_varies_by_url, and cache poisoning:
// one host's page is never served for another, a disallowed host is a 400 that reaches neither
// the cache nor the view.
#[tokio::test]
async fn host_is_part_of_the_key_and_disallowed_hosts_are_rejected() {
    let n = Arc::new(AtomicUsize::new(0));
    let mut c = client(BOTH, vec![host_echo(&n)]);
    let get = |host: &'static str| (Method::GET, "/page/", vec![("host", host)]);
    for (host, body) in [
        ("a.example.com", "page for a.example.com"),
        ("b.example.com", "page for b.example.com"),
        ("a.example.com", "page for a.example.com"),
        ("A.EXAMPLE.COM", "page for A.EXAMPLE.COM"),
    ] {
        let (m, p, h) = get(host);
        let r = c.request(m, p, &h, Body::empty()).await;
        assert_eq!(r.text(), body, "{host}");
    }
    assert_eq!(n.load(Ordering::SeqCst), 3, "a.example.com was a hit");
    for host in [
        "evil.com",
        "a.example.com@evil.com",
        "a.example.com:80:80",
        "a.example.com\\x",
    ] {
        let r = c
            .request(Method::GET, "/page/", &[("host", host)], Body::empty())
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{host}");
    }
    assert_eq!(n.load(Ordering::SeqCst), 3);
    // X-Forwarded-Host is ignored unless USE_X_FORWARDED_HOST: it cannot steer the key.
    let r = c
        .request(
            Method::GET,
            "/page/",
            &[
                ("host", "b.example.com"),
                ("x-forwarded-host", "a.example.com"),
            ],
            Body::empty(),
        )
        .await;
    assert_eq!(r.text(), "page for b.example.com");
}

// Django: tests/cache/tests.py::CacheI18nTest::test_middleware (pages cached per language)
#[tokio::test]
async fn test_i18n_pages_cached_per_language() {
    let conf = r#"MIDDLEWARE = ["UpdateCacheMiddleware", "LocaleMiddleware", "FetchFromCacheMiddleware"]
LANGUAGES = [["en", "English"], ["es", "Spanish"]]
LANGUAGE_CODE = "en"
"#;
    let n = Arc::new(AtomicUsize::new(0));
    let mut c = client(conf, vec![counting("view/", &n, nothing())]);
    let get = |lang: &'static str| vec![("accept-language", lang)];
    let mut bodies = Vec::new();
    for lang in ["en", "es", "en", "es", "es-ES"] {
        let r = c
            .request(Method::GET, "/view/", &get(lang), Body::empty())
            .await;
        bodies.push(r.text());
    }
    assert_eq!(
        bodies,
        [
            "Hello World 1",
            "Hello World 2",
            "Hello World 1",
            "Hello World 2",
            "Hello World 2"
        ]
    );
}

// Order checks middleware.W110 / W111 / W112.
#[test]
fn order_checks() {
    let ids = |mw: &str| -> Vec<String> {
        let settings =
            Settings::from_toml_str(&format!("MIDDLEWARE = [{mw}]"), "settings.toml").unwrap();
        registry()
            .run_checks(&settings, false)
            .into_iter()
            .map(|m| m.id)
            .filter(|id| id.starts_with("middleware.W11"))
            .collect()
    };
    let good = "\"SecurityMiddleware\", \"UpdateCacheMiddleware\", \"SessionMiddleware\", \
                \"CommonMiddleware\", \"FetchFromCacheMiddleware\"";
    assert!(ids(good).is_empty(), "{:?}", ids(good));
    let session_above = "\"django.contrib.sessions.middleware.SessionMiddleware\", \
                         \"django.middleware.cache.UpdateCacheMiddleware\", \
                         \"django.middleware.cache.FetchFromCacheMiddleware\"";
    assert_eq!(ids(session_above), ["middleware.W110"]);
    let fetch_not_last =
        "\"UpdateCacheMiddleware\", \"FetchFromCacheMiddleware\", \"CommonMiddleware\"";
    assert_eq!(ids(fetch_not_last), ["middleware.W111"]);
    assert_eq!(ids("\"UpdateCacheMiddleware\""), ["middleware.W112"]);
    assert_eq!(
        ids("\"FetchFromCacheMiddleware\", \"UpdateCacheMiddleware\""),
        ["middleware.W111", "middleware.W112"]
    );
    assert!(ids("\"CommonMiddleware\", \"CacheMiddleware\"").is_empty());
}

fn fixture_request(case: &serde_json::Value) -> Request {
    let path = case["path"].as_str().unwrap();
    let mut req = http::Request::builder()
        .method(case["method"].as_str().unwrap())
        .uri(path);
    let mut has_host = false;
    for (name, value) in case["headers"].as_object().unwrap() {
        // Django's test factory hands `str` values to META; a WSGI server gets the same `str`
        // from Latin-1 bytes.
        let bytes: Vec<u8> = value
            .as_str()
            .unwrap()
            .chars()
            .map(|c| u8::try_from(u32::from(c)).unwrap())
            .collect();
        has_host |= name == "host";
        req = req.header(name.as_str(), HeaderValue::from_bytes(&bytes).unwrap());
    }
    if !has_host {
        req = req.header("host", "testserver");
    }
    if !case["headers"].as_object().unwrap().contains_key("cookie") {
        // Django's RequestFactory always sends an (empty) Cookie header.
        req = req.header("cookie", "");
    }
    let mut req = req.body(Body::empty()).unwrap();
    let settings = Settings::from_toml_str(
        "ALLOWED_HOSTS = [\"testserver\", \"example.com\", \"sub-1.example.com\"]",
        "s",
    )
    .unwrap();
    req.set_core_settings(settings.core().clone());
    let scheme = if case["secure"].as_bool().unwrap() {
        "https"
    } else {
        "http"
    };
    req.set_connection_info(ConnectionInfo {
        remote_addr: None,
        local_addr: None,
        scheme,
    });
    if let Some(lang) = case["language"].as_str() {
        req.extensions_mut().insert(ActiveLanguage(lang.to_owned()));
    }
    req
}

// Django: tests/cache/tests.py::CacheUtils::test_get_cache_key, ::test_get_cache_key_with_query,
// ::test_learn_cache_key, ::test_cache_key_blank_header, ::test_learn_cache_key_strips_whitespace,
// CacheI18nTest::test_cache_key_i18n_translation / _timezone / test_cache_key_no_i18n: keys
// equal Django 6.1.3's for the same inputs (tests/fixtures/django/cache_keys.json).
#[tokio::test]
async fn keys_match_django() {
    let text = include_str!("fixtures/django/cache_keys.json");
    let cases: Vec<serde_json::Value> = serde_json::from_str(text).unwrap();
    assert!(cases.len() >= 20);
    for case in &cases {
        let name = case["name"].as_str().unwrap();
        let mut config = CacheKeyConfig::default();
        if let Some(s) = case["settings"].as_object() {
            if let Some(v) = s.get("USE_I18N") {
                config.use_i18n = v.as_bool().unwrap();
            }
            if let Some(v) = s.get("USE_TZ") {
                config.use_tz = v.as_bool().unwrap();
            }
            if let Some(v) = s.get("TIME_ZONE") {
                config.time_zone = v.as_str().unwrap().to_owned();
            }
        }
        let req = fixture_request(case);
        let source = config.request(&req).unwrap();
        assert_eq!(source.absolute_uri(), case["absolute_uri"], "{name}");
        let prefix = case["key_prefix"].as_str().unwrap();
        assert_eq!(
            config.header_key(&source, prefix),
            case["header_key"],
            "{name}"
        );
        let mut response_headers = HeaderMap::new();
        if let Some(vary) = case["vary"].as_str() {
            response_headers.insert("vary", HeaderValue::from_str(vary).unwrap());
        }
        let cache = LocMemCache::new(KeyMaker::new("", 1), Some(300), 300, 3);
        assert_eq!(
            get_cache_key(&source, prefix, "GET", &cache, &config)
                .await
                .unwrap(),
            None,
            "{name}: no header list learned yet"
        );
        let learned = learn_cache_key(&source, &response_headers, 600, prefix, &cache, &config)
            .await
            .unwrap();
        assert_eq!(learned, case["learned_key"], "{name}");
        let got = get_cache_key(&source, prefix, "GET", &cache, &config)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got, case["get_key"], "{name}");
    }
}

// Django: tests/cache/tests.py::CacheUtils::test_learn_cache_key_no_header_collision
#[tokio::test]
async fn header_values_do_not_collide() {
    let config = CacheKeyConfig::default();
    let key = |headers: &[(&str, &str)]| {
        let mut b = http::Request::get("/v/").header("host", "testserver");
        for (n, v) in headers {
            b = b.header(*n, *v);
        }
        let mut req = b.body(Body::empty()).unwrap();
        let settings = Settings::from_toml_str("ALLOWED_HOSTS = [\"testserver\"]", "s").unwrap();
        req.set_core_settings(settings.core().clone());
        let source = config.request(&req).unwrap();
        config.page_key(
            &source,
            "GET",
            &["HTTP_X_REGION".to_owned(), "HTTP_X_TENANT".to_owned()],
            "",
        )
    };
    type Headers<'a> = &'a [(&'a str, &'a str)];
    let pairs: [(Headers<'_>, Headers<'_>); 4] = [
        (
            &[("x-region", "EU"), ("x-tenant", "")],
            &[("x-region", ""), ("x-tenant", "EU")],
        ),
        (&[("x-region", "EU")], &[("x-tenant", "EU")]),
        (&[("x-region", "")], &[]),
        (
            &[("x-region", "1:a,"), ("x-tenant", "")],
            &[("x-region", "1:a"), ("x-tenant", "1:,")],
        ),
    ];
    for (a, b) in pairs {
        assert_ne!(key(a), key(b), "{a:?} vs {b:?}");
    }
    // Header names with underscores never reach Django's META.
    assert_eq!(key(&[("x_region", "EU")]), key(&[]));
}

fn redis_conf(port: u16, extra: &str) -> String {
    format!(
        "{BOTH}\n{extra}\n[CACHES.default]\nBACKEND = \"django.core.cache.backends.redis.RedisCache\"\n\
         LOCATION = \"redis://127.0.0.1:{port}/0\"\n"
    )
}

// Entries are whole serialised responses: a chain built separately (another process) on the
// same Redis serves them; Django's test_middleware: another key prefix misses, another timeout
// hits.
#[tokio::test]
async fn redis_entries_are_shared_between_sites() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let n = Arc::new(AtomicUsize::new(0));
    let route = |prefix: Option<&str>| {
        let mut page = CachePage::new(30);
        if let Some(p) = prefix {
            page = page.key_prefix(p);
        }
        counting("view/", &n, nothing()).marker(page)
    };
    let mut first = client(&redis_conf(server.port, ""), vec![route(None)]);
    let mut second = client(&redis_conf(server.port, ""), vec![route(None)]);
    let mut prefixed = client(&redis_conf(server.port, ""), vec![route(Some("prefix1"))]);
    assert_eq!(first.get("/view/").await.text(), "Hello World 1");
    let shared = second.get("/view/").await;
    assert_eq!(shared.text(), "Hello World 1");
    assert_eq!(
        shared.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(prefixed.get("/view/").await.text(), "Hello World 2");
    drop(server);
}

// A Redis outage: requests are answered by the view, quickly, never a 500; caching resumes
// when Redis is back.
#[tokio::test]
async fn redis_down_is_a_miss_and_caching_resumes() {
    let Some(mut server) = RedisServer::start() else {
        return;
    };
    let port = server.port;
    let n = Arc::new(AtomicUsize::new(0));
    let mut c = client(
        &redis_conf(port, ""),
        vec![counting("view/", &n, nothing())],
    );
    assert_eq!(c.get("/view/").await.text(), "Hello World 1");
    assert_eq!(c.get("/view/").await.text(), "Hello World 1");
    server.stop();
    for expected in ["Hello World 2", "Hello World 3"] {
        let started = Instant::now();
        let r = c.get("/view/").await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.text(), expected);
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
    }
    let _server = RedisServer::start_on(port).expect("redis restarts");
    // The restarted server is empty: one miss, then hits again.
    assert_eq!(c.get("/view/").await.text(), "Hello World 4");
    assert_eq!(c.get("/view/").await.text(), "Hello World 4");
}

// A slow Redis (it accepts connections but never answers) is a miss within the command
// timeout, not a hang.
#[tokio::test]
async fn unresponsive_cache_backend_does_not_hang() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let n = Arc::new(AtomicUsize::new(0));
    let mut c = client(
        &redis_conf(port, ""),
        vec![counting("view/", &n, nothing())],
    );
    let started = Instant::now();
    let r = c.get("/view/").await;
    assert_eq!(r.text(), "Hello World 1");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    drop(listener);
}
