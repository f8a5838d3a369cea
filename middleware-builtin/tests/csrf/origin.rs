//! `Referer` and `Origin` checking over HTTPS and HTTP, `CSRF_TRUSTED_ORIGINS`, proxies and the
//! cookie domain.

use super::*;

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTestMixin::test_https_bad_referer
both_modes! {
    async fn test_https_bad_referer() {
        let req = post_with(Some(MASKED_TEST_SECRET2), None)
            .secure()
            .header("host", "www.example.com")
            .header("referer", "https://www.evil.org/somepage");
        assert_eq!(
            run("", req).await.reason(),
            "Referer checking failed - https://www.evil.org/somepage does not match any trusted origins."
        );
    }
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTestMixin::test_https_no_referer
both_modes! {
    async fn test_https_no_referer() {
        let req = post_with(Some(MASKED_TEST_SECRET2), None).secure();
        assert_eq!(
            run("", req).await.reason(),
            "Referer checking failed - no Referer."
        );
    }
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTestMixin::test_https_malformed_host
both_modes! {
    async fn test_https_malformed_host() {
        let req = Req::post("/post/")
            .secure()
            .header("host", "@malformed")
            .header("referer", "https://www.evil.org/somepage");
        assert_eq!(
            run("", req).await.reason(),
            "Referer checking failed - https://www.evil.org/somepage does not match any trusted origins."
        );
    }
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTestMixin::test_origin_malformed_host
both_modes! {
    async fn test_origin_malformed_host() {
        let req = Req::post("/post/")
            .secure()
            .header("host", "@malformed")
            .header("origin", "https://www.evil.org");
        assert_eq!(
            run("", req).await.reason(),
            "Origin checking failed - https://www.evil.org does not match any trusted origins."
        );
    }
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTestMixin::test_https_malformed_referer
both_modes! {
    async fn test_https_malformed_referer() {
        let insecure = post_with(Some(MASKED_TEST_SECRET2), None)
            .secure()
            .header("referer", "http://http://www.example.com/");
        assert_eq!(
            run("", insecure).await.reason(),
            "Referer checking failed - Referer is insecure while host is secure."
        );
        for referer in ["", "ØBöIß", "//example.com/", "https://", "https://["] {
            let req = post_with(Some(MASKED_TEST_SECRET2), None)
                .secure()
                .header("referer", referer);
            assert_eq!(
                run("", req).await.reason(),
                "Referer checking failed - Referer is malformed.",
                "{referer}"
            );
        }
    }
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTestMixin::test_https_good_referer
// and ::test_https_good_referer_2
both_modes! {
    async fn test_https_good_referer() {
        for referer in [
            "https://www.example.com/somepage",
            "https://www.example.com",
        ] {
            let req = post_with(Some(MASKED_TEST_SECRET2), None)
                .secure()
                .header("host", "www.example.com")
                .header("referer", referer);
            assert!(run("", req).await.accepted(), "{referer}");
        }
    }
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTestMixin::test_https_good_referer_malformed_host
// and ::test_https_csrf_trusted_origin_allowed
both_modes! {
    async fn test_https_csrf_trusted_origin_allowed() {
        for host in ["www.example.com", "@malformed"] {
            let req = post_with(Some(MASKED_TEST_SECRET2), None)
                .secure()
                .header("host", host)
                .header("referer", "https://dashboard.example.com");
            let r = run(
                "CSRF_TRUSTED_ORIGINS = [\"https://dashboard.example.com\"]",
                req,
            )
            .await;
            assert!(r.accepted(), "{host}");
        }
    }
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTestMixin::test_https_csrf_wildcard_trusted_origin_allowed
both_modes! {
    async fn test_https_csrf_wildcard_trusted_origin_allowed() {
        let req = post_with(Some(MASKED_TEST_SECRET2), None)
            .secure()
            .header("host", "www.example.com")
            .header("referer", "https://dashboard.example.com");
        let r = run("CSRF_TRUSTED_ORIGINS = [\"https://*.example.com\"]", req).await;
        assert!(r.accepted());
    }
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTests::test_https_good_referer_behind_proxy
// and CsrfViewMiddlewareUseSessionsTests::test_https_good_referer_behind_proxy
both_modes! {
    async fn test_https_good_referer_behind_proxy() {
        let mut req = post_with(Some(MASKED_TEST_SECRET2), None)
            .secure()
            .header("host", "10.0.0.2")
            .header("referer", "https://www.example.com/somepage")
            .header("x-forwarded-host", "www.example.com")
            .header("x-forwarded-port", "443");
        req.port = Some(8080);
        let r = run(
            &format!("{}\nUSE_X_FORWARDED_PORT = true", domain_setting()),
            req,
        )
        .await;
        assert!(r.accepted(), "{}", r.body);
    }
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTests::test_https_good_referer_matches_cookie_domain
// and ::test_https_good_referer_matches_cookie_domain_with_different_port, and the same two of
// CsrfViewMiddlewareUseSessionsTests (SESSION_COOKIE_DOMAIN)
both_modes! {
    async fn test_https_good_referer_matches_cookie_domain() {
        let mut req = post_with(Some(MASKED_TEST_SECRET2), None)
            .secure()
            .header("referer", "https://foo.example.com/");
        req.port = Some(443);
        assert!(run(&domain_setting(), req)
            .await
            .accepted());

        let mut req = post_with(Some(MASKED_TEST_SECRET2), None)
            .secure()
            .header("host", "www.example.com")
            .header("referer", "https://foo.example.com:4443/");
        req.port = Some(4443);
        assert!(run(&domain_setting(), req)
            .await
            .accepted());

        // The port rule: a non-443 server port must appear in the Referer.
        let mut req = post_with(Some(MASKED_TEST_SECRET2), None)
            .secure()
            .header("referer", "https://foo.example.com/");
        req.port = Some(4443);
        assert_eq!(
            run(&domain_setting(), req)
                .await
                .reason(),
            "Referer checking failed - https://foo.example.com/ does not match any trusted origins."
        );
    }
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTests::test_https_reject_insecure_referer
// and CsrfViewMiddlewareUseSessionsTests::test_https_reject_insecure_referer
both_modes! {
    async fn test_https_reject_insecure_referer() {
        let req = post_with(Some(MASKED_TEST_SECRET2), None)
            .secure()
            .header("referer", "http://example.com/");
        assert_eq!(
            run(&domain_setting(), req)
                .await
                .reason(),
            "Referer checking failed - Referer is insecure while host is secure."
        );
    }
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTestMixin::test_bad_origin_bad_domain,
// ::test_bad_origin_null_origin, ::test_bad_origin_bad_protocol, ::test_bad_origin_cannot_be_parsed
both_modes! {
    async fn test_bad_origins() {
        for (secure, origin) in [
            (false, "https://www.evil.org"),
            (false, "null"),
            (true, "http://example.com"),
            (false, "https://["),
            (true, "http://www.example.com"),
        ] {
            let mut req = post_with(Some(MASKED_TEST_SECRET2), None)
                .header("host", "www.example.com")
                .header("origin", origin);
            req.secure = secure;
            assert_eq!(
                run("", req).await.reason(),
                format!("Origin checking failed - {origin} does not match any trusted origins.")
            );
        }
    }
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTestMixin::test_bad_origin_csrf_trusted_origin_bad_protocol
both_modes! {
    async fn test_bad_origin_csrf_trusted_origin_bad_protocol() {
        let req = post_with(Some(MASKED_TEST_SECRET2), None)
            .secure()
            .header("host", "www.example.com")
            .header("origin", "http://foo.example.com");
        let r = run(
            r#"CSRF_TRUSTED_ORIGINS = ["http://no-match.com", "https://*.example.com", "http://*.no-match.com", "http://*.no-match-2.com"]"#,
            req,
        )
        .await;
        assert_eq!(
            r.reason(),
            "Origin checking failed - http://foo.example.com does not match any trusted origins."
        );
    }
}

// Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTestMixin::test_good_origin_insecure,
// ::test_good_origin_secure, ::test_good_origin_csrf_trusted_origin_allowed,
// ::test_good_origin_wildcard_csrf_trusted_origin_allowed
both_modes! {
    async fn test_good_origins() {
        let trusted =
            r#"CSRF_TRUSTED_ORIGINS = ["https://dashboard.example.com", "https://*.other.com"]"#;
        for (secure, origin) in [
            (false, "http://www.example.com"),
            (true, "https://www.example.com"),
            (true, "https://dashboard.example.com"),
            (false, "https://dashboard.example.com"),
            (true, "https://foo.other.com"),
            (true, "https://other.com"),
        ] {
            let mut req = post_with(Some(MASKED_TEST_SECRET2), None)
                .header("host", "www.example.com")
                .header("origin", origin);
            req.secure = secure;
            // With an Origin, the Referer is not checked even on HTTPS.
            assert!(run(trusted, req).await.accepted(), "{origin}");
        }
    }
}

// Conformance fact: a wrong Origin is reported before a missing cookie.
both_modes! {
    async fn bad_origin_reported_before_missing_cookie() {
        let req = Req::post("/post/").header("origin", "http://evil.example");
        assert_eq!(
            run("", req).await.reason(),
            "Origin checking failed - http://evil.example does not match any trusted origins."
        );
    }
}
