//! Redirect-safety helpers from `django.utils.http` and
//! `django.utils.encoding`: `escape_leading_slashes`, `iri_to_uri`, `escape_uri_path` and
//! `url_has_allowed_host_and_scheme` (the open-redirect guard).
//!
//! ```
//! use middleware_core::http_utils::url::{
//!     escape_leading_slashes, escape_uri_path, full_path, iri_to_uri,
//!     url_has_allowed_host_and_scheme,
//! };
//!
//! assert_eq!(escape_uri_path("/needsquoting#"), "/needsquoting%23");
//! assert_eq!(full_path("/caf\u{e9}", Some("a=1"), true), "/caf%C3%A9/?a=1");
//!
//! assert_eq!(escape_leading_slashes("//evil.com/x"), "/%2Fevil.com/x");
//! assert_eq!(iri_to_uri("/blog/for/Jürgen Münster/"), "/blog/for/J%C3%BCrgen%20M%C3%BCnster/");
//!
//! let allowed = ["testserver".to_string()];
//! assert!(url_has_allowed_host_and_scheme("/next/?a=1", &allowed, false));
//! assert!(url_has_allowed_host_and_scheme("https://testserver/", &allowed, false));
//! assert!(!url_has_allowed_host_and_scheme("https://evil.com/", &allowed, false));
//! assert!(!url_has_allowed_host_and_scheme(r"\\evil.com", &allowed, false));
//! ```

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::py_strip;

/// Django's `MAX_URL_LENGTH`: longer URLs are never considered safe.
pub const MAX_URL_LENGTH: usize = 2048;

/// If `url` starts with `//` (which browsers read as scheme-relative, i.e.
/// another host), escape the second slash: `//x` → `/%2Fx`.
pub fn escape_leading_slashes(url: &str) -> String {
    match url.strip_prefix("//") {
        Some(rest) => format!("/%2F{rest}"),
        None => url.to_string(),
    }
}

/// Characters `iri_to_uri` leaves alone: Python's always-safe set plus
/// Django's `safe="/#%[]=:;$&()+,!?*@'~"`.
const IRI_SAFE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'_')
    .remove(b'.')
    .remove(b'-')
    .remove(b'~')
    .remove(b'/')
    .remove(b'#')
    .remove(b'%')
    .remove(b'[')
    .remove(b']')
    .remove(b'=')
    .remove(b':')
    .remove(b';')
    .remove(b'$')
    .remove(b'&')
    .remove(b'(')
    .remove(b')')
    .remove(b'+')
    .remove(b',')
    .remove(b'!')
    .remove(b'?')
    .remove(b'*')
    .remove(b'@')
    .remove(b'\'');

/// Django's `iri_to_uri`: percent-encode (as UTF-8) everything that is not
/// allowed in a URI, leaving reserved characters and existing `%` escapes
/// alone, so the result is safe for a `Location` header.
pub fn iri_to_uri(iri: &str) -> String {
    utf8_percent_encode(iri, IRI_SAFE).to_string()
}

/// Characters `escape_uri_path` leaves alone: Python's always-safe set plus
/// Django's `safe="/:@&+$,-_.!~*'()"` (RFC 3986's reserved and unreserved characters
/// less `;`, `=` and `?`, which mean something inside a path). `%` is not safe: the input is a
/// decoded path, so a `%` in it is a literal percent sign.
const URI_PATH_SAFE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'_')
    .remove(b'.')
    .remove(b'-')
    .remove(b'~')
    .remove(b'/')
    .remove(b':')
    .remove(b'@')
    .remove(b'&')
    .remove(b'+')
    .remove(b'$')
    .remove(b',')
    .remove(b'!')
    .remove(b'*')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')');

/// Django's `escape_uri_path`: percent-encode a decoded path (Django's `request.path`) for a
/// URI, as `get_full_path()` and the `APPEND_SLASH` redirect do.
pub fn escape_uri_path(path: &str) -> String {
    utf8_percent_encode(path, URI_PATH_SAFE).to_string()
}

/// Django's `request.get_full_path(force_append_slash)` from the decoded path (Django's
/// `request.path`) and the raw query string: `escape_uri_path(path)`, a `/` when asked for and
/// missing, then `?` and `iri_to_uri(query)` when there is a query.
pub fn full_path(path: &str, query: Option<&str>, force_append_slash: bool) -> String {
    let mut out = escape_uri_path(path);
    if force_append_slash && !path.ends_with('/') {
        out.push('/');
    }
    if let Some(query) = query.filter(|q| !q.is_empty()) {
        out.push('?');
        out.push_str(&iri_to_uri(query));
    }
    out
}

