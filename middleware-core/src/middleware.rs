//! The two ways to write middleware, and the handle each one holds on the rest of the chain.
//!
//! A [`Middleware`] is Django's class with `__init__(get_response)` and `async __call__`: its
//! factory receives the [`Next`] layer once, at start-up, and every request goes through
//! [`Middleware::call`]. A [`HookMiddleware`] is Django's `MiddlewareMixin`, with
//! `process_request` / `process_response`; wrap it with [`Mixin`] (the registry does it for you).
//!
//! ```
//! use middleware_core::{async_trait, Error, Middleware, Next, Request, Response};
//!
//! /// Django's `AsyncHeaderMiddleware` from the seed example.
//! struct AsyncHeaderMiddleware {
//!     get_response: Next,
//! }
//!
//! #[async_trait]
//! impl Middleware for AsyncHeaderMiddleware {
//!     async fn call(&self, request: &mut Request) -> Result<Response, Error> {
//!         let mut response = self.get_response.get_response(request).await;
//!         if response.status() == 200 {
//!             response.headers_mut().insert("x-status", "OK".parse().unwrap());
//!         }
//!         response.headers_mut().insert("x-custom-header", "Hello".parse().unwrap());
//!         Ok(response)
//!     }
//! }
//! ```

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use async_trait::async_trait;

use crate::error::{Error, ErrorHandlers};
use crate::view::ResolverMatch;
use crate::{Request, Response};

/// Anything that answers a request with a response and never fails: Django's `get_response`.
///
/// The chain itself, every layer of it ([`Next`]) and an embedder's innermost handler implement it.
#[async_trait]
pub trait GetResponse: Send + Sync + 'static {
    /// Answers `request`. Errors have already been turned into responses.
    async fn get_response(&self, request: &mut Request) -> Response;
}

/// Which optional hooks a middleware implements, so the chain calls only those.
///
/// The default, [`Hooks::ALL`], is always correct; declaring fewer saves one boxed future per
/// request for each hook left out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hooks {
    /// [`Middleware::process_view`] is implemented.
    pub view: bool,
    /// [`Middleware::process_exception`] is implemented.
    pub exception: bool,
    /// [`Middleware::process_template_response`] is implemented.
    pub template_response: bool,
}

impl Hooks {
    /// No optional hooks: only `call`.
    pub const NONE: Hooks = Hooks {
        view: false,
        exception: false,
        template_response: false,
    };
    /// Every hook (the safe default).
    pub const ALL: Hooks = Hooks {
        view: true,
        exception: true,
        template_response: true,
    };
    /// Only `process_view`.
    pub const VIEW: Hooks = Hooks {
        view: true,
        exception: false,
        template_response: false,
    };
}

/// A middleware in call style: Django's `__call__(request)`.
///
/// Instances are built once and shared by every request and every thread: keep per-request state
/// in the request's extensions, never on `self`.
#[async_trait]
pub trait Middleware: Send + Sync + 'static {
    /// Handles one request: code before, `self.next.get_response(request).await`, code after.
    /// An `Err` is turned into a response by this layer, so outer middleware see a response.
    async fn call(&self, request: &mut Request) -> Result<Response, Error>;

    /// Which optional hooks this middleware implements (default: all of them).
    fn hooks(&self) -> Hooks {
        Hooks::ALL
    }

    /// Django's `process_view`: called in `MIDDLEWARE` order after URL resolution, before the
    /// view. Returning a response skips the remaining `process_view` hooks and the view.
    async fn process_view(
        &self,
        _request: &mut Request,
        _view: &ResolverMatch,
    ) -> Result<Option<Response>, Error> {
        Ok(None)
    }

    /// Django's `process_exception`: called bottom to top for errors (and panics) raised by the
    /// view or while rendering a template response; the first response returned wins.
    async fn process_exception(&self, _request: &mut Request, _error: &Error) -> Option<Response> {
        None
    }

    /// Django's `process_template_response`: called bottom to top for responses whose
    /// rendering is deferred ([`crate::TemplateResponse`]), before they are rendered.
    async fn process_template_response(
        &self,
        _request: &mut Request,
        response: Response,
    ) -> Result<Response, Error> {
        Ok(response)
    }
}

/// The rest of the chain, as held by a middleware: Django's `get_response`.
///
/// Cloning is two reference-count increments; calling allocates nothing beyond the inner
/// middleware's own future. Errors and panics of the inner layer come back as responses.
#[derive(Clone)]
pub struct Next {
    inner: Arc<dyn Middleware>,
    errors: Arc<ErrorHandlers>,
}

impl fmt::Debug for Next {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Next").finish_non_exhaustive()
    }
}

impl Next {
    pub(crate) fn new(inner: Arc<dyn Middleware>, errors: Arc<ErrorHandlers>) -> Self {
        Next { inner, errors }
    }

    /// Calls the rest of the chain. Never fails: an error or a panic below becomes a response
    /// here, made by the error handlers (Django's `convert_exception_to_response`).
    // An inherent method, so callers through a concrete `Next` skip the boxing of the trait.
    pub async fn get_response(&self, request: &mut Request) -> Response {
        let outcome = {
            let mut call = self.inner.call(request);
            std::future::poll_fn(|cx| poll_caught(call.as_mut(), cx)).await
        };
        match outcome {
            Ok(Ok(response)) => response,
            Ok(Err(error)) => self.errors.response_for(request, error),
            Err(payload) => self
                .errors
                .response_for(request, Error::Panic(panic_message(payload.as_ref()))),
        }
    }

