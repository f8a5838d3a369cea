//! Errors that become responses, as Django's exceptions do.
//!
//! Every layer of the chain turns an [`Error`] into a response before the next outer layer sees it
//! (Django's `convert_exception_to_response`): 404 for [`Error::NotFound`], 403 for
//! [`Error::PermissionDenied`], 400 for [`Error::BadRequest`] and [`Error::Suspicious`], 500 for
//! everything else. The response is made by the handler registered for that status in
//! [`ErrorHandlers`] (Django's `handler404` ...), and the original error travels in the response's
//! extensions as an [`ErrorInfo`].
//!
//! ```
//! use middleware_core::{Error, ErrorHandlers};
//! use http::StatusCode;
//!
//! let handlers = ErrorHandlers::default();
//! let request = http::Request::new(middleware_core::Body::empty());
//! let response = handlers.response_for(&request, Error::not_found("no such page"));
//! assert_eq!(response.status(), StatusCode::NOT_FOUND);
//! assert!(response.extensions().get::<middleware_core::ErrorInfo>().is_some());
//! ```

use std::fmt;
use std::sync::Arc;

use http::{header, HeaderValue, StatusCode};

use crate::body::{BodyError, BoxError};
use crate::{Request, Response};

/// An error raised by a view or a middleware.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Django's `Http404`.
    #[error("not found: {0}")]
    NotFound(String),
    /// Django's `PermissionDenied`.
    #[error("permission denied: {0}")]
    PermissionDenied(String),
    /// Django's `BadRequest` (and `SessionInterrupted`).
    #[error("bad request: {0}")]
    BadRequest(String),
    /// Django's `SuspiciousOperation` family: `DisallowedHost`, `RequestDataTooBig`,
    /// `TooManyFieldsSent`, `SuspiciousSession`... `kind` is the Django class name, logged as the
    /// `security` field the way Django logs on `django.security.<kind>`.
    #[error("{kind}: {message}")]
    Suspicious {
        /// Django's exception class name, e.g. `DisallowedHost`.
        kind: &'static str,
        /// What was wrong.
        message: String,
    },
    /// Django's `ImproperlyConfigured`, raised at request time.
    #[error("improperly configured: {0}")]
    ImproperlyConfigured(String),
    /// A view or middleware panicked; the message is the panic payload when it was a string.
    #[error("panic: {0}")]
    Panic(String),
    /// Anything else: a 500.
    #[error(transparent)]
    Internal(BoxError),
    /// An application's own error type with the status it answers with: Django code raises
    /// subclasses of `PermissionDenied` and friends (`Ratelimited`, say) and recognises them
    /// later in `process_exception`; here the type is kept and found again with
    /// [`Error::downcast_ref`].
    #[error("{source}")]
    Custom {
        /// The status the error answers with. 400, 403, 404 and 5xx use the matching handler;
        /// any other status gets the default page with that status.
        status: StatusCode,
        /// The application's error.
        source: BoxError,
    },
}

impl Error {
    /// Django's `Http404(message)`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Error::NotFound(message.into())
    }

    /// Django's `PermissionDenied(message)`.
    pub fn permission_denied(message: impl Into<String>) -> Self {
        Error::PermissionDenied(message.into())
    }

    /// Django's `BadRequest(message)`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Error::BadRequest(message.into())
    }

    /// Django's `SuspiciousOperation` subclass `kind` (e.g. `"DisallowedHost"`).
    pub fn suspicious(kind: &'static str, message: impl Into<String>) -> Self {
        Error::Suspicious {
            kind,
            message: message.into(),
        }
    }

    /// Any other error, answered with a 500.
    pub fn internal(error: impl Into<BoxError>) -> Self {
        Error::Internal(error.into())
    }

    /// An application's error answered with `status` (see [`Error::Custom`]).
    pub fn custom(status: StatusCode, error: impl Into<BoxError>) -> Self {
        Error::Custom {
            status,
            source: error.into(),
        }
    }

    /// The application's error of type `T` inside [`Error::Custom`] or [`Error::Internal`].
    pub fn downcast_ref<T: std::error::Error + 'static>(&self) -> Option<&T> {
        match self {
            Error::Custom { source, .. } | Error::Internal(source) => source.downcast_ref::<T>(),
            _ => None,
        }
    }

    /// The status Django answers this error with.
    pub fn status(&self) -> StatusCode {
        match self {
            Error::NotFound(_) => StatusCode::NOT_FOUND,
            Error::PermissionDenied(_) => StatusCode::FORBIDDEN,
            Error::BadRequest(_) | Error::Suspicious { .. } => StatusCode::BAD_REQUEST,
            Error::ImproperlyConfigured(_) | Error::Panic(_) | Error::Internal(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
            Error::Custom { status, .. } => *status,
        }
    }
}

