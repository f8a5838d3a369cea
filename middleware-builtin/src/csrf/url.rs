//! The small pieces of Python and Django the Origin/Referer checks depend on, reproduced so the
//! same inputs give the same verdicts and the same reason strings: `urllib.parse.urlsplit` /
//! `geturl` (Python 3.12), `django.utils.http.is_same_domain` and
//! `HttpHeaders.parse_header_name`.
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

/// The five parts of a URL, as Python's `SplitResult`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SplitUrl {
    /// The scheme, lower-cased (empty when absent).
    pub scheme: String,
    /// `host[:port]` with any user info, as written (empty when absent).
    pub netloc: String,
    /// The path.
    pub path: String,
    /// The query, without `?`.
    pub query: String,
    /// The fragment, without `#`.
    pub fragment: String,
}

/// Why `urlsplit` refused a URL (Python's `ValueError`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid URL: {0}")]
pub struct UrlSplitError(&'static str);

fn is_scheme_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')
}

/// Python 3.12's `urllib.parse.urlsplit(url)`: leading C0 controls and spaces stripped, tabs
/// and newlines removed, the scheme lower-cased, and brackets in the netloc validated (an
/// unbalanced `[`/`]` or a bracketed host that is not IPv6/IPvFuture is an error).
pub fn urlsplit(url: &str) -> Result<SplitUrl, UrlSplitError> {
    let url: String = url
        .trim_start_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\r' | '\n'))
        .collect();
    let mut rest = url.as_str();
    let mut out = SplitUrl::default();
    if let Some(i) = rest.find(':') {
        let candidate = &rest[..i];
        let first_ok = candidate
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic());
        if i > 0 && first_ok && candidate.chars().all(is_scheme_char) {
            out.scheme = candidate.to_ascii_lowercase();
            rest = &rest[i + 1..];
        }
    }
    if let Some(after) = rest.strip_prefix("//") {
        let end = after.find(['/', '?', '#']).unwrap_or(after.len());
        out.netloc = after[..end].to_owned();
        rest = &after[end..];
        let open = out.netloc.contains('[');
        let close = out.netloc.contains(']');
        if open != close {
            return Err(UrlSplitError("Invalid IPv6 URL"));
        }
        if open {
            let inner = out
                .netloc
                .split_once('[')
                .map(|(_, r)| r.split_once(']').map_or(r, |(h, _)| h))
                .unwrap_or("");
            check_bracketed_host(inner)?;
        }
    }
    if let Some((before, fragment)) = rest.split_once('#') {
        out.fragment = fragment.to_owned();
        rest = before;
    }
    if let Some((before, query)) = rest.split_once('?') {
        out.query = query.to_owned();
        rest = before;
    }
    out.path = rest.to_owned();
    Ok(out)
}

fn check_bracketed_host(host: &str) -> Result<(), UrlSplitError> {
    if let Some(v) = host.strip_prefix('v') {
        // IPvFuture: `v<hex>+.<something>`.
        let (hex, tail) = v.split_once('.').unwrap_or((v, ""));
        if hex.is_empty() || !hex.chars().all(|c| c.is_ascii_hexdigit()) || tail.is_empty() {
            return Err(UrlSplitError("IPvFuture address is invalid"));
        }
        return Ok(());
    }
    // Python's ip_address also accepts a `%zone` suffix on IPv6.
    let addr = host.split_once('%').map_or(host, |(a, _)| a);
    addr.parse::<std::net::Ipv6Addr>()
        .map(|_| ())
        .map_err(|_| UrlSplitError("An IPv6 address is expected"))
}

impl SplitUrl {
    /// Python's `SplitResult.geturl()` (`urlunsplit`): the URL as Django prints it in
    /// `Referer checking failed - %s does not match any trusted origins.`
    pub fn geturl(&self) -> String {
        let mut url = self.path.clone();
        if !self.netloc.is_empty() {
            if !url.is_empty() && !url.starts_with('/') {
                url.insert(0, '/');
            }
            url = format!("//{}{}", self.netloc, url);
        } else if url.starts_with("//") {
            url = format!("//{url}");
        }
        if !self.scheme.is_empty() {
            url = format!("{}:{}", self.scheme, url);
        }
        if !self.query.is_empty() {
            url = format!("{url}?{}", self.query);
        }
        if !self.fragment.is_empty() {
            url = format!("{url}#{}", self.fragment);
        }
        url
    }
}

/// Django's `is_same_domain(host, pattern)`: the pattern is lower-cased (the host is not); a
/// pattern starting with `.` matches the domain and all its subdomains; anything else must be
/// equal. An empty pattern matches nothing.
pub fn is_same_domain(host: &str, pattern: &str) -> bool {
    if pattern.is_empty() {
        return false;
    }
    let pattern = pattern.to_lowercase();
    (pattern.starts_with('.') && (host.ends_with(&pattern) || host == &pattern[1..]))
        || pattern == host
}

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
    fn is_same_domain_matches_django() {
        // Django: tests/utils_tests/test_http.py::IsSameDomainTests
        for (host, pattern) in [
            ("example.com", "example.com"),
            ("example.com", ".example.com"),
            ("foo.example.com", ".example.com"),
            ("example.com:8888", "example.com:8888"),
            ("foo.example.com:8888", ".example.com:8888"),
        ] {
            assert!(is_same_domain(host, pattern), "{host} {pattern}");
        }
        for (host, pattern) in [
            ("example2.com", "example.com"),
            ("foo.example.com", "example.com"),
            ("example.com:9999", "example.com:8888"),
            ("foo.example.com:8888", ""),
            ("example.com", ""),
        ] {
            assert!(!is_same_domain(host, pattern), "{host} {pattern}");
        }
        assert!(is_same_domain("foo.example.com", ".EXAMPLE.com"));
        assert!(!is_same_domain("FOO.example.com", "foo.example.com"));
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
