//! Cookies: Django's `parse_cookie` for the request side and a `Set-Cookie`
//! builder reproducing `HttpResponse.set_cookie` / `delete_cookie` output
//! byte-for-byte (Python's `http.cookies.Morsel.OutputString`).
//!
//! ```
//! use middleware_core::http_utils::cookies::{cookie_map, SameSite, SetCookie};
//!
//! let jar = cookie_map("sessionid=abc; theme=\"dark mode\"; sessionid=def");
//! assert_eq!(jar["sessionid"], "def"); // later duplicates win, as in Django
//! assert_eq!(jar["theme"], "dark mode");
//!
//! let header = SetCookie::new("csrftoken", "tok")
//!     .httponly(true)
//!     .samesite(SameSite::Lax)
//!     .to_header_value()
//!     .unwrap();
//! assert_eq!(header, "csrftoken=tok; HttpOnly; Path=/; SameSite=Lax");
//! ```
//!
//! Attribute order is not insertion order: Python sorts the morsel's keys, so
//! the output is always `Domain, expires, HttpOnly, Max-Age, Path, SameSite,
//! Secure`. Django 6.1.3 has no `Partitioned` support (CPython only gained it
//! in 3.14), so neither does this builder.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use super::dates::{from_unix_seconds, http_date, unix_seconds};
use super::py_repr;

/// The expiry text Django's `delete_cookie` sends.
pub const EPOCH_EXPIRES: &str = "Thu, 01 Jan 1970 00:00:00 GMT";

/// Parse a `Cookie:` request header into `(name, value)` pairs, in header
/// order and keeping duplicates.
///
/// Same rules as `django.http.cookie.parse_cookie`: split on `;`, a chunk
/// without `=` is a value with an empty name, names and values are stripped,
/// chunks with empty name *and* value are skipped, and values are unquoted
/// with Python's `http.cookies._unquote` (so `"\073"` becomes `;`).
pub fn parse_cookie(header: &str) -> Vec<(String, String)> {
    cookie_chunks(header)
        .map(|(key, val)| (key.to_string(), unquote(val)))
        .collect()
}

/// The value of the cookie `name` in a `Cookie:` header as [`parse_cookie`] and Django's dict
/// give it (the last occurrence wins), without building the other pairs: middleware look up
/// one cookie each, on every request.
pub fn find_cookie(header: &str, name: &str) -> Option<String> {
    cookie_chunks(header)
        .rev()
        .find(|(key, _)| *key == name)
        .map(|(_, val)| unquote(val))
}

/// The `(name, value)` chunks of a `Cookie:` header, stripped but not unquoted.
fn cookie_chunks(header: &str) -> impl DoubleEndedIterator<Item = (&str, &str)> {
    header.split(';').filter_map(|chunk| {
        let (key, val) = chunk.split_once('=').unwrap_or(("", chunk));
        let (key, val) = (super::py_strip(key), super::py_strip(val));
        (!key.is_empty() || !val.is_empty()).then_some((key, val))
    })
}

/// [`parse_cookie`] folded into a map the way Django's dict is built: the
/// *last* occurrence of a name wins.
pub fn cookie_map(header: &str) -> HashMap<String, String> {
    parse_cookie(header).into_iter().collect()
}

/// [`cookie_map`] for raw header bytes: like Django under WSGI, the bytes are
/// decoded as UTF-8 with invalid sequences replaced by U+FFFD.
pub fn cookie_map_bytes(header: &[u8]) -> HashMap<String, String> {
    cookie_map(&String::from_utf8_lossy(header))
}

/// Python's `http.cookies._unquote`: strip surrounding double quotes and
/// resolve `\ooo` octal escapes (to the code point, not a byte: `"\303\251"`
/// gives `"Ã©"`) and `\x` escapes. Unquoted input is returned as is.
pub fn unquote(value: &str) -> String {
    let inner = match value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
        // A lone `"` has length 1 and is returned unchanged by Python.
        Some(inner) if value.len() >= 2 => inner,
        _ => return value.to_string(),
    };
    let chars: Vec<char> = inner.chars().collect();
    let mut out = String::with_capacity(inner.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' {
            let octal = chars.get(i + 1..i + 4).filter(|d| {
                ('0'..='3').contains(&d[0])
                    && ('0'..='7').contains(&d[1])
                    && ('0'..='7').contains(&d[2])
            });
            if let Some(d) = octal {
                let code = d
                    .iter()
                    .fold(0u32, |acc, &x| acc * 8 + (u32::from(x) - u32::from('0')));
                out.extend(char::from_u32(code));
                i += 4;
                continue;
            }
            // `[\\].` in Python: `.` does not match a newline, so a backslash
            // before "\n" (or at the end) stays literally.
            if let Some(&next) = chars.get(i + 1).filter(|&&n| n != '\n') {
                out.push(next);
                i += 2;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    out
}

/// Characters Python allows in a cookie name or an unquoted value.
fn is_legal_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~:".contains(c)
}