/// Return `true` if `url` is safe to redirect to: it has no host or an
/// allowed host (exact match of the netloc, including any port or user
/// info), and no scheme or a safe one (`http`/`https`, only `https` when
/// `require_https`). Empty and over-long URLs, URLs starting with `///` or a
/// control character, and anything Python's `urlsplit` rejects are unsafe.
/// Backslashes are also checked as slashes, as browsers treat them.
///
/// Not implemented exactly: Python's Unicode NFKC check of non-ASCII hosts is
/// replaced by rejecting any non-ASCII host char that is not alphanumeric,
/// and only the common Unicode "C" categories are recognised at the start.
pub fn url_has_allowed_host_and_scheme(
    url: &str,
    allowed_hosts: &[String],
    require_https: bool,
) -> bool {
    let url = py_strip(url);
    if url.is_empty() {
        return false;
    }
    allowed(url, allowed_hosts, require_https)
        && allowed(&url.replace('\\', "/"), allowed_hosts, require_https)
}

fn allowed(url: &str, allowed_hosts: &[String], require_https: bool) -> bool {
    // Chrome treats three or more slashes as absolute; urlsplit does not.
    if url.starts_with("///") || url.chars().count() > MAX_URL_LENGTH {
        return false;
    }
    let Some((scheme, netloc)) = urlsplit_scheme_netloc(url) else {
        return false;
    };
    // http:///example.com: Chrome would still see example.com as the host.
    if netloc.is_empty() && !scheme.is_empty() {
        return false;
    }
    // Browsers ignore leading control characters and may then read the URL
    // as scheme-relative.
    if url.chars().next().is_some_and(is_unicode_category_c) {
        return false;
    }
    let scheme = if scheme.is_empty() && !netloc.is_empty() {
        "http".to_string()
    } else {
        scheme
    };
    let scheme_ok = scheme.is_empty() || scheme == "https" || (!require_https && scheme == "http");
    (netloc.is_empty() || allowed_hosts.contains(&netloc)) && scheme_ok
}

fn is_scheme_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')
}

