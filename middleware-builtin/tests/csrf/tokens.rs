//! The token and cookie basics of `CsrfViewMiddlewareTestMixin`: a POST with and without a token,
//! the header, PUT and DELETE, `get_token` and `rotate_token`.

use super::*;

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTestMixin::test_process_response_get_token_not_used
both_modes! {
    async fn test_process_response_get_token_not_used() {
        let r = run("", Req::get("/post/")).await;
        assert!(r.accepted());
        assert_eq!(r.cookie("csrftoken"), None);
        if !sessions() {
            // (In session mode SessionMiddleware varies on Cookie: the session was read.)
            assert!(r.headers.get("vary").is_none());
        }
    }
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTestMixin::test_no_csrf_cookie
both_modes! {
    async fn test_no_csrf_cookie() {
        let r = run("", Req::post("/post/").token(MASKED_TEST_SECRET2)).await;
        assert_eq!(r.reason(), "CSRF cookie not set.");
    }
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTestMixin::test_csrf_cookie_bad_or_missing_token
both_modes! {
    async fn test_csrf_cookie_bad_or_missing_token() {
        let a16 = "a".repeat(16);
        let star64 = "*".repeat(64);
        let a64 = "a".repeat(64);
        let cases: [(Option<&str>, Option<&str>, &str); 7] = [
            (None, None, "CSRF token missing."),
            (
                Some(&a16),
                None,
                "CSRF token from POST has incorrect length.",
            ),
            (
                Some(&star64),
                None,
                "CSRF token from POST has invalid characters.",
            ),
            (Some(&a64), None, "CSRF token from POST incorrect."),
            (
                None,
                Some(&a16),
                "CSRF token from the 'X-Csrftoken' HTTP header has incorrect length.",
            ),
            (
                None,
                Some(&star64),
                "CSRF token from the 'X-Csrftoken' HTTP header has invalid characters.",
            ),
            (
                None,
                Some(&a64),
                "CSRF token from the 'X-Csrftoken' HTTP header incorrect.",
            ),
        ];
        for (post, header, expected) in cases {
            let r = run("", post_with(post, header)).await;
            assert_eq!(r.reason(), expected, "{post:?} {header:?}");
        }
    }
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTestMixin::test_csrf_cookie_bad_token_custom_header
both_modes! {
    async fn test_csrf_cookie_bad_token_custom_header() {
        let a16 = "a".repeat(16);
        let req = post_with(None, None).header("x-csrftoken-customized", &a16);
        let r = run("CSRF_HEADER_NAME = \"HTTP_X_CSRFTOKEN_CUSTOMIZED\"", req).await;
        assert_eq!(
            r.reason(),
            "CSRF token from the 'X-Csrftoken-Customized' HTTP header has incorrect length."
        );
    }
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTestMixin::test_process_request_csrf_cookie_and_token
both_modes! {
    async fn test_process_request_csrf_cookie_and_token() {
        assert!(run("", post_with(Some(MASKED_TEST_SECRET2), None))
            .await
            .accepted());
    }
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTestMixin::test_process_request_csrf_cookie_no_token_exempt_view
both_modes! {
    async fn test_process_request_csrf_cookie_no_token_exempt_view() {
        let r = run("", Req::post("/exempt/").cookie(MASKED_TEST_SECRET1)).await;
        assert!(r.accepted());
    }
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTestMixin::test_csrf_token_in_header
both_modes! {
    async fn test_csrf_token_in_header() {
        assert!(run("", post_with(None, Some(MASKED_TEST_SECRET2)))
            .await
            .accepted());
    }
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTestMixin::test_csrf_token_in_header_with_customized_name
both_modes! {
    async fn test_csrf_token_in_header_with_customized_name() {
        let req = post_with(None, None).header("x-csrftoken-customized", MASKED_TEST_SECRET2);
        let r = run("CSRF_HEADER_NAME = \"HTTP_X_CSRFTOKEN_CUSTOMIZED\"", req).await;
        assert!(r.accepted());
        // The default header no longer counts.
        let r = run(
            "CSRF_HEADER_NAME = \"HTTP_X_CSRFTOKEN_CUSTOMIZED\"",
            post_with(None, Some(MASKED_TEST_SECRET2)),
        )
        .await;
        assert_eq!(r.reason(), "CSRF token missing.");
    }
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTestMixin::test_put_and_delete_rejected
both_modes! {
    async fn test_put_and_delete_rejected() {
        for method in ["PUT", "DELETE", "PATCH"] {
            let mut req = Req::post("/post/");
            req.method = method;
            assert_eq!(run("", req).await.reason(), "CSRF cookie not set.");
        }
    }
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTestMixin::test_put_and_delete_allowed
both_modes! {
    async fn test_put_and_delete_allowed() {
        for method in ["PUT", "DELETE"] {
            let mut req = post_with(None, Some(MASKED_TEST_SECRET2));
            req.method = method;
            assert!(run("", req).await.accepted(), "{method}");
        }
        // A PUT's form body is not read for the token (Django reads POST only for POST).
        let mut req = post_with(Some(MASKED_TEST_SECRET2), None);
        req.method = "PUT";
        assert_eq!(run("", req).await.reason(), "CSRF token missing.");
    }
}

both_modes! {
    async fn safe_methods_are_never_checked() {
        for method in ["GET", "HEAD", "OPTIONS", "TRACE"] {
            let mut req = Req::post("/post/").header("origin", "http://evil.example");
            req.method = method;
            assert!(run("", req).await.accepted(), "{method}");
        }
    }
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTestMixin::test_token_node_no_csrf_cookie
// and ::test_token_node_with_new_csrf_cookie
both_modes! {
    async fn test_token_node_with_new_csrf_cookie() {
        let r = run("", Req::get("/token/")).await;
        let cookie = r.cookie("csrftoken").unwrap();
        assert_eq!(cookie.len(), 32);
        assert_eq!(unmask_cipher_token(&r.token()).unwrap(), cookie);
        assert_eq!(r.headers["vary"], "Cookie");
    }
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTestMixin::test_token_node_empty_csrf_cookie
both_modes! {
    async fn test_token_node_empty_csrf_cookie() {
        let r = run("", Req::get("/token/").cookie("")).await;
        let cookie = r.cookie("csrftoken").unwrap();
        assert_eq!(cookie.len(), 32);
        assert_eq!(unmask_cipher_token(&r.token()).unwrap(), cookie);
    }
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTestMixin::test_token_node_with_csrf_cookie
// and CsrfViewMiddlewareTests::test_masked_secret_accepted_and_replaced
both_modes! {
    async fn test_token_node_with_csrf_cookie_masked_replaced() {
        let r = run("", Req::get("/token/").cookie(MASKED_TEST_SECRET1)).await;
        assert_eq!(unmask_cipher_token(&r.token()).unwrap(), TEST_SECRET);
        assert_eq!(r.cookie("csrftoken").as_deref(), Some(TEST_SECRET));
        let r = run(
            "",
            Req::post("/token/")
                .cookie(MASKED_TEST_SECRET1)
                .token(MASKED_TEST_SECRET2),
        )
        .await;
        assert!(r.accepted());
        assert_eq!(r.cookie("csrftoken").as_deref(), Some(TEST_SECRET));
    }
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTests::test_bare_secret_accepted_and_not_replaced
// and CsrfViewMiddlewareTestMixin::test_cookie_not_reset_on_accepted_request
#[tokio::test]
async fn test_bare_secret_accepted_and_not_replaced() {
    let r = run(
        "",
        Req::post("/token/")
            .cookie(TEST_SECRET)
            .token(MASKED_TEST_SECRET2),
    )
    .await;
    assert!(r.accepted());
    assert_eq!(r.cookie("csrftoken").as_deref(), Some(TEST_SECRET));
    assert_eq!(unmask_cipher_token(&r.token()).unwrap(), TEST_SECRET);
}

// Conformance fact: get_token re-sends an existing cookie unchanged, on every call.
#[tokio::test]
async fn get_token_resends_same_cookie_each_time() {
    let chain = chain("");
    for _ in 0..3 {
        let r = send(&chain, Req::get("/token/").cookie(TEST_SECRET).build()).await;
        assert_eq!(r.cookie("csrftoken").as_deref(), Some(TEST_SECRET));
    }
    let a = send(&chain, Req::get("/token/").cookie(TEST_SECRET).build()).await;
    let b = send(&chain, Req::get("/token/").cookie(TEST_SECRET).build()).await;
    assert_ne!(a.token(), b.token(), "a fresh mask per call");
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTestMixin::test_get_token_for_exempt_view
both_modes! {
    async fn test_get_token_for_exempt_view() {
        let r = run("", Req::get("/exempt/").cookie(MASKED_TEST_SECRET1)).await;
        assert_eq!(unmask_cipher_token(&r.token()).unwrap(), TEST_SECRET);
    }
}

// Django: tests/csrf_tests/tests.py::CsrfFunctionTests::test_rotate_token (through the chain)
both_modes! {
    async fn rotate_token_sends_a_new_secret() {
        let r = run("", Req::get("/rotate/").cookie(TEST_SECRET)).await;
        let cookie = r.cookie("csrftoken").unwrap();
        assert_eq!(cookie.len(), 32);
        assert_ne!(cookie, TEST_SECRET);
    }
}