/// Python's `http.cookies._quote`, used for the cookie value.
fn quote_value(value: &str) -> String {
    if !value.is_empty() && value.chars().all(is_legal_char) {
        return value.to_string();
    }
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if is_legal_char(c) || " ()/<=>?@[]{}".contains(c) => out.push(c),
            // Only the Latin-1 range is in Python's translation table; other
            // code points pass through unchanged.
            c if u32::from(c) < 0x100 => out.push_str(&format!("\\{:03o}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Errors raised while building a `Set-Cookie` value, with the messages of
/// the Python exceptions Django would raise.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CookieError {
    /// The name is one of the reserved attribute names (`expires`, `path`...).
    #[error("Attempt to set a reserved key {}", py_repr(.0))]
    ReservedKey(String),
    /// The name is empty or contains characters outside the legal set.
    #[error("Illegal key {}", py_repr(.0))]
    IllegalKey(String),
    /// Both an absolute expiry time and a max-age were given.
    #[error("'expires' and 'max_age' can't be used together.")]
    ExpiresAndMaxAge,
    /// A SameSite value other than lax, none or strict.
    #[error("samesite must be \"lax\", \"none\", or \"strict\".")]
    InvalidSameSite,
    /// An attribute (path, domain, expires text, samesite) containing `;` or
    /// a control character. Python would emit it verbatim and let it inject
    /// extra attributes or break the header; the port refuses instead.
    #[error("cookie {attribute} contains ';' or a control character: {}", py_repr(.value))]
    UnsafeAttribute {
        /// Which attribute was rejected.
        attribute: &'static str,
        /// The rejected text.
        value: String,
    },
}

/// The `SameSite` cookie attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SameSite {
    /// `SameSite=Lax`
    Lax,
    /// `SameSite=Strict`
    Strict,
    /// `SameSite=None` (browsers require `Secure` with it)
    None,
}

impl SameSite {
    /// The canonical spelling sent on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            SameSite::Lax => "Lax",
            SameSite::Strict => "Strict",
            SameSite::None => "None",
        }
    }
}

impl std::str::FromStr for SameSite {
    type Err = CookieError;

    /// Case-insensitive, like Django's check in `set_cookie`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "lax" => Ok(SameSite::Lax),
            "strict" => Ok(SameSite::Strict),
            "none" => Ok(SameSite::None),
            _ => Err(CookieError::InvalidSameSite),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Expires {
    /// A point in time: Django turns it into a max-age (and back into text).
    At(SystemTime),
    /// Preformatted text, emitted verbatim (Django's string `expires`).
    Text(String),
}

/// Builder for one `Set-Cookie` header value with `HttpResponse.set_cookie`
/// semantics. Defaults match Django's: empty value, `Path=/`, no expiry
/// (a session cookie), no Domain/Secure/HttpOnly/SameSite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetCookie {
    name: String,
    value: String,
    max_age: Option<i64>,
    expires: Option<Expires>,
    path: Option<String>,
    domain: Option<String>,
    secure: bool,
    httponly: bool,
    samesite: Option<String>,
}

