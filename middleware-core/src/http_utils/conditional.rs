//! Conditional requests (RFC 9110 §13.2.2) as Django's
//! `django.utils.cache.get_conditional_response` evaluates them, plus the
//! ETag helpers of `django.utils.http`.
//!
//! ```
//! use http::{HeaderMap, Method, StatusCode};
//! use middleware_core::http_utils::conditional::{
//!     conditional_decision, parse_etags, Conditional, EtagList,
//! };
//!
//! assert_eq!(parse_etags("*"), EtagList::Any);
//! assert_eq!(parse_etags(r#""a", W/"b", bogus"#),
//!            EtagList::Tags(vec![r#""a""#.into(), r#"W/"b""#.into()]));
//!
//! let mut request = HeaderMap::new();
//! request.insert("if-match", http::HeaderValue::from_static(r#""other""#));
//! let decision = conditional_decision(
//!     &Method::PUT, &request, StatusCode::OK, Some(r#""current""#), None,
//! );
//! assert_eq!(decision, Conditional::PreconditionFailed);
//! ```

use std::sync::OnceLock;
use std::time::SystemTime;

use http::header::{
    HeaderMap, HeaderName, CACHE_CONTROL, CONTENT_LOCATION, DATE, ETAG, EXPIRES, IF_MATCH,
    IF_MODIFIED_SINCE, IF_NONE_MATCH, IF_UNMODIFIED_SINCE, LAST_MODIFIED, SET_COOKIE, VARY,
};
use http::{Method, StatusCode};
use regex::Regex;

use super::dates::{parse_http_date_seconds, unix_seconds};
use super::{joined_header, split_header_value};

/// The ETags of an `If-Match` / `If-None-Match` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EtagList {
    /// `*`: any current representation matches.
    Any,
    /// The syntactically valid quoted ETags, in header order (possibly empty).
    Tags(Vec<String>),
}

impl EtagList {
    /// Whether the list has no usable entry; Django then ignores the header.
    pub fn is_empty(&self) -> bool {
        matches!(self, EtagList::Tags(tags) if tags.is_empty())
    }
}

fn etag_re() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r#"\A(?:W/)?"[^"]*"\z"#).ok())
        .as_ref()
}

fn is_quoted_etag(s: &str) -> bool {
    etag_re().is_some_and(|re| re.is_match(s))
}

/// Parse an `If-Match` / `If-None-Match` value: `*` alone is [`EtagList::Any`];
/// otherwise split on commas and keep only items of the form `(W/)?"..."`
/// (so ETags containing commas are not supported, as in Django).
pub fn parse_etags(value: &str) -> EtagList {
    if super::py_strip(value) == "*" {
        return EtagList::Any;
    }
    EtagList::Tags(
        split_header_value(value, ',')
            .filter(|tag| is_quoted_etag(tag))
            .map(str::to_string)
            .collect(),
    )
}

/// Return `etag` unchanged if it is already a quoted (strong or weak) ETag,
/// otherwise wrap it in double quotes, making it a strong ETag.
pub fn quote_etag(etag: &str) -> String {
    if is_quoted_etag(etag) {
        etag.to_string()
    } else {
        format!("\"{etag}\"")
    }
}

/// What to do with a response after evaluating the request's preconditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conditional {
    /// Send the original response.
    Proceed,
    /// Send `304 Not Modified` (see [`not_modified_headers`]).
    NotModified,
    /// Send `412 Precondition Failed`.
    PreconditionFailed,
}

/// Django's `str.strip("W/")`: removes any run of `W` and `/` characters from
/// both ends, which for a valid ETag is just the weak prefix.
fn strip_weak(tag: &str) -> &str {
    tag.trim_matches(|c| c == 'W' || c == '/')
}

/// A parseable HTTP date header as epoch seconds. Django tests these values
/// for truthiness, so the epoch itself (0) counts as "absent".
fn date_header(headers: &HeaderMap, name: &HeaderName) -> Option<i64> {
    let value = joined_header(headers, name)?;
    parse_http_date_seconds(&value, SystemTime::now()).filter(|&secs| secs != 0)
}

