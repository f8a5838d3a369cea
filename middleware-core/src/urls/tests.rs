//! The resolver against Django's `tests/urlpatterns` and `tests/urlpatterns_reverse`, and
//! against plain ordered regex matching.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::converter::regex_excludes_slash;
use super::*;

/// Django's `tests/urlpatterns/path_urls.py` (the `path()` routes).
fn path_urls() -> UrlResolver<&'static str> {
    let mut u = UrlResolver::new();
    let routes = [
        ("articles/2003/", "articles-2003"),
        ("articles/<int:year>/", "articles-year"),
        ("articles/<int:year>/<int:month>/", "articles-year-month"),
        (
            "articles/<int:year>/<int:month>/<int:day>/",
            "articles-year-month-day",
        ),
        ("books/2007/", "books-2007"),
        (
            "books/<int:year>/<int:month>/<int:day>/",
            "books-year-month-day",
        ),
        ("users/", "users"),
        ("users/<id>/", "user-with-id"),
        ("<lang>/<path:url>/", "lang-and-path"),
    ];
    for (route, name) in routes {
        u.add(route, Some(name), name).unwrap();
    }
    u
}

/// Django's `tests/urlpatterns/converter_urls.py`.
fn converter_urls() -> UrlResolver<&'static str> {
    let mut u = UrlResolver::new();
    for name in ["int", "path", "slug", "str", "uuid"] {
        u.add(&format!("{name}/<{name}:{name}>/"), Some(name), name)
            .unwrap();
    }
    u
}

fn kw(m: &ResolverMatch<'_, &str>) -> Vec<(String, PathValue)> {
    m.kwargs.clone()
}

fn s(v: &str) -> PathValue {
    PathValue::Str(v.to_owned())
}

#[test]
fn simplified_url_tests_test_path_lookup_without_parameters() {
    let u = path_urls();
    let m = u.resolve("/articles/2003/").unwrap();
    assert_eq!(m.url_name, Some("articles-2003"));
    assert_eq!(m.route, "articles/2003/");
    assert!(m.kwargs.is_empty());
}

#[test]
fn simplified_url_tests_test_path_lookup_with_typed_parameters() {
    let u = path_urls();
    let m = u.resolve("/articles/2015/").unwrap();
    assert_eq!(m.url_name, Some("articles-year"));
    assert_eq!(m.route, "articles/<int:year>/");
    assert_eq!(kw(&m), vec![("year".to_owned(), PathValue::Int(2015))]);
    assert_eq!(*m.value, "articles-year");
}

#[test]
fn simplified_url_tests_test_path_lookup_with_multiple_parameters() {
    let u = path_urls();
    let m = u.resolve("/articles/2015/04/12/").unwrap();
    assert_eq!(m.url_name, Some("articles-year-month-day"));
    assert_eq!(m.route, "articles/<int:year>/<int:month>/<int:day>/");
    assert_eq!(
        kw(&m),
        vec![
            ("year".to_owned(), PathValue::Int(2015)),
            ("month".to_owned(), PathValue::Int(4)),
            ("day".to_owned(), PathValue::Int(12)),
        ]
    );
}

#[test]
fn simplified_url_tests_test_two_variable_at_start_of_path_pattern() {
    let u = path_urls();
    let m = u.resolve("/en/foo/").unwrap();
    assert_eq!(m.url_name, Some("lang-and-path"));
    assert_eq!(m.route, "<lang>/<path:url>/");
    assert_eq!(
        kw(&m),
        vec![
            ("lang".to_owned(), s("en")),
            ("url".to_owned(), PathValue::Path("foo".to_owned())),
        ]
    );
    // `path` in the middle of a route may span segments.
    let m = u.resolve("/en/a/b/c/").unwrap();
    assert_eq!(m.kwarg("url"), Some(&PathValue::Path("a/b/c".to_owned())));
}

#[test]
fn simplified_url_tests_test_path_reverse_without_parameter() {
    assert_eq!(
        path_urls().reverse("articles-2003", &[]).unwrap(),
        "/articles/2003/"
    );
}

#[test]
fn simplified_url_tests_test_path_reverse_with_parameter() {
    let url = path_urls()
        .reverse(
            "articles-year-month-day",
            &[("year", "2015"), ("month", "4"), ("day", "12")],
        )
        .unwrap();
    assert_eq!(url, "/articles/2015/4/12/");
}

