//! The functions of a hook-style function middleware ([`FnHooks`]) and what such functions may
//! return ([`HookOutput`]). The chain runs them as [`Hooks`]; the registry builds the
//! middleware from them ([`crate::fn_middleware`]).

use std::fmt;
use std::sync::Arc;

use crate::error::Error;
use crate::hooks::{Hook, Hooks};
use crate::{Request, Response};

/// What a middleware function may return, converted to what the chain needs (`T`).
pub trait HookOutput<T> {
    /// The outcome; an `Err` is answered by the chain's error handlers.
    fn into_outcome(self) -> Result<T, Error>;
}

impl HookOutput<Response> for Response {
    fn into_outcome(self) -> Result<Response, Error> {
        Ok(self)
    }
}

impl HookOutput<Response> for Result<Response, Error> {
    fn into_outcome(self) -> Result<Response, Error> {
        self
    }
}

impl HookOutput<()> for () {
    fn into_outcome(self) -> Result<(), Error> {
        Ok(())
    }
}

impl HookOutput<()> for Result<(), Error> {
    fn into_outcome(self) -> Result<(), Error> {
        self
    }
}

impl HookOutput<Option<Response>> for () {
    fn into_outcome(self) -> Result<Option<Response>, Error> {
        Ok(None)
    }
}

impl HookOutput<Option<Response>> for Option<Response> {
    fn into_outcome(self) -> Result<Option<Response>, Error> {
        Ok(self)
    }
}

impl HookOutput<Option<Response>> for Result<Option<Response>, Error> {
    fn into_outcome(self) -> Result<Option<Response>, Error> {
        self
    }
}

pub(crate) type RequestHook =
    Arc<dyn Fn(&mut Request) -> Result<Option<Response>, Error> + Send + Sync>;
/// A `process_response` as it runs: on the response in place.
pub(crate) type ResponseHook =
    Arc<dyn Fn(&mut Request, &mut Response) -> Result<(), Error> + Send + Sync>;

/// A `process_request` / `process_response` pair of functions, either optional; see
/// [`Registry::register_fn_hooks`](crate::Registry::register_fn_hooks).
#[derive(Clone, Default)]
pub struct FnHooks {
    pub(crate) request: Option<RequestHook>,
    pub(crate) response: Option<ResponseHook>,
}

impl fmt::Debug for FnHooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FnHooks")
            .field("process_request", &self.request.is_some())
            .field("process_response", &self.response.is_some())
            .finish()
    }
}

impl FnHooks {
    /// No hooks yet.
    pub fn new() -> Self {
        FnHooks::default()
    }

    /// Django's `process_request`: before the rest of the chain. Return `()` or `None` to go
    /// on, `Some(response)` to answer now.
    pub fn process_request<F, R>(mut self, hook: F) -> Self
    where
        F: Fn(&mut Request) -> R + Send + Sync + 'static,
        R: HookOutput<Option<Response>>,
    {
        self.request = Some(Arc::new(move |request| hook(request).into_outcome()));
        self
    }

    /// Django's `process_response`: after the rest of the chain (or the early response).
    pub fn process_response<F, R>(mut self, hook: F) -> Self
    where
        F: Fn(&mut Request, Response) -> R + Send + Sync + 'static,
        R: HookOutput<Response>,
    {
        // The function takes the response and gives one back, as Django's does; on an error
        // the chain replaces what is left here with the error's response.
        self.response = Some(Arc::new(move |request, response: &mut Response| {
            let taken = std::mem::take(response);
            *response = hook(request, taken).into_outcome()?;
            Ok(())
        }));
        self
    }

    /// Django's `process_response` editing the response in place rather than taking it and
    /// giving it back: the cheaper form (no move of the response), for a hook that sets
    /// headers and the like. Replace the whole response with `*response = ...`. Return `()`
    /// or a `Result<(), Error>`.
    pub fn process_response_in_place<F, R>(mut self, hook: F) -> Self
    where
        F: Fn(&mut Request, &mut Response) -> R + Send + Sync + 'static,
        R: HookOutput<()>,
    {
        self.response = Some(Arc::new(move |request, response: &mut Response| {
            hook(request, response).into_outcome()
        }));
        self
    }
}

impl Hooks for FnHooks {
    fn process_request<'a>(
        &'a self,
        request: &'a mut Request,
    ) -> Hook<'a, Result<Option<Response>, Error>> {
        Hook::Ready(match &self.request {
            Some(hook) => hook(request),
            None => Ok(None),
        })
    }

    fn process_response<'a>(
        &'a self,
        request: &'a mut Request,
        response: &'a mut Response,
    ) -> Hook<'a, Result<(), Error>> {
        Hook::Ready(match &self.response {
            Some(hook) => hook(request, response),
            None => Ok(()),
        })
    }
}
