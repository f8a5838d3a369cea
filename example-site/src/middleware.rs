//! The seed's middleware, ported: the four examples the project started from.
//!
//! Each is registered under the dotted name the settings use
//! (`example_site.middleware.AsyncHeaderMiddleware` ...) and its bare class name.

use std::sync::Arc;

use http::{HeaderName, HeaderValue};

// Parsed once at compile time, not per response.
const X_CUSTOM_HEADER: HeaderName = HeaderName::from_static("x-custom-header");
const HELLO: HeaderValue = HeaderValue::from_static("Hello");
const X_STATUS: HeaderName = HeaderName::from_static("x-status");
const OK: HeaderValue = HeaderValue::from_static("OK");
use middleware_core::{async_trait, Error, Middleware, Next, Registry, Request, Response};

/// Where [`SimpleAsyncMiddleware`] prints: stdout in the site, a recorder in tests.
pub type Printer = Arc<dyn Fn(&str) + Send + Sync>;

/// Prints `Before view` and `After view` around the rest of the chain.
pub struct SimpleAsyncMiddleware {
    get_response: Next,
    print: Printer,
}

impl SimpleAsyncMiddleware {
    /// Prints through `print`.
    pub fn new(get_response: Next, print: Printer) -> Self {
        SimpleAsyncMiddleware {
            get_response,
            print,
        }
    }
}

#[async_trait]
impl Middleware for SimpleAsyncMiddleware {
    async fn call(&self, request: &mut Request) -> Result<Response, Error> {
        (self.print)("Before view");
        let response = self.get_response.get_response(request).await;
        (self.print)("After view");
        Ok(response)
    }

    fn hooks(&self) -> middleware_core::Hooks {
        middleware_core::Hooks::NONE
    }
}

/// Adds `X-Custom-Header: Hello` to every response it sees.
pub struct AsyncHeaderMiddleware {
    get_response: Next,
}

#[async_trait]
impl Middleware for AsyncHeaderMiddleware {
    async fn call(&self, request: &mut Request) -> Result<Response, Error> {
        let mut response = self.get_response.get_response(request).await;
        response.headers_mut().insert(X_CUSTOM_HEADER, HELLO);
        Ok(response)
    }

    fn hooks(&self) -> middleware_core::Hooks {
        middleware_core::Hooks::NONE
    }
}

/// Adds `X-Status: OK` when the status is 200.
pub struct StatusHeaderMiddleware {
    get_response: Next,
}

#[async_trait]
impl Middleware for StatusHeaderMiddleware {
    async fn call(&self, request: &mut Request) -> Result<Response, Error> {
        let mut response = self.get_response.get_response(request).await;
        if response.status() == http::StatusCode::OK {
            response.headers_mut().insert(X_STATUS, OK);
        }
        Ok(response)
    }

    fn hooks(&self) -> middleware_core::Hooks {
        middleware_core::Hooks::NONE
    }
}

/// Logs `Handling request path: <path>` and `Response status: <code>`.
pub struct AsyncLoggingMiddleware {
    get_response: Next,
}

#[async_trait]
impl Middleware for AsyncLoggingMiddleware {
    async fn call(&self, request: &mut Request) -> Result<Response, Error> {
        tracing::info!(target: "example_site", "Handling request path: {}", request.uri().path());
        let response = self.get_response.get_response(request).await;
        tracing::info!(target: "example_site", "Response status: {}", response.status().as_u16());
        Ok(response)
    }

    fn hooks(&self) -> middleware_core::Hooks {
        middleware_core::Hooks::NONE
    }
}

/// Registers a `SimpleAsyncMiddleware` printing through `print` under another name (to nest
/// two of them in tests).
pub fn register_printer_as(registry: &mut Registry, name: &str, print: Printer) {
    registry.register(name, move |next, _| {
        Ok(SimpleAsyncMiddleware::new(next, print.clone()))
    });
}

/// Registers the seed's middleware; `print` is where `SimpleAsyncMiddleware` prints.
pub fn register(registry: &mut Registry, print: Printer) {
    registry
        .register("SimpleAsyncMiddleware", move |next, _| {
            Ok(SimpleAsyncMiddleware::new(next, print.clone()))
        })
        .alias("example_site.middleware.SimpleAsyncMiddleware");
    registry
        .register("AsyncHeaderMiddleware", |next, _| {
            Ok(AsyncHeaderMiddleware { get_response: next })
        })
        .alias("example_site.middleware.AsyncHeaderMiddleware");
    registry
        .register("StatusHeaderMiddleware", |next, _| {
            Ok(StatusHeaderMiddleware { get_response: next })
        })
        .alias("example_site.middleware.StatusHeaderMiddleware");
    registry
        .register("AsyncLoggingMiddleware", |next, _| {
            Ok(AsyncLoggingMiddleware { get_response: next })
        })
        .alias("example_site.middleware.AsyncLoggingMiddleware");
}