#[test]
fn simplified_url_tests_test_invalid_converter() {
    let err = UrlResolver::new()
        .add("foo/<nonexistent:var>/", None, ())
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "URL route 'foo/<nonexistent:var>/' uses invalid converter 'nonexistent'."
    );
}

#[test]
fn simplified_url_tests_test_warning_override_default_converter() {
    let err = UrlResolver::<()>::new()
        .add_converter("int", "[0-9]+")
        .unwrap_err();
    assert_eq!(err.to_string(), "Converter 'int' is already registered.");
}

#[test]
fn simplified_url_tests_test_warning_override_converter() {
    let mut u = UrlResolver::<()>::new();
    u.add_converter("base64", "[a-zA-Z0-9+/]*={0,2}").unwrap();
    let err = u.add_converter("base64", "x").unwrap_err();
    assert_eq!(err.to_string(), "Converter 'base64' is already registered.");
}

#[test]
fn simplified_url_tests_test_whitespace_in_route() {
    for ws in [" ", "\t", "\n", "\r", "\x0b", "\x0c"] {
        let route = format!("space/<int:num>/extra/<str:{ws}test>");
        let err = UrlResolver::new().add(&route, None, ()).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("URL route '{route}' cannot contain whitespace in angle brackets <…>.")
        );
    }
    // Whitespace is valid outside the brackets.
    let mut u = UrlResolver::new();
    u.add("space \t\n\r\x0b\x0c/<int:num>/", None, ()).unwrap();
    let m = u.resolve("/space%20%09%0A%0D%0B%0C/1/").unwrap();
    assert_eq!(m.kwarg("num"), Some(&PathValue::Int(1)));
}

#[test]
fn simplified_url_tests_test_path_trailing_newlines() {
    let u = path_urls();
    for url in [
        "/articles/2003/\n",
        "/articles/2010/\n",
        "/en/foo/\n",
        "/users/1/\n",
        "/articles/2003/%0A",
        "/en/foo/%0A",
    ] {
        assert!(u.resolve(url).is_err(), "{url:?}");
    }
}

#[test]
fn converter_tests_test_matching_urls() {
    let u = converter_urls();
    let cases: [(&str, &str, PathValue); 7] = [
        ("int", "0", PathValue::Int(0)),
        ("int", "01", PathValue::Int(1)),
        ("int", "1234567890", PathValue::Int(1_234_567_890)),
        ("str", "abcxyz", s("abcxyz")),
        (
            "path",
            "allows.ANY*characters",
            PathValue::Path("allows.ANY*characters".into()),
        ),
        (
            "slug",
            "abcxyz-ABCXYZ_01234567890",
            PathValue::Slug("abcxyz-ABCXYZ_01234567890".into()),
        ),
        (
            "uuid",
            "39da9369-838e-4750-91a5-f7805cd82839",
            PathValue::Uuid("39da9369-838e-4750-91a5-f7805cd82839".into()),
        ),
    ];
    for (name, suffix, value) in cases {
        let url = format!("/{name}/{suffix}/");
        let m = u.resolve(&url).unwrap();
        assert_eq!(m.url_name, Some(name), "{url}");
        assert_eq!(m.kwargs, vec![(name.to_owned(), value.clone())], "{url}");
        // reverse() works with string parameters...
        assert_eq!(u.reverse(name, &[(name, suffix)]).unwrap(), url);
        // ...and with the converted value.
        let text = value.as_text();
        assert_eq!(
            u.reverse(name, &[(name, &text)]).unwrap(),
            format!("/{name}/{text}/")
        );
    }
}

#[test]
fn converter_tests_test_nonmatching_urls() {
    let u = converter_urls();
    let cases: &[(&str, &[&str])] = &[
        ("int", &["-1", "letters"]),
        ("str", &["", "/"]),
        ("path", &[""]),
        ("slug", &["", "stars*notallowed"]),
        (
            "uuid",
            &[
                "",
                "9da9369-838e-4750-91a5-f7805cd82839",
                "39da9369-838-4750-91a5-f7805cd82839",
                "39da9369-838e-475-91a5-f7805cd82839",
                "39da9369-838e-4750-91a-f7805cd82839",
                "39da9369-838e-4750-91a5-f7805cd8283",
                "39DA9369-838E-4750-91A5-F7805CD82839",
            ],
        ),
    ];
    for (name, suffixes) in cases {
        for suffix in *suffixes {
            let url = format!("/{name}/{suffix}/");
            assert!(u.resolve(&url).is_err(), "{url}");
        }
    }
}

