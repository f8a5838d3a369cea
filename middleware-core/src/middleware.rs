//! The traits behind every middleware, and the handle each one holds on the rest of the chain.
//!
//! Most middleware are one function, registered with [`Registry::register_fn`] (see
//! [`crate::fn_middleware`]). The traits here are for middleware with state or with the other
//! hooks: a [`Middleware`] is Django's class with `__init__(get_response)` and `async
//! __call__`: its factory receives the [`Next`] layer once, at start-up, and every request goes
//! through [`Middleware::call`]. A [`HookMiddleware`] is Django's `MiddlewareMixin`, with
//! `process_request` / `process_response`; wrap it with [`Mixin`] (the registry does it for you).
//!
//! A hook exists when the code implements it, and only then: there is nothing to declare. The
//! default bodies of the optional hooks say they are the default when they run, and the chain
//! stops calling a hook after its default body answered once, so a hook left out costs one call
//! in the life of the chain, and a hook written can never be skipped.
//!
//! ```
//! use http::HeaderValue;
//! use middleware_core::{async_trait, Error, Middleware, Next, Request, Response};
//!
//! /// Django's `AsyncHeaderMiddleware` from the seed example.
//! struct AsyncHeaderMiddleware {
//!     next: Next,
//! }
//!
//! #[async_trait]
//! impl Middleware for AsyncHeaderMiddleware {
//!     async fn call(&self, request: &mut Request) -> Result<Response, Error> {
//!         let mut response = self.next.get_response(request).await;
//!         if response.status() == 200 {
//!             response.headers_mut().insert("x-status", HeaderValue::from_static("OK"));
//!         }
//!         response.headers_mut().insert("x-custom-header", HeaderValue::from_static("Hello"));
//!         Ok(response)
//!     }
//! }
//! ```
//!
//! [`Registry::register_fn`]: crate::Registry::register_fn

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use async_trait::async_trait;

use crate::error::{Error, ErrorHandlers};
use crate::hooks::Hooks;
pub(crate) use crate::hooks::{default_hook_ran, probe};
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

/// A middleware in call style: Django's `__call__(request)`.
///
/// Instances are built once and shared by every request and every thread: keep per-request state
/// in the request's extensions, never on `self`.
#[async_trait]
pub trait Middleware: Send + Sync + 'static {
    /// Handles one request: code before, `self.next.get_response(request).await`, code after.
    /// An `Err` is turned into a response by this layer, so outer middleware see a response.
    async fn call(&self, request: &mut Request) -> Result<Response, Error>;

    /// Django's `process_view`: called in `MIDDLEWARE` order after URL resolution, before the
    /// view. Returning a response skips the remaining `process_view` hooks and the view.
    async fn process_view(
        &self,
        _request: &mut Request,
        _view: &ResolverMatch,
    ) -> Result<Option<Response>, Error> {
        default_hook_ran();
        Ok(None)
    }

    /// Django's `process_exception`: called bottom to top for errors (and panics) raised by the
    /// view or while rendering a template response; the first response returned wins.
    async fn process_exception(&self, _request: &mut Request, _error: &Error) -> Option<Response> {
        default_hook_ran();
        None
    }

    /// Django's `process_template_response`: called bottom to top for responses whose
    /// rendering is deferred ([`crate::TemplateResponse`]), before they are rendered.
    async fn process_template_response(
        &self,
        _request: &mut Request,
        response: Response,
    ) -> Result<Response, Error> {
        default_hook_ran();
        Ok(response)
    }

    /// For the chain only: `Some` when this layer is Django's `MiddlewareMixin.__call__`
    /// (`process_request`, the rest of the chain, `process_response`) and nothing else, so the
    /// chain may run it inside a run of such layers without calling [`Middleware::call`].
    // Hidden: only the crate's own hook adapters can build a `HookPair`, and a layer that
    // does more than its two hooks in `call` must not be flattened.
    #[doc(hidden)]
    fn hook_pair(&self) -> Option<HookPair<'_>> {
        None
    }
}

/// The future of a `process_view` hook, as `#[async_trait]` writes it.
type ViewHookFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Option<Response>, Error>> + Send + 'a>>;

