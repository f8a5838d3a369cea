//! Requests hyper accepts that the server still refuses.

use hyper::body::Incoming;

use crate::{Request, Response};

/// Why a request hyper accepted is still malformed, by RFC 9112 and 9113 (nginx answers
/// each of these 400): which `Host` to trust is ambiguous, or the framing is.
pub(super) fn malformed(req: &http::Request<Incoming>) -> Option<&'static str> {
    let headers = req.headers();
    let mut hosts = headers.get_all(http::header::HOST).iter();
    let host = hosts.next();
    if hosts.next().is_some() {
        // RFC 9112 §3.2: more than one Host header field.
        return Some("more than one Host header");
    }
    match req.version() {
        // RFC 9112 §3.2: an HTTP/1.1 request without Host, even in absolute form.
        http::Version::HTTP_11 if host.is_none() => return Some("HTTP/1.1 without a Host header"),
        // RFC 9113 §8.3.1: neither :authority nor Host.
        http::Version::HTTP_2 if host.is_none() && req.uri().authority().is_none() => {
            return Some("HTTP/2 without :authority or Host")
        }
        _ => {}
    }
    // RFC 9112 §6.1: chunked may be applied only once. hyper checks that it comes last.
    let chunked = headers
        .get_all(http::header::TRANSFER_ENCODING)
        .iter()
        .flat_map(|v| v.as_bytes().split(|&b| b == b','))
        .filter(|coding| coding.trim_ascii().eq_ignore_ascii_case(b"chunked"))
        .count();
    (chunked > 1).then_some("Transfer-Encoding applies chunked more than once")
}

/// 400 for a request [`malformed`] refuses, with the reason in the log; the connection is
/// closed, since its framing or its target cannot be trusted.
pub(super) fn bad_request(request: &Request, reason: &'static str) -> Response {
    tracing::warn!(target: "django.server", method = %request.method(), path = request.uri().path(), reason, "malformed request: 400");
    let mut r = crate::response::text(http::StatusCode::BAD_REQUEST, "400 Bad Request\n");
    r.headers_mut().insert(
        http::header::CONNECTION,
        http::HeaderValue::from_static("close"),
    );
    r
}

/// Whether the request's `Content-Length` is above `max`. For HTTP/1.1 hyper's size hint is
/// that length, parsed and checked; hyper's HTTP/2 takes a length it cannot hold (2^64 - 2 and
/// up) for no length at all, so the header is read again there.
pub(super) fn declared_too_large(req: &http::Request<Incoming>, max: u64) -> bool {
    if http_body::Body::size_hint(req.body()).lower() > max {
        return true;
    }
    req.version() == http::Version::HTTP_2
        && req
            .headers()
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .is_some_and(|n| n > max)
}

/// Whether a connection ended because hyper refused a request head (it answers those
/// itself: 400, or 431 for a head too large, 414 for a target too long).
pub(super) fn refused_by_parser(error: &(dyn std::error::Error + 'static)) -> bool {
    error
        .downcast_ref::<hyper::Error>()
        .is_some_and(hyper::Error::is_parse)
}

/// 413 for a `Content-Length` above the limit, before any of the body is read.
pub(super) fn payload_too_large(request: &Request, limit: u64) -> Response {
    tracing::warn!(target: "django.server", method = %request.method(), path = request.uri().path(), limit, "request body too large: 413");
    let mut r = crate::response::text(
        http::StatusCode::PAYLOAD_TOO_LARGE,
        "413 Payload Too Large\n",
    );
    r.headers_mut().insert(
        http::header::CONNECTION,
        http::HeaderValue::from_static("close"),
    );
    r
}
