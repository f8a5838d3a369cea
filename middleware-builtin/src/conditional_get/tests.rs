//! Tests (unwrap is fine here: a failed unwrap is a failed test).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::convert::Infallible;

use bytes::Bytes;
use http::Method;
use middleware_core::test_client::{Client, TestResponse};
use middleware_core::{Chain, RequestExt, Router, Settings};

use super::*;

/// Responds with `?status=`, `?body=` (default "content"), `?stream=1`, every other query
/// parameter set as a response header; so each test states its response in the URL.
async fn echo(req: &mut Request) -> Result<Response, Error> {
    let q = req.query();
    let status = q
        .get("status")
        .and_then(|s| s.parse::<u16>().ok())
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::OK);
    let body = q.get("body").unwrap_or("content").to_owned();
    let mut r = if q.get("stream").is_some() {
        middleware_core::response::streaming(
            status,
            "text/plain",
            futures_util::stream::iter([Ok::<_, Infallible>(Bytes::from(body))]),
        )
    } else {
        html(status, body)
    };
    for (k, v) in q.iter() {
        if ["status", "body", "stream"].contains(&k) {
            continue;
        }
        let name = HeaderName::from_bytes(k.as_bytes()).unwrap();
        r.headers_mut()
            .append(name, HeaderValue::from_str(v).unwrap());
    }
    Ok(r)
}

fn client(middleware: &[&str]) -> Client {
    Client::new(chain_of(middleware))
}

/// The chain of `middleware` (by name) in front of the echo and condition views.
fn chain_of(middleware: &[&str]) -> Chain {
    let mut registry = Registry::new();
    crate::register_all(&mut registry);
    let list = middleware
        .iter()
        .map(|m| format!("{m:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    let settings = Settings::from_toml_str(
        &format!("ALLOWED_HOSTS = [\"testserver\"]\nMIDDLEWARE = [{list}]"),
        "test",
    )
    .unwrap();
    let mut router = Router::new();
    router.route("", echo).unwrap();
    add_condition_views(&mut router);
    Chain::builder(&registry, &settings)
        .urls(router)
        .build()
        .unwrap()
}

fn mw_chain() -> Chain {
    chain_of(&["ConditionalGetMiddleware"])
}

fn mw() -> Client {
    client(&["ConditionalGetMiddleware"])
}

async fn get(c: &mut Client, path: &str, headers: &[(&str, &str)]) -> TestResponse {
    c.request(Method::GET, path, headers, Body::empty()).await
}

fn q(s: &str) -> String {
    s.replace(' ', "%20")
        .replace('"', "%22")
        .replace(',', "%2C")
}

const DATE: &str = "Sat, 12 Feb 2011 17:38:44 GMT";

// Django: tests/middleware/tests.py::ConditionalGetMiddlewareTest::test_middleware_calculates_etag
#[tokio::test]
async fn middleware_calculates_etag() {
    let r = get(&mut mw(), "/", &[]).await;
    assert_eq!(r.status, 200);
    // md5("content")
    assert_eq!(
        r.header("etag"),
        Some("\"9a0364b9e99bb480dd25e1f0284c8555\"")
    );
}

// Django: tests/middleware/tests.py::ConditionalGetMiddlewareTest::test_middleware_wont_overwrite_etag
#[tokio::test]
async fn middleware_wont_overwrite_etag() {
    let r = get(&mut mw(), "/?etag=eggs", &[]).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("etag"), Some("eggs"));
}

// Django: tests/middleware/tests.py::ConditionalGetMiddlewareTest::test_no_etag_streaming_response
#[tokio::test]
async fn no_etag_streaming_response() {
    let r = get(&mut mw(), "/?stream=1", &[]).await;
    assert!(r.header("etag").is_none());
}

// Django: tests/middleware/tests.py::ConditionalGetMiddlewareTest::test_no_etag_response_empty_content
#[tokio::test]
async fn no_etag_response_empty_content() {
    let r = get(&mut mw(), "/?body=", &[]).await;
    assert!(r.header("etag").is_none());
}