/// The scheme (lower-cased) and netloc of Python 3.12's `urlsplit`, or `None`
/// where it raises `ValueError`.
fn urlsplit_scheme_netloc(url: &str) -> Option<(String, String)> {
    urlsplit(url).ok().map(|parts| (parts.scheme, parts.netloc))
}

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
pub struct UrlSplitError(pub &'static str);

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
        if !out.netloc.is_ascii()
            && out
                .netloc
                .chars()
                .any(|c| !c.is_ascii() && !c.is_alphanumeric())
        {
            // Stand-in for Python's NFKC check (e.g. U+2100 expands to "a/c").
            return Err(UrlSplitError(
                "netloc contains invalid characters under NFKC normalization",
            ));
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

/// Approximates `unicodedata.category(c)[0] == "C"` (control, format,
/// private use; unassigned code points cannot be known without tables).
fn is_unicode_category_c(c: char) -> bool {
    let n = u32::from(c);
    c.is_control()
        || matches!(
            n,
            0xad | 0x600..=0x605
                | 0x61c
                | 0x6dd
                | 0x70f
                | 0x180e
                | 0x200b..=0x200f
                | 0x202a..=0x202e
                | 0x2060..=0x2064
                | 0x2066..=0x206f
                | 0xfeff
                | 0xfff9..=0xfffb
                | 0xe000..=0xf8ff
                | 0xf0000..=0x10ffff
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    // tests/utils_tests/test_encoding.py::TestRFC3987IEncodingUtils::test_escape_uri_path
    #[test]
    fn test_escape_uri_path() {
        for (uri, expected) in [
            (
                "/;some/=awful/?path/:with/@lots/&of/+awful/chars",
                "/%3Bsome/%3Dawful/%3Fpath/:with/@lots/&of/+awful/chars",
            ),
            ("/foo#bar", "/foo%23bar"),
            ("/foo?bar", "/foo%3Fbar"),
            // Not in Django's cases: a literal percent sign and non-ASCII are escaped (UTF-8).
            ("/100%/caf\u{e9}", "/100%25/caf%C3%A9"),
        ] {
            assert_eq!(escape_uri_path(uri), expected, "{uri}");
        }
    }

    // tests/utils_tests/test_http.py::URLHasAllowedHostAndSchemeTests::test_bad_urls
    #[test]
    fn bad_urls() {
        let bad = [
            "http://example.com",
            "http:///example.com",
            "https://example.com",
            "ftp://example.com",
            r"\\example.com",
            r"\\\example.com",
            r"/\\/example.com",
            r"\\\example.com",
            r"\\example.com",
            r"\\//example.com",
            r"/\/example.com",
            r"\/example.com",
            r"/\example.com",
            "http:///example.com",
            r"http:/\//example.com",
            r"http:\/example.com",
            r"http:/\example.com",
            "javascript:alert(\"XSS\")",
            "\njavascript:alert(x)",
            "java\nscript:alert(x)",
            "\x08//example.com",
            r"http://otherserver\@example.com",
            r"http:\\testserver\@example.com",
            r"http://testserver\me:pass@example.com",
            r"http://testserver\@example.com",
            r"http:\\testserver\confirm\me@example.com",
            "http:999999999",
            "ftp:9999999999",
            "\n",
            "http://[2001:cdba:0000:0000:0000:0000:3257:9652/",
            "http://2001:cdba:0000:0000:0000:0000:3257:9652]/",
        ];
        let allowed = hosts(&["testserver", "testserver2"]);
        for url in bad {
            assert!(
                !url_has_allowed_host_and_scheme(url, &allowed, false),
                "{url:?}"
            );
        }
    }

    // ...::test_good_urls
    #[test]
    fn good_urls() {
        let good = [
            "/view/?param=http://example.com",
            "/view/?param=https://example.com",
            "/view?param=ftp://example.com",
            "view/?param=//example.com",
            "https://testserver/",
            "HTTPS://testserver/",
            "//testserver/",
            "http://testserver/confirm?email=me@example.com",
            "/url%20with%20spaces/",
            "path/http:2222222222",
        ];
        let allowed = hosts(&["otherserver", "testserver"]);
        for url in good {
            assert!(
                url_has_allowed_host_and_scheme(url, &allowed, false),
                "{url:?}"
            );
        }
    }

    // ...::test_basic_auth, ::test_no_allowed_hosts, ::test_allowed_hosts_str
    #[test]
    fn basic_auth_and_host_sets() {
        assert!(url_has_allowed_host_and_scheme(
            "http://user:pass@testserver/",
            &hosts(&["user:pass@testserver"]),
            false
        ));
        assert!(url_has_allowed_host_and_scheme(
            "/confirm/me@example.com",
            &[],
            false
        ));
        assert!(!url_has_allowed_host_and_scheme(
            r"http://testserver\@example.com",
            &[],
            false
        ));
        assert!(url_has_allowed_host_and_scheme(
            "http://good.com/good",
            &hosts(&["good.com"]),
            false
        ));
        assert!(!url_has_allowed_host_and_scheme(
            "http://good.co/evil",
            &hosts(&["good.com"]),
            false
        ));
    }

    // ...::test_secure_param_https_urls, ::test_secure_param_non_https_urls
    #[test]
    fn require_https() {
        let allowed = hosts(&["example.com"]);
        for url in [
            "https://example.com/p",
            "HTTPS://example.com/p",
            "/view/?param=http://example.com",
        ] {
            assert!(
                url_has_allowed_host_and_scheme(url, &allowed, true),
                "{url}"
            );
        }
        for url in [
            "http://example.com/p",
            "ftp://example.com/p",
            "//example.com/p",
        ] {
            assert!(
                !url_has_allowed_host_and_scheme(url, &allowed, true),
                "{url}"
            );
        }
    }

    // ...::test_max_url_length (length is counted in characters, not bytes)
    #[test]
    fn max_url_length() {
        let host = "example.com";
        let boundary = format!("{host}/{}", "é".repeat(MAX_URL_LENGTH - host.len() - 1));
        let allowed = hosts(&[host]);
        assert!(url_has_allowed_host_and_scheme(&boundary, &allowed, false));
        assert!(!url_has_allowed_host_and_scheme(
            &format!("{boundary}ú"),
            &allowed,
            false
        ));
    }

    #[test]
    fn odd_inputs_do_not_panic() {
        let allowed = hosts(&["[::1]", "testserver"]);
        assert!(url_has_allowed_host_and_scheme(
            "http://[::1]/",
            &allowed,
            false
        ));
        assert!(!url_has_allowed_host_and_scheme(
            "http://[127.0.0.1]/",
            &allowed,
            false
        ));
        assert!(!url_has_allowed_host_and_scheme(
            "http://[zz]/",
            &allowed,
            false
        ));
        assert!(!url_has_allowed_host_and_scheme(
            "//a\u{2100}b/",
            &allowed,
            false
        ));
        assert!(!url_has_allowed_host_and_scheme(
            "\u{200b}//testserver",
            &allowed,
            false
        ));
        assert!(!url_has_allowed_host_and_scheme("", &allowed, false));
        assert!(url_has_allowed_host_and_scheme(":foo", &allowed, false));
        assert!(url_has_allowed_host_and_scheme("é:x", &allowed, false));
    }

    // tests/utils_tests/test_http.py::EscapeLeadingSlashesTests and
    // tests/utils_tests/test_encoding.py iri_to_uri cases.
    #[test]
    fn escaping() {
        assert_eq!(escape_leading_slashes("//example.com"), "/%2Fexample.com");
        assert_eq!(escape_leading_slashes("//"), "/%2F");
        assert_eq!(escape_leading_slashes("/ok"), "/ok");
        assert_eq!(iri_to_uri("red%09rosé#red"), "red%09ros%C3%A9#red");
        assert_eq!(
            iri_to_uri("/blog/for/Jürgen Münster/"),
            "/blog/for/J%C3%BCrgen%20M%C3%BCnster/"
        );
        assert_eq!(
            iri_to_uri("locations/Paris+%26+Orl%C3%A9ans"),
            "locations/Paris+%26+Orl%C3%A9ans"
        );
        assert_eq!(iri_to_uri("%&"), "%&");
        assert_eq!(iri_to_uri("red&♥ros%#red"), "red&%E2%99%A5ros%#red");
        assert_eq!(
            iri_to_uri(&iri_to_uri("red&♥ros%#red")),
            "red&%E2%99%A5ros%#red"
        );
    }
}