#[test]
fn converter_tests_int_overflow_is_no_match() {
    let u = converter_urls();
    assert!(u.resolve("/int/18446744073709551615/").is_ok());
    assert!(u.resolve("/int/18446744073709551616/").is_err());
}

#[test]
fn same_name_tests_test_matching_urls_same_name() {
    // Django's path_same_name_urls.py (kwargs and converter variants).
    let mut u = UrlResolver::new();
    u.add("kwargs_names/a/<int:a>/", Some("kwargs_names"), 1)
        .unwrap();
    u.add("kwargs_names/b/<int:b>/", Some("kwargs_names"), 2)
        .unwrap();
    for conv in ["path", "str", "slug", "int", "uuid"] {
        u.add(
            &format!("converter/{conv}/<{conv}:var>/"),
            Some("converter"),
            3,
        )
        .unwrap();
    }
    assert_eq!(
        u.reverse("kwargs_names", &[("a", "1")]).unwrap(),
        "/kwargs_names/a/1/"
    );
    assert_eq!(
        u.reverse("kwargs_names", &[("b", "1")]).unwrap(),
        "/kwargs_names/b/1/"
    );
    // Last defined is tried first; values rejected fall through to earlier ones.
    let cases = [
        ("a/b", "/converter/path/a/b/"),
        ("a b", "/converter/str/a%20b/"),
        ("a-b", "/converter/slug/a-b/"),
        ("2", "/converter/int/2/"),
        (
            "39da9369-838e-4750-91a5-f7805cd82839",
            "/converter/uuid/39da9369-838e-4750-91a5-f7805cd82839/",
        ),
    ];
    for (value, expected) in cases {
        assert_eq!(u.reverse("converter", &[("var", value)]).unwrap(), expected);
    }
}

#[test]
fn parameter_restriction_tests_test_integer_parameter_name_causes_exception() {
    let err = UrlResolver::new()
        .add("hello/<int:1>/", None, ())
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "URL route 'hello/<int:1>/' uses parameter name '1' which isn't a valid Python identifier."
    );
}

#[test]
fn parameter_restriction_tests_test_non_identifier_parameter_name_causes_exception() {
    let err = UrlResolver::new()
        .add("b/<int:book.id>/", None, ())
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "URL route 'b/<int:book.id>/' uses parameter name 'book.id' which isn't a valid Python identifier."
    );
}

#[test]
fn parameter_restriction_tests_test_allows_non_ascii_but_valid_identifiers() {
    let mut u = UrlResolver::new();
    u.add("hello/<str:\u{394}>/", None, ()).unwrap();
    let m = u.resolve("/hello/1/").unwrap();
    assert_eq!(m.kwarg("\u{394}"), Some(&s("1")));
}

#[test]
fn conversion_exception_tests_test_reverse_value_error_means_no_match() {
    let u = path_urls();
    let err = u.reverse("articles-year", &[("year", "abc")]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Reverse for 'articles-year' with keyword arguments '{'year': 'abc'}' not found. \
         1 pattern(s) tried: ['articles/<int:year>/']"
    );
    // Wrong or missing keys.
    assert!(u.reverse("articles-year", &[]).is_err());
    assert!(u
        .reverse("articles-year", &[("year", "1"), ("x", "2")])
        .is_err());
    let err = u.reverse("nope", &[]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Reverse for 'nope' not found. 'nope' is not a valid view function or pattern name."
    );
}

#[test]
fn route_syntax_errors() {
    let mut u = UrlResolver::new();
    assert!(matches!(
        u.add("a/<int:x", None, ()),
        Err(UrlError::UnmatchedBracket { bracket: '<', .. })
    ));
    assert!(matches!(
        u.add("a/x>/", None, ()),
        Err(UrlError::UnmatchedBracket { bracket: '>', .. })
    ));
    assert!(matches!(
        u.add("<int:x>/<str:x>/", None, ()),
        Err(UrlError::DuplicateParameter { .. })
    ));
    assert!(matches!(
        u.add("<a:b:c>/", None, ()),
        // Django checks the name ("b:c") before the converter.
        Err(UrlError::InvalidParameterName { .. })
    ));
    assert!(matches!(
        u.add("<>/", None, ()),
        Err(UrlError::UnmatchedBracket { .. })
    ));
    assert!(matches!(
        u.add_converter("bad name", "x"),
        Err(UrlError::InvalidConverterName { .. })
    ));
    assert!(matches!(
        u.add_converter("bad", "a)|(b"),
        Err(UrlError::InvalidConverterRegex { .. })
    ));
    assert!(u.routes.is_empty());
}