/// The two hooks of a hook-style layer, as [`Middleware::hook_pair`] shows them to the chain.
#[doc(hidden)]
pub struct HookPair<'a>(pub(crate) HookPairKind<'a>);

impl fmt::Debug for HookPair<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HookPair").finish_non_exhaustive()
    }
}

pub(crate) enum HookPairKind<'a> {
    /// [`Mixin`]: `async` hooks, each with what the chain learned about it.
    Async {
        hooks: &'a dyn HookMiddleware,
        request_hook: &'a HookState,
        response_hook: &'a HookState,
    },
    /// [`HooksLayer`] (and [`crate::FnHooks`]): hooks that answer at once unless they must wait.
    Ready(&'a dyn Hooks),
}

/// What the chain has learned about one hook of one middleware.
#[derive(Debug, Default)]
pub(crate) struct HookState(AtomicU8);

const UNKNOWN: u8 = 0;
const PRESENT: u8 = 1;
const ABSENT: u8 = 2;

impl HookState {
    /// Whether the hook is known to be the default (never called again).
    pub(crate) fn is_absent(&self) -> bool {
        self.0.load(Ordering::Relaxed) == ABSENT
    }

    /// Records what a probe found. A hook once seen implemented stays so: a wrong "absent"
    /// would skip written code, a wrong "present" only costs a call.
    pub(crate) fn learn(&self, default_ran: bool) {
        if default_ran {
            let _ = self
                .0
                .compare_exchange(UNKNOWN, ABSENT, Ordering::Relaxed, Ordering::Relaxed);
        } else {
            self.0.store(PRESENT, Ordering::Relaxed);
        }
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
        converted(&self.errors, request, outcome)
    }

    /// Calls the rest of the chain with an owned request, in a function middleware
    /// ([`crate::Registry::register_fn`]): axum's `next.run(request)`. The request, with what
    /// the inner layers added to it, goes back to the outer layers for their response phase.
    pub async fn run(&self, mut request: Request) -> Response {
        let slot = request
            .extensions_mut()
            .remove::<crate::lending::ReturnSlot>();
        let response = self.get_response(&mut request).await;
        if let Some(slot) = slot {
            slot.put(request);
        }
        response
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

/// A layer's outcome as the response its `Next` answers: an error or a panic goes to the error
/// handlers (Django's `convert_exception_to_response`).
pub(crate) fn converted(
    errors: &ErrorHandlers,
    request: &Request,
    outcome: std::thread::Result<Result<Response, Error>>,
) -> Response {
    match outcome {
        Ok(Ok(response)) => response,
        Ok(Err(error)) => errors.response_for(request, error),
        Err(payload) => errors.response_for(request, Error::Panic(panic_message(payload.as_ref()))),
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
/// Only the hooks written run: a middleware that writes only `process_response` costs no call
/// for `process_request` (after the first request, which finds that out). For a stateless
/// pair of functions, [`crate::Registry::register_fn_hooks`] needs no type at all.
///
/// ```
/// use http::HeaderValue;
/// use middleware_core::{async_trait, Error, HookMiddleware, Request, Response};
///
/// struct PoweredBy;
///
/// #[async_trait]
/// impl HookMiddleware for PoweredBy {
///     async fn process_response(&self, _req: &mut Request, mut resp: Response) -> Result<Response, Error> {
///         resp.headers_mut().insert("x-powered-by", HeaderValue::from_static("rust"));
///         Ok(resp)
///     }
/// }
/// ```
#[async_trait]
pub trait HookMiddleware: Send + Sync + 'static {
    /// Before the rest of the chain; `Some(response)` short-circuits it.
    async fn process_request(&self, _request: &mut Request) -> Result<Option<Response>, Error> {
        default_hook_ran();
        Ok(None)
    }

    /// After the rest of the chain (or the short-circuit response).
    async fn process_response(
        &self,
        _request: &mut Request,
        response: Response,
    ) -> Result<Response, Error> {
        default_hook_ran();
        Ok(response)
    }

    /// See [`Middleware::process_view`].
    async fn process_view(
        &self,
        _request: &mut Request,
        _view: &ResolverMatch,
    ) -> Result<Option<Response>, Error> {
        default_hook_ran();
        Ok(None)
    }

    /// See [`Middleware::process_exception`].
    async fn process_exception(&self, _request: &mut Request, _error: &Error) -> Option<Response> {
        default_hook_ran();
        None
    }

    /// See [`Middleware::process_template_response`].
    async fn process_template_response(
        &self,
        _request: &mut Request,
        response: Response,
    ) -> Result<Response, Error> {
        default_hook_ran();
        Ok(response)
    }
}

/// Adapts a [`HookMiddleware`] into a [`Middleware`]: Django's `MiddlewareMixin.__call__`.
pub struct Mixin<H> {
    hooks: H,
    next: Next,
    request_hook: HookState,
    response_hook: HookState,
}

impl<H> fmt::Debug for Mixin<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mixin").finish_non_exhaustive()
    }
}

impl<H: HookMiddleware> Mixin<H> {
    /// Wraps `hooks`, calling `next` between `process_request` and `process_response`.
    pub fn new(hooks: H, next: Next) -> Self {
        Mixin {
            hooks,
            next,
            request_hook: HookState::default(),
            response_hook: HookState::default(),
        }
    }
}

#[async_trait]
impl<H: HookMiddleware> Middleware for Mixin<H> {
    async fn call(&self, request: &mut Request) -> Result<Response, Error> {
        let early = if self.request_hook.is_absent() {
            None
        } else {
            let (early, default_ran) = probe(self.hooks.process_request(request)).await;
            self.request_hook.learn(default_ran);
            early?
        };
        let response = match early {
            Some(response) => response,
            None => self.next.get_response(request).await,
        };
        if self.response_hook.is_absent() {
            return Ok(response);
        }
        let (response, default_ran) = probe(self.hooks.process_response(request, response)).await;
        self.response_hook.learn(default_ran);
        response
    }

