//! Building responses, and the header helpers Django's middleware lean on.
//!
//! ```
//! use middleware_core::response::{self, ResponseExt};
//! use http::StatusCode;
//!
//! let mut r = response::text(StatusCode::OK, "Hello, world!");
//! r.patch_vary_headers(&["Cookie"]);
//! r.set_default_header("x-frame-options", "DENY");
//! r.set_default_header("x-frame-options", "SAMEORIGIN"); // already set: kept
//! assert_eq!(r.headers()["vary"], "Cookie");
//! assert_eq!(r.headers()["x-frame-options"], "DENY");
//! ```

use bytes::Bytes;
use futures_util::Stream;
use http::header::{self, HeaderName, HeaderValue};
use http::StatusCode;

use crate::body::{Body, BoxError};
use crate::http_utils::cookies::{SameSite, SetCookie};
use crate::Response;

const TEXT_PLAIN: HeaderValue = HeaderValue::from_static("text/plain; charset=utf-8");
const TEXT_HTML: HeaderValue = HeaderValue::from_static("text/html; charset=utf-8");
const APPLICATION_JSON: HeaderValue = HeaderValue::from_static("application/json");

/// The headers a response from [`text`], [`html`] and the like has room for before its map
/// grows.
const RESPONSE_HEADERS: usize = 12;

fn with_type(status: StatusCode, body: Body, content_type: HeaderValue) -> Response {
    let mut r = Response::new(body);
    *r.status_mut() = status;
    // Room for what Django's default stack adds (ten headers on a small page): an empty map
    // allocates at the first insert and again, rehashing, at the seventh.
    *r.headers_mut() = http::HeaderMap::with_capacity(RESPONSE_HEADERS);
    r.headers_mut().insert(header::CONTENT_TYPE, content_type);
    r
}

/// A `text/plain; charset=utf-8` response.
pub fn text(status: StatusCode, body: impl Into<Body>) -> Response {
    with_type(status, body.into(), TEXT_PLAIN)
}

/// A `text/html; charset=utf-8` response (Django's `HttpResponse` default).
pub fn html(status: StatusCode, body: impl Into<Body>) -> Response {
    with_type(status, body.into(), TEXT_HTML)
}

/// An `application/json` response (Django's `JsonResponse`), serialised as Python's
/// `json.dumps` does by default: `", "` and `": "` between items, non-ASCII characters (and
/// DEL) as `\uXXXX` escapes. Object keys come in the `serde_json::Map`'s order.
///
/// ```
/// let r = middleware_core::response::json(http::StatusCode::OK, &serde_json::json!({"data": [1, 2], "name": "łóżko"}));
/// assert_eq!(r.headers()["content-type"], "application/json");
/// # use middleware_core::ResponseExt;
/// assert_eq!(r.content().unwrap().as_ref(), br#"{"data": [1, 2], "name": "\u0142\u00f3\u017cko"}"#);
/// ```
pub fn json(status: StatusCode, value: &serde_json::Value) -> Response {
    with_type(status, python_json_dumps(value).into(), APPLICATION_JSON)
}

/// `json.dumps(value)` with Python's defaults (`ensure_ascii=True`, `separators=(", ", ": ")`).
fn python_json_dumps(value: &serde_json::Value) -> Vec<u8> {
    let mut out = Vec::new();
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, PythonFormatter);
    // Writing a `Value` into a Vec cannot fail: its keys are strings and its numbers finite.
    let _ = serde::Serialize::serialize(value, &mut serializer);
    out
}

/// The separators and escapes of Python's `json.dumps` defaults.
struct PythonFormatter;

/// Python's item separator `", "`, before every item but the first.
fn item_separator<W: ?Sized + std::io::Write>(writer: &mut W, first: bool) -> std::io::Result<()> {
    if first {
        Ok(())
    } else {
        writer.write_all(b", ")
    }
}

impl serde_json::ser::Formatter for PythonFormatter {
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        item_separator(writer, first)
    }

    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        item_separator(writer, first)
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
    ) -> std::io::Result<()> {
        writer.write_all(b": ")
    }

    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        // serde_json has already escaped quotes, backslashes and control characters; Python's
        // ensure_ascii also escapes everything outside printable ASCII, as UTF-16 units.
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if c.is_ascii() && c != '\x7f' {
                continue;
            }
            writer.write_all(&fragment.as_bytes()[start..i])?;
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                write!(writer, "\\u{unit:04x}")?;
            }
            start = i + c.len_utf8();
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }
}

