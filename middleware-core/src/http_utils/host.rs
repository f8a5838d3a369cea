//! Host header validation, ported from Django's `HttpRequest.get_host`,
//! `split_domain_port`, `validate_host` and `django.utils.http.is_same_domain`.
//!
//! ```
//! use http::HeaderMap;
//! use middleware_core::http_utils::host::{get_host, split_domain_port, HostError};
//!
//! assert_eq!(split_domain_port("Example.COM.:8080"), ("example.com".into(), "8080".into()));
//!
//! let allowed = vec![".example.com".to_string()];
//! let mut headers = HeaderMap::new();
//! headers.insert("host", http::HeaderValue::from_static("www.Example.com:8000"));
//! // The original header value (port and case included) is returned.
//! assert_eq!(get_host(&headers, false, &allowed, false, None).unwrap(), "www.Example.com:8000");
//!
//! headers.insert("host", http::HeaderValue::from_static("evil.com"));
//! let err = get_host(&headers, false, &allowed, false, None).unwrap_err();
//! assert_eq!(err.to_string(),
//!     "Invalid HTTP_HOST header: 'evil.com'. You may need to add 'evil.com' to ALLOWED_HOSTS.");
//! ```

use std::borrow::Cow;

use http::header::{HeaderMap, HeaderName, HOST};

use super::{latin1, py_repr};

/// Header consulted first when `USE_X_FORWARDED_HOST` is on.
pub static X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");

/// What Django allows when `DEBUG` is on and `ALLOWED_HOSTS` is empty.
pub const DEBUG_ALLOWED_HOSTS: [&str; 3] = [".localhost", "127.0.0.1", "[::1]"];

/// Django's `DisallowedHost`, which the handler turns into a 400 response.
/// The messages are Django's, byte for byte (values quoted with Python `repr`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostError {
    /// The host does not even look like a domain, IPv4 or IPv6 literal.
    #[error(
        "Invalid HTTP_HOST header: {}. The domain name provided is not valid according to RFC 1034/1035.",
        py_repr(.host)
    )]
    InvalidSyntax {
        /// The raw host as received.
        host: String,
    },
    /// A well-formed host that matches no `ALLOWED_HOSTS` pattern.
    #[error(
        "Invalid HTTP_HOST header: {}. You may need to add {} to ALLOWED_HOSTS.",
        py_repr(.host),
        py_repr(.domain)
    )]
    NotAllowed {
        /// The raw host as received (including any port).
        host: String,
        /// The lower-cased domain without port or trailing dot: the value to
        /// add to `ALLOWED_HOSTS`.
        domain: String,
    },
}

/// Django's host pattern, `^([a-z0-9.-]+|\[[a-f0-9]*:[a-f0-9.:]+\])(?::([0-9]+))?$`, matched by
/// hand on an already lower-cased host (it runs on every request; the regex took most of
/// `get_host`'s time): the domain and the port, borrowed.
fn match_host(lowered: &str) -> Option<(&str, &str)> {
    fn is_hex(b: u8) -> bool {
        b.is_ascii_digit() || (b'a'..=b'f').contains(&b)
    }
    let bytes = lowered.as_bytes();
    let domain_end = if bytes.first() == Some(&b'[') {
        // `[a-f0-9]*:[a-f0-9.:]+` inside the brackets, which hold no `]`: hex digits up to the
        // first other character, which must be a `:` followed by at least one of `[a-f0-9.:]`.
        let close = lowered.find(']')?;
        let inner = &bytes[1..close];
        let colon = inner.iter().position(|&b| !is_hex(b))?;
        let after = &inner[colon + 1..];
        if inner[colon] != b':'
            || after.is_empty()
            || !after.iter().all(|&b| is_hex(b) || b == b'.' || b == b':')
        {
            return None;
        }
        close + 1
    } else {
        // `[a-z0-9.-]+`, as long as it goes: `:` is not in the class, so a shorter match
        // could not be followed by the port either.
        let n = bytes
            .iter()
            .take_while(|&&b| {
                b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-'
            })
            .count();
        if n == 0 {
            return None;
        }
        n
    };
    let (domain, rest) = lowered.split_at(domain_end);
    let port = match rest.strip_prefix(':') {
        None if rest.is_empty() => "",
        Some(port) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => port,
        _ => return None,
    };
    Some((domain, port))
}

