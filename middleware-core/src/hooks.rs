//! Hook-style middleware whose hooks answer at once unless they have something to wait for:
//! the cheapest layer the chain runs.
//!
//! A [`Hooks`] middleware is Django's `MiddlewareMixin`, with `process_request`,
//! `process_response` and `process_view` as plain methods returning a [`Hook`]:
//! [`Hook::Ready`] with the outcome when there is nothing to await (a header to set, a cookie
//! to read), [`Hook::Pending`] with a future when there is (a session to save to the
//! database). The response phase edits the response in place (`&mut Response`; replace it with
//! `*response = ...`), so a run of such layers neither allocates a future nor moves the
//! response per layer. The rare hooks, `process_exception` and `process_template_response`,
//! are `async fn`s.
//!
//! ```
//! use http::HeaderValue;
//! use middleware_core::hooks::{Hook, Hooks};
//! use middleware_core::{Error, Registry, Request, Response};
//!
//! /// Django's `XFrameOptionsMiddleware`, reduced to its header.
//! struct DenyFraming;
//!
//! impl Hooks for DenyFraming {
//!     fn process_response<'a>(
//!         &'a self,
//!         _request: &'a mut Request,
//!         response: &'a mut Response,
//!     ) -> Hook<'a, Result<(), Error>> {
//!         response.headers_mut().insert("x-frame-options", HeaderValue::from_static("DENY"));
//!         Hook::Ready(Ok(()))
//!     }
//! }
//!
//! let mut registry = Registry::new();
//! registry.register_ready_hooks("DenyFraming", |_ctx| Ok(DenyFraming));
//! ```
//!
//! For hooks that always await, [`HookMiddleware`](crate::HookMiddleware) with `async fn`
//! hooks reads more simply; for a stateless pair of functions, [`crate::FnHooks`].

use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;

use async_trait::async_trait;

use crate::error::Error;
use crate::view::ResolverMatch;
use crate::{Request, Response};

/// The future of a [`Hook::Pending`] hook.
pub type HookFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a [`Hooks`] hook answers: its outcome now, or a future to await first.
pub enum Hook<'a, T> {
    /// The outcome, with nothing to wait for: no allocation, no poll.
    Ready(T),
    /// A future to await for the outcome (I/O: a database, a cache).
    Pending(HookFuture<'a, T>),
}

impl<T> fmt::Debug for Hook<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Hook::Ready(_) => "Hook::Ready(..)",
            Hook::Pending(_) => "Hook::Pending(..)",
        })
    }
}

impl<'a, T> Hook<'a, T> {
    /// A hook that awaits `future` for its outcome.
    pub fn pending(future: impl Future<Output = T> + Send + 'a) -> Self {
        Hook::Pending(Box::pin(future))
    }

    /// The outcome, awaited if there is something to wait for.
    pub async fn outcome(self) -> T {
        match self {
            Hook::Ready(outcome) => outcome,
            Hook::Pending(future) => future.await,
        }
    }
}

/// A hook-style middleware with hooks that answer at once unless they must wait; see the
/// [module docs](self). Built once, shared by every request: keep per-request state in the
/// request's extensions.
///
/// As in Django's `MiddlewareMixin`, a `process_request` that answers skips the rest of the
/// chain and its own `process_response` still runs; one that fails (an `Err`, a panic) is
/// answered by the error handlers, and its `process_response` does not run.
#[async_trait]
pub trait Hooks: Send + Sync + 'static {
    /// Before the rest of the chain; `Some(response)` short-circuits it.
    fn process_request<'a>(
        &'a self,
        _request: &'a mut Request,
    ) -> Hook<'a, Result<Option<Response>, Error>> {
        Hook::Ready(Ok(None))
    }

    /// After the rest of the chain (or the short-circuit response), on the response in place.
    fn process_response<'a>(
        &'a self,
        _request: &'a mut Request,
        _response: &'a mut Response,
    ) -> Hook<'a, Result<(), Error>> {
        Hook::Ready(Ok(()))
    }

    /// See [`Middleware::process_view`](crate::Middleware::process_view).
    fn process_view<'a>(
        &'a self,
        _request: &'a mut Request,
        _view: &'a ResolverMatch,
    ) -> Hook<'a, Result<Option<Response>, Error>> {
        default_hook_ran();
        Hook::Ready(Ok(None))
    }

    /// See [`Middleware::process_exception`](crate::Middleware::process_exception).
    async fn process_exception(&self, _request: &mut Request, _error: &Error) -> Option<Response> {
        default_hook_ran();
        None
    }

    /// See [`Middleware::process_template_response`](crate::Middleware::process_template_response).
    async fn process_template_response(
        &self,
        _request: &mut Request,
        response: Response,
    ) -> Result<Response, Error> {
        default_hook_ran();
        Ok(response)
    }
}

thread_local! {
    /// Set by the default body of an optional hook, read by [`probe`] around each poll.
    static DEFAULT_HOOK_RAN: Cell<bool> = const { Cell::new(false) };
}

/// Called by the default bodies of the optional hooks: "this hook is not implemented".
pub(crate) fn default_hook_ran() {
    DEFAULT_HOOK_RAN.with(|ran| ran.set(true));
}

/// Calls a hook and reports whether it ran a default hook body: [`probe`] for a hook that
/// answers when called.
pub(crate) fn probe_call<T>(hook: impl FnOnce() -> T) -> (T, bool) {
    // Restored even if the hook panics, so the flag of an outer probe is not lost.
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            let saved = self.0;
            DEFAULT_HOOK_RAN.with(|ran| ran.set(saved));
        }
    }
    let restore = Restore(DEFAULT_HOOK_RAN.with(|ran| ran.replace(false)));
    let answer = hook();
    let ran = DEFAULT_HOOK_RAN.with(Cell::get);
    drop(restore);
    (answer, ran)
}

/// Runs a hook's future and reports whether its last poll ran a default hook body, i.e.
/// whether the hook is the trait's default (which completes in its first and only poll).
///
/// The flag is saved and restored around each poll, so a chain run inside a hook (whose own
/// probes consume their flags) or another task on the thread cannot make a written hook look
/// absent.
pub(crate) async fn probe<F: Future>(future: F) -> (F::Output, bool) {
    let mut future = std::pin::pin!(future);
    std::future::poll_fn(|cx| {
        let saved = DEFAULT_HOOK_RAN.with(|ran| ran.replace(false));
        let poll = future.as_mut().poll(cx);
        let ran = DEFAULT_HOOK_RAN.with(|ran| ran.replace(saved));
        poll.map(|output| (output, ran))
    })
    .await
}
