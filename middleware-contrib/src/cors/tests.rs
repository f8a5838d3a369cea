//! Ports of django-cors-headers' `tests/test_middleware.py::CorsMiddlewareTests` (and two of
//! `tests/test_checks.py`). Views as the original's `tests/views.py`.

use super::*;
use middleware_core::test_client::{Client, TestResponse};
use middleware_core::{Body, Chain, HookMiddleware, Route, Router};

const ORIGIN: &str = "https://example.com";

/// `tests/views.py::index` (`@require_GET`).
async fn index(request: &mut Request) -> Result<Response, Error> {
    if request.method() != Method::GET {
        return Ok(middleware_core::response::text(
            StatusCode::METHOD_NOT_ALLOWED,
            "",
        ));
    }
    Ok(Response::new("Index".into()))
}

/// `tests/views.py::unauthorized`.
async fn unauthorized(_: &mut Request) -> Result<Response, Error> {
    Ok(middleware_core::response::text(
        StatusCode::UNAUTHORIZED,
        "Unauthorized",
    ))
}

/// `tests/views.py::delete_enabled_attribute`.
async fn delete_enabled(request: &mut Request) -> Result<Response, Error> {
    request.extensions_mut().remove::<CorsEnabled>();
    Ok(Response::new(Body::empty()))
}

async fn plain(_: &mut Request) -> Result<Response, Error> {
    Ok(Response::new("ok".into()))
}

/// `ShortCircuitMiddleware` of the original test module.
struct ShortCircuitMiddleware;

#[async_trait]
impl HookMiddleware for ShortCircuitMiddleware {
    async fn process_request(&self, _: &mut Request) -> Result<Option<Response>, Error> {
        Ok(Some(Response::new(
            "short-circuit-middleware-response".into(),
        )))
    }
}

fn router() -> Router {
    let mut r = Router::new();
    r.route("", index).unwrap();
    r.route("unauthorized/", unauthorized).unwrap();
    r.route("delete-enabled/", delete_enabled).unwrap();
    r.add(Route::new("foo/", plain)).unwrap();
    r.add(Route::new("api/<path:rest>", plain)).unwrap();
    r
}

fn build(conf: &str, handlers: Vec<CheckRequestEnabled>) -> Client {
    let mut registry = Registry::new();
    register_with(&mut registry, handlers);
    registry.register_hooks("ShortCircuitMiddleware", |_| Ok(ShortCircuitMiddleware));
    let text = if conf.contains("MIDDLEWARE") {
        format!("ALLOWED_HOSTS = [\"*\"]\n{conf}")
    } else {
        format!("ALLOWED_HOSTS = [\"*\"]\nMIDDLEWARE = [\"corsheaders.middleware.CorsMiddleware\"]\n{conf}")
    };
    let settings = Settings::from_toml_str(&text, "test.toml").unwrap();
    Client::new(
        Chain::builder(&registry, &settings)
            .urls(router())
            .build()
            .unwrap(),
    )
}

async fn get(conf: &str, path: &str, headers: &[(&str, &str)]) -> TestResponse {
    build(conf, Vec::new())
        .request(Method::GET, path, headers, Body::empty())
        .await
}

async fn options(conf: &str, path: &str, headers: &[(&str, &str)]) -> TestResponse {
    build(conf, Vec::new())
        .request(Method::OPTIONS, path, headers, Body::empty())
        .await
}

const PREFLIGHT: &[(&str, &str)] = &[("origin", ORIGIN), ("access-control-request-method", "GET")];