// Django: tests/middleware/tests.py::ConditionalGetMiddlewareTest::test_no_etag_no_store_cache
// and ::test_no_etag_no_store_cache_whitespace and ::test_no_etag_no_store_qualified
#[tokio::test]
async fn no_etag_no_store_cache() {
    for cc in [
        "No-Cache, No-Store, Max-age=0",
        " no-store",
        "\tno-store",
        "no-cache, no-store",
        "no-store=\"x\"",
        "no-store =\"x\"",
        "no-store = x",
    ] {
        let r = get(
            &mut mw(),
            &format!("/?cache-control={}", q(cc).replace('\t', "%09")),
            &[],
        )
        .await;
        assert!(r.header("etag").is_none(), "{cc:?}");
    }
}

// Django: tests/middleware/tests.py::ConditionalGetMiddlewareTest::test_etag_extended_cache_control
#[tokio::test]
async fn etag_extended_cache_control() {
    let r = get(
        &mut mw(),
        &format!("/?cache-control={}", q("my-directive=\"my-no-store\"")),
        &[],
    )
    .await;
    assert!(r.header("etag").is_some());
}

// Django: tests/middleware/tests.py::ConditionalGetMiddlewareTest::test_if_none_match_and_no_etag
#[tokio::test]
async fn if_none_match_and_no_etag() {
    let r = get(&mut mw(), "/?body=", &[("if-none-match", "spam")]).await;
    assert_eq!(r.status, 200);
}

// Django: tests/middleware/tests.py::ConditionalGetMiddlewareTest::test_no_if_none_match_and_etag
#[tokio::test]
async fn no_if_none_match_and_etag() {
    let r = get(&mut mw(), "/?etag=eggs", &[]).await;
    assert_eq!(r.status, 200);
}

// Django: tests/middleware/tests.py::ConditionalGetMiddlewareTest::test_if_none_match_and_same_etag
#[tokio::test]
async fn if_none_match_and_same_etag() {
    let r = get(
        &mut mw(),
        "/?etag=%22spam%22",
        &[("if-none-match", "\"spam\"")],
    )
    .await;
    assert_eq!(r.status, 304);
    assert!(r.body.is_empty());
}

// Django: tests/middleware/tests.py::ConditionalGetMiddlewareTest::test_if_none_match_and_different_etag
#[tokio::test]
async fn if_none_match_and_different_etag() {
    let r = get(&mut mw(), "/?etag=eggs", &[("if-none-match", "spam")]).await;
    assert_eq!(r.status, 200);
}

// Django: tests/middleware/tests.py::ConditionalGetMiddlewareTest::test_if_none_match_and_redirect
// and ::test_if_none_match_and_client_error
#[tokio::test]
async fn if_none_match_and_non_2xx() {
    for status in [301, 400] {
        let path = format!("/?status={status}&etag=%22spam%22");
        let r = get(&mut mw(), &path, &[("if-none-match", "\"spam\"")]).await;
        assert_eq!(r.status, status);
    }
}

// Django: tests/middleware/tests.py::ConditionalGetMiddlewareTest::test_if_modified_since_and_no_last_modified
#[tokio::test]
async fn if_modified_since_and_no_last_modified() {
    let r = get(&mut mw(), "/", &[("if-modified-since", DATE)]).await;
    assert_eq!(r.status, 200);
}

// Django: tests/middleware/tests.py::ConditionalGetMiddlewareTest::test_no_if_modified_since_and_last_modified
#[tokio::test]
async fn no_if_modified_since_and_last_modified() {
    let r = get(&mut mw(), &format!("/?last-modified={}", q(DATE)), &[]).await;
    assert_eq!(r.status, 200);
}

// Django: tests/middleware/tests.py::ConditionalGetMiddlewareTest::test_if_modified_since_and_same_last_modified
// and ::test_if_modified_since_and_last_modified_in_the_past
// and ::test_if_modified_since_and_last_modified_in_the_future
#[tokio::test]
async fn if_modified_since_against_last_modified() {
    for (lm, status) in [
        (DATE, 304),
        ("Sat, 12 Feb 2011 17:35:44 GMT", 304),
        ("Sat, 12 Feb 2011 17:41:44 GMT", 200),
    ] {
        let r = get(
            &mut mw(),
            &format!("/?last-modified={}&body=", q(lm)),
            &[("if-modified-since", DATE)],
        )
        .await;
        assert_eq!(r.status, status, "{lm}");
    }
}

