//! The small pieces of Python and Django the Origin/Referer checks depend on, so the same inputs
//! give the same verdicts and the same reason strings: `urllib.parse.urlsplit` / `geturl`
//! (Python 3.12) and `django.utils.http.is_same_domain` live in `middleware_core::http_utils`
//! and are re-exported here; `HttpHeaders.parse_header_name` is here.
//!
//! ```
//! use middleware_builtin::csrf::url::{is_same_domain, urlsplit};
//!
//! let parts = urlsplit("https://www.example.com/page?x=1").unwrap();
//! assert_eq!(parts.scheme, "https");
//! assert_eq!(parts.netloc, "www.example.com");
//! assert!(is_same_domain("foo.example.com", ".example.com"));
//! assert!(urlsplit("https://[").is_err());
//! ```

pub use middleware_core::http_utils::host::is_same_domain;
pub use middleware_core::http_utils::url::{urlsplit, SplitUrl, UrlSplitError};

/// Python's `str.title()` on ASCII-ish header names: upper-case after any non-letter.
fn title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev_cased = false;
    for c in s.chars() {
        if c.is_alphabetic() {
            if prev_cased {
                out.extend(c.to_lowercase());
            } else {
                out.extend(c.to_uppercase());
            }
            prev_cased = true;
        } else {
            out.push(c);
            prev_cased = false;
        }
    }
    out
}

/// How Django names the token header in reject reasons: `repr(HttpHeaders.parse_header_name(
/// CSRF_HEADER_NAME))`, so `HTTP_X_CSRFTOKEN` gives `'X-Csrftoken'`. Django answers `None` for
/// names without the `HTTP_` prefix; this port also accepts plain header names
/// (`X-CSRFToken`) in the setting and names them the same title-cased way.
pub fn header_label(setting: &str) -> String {
    let name = setting.strip_prefix("HTTP_").unwrap_or(setting);
    format!("'{}'", title(&name.replace('_', "-")))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn urlsplit_matches_python() {
        let p = urlsplit("https://www.evil.org/somepage").unwrap();
        assert_eq!(
            (p.scheme.as_str(), p.netloc.as_str(), p.path.as_str()),
            ("https", "www.evil.org", "/somepage")
        );
        assert_eq!(p.geturl(), "https://www.evil.org/somepage");
        // Django: tests/csrf_tests/tests.py::CsrfViewMiddlewareTestMixin::test_https_malformed_referer
        let p = urlsplit("http://http://www.example.com/").unwrap();
        assert_eq!((p.scheme.as_str(), p.netloc.as_str()), ("http", "http:"));
        let p = urlsplit("").unwrap();
        assert!(p.scheme.is_empty() && p.netloc.is_empty());
        let p = urlsplit("ØBöIß").unwrap();
        assert!(p.scheme.is_empty() && p.netloc.is_empty());
        let p = urlsplit("//example.com/").unwrap();
        assert!(p.scheme.is_empty());
        assert_eq!(p.netloc, "example.com");
        let p = urlsplit("https://").unwrap();
        assert!(p.netloc.is_empty());
        assert!(urlsplit("https://[").is_err());
        assert!(urlsplit("https://]").is_err());
        assert!(urlsplit("https://[1.2.3.4]/").is_err());
        assert!(urlsplit("https://[::1]:8000/").is_ok());
        assert_eq!(urlsplit("null").unwrap().path, "null");
        // Scheme lower-cased, tabs/newlines removed, leading spaces stripped.
        let p = urlsplit("  HTTPS://ex\tample.com/a?b#c").unwrap();
        assert_eq!(p.scheme, "https");
        assert_eq!(p.netloc, "example.com");
        assert_eq!(p.geturl(), "https://example.com/a?b#c");
        // An empty query is dropped by geturl, as in Python.
        assert_eq!(
            urlsplit("https://a.b/x?").unwrap().geturl(),
            "https://a.b/x"
        );
    }

    #[test]
    fn header_labels_as_django() {
        assert_eq!(header_label("HTTP_X_CSRFTOKEN"), "'X-Csrftoken'");
        assert_eq!(
            header_label("HTTP_X_CSRFTOKEN_CUSTOMIZED"),
            "'X-Csrftoken-Customized'"
        );
        assert_eq!(header_label("X-CSRFToken"), "'X-Csrftoken'");
    }
}