#[test]
fn inclusion_order_first_registered_wins() {
    // Static registered first wins (Django docs' articles/2003/ example).
    let u = path_urls();
    assert_eq!(
        u.resolve("/articles/2003/").unwrap().url_name,
        Some("articles-2003")
    );
    // Parameter route registered before a static one of the same shape:
    // Django picks the parameter route; so do we (matchit alone would not).
    let mut u = UrlResolver::new();
    u.add("items/<slug:s>/", None, "slug").unwrap();
    u.add("items/new/", None, "new").unwrap();
    u.add("items/<int:id>/", None, "int").unwrap();
    assert_eq!(*u.resolve("/items/new/").unwrap().value, "slug");
    assert_eq!(*u.resolve("/items/12/").unwrap().value, "slug");
    assert_eq!(*u.resolve("/items/a.b/").unwrap_err().path, *"/items/a.b/");
    // Same shape, different converters: tried in order.
    let mut u = UrlResolver::new();
    u.add("items/<int:id>/", None, "int").unwrap();
    u.add("items/<slug:s>/", None, "slug").unwrap();
    u.add("items/<str:s>/", None, "str").unwrap();
    assert_eq!(*u.resolve("/items/12/").unwrap().value, "int");
    assert_eq!(*u.resolve("/items/a-b/").unwrap().value, "slug");
    assert_eq!(*u.resolve("/items/a.b/").unwrap().value, "str");
    // Catch-all registered first beats later, more specific routes.
    let mut u = UrlResolver::new();
    u.add("files/<path:p>", None, "path").unwrap();
    u.add("files/readme", None, "static").unwrap();
    assert_eq!(*u.resolve("/files/readme").unwrap().value, "path");
}

#[test]
fn empty_route_matches_root() {
    let mut u = UrlResolver::new();
    u.add("", Some("home"), "home").unwrap();
    assert_eq!(*u.resolve("/").unwrap().value, "home");
    assert!(u.resolve("/x").is_err());
    assert!(u.resolve("").is_err());
    assert_eq!(u.reverse("home", &[]).unwrap(), "/");
}

#[test]
fn trailing_slash_is_significant() {
    let mut u = UrlResolver::new();
    u.add("hello", None, "no-slash").unwrap();
    u.add("/hello/", None, "slash").unwrap();
    assert_eq!(*u.resolve("/hello").unwrap().value, "no-slash");
    assert_eq!(*u.resolve("/hello/").unwrap().value, "slash");
    assert_eq!(u.resolve("/hello/").unwrap().route, "hello/");
    let mut u = UrlResolver::new();
    u.add("only/", None, ()).unwrap();
    assert!(!u.is_valid_path("/only"));
    assert!(u.is_valid_path("/only/"));
}

#[test]
fn percent_decoding_before_matching() {
    let mut u = UrlResolver::new();
    u.add("hello/", None, "hello").unwrap();
    u.add("caf\u{e9}/<str:x>/", None, "cafe").unwrap();
    // %2F is decoded to '/' before matching, as a WSGI/ASGI server does.
    assert!(u.is_valid_path("/hello%2F"));
    assert!(u.is_valid_path("/%68ello/"));
    let m = u.resolve("/caf%C3%A9/a%20b/").unwrap();
    assert_eq!(m.kwarg("x"), Some(&s("a b")));
    assert!(u.is_valid_path("/caf\u{e9}/x/"));
}

