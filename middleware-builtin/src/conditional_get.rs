//! `ConditionalGetMiddleware` (Django's `django.middleware.http.ConditionalGetMiddleware`) and
//! the view helpers behind Django's `condition`, `etag` and `last_modified` decorators.
//!
//! The middleware gives GET responses an `ETag` (the MD5 of the body) and answers
//! `If-None-Match` / `If-Modified-Since` with 304 Not Modified, following RFC 9110 §13.2.2 as
//! Django does. A view that can compute its validators cheaply calls [`condition_response`]
//! first, which also answers unsafe methods with 412 Precondition Failed:
//!
//! ```
//! use middleware_builtin::conditional_get::{condition_headers, condition_response};
//! use middleware_core::{Error, Request, Response};
//!
//! async fn article(req: &mut Request) -> Result<Response, Error> {
//!     let etag = Some("\"v42\"".to_owned());
//!     if let Some(early) = condition_response(req, etag.clone(), None) {
//!         return Ok(early); // 304 or 412: the view's work is skipped
//!     }
//!     let mut response = Response::new("the article".into());
//!     condition_headers(req, &mut response, etag.as_deref(), None);
//!     Ok(response)
//! }
//! # let mut req = http::Request::get("/").header("if-none-match", "\"v42\"").body(Default::default()).unwrap();
//! # let r = tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(article(&mut req)).unwrap();
//! # assert_eq!(r.status(), 304);
//! ```

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, StatusCode};
use md5::{Digest, Md5};
use middleware_core::checks::CheckMessage;
use middleware_core::http_utils::cache::split_directive_names;
use middleware_core::http_utils::conditional::{
    conditional_decision, has_conditional_headers, quote_etag, Conditional,
};
use middleware_core::http_utils::dates::{http_date, parse_http_date};
use middleware_core::response::{html, ResponseExt};
use middleware_core::{Body, Error, Hook, Hooks, Registry, Request, Response};

/// Check ID: `ConditionalGetMiddleware` is listed above `GZipMiddleware`.
pub const W_CONDITIONAL_ABOVE_GZIP: &str = "middleware.W101";

/// Django's `ConditionalGetMiddleware`.
#[derive(Clone, Copy, Debug, Default)]
pub struct ConditionalGetMiddleware;

impl Hooks for ConditionalGetMiddleware {
    fn process_response<'a>(
        &'a self,
        request: &'a mut Request,
        response: &'a mut Response,
    ) -> Hook<'a, Result<(), Error>> {
        if let Some(answer) = conditional_answer(request, response) {
            *response = answer;
        }
        Hook::Ready(Ok(()))
    }
}

/// Django's `ConditionalGetMiddleware.process_response`: sets the ETag, and answers the 304
/// or 412 the request's conditions call for, if any.
fn conditional_answer(request: &Request, response: &mut Response) -> Option<Response> {
    // Too late for a 412 on unsafe methods; a HEAD body is empty, so its MD5 would be wrong.
    if request.method() != Method::GET {
        return None;
    }
    if needs_etag(response.headers()) && !response.headers().contains_key(header::ETAG) {
        set_response_etag(response);
    }
    if !has_conditional_headers(request.headers()) {
        return None;
    }
    let etag = response
        .headers()
        .get(header::ETAG)
        .and_then(|v| v.to_str().ok())
        .filter(|s| !s.is_empty());
    let last_modified = response
        .headers()
        .get(header::LAST_MODIFIED)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_http_date)
        .map(seconds);
    if etag.is_none() && last_modified.is_none() {
        return None;
    }
    match decide(request, etag, last_modified, Some(response)) {
        Conditional::Proceed => None,
        Conditional::NotModified => Some(not_modified(Some(response))),
        Conditional::PreconditionFailed => Some(precondition_failed()),
    }
}

/// Whether Cache-Control lets us add an ETag (Django's `needs_etag`: no `no-store`, in any of
/// its forms).
fn needs_etag(headers: &HeaderMap) -> bool {
    let cc = headers
        .get_all(header::CACHE_CONTROL)
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .collect::<Vec<_>>()
        .join(",");
    let no_store = split_directive_names(&cc).any(|d| d == "no-store");
    !no_store
}

/// Django's `set_response_etag`: `"<md5 hex>"` of a non-empty, non-streaming body.
fn set_response_etag(response: &mut Response) {
    let Some(content) = response.content() else {
        return;
    };
    if content.is_empty() {
        return;
    }
    // `"` + 32 hex digits + `"`, built in place: this runs on every GET response.
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Md5::digest(content);
    let mut quoted = [b'"'; 34];
    for (i, b) in digest.iter().enumerate() {
        quoted[1 + 2 * i] = HEX[usize::from(b >> 4)];
        quoted[2 + 2 * i] = HEX[usize::from(b & 0x0f)];
    }
    if let Ok(v) = HeaderValue::from_bytes(&quoted) {
        response.headers_mut().insert(header::ETAG, v);
    }
}