/// A streaming response (Django's `StreamingHttpResponse`): no `Content-Length`, chunks sent as
/// they come.
pub fn streaming<S, E>(status: StatusCode, content_type: &'static str, stream: S) -> Response
where
    S: Stream<Item = Result<Bytes, E>> + Send + 'static,
    E: Into<BoxError> + 'static,
{
    with_type(
        status,
        Body::from_stream(stream),
        HeaderValue::from_static(content_type),
    )
}

fn redirect_with(status: StatusCode, location: &str) -> Response {
    let mut r = html(status, Body::empty());
    match HeaderValue::from_str(location) {
        Ok(v) => {
            r.headers_mut().insert(header::LOCATION, v);
        }
        Err(_) => {
            // A location that cannot be a header value is a server bug, not client input.
            *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        }
    }
    r
}

/// Django's `HttpResponseRedirect` (302).
pub fn redirect(location: &str) -> Response {
    redirect_with(StatusCode::FOUND, location)
}

/// Django's `HttpResponsePermanentRedirect` (301).
pub fn permanent_redirect(location: &str) -> Response {
    redirect_with(StatusCode::MOVED_PERMANENTLY, location)
}

/// Header helpers on responses.
pub trait ResponseExt {
    /// Sets `name` unless the response already has it (Django's `setdefault`).
    fn set_default_header(&mut self, name: &'static str, value: &'static str);
    /// Sets `name` to `value` unless present, for values computed at run time.
    fn set_default_header_value(&mut self, name: HeaderName, value: HeaderValue);
    /// Adds names to `Vary` (Django's `patch_vary_headers`).
    fn patch_vary_headers(&mut self, names: &[&str]);
    /// Appends a `Set-Cookie` (Django's `set_cookie`); a cookie of the same name set earlier
    /// on this response is replaced, as Django's `response.cookies[name]` is.
    fn set_cookie(&mut self, cookie: &SetCookie);
    /// Django's `delete_cookie(name, path, domain, samesite)`.
    fn delete_cookie(
        &mut self,
        name: &str,
        path: &str,
        domain: Option<&str>,
        samesite: Option<SameSite>,
    );
    /// The content of a non-streaming body (`None` for streams).
    fn content(&self) -> Option<&Bytes>;
    /// Whether the body is a stream.
    fn is_streaming(&self) -> bool;
}

impl ResponseExt for Response {
    fn set_default_header(&mut self, name: &'static str, value: &'static str) {
        self.set_default_header_value(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }

    fn set_default_header_value(&mut self, name: HeaderName, value: HeaderValue) {
        self.headers_mut().entry(name).or_insert(value);
    }

    fn patch_vary_headers(&mut self, names: &[&str]) {
        if let Err(e) = crate::http_utils::cache::patch_vary_headers(self.headers_mut(), names) {
            tracing::error!(error = %e, "Vary not patched");
        }
    }

    fn set_cookie(&mut self, cookie: &SetCookie) {
        match cookie.to_header_value() {
            Ok(line) => replace_cookie(self, cookie.name(), line),
            Err(e) => tracing::error!(cookie = cookie.name(), error = %e, "cookie not set"),
        }
    }

    fn delete_cookie(
        &mut self,
        name: &str,
        path: &str,
        domain: Option<&str>,
        samesite: Option<SameSite>,
    ) {
        self.set_cookie(&crate::http_utils::cookies::delete_cookie(
            name, path, domain, samesite,
        ));
    }

    fn content(&self) -> Option<&Bytes> {
        self.body().as_bytes()
    }

    fn is_streaming(&self) -> bool {
        self.body().is_streaming()
    }
}

fn replace_cookie(response: &mut Response, name: &str, line: String) {
    let Ok(value) = HeaderValue::from_str(&line) else {
        tracing::error!(
            cookie = name,
            "cookie value is not a valid header value; not set"
        );
        return;
    };
    let prefix = format!("{name}=");
    let headers = response.headers_mut();
    let kept: Vec<HeaderValue> = headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter(|v| !v.as_bytes().starts_with(prefix.as_bytes()))
        .cloned()
        .collect();
    headers.remove(header::SET_COOKIE);
    for v in kept {
        headers.append(header::SET_COOKIE, v);
    }
    headers.append(header::SET_COOKIE, value);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json as value;

    fn body(r: &Response) -> String {
        String::from_utf8(r.content().map(|b| b.to_vec()).unwrap_or_default()).unwrap_or_default()
    }

    /// Django's `JsonResponseTests.test_json_response_non_ascii`, with the bytes Python's
    /// `json.dumps` writes (`ensure_ascii`: UTF-16 escapes, a surrogate pair above the BMP).
    #[test]
    fn test_json_response_non_ascii() {
        let r = json(
            StatusCode::OK,
            &value!({"key": "łóżko", "emoji": "a😀\u{7f}"}),
        );
        assert_eq!(
            body(&r),
            r#"{"emoji": "a\ud83d\ude00\u007f", "key": "\u0142\u00f3\u017cko"}"#
        );
    }

    /// `JsonResponseTests.test_json_response_list` and `test_json_response_text`: Python's
    /// separators, and control characters escaped as Python does.
    #[test]
    fn test_json_response_list() {
        let r = json(
            StatusCode::OK,
            &value!(["foo", "bar", [1, 2.5, null, true], {}]),
        );
        assert_eq!(body(&r), r#"["foo", "bar", [1, 2.5, null, true], {}]"#);
        let text = json(StatusCode::OK, &value!("foo\"bar\n\u{1}"));
        assert_eq!(body(&text), r#""foo\"bar\n\u0001""#);
        assert_eq!(r.headers()[header::CONTENT_TYPE], "application/json");
    }
}
