//! Work that runs after the response has been sent: Django's `request_finished` signal,
//! Starlette's background tasks.
//!
//! A middleware or view queues a task on the request ([`RequestExt::after_response`](crate::RequestExt::after_response)); the
//! chain hands the queue to the response body, and when that body is finished (sent to the
//! client, collected by the test client, or dropped because the client went away) the tasks are
//! spawned on the current tokio runtime. The client never waits for them.
//!
//! The seed's `AsyncLoggingMiddleware`, its second line logged after the response:
//!
//! ```
//! use middleware_core::{Next, Registry, Request, RequestExt};
//!
//! let mut registry = Registry::new();
//! registry.register_fn("AsyncLoggingMiddleware", |mut request: Request, next: Next| async move {
//!     tracing::info!("Handling request path: {}", request.uri().path());
//!     let after = request.after_response();
//!     let response = next.run(request).await;
//!     let status = response.status().as_u16();
//!     // Runs once the client has the whole response; the response never waits for it.
//!     let _ = after.add(async move {
//!         tracing::info!("Response status: {status}");
//!     });
//!     response
//! });
//! ```
//!
//! A view queues work the same way (`request.after_response().add(..)`), and an axum handler
//! behind `ChainLayer` (feature `tower`) with `Extension<AfterResponse>`.
//!
//! # Bounds, errors, shutdown
//!
//! * A chain holds at most [`ChainBuilder::after_response_limit`](crate::ChainBuilder::after_response_limit)
//!   tasks at a time, queued or running (1024 by default). Over it, [`AfterResponse::add`]
//!   refuses the task, logs a warning and returns [`TaskRefused::Full`]: a flood of requests
//!   cannot pile up unbounded work behind the responses.
//! * A task returns `()` or a `Result<(), E>` with `E: Display`; an `Err` and a panic are logged
//!   (target `django.request`, level error) and go no further.
//! * The chain's [`AfterResponseTasks`] counts them. The built-in server drains it in its
//!   graceful shutdown, within the same shutdown timeout as the in-flight requests; tasks still
//!   running at the timeout are abandoned with a warning. An embedder (`ChainLayer`, the tower
//!   `Service`, `.handler(..)`) drains it the same way before its runtime ends:
//!   `chain.after_response_tasks().drain(timeout).await`.
//! * A request not handled by a chain (a view called directly in a unit test) has nowhere to
//!   run its tasks: they are refused ([`TaskRefused::NoChain`]).
//! * When the body is finished outside a tokio runtime the tasks cannot be spawned; they are
//!   dropped with a warning.

use std::fmt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::FutureExt;

/// How many after-response tasks a chain holds at once by default.
pub const DEFAULT_LIMIT: usize = 1024;

type Task = Pin<Box<dyn Future<Output = ()> + Send>>;

/// What an after-response task may return; an error is logged.
pub trait TaskOutcome {
    /// `Err` with the message to log.
    fn into_outcome(self) -> Result<(), String>;
}

impl TaskOutcome for () {
    fn into_outcome(self) -> Result<(), String> {
        Ok(())
    }
}

impl<E: fmt::Display> TaskOutcome for Result<(), E> {
    fn into_outcome(self) -> Result<(), String> {
        self.map_err(|e| e.to_string())
    }
}

/// Why [`AfterResponse::add`] refused a task (it has logged a warning too).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TaskRefused {
    /// The chain holds its limit of tasks already.
    #[error("the chain already holds {limit} after-response tasks; this one is refused")]
    Full {
        /// The chain's limit.
        limit: usize,
    },
    /// The request is not being handled by a chain, so nothing would run the task.
    #[error("the request is not handled by a chain: no one would run an after-response task")]
    NoChain,
}

/// A chain's after-response tasks, queued and running: the count that bounds them and that
/// graceful shutdown waits on.
pub struct AfterResponseTasks {
    pending: AtomicUsize,
    limit: usize,
    idle: tokio::sync::Notify,
}

impl fmt::Debug for AfterResponseTasks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AfterResponseTasks")
            .field("pending", &self.pending())
            .field("limit", &self.limit)
            .finish()
    }
}

impl AfterResponseTasks {
    pub(crate) fn new(limit: usize) -> Self {
        AfterResponseTasks {
            pending: AtomicUsize::new(0),
            limit,
            idle: tokio::sync::Notify::new(),
        }
    }

    /// Tasks queued on requests still being answered, or running.
    pub fn pending(&self) -> usize {
        self.pending.load(Ordering::Acquire)
    }

    /// The most tasks held at once.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Waits until no task is queued or running.
    pub async fn idle(&self) {
        loop {
            let notified = self.idle.notified();
            tokio::pin!(notified);
            // Registered before the count is read, so a last task finishing in between wakes us.
            notified.as_mut().enable();
            if self.pending() == 0 {
                return;
            }
            notified.await;
        }
    }

    /// Waits until no task is queued or running, or `timeout` has passed: `true` when all are
    /// done. What is still running keeps running on its runtime.
    pub async fn drain(&self, timeout: Duration) -> bool {
        tokio::time::timeout(timeout, self.idle()).await.is_ok()
    }

