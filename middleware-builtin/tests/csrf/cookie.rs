//! The CSRF cookie's settings (age, SameSite), bad and masked cookies and tokens, where the token
//! is read from, and unreadable POST data.

use super::*;

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTests::test_ensures_csrf_cookie_with_middleware
// and CsrfViewMiddlewareUseSessionsTests::test_ensures_csrf_cookie_with_middleware
both_modes! {
    async fn test_ensures_csrf_cookie_with_middleware() {
        let r = run("", Req::get("/ensure/")).await;
        assert_eq!(r.cookie("csrftoken").unwrap().len(), 32);
        assert!(r.headers["vary"].to_str().unwrap().contains("Cookie"));
        // Not when the middleware rejects the request.
        let r = run("", Req::post("/ensure/")).await;
        assert_eq!(r.reason(), "CSRF cookie not set.");
        assert_eq!(r.cookie("csrftoken"), None);
    }
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTests::test_csrf_cookie_age
#[tokio::test]
async fn test_csrf_cookie_age() {
    let conf = r#"
CSRF_COOKIE_NAME = "csrfcookie"
CSRF_COOKIE_DOMAIN = ".example.com"
CSRF_COOKIE_AGE = 123
CSRF_COOKIE_PATH = "/test/"
CSRF_COOKIE_SECURE = true
CSRF_COOKIE_HTTPONLY = true
"#;
    let r = run(conf, Req::get("/token/")).await;
    let line = r.set_cookie_line();
    assert!(line.starts_with("csrfcookie="), "{line}");
    for attr in [
        "Max-Age=123",
        "Domain=.example.com",
        "Path=/test/",
        "Secure",
        "HttpOnly",
        "SameSite=Lax",
        "expires=",
    ] {
        assert!(line.contains(attr), "{attr} missing in {line}");
    }
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTests::test_csrf_cookie_age_none
#[tokio::test]
async fn test_csrf_cookie_age_none() {
    let r = run("CSRF_COOKIE_AGE = false", Req::get("/token/")).await;
    let line = r.set_cookie_line();
    assert!(!line.contains("Max-Age"), "{line}");
    assert!(!line.contains("expires"), "{line}");
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTests::test_csrf_cookie_samesite
#[tokio::test]
async fn test_csrf_cookie_samesite() {
    let r = run("CSRF_COOKIE_SAMESITE = \"Strict\"", Req::get("/token/")).await;
    assert!(r.set_cookie_line().contains("SameSite=Strict"));
    let r = run("CSRF_COOKIE_SAMESITE = false", Req::get("/token/")).await;
    assert!(!r.set_cookie_line().contains("SameSite"));
    let default = run("", Req::get("/token/")).await.set_cookie_line();
    assert!(
        default.contains("Max-Age=31449600") && default.contains("Path=/"),
        "{default}"
    );
    assert!(
        !default.contains("Secure") && !default.contains("HttpOnly"),
        "{default}"
    );
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTests::test_bad_csrf_cookie_characters
// and ::test_bad_csrf_cookie_length; conformance fact: a fresh cookie rides on the 403.
#[tokio::test]
async fn test_bad_csrf_cookie() {
    let star64 = "*".repeat(64);
    let a16 = "a".repeat(16);
    for (cookie, reason) in [
        (star64.as_str(), "CSRF cookie has invalid characters."),
        (a16.as_str(), "CSRF cookie has incorrect length."),
    ] {
        let r = run("", Req::post("/post/").cookie(cookie).token(cookie)).await;
        assert_eq!(r.reason(), reason);
        let fresh = r.cookie("csrftoken").unwrap();
        assert_eq!(fresh.len(), 32);
        assert_ne!(fresh, cookie);
    }
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTests::test_process_view_token_too_long
// and ::test_process_view_token_invalid_chars
#[tokio::test]
async fn test_process_view_token_too_long_or_invalid_chars() {
    let long = "x".repeat(100_000);
    let bad = format!("!@#{MASKED_TEST_SECRET2}")[..64].to_owned();
    for cookie in [long.as_str(), bad.as_str()] {
        let r = run("", Req::get("/token/").cookie(cookie)).await;
        let fresh = r.cookie("csrftoken").unwrap();
        assert_eq!(fresh.len(), 32);
        assert_eq!(unmask_cipher_token(&r.token()).unwrap(), fresh);
    }
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTests::test_masked_unmasked_combinations
#[tokio::test]
async fn test_masked_unmasked_combinations() {
    for cookie in [TEST_SECRET, MASKED_TEST_SECRET1] {
        for token in [TEST_SECRET, MASKED_TEST_SECRET2] {
            let mut r = Req::post("/token/").cookie(cookie).token(token);
            assert!(run("", r).await.accepted(), "{cookie} {token} POST");
            r = Req::post("/token/")
                .cookie(cookie)
                .header("x-csrftoken", token);
            assert!(run("", r).await.accepted(), "{cookie} {token} header");
        }
    }
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTests::test_invalid_cookie_replaced_on_GET
// and ::test_valid_secret_not_replaced_on_GET
#[tokio::test]
async fn test_cookie_replaced_only_when_invalid_on_get() {
    let r = run("", Req::get("/post/").cookie("badvalue")).await;
    assert!(r.accepted());
    assert_eq!(r.cookie("csrftoken").unwrap().len(), 32);
    for cookie in [TEST_SECRET, MASKED_TEST_SECRET1] {
        let r = run("", Req::get("/post/").cookie(cookie)).await;
        assert_eq!(r.cookie("csrftoken"), None, "{cookie}");
    }
}

// Conformance csrf-token-source-precedence: a non-empty wrong field wins over a good header;
// an empty field falls back to the header.
both_modes! {
    async fn token_source_precedence() {
        let z = "Z".repeat(32);
        let r = run("", post_with(Some(&z), Some(TEST_SECRET))).await;
        assert_eq!(r.reason(), "CSRF token from POST incorrect.");
        let r = run("", post_with(Some(""), Some(TEST_SECRET))).await;
        assert!(r.accepted());
    }
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTestMixin::test_reading_post_data_raises_unreadable_post_error
both_modes! {
    async fn test_reading_post_data_raises_unreadable_post_error() {
        let stream = futures_util::stream::iter(vec![
            Ok(Bytes::from_static(b"csrfmiddlewaretoken=")),
            Err(std::io::Error::other("connection reset")),
        ]);
        let mut req = post_with(None, None);
        req.body = Some(Body::from_stream(stream));
        let r = run("", req).await;
        assert_eq!(r.reason(), "CSRF token missing.");
    }
}

both_modes! {
    async fn multipart_token_field() {
        let body = |token: &str| {
            format!(
                "--XX\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n\
                 --XX\r\nContent-Disposition: form-data; name=\"f\"; filename=\"f.txt\"\r\n\
                 Content-Type: text/plain\r\n\r\nfile body\r\n\
                 --XX\r\nContent-Disposition: form-data; name=\"csrfmiddlewaretoken\"\r\n\r\n{token}\r\n--XX--\r\n"
            )
        };
        let mut req = Req::post("/post/")
            .cookie(TEST_SECRET)
            .header("content-type", "multipart/form-data; boundary=XX");
        req.body = Some(Body::from(body(MASKED_TEST_SECRET2)));
        assert!(run("", req).await.accepted());

        let mut req = Req::post("/post/")
            .cookie(TEST_SECRET)
            .header("content-type", "multipart/form-data; boundary=XX");
        req.body = Some(Body::from(body(&"a".repeat(64))));
        assert_eq!(
            run("", req).await.reason(),
            "CSRF token from POST incorrect."
        );

        // No field: the header is used.
        let mut req = Req::post("/post/")
            .cookie(TEST_SECRET)
            .header("content-type", "multipart/form-data; boundary=XX")
            .header("x-csrftoken", TEST_SECRET);
        req.body = Some(Body::from(
            "--XX\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--XX--\r\n",
        ));
        assert!(run("", req).await.accepted());
    }
}
