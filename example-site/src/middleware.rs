//! The seed's middleware, ported: the four examples the project started from, each a pair of
//! plain functions, registered under the class name and the dotted name the settings use.

use std::sync::Arc;

use http::{HeaderName, HeaderValue, StatusCode};
use middleware_core::{FnHooks, Registry, Request, Response};

/// Where `SimpleAsyncMiddleware` prints: stdout in the site, a recorder in tests.
pub type Printer = Arc<dyn Fn(&str) + Send + Sync>;

/// Registers a `SimpleAsyncMiddleware` (prints `Before view` and `After view` around the rest
/// of the chain) under `name`, printing through `print`.
pub fn register_printer_as(registry: &mut Registry, name: &str, print: Printer) {
    let after = print.clone();
    let hooks = FnHooks::new()
        .process_request(move |_| print("Before view"))
        .process_response_in_place(move |_, _| after("After view"));
    add(registry, name, hooks);
}

// Constants, not `&str` keys: a name outside the standard set, given as a string, is copied
// into a new allocation on every insert.
const X_CUSTOM_HEADER: HeaderName = HeaderName::from_static("x-custom-header");
const X_STATUS: HeaderName = HeaderName::from_static("x-status");

/// Registers the seed's middleware; `print` is where `SimpleAsyncMiddleware` prints.
pub fn register(registry: &mut Registry, print: Printer) {
    register_printer_as(registry, "SimpleAsyncMiddleware", print);
    // In place: the seed's hooks only set headers or log, so none takes and gives back the
    // response (a move of it per hook and request).
    let header = FnHooks::new().process_response_in_place(|_, response: &mut Response| {
        let headers = response.headers_mut();
        headers.insert(X_CUSTOM_HEADER, HeaderValue::from_static("Hello"));
    });
    add(registry, "AsyncHeaderMiddleware", header);
    let status = FnHooks::new().process_response_in_place(|_, response: &mut Response| {
        if response.status() == StatusCode::OK {
            let headers = response.headers_mut();
            headers.insert(X_STATUS, HeaderValue::from_static("OK"));
        }
    });
    add(registry, "StatusHeaderMiddleware", status);
    let logging = FnHooks::new()
        .process_request(|request: &mut Request| {
            tracing::info!(target: "example_site", "Handling request path: {}", request.uri().path());
        })
        .process_response_in_place(|_, response: &mut Response| {
            tracing::info!(target: "example_site", "Response status: {}", response.status().as_u16());
        });
    add(registry, "AsyncLoggingMiddleware", logging);
}

fn add(registry: &mut Registry, name: &str, hooks: FnHooks) {
    let dotted = format!("example_site.middleware.{name}");
    registry.register_fn_hooks(name, hooks).alias(&dotted);
}