#[test]
fn malformed_percent_encoding_does_not_panic() {
    let mut u = UrlResolver::new();
    u.add("<str:x>/", None, ()).unwrap();
    u.add("p/<path:rest>", None, ()).unwrap();
    // Malformed escapes are kept literally.
    assert_eq!(u.resolve("/%zz/").unwrap().kwarg("x"), Some(&s("%zz")));
    assert_eq!(u.resolve("/%4/").unwrap().kwarg("x"), Some(&s("%4")));
    assert!(u.resolve("/p/%").is_ok());
    // Invalid UTF-8 is re-percent-encoded (Django's repercent_broken_unicode).
    assert_eq!(
        u.resolve("/caf%E9/").unwrap().kwarg("x"),
        Some(&s("caf%E9"))
    );
    assert_eq!(
        u.resolve("/%FF%FE%C3/").unwrap().kwarg("x"),
        Some(&s("%FF%FE%C3"))
    );
    assert_eq!(
        u.resolve("/a%E2%82b/").unwrap().kwarg("x"),
        Some(&s("a%E2%82b"))
    );
    for p in ["%", "%%", "/%", "/%C3", "/\u{0}", "//", "/%00/", "/%2F%2F"] {
        let _ = u.resolve(p);
    }
}

#[test]
fn unicode_paths() {
    let mut u = UrlResolver::new();
    u.add("\u{65e5}\u{672c}/<str:w>/", Some("jp"), ()).unwrap();
    let m = u.resolve("/%E6%97%A5%E6%9C%AC/%E8%AA%9E/").unwrap();
    assert_eq!(m.kwarg("w"), Some(&s("\u{8a9e}")));
    assert_eq!(
        u.reverse("jp", &[("w", "\u{8a9e}")]).unwrap(),
        "/%E6%97%A5%E6%9C%AC/%E8%AA%9E/"
    );
    // slug is ASCII-only, like Django's.
    let mut u = UrlResolver::new();
    u.add("<slug:s>/", None, ()).unwrap();
    assert!(u.resolve("/caf%C3%A9/").is_err());
}

#[test]
fn over_long_paths() {
    let mut u = UrlResolver::new();
    u.add("<str:x>/", None, ()).unwrap();
    u.add("a/<path:p>", None, ()).unwrap();
    let long = "x".repeat(200_000);
    assert!(u.resolve(&format!("/{long}/")).is_ok());
    assert!(u.resolve(&format!("/{long}/{long}")).is_err());
    assert!(u.resolve(&format!("/a/{}", "%2F".repeat(50_000))).is_ok());
    assert!(u.resolve(&"/".repeat(100_000)).is_err());
}

#[test]
fn reverse_percent_encoding() {
    let mut u = UrlResolver::new();
    u.add("s/<str:x>/", Some("s"), ()).unwrap();
    u.add("<path:p>", Some("p"), ()).unwrap();
    assert_eq!(
        u.reverse("s", &[("x", "a b?c#d%e&f=g:@~!$'()*+,;")])
            .unwrap(),
        "/s/a%20b%3Fc%23d%25e&f=g:@~!$'()*+,;/"
    );
    // str rejects '/', path accepts it.
    assert!(u.reverse("s", &[("x", "a/b")]).is_err());
    assert_eq!(u.reverse("p", &[("p", "a/b")]).unwrap(), "/a/b");
    // No scheme-relative URLs.
    assert_eq!(
        u.reverse("p", &[("p", "/evil.com")]).unwrap(),
        "/%2Fevil.com"
    );
    // Round trip.
    let url = u.reverse("s", &[("x", "\u{e9} %")]).unwrap();
    assert_eq!(u.resolve(&url).unwrap().kwarg("x"), Some(&s("\u{e9} %")));
}

#[test]
fn custom_converters() {
    let mut u = UrlResolver::new();
    u.add_converter("year", "[0-9]{4}").unwrap();
    u.add_converter("base64", "[a-zA-Z0-9+/]*={0,2}").unwrap();
    u.add_converter("ym", "[0-9]{4}/[0-9]{2}").unwrap();
    u.add("y/<year:y>/", Some("y"), "year").unwrap();
    u.add("b/<base64:v>/", Some("b"), "b64").unwrap();
    u.add("m/<ym:d>/", None, "ym").unwrap();
    assert!(u
        .converters
        .iter()
        .any(|c| c.kind == Kind::Custom && c.segment_safe));
    let m = u.resolve("/y/2024/").unwrap();
    assert_eq!(m.kwarg("y"), Some(&PathValue::Custom("2024".into())));
    assert!(u.resolve("/y/20245/").is_err());
    // Converters that can match '/' or "" work via regex matching.
    assert_eq!(
        u.resolve("/b/YQ==/").unwrap().kwarg("v"),
        Some(&PathValue::Custom("YQ==".into()))
    );
    assert_eq!(
        u.resolve("/b/a/b/").unwrap().kwarg("v"),
        Some(&PathValue::Custom("a/b".into()))
    );
    assert!(u.resolve("/b//").is_ok());
    assert_eq!(*u.resolve("/m/2024/05/").unwrap().value, "ym");
    assert_eq!(u.reverse("y", &[("y", "1999")]).unwrap(), "/y/1999/");
    assert!(u.reverse("y", &[("y", "99")]).is_err());
}