/// Registers `ConditionalGetMiddleware` (also as `django.middleware.http.ConditionalGetMiddleware`)
/// and the check that it sits below `GZipMiddleware`.
pub fn register(registry: &mut Registry) {
    registry
        .register_ready_hooks("ConditionalGetMiddleware", |_ctx| {
            Ok(ConditionalGetMiddleware)
        })
        .alias("django.middleware.http.ConditionalGetMiddleware");
    registry.add_check(false, |ctx| {
        let find = |names: &[&str]| names.iter().find_map(|n| ctx.middleware_index(n));
        let cond = find(&[
            "ConditionalGetMiddleware",
            "django.middleware.http.ConditionalGetMiddleware",
        ]);
        let gzip = find(&["GZipMiddleware", "django.middleware.gzip.GZipMiddleware"]);
        match (cond, gzip) {
            (Some(c), Some(g)) if c < g => vec![CheckMessage::warning(
                W_CONDITIONAL_ABOVE_GZIP,
                "ConditionalGetMiddleware is listed above GZipMiddleware in MIDDLEWARE.",
                Some(
                    "List GZipMiddleware first (outermost): ConditionalGetMiddleware must see \
                     the uncompressed body so that its ETag and 304 answers are computed before \
                     compression weakens the ETag.",
                ),
            )],
            _ => vec![],
        }
    });
}

// ---------------------------------------------------------------------------------------------
// View helpers: Django's `condition` / `etag` / `last_modified` decorators.
// ---------------------------------------------------------------------------------------------

/// Django's `condition(etag_func, last_modified_func)` before the view runs.
///
/// Returns the early answer (304 for GET/HEAD, 412 for failed preconditions, whatever the
/// method), already carrying the `ETag` and `Last-Modified` headers for safe methods; `None`
/// means: run the view, then call [`condition_headers`] on its response. An unquoted `etag` is
/// quoted (a strong ETag), as Django's `quote_etag` does; `last_modified` is truncated to
/// whole seconds.
pub fn condition_response(
    request: &Request,
    etag: Option<String>,
    last_modified: Option<SystemTime>,
) -> Option<Response> {
    let etag = etag.map(|e| quote_etag(&e));
    let lm = last_modified.map(seconds);
    let mut response = match decide(request, etag.as_deref(), lm, None) {
        Conditional::Proceed => return None,
        Conditional::NotModified => not_modified(None),
        Conditional::PreconditionFailed => precondition_failed(),
    };
    condition_headers(request, &mut response, etag.as_deref(), last_modified);
    Some(response)
}

/// Django's `condition` after the view: for GET and HEAD, sets `Last-Modified` and `ETag`
/// (quoted if needed) unless the response already has them.
pub fn condition_headers(
    request: &Request,
    response: &mut Response,
    etag: Option<&str>,
    last_modified: Option<SystemTime>,
) {
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        return;
    }
    if let Some(lm) = last_modified.map(seconds) {
        if let Ok(v) = HeaderValue::from_str(&http_date(UNIX_EPOCH + Duration::from_secs(lm))) {
            response.set_default_header_value(header::LAST_MODIFIED, v);
        }
    }
    if let Some(e) = etag.filter(|e| !e.is_empty()) {
        if let Ok(v) = HeaderValue::from_str(&quote_etag(e)) {
            response.set_default_header_value(header::ETAG, v);
        }
    }
}

fn seconds(t: SystemTime) -> u64 {
    // Times before 1970 cannot come from an HTTP date; treat them as the epoch.
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// The headers a 304 keeps (RFC 9110 §15.4.5, plus Last-Modified), as Django's `_not_modified`.
const NOT_MODIFIED_KEEP: [HeaderName; 7] = [
    header::CACHE_CONTROL,
    header::CONTENT_LOCATION,
    header::DATE,
    header::ETAG,
    header::EXPIRES,
    header::LAST_MODIFIED,
    header::VARY,
];

/// Django's `HttpResponseNotModified` with the kept headers and every cookie of `original`.
fn not_modified(original: Option<&Response>) -> Response {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = StatusCode::NOT_MODIFIED;
    if let Some(original) = original {
        let headers = r.headers_mut();
        for name in NOT_MODIFIED_KEEP.iter().chain([&header::SET_COOKIE]) {
            for v in original.headers().get_all(name) {
                headers.append(name.clone(), v.clone());
            }
        }
    }
    r
}

/// Django's `_precondition_failed`: an empty `HttpResponse(status=412)`.
fn precondition_failed() -> Response {
    html(StatusCode::PRECONDITION_FAILED, Body::empty())
}

/// Django's `get_conditional_response` decision, from `http_utils` (only 2xx responses are
/// considered; a view's early check has no response yet, so it counts as 200).
fn decide(
    request: &Request,
    etag: Option<&str>,
    last_modified: Option<u64>,
    response: Option<&Response>,
) -> Conditional {
    let status = response.map_or(StatusCode::OK, |r| r.status());
    conditional_decision(
        request.method(),
        request.headers(),
        status,
        etag,
        last_modified.map(|s| UNIX_EPOCH + Duration::from_secs(s)),
    )
}

#[cfg(test)]
mod tests;