/// Python's `str.lower()`: ASCII on the fast path; other text as Unicode lower-casing, which
/// can turn a non-ASCII letter into an ASCII one (the Kelvin sign into `k`).
fn lower(text: &str) -> Cow<'_, str> {
    if !text.is_ascii() {
        Cow::Owned(text.to_lowercase())
    } else if text.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(text.to_ascii_lowercase())
    } else {
        // Hosts usually come lower-cased: no copy.
        Cow::Borrowed(text)
    }
}

/// Split a host into `(domain, port)`: the domain is lower-cased and loses
/// one trailing dot; IPv6 literals keep their brackets. Anything that does not
/// match Django's host pattern gives `("", "")`.
pub fn split_domain_port(host: &str) -> (String, String) {
    split_lowered(&lower(host)).map_or((String::new(), String::new()), |(domain, port)| {
        (domain.to_string(), port.to_string())
    })
}

/// [`split_domain_port`] on an already lower-cased host, borrowed; `None` for no match.
fn split_lowered(lowered: &str) -> Option<(&str, &str)> {
    let (domain, port) = match_host(lowered)?;
    Some((domain.strip_suffix('.').unwrap_or(domain), port))
}

/// Whether `host` equals `pattern` or, for a pattern starting with `.`, is
/// that domain or one of its subdomains. The pattern is lower-cased; the host
/// is expected to be lower-cased already. An empty pattern matches nothing.
pub fn is_same_domain(host: &str, pattern: &str) -> bool {
    if pattern.is_empty() {
        return false;
    }
    if !pattern.is_ascii() {
        let pattern = pattern.to_lowercase();
        return match pattern.strip_prefix('.') {
            Some(bare) => host.ends_with(&pattern) || host == bare,
            None => pattern == host,
        };
    }
    // An ASCII pattern is compared lower-cased without building the lower-cased copy.
    let equal_to_lowered = |text: &[u8], pattern: &[u8]| {
        text.len() == pattern.len()
            && text
                .iter()
                .zip(pattern)
                .all(|(t, p)| *t == p.to_ascii_lowercase())
    };
    let host = host.as_bytes();
    let pattern = pattern.as_bytes();
    match pattern.strip_prefix(b".") {
        Some(bare) => {
            (host.len() >= pattern.len()
                && equal_to_lowered(&host[host.len() - pattern.len()..], pattern))
                || equal_to_lowered(host, bare)
        }
        None => equal_to_lowered(host, pattern),
    }
}

/// Whether `domain` (lower-cased, port already removed) matches any allowed
/// pattern: `*` matches everything, `.example.com` matches the domain and its
/// subdomains, anything else must match exactly (case-insensitively).
pub fn validate_host(domain: &str, allowed_hosts: &[String]) -> bool {
    allowed_hosts
        .iter()
        .any(|p| p == "*" || is_same_domain(domain, p))
}

/// `ALLOWED_HOSTS` as `get_host` applies it: when the list is empty and
/// `debug` is on, the localhost variants of [`DEBUG_ALLOWED_HOSTS`].
pub fn effective_allowed_hosts(allowed: &[String], debug: bool) -> Vec<String> {
    if debug && allowed.is_empty() {
        DEBUG_ALLOWED_HOSTS.iter().map(|s| s.to_string()).collect()
    } else {
        allowed.to_vec()
    }
}

/// Validate an already chosen raw host against the allowed hosts, returning
/// it unchanged (port and case included) when accepted.
pub fn check_host(host: &str, allowed: &[String], debug: bool) -> Result<String, HostError> {
    let lowered = lower(host);
    let Some((domain, _port)) = split_lowered(&lowered).filter(|(domain, _)| !domain.is_empty())
    else {
        return Err(HostError::InvalidSyntax {
            host: host.to_string(),
        });
    };
    // The DEBUG defaults are only built in the rare case they apply: this runs per request.
    let allowed_ok = if debug && allowed.is_empty() {
        validate_host(domain, &effective_allowed_hosts(allowed, debug))
    } else {
        validate_host(domain, allowed)
    };
    if allowed_ok {
        Ok(host.to_string())
    } else {
        Err(HostError::NotAllowed {
            host: host.to_string(),
            domain: domain.to_string(),
        })
    }
}

/// Django's `HttpRequest.get_host()`.
///
/// The raw host is `X-Forwarded-Host` (only when `use_x_forwarded_host`),
/// else `Host`, else `server_fallback` — which the caller builds like Django
/// from `SERVER_NAME` plus `:port` when the port is not the scheme's default.
/// Header bytes are read as Latin-1 like under WSGI, so non-ASCII bytes yield
/// an [`HostError::InvalidSyntax`] with Django's message, never a panic. No
/// host at all is reported as an invalid empty host.
pub fn get_host(
    headers: &HeaderMap,
    use_x_forwarded_host: bool,
    allowed: &[String],
    debug: bool,
    server_fallback: Option<&str>,
) -> Result<String, HostError> {
    get_host_or_else(headers, use_x_forwarded_host, allowed, debug, || {
        server_fallback.map(str::to_owned)
    })
}