impl From<BodyError> for Error {
    fn from(e: BodyError) -> Self {
        match e {
            BodyError::TooLarge { limit } => Error::suspicious(
                "RequestDataTooBig",
                format!(
                    "Request body exceeded settings.DATA_UPLOAD_MAX_MEMORY_SIZE ({limit} bytes)."
                ),
            ),
            // The server's minimum body rate: the client, not the request, is at fault.
            BodyError::Stream(e) if e.is::<crate::body::BodyTooSlow>() => {
                Error::custom(StatusCode::REQUEST_TIMEOUT, e)
            }
            BodyError::Stream(e) => Error::bad_request(format!("could not read the body: {e}")),
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::internal(e)
    }
}

/// The error a response was made from, in the response's extensions.
#[derive(Clone, Debug)]
pub struct ErrorInfo(pub Arc<Error>);

/// A handler for one error status: Django's `handler404`, `handler500`...
pub type ErrorHandler = Arc<dyn Fn(&Request, &Error) -> Response + Send + Sync>;

/// The handlers that turn errors into responses, one per status (400, 403, 404, 500).
///
/// The defaults answer with Django's minimal pages (`django/views/defaults.py`); in `DEBUG` the
/// 500 page also shows the error, as a much simplified technical page.
#[derive(Clone, Default)]
pub struct ErrorHandlers {
    handler400: Option<ErrorHandler>,
    handler403: Option<ErrorHandler>,
    handler404: Option<ErrorHandler>,
    handler500: Option<ErrorHandler>,
    debug: bool,
}

impl fmt::Debug for ErrorHandlers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ErrorHandlers")
            .field("handler400", &self.handler400.is_some())
            .field("handler403", &self.handler403.is_some())
            .field("handler404", &self.handler404.is_some())
            .field("handler500", &self.handler500.is_some())
            .field("debug", &self.debug)
            .finish()
    }
}

impl ErrorHandlers {
    /// Django's defaults; `debug` mirrors `settings.DEBUG`.
    pub fn new(debug: bool) -> Self {
        ErrorHandlers {
            debug,
            ..Default::default()
        }
    }

    /// Replaces the handler for `status` (400, 403, 404 or 500; any other status is treated as 500).
    pub fn set<F>(&mut self, status: u16, handler: F) -> &mut Self
    where
        F: Fn(&Request, &Error) -> Response + Send + Sync + 'static,
    {
        let handler: ErrorHandler = Arc::new(handler);
        match status {
            400 => self.handler400 = Some(handler),
            403 => self.handler403 = Some(handler),
            404 => self.handler404 = Some(handler),
            _ => self.handler500 = Some(handler),
        }
        self
    }

    /// Whether `DEBUG` pages are on.
    pub fn debug(&self) -> bool {
        self.debug
    }

    /// Turns `error` into a response: logs it as Django's `response_for_exception` does, calls
    /// the handler for its status (falling back to the 500 handler, then to a plain 500, when a
    /// handler panics), and attaches the error as [`ErrorInfo`].
    pub fn response_for(&self, request: &Request, error: Error) -> Response {
        log_error(request, &error);
        let status = error.status();
        let handler = match status.as_u16() {
            400 => self.handler400.as_ref(),
            403 => self.handler403.as_ref(),
            404 => self.handler404.as_ref(),
            _ if status.is_server_error() => self.handler500.as_ref(),
            // A custom error with another status (429, 410...) has no Django handler.
            _ => None,
        };
        let call = |h: &ErrorHandler| {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| h(request, &error))).ok()
        };
        let mut response = match handler {
            Some(h) => call(h)
                .or_else(|| self.handler500.as_ref().and_then(call))
                .unwrap_or_else(|| default_page(StatusCode::INTERNAL_SERVER_ERROR, None)),
            None => {
                let detail = (self.debug && status.is_server_error()).then(|| error.to_string());
                default_page(status, detail.as_deref())
            }
        };
        response.extensions_mut().insert(ErrorInfo(Arc::new(error)));
        response
    }
}

fn log_error(request: &Request, error: &Error) {
    let path = request.uri().path();
    match error {
        Error::NotFound(_) => tracing::debug!(target: "django.request", %path, "Not Found: {path}"),
        Error::PermissionDenied(m) => {
            tracing::warn!(target: "django.request", %path, "Forbidden (Permission denied): {m}")
        }
        Error::BadRequest(m) => tracing::warn!(target: "django.request", %path, "{m}: {path}"),
        Error::Suspicious { kind, message } => {
            tracing::error!(target: "django.security", security = kind, %path, "{message}")
        }
        other => {
            tracing::error!(target: "django.request", %path, error = %other, "Internal Server Error: {path}")
        }
    }
}