// Django: tests/middleware/tests.py::ConditionalGetMiddlewareTest::test_if_modified_since_and_redirect
// and ::test_if_modified_since_and_client_error
#[tokio::test]
async fn if_modified_since_and_non_2xx() {
    for status in [301, 400] {
        let path = format!("/?status={status}&last-modified={}", q(DATE));
        let r = get(&mut mw(), &path, &[("if-modified-since", DATE)]).await;
        assert_eq!(r.status, status);
    }
}

// Django: tests/middleware/tests.py::ConditionalGetMiddlewareTest::test_not_modified_headers
#[tokio::test]
async fn not_modified_headers() {
    let headers = [
        ("date", "Sat, 12 Feb 2011 17:35:44 GMT"),
        ("last-modified", "Sat, 12 Feb 2011 17:35:44 GMT"),
        ("expires", "Sun, 13 Feb 2011 17:35:44 GMT"),
        ("vary", "Cookie"),
        ("cache-control", "public"),
        ("content-location", "/alt"),
        ("content-language", "en"),
        ("etag", "\"spam\""),
        ("set-cookie", "key=value; Path=/"),
    ];
    let query: Vec<String> = headers
        .iter()
        .map(|(k, v)| format!("{k}={}", q(v).replace(';', "%3B").replace('=', "%3D")))
        .collect();
    let path = format!("/?{}", query.join("&"));
    let r = get(&mut mw(), &path, &[("if-none-match", "\"spam\"")]).await;
    assert_eq!(r.status, 304);
    for (k, v) in &headers[..8] {
        if *k == "content-language" {
            assert!(r.header(k).is_none());
        } else {
            assert_eq!(r.header(k), Some(*v), "{k}");
        }
    }
    assert_eq!(r.set_cookies(), vec!["key=value; Path=/"]);
    assert!(r.header("content-type").is_none());
}

// Django: tests/middleware/tests.py::ConditionalGetMiddlewareTest::test_no_unsafe
#[tokio::test]
async fn no_unsafe() {
    let mut c = mw();
    let etag = get(&mut c, "/", &[])
        .await
        .header("etag")
        .unwrap()
        .to_owned();
    let r = c
        .request(
            Method::PUT,
            "/?body=",
            &[("if-match", "\"other\"")],
            Body::empty(),
        )
        .await;
    assert_eq!(r.status, 200, "never a 412 from the middleware");
    let r = c
        .request(Method::PUT, "/", &[("if-match", &etag)], Body::empty())
        .await;
    assert_eq!(r.status, 200);
    assert!(r.header("etag").is_none(), "no ETag for unsafe methods");
}

