//! Tests (unwrap is fine here: a failed unwrap is a failed test).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use http::Method;
use middleware_core::response::text;
use middleware_core::test_client::Client;
use middleware_core::{Body, Chain, Router, Settings};

use super::*;

fn config(languages: &[&str], code: &str) -> LocaleConfig {
    LocaleConfig {
        language_code: code.into(),
        languages: languages.iter().map(|s| s.to_string()).collect(),
        ..LocaleConfig::default()
    }
}

fn req(headers: &[(&str, &str)]) -> Request {
    let mut b = http::Request::get("/");
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(Body::empty()).unwrap()
}

// Django: tests/i18n/tests.py::MiscTests::test_parse_spec_http_header
#[test]
fn parse_spec_http_header() {
    let p = |s: &str| parse_accept_lang_header(s);
    let v = |items: &[(&str, f64)]| -> Vec<(String, f64)> {
        items.iter().map(|(l, q)| (l.to_string(), *q)).collect()
    };
    assert_eq!(p("de"), v(&[("de", 1.0)]));
    assert_eq!(p("en-AU"), v(&[("en-au", 1.0)]));
    assert_eq!(p("es-419"), v(&[("es-419", 1.0)]));
    assert_eq!(p("*;q=1.00"), v(&[("*", 1.0)]));
    assert_eq!(p("en-AU;q=0.123"), v(&[("en-au", 0.123)]));
    assert_eq!(p("en-au;q=0.5"), v(&[("en-au", 0.5)]));
    assert_eq!(p("en-au;q=1.0"), v(&[("en-au", 1.0)]));
    assert_eq!(
        p("da, en-gb;q=0.25, en;q=0.5"),
        v(&[("da", 1.0), ("en", 0.5), ("en-gb", 0.25)])
    );
    assert_eq!(p("en-au-xx"), v(&[("en-au-xx", 1.0)]));
    assert_eq!(
        p("de,en-au;q=0.75,en-us;q=0.5,en;q=0.25,es;q=0.125,fa;q=0.125"),
        v(&[
            ("de", 1.0),
            ("en-au", 0.75),
            ("en-us", 0.5),
            ("en", 0.25),
            ("es", 0.125),
            ("fa", 0.125)
        ])
    );
    assert_eq!(p("*"), v(&[("*", 1.0)]));
    assert_eq!(p("de;q=0."), v(&[("de", 0.0)]));
    assert_eq!(p("en; q=1,"), v(&[("en", 1.0)]));
    assert_eq!(p("en; q=1.0, * ; q=0.5"), v(&[("en", 1.0), ("*", 0.5)]));
    let long = format!("en{}", "-x".repeat(20));
    assert_eq!(p(&long), vec![(long.clone(), 1.0)]);
    assert_eq!(
        p(&vec!["en; q=1.0"; 20].join(", ")),
        vec![("en".to_owned(), 1.0); 20]
    );
    // Bad headers.
    for bad in [
        "en-gb;q=1.0000",
        "en;q=0.1234",
        "en;q=.2",
        "abcdefghi-au",
        "**",
        "en,,gb",
        "en-au;q=0.1.0",
        &format!("{}Z,en", "X".repeat(97)),
        "da, en-gb;q=0.8, en;q=0.7,#",
        "de;q=2.0",
        "de;q=0.a",
        "12-345",
        "",
        "en;q=1e0",
        "en-au;q=１.０",
        &format!("xxxxxxxx{}", "-xxxxxxxx".repeat(500)),
    ] {
        assert!(p(bad).is_empty(), "{bad:?}");
    }
    // Too long: parsed up to the last comma before 500 characters.
    assert_eq!(
        p(&vec!["en; q=1.0"; 500].join(", ")),
        vec![("en".to_owned(), 1.0); 45]
    );
}

// Django: tests/i18n/tests.py::MiscTests::test_parse_literal_http_header
#[test]
fn parse_literal_http_header() {
    let c = config(
        &[
            "de", "en", "es", "fy", "ia", "nl", "pt", "pt-br", "sr-latn", "zh-hans", "zh-hant",
        ],
        "en-us",
    );
    for (header, expected) in [
        ("pt-br", "pt-br"),
        ("pt", "pt"),
        ("es,de", "es"),
        ("es-a,de", "es"),
        ("es-us", "es"),
        ("zh-hans,de", "zh-hans"),
        ("NL", "nl"),
        ("fy", "fy"),
        ("ia", "ia"),
        ("sr-latn", "sr-latn"),
        ("zh-hans", "zh-hans"),
        ("zh-hant", "zh-hant"),
    ] {
        let r = req(&[("accept-language", header)]);
        assert_eq!(c.language_from_request(&r, false), expected, "{header}");
    }
}

