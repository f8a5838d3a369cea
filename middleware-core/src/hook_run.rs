//! Consecutive hook-style layers run as one layer.
//!
//! Each layer of the chain is a boxed `call` future inside the one around it, with its own
//! panic guard and error conversion. A run of `MiddlewareMixin`-style layers ([`Mixin`],
//! [`HooksLayer`](crate::HooksLayer), [`FnHooks`](crate::FnHooks)) does nothing in `call` but
//! its two hooks around the rest of the chain, so the chain runs the whole run in one `call`:
//! every `process_request` in order, the rest of the chain, every `process_response` in
//! reverse. Django's semantics per layer are kept: an error or a panic in a layer's hook becomes a response there (Django's
//! `convert_exception_to_response` around each middleware), which the layers outside it
//! then see; a layer whose `process_request` answers still runs its own `process_response`,
//! and one whose `process_request` fails does not.
//!
//! [`Mixin`]: crate::Mixin

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use async_trait::async_trait;

use crate::error::{Error, ErrorHandlers};
use crate::hooks::Hook;
use crate::middleware::{converted, poll_caught, probe, HookPairKind, Middleware, Next};
use crate::{Request, Response};

/// The `Next` an outer layer gets for `run` (hook-style layers, innermost first, all with a
/// [`Middleware::hook_pair`]) around `inner`: the layer itself when it is alone.
pub(crate) fn next_for(
    run: &[Arc<dyn Middleware>],
    inner: &Next,
    errors: &Arc<ErrorHandlers>,
) -> Next {
    match run {
        [one] => Next::new(one.clone(), errors.clone()),
        _ => Next::new(
            Arc::new(HookRun {
                layers: run.iter().rev().cloned().collect(),
                inner: inner.clone(),
            }),
            errors.clone(),
        ),
    }
}

/// A run of hook-style layers; see the module docs.
struct HookRun {
    /// Outermost first.
    layers: Box<[Arc<dyn Middleware>]>,
    /// What the innermost layer of the run calls.
    inner: Next,
}

impl HookRun {
    /// The request phase: how many layers' `process_response` must run (the layers entered),
    /// and the response that ended the phase early, if one did.
    async fn enter(&self, request: &mut Request) -> (usize, Option<Response>) {
        let errors = self.inner.error_handlers();
        for (index, layer) in self.layers.iter().enumerate() {
            let Some(pair) = layer.hook_pair() else {
                continue;
            };
            let outcome = match pair.0 {
                HookPairKind::Ready(hooks) => {
                    let mut answer = None;
                    match caught(&mut answer, || hooks.process_request(request)) {
                        Err(payload) => Err(payload),
                        Ok(()) => match answer {
                            Some(Hook::Ready(Ok(None))) | None => continue,
                            Some(Hook::Ready(outcome)) => Ok(outcome),
                            Some(Hook::Pending(mut call)) => {
                                std::future::poll_fn(|cx| poll_caught(call.as_mut(), cx)).await
                            }
                        },
                    }
                }
                HookPairKind::Async {
                    hooks,
                    request_hook,
                    ..
                } => {
                    if request_hook.is_absent() {
                        continue;
                    }
                    let mut call = std::pin::pin!(probe(hooks.process_request(request)));
                    std::future::poll_fn(|cx| poll_caught(call.as_mut(), cx))
                        .await
                        .map(|(outcome, default_ran)| {
                            request_hook.learn(default_ran);
                            outcome
                        })
                }
            };
            match outcome {
                Ok(Ok(None)) => {}
                // The layer answered: its own process_response sees the answer.
                Ok(Ok(Some(response))) => return (index + 1, Some(response)),
                // The layer failed: its error handling answers, the layers outside it see that.
                Ok(Err(error)) => return (index, Some(converted(errors, request, Ok(Err(error))))),
                Err(payload) => return (index, Some(converted(errors, request, Err(payload)))),
            }
        }
        (self.layers.len(), None)
    }
}

/// Calls `hook` with its panics caught, its answer written into `answer`. The answer is
/// matched where it was written: returned through `catch_unwind` and then out of a helper,
/// each layer's outcome (a `Result` that can hold a response) was copied several times a
/// request. `Ok` means the hook returned, so `answer` is set.
fn caught<'a, T>(
    answer: &mut Option<Hook<'a, T>>,
    hook: impl FnOnce() -> Hook<'a, T>,
) -> std::thread::Result<()> {
    std::panic::catch_unwind(AssertUnwindSafe(|| *answer = Some(hook())))
}

#[async_trait]
impl Middleware for HookRun {
    async fn call(&self, request: &mut Request) -> Result<Response, Error> {
        let (entered, early) = self.enter(request).await;
        let mut response = match early {
            Some(response) => response,
            None => self.inner.get_response(request).await,
        };
        let errors = self.inner.error_handlers();
        for layer in self.layers[..entered].iter().rev() {
            let Some(pair) = layer.hook_pair() else {
                continue;
            };
            match pair.0 {
                HookPairKind::Ready(hooks) => {
                    // The response is edited in place: a hook that answered at once and well
                    // is done with it. The answer borrows the response until the block ends.
                    let outcome = {
                        let mut answer = None;
                        match caught(&mut answer, || {
                            hooks.process_response(request, &mut response)
                        }) {
                            Err(payload) => Err(payload),
                            Ok(()) => match answer {
                                Some(Hook::Ready(Ok(()))) | None => continue,
                                Some(Hook::Ready(outcome)) => Ok(outcome),
                                Some(Hook::Pending(mut call)) => {
                                    std::future::poll_fn(|cx| poll_caught(call.as_mut(), cx)).await
                                }
                            },
                        }
                    };
                    response =
                        converted(errors, request, outcome.map(|done| done.map(|()| response)));
                }
                HookPairKind::Async {
                    hooks,
                    response_hook,
                    ..
                } => {
                    if response_hook.is_absent() {
                        continue;
                    }
                    let outcome = {
                        let mut call =
                            std::pin::pin!(probe(hooks.process_response(request, response)));
                        std::future::poll_fn(|cx| poll_caught(call.as_mut(), cx))
                            .await
                            .map(|(outcome, default_ran)| {
                                response_hook.learn(default_ran);
                                outcome
                            })
                    };
                    response = converted(errors, request, outcome);
                }
            }
        }
        Ok(response)
    }
}