    fn reserve(&self) -> bool {
        self.pending
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.limit).then_some(n + 1)
            })
            .is_ok()
    }

    fn release(&self, n: usize) {
        if n > 0 && self.pending.fetch_sub(n, Ordering::AcqRel) == n {
            self.idle.notify_waiters();
        }
    }
}

/// One request's queue of after-response tasks. Cheap to clone (an `Arc`); clones share the
/// queue. From axum handlers behind `ChainLayer`: `Extension<AfterResponse>`.
#[derive(Clone)]
pub struct AfterResponse(Arc<Queue>);

impl fmt::Debug for AfterResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AfterResponse")
            .field("queued", &lock(&self.0.tasks).len())
            .finish()
    }
}

struct Queue {
    tracker: Option<Arc<AfterResponseTasks>>,
    tasks: Mutex<Vec<Task>>,
}

fn lock(tasks: &Mutex<Vec<Task>>) -> std::sync::MutexGuard<'_, Vec<Task>> {
    // A poisoned lock only means a panic elsewhere; the list is still sound.
    tasks.lock().unwrap_or_else(|p| p.into_inner())
}

impl AfterResponse {
    pub(crate) fn new(tracker: Option<Arc<AfterResponseTasks>>) -> Self {
        AfterResponse(Arc::new(Queue {
            tracker,
            tasks: Mutex::new(Vec::new()),
        }))
    }

    /// Queues `task` to run after the response has been sent; see the [module docs](self).
    pub fn add<F>(&self, task: F) -> Result<(), TaskRefused>
    where
        F: Future + Send + 'static,
        F::Output: TaskOutcome,
    {
        let Some(tracker) = &self.0.tracker else {
            tracing::warn!(target: "django.request", "after-response task refused: the request is not handled by a chain");
            return Err(TaskRefused::NoChain);
        };
        if !tracker.reserve() {
            tracing::warn!(target: "django.request", limit = tracker.limit, "after-response task refused: the chain holds its limit of tasks");
            return Err(TaskRefused::Full {
                limit: tracker.limit,
            });
        }
        let task = async move {
            match AssertUnwindSafe(task).catch_unwind().await {
                Ok(outcome) => {
                    if let Err(error) = outcome.into_outcome() {
                        tracing::error!(target: "django.request", %error, "after-response task failed");
                    }
                }
                Err(panic) => {
                    let message = panic
                        .downcast_ref::<&str>()
                        .map(|s| (*s).to_owned())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "(not a string)".to_owned());
                    tracing::error!(target: "django.request", panic = %message, "after-response task panicked");
                }
            }
        };
        lock(&self.0.tasks).push(Box::pin(task));
        Ok(())
    }

    /// The tasks queued so far, to be run when the response body is finished.
    pub(crate) fn take(&self) -> Option<Pending> {
        let tracker = self.0.tracker.clone()?;
        let tasks = std::mem::take(&mut *lock(&self.0.tasks));
        (!tasks.is_empty()).then(|| Pending {
            tasks,
            tracker,
            others: Vec::new(),
        })
    }
}

impl Drop for Queue {
    // Tasks queued after the chain took the queue (by a handle an axum handler kept, say) run
    // when the last handle goes.
    fn drop(&mut self) {
        let tasks = std::mem::take(self.tasks.get_mut().unwrap_or_else(|p| p.into_inner()));
        if let Some(tracker) = self.tracker.take() {
            drop(Pending {
                tasks,
                tracker,
                others: Vec::new(),
            });
        }
    }
}

/// Tasks waiting for a response body to be finished; spawned when this is dropped.
pub(crate) struct Pending {
    tasks: Vec<Task>,
    tracker: Arc<AfterResponseTasks>,
    /// Tasks counted by other chains (nested ones), spawned at the same time.
    others: Vec<Pending>,
}

impl Pending {
    /// Adds `other`'s tasks to these; they are counted in `other`'s chain until they end.
    pub(crate) fn absorb(&mut self, other: Pending) {
        if Arc::ptr_eq(&self.tracker, &other.tracker) {
            let mut other = other;
            self.tasks.append(&mut other.tasks);
        } else {
            // Another chain's count: spawned with it, when `other` goes with this body.
            self.others.push(other);
        }
    }
}

/// Gives back a task's place in the count when the task ends, even when its runtime drops it.
struct Done(Arc<AfterResponseTasks>);

impl Drop for Done {
    fn drop(&mut self) {
        self.0.release(1);
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        let tasks = std::mem::take(&mut self.tasks);
        if tasks.is_empty() {
            return;
        }
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                for task in tasks {
                    let done = Done(self.tracker.clone());
                    runtime.spawn(async move {
                        let _done = done;
                        task.await;
                    });
                }
            }
            Err(_) => {
                tracing::warn!(target: "django.request", dropped = tasks.len(), "after-response tasks dropped: the response finished outside a tokio runtime");
                self.tracker.release(tasks.len());
            }
        }
    }
}