// Django: tests/i18n/tests.py::MiscTests::test_support_for_deprecated_chinese_language_codes
// and ::test_special_fallback_language and ::test_subsequent_code_fallback_language
#[test]
fn chinese_fallbacks() {
    let c = config(&["en", "zh-hans", "zh-hant"], "en-us");
    for (header, expected) in [
        ("zh-cn,en", "zh-hans"),
        ("zh-tw,en", "zh-hant"),
        ("zh-my,en", "zh-hans"),
        ("zh-Hans-CN", "zh-hans"),
        ("zh-hans-mo", "zh-hans"),
        ("zh-Hant-HK", "zh-hant"),
    ] {
        let r = req(&[("accept-language", header)]);
        assert_eq!(c.language_from_request(&r, false), expected, "{header}");
    }
}

// Django: tests/i18n/tests.py::MiscTests::test_get_language_from_request (cookie, variants)
#[test]
fn language_from_cookie_then_header_then_default() {
    let c = config(&["en", "de", "fr", "pt-br"], "en-us");
    let cookie = |v: &str| req(&[("cookie", &format!("django_language={v}"))]);
    assert_eq!(c.language_from_request(&cookie("de"), false), "de");
    assert_eq!(c.language_from_request(&cookie("pt"), false), "pt-br");
    assert_eq!(c.language_from_request(&cookie("fr-ca"), false), "fr");
    // An unsupported cookie falls through to Accept-Language.
    let r = req(&[("cookie", "django_language=xx"), ("accept-language", "fr")]);
    assert_eq!(c.language_from_request(&r, false), "fr");
    // Nothing usable: LANGUAGE_CODE's supported variant ("en-us" -> "en").
    assert_eq!(c.language_from_request(&req(&[]), false), "en");
    // `*` stops the scan.
    let r = req(&[("accept-language", "xx, *, de")]);
    assert_eq!(c.language_from_request(&r, false), "en");
}

#[test]
fn bad_language_inputs_fall_back_without_panicking() {
    let c = config(&["en", "de"], "en-us");
    let huge = format!("de-{}", "x".repeat(10_000));
    // Django keeps the generic part of an over-long cookie code.
    let r = req(&[("cookie", &format!("django_language={huge}"))]);
    assert_eq!(c.language_from_request(&r, false), "de");
    for r in [
        req(&[("accept-language", &huge)]),
        req(&[("accept-language", "ü, ☃;q=0.5")]),
        req(&[("cookie", "django_language=../../etc")]),
    ] {
        assert_eq!(c.language_from_request(&r, false), "en");
    }
    // A long code keeps its generic part (Django's DoS hardening, not strict).
    let long = format!("de-{}", "x-".repeat(400));
    assert_eq!(c.supported_variant(&long, false).as_deref(), Some("de"));
    assert_eq!(c.supported_variant(&long, true), None);
    let mut r = http::Request::get("/")
        .header(
            "accept-language",
            HeaderValue::from_bytes(b"\xff\xfe").unwrap(),
        )
        .body(Body::empty())
        .unwrap();
    assert_eq!(c.language_from_request(&r, false), "en");
    *r.uri_mut() = "/%FF%FE/".parse().unwrap();
    assert_eq!(c.language_from_path(&r.path_info()), None);
}

#[test]
fn language_from_path_prefix() {
    let c = config(&["en", "nl", "pt-br", "sr-latn"], "en-us");
    assert_eq!(c.language_from_path("/nl/foo/").as_deref(), Some("nl"));
    assert_eq!(c.language_from_path("/nl").as_deref(), Some("nl"));
    assert_eq!(c.language_from_path("/pt-br/x/").as_deref(), Some("pt-br"));
    assert_eq!(c.language_from_path("/en-gb/x/").as_deref(), Some("en"));
    assert_eq!(c.language_from_path("/de/x/"), None);
    assert_eq!(c.language_from_path("/nlx/"), None);
    assert_eq!(c.language_from_path("/"), None);
    let off = LocaleConfig {
        use_i18n: false,
        ..c
    };
    assert_eq!(off.language_from_path("/nl/foo/"), None);
}

// ---------------------------------------------------------------------------------------------
// Middleware, with a small language-prefixed router (tests/i18n/patterns).
// ---------------------------------------------------------------------------------------------

async fn page(req: &mut Request) -> Result<Response, Error> {
    let lang = req
        .extensions()
        .get::<ActiveLanguage>()
        .map(|l| l.0.clone())
        .unwrap_or_default();
    Ok(text(StatusCode::OK, lang))
}