/// Django's minimal error page (`django.views.defaults.ERROR_PAGE_TEMPLATE`).
fn default_page(status: StatusCode, detail: Option<&str>) -> Response {
    let (title, details) = match status.as_u16() {
        404 => (
            "Not Found",
            "The requested resource was not found on this server.",
        ),
        403 => ("403 Forbidden", ""),
        400 => ("Bad Request (400)", ""),
        _ if status.is_server_error() => ("Server Error (500)", ""),
        _ => (status.canonical_reason().unwrap_or("Error"), ""),
    };
    let mut body = format!(
        "\n<!doctype html>\n<html lang=\"en\">\n<head>\n  <title>{title}</title>\n</head>\n<body>\n  <h1>{title}</h1><p>{details}</p>\n"
    );
    if let Some(detail) = detail {
        body.push_str("<pre>");
        body.push_str(&html_escape(detail));
        body.push_str("</pre>\n");
    }
    body.push_str("</body>\n</html>\n");
    let mut response = Response::new(body.into());
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

/// Escapes `&`, `<`, `>`, `"` and `'` as Django's `escape` does.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Body;

    fn request() -> Request {
        http::Request::new(Body::empty())
    }

    // Django: tests/handlers/tests.py::HandlerRequestTests::test_suspiciousop_in_view_returns_400
    // and ::test_bad_request_in_view_returns_400.
    #[test]
    fn statuses_follow_djangos_exception_mapping() {
        let h = ErrorHandlers::default();
        let cases = [
            (Error::not_found("x"), 404),
            (Error::permission_denied("x"), 403),
            (Error::bad_request("x"), 400),
            (Error::suspicious("DisallowedHost", "x"), 400),
            (Error::ImproperlyConfigured("x".into()), 500),
            (Error::Panic("boom".into()), 500),
            (Error::internal("io"), 500),
        ];
        for (error, status) in cases {
            assert_eq!(h.response_for(&request(), error).status().as_u16(), status);
        }
    }

    #[derive(Debug, thiserror::Error)]
    #[error("rate limited")]
    struct Ratelimited;

    // Django code raises its own PermissionDenied subclasses and recognises them later; the
    // type survives here too, with its status.
    #[test]
    fn custom_errors_keep_their_type_and_status() {
        let mut h = ErrorHandlers::default();
        h.set(403, |_, e| {
            let text = if e.downcast_ref::<Ratelimited>().is_some() {
                "slow down"
            } else {
                "403"
            };
            Response::new(Body::from(text))
        });
        let r = h.response_for(
            &request(),
            Error::custom(StatusCode::FORBIDDEN, Ratelimited),
        );
        assert_eq!(r.body().as_bytes().unwrap().as_ref(), b"slow down");
        let r = h.response_for(
            &request(),
            Error::custom(StatusCode::TOO_MANY_REQUESTS, Ratelimited),
        );
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        let body = String::from_utf8(r.body().as_bytes().unwrap().to_vec()).unwrap();
        assert!(body.contains("Too Many Requests"), "{body}");
        let info = r.extensions().get::<ErrorInfo>().unwrap();
        assert!(info.0.downcast_ref::<Ratelimited>().is_some());
        assert!(Error::not_found("x")
            .downcast_ref::<Ratelimited>()
            .is_none());
    }

    #[test]
    fn custom_handler_is_used_and_a_panicking_handler_falls_back_to_500() {
        let mut h = ErrorHandlers::default();
        h.set(404, |_, _| Response::new(Body::from("custom 404")));
        h.set(403, |_, _| panic!("broken handler"));
        let r = h.response_for(&request(), Error::not_found("x"));
        assert_eq!(r.body().as_bytes().unwrap().as_ref(), b"custom 404");
        let r = h.response_for(&request(), Error::permission_denied("x"));
        assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn debug_500_page_shows_the_escaped_error_and_production_does_not() {
        let r = ErrorHandlers::new(true).response_for(&request(), Error::internal("<b>bad</b>"));
        let body = String::from_utf8(r.body().as_bytes().unwrap().to_vec()).unwrap();
        assert!(body.contains("&lt;b&gt;bad&lt;/b&gt;"), "{body}");
        let r = ErrorHandlers::new(false).response_for(&request(), Error::internal("secret"));
        let body = String::from_utf8(r.body().as_bytes().unwrap().to_vec()).unwrap();
        assert!(!body.contains("secret"));
        assert!(body.contains("Server Error (500)"));
    }
}