    fn hook_pair(&self) -> Option<HookPair<'_>> {
        Some(HookPair(HookPairKind::Async {
            hooks: &self.hooks,
            request_hook: &self.request_hook,
            response_hook: &self.response_hook,
        }))
    }

    // The hooks' own boxed future, passed on rather than boxed again inside this one: this
    // runs on every request that reaches a view, for each layer with a `process_view`.
    fn process_view<'s, 'r, 'v, 'f>(
        &'s self,
        request: &'r mut Request,
        view: &'v ResolverMatch,
    ) -> ViewHookFuture<'f>
    where
        's: 'f,
        'r: 'f,
        'v: 'f,
        Self: 'f,
    {
        self.hooks.process_view(request, view)
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

/// Adapts a [`Hooks`] middleware into a [`Middleware`] (the registry does it for you:
/// [`Registry::register_ready_hooks`](crate::Registry::register_ready_hooks)).
pub struct HooksLayer<H> {
    hooks: H,
    next: Next,
}

impl<H> fmt::Debug for HooksLayer<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HooksLayer").finish_non_exhaustive()
    }
}

impl<H: Hooks> HooksLayer<H> {
    /// Runs `hooks` around `next`.
    pub fn new(hooks: H, next: Next) -> Self {
        HooksLayer { hooks, next }
    }
}

#[async_trait]
impl<H: Hooks> Middleware for HooksLayer<H> {
    async fn call(&self, request: &mut Request) -> Result<Response, Error> {
        let early = self.hooks.process_request(request).outcome().await?;
        let mut response = match early {
            Some(response) => response,
            None => self.next.get_response(request).await,
        };
        self.hooks
            .process_response(request, &mut response)
            .outcome()
            .await?;
        Ok(response)
    }

    fn hook_pair(&self) -> Option<HookPair<'_>> {
        Some(HookPair(HookPairKind::Ready(&self.hooks)))
    }

    // The chain calls a `Hooks` layer's process_view directly (`hook_pair`); this is for
    // callers that go through the trait.
    async fn process_view(
        &self,
        request: &mut Request,
        view: &ResolverMatch,
    ) -> Result<Option<Response>, Error> {
        self.hooks.process_view(request, view).outcome().await
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