/// Whether the request sends any of the headers [`conditional_decision`] reads (`If-Match`,
/// `If-None-Match`, `If-Modified-Since`, `If-Unmodified-Since`): without them the decision is
/// always [`Conditional::Proceed`]. One pass over the request's few header names, cheaper
/// than four lookups.
pub fn has_conditional_headers(request_headers: &HeaderMap) -> bool {
    request_headers.keys().any(|name| {
        let name = name.as_str();
        // The prefix first: it turns away nearly every name at its first byte.
        name.starts_with("if-")
            && matches!(
                name,
                "if-match" | "if-none-match" | "if-modified-since" | "if-unmodified-since"
            )
    })
}

/// Evaluate `If-Match`, `If-Unmodified-Since`, `If-None-Match` and
/// `If-Modified-Since` in RFC 9110 §13.2.2 order, exactly as Django's
/// `get_conditional_response`:
///
/// 1. `If-Match` present (with at least one valid ETag) and failing → 412.
///    Strong comparison: no ETag or a weak ETag never matches; `*` matches
///    any existing ETag.
/// 2. No usable `If-Match`, `If-Unmodified-Since` parseable, and no
///    Last-Modified or Last-Modified newer → 412.
/// 3. `If-None-Match` matching (weak comparison; `*` matches any ETag) →
///    304 for GET/HEAD, 412 otherwise.
/// 4. No usable `If-None-Match`, `If-Modified-Since` parseable, Last-Modified
///    present and not newer, GET/HEAD → 304.
///
/// Only 2xx responses are eligible. `etag` is the response's ETag header value
/// (an empty string counts as none). Like Django, a date at exactly the Unix
/// epoch is treated as absent, and sub-second precision is ignored.
pub fn conditional_decision(
    method: &Method,
    request_headers: &HeaderMap,
    status: StatusCode,
    etag: Option<&str>,
    last_modified: Option<SystemTime>,
) -> Conditional {
    // Every step below needs one of the four headers: most requests send none, and parsing
    // four absent headers was most of this function's cost on every GET.
    if !status.is_success() || !has_conditional_headers(request_headers) {
        return Conditional::Proceed;
    }
    let etag = etag.filter(|e| !e.is_empty());
    let last_modified = last_modified.map(unix_seconds).filter(|&secs| secs != 0);
    let header_etags = |name: &HeaderName| {
        joined_header(request_headers, name).map_or(EtagList::Tags(Vec::new()), |v| parse_etags(&v))
    };
    let if_match = header_etags(&IF_MATCH);
    let if_none_match = header_etags(&IF_NONE_MATCH);
    let if_unmodified_since = date_header(request_headers, &IF_UNMODIFIED_SINCE);
    let if_modified_since = date_header(request_headers, &IF_MODIFIED_SINCE);
    let safe = *method == Method::GET || *method == Method::HEAD;

    // Step 1: If-Match (strong comparison).
    if !if_match.is_empty() {
        let passes = match (etag, &if_match) {
            (None, _) => false,
            (Some(_), EtagList::Any) => true,
            (Some(tag), _) if tag.starts_with("W/") => false,
            (Some(tag), EtagList::Tags(tags)) => tags.iter().any(|t| t == tag),
        };
        if !passes {
            return Conditional::PreconditionFailed;
        }
    }

    // Step 2: If-Unmodified-Since, only when If-Match is absent.
    if if_match.is_empty() {
        if let Some(since) = if_unmodified_since {
            if last_modified.is_none_or(|lm| lm > since) {
                return Conditional::PreconditionFailed;
            }
        }
    }

    // Step 3: If-None-Match (weak comparison).
    if !if_none_match.is_empty() {
        let matched = match (etag, &if_none_match) {
            (None, _) => false,
            (Some(_), EtagList::Any) => true,
            (Some(tag), EtagList::Tags(tags)) => {
                let tag = strip_weak(tag);
                tags.iter().any(|t| strip_weak(t) == tag)
            }
        };
        if matched {
            return if safe {
                Conditional::NotModified
            } else {
                Conditional::PreconditionFailed
            };
        }
    }

    // Step 4: If-Modified-Since, only when If-None-Match is absent.
    if if_none_match.is_empty() && safe {
        if let (Some(since), Some(lm)) = (if_modified_since, last_modified) {
            if lm <= since {
                return Conditional::NotModified;
            }
        }
    }

    Conditional::Proceed
}

