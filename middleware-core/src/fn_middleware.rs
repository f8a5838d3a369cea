//! Middleware written as one function, with nothing to declare.
//!
//! The call style is axum's `middleware::from_fn`: the function gets the request and the rest
//! of the chain, code before, `next.run(request).await`, code after.
//!
//! ```
//! use http::HeaderValue;
//! use middleware_core::{Registry, Request, Next};
//!
//! let mut registry = Registry::new();
//! registry.register_fn("AsyncHeaderMiddleware", |request: Request, next: Next| async move {
//!     let mut response = next.run(request).await;
//!     response.headers_mut().insert("x-custom-header", HeaderValue::from_static("Hello"));
//!     response
//! });
//! ```
//!
//! The hook style is Django's `MiddlewareMixin` as two optional functions; only the ones
//! given exist, so there is no declaration to keep in step with the code. They are plain
//! functions (not `async`): they run between the chain's awaits and cost no allocation.
//!
//! ```
//! use http::{HeaderValue, StatusCode};
//! use middleware_core::{fn_middleware::FnHooks, Registry};
//!
//! let mut registry = Registry::new();
//! registry.register_fn_hooks(
//!     "StatusHeaderMiddleware",
//!     FnHooks::new().process_response(|_request, mut response| {
//!         if response.status() == StatusCode::OK {
//!             response.headers_mut().insert("x-status", HeaderValue::from_static("OK"));
//!         }
//!         response
//!     }),
//! );
//! ```
//!
//! A function returns a [`Response`], or a `Result` whose error the chain's error handlers
//! answer; a `process_request` may also return `()` or `None` (go on) or `Some(response)`
//! (answer now: the rest of the chain is skipped, this middleware's `process_response` still
//! runs, as in Django). See [`HookOutput`].
//!
//! # What the call style costs
//!
//! The function owns the request, while outer middleware still need it in their response phase
//! (Django keeps one request object throughout). [`Next::run`] hands the request back when the
//! inner chain is done with it; for a function that answers without calling `next`, the layer
//! keeps a copy of the request's head (method, URI, version, headers, extensions) and puts
//! that back. That copy is made on every request; the hook style and the [`Middleware`] trait
//! make none.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use async_trait::async_trait;

use crate::error::Error;
pub use crate::fn_hooks::{FnHooks, HookOutput};
use crate::lending::Lent;
use crate::middleware::{HooksLayer, Middleware, Next};
use crate::registry::{BuildContext, EntryBuilder, FactoryError, Registry};
use crate::{Request, Response};

/// A middleware made of one async function; see [`Registry::register_fn`].
pub struct FnMiddleware<F> {
    function: Arc<F>,
    next: Next,
}

impl<F> fmt::Debug for FnMiddleware<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FnMiddleware").finish_non_exhaustive()
    }
}

impl<F> FnMiddleware<F> {
    /// Calls `function` with each request and `next`.
    pub fn new(function: Arc<F>, next: Next) -> Self {
        FnMiddleware { function, next }
    }
}

#[async_trait]
impl<F, Fut, R> Middleware for FnMiddleware<F>
where
    F: Fn(Request, Next) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = R> + Send + 'static,
    R: HookOutput<Response> + 'static,
{
    async fn call(&self, request: &mut Request) -> Result<Response, Error> {
        let (lent, moved) = Lent::take(request);
        let outcome = (self.function)(moved, self.next.clone()).await;
        drop(lent);
        outcome.into_outcome()
    }
}

/// A middleware made of [`FnHooks`]: Django's `MiddlewareMixin.__call__` around them.
pub type FnHookMiddleware = HooksLayer<FnHooks>;

impl Registry {
    /// Registers a middleware written as one async function of the request and the rest of the
    /// chain (axum's `from_fn`); see the [module docs](crate::fn_middleware).
    ///
    /// ```
    /// use middleware_core::{Registry, Request, Next};
    ///
    /// let mut registry = Registry::new();
    /// registry
    ///     .register_fn("AsyncLoggingMiddleware", |request: Request, next: Next| async move {
    ///         tracing::info!("Handling request path: {}", request.uri().path());
    ///         let response = next.run(request).await;
    ///         tracing::info!("Response status: {}", response.status().as_u16());
    ///         response
    ///     })
    ///     .alias("myapp.middleware.AsyncLoggingMiddleware");
    /// ```
    pub fn register_fn<F, Fut, R>(&mut self, name: &str, function: F) -> EntryBuilder<'_>
    where
        F: Fn(Request, Next) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: HookOutput<Response> + 'static,
    {
        let function = Arc::new(function);
        self.register(name, move |next, _ctx| {
            Ok(FnMiddleware::new(function.clone(), next))
        })
    }

    /// As [`register_fn`](Self::register_fn), with the function made at start-up from the
    /// settings (declare the keys it reads with `.settings(&[...])`).
    pub fn register_fn_with<B, F, Fut, R>(&mut self, name: &str, build: B) -> EntryBuilder<'_>
    where
        B: Fn(&BuildContext<'_>) -> Result<F, FactoryError> + Send + Sync + 'static,
        F: Fn(Request, Next) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: HookOutput<Response> + 'static,
    {
        self.register(name, move |next, ctx| {
            Ok(FnMiddleware::new(Arc::new(build(ctx)?), next))
        })
    }

    /// Registers a `process_request` / `process_response` pair of functions (Django's
    /// `MiddlewareMixin`); see the [module docs](crate::fn_middleware).
    pub fn register_fn_hooks(&mut self, name: &str, hooks: FnHooks) -> EntryBuilder<'_> {
        self.register(name, move |next, _ctx| {
            Ok(FnHookMiddleware::new(hooks.clone(), next))
        })
    }
}
