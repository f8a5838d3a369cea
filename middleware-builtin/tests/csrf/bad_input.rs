//! Bad input never gives a 500, the default failure page, and configuration errors at start-up.

use super::*;

// Bad input: every wrong length, in the form and in the header, is a 403 with Django's reason.
both_modes! {
    async fn every_wrong_token_length_is_a_403() {
        let chain = chain("");
        for len in (0..=130).filter(|l| *l != 32 && *l != 64) {
            let token = "a".repeat(len);
            if len > 0 {
                let r = send(&chain, post_with(Some(&token), None).build()).await;
                assert_eq!(
                    r.reason(),
                    "CSRF token from POST has incorrect length.",
                    "{len}"
                );
            }
            let r = send(&chain, post_with(None, Some(&token)).build()).await;
            let expected = "CSRF token from the 'X-Csrftoken' HTTP header has incorrect length.";
            assert_eq!(r.reason(), expected, "{len}");
        }
    }
}

// Bad input: every non-alphanumeric printable ASCII character, and non-ASCII characters.
#[tokio::test]
async fn every_wrong_alphabet_is_a_403() {
    let chain = chain("");
    for c in (0x20u8..0x7f)
        .map(char::from)
        .filter(|c| !c.is_ascii_alphanumeric())
    {
        let token = format!("{c}{}", &TEST_SECRET[1..]);
        let r = send(&chain, post_with(Some(&token), None).build()).await;
        assert_eq!(
            r.reason(),
            "CSRF token from POST has invalid characters.",
            "{c:?}"
        );
        if c != ' ' {
            let r = send(&chain, post_with(None, Some(&token)).build()).await;
            let expected = "CSRF token from the 'X-Csrftoken' HTTP header has invalid characters.";
            assert_eq!(r.reason(), expected, "{c:?}");
        }
        let cookie = format!("{}{c}", &TEST_SECRET[1..]);
        if !matches!(c, ';' | ' ' | '"' | ',' | '\\') {
            let r = send(
                &chain,
                Req::post("/post/")
                    .cookie(&cookie)
                    .token(TEST_SECRET)
                    .build(),
            )
            .await;
            assert_eq!(r.reason(), "CSRF cookie has invalid characters.", "{c:?}");
        }
    }
    // 32 characters in the form (Python's len) but non-ASCII: invalid characters.
    let token = format!("é{}", &TEST_SECRET[1..]);
    let r = send(&chain, post_with(Some(&token), None).build()).await;
    assert_eq!(r.reason(), "CSRF token from POST has invalid characters.");
    // In a header, bytes count as Latin-1 characters (as in Django's META): 33 here.
    let r = send(&chain, post_with(None, Some(&token)).build()).await;
    assert_eq!(
        r.reason(),
        "CSRF token from the 'X-Csrftoken' HTTP header has incorrect length."
    );
    let mut bytes = TEST_SECRET.as_bytes().to_vec();
    bytes[0] = 0xff;
    let raw = String::from_utf8_lossy(&bytes).into_owned();
    let mut req = post_with(None, None).build();
    req.headers_mut().insert(
        "x-csrftoken",
        http::HeaderValue::from_bytes(&bytes).unwrap(),
    );
    let r = send(&chain, req).await;
    assert_eq!(
        r.reason(),
        "CSRF token from the 'X-Csrftoken' HTTP header has invalid characters.",
        "{raw}"
    );
}

// Bad input: junk cookies, Origin null, junk Referers and huge headers never give a 500.
#[tokio::test]
async fn junk_and_huge_headers_never_500() {
    let chain = chain("");
    let huge = "a".repeat(70_000);
    for cookie in ["", "=", "\"\"", "%00", "a b", huge.as_str(), "ÿÿÿ"] {
        let r = send(
            &chain,
            Req::post("/post/")
                .cookie(cookie)
                .token(TEST_SECRET)
                .build(),
        )
        .await;
        assert_eq!(r.status, 403, "{cookie:.20}");
        assert!(r.reason().starts_with("CSRF cookie "), "{}", r.reason());
    }
    let big_referer = format!("https://{huge}/");
    for referer in [
        "null",
        "https://[::1",
        "https://[zz]/",
        "javascript:alert(1)",
        "https://testserver:99999999/",
        big_referer.as_str(),
    ] {
        let req = post_with(Some(TEST_SECRET), None)
            .secure()
            .header("referer", referer);
        let r = send(&chain, req.build()).await;
        assert_eq!(r.status, 403, "{referer:.30}");
        assert!(
            r.reason().starts_with("Referer checking failed - "),
            "{}",
            &r.reason()[..40]
        );
    }
    let big_origin = format!("http://{huge}");
    for origin in [
        "null",
        "",
        "http://",
        "http://testserver:80",
        big_origin.as_str(),
    ] {
        let req = post_with(Some(TEST_SECRET), None).header("origin", origin);
        let r = send(&chain, req.build()).await;
        assert_eq!(r.status, 403, "{origin:.30}");
        assert!(r.reason().starts_with("Origin checking failed - "));
    }
    let r = send(&chain, post_with(None, Some(&huge)).build()).await;
    assert_eq!(
        r.reason(),
        "CSRF token from the 'X-Csrftoken' HTTP header has incorrect length."
    );
    // Multipart junk: no token, no 500.
    let mut req = Req::post("/post/")
        .cookie(TEST_SECRET)
        .header("content-type", "multipart/form-data; boundary=XX");
    req.body = Some(Body::from(
        "--XX\r\n\r\n--XX\r\nContent-Disposition: form-data; name=csrfmiddlewaretoken",
    ));
    assert_eq!(
        send(&chain, req.build()).await.reason(),
        "CSRF token missing."
    );
}