/// [`get_host`] with the fallback built only when no header gives the host (building it may
/// mean formatting an address, which would cost more than the check).
pub(crate) fn get_host_or_else(
    headers: &HeaderMap,
    use_x_forwarded_host: bool,
    allowed: &[String],
    debug: bool,
    server_fallback: impl FnOnce() -> Option<String>,
) -> Result<String, HostError> {
    let forwarded = headers
        .get(&X_FORWARDED_HOST)
        .filter(|_| use_x_forwarded_host);
    // Visible ASCII, by far the common case, is borrowed as it is; other bytes read as Latin-1.
    let raw = match forwarded.or_else(|| headers.get(HOST)) {
        Some(value) => match value.to_str() {
            Ok(text) => Cow::Borrowed(text),
            Err(_) => Cow::Owned(latin1(value.as_bytes())),
        },
        None => Cow::Owned(server_fallback().unwrap_or_default()),
    };
    check_host(&raw, allowed, debug)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn headers(pairs: &[(&str, &[u8])]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            if let (Ok(n), Ok(v)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_bytes(value),
            ) {
                map.append(n, v);
            }
        }
        map
    }

    fn host_only(host: &str, allowed: &[String], debug: bool) -> Result<String, HostError> {
        get_host(
            &headers(&[("host", host.as_bytes())]),
            false,
            allowed,
            debug,
            None,
        )
    }

    // tests/requests_tests/tests.py::HostValidationTests.poisoned_hosts
    const POISONED_HOSTS: [&str; 5] = [
        "example.com@evil.tld",
        "example.com:dr.frankenstein@evil.tld",
        "example.com:dr.frankenstein@evil.tld:80",
        "example.com:80/badpath",
        "example.com: recovermypassword.com",
    ];

    // ...::test_http_get_host
    #[test]
    fn http_get_host() {
        let allowed = strings(&[
            "forward.com",
            "example.com",
            "internal.com",
            "12.34.56.78",
            "[2001:19f0:feee::dead:beef:cafe]",
            "xn--4ca9at.com",
            ".multitenant.com",
            "INSENSITIVE.com",
            "[::ffff:169.254.169.254]",
        ]);
        let all = headers(&[
            ("x-forwarded-host", b"forward.com"),
            ("host", b"example.com"),
        ]);
        // X-Forwarded-Host is ignored when USE_X_FORWARDED_HOST is off.
        assert_eq!(
            get_host(&all, false, &allowed, false, Some("internal.com")),
            Ok("example.com".into())
        );
        assert_eq!(
            get_host(
                &HeaderMap::new(),
                false,
                &allowed,
                false,
                Some("internal.com")
            ),
            Ok("internal.com".into())
        );
        assert_eq!(
            get_host(
                &HeaderMap::new(),
                false,
                &allowed,
                false,
                Some("internal.com:8042")
            ),
            Ok("internal.com:8042".into())
        );
        let legit = [
            "example.com",
            "example.com:80",
            "12.34.56.78",
            "12.34.56.78:443",
            "[2001:19f0:feee::dead:beef:cafe]",
            "[2001:19f0:feee::dead:beef:cafe]:8080",
            "xn--4ca9at.com",
            "anything.multitenant.com",
            "multitenant.com",
            "insensitive.com",
            "example.com.",
            "example.com.:80",
            "[::ffff:169.254.169.254]",
        ];
        for host in legit {
            assert_eq!(host_only(host, &allowed, false), Ok(host.to_string()));
        }
        for host in POISONED_HOSTS.iter().chain(&["other.com", "example.com.."]) {
            assert!(host_only(host, &allowed, false).is_err(), "{host}");
        }
    }

    // ...::test_http_get_host_with_x_forwarded_host
    #[test]
    fn http_get_host_with_x_forwarded_host() {
        let allowed = strings(&["*"]);
        let all = headers(&[
            ("x-forwarded-host", b"forward.com"),
            ("host", b"example.com"),
        ]);
        assert_eq!(
            get_host(&all, true, &allowed, false, Some("internal.com")),
            Ok("forward.com".into())
        );
        let host = headers(&[("host", b"example.com")]);
        assert_eq!(
            get_host(&host, true, &allowed, false, Some("internal.com")),
            Ok("example.com".into())
        );
        assert_eq!(
            get_host(
                &HeaderMap::new(),
                true,
                &allowed,
                false,
                Some("internal.com:8042")
            ),
            Ok("internal.com:8042".into())
        );
        for host in POISONED_HOSTS {
            assert!(host_only(host, &allowed, false).is_err(), "{host}");
        }
    }

    // ...::test_host_validation_in_debug_mode
    #[test]
    fn debug_mode_allows_localhost() {
        for host in ["localhost", "subdomain.localhost", "127.0.0.1", "[::1]"] {
            assert_eq!(host_only(host, &[], true), Ok(host.to_string()));
        }
        assert!(host_only("example.com", &[], true).is_err());
        assert!(host_only("localhost", &[], false).is_err());
        assert_eq!(
            effective_allowed_hosts(&strings(&["a.com"]), true),
            strings(&["a.com"])
        );
    }

    // ...::test_get_host_suggestion_of_allowed_host
    #[test]
    fn suggestion_messages() {
        for host in [
            "example.com",
            "12.34.56.78",
            "[2001:19f0:feee::dead:beef:cafe]",
            "xn--4ca9at.com",
        ] {
            let msg = format!("Invalid HTTP_HOST header: '{host}'. You may need to add '{host}' to ALLOWED_HOSTS.");
            assert_eq!(
                host_only(host, &[], false).map_err(|e| e.to_string()),
                Err(msg)
            );
        }
        for (domain, port) in [
            ("example.com", 80),
            ("12.34.56.78", 443),
            ("[2001:19f0:feee::dead:beef:cafe]", 8080),
        ] {
            let host = format!("{domain}:{port}");
            let msg = format!("Invalid HTTP_HOST header: '{host}'. You may need to add '{domain}' to ALLOWED_HOSTS.");
            assert_eq!(
                host_only(&host, &[], false).map_err(|e| e.to_string()),
                Err(msg)
            );
        }
        for host in POISONED_HOSTS {
            let msg = format!(
                "Invalid HTTP_HOST header: '{host}'. The domain name provided is not valid according to RFC 1034/1035."
            );
            assert_eq!(
                host_only(host, &[], false).map_err(|e| e.to_string()),
                Err(msg)
            );
        }
        assert_eq!(
            host_only("invalid_hostname.com", &[], false).map_err(|e| e.to_string()),
            Err("Invalid HTTP_HOST header: 'invalid_hostname.com'. The domain name provided is not valid \
                 according to RFC 1034/1035."
                .to_string())
        );
    }

    // Messages printed by Django 6.1.3 (ALLOWED_HOSTS=["example.com"]).
    #[test]
    fn absurd_hosts() {
        let allowed = strings(&["example.com"]);
        let invalid = |h: &str| {
            format!("Invalid HTTP_HOST header: {}. The domain name provided is not valid according to RFC 1034/1035.", py_repr(h))
        };
        let not_allowed = |h: &str, d: &str| {
            format!(
                "Invalid HTTP_HOST header: {}. You may need to add {} to ALLOWED_HOSTS.",
                py_repr(h),
                py_repr(d)
            )
        };
        let msg = |h: &[u8]| {
            get_host(&headers(&[("host", h)]), false, &allowed, false, None)
                .map_err(|e| e.to_string())
        };
        assert_eq!(msg(b"EXAMPLE.COM:80"), Ok("EXAMPLE.COM:80".into()));
        assert_eq!(
            msg(b"Other.COM."),
            Err(not_allowed("Other.COM.", "other.com"))
        );
        assert_eq!(
            msg(b"example.com.."),
            Err(not_allowed("example.com..", "example.com."))
        );
        assert_eq!(msg(b"[::1]:80"), Err(not_allowed("[::1]:80", "[::1]")));
        assert_eq!(msg(b"[::1"), Err(invalid("[::1")));
        assert_eq!(msg(b"."), Err(invalid(".")));
        assert_eq!(msg(b"a'b"), Err("Invalid HTTP_HOST header: \"a'b\". The domain name provided is not valid according to RFC 1034/1035.".into()));
        // Non-UTF-8 bytes: Latin-1 decoded, as under WSGI.
        assert_eq!(msg(b"ex\xe9.com"), Err("Invalid HTTP_HOST header: 'ex\u{e9}.com'. The domain name provided is not valid according to RFC 1034/1035.".into()));
        assert_eq!(msg(b"\xff\xfe"), Err(invalid("\u{ff}\u{fe}")));
        assert_eq!(
            msg(b"example.com:99999999999999999999"),
            Ok("example.com:99999999999999999999".into())
        );
        let long = "a".repeat(100_000);
        assert_eq!(msg(long.as_bytes()), Err(not_allowed(&long, &long)));
        assert_eq!(msg(b"example.com\t"), Err(invalid("example.com\t")));
        assert_eq!(
            get_host(&HeaderMap::new(), false, &allowed, false, None).map_err(|e| e.to_string()),
            Err(invalid(""))
        );
        // U+212A KELVIN SIGN lower-cases to ASCII "k" in Python too.
        assert_eq!(
            split_domain_port("\u{212a}.com"),
            ("k.com".into(), String::new())
        );
    }

    // The hand-written matcher against Django's pattern itself, on every string of up to five
    // characters from an alphabet of the characters that matter (and a few that must fail).
    #[test]
    fn match_host_agrees_with_djangos_regex() {
        let re = regex::Regex::new(r"\A([a-z0-9.-]+|\[[a-f0-9]*:[a-f0-9.:]+\])(?::([0-9]+))?\z")
            .unwrap();
        let alphabet = [
            'a', 'f', 'g', 'z', '0', '9', '.', '-', ':', '[', ']', '_', 'é',
        ];
        let mut strings = vec![String::new()];
        let mut frontier = vec![String::new()];
        for _ in 0..5 {
            let mut next = Vec::new();
            for s in &frontier {
                for c in alphabet {
                    next.push(format!("{s}{c}"));
                }
            }
            strings.extend(next.iter().cloned());
            frontier = next;
        }
        for s in &strings {
            let expected = re.captures(s).map(|c| {
                (
                    c.get(1).map_or("", |m| m.as_str()),
                    c.get(2).map_or("", |m| m.as_str()),
                )
            });
            assert_eq!(match_host(s), expected, "{s:?}");
        }
        assert!(strings.len() > 400_000);
    }

    // ...::test_split_domain_port
    #[test]
    fn split_domain_port_table() {
        let table = [
            ("<invalid>", ("", "")),
            ("<invalid>:8080", ("", "")),
            ("example.com 8080", ("", "")),
            ("example.com:invalid", ("", "")),
            ("[::1]", ("[::1]", "")),
            ("[::1]:8080", ("[::1]", "8080")),
            ("[::ffff:127.0.0.1]", ("[::ffff:127.0.0.1]", "")),
            ("[::ffff:127.0.0.1]:8080", ("[::ffff:127.0.0.1]", "8080")),
            (
                "[1851:0000:3238:DEF1:0177:0000:0000:0125]",
                ("[1851:0000:3238:def1:0177:0000:0000:0125]", ""),
            ),
            (
                "[1851:0000:3238:DEF1:0177:0000:0000:0125]:8080",
                ("[1851:0000:3238:def1:0177:0000:0000:0125]", "8080"),
            ),
            ("127.0.0.1", ("127.0.0.1", "")),
            ("127.0.0.1:8080", ("127.0.0.1", "8080")),
            ("example.com", ("example.com", "")),
            ("example.com:8080", ("example.com", "8080")),
            ("example.com.", ("example.com", "")),
            ("example.com.:8080", ("example.com", "8080")),
            ("xn--n28h.test", ("xn--n28h.test", "")),
            ("xn--n28h.test:8080", ("xn--n28h.test", "8080")),
            ("subdomain.example.com", ("subdomain.example.com", "")),
            (
                "subdomain.example.com:8080",
                ("subdomain.example.com", "8080"),
            ),
        ];
        for (host, (domain, port)) in table {
            assert_eq!(
                split_domain_port(host),
                (domain.to_string(), port.to_string()),
                "{host}"
            );
        }
    }

    // tests/utils_tests/test_http.py::IsSameDomainTests
    #[test]
    fn is_same_domain_table() {
        for (host, pattern) in [
            ("example.com", "example.com"),
            ("example.com", ".example.com"),
            ("foo.example.com", ".example.com"),
            ("example.com:8888", "example.com:8888"),
            ("example.com:8888", ".example.com:8888"),
            ("foo.example.com:8888", ".example.com:8888"),
        ] {
            assert!(is_same_domain(host, pattern), "{host} {pattern}");
        }
        for (host, pattern) in [
            ("example2.com", "example.com"),
            ("foo.example.com", "example.com"),
            ("example.com:9999", "example.com:8888"),
            ("foo.example.com:8888", ""),
        ] {
            assert!(!is_same_domain(host, pattern), "{host} {pattern}");
        }
    }
}