// corsheaders: tests/test_middleware.py::CorsMiddlewareTests::test_get_no_origin
#[tokio::test]
async fn test_get_no_origin() {
    let r = get("", "/", &[]).await;
    assert!(r.header(ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
}

// corsheaders: tests/test_middleware.py::CorsMiddlewareTests::test_get_origin_vary_by_default
#[tokio::test]
async fn test_get_origin_vary_by_default() {
    assert_eq!(get("", "/", &[]).await.header("vary"), Some("origin"));
}

// corsheaders: tests/test_middleware.py::CorsMiddlewareTests::test_get_invalid_origin
#[tokio::test]
async fn test_get_invalid_origin() {
    let conf = "CORS_ALLOW_ALL_ORIGINS = true";
    let r = get(conf, "/", &[("origin", "https://example.com]")]).await;
    assert!(r.header(ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
    // A well-formed origin gets the header with the same settings: the bracket is the cause.
    let r = get(conf, "/", &[("origin", ORIGIN)]).await;
    assert_eq!(r.header(ACCESS_CONTROL_ALLOW_ORIGIN), Some("*"));
}

// corsheaders: tests/test_middleware.py::CorsMiddlewareTests::test_get_not_in_allowed_origins
#[tokio::test]
async fn test_get_not_in_allowed_origins() {
    let conf = "CORS_ALLOWED_ORIGINS = [\"https://example.com\"]";
    let r = get(conf, "/", &[("origin", "https://example.org")]).await;
    assert!(r.header(ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
}

// corsheaders: tests/test_middleware.py::CorsMiddlewareTests::test_get_not_in_allowed_origins_due_to_wrong_scheme
#[tokio::test]
async fn test_get_not_in_allowed_origins_due_to_wrong_scheme() {
    let conf = "CORS_ALLOWED_ORIGINS = [\"http://example.org\"]";
    let r = get(conf, "/", &[("origin", "https://example.org")]).await;
    assert!(r.header(ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
}

// corsheaders: tests/test_middleware.py::CorsMiddlewareTests::test_get_in_allowed_origins
#[tokio::test]
async fn test_get_in_allowed_origins() {
    let conf = "CORS_ALLOWED_ORIGINS = [\"https://example.com\", \"https://example.org\"]";
    let r = get(conf, "/", &[("origin", "https://example.org")]).await;
    assert_eq!(
        r.header(ACCESS_CONTROL_ALLOW_ORIGIN),
        Some("https://example.org")
    );
}

// corsheaders: tests/test_middleware.py::CorsMiddlewareTests::test_null_in_allowed_origins
#[tokio::test]
async fn test_null_in_allowed_origins() {
    let conf = "CORS_ALLOWED_ORIGINS = [\"https://example.com\", \"null\"]";
    let r = get(conf, "/", &[("origin", "null")]).await;
    assert_eq!(r.header(ACCESS_CONTROL_ALLOW_ORIGIN), Some("null"));
    // Without "null" listed, it is refused.
    let conf = "CORS_ALLOWED_ORIGINS = [\"https://example.com\"]";
    let r = get(conf, "/", &[("origin", "null")]).await;
    assert!(r.header(ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
}

// corsheaders: tests/test_middleware.py::CorsMiddlewareTests::test_file_in_allowed_origins
#[tokio::test]
async fn test_file_in_allowed_origins() {
    let conf = "CORS_ALLOWED_ORIGINS = [\"https://example.com\", \"file://\"]";
    let r = get(conf, "/", &[("origin", "file://")]).await;
    assert_eq!(r.header(ACCESS_CONTROL_ALLOW_ORIGIN), Some("file://"));
}

// corsheaders: tests/test_middleware.py::CorsMiddlewareTests::test_get_expose_headers
#[tokio::test]
async fn test_get_expose_headers() {
    let conf =
        "CORS_ALLOW_ALL_ORIGINS = true\nCORS_EXPOSE_HEADERS = [\"accept\", \"content-type\"]";
    let r = get(conf, "/", &[("origin", ORIGIN)]).await;
    assert_eq!(
        r.header(ACCESS_CONTROL_EXPOSE_HEADERS),
        Some("accept, content-type")
    );
}

// corsheaders: tests/test_middleware.py::CorsMiddlewareTests::test_get_dont_expose_headers
#[tokio::test]
async fn test_get_dont_expose_headers() {
    let r = get("CORS_ALLOW_ALL_ORIGINS = true", "/", &[("origin", ORIGIN)]).await;
    assert_eq!(r.header(ACCESS_CONTROL_ALLOW_ORIGIN), Some("*"));
    assert!(r.header(ACCESS_CONTROL_EXPOSE_HEADERS).is_none());
}

// corsheaders: tests/test_middleware.py::CorsMiddlewareTests::test_get_allow_credentials
#[tokio::test]
async fn test_get_allow_credentials() {
    let conf = "CORS_ALLOWED_ORIGINS = [\"https://example.com\"]\nCORS_ALLOW_CREDENTIALS = true";
    let r = get(conf, "/", &[("origin", ORIGIN)]).await;
    assert_eq!(r.header(ACCESS_CONTROL_ALLOW_CREDENTIALS), Some("true"));
}

// corsheaders: tests/test_middleware.py::CorsMiddlewareTests::test_get_allow_credentials_bad_origin
#[tokio::test]
async fn test_get_allow_credentials_bad_origin() {
    let conf = "CORS_ALLOWED_ORIGINS = [\"https://example.com\"]\nCORS_ALLOW_CREDENTIALS = true";
    let r = get(conf, "/", &[("origin", "https://example.org")]).await;
    assert!(r.header(ACCESS_CONTROL_ALLOW_CREDENTIALS).is_none());
}

// corsheaders: tests/test_middleware.py::CorsMiddlewareTests::test_get_allow_credentials_disabled
#[tokio::test]
async fn test_get_allow_credentials_disabled() {
    let conf = "CORS_ALLOWED_ORIGINS = [\"https://example.com\"]";
    let r = get(conf, "/", &[("origin", ORIGIN)]).await;
    assert_eq!(r.header(ACCESS_CONTROL_ALLOW_ORIGIN), Some(ORIGIN));
    assert!(r.header(ACCESS_CONTROL_ALLOW_CREDENTIALS).is_none());
}

const PRIVATE: &str = "CORS_ALLOW_PRIVATE_NETWORK = true\nCORS_ALLOW_ALL_ORIGINS = true";

// corsheaders: tests/test_middleware.py::CorsMiddlewareTests::test_allow_private_network_added_if_enabled_and_requested
#[tokio::test]
async fn test_allow_private_network_added_if_enabled_and_requested() {
    let h = [
        ("access-control-request-private-network", "true"),
        ("origin", "http://example.com"),
    ];
    let r = get(PRIVATE, "/", &h).await;
    assert_eq!(r.header(ACCESS_CONTROL_ALLOW_PRIVATE_NETWORK), Some("true"));
}

// corsheaders: tests/test_middleware.py::CorsMiddlewareTests::test_allow_private_network_not_added_if_enabled_and_not_requested
#[tokio::test]
async fn test_allow_private_network_not_added_if_enabled_and_not_requested() {
    let r = get(PRIVATE, "/", &[("origin", "http://example.com")]).await;
    assert!(r.header(ACCESS_CONTROL_ALLOW_PRIVATE_NETWORK).is_none());
}

// corsheaders: tests/test_middleware.py::CorsMiddlewareTests::test_allow_private_network_not_added_if_enabled_and_no_cors_origin
#[tokio::test]
async fn test_allow_private_network_not_added_if_enabled_and_no_cors_origin() {
    let conf = "CORS_ALLOW_PRIVATE_NETWORK = true\nCORS_ALLOWED_ORIGINS = [\"http://example.com\"]";
    let h = [
        ("access-control-request-private-network", "true"),
        ("origin", "http://example.org"),
    ];
    let r = get(conf, "/", &h).await;
    assert!(r.header(ACCESS_CONTROL_ALLOW_PRIVATE_NETWORK).is_none());
}

// corsheaders: tests/test_middleware.py::CorsMiddlewareTests::test_allow_private_network_not_added_if_disabled_and_requested
#[tokio::test]
async fn test_allow_private_network_not_added_if_disabled_and_requested() {
    let conf = "CORS_ALLOW_PRIVATE_NETWORK = false\nCORS_ALLOW_ALL_ORIGINS = true";
    let h = [
        ("access-control-request-private-network", "true"),
        ("origin", "http://example.com"),
    ];
    let r = get(conf, "/", &h).await;
    assert!(r.header(ACCESS_CONTROL_ALLOW_PRIVATE_NETWORK).is_none());
}

const OPTS: &str = "CORS_ALLOW_HEADERS = [\"content-type\"]\nCORS_ALLOW_METHODS = [\"GET\", \"OPTIONS\"]\nCORS_ALLOW_ALL_ORIGINS = true\n";

// corsheaders: tests/test_middleware.py::CorsMiddlewareTests::test_options_allowed_origin
#[tokio::test]
async fn test_options_allowed_origin() {
    let r = options(
        &format!("{OPTS}CORS_PREFLIGHT_MAX_AGE = 1002"),
        "/",
        PREFLIGHT,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header(ACCESS_CONTROL_ALLOW_HEADERS), Some("content-type"));
    assert_eq!(r.header(ACCESS_CONTROL_ALLOW_METHODS), Some("GET, OPTIONS"));
    assert_eq!(r.header(ACCESS_CONTROL_MAX_AGE), Some("1002"));
}

// corsheaders: tests/test_middleware.py::CorsMiddlewareTests::test_options_no_max_age
#[tokio::test]
async fn test_options_no_max_age() {
    let r = options(&format!("{OPTS}CORS_PREFLIGHT_MAX_AGE = 0"), "/", PREFLIGHT).await;
    assert_eq!(r.header(ACCESS_CONTROL_ALLOW_HEADERS), Some("content-type"));
    assert_eq!(r.header(ACCESS_CONTROL_ALLOW_METHODS), Some("GET, OPTIONS"));
    assert!(r.header(ACCESS_CONTROL_MAX_AGE).is_none());
}

/// The defaults of `CORS_ALLOW_HEADERS`, `CORS_ALLOW_METHODS` and `CORS_PREFLIGHT_MAX_AGE`, as
/// `corsheaders/defaults.py` and `conf.py` give them.
#[tokio::test]
async fn preflight_default_header_values() {
    let r = options("CORS_ALLOW_ALL_ORIGINS = true", "/", PREFLIGHT).await;
    assert_eq!(
        r.header(ACCESS_CONTROL_ALLOW_HEADERS),
        Some("accept, authorization, content-type, user-agent, x-csrftoken, x-requested-with")
    );
    assert_eq!(
        r.header(ACCESS_CONTROL_ALLOW_METHODS),
        Some("DELETE, GET, OPTIONS, PATCH, POST, PUT")
    );
    assert_eq!(r.header(ACCESS_CONTROL_MAX_AGE), Some("86400"));
    assert_eq!(r.header(ACCESS_CONTROL_ALLOW_ORIGIN), Some("*"));
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    assert!(r.body.is_empty());
}

// corsheaders: tests/test_middleware.py::CorsMiddlewareTests::test_options_allowed_origins_with_port
#[tokio::test]
async fn test_options_allowed_origins_with_port() {
    let conf = "CORS_ALLOWED_ORIGINS = [\"https://localhost:9000\"]";
    let h = [
        ("origin", "https://localhost:9000"),
        ("access-control-request-method", "GET"),
    ];
    let r = options(conf, "/", &h).await;
    assert_eq!(
        r.header(ACCESS_CONTROL_ALLOW_ORIGIN),
        Some("https://localhost:9000")
    );
}

fn foo_preflight() -> [(&'static str, &'static str); 2] {
    [
        ("origin", "https://foo.example.com"),
        ("access-control-request-method", "GET"),
    ]
}

// corsheaders: tests/test_middleware.py::CorsMiddlewareTests::test_options_adds_origin_when_domain_found_in_allowed_regexes
#[tokio::test]
async fn test_options_adds_origin_when_domain_found_in_allowed_regexes() {
    let conf = r#"CORS_ALLOWED_ORIGIN_REGEXES = ['^https://\w+\.example\.com$']"#;
    let r = options(conf, "/", &foo_preflight()).await;
    assert_eq!(
        r.header(ACCESS_CONTROL_ALLOW_ORIGIN),
        Some("https://foo.example.com")
    );
}

// corsheaders: tests/test_middleware.py::CorsMiddlewareTests::test_options_adds_origin_when_domain_found_in_allowed_regexes_second
#[tokio::test]
async fn test_options_adds_origin_when_domain_found_in_allowed_regexes_second() {
    let conf = r#"CORS_ALLOWED_ORIGIN_REGEXES = ['^https://\w+\.example\.org$', '^https://\w+\.example\.com$']"#;
    let r = options(conf, "/", &foo_preflight()).await;
    assert_eq!(
        r.header(ACCESS_CONTROL_ALLOW_ORIGIN),
        Some("https://foo.example.com")
    );
}

// corsheaders: tests/test_middleware.py::CorsMiddlewareTests::test_options_doesnt_add_origin_when_domain_not_found_in_allowed_regexes
#[tokio::test]
async fn test_options_doesnt_add_origin_when_domain_not_found_in_allowed_regexes() {
    let conf = r#"CORS_ALLOWED_ORIGIN_REGEXES = ['^https://\w+\.example\.org$']"#;
    let r = options(conf, "/", &foo_preflight()).await;
    assert!(r.header(ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
}

/// The regexes are applied with `re.match`: anchored at the start, not at the end.
#[tokio::test]
async fn regexes_match_at_the_start_only() {
    let conf = r#"CORS_ALLOWED_ORIGIN_REGEXES = ['https://\w+\.example\.com']"#;
    let h = [("origin", "https://foo.example.com.evil.net")];
    let r = get(conf, "/", &h).await;
    assert_eq!(
        r.header(ACCESS_CONTROL_ALLOW_ORIGIN),
        Some("https://foo.example.com.evil.net")
    );
    let h = [("origin", "http://evil.net/https://foo.example.com")];
    assert!(get(conf, "/", &h)
        .await
        .header(ACCESS_CONTROL_ALLOW_ORIGIN)
        .is_none());
}

// corsheaders: tests/test_middleware.py::CorsMiddlewareTests::test_options_empty_request_method
#[tokio::test]
async fn test_options_empty_request_method() {
    let h = [("origin", ORIGIN), ("access-control-request-method", "")];
    assert_eq!(options("", "/", &h).await.status, StatusCode::OK);
}

// corsheaders: tests/test_middleware.py::CorsMiddlewareTests::test_options_no_headers
#[tokio::test]
async fn test_options_no_headers() {
    assert_eq!(
        options("", "/", &[]).await.status,
        StatusCode::METHOD_NOT_ALLOWED
    );
}

const ALL_CREDS: &str = "CORS_ALLOW_CREDENTIALS = true\nCORS_ALLOW_ALL_ORIGINS = true";

// corsheaders: tests/test_middleware.py::CorsMiddlewareTests::test_allow_all_origins_get
#[tokio::test]
async fn test_allow_all_origins_get() {
    let r = get(ALL_CREDS, "/", PREFLIGHT).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header(ACCESS_CONTROL_ALLOW_ORIGIN), Some(ORIGIN));
    assert_eq!(r.header("vary"), Some("origin"));
    // Not an OPTIONS request: no preflight headers.
    assert!(r.header(ACCESS_CONTROL_ALLOW_METHODS).is_none());
}

// corsheaders: tests/test_middleware.py::CorsMiddlewareTests::test_allow_all_origins_options
#[tokio::test]
async fn test_allow_all_origins_options() {
    let r = options(ALL_CREDS, "/", PREFLIGHT).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header(ACCESS_CONTROL_ALLOW_ORIGIN), Some(ORIGIN));
    assert_eq!(r.header("vary"), Some("origin"));
}

// corsheaders: tests/test_middleware.py::CorsMiddlewareTests::test_non_200_headers_still_set
#[tokio::test]
async fn test_non_200_headers_still_set() {
    let r = get(ALL_CREDS, "/unauthorized/", &[("origin", ORIGIN)]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.header(ACCESS_CONTROL_ALLOW_ORIGIN), Some(ORIGIN));
}

// corsheaders: tests/test_middleware.py::CorsMiddlewareTests::test_auth_view_options
#[tokio::test]
async fn test_auth_view_options() {
    let r = options(ALL_CREDS, "/unauthorized/", PREFLIGHT).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header(ACCESS_CONTROL_ALLOW_ORIGIN), Some(ORIGIN));
    assert_eq!(r.header("content-length"), Some("0"));
}

fn constant(answer: bool) -> CheckRequestEnabled {
    Arc::new(move |_: &Request| answer)
}

// corsheaders: tests/test_middleware.py::CorsMiddlewareTests::test_signal_handler_that_returns_false
#[tokio::test]
async fn test_signal_handler_that_returns_false() {
    let mut c = build("", vec![constant(false)]);
    let r = c
        .request(Method::OPTIONS, "/", PREFLIGHT, Body::empty())
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.header(ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
}

// corsheaders: tests/test_middleware.py::CorsMiddlewareTests::test_signal_handler_that_returns_true
#[tokio::test]
async fn test_signal_handler_that_returns_true() {
    let mut c = build("", vec![constant(false), constant(true)]);
    let r = c
        .request(Method::OPTIONS, "/", PREFLIGHT, Body::empty())
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header(ACCESS_CONTROL_ALLOW_ORIGIN), Some(ORIGIN));
}

// corsheaders: tests/test_middleware.py::CorsMiddlewareTests::test_signal_handler_allow_some_urls_to_everyone
#[tokio::test]
async fn test_signal_handler_allow_some_urls_to_everyone() {
    let api: CheckRequestEnabled = Arc::new(|r: &Request| r.path().starts_with("/api/"));
    let mut c = build(
        "CORS_ALLOWED_ORIGINS = [\"https://example.com\"]",
        vec![api],
    );
    let h = [
        ("origin", "https://example.org"),
        ("access-control-request-method", "GET"),
    ];
    let r = c.request(Method::OPTIONS, "/", &h, Body::empty()).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.header(ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
    let r = c
        .request(Method::OPTIONS, "/api/something/", &h, Body::empty())
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.header(ACCESS_CONTROL_ALLOW_ORIGIN),
        Some("https://example.org")
    );
}

// corsheaders: tests/test_middleware.py::CorsMiddlewareTests::test_signal_called_once_during_normal_flow
#[tokio::test]
async fn test_signal_called_once_during_normal_flow() {
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = calls.clone();
    let allow_all: CheckRequestEnabled = Arc::new(move |_: &Request| {
        counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        true
    });
    let mut c = build(
        "CORS_ALLOWED_ORIGINS = [\"https://example.com\"]",
        vec![allow_all],
    );
    c.request(
        Method::GET,
        "/",
        &[("origin", "https://example.org")],
        Body::empty(),
    )
    .await;
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1);
}

// corsheaders: tests/test_middleware.py::CorsMiddlewareTests::test_get_short_circuit
#[tokio::test]
async fn test_get_short_circuit() {
    let conf = "MIDDLEWARE = [\"ShortCircuitMiddleware\", \"CorsMiddleware\"]\nCORS_ALLOWED_ORIGINS = [\"https://example.com\"]";
    let r = get(conf, "/", &[("origin", ORIGIN)]).await;
    assert_eq!(r.text(), "short-circuit-middleware-response");
    assert!(r.header(ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
}

// corsheaders: tests/test_middleware.py::CorsMiddlewareTests::test_get_short_circuit_should_be_ignored
#[tokio::test]
async fn test_get_short_circuit_should_be_ignored() {
    let conf = "MIDDLEWARE = [\"ShortCircuitMiddleware\", \"CorsMiddleware\"]\nCORS_ALLOWED_ORIGINS = [\"https://example.com\"]\nCORS_URLS_REGEX = '^/foo/$'";
    let r = get(conf, "/", &[("origin", ORIGIN)]).await;
    assert!(r.header(ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
}

// corsheaders: tests/test_middleware.py::CorsMiddlewareTests::test_get_regex_matches
#[tokio::test]
async fn test_get_regex_matches() {
    let conf = "CORS_ALLOWED_ORIGINS = [\"https://example.com\"]\nCORS_URLS_REGEX = '^/foo/$'";
    let r = get(conf, "/foo/", &[("origin", ORIGIN)]).await;
    assert_eq!(r.header(ACCESS_CONTROL_ALLOW_ORIGIN), Some(ORIGIN));
}

// corsheaders: tests/test_middleware.py::CorsMiddlewareTests::test_get_regex_doesnt_match
#[tokio::test]
async fn test_get_regex_doesnt_match() {
    let conf = "CORS_ALLOWED_ORIGINS = [\"https://example.com\"]\nCORS_URLS_REGEX = '^/not-foo/$'";
    let r = get(conf, "/foo/", &[("origin", ORIGIN)]).await;
    assert!(r.header(ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
    // Not enabled at all: not even Vary.
    assert!(r.header("vary").is_none());
}

// corsheaders: tests/test_middleware.py::CorsMiddlewareTests::test_cors_enabled_is_attached_and_bool
#[tokio::test]
async fn test_cors_enabled_is_attached_and_bool() {
    let seen = Arc::new(std::sync::Mutex::new(None));
    let probe = seen.clone();
    let check: CheckRequestEnabled = Arc::new(move |r: &Request| {
        // Called for the non-listed origin after the view ran: the marker is there.
        *probe.lock().unwrap() = r.extensions().get::<CorsEnabled>().copied();
        false
    });
    let mut c = build(
        "CORS_ALLOWED_ORIGINS = [\"https://example.com\"]",
        vec![check],
    );
    c.request(
        Method::GET,
        "/",
        &[("origin", "https://example.org")],
        Body::empty(),
    )
    .await;
    assert_eq!(*seen.lock().unwrap(), Some(CorsEnabled(true)));
}

// corsheaders: tests/test_middleware.py::CorsMiddlewareTests::test_works_if_view_deletes_cors_enabled
#[tokio::test]
async fn test_works_if_view_deletes_cors_enabled() {
    let conf = "CORS_ALLOWED_ORIGINS = [\"https://example.com\"]";
    let r = get(conf, "/delete-enabled/", &[("origin", ORIGIN)]).await;
    assert_eq!(r.header(ACCESS_CONTROL_ALLOW_ORIGIN), Some(ORIGIN));
}

/// An existing `Vary` is extended, not replaced (Django's `patch_vary_headers`).
#[tokio::test]
async fn vary_is_patched_not_replaced() {
    async fn varied(_: &mut Request) -> Result<Response, Error> {
        let mut r = Response::new("x".into());
        r.headers_mut()
            .insert(header::VARY, HeaderValue::from_static("Cookie"));
        Ok(r)
    }
    let mut registry = Registry::new();
    register(&mut registry);
    let settings = Settings::from_toml_str(
        "ALLOWED_HOSTS = [\"*\"]\nMIDDLEWARE = [\"CorsMiddleware\"]",
        "t",
    )
    .unwrap();
    let mut router = Router::new();
    router.route("", varied).unwrap();
    let mut c = Client::new(
        Chain::builder(&registry, &settings)
            .urls(router)
            .build()
            .unwrap(),
    );
    assert_eq!(c.get("/").await.header("vary"), Some("Cookie, origin"));
}

/// Legacy aliases (`CORS_ORIGIN_WHITELIST`, `CORS_ORIGIN_ALLOW_ALL`) as `conf.py` reads them.
#[tokio::test]
async fn legacy_setting_aliases() {
    let r = get(
        "CORS_ORIGIN_WHITELIST = [\"https://example.com\"]",
        "/",
        &[("origin", ORIGIN)],
    )
    .await;
    assert_eq!(r.header(ACCESS_CONTROL_ALLOW_ORIGIN), Some(ORIGIN));
    let r = get("CORS_ORIGIN_ALLOW_ALL = true", "/", &[("origin", ORIGIN)]).await;
    assert_eq!(r.header(ACCESS_CONTROL_ALLOW_ORIGIN), Some("*"));
}

fn build_err(conf: &str) -> String {
    let mut registry = Registry::new();
    register(&mut registry);
    let settings = Settings::from_toml_str(
        &format!("ALLOWED_HOSTS = [\"*\"]\nMIDDLEWARE = [\"CorsMiddleware\"]\n{conf}"),
        "t",
    )
    .unwrap();
    Chain::builder(&registry, &settings)
        .urls(router())
        .build()
        .unwrap_err()
        .to_string()
}

/// Bad settings are start-up errors that name the setting (corsheaders.E004 and bad regexes).
#[test]
fn bad_settings_are_named() {
    assert!(build_err("CORS_PREFLIGHT_MAX_AGE = -1").contains("CORS_PREFLIGHT_MAX_AGE"));
    assert!(build_err("CORS_URLS_REGEX = '('").contains("CORS_URLS_REGEX"));
    assert!(build_err("CORS_ALLOWED_ORIGIN_REGEXES = ['(?=x)']")
        .contains("CORS_ALLOWED_ORIGIN_REGEXES"));
    assert!(build_err("CORS_ALLOW_CREDENTIALS = \"yes\"").contains("CORS_ALLOW_CREDENTIALS"));
}

// corsheaders: tests/test_checks.py::ChecksTests::test_cors_allowed_origins_no_netloc (E013)
// and ::test_cors_allowed_origins_path (E014)
#[test]
fn origin_checks() {
    let mut registry = Registry::new();
    register(&mut registry);
    let settings = Settings::from_toml_str(
        "MIDDLEWARE = [\"CorsMiddleware\"]\nCORS_ALLOWED_ORIGINS = [\"example.com\", \"https://example.com/\", \"null\", \"file://\", \"https://ok.example.com\"]",
        "t",
    )
    .unwrap();
    let ids: Vec<String> = registry
        .run_checks(&settings, false)
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(ids, vec!["corsheaders.E013", "corsheaders.E014"]);
}