// The test client's `enforce_csrf_checks(false)` (Django's `_dont_enforce_csrf_checks`).
both_modes! {
    async fn test_client_does_not_enforce_by_default() {
        let mut client = middleware_core::test_client::Client::new(chain(""));
        assert_eq!(client.post_form("/post/", &[]).await.status, 200);
        let mut client = middleware_core::test_client::Client::new(chain("")).enforce_csrf_checks(true);
        assert_eq!(client.post_form("/post/", &[]).await.status, 403);
        // A round trip: the page's token and cookie are accepted.
        let page = client.get("/token/").await;
        let start = page.text().find("value=\"").unwrap() + 7;
        let token = page.text()[start..start + 64].to_owned();
        let r = client
            .post_form("/post/", &[("csrfmiddlewaretoken", &token)])
            .await;
        assert_eq!(r.status, 200);
    }
}

// Django: tests/view_tests/tests/test_csrf.py (default failure page), compared with the pages
// Django 6.1.3 rendered (tests/fixtures/csrf/*.html).
#[tokio::test]
async fn default_failure_page_matches_django() {
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/csrf/");
    let cases = [
        ("token_missing", "CSRF token missing."),
        ("no_referer", "Referer checking failed - no Referer."),
        ("no_cookie", "CSRF cookie not set."),
        (
            "escaped",
            "Origin checking failed - <b>&'\" does not match any trusted origins.",
        ),
    ];
    for debug in [false, true] {
        for (name, reason) in cases {
            let file = format!(
                "{fixtures}failure_{}_{name}.html",
                if debug { "debug" } else { "nodebug" }
            );
            let expected = std::fs::read_to_string(&file).unwrap();
            assert_eq!(
                csrf::failure::csrf_failure_page(reason, debug),
                expected,
                "{file}"
            );
        }
    }
    // Through the chain with the default view: 403 text/html, no reason without DEBUG.
    let settings = Settings::from_toml_str(
        "ALLOWED_HOSTS = [\"testserver\"]\nMIDDLEWARE = [\"CsrfViewMiddleware\"]",
        "t",
    )
    .unwrap();
    let mut registry = Registry::new();
    csrf::register_with_failure_views(&mut registry, CsrfFailureViews::new());
    let chain = Chain::builder(&registry, &settings)
        .urls(router())
        .build()
        .unwrap();
    let r = send(&chain, Req::post("/post/").build()).await;
    assert_eq!(r.status, 403);
    assert_eq!(r.headers["content-type"], "text/html; charset=utf-8");
    assert!(r
        .body
        .contains("CSRF verification failed. Request aborted."));
    assert!(!r.body.contains("CSRF cookie not set."));
    assert!(r
        .body
        .contains("requires a CSRF cookie when submitting forms"));
}

#[test]
fn unknown_failure_view_is_a_startup_error_naming_the_setting() {
    let err = Chain::builder(
        &registry(),
        &settings("CSRF_FAILURE_VIEW = \"nope.views.missing\""),
    )
    .urls(router())
    .build()
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("CSRF_FAILURE_VIEW") && err.contains("nope.views.missing"),
        "{err}"
    );
}

// CSRF_USE_SESSIONS without SessionMiddleware before it: the order error at start-up.
#[test]
fn csrf_use_sessions_needs_session_middleware_before() {
    for middleware in [
        r#"["django.middleware.csrf.CsrfViewMiddleware"]"#,
        r#"["django.middleware.csrf.CsrfViewMiddleware", "django.contrib.sessions.middleware.SessionMiddleware"]"#,
    ] {
        let conf = format!(
            "ALLOWED_HOSTS = [\"testserver\"]\nMIDDLEWARE = {middleware}\nCSRF_USE_SESSIONS = true\nSECRET_KEY = \"{SECRET_KEY}\""
        );
        let settings = Settings::from_toml_str(&conf, "t").unwrap();
        let err = Chain::builder(&registry(), &settings)
            .urls(router())
            .build()
            .unwrap_err()
            .to_string();
        assert!(err.contains("SessionMiddleware"), "{err}");
    }
}