fn client(patterns: Option<I18nPatterns>, extra_settings: &str, middleware: &str) -> Client {
    let mut registry = Registry::new();
    crate::register_all(&mut registry);
    register_with(&mut registry, patterns);
    let settings = Settings::from_toml_str(
        &format!(
            "ALLOWED_HOSTS = [\"testserver\"]\nMIDDLEWARE = [{middleware}]\n\
             LANGUAGES = [[\"en\", \"English\"], [\"nl\", \"Dutch\"], [\"fr\", \"French\"]]\n{extra_settings}"
        ),
        "test",
    )
    .unwrap();
    let mut router = Router::new();
    for prefix in ["en/", "nl/", "fr/", ""] {
        router
            .route(&format!("{prefix}account/register/"), page)
            .unwrap();
    }
    router.route("not-prefixed/", page).unwrap();
    router.route("simple/", page).unwrap();
    Client::new(
        Chain::builder(&registry, &settings)
            .urls(router)
            .build()
            .unwrap(),
    )
}

async fn get(
    c: &mut Client,
    path: &str,
    headers: &[(&str, &str)],
) -> middleware_core::test_client::TestResponse {
    c.request(Method::GET, path, headers, Body::empty()).await
}

// Django: tests/i18n/patterns/tests.py::URLVaryAcceptLanguageTests::test_en_redirect
// (and URLRedirectTests::test_en_redirect)
#[tokio::test]
async fn en_redirect_then_no_vary() {
    let mut c = prefixed_only();
    let r = get(&mut c, "/account/register/", &[("accept-language", "en")]).await;
    assert_eq!(r.status, 302);
    assert_eq!(r.header("location"), Some("/en/account/register/"));
    assert_eq!(r.header("vary"), Some("Accept-Language, Cookie"));
    let r = get(
        &mut c,
        "/en/account/register/",
        &[("accept-language", "en")],
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(r.header("vary").is_none(), "language came from the path");
    assert_eq!(r.header("content-language"), Some("en"));
    assert_eq!(r.text(), "en");
}

/// A router with only language-prefixed `account/register/` routes.
fn prefixed_only() -> Client {
    let mut registry = Registry::new();
    crate::register_all(&mut registry);
    register_with(
        &mut registry,
        Some(I18nPatterns {
            prefix_default_language: true,
        }),
    );
    let settings = Settings::from_toml_str(
        "ALLOWED_HOSTS = [\"testserver\"]\nMIDDLEWARE = [\"LocaleMiddleware\"]\n\
         LANGUAGES = [[\"en\", \"English\"], [\"nl\", \"Dutch\"]]\nLANGUAGE_CODE = \"en-us\"",
        "test",
    )
    .unwrap();
    let mut router = Router::new();
    for prefix in ["en/", "nl/"] {
        router
            .route(&format!("{prefix}account/register/"), page)
            .unwrap();
    }
    router.route("not-prefixed/", page).unwrap();
    Client::new(
        Chain::builder(&registry, &settings)
            .urls(router)
            .build()
            .unwrap(),
    )
}

// Django: tests/i18n/patterns/tests.py::URLRedirectTests::test_nl_redirect
// and ::test_no_prefix_response (URLVaryAcceptLanguageTests)
#[tokio::test]
async fn nl_redirect_and_unprefixed_vary() {
    let mut c = prefixed_only();
    let r = get(&mut c, "/account/register/", &[("accept-language", "nl")]).await;
    assert_eq!(r.status, 302);
    assert_eq!(r.header("location"), Some("/nl/account/register/"));
    // Language cookie beats Accept-Language.
    let r = get(
        &mut c,
        "/account/register/",
        &[("accept-language", "nl"), ("cookie", "django_language=en")],
    )
    .await;
    assert_eq!(r.header("location"), Some("/en/account/register/"));
    // Missing slash and a query string: the redirect adds both.
    let r = get(
        &mut c,
        "/account/register?next=/x",
        &[("accept-language", "nl")],
    )
    .await;
    assert_eq!(r.status, 302);
    assert_eq!(r.header("location"), Some("/nl/account/register/?next=/x"));
    // A 404 with no prefixed twin stays a 404, with Vary.
    let r = get(&mut c, "/nowhere/", &[("accept-language", "nl")]).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.header("vary"), Some("Accept-Language"));
    let r = get(&mut c, "/not-prefixed/", &[("accept-language", "nl")]).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("vary"), Some("Accept-Language"));
    assert_eq!(r.header("content-language"), Some("nl"));
}