impl SetCookie {
    /// A cookie `name=value` with Django's defaults.
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        SetCookie {
            name: name.into(),
            value: value.into(),
            max_age: None,
            expires: None,
            path: Some("/".to_string()),
            domain: None,
            secure: false,
            httponly: false,
            samesite: None,
        }
    }

    /// The cookie name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The (unquoted) cookie value.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// `Max-Age` in seconds; Django also derives `expires = now + max_age`.
    /// Negative values are sent as is, like Django.
    pub fn max_age(mut self, seconds: i64) -> Self {
        self.max_age = Some(seconds);
        self
    }

    /// Absolute expiry. As in Django (for a `datetime`), this is converted to
    /// `Max-Age = max(0, floor(expires - now + 1s))` and `expires` is then
    /// recomputed from it; combining it with [`SetCookie::max_age`] is an
    /// error ([`CookieError::ExpiresAndMaxAge`]).
    pub fn expires(mut self, at: SystemTime) -> Self {
        self.expires = Some(Expires::At(at));
        self
    }

    /// Expiry given as preformatted text, sent verbatim (Django's string
    /// `expires`). It may be combined with a max-age; an empty text means none.
    pub fn expires_text(mut self, text: impl Into<String>) -> Self {
        self.expires = Some(Expires::Text(text.into()));
        self
    }

    /// The `Path` attribute (default `/`).
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// Send no `Path` attribute (Django's `path=None`).
    pub fn no_path(mut self) -> Self {
        self.path = None;
        self
    }

    /// The `Domain` attribute.
    pub fn domain(mut self, domain: impl Into<String>) -> Self {
        self.domain = Some(domain.into());
        self
    }

    /// Whether to send the `Secure` flag.
    pub fn secure(mut self, secure: bool) -> Self {
        self.secure = secure;
        self
    }

    /// Whether to send the `HttpOnly` flag.
    pub fn httponly(mut self, httponly: bool) -> Self {
        self.httponly = httponly;
        self
    }

    /// The `SameSite` attribute, in canonical capitalisation.
    pub fn samesite(mut self, samesite: SameSite) -> Self {
        self.samesite = Some(samesite.as_str().to_string());
        self
    }

    /// The `SameSite` attribute spelled exactly as given (Django echoes the
    /// setting's spelling: `"strict"` gives `SameSite=strict`). An empty string
    /// means no attribute; anything but lax/none/strict (any case) is an error.
    pub fn samesite_str(mut self, samesite: &str) -> Result<Self, CookieError> {
        if samesite.is_empty() {
            self.samesite = None;
        } else {
            samesite.parse::<SameSite>()?;
            self.samesite = Some(samesite.to_string());
        }
        Ok(self)
    }

    /// The header value, computing `expires` from the current time.
    pub fn to_header_value(&self) -> Result<String, CookieError> {
        self.to_header_value_at(SystemTime::now())
    }

    /// The header value as Django would produce it at instant `now`.
    pub fn to_header_value_at(&self, now: SystemTime) -> Result<String, CookieError> {
        if self
            .name
            .to_ascii_lowercase()
            .as_str()
            .parse::<Reserved>()
            .is_ok()
        {
            return Err(CookieError::ReservedKey(self.name.clone()));
        }
        if self.name.is_empty() || !self.name.chars().all(is_legal_char) {
            return Err(CookieError::IllegalKey(self.name.clone()));
        }

        let mut max_age = self.max_age;
        let mut expires_text = None;
        match &self.expires {
            Some(Expires::At(at)) => {
                if max_age.is_some() {
                    return Err(CookieError::ExpiresAndMaxAge);
                }
                // timedelta(days, seconds) floors, and Django adds one second
                // to make up for time lost between the two clock readings.
                let delta = nanos(*at) - nanos(now) + 1_000_000_000;
                let secs = delta.div_euclid(1_000_000_000).max(0);
                max_age = Some(i64::try_from(secs).unwrap_or(i64::MAX));
            }
            Some(Expires::Text(text)) if !text.is_empty() => expires_text = Some(text.clone()),
            _ => {}
        }
        if let (Some(age), None) = (max_age, &expires_text) {
            // "IE requires expires": Django always pairs Max-Age with expires.
            let at = unix_seconds(now).saturating_add(age);
            expires_text = Some(http_date(from_unix_seconds(at).unwrap_or(UNIX_EPOCH)));
        }

        let domain = checked_attr("domain", self.domain.as_deref())?;
        let expires = checked_attr("expires", expires_text.as_deref())?;
        let path = checked_attr("path", self.path.as_deref())?;
        let samesite = checked_attr("samesite", self.samesite.as_deref())?;

        let mut out = format!("{}={}", self.name, quote_value(&self.value));
        // Sorted key order of Python's Morsel: domain, expires, httponly,
        // max-age, path, samesite, secure.
        if let Some(domain) = domain {
            out.push_str("; Domain=");
            out.push_str(domain);
        }
        if let Some(expires) = expires {
            out.push_str("; expires=");
            out.push_str(expires);
        }
        if self.httponly {
            out.push_str("; HttpOnly");
        }
        if let Some(age) = max_age {
            out.push_str(&format!("; Max-Age={age}"));
        }
        if let Some(path) = path {
            out.push_str("; Path=");
            out.push_str(path);
        }
        if let Some(samesite) = samesite {
            out.push_str("; SameSite=");
            out.push_str(samesite);
        }
        if self.secure {
            out.push_str("; Secure");
        }
        Ok(out)
    }
}