// Django: tests/middleware/tests.py::ConditionalGetMiddlewareTest::test_no_head
#[tokio::test]
async fn no_head() {
    let mut c = mw();
    let r = c.request(Method::HEAD, "/", &[], Body::empty()).await;
    assert!(r.header("etag").is_none());
    // HEAD with a matching If-None-Match is left alone too.
    let r = c
        .request(
            Method::HEAD,
            "/?etag=%22v%22",
            &[("if-none-match", "\"v\"")],
            Body::empty(),
        )
        .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn if_none_match_star_and_weak_match() {
    let r = get(&mut mw(), "/", &[("if-none-match", "*")]).await;
    assert_eq!(r.status, 304);
    let r = get(&mut mw(), "/?stream=1", &[("if-none-match", "*")]).await;
    assert_eq!(r.status, 200, "a stream has no ETag to match");
    let r = get(&mut mw(), "/?etag=W/%22x%22", &[("if-none-match", "\"x\"")]).await;
    assert_eq!(r.status, 304);
}

#[tokio::test]
async fn bad_conditional_headers_are_ignored() {
    for (h, v) in [
        ("if-none-match", "\"\"\""),
        ("if-none-match", ",,,"),
        ("if-modified-since", "Mon, 32 Oct 2010 16:56:23 GMT"),
        ("if-modified-since", "yesterday"),
        ("if-match", "not-quoted"),
        ("if-unmodified-since", "garbage"),
    ] {
        let path = format!("/?etag=%22spam%22&last-modified={}", q(DATE));
        let r = get(&mut mw(), &path, &[(h, v)]).await;
        assert_eq!(r.status, 200, "{h}: {v}");
    }
    let huge = "\"a\",".repeat(50_000);
    let r = get(&mut mw(), "/?etag=%22spam%22", &[("if-none-match", &huge)]).await;
    assert_eq!(r.status, 200);
    let r = get(&mut mw(), "/?etag=%22a%22", &[("if-none-match", &huge)]).await;
    assert_eq!(r.status, 304);
}

// Django: tests/middleware/tests.py::ConditionalGetMiddlewareTest (If-Match through the
// middleware on GET: 412 is possible for GET, as get_conditional_response runs)
#[tokio::test]
async fn if_match_failure_on_get_is_412() {
    let r = get(&mut mw(), "/?etag=%22spam%22", &[("if-match", "\"eggs\"")]).await;
    assert_eq!(r.status, 412);
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    assert!(r.body.is_empty());
    let r = get(
        &mut mw(),
        &format!("/?last-modified={}", q(DATE)),
        &[("if-unmodified-since", "Sat, 12 Feb 2011 17:00:00 GMT")],
    )
    .await;
    assert_eq!(r.status, 412);
}

// Django: tests/middleware/tests.py::ETagGZipMiddlewareTest::test_etag_match
#[tokio::test]
async fn gzip_etag_match() {
    let mut c = client(&["GZipMiddleware", "ConditionalGetMiddleware"]);
    let big = "a".repeat(500);
    let path = format!("/?body={big}");
    let ae = ("accept-encoding", "gzip, deflate");
    let r = get(&mut c, &path, &[ae]).await;
    assert_eq!(r.header("content-encoding"), Some("gzip"));
    let etag = r.header("etag").unwrap().to_owned();
    assert!(etag.starts_with("W/\""), "{etag}");
    let r = get(&mut c, &path, &[ae, ("if-none-match", &etag)]).await;
    assert_eq!(r.status, 304);
    // GZip skips the empty 304, so its ETag stays the strong one.
    assert_eq!(r.header("etag"), Some(&etag[2..]));
}

#[test]
fn order_check_warns_when_conditional_get_is_above_gzip() {
    let mut registry = Registry::new();
    crate::register_all(&mut registry);
    let run = |list: &str| {
        let s = Settings::from_toml_str(&format!("MIDDLEWARE = [{list}]"), "t").unwrap();
        registry
            .run_checks(&s, false)
            .into_iter()
            .filter(|m| m.id == W_CONDITIONAL_ABOVE_GZIP)
            .count()
    };
    assert_eq!(
        run(
            r#""django.middleware.http.ConditionalGetMiddleware", "django.middleware.gzip.GZipMiddleware""#
        ),
        1
    );
    assert_eq!(run(r#""GZipMiddleware", "ConditionalGetMiddleware""#), 0);
    assert_eq!(run(r#""ConditionalGetMiddleware""#), 0);
}

// ---------------------------------------------------------------------------------------------
// tests/conditional_processing: the `condition` decorator, as condition_response.
// ---------------------------------------------------------------------------------------------

const FULL_RESPONSE: &str = "Test conditional get response";
const LAST_MODIFIED_STR: &str = "Sun, 21 Oct 2007 23:21:47 GMT";
const LAST_MODIFIED_NEWER_STR: &str = "Mon, 18 Oct 2010 16:56:23 GMT";
const LAST_MODIFIED_INVALID_STR: &str = "Mon, 32 Oct 2010 16:56:23 GMT";
const EXPIRED_LAST_MODIFIED_STR: &str = "Sat, 20 Oct 2007 23:21:47 GMT";
const ETAG: &str = "\"b4246ffc4f62314ca13147c9d4f76974\"";
const WEAK_ETAG: &str = "W/\"b4246ffc4f62314ca13147c9d4f76974\"";
const EXPIRED_ETAG: &str = "\"7fae4cd4b0f81e7d2914700043aa8ed6\"";

fn last_modified() -> SystemTime {
    parse_http_date(LAST_MODIFIED_STR).unwrap() + Duration::from_millis(500)
}

async fn conditioned(
    req: &mut Request,
    etag: Option<&str>,
    lm: Option<SystemTime>,
) -> Result<Response, Error> {
    if let Some(r) = condition_response(req, etag.map(str::to_owned), lm) {
        return Ok(r);
    }
    let mut r = html(StatusCode::OK, FULL_RESPONSE);
    condition_headers(req, &mut r, etag, lm);
    Ok(r)
}

async fn index(req: &mut Request) -> Result<Response, Error> {
    conditioned(req, Some(ETAG), Some(last_modified())).await
}
async fn last_modified_view(req: &mut Request) -> Result<Response, Error> {
    conditioned(req, None, Some(last_modified())).await
}
async fn etag_view(req: &mut Request) -> Result<Response, Error> {
    conditioned(req, Some(ETAG), None).await
}
async fn etag_view_unquoted(req: &mut Request) -> Result<Response, Error> {
    conditioned(req, Some(ETAG.trim_matches('"')), None).await
}
async fn etag_view_weak(req: &mut Request) -> Result<Response, Error> {
    conditioned(req, Some(WEAK_ETAG), None).await
}
async fn etag_view_none(req: &mut Request) -> Result<Response, Error> {
    conditioned(req, None, None).await
}

fn add_condition_views(router: &mut Router) {
    router.route("condition/", index).unwrap();
    router
        .route("condition/last_modified/", last_modified_view)
        .unwrap();
    router.route("condition/etag/", etag_view).unwrap();
    router
        .route("condition/unquoted_etag/", etag_view_unquoted)
        .unwrap();
    router
        .route("condition/weak_etag/", etag_view_weak)
        .unwrap();
    router.route("condition/no_etag/", etag_view_none).unwrap();
}

/// Requests `path` with the conditional header(s) on a chain without middleware.
async fn cond(method: Method, path: &str, headers: &[(&str, &str)]) -> TestResponse {
    client(&[])
        .request(method, path, headers, Body::empty())
        .await
}

fn assert_full(r: &TestResponse, method: &Method, check_lm: bool, check_etag: bool) {
    assert_eq!(r.status, 200);
    assert_eq!(r.body, FULL_RESPONSE.as_bytes());
    if matches!(*method, Method::GET | Method::HEAD) {
        if check_lm {
            assert_eq!(r.header("last-modified"), Some(LAST_MODIFIED_STR));
        }
        if check_etag {
            assert_eq!(r.header("etag"), Some(ETAG));
        }
    } else {
        assert!(r.header("last-modified").is_none());
        assert!(r.header("etag").is_none());
    }
}

fn assert_not_modified(r: &TestResponse) {
    assert_eq!(r.status, 304);
    assert!(r.body.is_empty());
}

// Django: tests/conditional_processing/tests.py::ConditionalGet::test_without_conditions
#[tokio::test]
async fn cp_without_conditions() {
    let r = cond(Method::GET, "/condition/", &[]).await;
    assert_full(&r, &Method::GET, true, true);
}

// Django: tests/conditional_processing/tests.py::ConditionalGet::test_if_modified_since
#[tokio::test]
async fn cp_if_modified_since() {
    let ims = "if-modified-since";
    for v in [LAST_MODIFIED_STR, LAST_MODIFIED_NEWER_STR] {
        assert_not_modified(&cond(Method::GET, "/condition/", &[(ims, v)]).await);
        let r = cond(Method::PUT, "/condition/", &[(ims, v)]).await;
        assert_full(&r, &Method::PUT, true, true);
    }
    for v in [LAST_MODIFIED_INVALID_STR, EXPIRED_LAST_MODIFIED_STR] {
        let r = cond(Method::GET, "/condition/", &[(ims, v)]).await;
        assert_full(&r, &Method::GET, true, true);
    }
}

// Django: tests/conditional_processing/tests.py::ConditionalGet::test_if_unmodified_since
#[tokio::test]
async fn cp_if_unmodified_since() {
    let ius = "if-unmodified-since";
    for v in [
        LAST_MODIFIED_STR,
        LAST_MODIFIED_NEWER_STR,
        LAST_MODIFIED_INVALID_STR,
    ] {
        let r = cond(Method::GET, "/condition/", &[(ius, v)]).await;
        assert_full(&r, &Method::GET, true, true);
    }
    let r = cond(
        Method::GET,
        "/condition/",
        &[(ius, EXPIRED_LAST_MODIFIED_STR)],
    )
    .await;
    assert_eq!(r.status, 412);
}

// Django: tests/conditional_processing/tests.py::ConditionalGet::test_if_none_match
#[tokio::test]
async fn cp_if_none_match() {
    let inm = "if-none-match";
    let r = cond(Method::GET, "/condition/", &[(inm, ETAG)]).await;
    assert_not_modified(&r);
    // The decorator's 304 carries the validators.
    assert_eq!(r.header("etag"), Some(ETAG));
    assert_eq!(r.header("last-modified"), Some(LAST_MODIFIED_STR));
    assert_eq!(
        cond(Method::PUT, "/condition/", &[(inm, ETAG)])
            .await
            .status,
        412
    );
    let r = cond(Method::GET, "/condition/", &[(inm, EXPIRED_ETAG)]).await;
    assert_full(&r, &Method::GET, true, true);
    let both = format!("{ETAG}, {EXPIRED_ETAG}");
    assert_not_modified(&cond(Method::GET, "/condition/", &[(inm, &both)]).await);
}

// Django: tests/conditional_processing/tests.py::ConditionalGet::test_weak_if_none_match
#[tokio::test]
async fn cp_weak_if_none_match() {
    let inm = "if-none-match";
    for v in [ETAG, WEAK_ETAG] {
        assert_not_modified(&cond(Method::GET, "/condition/weak_etag/", &[(inm, v)]).await);
        assert_eq!(
            cond(Method::PUT, "/condition/weak_etag/", &[(inm, v)])
                .await
                .status,
            412
        );
    }
    assert_not_modified(&cond(Method::GET, "/condition/", &[(inm, WEAK_ETAG)]).await);
    assert_eq!(
        cond(Method::PUT, "/condition/", &[(inm, WEAK_ETAG)])
            .await
            .status,
        412
    );
}

// Django: tests/conditional_processing/tests.py::ConditionalGet::test_all_if_none_match
#[tokio::test]
async fn cp_all_if_none_match() {
    let inm = "if-none-match";
    assert_not_modified(&cond(Method::GET, "/condition/", &[(inm, "*")]).await);
    assert_eq!(
        cond(Method::PUT, "/condition/", &[(inm, "*")]).await.status,
        412
    );
    let r = cond(Method::GET, "/condition/no_etag/", &[(inm, "*")]).await;
    assert_full(&r, &Method::GET, false, false);
}

// Django: tests/conditional_processing/tests.py::ConditionalGet::test_if_match
#[tokio::test]
async fn cp_if_match() {
    let r = cond(Method::PUT, "/condition/", &[("if-match", ETAG)]).await;
    assert_full(&r, &Method::PUT, true, true);
    let r = cond(Method::PUT, "/condition/", &[("if-match", EXPIRED_ETAG)]).await;
    assert_eq!(r.status, 412);
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    assert!(
        r.header("etag").is_none(),
        "no validators on an unsafe method"
    );
}

// Django: tests/conditional_processing/tests.py::ConditionalGet::test_weak_if_match
#[tokio::test]
async fn cp_weak_if_match() {
    let im = "if-match";
    assert_eq!(
        cond(Method::GET, "/condition/weak_etag/", &[(im, ETAG)])
            .await
            .status,
        412
    );
    assert_eq!(
        cond(Method::GET, "/condition/weak_etag/", &[(im, WEAK_ETAG)])
            .await
            .status,
        412
    );
    assert_eq!(
        cond(Method::GET, "/condition/", &[(im, WEAK_ETAG)])
            .await
            .status,
        412
    );
}

// Django: tests/conditional_processing/tests.py::ConditionalGet::test_all_if_match
#[tokio::test]
async fn cp_all_if_match() {
    let r = cond(Method::GET, "/condition/", &[("if-match", "*")]).await;
    assert_full(&r, &Method::GET, true, true);
    let r = cond(Method::GET, "/condition/no_etag/", &[("if-match", "*")]).await;
    assert_eq!(r.status, 412);
}

// Django: tests/conditional_processing/tests.py::ConditionalGet::test_both_headers
#[tokio::test]
async fn cp_both_headers() {
    for (ims, inm, not_modified) in [
        (LAST_MODIFIED_STR, ETAG, true),
        (EXPIRED_LAST_MODIFIED_STR, ETAG, true),
        (LAST_MODIFIED_STR, EXPIRED_ETAG, false),
        (EXPIRED_LAST_MODIFIED_STR, EXPIRED_ETAG, false),
    ] {
        let h = [("if-modified-since", ims), ("if-none-match", inm)];
        let r = cond(Method::GET, "/condition/", &h).await;
        if not_modified {
            assert_not_modified(&r);
        } else {
            assert_full(&r, &Method::GET, true, true);
        }
    }
}

// Django: tests/conditional_processing/tests.py::ConditionalGet::test_both_headers_2
#[tokio::test]
async fn cp_both_headers_2() {
    for (ius, im, ok) in [
        (LAST_MODIFIED_STR, ETAG, true),
        (EXPIRED_LAST_MODIFIED_STR, ETAG, true),
        (EXPIRED_LAST_MODIFIED_STR, EXPIRED_ETAG, false),
        (LAST_MODIFIED_STR, EXPIRED_ETAG, false),
    ] {
        let h = [("if-unmodified-since", ius), ("if-match", im)];
        let r = cond(Method::GET, "/condition/", &h).await;
        if ok {
            assert_full(&r, &Method::GET, true, true);
        } else {
            assert_eq!(r.status, 412);
        }
    }
}

// Django: tests/conditional_processing/tests.py::ConditionalGet::test_single_condition_1 .. _9
// (the `etag`/`last_modified` shortcut views are the same calls here, so _5, _6, _9 repeat
// _1, _2, _7)
#[tokio::test]
async fn cp_single_conditions() {
    let ims = "if-modified-since";
    let inm = "if-none-match";
    let ius = "if-unmodified-since";
    // _1 / _5
    assert_not_modified(
        &cond(
            Method::GET,
            "/condition/last_modified/",
            &[(ims, LAST_MODIFIED_STR)],
        )
        .await,
    );
    let r = cond(Method::GET, "/condition/etag/", &[(ims, LAST_MODIFIED_STR)]).await;
    assert_full(&r, &Method::GET, false, true);
    // _2 / _6
    assert_not_modified(&cond(Method::GET, "/condition/etag/", &[(inm, ETAG)]).await);
    let r = cond(Method::GET, "/condition/last_modified/", &[(inm, ETAG)]).await;
    assert_full(&r, &Method::GET, true, false);
    // _3
    let r = cond(
        Method::GET,
        "/condition/last_modified/",
        &[(ims, EXPIRED_LAST_MODIFIED_STR)],
    )
    .await;
    assert_full(&r, &Method::GET, true, false);
    // _4
    let r = cond(Method::GET, "/condition/etag/", &[(inm, EXPIRED_ETAG)]).await;
    assert_full(&r, &Method::GET, false, true);
    // _7 / _9
    let h = [(ius, EXPIRED_LAST_MODIFIED_STR)];
    assert_eq!(
        cond(Method::GET, "/condition/last_modified/", &h)
            .await
            .status,
        412
    );
    assert_eq!(cond(Method::GET, "/condition/etag/", &h).await.status, 412);
    // _8
    let r = cond(
        Method::GET,
        "/condition/last_modified/",
        &[(ius, LAST_MODIFIED_STR)],
    )
    .await;
    assert_full(&r, &Method::GET, true, false);
}

// Django: tests/conditional_processing/tests.py::ConditionalGet::test_single_condition_head
#[tokio::test]
async fn cp_single_condition_head() {
    let r = cond(
        Method::HEAD,
        "/condition/",
        &[("if-modified-since", LAST_MODIFIED_STR)],
    )
    .await;
    assert_not_modified(&r);
}

// Django: tests/conditional_processing/tests.py::ConditionalGet::test_unquoted
// and ::test_unquoted_if_none_match
#[tokio::test]
async fn cp_unquoted() {
    let quoted = cond(Method::GET, "/condition/etag/", &[]).await;
    let unquoted = cond(Method::GET, "/condition/unquoted_etag/", &[]).await;
    assert_eq!(quoted.header("etag"), unquoted.header("etag"));
    let inm = "if-none-match";
    assert_not_modified(&cond(Method::GET, "/condition/unquoted_etag/", &[(inm, ETAG)]).await);
    assert_eq!(
        cond(Method::PUT, "/condition/unquoted_etag/", &[(inm, ETAG)])
            .await
            .status,
        412
    );
    let r = cond(
        Method::GET,
        "/condition/unquoted_etag/",
        &[(inm, EXPIRED_ETAG)],
    )
    .await;
    assert_full(&r, &Method::GET, false, true);
}

// Django: tests/conditional_processing/tests.py::ConditionalGet::test_invalid_etag
#[tokio::test]
async fn cp_invalid_etag() {
    let r = cond(
        Method::GET,
        "/condition/etag/",
        &[("if-none-match", "\"\"\"")],
    )
    .await;
    assert_full(&r, &Method::GET, false, true);
}

#[test]
fn etag_parsing_helpers() {
    assert_eq!(quote_etag("abc"), "\"abc\"");
    assert_eq!(quote_etag("W/\"abc\""), "W/\"abc\"");
    assert_eq!(quote_etag("\"\"\""), "\"\"\"\"\"");
}

#[tokio::test]
async fn request_ext_is_used() {
    // Guard for the echo view: the query really is parsed.
    let mut req: Request = http::Request::get("/?a=1").body(Body::empty()).unwrap();
    assert_eq!(req.query().get("a"), Some("1"));
    let r = echo(&mut req).await.unwrap();
    assert_eq!(r.headers()["a"], "1");
}

// If-None-Match lists with junk: Django's parse_etags splits on commas and keeps only the
// well-formed (optionally weak) quoted ETags, so junk around a matching one still gives 304,
// and a list of only junk matches nothing. `*` counts only as the whole (stripped) value.
#[tokio::test]
async fn if_none_match_lists_with_junk() {
    let path = "/?etag=%22spam%22";
    for (inm, status) in [
        ("junk, \"spam\"", 304),
        ("\"eggs\", junk;q=1, W/\"spam\", ,,", 304),
        (";;;, W/\"spam\"", 304),
        ("  \"spam\"  ", 304),
        (" * ", 304),
        ("\"spam", 200),
        ("spam", 200),
        ("\"spam\"junk", 200),
        ("W/ \"spam\"", 200),
        ("w/\"spam\"", 200),
        ("*junk", 200),
        ("\"eggs\", *", 200),
    ] {
        let r = get(&mut mw(), path, &[("if-none-match", inm)]).await;
        assert_eq!(r.status, status, "If-None-Match: {inm:?}");
    }
    // Non-UTF-8 bytes in the header are junk too, and a matching ETag beside them still counts.
    let mut req: Request = http::Request::get(path)
        .header(
            "if-none-match",
            HeaderValue::from_bytes(b"\xff\xfe, \"spam\"").unwrap(),
        )
        .header("host", "testserver")
        .body(Body::empty())
        .unwrap();
    let r = mw_chain().handle(&mut req).await;
    assert_eq!(r.status(), 304);
    let mut req: Request = http::Request::get(path)
        .header(
            "if-none-match",
            HeaderValue::from_bytes(b"\"sp\xffam\"").unwrap(),
        )
        .header("host", "testserver")
        .body(Body::empty())
        .unwrap();
    let r = mw_chain().handle(&mut req).await;
    assert_eq!(r.status(), 200);
}