/// Headers a 304 response keeps from the original response (RFC 9110
/// §15.4.5 plus Last-Modified), and the cookies, which Django preserves too.
pub const NOT_MODIFIED_KEPT: [HeaderName; 8] = [
    CACHE_CONTROL,
    CONTENT_LOCATION,
    DATE,
    ETAG,
    EXPIRES,
    LAST_MODIFIED,
    VARY,
    SET_COOKIE,
];

/// The headers of the 304 built from `response_headers`: only
/// Cache-Control, Content-Location, Date, ETag, Expires, Last-Modified, Vary
/// and Set-Cookie survive (every value of each).
pub fn not_modified_headers(response_headers: &HeaderMap) -> HeaderMap {
    let mut out = HeaderMap::new();
    for name in NOT_MODIFIED_KEPT {
        for value in response_headers.get_all(&name) {
            out.append(name.clone(), value.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::dates::parse_http_date;
    use super::*;
    use http::HeaderValue;
    use Conditional::{NotModified as N304, PreconditionFailed as P412, Proceed as FULL};

    // Constants of tests/conditional_processing/tests.py.
    const LAST_MODIFIED_STR: &str = "Sun, 21 Oct 2007 23:21:47 GMT";
    const LAST_MODIFIED_NEWER_STR: &str = "Mon, 18 Oct 2010 16:56:23 GMT";
    const LAST_MODIFIED_INVALID_STR: &str = "Mon, 32 Oct 2010 16:56:23 GMT";
    const EXPIRED_LAST_MODIFIED_STR: &str = "Sat, 20 Oct 2007 23:21:47 GMT";
    const ETAG: &str = "\"b4246ffc4f62314ca13147c9d4f76974\"";
    const WEAK_ETAG: &str = "W/\"b4246ffc4f62314ca13147c9d4f76974\"";

    // The shortcut conditional_decision takes: each of the four headers counts, in any case
    // the client sends it; other headers (If-Range, which Django does not read here) do not.
    #[test]
    fn conditional_headers_are_the_four_django_reads() {
        for name in [
            "If-Match",
            "if-none-match",
            "If-Modified-Since",
            "IF-UNMODIFIED-SINCE",
        ] {
            let mut headers = HeaderMap::new();
            headers.insert(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_static("x"),
            );
            headers.insert(http::header::HOST, HeaderValue::from_static("testserver"));
            assert!(has_conditional_headers(&headers), "{name}");
        }
        let mut headers = HeaderMap::new();
        headers.insert(http::header::HOST, HeaderValue::from_static("testserver"));
        headers.insert(http::header::ACCEPT, HeaderValue::from_static("*/*"));
        headers.insert(http::header::IF_RANGE, HeaderValue::from_static("x"));
        assert!(!has_conditional_headers(&headers));
        assert!(!has_conditional_headers(&HeaderMap::new()));
    }
    const EXPIRED_ETAG: &str = "\"7fae4cd4b0f81e7d2914700043aa8ed6\"";

    fn lm() -> Option<SystemTime> {
        parse_http_date(LAST_MODIFIED_STR)
    }

    fn decide(
        method: Method,
        headers: &[(HeaderName, &str)],
        etag: Option<&str>,
        lm: Option<SystemTime>,
    ) -> Conditional {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.append(
                name.clone(),
                HeaderValue::from_str(value).unwrap_or(HeaderValue::from_static("")),
            );
        }
        conditional_decision(&method, &map, StatusCode::OK, etag, lm)
    }

    /// The `/condition/` view: ETag and Last-Modified.
    fn full(method: Method, headers: &[(HeaderName, &str)]) -> Conditional {
        decide(method, headers, Some(ETAG), lm())
    }

    // tests/utils_tests/test_http.py::ETagProcessingTests
    #[test]
    fn etag_parsing_and_quoting() {
        let tags = |v: &[&str]| EtagList::Tags(v.iter().map(|s| s.to_string()).collect());
        assert_eq!(
            parse_etags(r#""" ,  "etag", "e\\tag", W/"weak""#),
            tags(&[r#""""#, r#""etag""#, r#""e\\tag""#, r#"W/"weak""#])
        );
        assert_eq!(parse_etags("*"), EtagList::Any);
        assert_eq!(parse_etags(" * "), EtagList::Any);
        assert_eq!(parse_etags(r#""etag", "e\"t\"ag""#), tags(&[r#""etag""#]));
        assert_eq!(parse_etags("*, \"a\""), tags(&["\"a\""]));
        assert!(parse_etags("garbage").is_empty());
        assert_eq!(quote_etag("etag"), "\"etag\"");
        assert_eq!(quote_etag("\"etag\""), "\"etag\"");
        assert_eq!(quote_etag("W/\"etag\""), "W/\"etag\"");
    }

    // conditional_processing/tests.py::ConditionalGet::test_if_modified_since
    #[test]
    fn if_modified_since() {
        let h = |v| [(IF_MODIFIED_SINCE, v)];
        assert_eq!(full(Method::GET, &[]), FULL);
        assert_eq!(full(Method::GET, &h(LAST_MODIFIED_STR)), N304);
        assert_eq!(full(Method::PUT, &h(LAST_MODIFIED_STR)), FULL);
        assert_eq!(full(Method::GET, &h(LAST_MODIFIED_NEWER_STR)), N304);
        assert_eq!(full(Method::PUT, &h(LAST_MODIFIED_NEWER_STR)), FULL);
        assert_eq!(full(Method::GET, &h(LAST_MODIFIED_INVALID_STR)), FULL);
        assert_eq!(full(Method::GET, &h(EXPIRED_LAST_MODIFIED_STR)), FULL);
        assert_eq!(full(Method::HEAD, &h(LAST_MODIFIED_STR)), N304);
    }

    // ...::test_if_unmodified_since
    #[test]
    fn if_unmodified_since() {
        let h = |v| [(IF_UNMODIFIED_SINCE, v)];
        assert_eq!(full(Method::GET, &h(LAST_MODIFIED_STR)), FULL);
        assert_eq!(full(Method::GET, &h(LAST_MODIFIED_NEWER_STR)), FULL);
        assert_eq!(full(Method::GET, &h(LAST_MODIFIED_INVALID_STR)), FULL);
        assert_eq!(full(Method::GET, &h(EXPIRED_LAST_MODIFIED_STR)), P412);
        // No Last-Modified at all also fails the precondition.
        assert_eq!(
            decide(Method::GET, &h(LAST_MODIFIED_STR), Some(ETAG), None),
            P412
        );
    }

    // ...::test_if_none_match, ::test_weak_if_none_match, ::test_all_if_none_match
    #[test]
    fn if_none_match() {
        let h = |v| [(IF_NONE_MATCH, v)];
        assert_eq!(full(Method::GET, &h(ETAG)), N304);
        assert_eq!(full(Method::PUT, &h(ETAG)), P412);
        assert_eq!(full(Method::GET, &h(EXPIRED_ETAG)), FULL);
        let both = format!("{ETAG}, {EXPIRED_ETAG}");
        assert_eq!(full(Method::GET, &h(&both)), N304);
        // weak_etag view
        let weak = |m, v| decide(m, &h(v), Some(WEAK_ETAG), lm());
        assert_eq!(weak(Method::GET, ETAG), N304);
        assert_eq!(weak(Method::PUT, ETAG), P412);
        assert_eq!(weak(Method::GET, WEAK_ETAG), N304);
        assert_eq!(weak(Method::PUT, WEAK_ETAG), P412);
        assert_eq!(full(Method::GET, &h(WEAK_ETAG)), N304);
        assert_eq!(full(Method::PUT, &h(WEAK_ETAG)), P412);
        assert_eq!(full(Method::GET, &h("*")), N304);
        assert_eq!(full(Method::PUT, &h("*")), P412);
        // no_etag view
        assert_eq!(decide(Method::GET, &h("*"), None, lm()), FULL);
    }

    // ...::test_if_match, ::test_weak_if_match, ::test_all_if_match
    #[test]
    fn if_match() {
        let h = |v| [(IF_MATCH, v)];
        assert_eq!(full(Method::PUT, &h(ETAG)), FULL);
        assert_eq!(full(Method::PUT, &h(EXPIRED_ETAG)), P412);
        assert_eq!(decide(Method::GET, &h(ETAG), Some(WEAK_ETAG), lm()), P412);
        assert_eq!(
            decide(Method::GET, &h(WEAK_ETAG), Some(WEAK_ETAG), lm()),
            P412
        );
        assert_eq!(full(Method::GET, &h(WEAK_ETAG)), P412);
        assert_eq!(full(Method::GET, &h("*")), FULL);
        assert_eq!(decide(Method::GET, &h("*"), None, lm()), P412);
    }

    // ...::test_both_headers, ::test_both_headers_2
    #[test]
    fn both_headers() {
        let inm = |ims, etag| [(IF_MODIFIED_SINCE, ims), (IF_NONE_MATCH, etag)];
        assert_eq!(full(Method::GET, &inm(LAST_MODIFIED_STR, ETAG)), N304);
        assert_eq!(
            full(Method::GET, &inm(EXPIRED_LAST_MODIFIED_STR, ETAG)),
            N304
        );
        assert_eq!(
            full(Method::GET, &inm(LAST_MODIFIED_STR, EXPIRED_ETAG)),
            FULL
        );
        assert_eq!(
            full(Method::GET, &inm(EXPIRED_LAST_MODIFIED_STR, EXPIRED_ETAG)),
            FULL
        );
        let im = |ius, etag| [(IF_UNMODIFIED_SINCE, ius), (IF_MATCH, etag)];
        assert_eq!(full(Method::GET, &im(LAST_MODIFIED_STR, ETAG)), FULL);
        assert_eq!(
            full(Method::GET, &im(EXPIRED_LAST_MODIFIED_STR, ETAG)),
            FULL
        );
        assert_eq!(
            full(Method::GET, &im(EXPIRED_LAST_MODIFIED_STR, EXPIRED_ETAG)),
            P412
        );
        assert_eq!(
            full(Method::GET, &im(LAST_MODIFIED_STR, EXPIRED_ETAG)),
            P412
        );
    }

    // ...::test_invalid_etag and ::test_single_condition_* (views with only an
    // ETag or only a Last-Modified).
    #[test]
    fn single_conditions_and_invalid_etags() {
        let only_lm = |h: &[(HeaderName, &str)]| decide(Method::GET, h, None, lm());
        let only_etag = |h: &[(HeaderName, &str)]| decide(Method::GET, h, Some(ETAG), None);
        assert_eq!(only_lm(&[(IF_MODIFIED_SINCE, LAST_MODIFIED_STR)]), N304);
        assert_eq!(only_etag(&[(IF_MODIFIED_SINCE, LAST_MODIFIED_STR)]), FULL);
        assert_eq!(only_etag(&[(IF_NONE_MATCH, ETAG)]), N304);
        assert_eq!(only_lm(&[(IF_NONE_MATCH, ETAG)]), FULL);
        assert_eq!(
            only_lm(&[
                (IF_MODIFIED_SINCE, LAST_MODIFIED_STR),
                (IF_NONE_MATCH, ETAG)
            ]),
            FULL
        );
        assert_eq!(only_etag(&[(IF_UNMODIFIED_SINCE, LAST_MODIFIED_STR)]), P412);
        assert_eq!(only_lm(&[(IF_MATCH, ETAG)]), P412);
        assert_eq!(full(Method::GET, &[(IF_NONE_MATCH, "\"\"\"")]), FULL);
        // An If-Match of only invalid ETags is ignored, so IUS is consulted.
        assert_eq!(
            full(
                Method::GET,
                &[
                    (IF_MATCH, "bogus"),
                    (IF_UNMODIFIED_SINCE, EXPIRED_LAST_MODIFIED_STR)
                ]
            ),
            P412
        );
    }

    // tests/middleware/tests.py::ConditionalGetMiddlewareTest: non-2xx responses
    // are never turned into 304/412; repeated header lines are joined.
    #[test]
    fn only_success_statuses_and_multiple_lines() {
        let mut map = HeaderMap::new();
        map.insert(IF_NONE_MATCH, HeaderValue::from_static(ETAG));
        for status in [
            StatusCode::FOUND,
            StatusCode::NOT_FOUND,
            StatusCode::INTERNAL_SERVER_ERROR,
        ] {
            assert_eq!(
                conditional_decision(&Method::GET, &map, status, Some(ETAG), lm()),
                FULL
            );
        }
        assert_eq!(
            conditional_decision(&Method::GET, &map, StatusCode::CREATED, Some(ETAG), lm()),
            N304
        );
        let mut map = HeaderMap::new();
        map.append(IF_NONE_MATCH, HeaderValue::from_static("\"x\""));
        map.append(IF_NONE_MATCH, HeaderValue::from_static(ETAG));
        assert_eq!(
            conditional_decision(&Method::GET, &map, StatusCode::OK, Some(ETAG), None),
            N304
        );
        // Latin-1 bytes inside a quoted ETag are legal and must not panic.
        let mut map = HeaderMap::new();
        map.insert(
            IF_NONE_MATCH,
            HeaderValue::from_bytes(b"\"\xe9\"").unwrap_or(HeaderValue::from_static("")),
        );
        assert_eq!(
            conditional_decision(&Method::GET, &map, StatusCode::OK, Some("\"\u{e9}\""), None),
            N304
        );
    }

    // Django treats an epoch (0) timestamp as falsy, i.e. absent.
    #[test]
    fn epoch_dates_count_as_absent() {
        let epoch = "Thu, 01 Jan 1970 00:00:00 GMT";
        assert_eq!(
            decide(Method::GET, &[(IF_UNMODIFIED_SINCE, epoch)], None, lm()),
            FULL
        );
        let at_epoch = Some(std::time::UNIX_EPOCH);
        assert_eq!(
            decide(
                Method::GET,
                &[(IF_MODIFIED_SINCE, LAST_MODIFIED_STR)],
                None,
                at_epoch
            ),
            FULL
        );
    }

    // ...::test_not_modified_headers
    #[test]
    fn not_modified_keeps_only_listed_headers() {
        let mut response = HeaderMap::new();
        for (name, value) in [
            ("date", "Sat, 12 Feb 2011 17:35:44 GMT"),
            ("last-modified", "Sat, 12 Feb 2011 17:35:44 GMT"),
            ("expires", "Sun, 13 Feb 2011 17:35:44 GMT"),
            ("vary", "Cookie"),
            ("cache-control", "public"),
            ("content-location", "/alt"),
            ("content-language", "en"),
            ("content-type", "text/html"),
            ("etag", "\"spam\""),
            ("set-cookie", "key=value; Path=/"),
            ("set-cookie", "other=1; Path=/"),
        ] {
            response.append(
                HeaderName::from_static(name),
                HeaderValue::from_static(value),
            );
        }
        let kept = not_modified_headers(&response);
        assert_eq!(kept.len(), 9);
        assert!(!kept.contains_key("content-language"));
        assert!(!kept.contains_key("content-type"));
        assert_eq!(kept.get_all(SET_COOKIE).iter().count(), 2);
        assert_eq!(kept[http::header::ETAG], "\"spam\"");
    }
}