/// An attribute value to emit: `None` when absent or empty (Python skips
/// `""`), an error when it could inject attributes or break the header.
fn checked_attr<'a>(
    attribute: &'static str,
    value: Option<&'a str>,
) -> Result<Option<&'a str>, CookieError> {
    match value.filter(|v| !v.is_empty()) {
        Some(v) if v.contains(';') || v.chars().any(char::is_control) => {
            Err(CookieError::UnsafeAttribute {
                attribute,
                value: v.to_string(),
            })
        }
        other => Ok(other),
    }
}

/// Python's reserved morsel keys, which cannot be used as cookie names.
struct Reserved;

impl std::str::FromStr for Reserved {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        const RESERVED: [&str; 9] = [
            "expires", "path", "comment", "domain", "max-age", "secure", "httponly", "version",
            "samesite",
        ];
        if RESERVED.contains(&s) {
            Ok(Reserved)
        } else {
            Err(())
        }
    }
}

/// Nanoseconds since the epoch (negative before it), without overflow.
fn nanos(t: SystemTime) -> i128 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_nanos() as i128,
        Err(e) => -(e.duration().as_nanos() as i128),
    }
}

/// The cookie Django's `HttpResponse.delete_cookie` sets: empty value,
/// `expires` at the epoch, `Max-Age=0`, and `Secure` forced when the name has
/// a `__Secure-`/`__Host-` prefix or SameSite is None (browsers ignore the
/// deletion otherwise). An empty `path` sends no `Path` attribute.
pub fn delete_cookie(
    name: &str,
    path: &str,
    domain: Option<&str>,
    samesite: Option<SameSite>,
) -> SetCookie {
    let secure = name.starts_with("__Secure-")
        || name.starts_with("__Host-")
        || samesite == Some(SameSite::None);
    let mut cookie = SetCookie::new(name, "")
        .max_age(0)
        .expires_text(EPOCH_EXPIRES)
        .path(path)
        .secure(secure);
    if let Some(domain) = domain {
        cookie = cookie.domain(domain);
    }
    if let Some(samesite) = samesite {
        cookie = cookie.samesite(samesite);
    }
    cookie
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// 2023-11-14 22:13:20.25 UTC: a fractional "now", as `time.time()` has.
    /// Every expected string below was printed by Django 6.1.3 on CPython
    /// 3.12.1 with `time.time` (and `datetime.now`) mocked to this instant,
    /// via `response.cookies[name].OutputString()`.
    fn now() -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(1_700_000_000_250)
    }

    fn out(cookie: SetCookie) -> String {
        match cookie.to_header_value_at(now()) {
            Ok(s) => s,
            Err(e) => panic!("unexpected error: {e}"),
        }
    }

    #[test]
    fn set_cookie_matches_django_output() {
        let cases = [
            (SetCookie::new("c", "v"), "c=v; Path=/"),
            (SetCookie::new("c", ""), r#"c=""; Path=/"#),
            (
                SetCookie::new("sessionid", "abc123")
                    .max_age(1_209_600)
                    .path("/")
                    .domain(".example.com")
                    .secure(true)
                    .httponly(true)
                    .samesite(SameSite::Lax),
                "sessionid=abc123; Domain=.example.com; expires=Tue, 28 Nov 2023 22:13:20 GMT; \
                 HttpOnly; Max-Age=1209600; Path=/; SameSite=Lax; Secure",
            ),
            (
                SetCookie::new("m", "v").max_age(-5),
                "m=v; expires=Tue, 14 Nov 2023 22:13:15 GMT; Max-Age=-5; Path=/",
            ),
            (SetCookie::new("c", "v").no_path(), "c=v"),
            (
                SetCookie::new("c", "v")
                    .samesite(SameSite::None)
                    .secure(true),
                "c=v; Path=/; SameSite=None; Secure",
            ),
            (SetCookie::new("c", "a b"), r#"c="a b"; Path=/"#),
            (SetCookie::new("c", "a\"b\\c"), r#"c="a\"b\\c"; Path=/"#),
            (SetCookie::new("c", "a;b,c"), r#"c="a\073b\054c"; Path=/"#),
            (SetCookie::new("test", "清風"), "test=\"清風\"; Path=/"),
            (
                SetCookie::new("c", "é\u{1}\u{7f}"),
                r#"c="\351\001\177"; Path=/"#,
            ),
            (
                SetCookie::new("c", "!#$%&'*+-.^_`|~:Az09"),
                "c=!#$%&'*+-.^_`|~:Az09; Path=/",
            ),
            (
                SetCookie::new("c", "v").expires_text("Wed, 21 Oct 2015 07:28:00 GMT"),
                "c=v; expires=Wed, 21 Oct 2015 07:28:00 GMT; Path=/",
            ),
        ];
        for (cookie, expected) in cases {
            assert_eq!(out(cookie), expected);
        }
    }

    // tests/responses/test_cookie.py::SetCookieTests::test_max_age_expiration
    #[test]
    fn max_age_sets_expires() {
        assert_eq!(
            out(SetCookie::new("max_age", "").max_age(10)),
            r#"max_age=""; expires=Tue, 14 Nov 2023 22:13:30 GMT; Max-Age=10; Path=/"#
        );
    }

    // ...::test_near_expiration, ::test_aware_expiration, ::test_far_expiration:
    // an absolute expiry becomes max-age (+1s) and expires is recomputed.
    #[test]
    fn expires_datetime_becomes_max_age() {
        let cases = [
            (
                Duration::from_secs(100),
                false,
                "c=v; expires=Tue, 14 Nov 2023 22:15:01 GMT; Max-Age=101; Path=/",
            ),
            (
                Duration::from_secs(100),
                true,
                "c=v; expires=Tue, 14 Nov 2023 22:13:20 GMT; Max-Age=0; Path=/",
            ),
            (
                Duration::from_millis(500),
                false,
                "c=v; expires=Tue, 14 Nov 2023 22:13:21 GMT; Max-Age=1; Path=/",
            ),
            (
                Duration::from_secs(1_000_000),
                false,
                "c=v; expires=Sun, 26 Nov 2023 12:00:01 GMT; Max-Age=1000001; Path=/",
            ),
        ];
        for (offset, past, expected) in cases {
            let at = if past { now() - offset } else { now() + offset };
            assert_eq!(out(SetCookie::new("c", "v").expires(at)), expected);
        }
    }

    // ...::test_max_age_with_expires
    #[test]
    fn expires_and_max_age_conflict() {
        let cookie = SetCookie::new("max_age", "").expires(now()).max_age(3600);
        let err = cookie.to_header_value_at(now());
        assert_eq!(err, Err(CookieError::ExpiresAndMaxAge));
        assert_eq!(
            CookieError::ExpiresAndMaxAge.to_string(),
            "'expires' and 'max_age' can't be used together."
        );
    }

    // ...::test_httponly_cookie, ::test_samesite, ::test_invalid_samesite
    #[test]
    fn samesite_spelling_and_validation() {
        assert!(out(SetCookie::new("example", "").httponly(true)).contains("; HttpOnly"));
        let lower = SetCookie::new("c", "v").samesite_str("strict");
        assert_eq!(
            lower.map(out),
            Ok("c=v; Path=/; SameSite=strict".to_string())
        );
        let err = SetCookie::new("example", "").samesite_str("invalid");
        assert_eq!(err, Err(CookieError::InvalidSameSite));
        assert_eq!(
            CookieError::InvalidSameSite.to_string(),
            r#"samesite must be "lax", "none", or "strict"."#
        );
    }

    // tests/responses/test_cookie.py::DeleteCookieTests (all four tests)
    #[test]
    fn delete_cookie_matches_django_output() {
        let cases = [
            (
                delete_cookie("c", "/", None, None),
                r#"c=""; expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/"#,
            ),
            (
                delete_cookie("__Secure-c", "/", None, None),
                r#"__Secure-c=""; expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/; Secure"#,
            ),
            (
                delete_cookie("__Host-c", "/", None, None),
                r#"__Host-c=""; expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/; Secure"#,
            ),
            (
                delete_cookie(
                    "sessionid",
                    "/p/",
                    Some(".example.com"),
                    Some(SameSite::Lax),
                ),
                r#"sessionid=""; Domain=.example.com; expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/p/; SameSite=Lax"#,
            ),
        ];
        for (cookie, expected) in cases {
            assert_eq!(out(cookie), expected);
        }
        // Django echoes samesite="none" verbatim; the enum sends "None".
        assert_eq!(
            out(delete_cookie("c", "/", None, Some(SameSite::None))),
            r#"c=""; expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/; SameSite=None; Secure"#
        );
    }

    #[test]
    fn illegal_and_reserved_names() {
        let err = |name: &str| {
            SetCookie::new(name, "v")
                .to_header_value_at(now())
                .err()
                .map(|e| e.to_string())
        };
        // Messages as printed by CPython's http.cookies.CookieError.
        assert_eq!(
            err("expires").as_deref(),
            Some("Attempt to set a reserved key 'expires'")
        );
        assert_eq!(
            err("Max-Age").as_deref(),
            Some("Attempt to set a reserved key 'Max-Age'")
        );
        assert_eq!(err("a b").as_deref(), Some("Illegal key 'a b'"));
        assert_eq!(err("a=b").as_deref(), Some("Illegal key 'a=b'"));
        assert_eq!(err("").as_deref(), Some("Illegal key ''"));
        assert_eq!(err("ünï"), Some("Illegal key 'ünï'".to_string()));
    }

    #[test]
    fn attribute_injection_is_refused() {
        let cookie = SetCookie::new("c", "v").path("/; Domain=evil.com");
        assert!(matches!(
            cookie.to_header_value_at(now()),
            Err(CookieError::UnsafeAttribute {
                attribute: "path",
                ..
            })
        ));
        let cookie = SetCookie::new("c", "v").domain("a\r\nSet-Cookie: x=y");
        assert!(cookie.to_header_value_at(now()).is_err());
    }

    #[test]
    fn extreme_times_do_not_panic() {
        let far = SetCookie::new("c", "v")
            .max_age(i64::MAX)
            .to_header_value_at(now());
        assert!(far.is_ok());
        let neg = SetCookie::new("c", "v")
            .max_age(i64::MIN)
            .to_header_value_at(now());
        assert!(neg.is_ok());
        let early = SetCookie::new("c", "v").expires(UNIX_EPOCH - Duration::from_secs(1 << 40));
        assert!(early.to_header_value_at(now()).is_ok());
    }

    // Values printed by `django.http.cookie.parse_cookie` on the same inputs.
    #[test]
    fn parse_cookie_matches_django() {
        let map = cookie_map("a=1; b=2; a=3");
        assert_eq!(
            (map["a"].as_str(), map["b"].as_str(), map.len()),
            ("3", "2", 2)
        );
        assert_eq!(cookie_map(r#"x="a\"b\073c\\""#)["x"], "a\"b;c\\");
        let map = cookie_map("noeq; =v; k=; ;");
        assert_eq!(
            (map[""].as_str(), map["k"].as_str(), map.len()),
            ("v", "", 2)
        );
        assert_eq!(cookie_map(r#"k="\303\251""#)["k"], "Ã©");
        let map = cookie_map(r#"sp = "q" ; z"#);
        assert_eq!((map["sp"].as_str(), map[""].as_str()), ("q", "z"));
        assert_eq!(
            parse_cookie("a=1; a=2"),
            vec![
                ("a".to_string(), "1".to_string()),
                ("a".to_string(), "2".to_string())
            ]
        );
    }

    // One cookie looked up without parsing the rest gives what the whole dict gives.
    #[test]
    fn find_cookie_agrees_with_the_dict() {
        for header in [
            "a=1; b=2; a=3",
            r#"x="a\"b\073c\\""#,
            "noeq; =v; k=; ;",
            r#"k="\303\251""#,
            r#"sp = "q" ; z"#,
            "",
        ] {
            let map = cookie_map(header);
            for (name, value) in &map {
                assert_eq!(
                    find_cookie(header, name).as_ref(),
                    Some(value),
                    "{header:?} {name:?}"
                );
            }
            assert_eq!(find_cookie(header, "missing"), None, "{header:?}");
        }
    }

    // tests/requests_tests/tests.py / httpwrappers: cookie edge cases.
    #[test]
    fn unquote_edge_cases() {
        assert_eq!(unquote("\""), "\"");
        assert_eq!(unquote("\"\""), "");
        assert_eq!(unquote("\"\\\""), "\\");
        assert_eq!(unquote("\"a\\\nb\""), "a\\\nb");
        assert_eq!(unquote("\"\\400\""), "400");
        assert_eq!(unquote("plain\\073"), "plain\\073");
        assert_eq!(cookie_map_bytes(b"k=\xff\xfe")["k"], "\u{fffd}\u{fffd}");
    }

    #[test]
    fn round_trip_through_quote() {
        for value in ["a b", "x;y", "q\"\\", "é", "", "plain"] {
            let header = out(SetCookie::new("k", value).no_path());
            let header = header.strip_prefix("k=").unwrap_or_default();
            assert_eq!(unquote(header), value);
        }
    }
}