    /// The error handlers this chain answers errors with.
    pub fn error_handlers(&self) -> &ErrorHandlers {
        &self.errors
    }
}

#[async_trait]
impl GetResponse for Next {
    async fn get_response(&self, request: &mut Request) -> Response {
        Next::get_response(self, request).await
    }
}

/// Polls `future` with its panics caught. Its output is passed out through a local rather
/// than returned from the guarded closure: that way the guard moves no response, which
/// otherwise costs several copies of one per layer and request.
pub(crate) fn poll_caught<T>(
    future: Pin<&mut (dyn Future<Output = T> + Send + '_)>,
    cx: &mut Context<'_>,
) -> Poll<std::thread::Result<T>> {
    let mut output = None;
    match std::panic::catch_unwind(AssertUnwindSafe(|| {
        if let Poll::Ready(value) = future.poll(cx) {
            output = Some(value);
        }
    })) {
        Ok(()) => output.map_or(Poll::Pending, |value| Poll::Ready(Ok(value))),
        Err(payload) => Poll::Ready(Err(payload)),
    }
}

/// The text of a panic payload, when it was a string.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_owned()
    }
}

/// A middleware in hook style: Django's `MiddlewareMixin`.
///
/// `process_request` runs before the rest of the chain; if it returns a response, the rest is
/// skipped but this middleware's `process_response` still runs on it, as in Django.
///
/// ```
/// use middleware_core::{async_trait, Error, HookMiddleware, Request, Response};
///
/// struct PoweredBy;
///
/// #[async_trait]
/// impl HookMiddleware for PoweredBy {
///     async fn process_response(&self, _req: &mut Request, mut resp: Response) -> Result<Response, Error> {
///         resp.headers_mut().insert("x-powered-by", "rust".parse().unwrap());
///         Ok(resp)
///     }
/// }
/// ```
#[async_trait]
pub trait HookMiddleware: Send + Sync + 'static {
    /// Whether this middleware implements [`process_request`](Self::process_request) (default:
    /// `true`). Set it to `false` when it does not: the chain then skips the call, which
    /// saves a boxed future per request.
    const PROCESS_REQUEST: bool = true;
    /// Whether this middleware implements [`process_response`](Self::process_response)
    /// (default: `true`); `false` skips the call as for `PROCESS_REQUEST`.
    const PROCESS_RESPONSE: bool = true;

    /// Before the rest of the chain; `Some(response)` short-circuits it.
    async fn process_request(&self, _request: &mut Request) -> Result<Option<Response>, Error> {
        Ok(None)
    }

    /// After the rest of the chain (or the short-circuit response).
    async fn process_response(
        &self,
        _request: &mut Request,
        response: Response,
    ) -> Result<Response, Error> {
        Ok(response)
    }

    /// Which optional hooks are implemented (default: all).
    fn hooks(&self) -> Hooks {
        Hooks::ALL
    }

    /// See [`Middleware::process_view`].
    async fn process_view(
        &self,
        _request: &mut Request,
        _view: &ResolverMatch,
    ) -> Result<Option<Response>, Error> {
        Ok(None)
    }

    /// See [`Middleware::process_exception`].
    async fn process_exception(&self, _request: &mut Request, _error: &Error) -> Option<Response> {
        None
    }

    /// See [`Middleware::process_template_response`].
    async fn process_template_response(
        &self,
        _request: &mut Request,
        response: Response,
    ) -> Result<Response, Error> {
        Ok(response)
    }
}

/// Adapts a [`HookMiddleware`] into a [`Middleware`]: Django's `MiddlewareMixin.__call__`.
pub struct Mixin<H> {
    hooks: H,
    next: Next,
}

impl<H> fmt::Debug for Mixin<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mixin").finish_non_exhaustive()
    }
}

impl<H: HookMiddleware> Mixin<H> {
    /// Wraps `hooks`, calling `next` between `process_request` and `process_response`.
    pub fn new(hooks: H, next: Next) -> Self {
        Mixin { hooks, next }
    }
}

#[async_trait]
impl<H: HookMiddleware> Middleware for Mixin<H> {
    async fn call(&self, request: &mut Request) -> Result<Response, Error> {
        let early = if H::PROCESS_REQUEST {
            self.hooks.process_request(request).await?
        } else {
            None
        };
        let response = match early {
            Some(response) => response,
            None => self.next.get_response(request).await,
        };
        if H::PROCESS_RESPONSE {
            self.hooks.process_response(request, response).await
        } else {
            Ok(response)
        }
    }

    fn hooks(&self) -> Hooks {
        self.hooks.hooks()
    }

    async fn process_view(
        &self,
        request: &mut Request,
        view: &ResolverMatch,
    ) -> Result<Option<Response>, Error> {
        self.hooks.process_view(request, view).await
    }

    async fn process_exception(&self, request: &mut Request, error: &Error) -> Option<Response> {
        self.hooks.process_exception(request, error).await
    }

    async fn process_template_response(
        &self,
        request: &mut Request,
        response: Response,
    ) -> Result<Response, Error> {
        self.hooks
            .process_template_response(request, response)
            .await
    }
}
