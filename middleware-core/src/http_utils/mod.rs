//! Pure HTTP helper functions ported from Django 6.1.3 (`django.utils.http`,
//! `django.utils.cache`, `django.http.cookie`, `HttpResponse.set_cookie`,
//! `HttpRequest.get_host`).
//!
//! Everything here works on plain [`http`] types and never panics on input, so
//! middleware can share one definition of "what Django does" for cookies,
//! caching headers, conditional requests, host validation and redirects.
//!
//! [`cookies`], [`host`], [`cache`] and date formatting are part of the model (the request and
//! response helpers use them); [`conditional`], [`url`] and date parsing are the `http-utils`
//! cargo feature (they use regex).
//!
//! ```
//! use http::{HeaderMap, Method, StatusCode};
//! use middleware_core::http_utils::{cache, conditional, cookies, host};
//!
//! let mut headers = HeaderMap::new();
//! cache::patch_vary_headers(&mut headers, &["Cookie", "Accept-Encoding"]).unwrap();
//! assert_eq!(headers["vary"], "Cookie, Accept-Encoding");
//!
//! let cookie = cookies::delete_cookie("sessionid", "/", None, None);
//! assert_eq!(
//!     cookie.to_header_value().unwrap(),
//!     r#"sessionid=""; expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/"#
//! );
//!
//! let mut request = HeaderMap::new();
//! request.insert("if-none-match", http::HeaderValue::from_static("\"abc\""));
//! let decision = conditional::conditional_decision(
//!     &Method::GET, &request, StatusCode::OK, Some("\"abc\""), None,
//! );
//! assert_eq!(decision, conditional::Conditional::NotModified);
//!
//! assert!(host::validate_host("www.example.com", &[".example.com".to_string()]));
//! ```

pub mod cache;
#[cfg(feature = "http-utils")]
pub mod conditional;
pub mod cookies;
pub mod dates;
pub mod host;
#[cfg(feature = "http-utils")]
pub mod url;

use http::header::{HeaderMap, HeaderName, HeaderValue};

/// Decode header bytes the way a WSGI server hands them to Django: ISO-8859-1,
/// one char per byte. This never fails, so odd bytes reach the same parsing
/// rules Django applies instead of being silently dropped.
pub(crate) fn latin1(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        // ASCII reads the same in Latin-1: one copy instead of a char at a time.
        Ok(text) if bytes.is_ascii() => text.to_owned(),
        _ => bytes.iter().map(|&b| char::from(b)).collect(),
    }
}

/// All values of `name` decoded as Latin-1 and joined with `,`, which is how a
/// proxy or WSGI server folds repeated header lines into one. `None` when the
/// header is absent.
pub(crate) fn joined_header(headers: &HeaderMap, name: &HeaderName) -> Option<String> {
    let mut values = headers.get_all(name).iter().peekable();
    values.peek()?;
    let parts: Vec<String> = values.map(|v| latin1(v.as_bytes())).collect();
    Some(parts.join(","))
}

/// Encode a string as a header value: Latin-1 chars become single bytes (the
/// inverse of [`latin1`]); anything else is sent as UTF-8 bytes.
pub(crate) fn to_header_value(
    value: &str,
) -> Result<HeaderValue, http::header::InvalidHeaderValue> {
    if value.chars().all(|c| u32::from(c) < 0x100) {
        let bytes: Vec<u8> = value.chars().map(|c| u32::from(c) as u8).collect();
        HeaderValue::from_bytes(&bytes)
    } else {
        HeaderValue::from_bytes(value.as_bytes())
    }
}

/// Yield the stripped, non-empty parts of a token-list header value split on
/// `sep` (Django's `split_header_value`). Only for headers whose values are
/// token lists (Vary, Cache-Control), never for ones with quoted strings.
pub fn split_header_value(value: &str, sep: char) -> impl Iterator<Item = &str> {
    value.split(sep).map(py_strip).filter(|s| !s.is_empty())
}

/// Python's `str.strip()` with no argument: strips Unicode whitespace plus the
/// ASCII separators (`\x1c`-`\x1f`) that Python also counts as whitespace.
pub fn py_strip(s: &str) -> &str {
    s.trim_matches(is_py_space)
}

pub(crate) fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
}

/// Python's `repr()` of a `str`, used to reproduce Django's error messages
/// byte-for-byte (they are built with `%r`).
pub(crate) fn py_repr(s: &str) -> String {
    // Python prefers single quotes and switches to double quotes only when the
    // text contains a single quote but no double quote.
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if !py_printable(c) => {
                let n = u32::from(c);
                if n < 0x100 {
                    out.push_str(&format!("\\x{n:02x}"));
                } else if n < 0x10000 {
                    out.push_str(&format!("\\u{n:04x}"));
                } else {
                    out.push_str(&format!("\\U{n:08x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// Approximation of `str.isprintable()`: exact for the Latin-1 range (the only
/// range header bytes can produce), control chars and common format chars above.
fn py_printable(c: char) -> bool {
    let n = u32::from(c);
    if n < 0x100 {
        return !(n < 0x20 || (0x7f..=0xa0).contains(&n) || n == 0xad);
    }
    !(c.is_control()
        || c.is_whitespace()
        || matches!(n, 0x200b..=0x200f | 0x2028..=0x202e | 0x2060..=0x2064 | 0xfeff))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repr_matches_python() {
        // Expected values from CPython 3.12 `repr()`.
        assert_eq!(py_repr("example.com"), "'example.com'");
        assert_eq!(py_repr("a'b"), "\"a'b\"");
        assert_eq!(py_repr("a'b\""), "'a\\'b\"'");
        assert_eq!(
            py_repr("x\u{e9}\u{1}\u{7f}\u{a0}\u{ad}"),
            "'x\u{e9}\\x01\\x7f\\xa0\\xad'"
        );
        assert_eq!(py_repr("a\\b\tc"), "'a\\\\b\\tc'");
    }

    #[test]
    fn split_header_value_strips() {
        let parts: Vec<_> = split_header_value(" a ,, b\t,", ',').collect();
        assert_eq!(parts, ["a", "b"]);
    }
}