#[test]
fn params_sharing_a_segment_use_regex_matching() {
    let mut u = UrlResolver::new();
    u.add("d/<int:y>-<int:m>/", None, "ym").unwrap();
    u.add("page<int:n>.html", None, "page").unwrap();
    u.add("{braces}/<int:n>", None, "braces").unwrap();
    let m = u.resolve("/d/2024-05/").unwrap();
    assert_eq!(m.kwarg("m"), Some(&PathValue::Int(5)));
    assert_eq!(*u.resolve("/page3.html").unwrap().value, "page");
    assert!(u.resolve("/pagex.html").is_err());
    assert_eq!(*u.resolve("/%7Bbraces%7D/1").unwrap().value, "braces");
    assert_eq!(u.fallback.len(), 2);
}

/// Django's semantics as a reference: try every route's regex in order.
fn reference<T>(u: &UrlResolver<T>, path: &str) -> Option<usize> {
    let decoded = decode_path(path);
    let rest = decoded.strip_prefix('/')?;
    u.routes
        .iter()
        .position(|r| r.match_full(rest, &u.converters).is_some())
}

#[test]
fn matches_ordered_regex_reference() {
    let routes = [
        "a/<int:x>/",
        "a/new/",
        "<slug:s>/new/",
        "a/<str:x>/",
        "<str:x>/<str:y>/",
        "a/<int:x>/<path:rest>",
        "a/b/c",
        "<path:p>/",
        "",
        "<int:n>",
        "a/b/<uuid:u>",
        "<str:a>/b/<int:c>",
        "a/<slug:s>/c",
        "<path:all>",
        "x/<int:y>-<int:z>",
    ];
    let paths = [
        "/",
        "/a/1/",
        "/a/new/",
        "/b/new/",
        "/a/x y/",
        "/a/1/2/3",
        "/a/b/c",
        "/a/b/c/",
        "/z/",
        "/7",
        "/a/b/39da9369-838e-4750-91a5-f7805cd82839",
        "/q/b/3",
        "/a/b/3",
        "/a/s-s/c",
        "/x/1-2",
        "/a//",
        "//",
        "/a/1/x",
        "/new/new/",
        "/a%2Fnew%2F",
    ];
    // Every prefix and every rotation of the route list.
    for start in 0..routes.len() {
        for len in 1..=routes.len() {
            let mut u = UrlResolver::new();
            for k in 0..len {
                let route = routes[(start + k) % routes.len()];
                u.add(route, None, route).unwrap();
            }
            for p in paths {
                let expected = reference(&u, p).map(|i| u.routes[i].route.as_str());
                let got = u.resolve(p).ok().map(|m| m.route);
                assert_eq!(got, expected, "path {p:?}, start {start}, len {len}");
            }
        }
    }
}

#[test]
fn repeated_kwarg_last_wins_and_no_panic_on_empty_name_table() {
    let u = path_urls();
    assert_eq!(
        u.reverse("articles-year", &[("year", "x"), ("year", "2000")])
            .unwrap(),
        "/articles/2000/"
    );
    let empty = UrlResolver::<()>::default();
    assert!(empty.resolve("/").is_err());
    assert!(empty.reverse("x", &[]).is_err());
}

#[test]
fn slash_safety_heuristic() {
    assert!(regex_excludes_slash("[0-9]{4}"));
    assert!(regex_excludes_slash("[a-z.]+"));
    assert!(regex_excludes_slash(r"\d+|\w+"));
    assert!(!regex_excludes_slash("[^x]+"));
    assert!(!regex_excludes_slash(".+"));
    assert!(!regex_excludes_slash("[+-9]+"));
    assert!(!regex_excludes_slash("[.-9]"));
    assert!(!regex_excludes_slash(r"\D"));
    assert!(!regex_excludes_slash("a/b"));
}