// Django: tests/i18n/tests.py::UnprefixedDefaultLanguageTests::test_default_lang_without_prefix
// and ::test_other_lang_with_prefix and ::test_unprefixed_language_other_than_accept_language
#[tokio::test]
async fn unprefixed_default_language() {
    let mut c = client(
        Some(I18nPatterns {
            prefix_default_language: false,
        }),
        "LANGUAGE_CODE = \"en\"",
        "\"LocaleMiddleware\"",
    );
    let r = get(&mut c, "/simple/", &[("accept-language", "fr")]).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "en", "LANGUAGE_CODE wins on unprefixed paths");
    assert_eq!(r.header("content-language"), Some("en"));
    let r = get(&mut c, "/fr/account/register/", &[]).await;
    assert_eq!(r.text(), "fr");
    // No redirect when the default language is unprefixed.
    let r = get(&mut c, "/nowhere/", &[("accept-language", "fr")]).await;
    assert_eq!(r.status, 404);
}

// Django: tests/i18n/tests.py::LocaleMiddlewareTests (language without i18n patterns)
#[tokio::test]
async fn no_patterns_uses_cookie_and_header() {
    let mut c = client(None, "", "\"django.middleware.locale.LocaleMiddleware\"");
    let r = get(&mut c, "/simple/", &[("accept-language", "nl;q=0.5, fr")]).await;
    assert_eq!(r.text(), "fr");
    assert_eq!(r.header("vary"), Some("Accept-Language"));
    assert_eq!(r.header("content-language"), Some("fr"));
    // Without patterns the path prefix is not consulted, and Vary is still set.
    let r = get(
        &mut c,
        "/nl/account/register/",
        &[("accept-language", "fr")],
    )
    .await;
    assert_eq!(r.text(), "fr");
    assert_eq!(r.header("vary"), Some("Accept-Language"));
    // A 404 is never redirected without patterns.
    let r = get(&mut c, "/nowhere/", &[]).await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn use_i18n_false_always_language_code() {
    let mut c = client(
        None,
        "USE_I18N = false\nLANGUAGE_CODE = \"nl\"",
        "\"LocaleMiddleware\"",
    );
    let r = get(
        &mut c,
        "/simple/",
        &[("accept-language", "fr"), ("cookie", "django_language=en")],
    )
    .await;
    assert_eq!(r.text(), "nl");
    assert_eq!(r.header("content-language"), Some("nl"));
}

#[tokio::test]
async fn content_language_is_a_default_only() {
    async fn own_language(_: &mut Request) -> Result<Response, Error> {
        let mut r = text(StatusCode::OK, "x");
        r.headers_mut()
            .insert(header::CONTENT_LANGUAGE, HeaderValue::from_static("de"));
        Ok(r)
    }
    let mut registry = Registry::new();
    crate::register_all(&mut registry);
    let settings = Settings::from_toml_str(
        "ALLOWED_HOSTS = [\"testserver\"]\nMIDDLEWARE = [\"LocaleMiddleware\"]",
        "t",
    )
    .unwrap();
    let mut router = Router::new();
    router.route("", own_language).unwrap();
    let mut c = Client::new(
        Chain::builder(&registry, &settings)
            .urls(router)
            .build()
            .unwrap(),
    );
    let r = c.get("/").await;
    assert_eq!(r.header("content-language"), Some("de"));
}

#[test]
fn bad_languages_setting_is_a_settings_error() {
    let mut registry = Registry::new();
    crate::register_all(&mut registry);
    let settings = Settings::from_toml_str(
        "MIDDLEWARE = [\"LocaleMiddleware\"]\nLANGUAGES = \"en\"",
        "t",
    )
    .unwrap();
    let err = Chain::builder(&registry, &settings)
        .build()
        .expect_err("LANGUAGES must be a list of pairs");
    assert!(err.to_string().contains("LANGUAGES"), "{err}");
}

#[test]
fn order_check_warns_when_locale_is_after_common() {
    let mut registry = Registry::new();
    crate::register_all(&mut registry);
    let run = |list: &str| {
        let s = Settings::from_toml_str(&format!("MIDDLEWARE = [{list}]"), "t").unwrap();
        registry
            .run_checks(&s, false)
            .into_iter()
            .filter(|m| m.id == W_LOCALE_AFTER_COMMON)
            .count()
    };
    assert_eq!(
        run(
            r#""django.middleware.common.CommonMiddleware", "django.middleware.locale.LocaleMiddleware""#
        ),
        1
    );
    assert_eq!(run(r#""LocaleMiddleware", "CommonMiddleware""#), 0);
    assert_eq!(run(r#""LocaleMiddleware""#), 0);
}
