//! HTTP/2 streams, each under its own send timeout.
//!
//! Why per stream: the connection's watchdog (`Activity::send_waits`) sees a connection as
//! sending while any of its responses moves, so a client that reads one stream and leaves
//! another with a full window would hold the second for good. hyper runs each HTTP/2 stream as
//! a task of its own, spawned through the connection's executor: this executor wraps each one
//! so that a stream whose response has waited for its client past the send timeout is dropped,
//! which resets that stream (RST_STREAM) and nothing else on the connection.
//!
//! The response body marks its waits ([`frame_waits`], [`frame_taken`]) in the stream task's
//! [`StreamClock`], reached through a task-local: no lock and no registration per stream. The
//! timer is armed when a wait starts and looked at again only when it fires, so a stream that
//! moves pays a counter increment per frame; a stall is caught between one and two send
//! timeouts after it starts.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

tokio::task_local! {
    static STREAM: Arc<StreamClock>;
}

/// What a stream's response body tells its task: whether it has a frame waiting for the
/// client, and how many it has handed over (to tell a long wait from many short ones).
#[derive(Default)]
struct StreamClock {
    waiting: AtomicBool,
    handed_over: AtomicU64,
}

/// The response body has handed over a frame that is not its last and waits to be asked for
/// the next. Outside an HTTP/2 stream task (HTTP/1.1), nothing.
pub(super) fn frame_waits() {
    let _ = STREAM.try_with(|clock| {
        // Only the stream's own task reads these, between its polls: no ordering needed.
        clock.waiting.store(true, Ordering::Relaxed);
        clock.handed_over.fetch_add(1, Ordering::Relaxed);
    });
}

/// The client has taken the waiting frame (hyper asks for the next one).
pub(super) fn frame_taken() {
    let _ = STREAM.try_with(|clock| clock.waiting.store(false, Ordering::Relaxed));
}

/// The executor hyper spawns HTTP/2 stream tasks on: tokio's, each task under the send
/// timeout.
#[derive(Clone, Copy, Debug)]
pub(super) struct StreamExecutor {
    pub(super) send_timeout: Duration,
}

impl<F> hyper::rt::Executor<F> for StreamExecutor
where
    F: Future<Output = ()> + Send + 'static,
{
    fn execute(&self, stream: F) {
        tokio::spawn(watched(stream, self.send_timeout));
    }
}

/// Runs `stream` until it ends, or until its response has waited `timeout` (to twice that)
/// for the client without any of it taken.
async fn watched(stream: impl Future<Output = ()>, timeout: Duration) {
    let clock = Arc::new(StreamClock::default());
    let mut stream = std::pin::pin!(stream);
    let deadline = tokio::time::sleep(timeout);
    let mut deadline = std::pin::pin!(deadline);
    // The count of frames handed over when the deadline was armed; `None`: not armed.
    let mut armed: Option<u64> = None;
    std::future::poll_fn(|cx| {
        if STREAM
            .sync_scope(clock.clone(), || stream.as_mut().poll(cx))
            .is_ready()
        {
            return Poll::Ready(());
        }
        if !clock.waiting.load(Ordering::Relaxed) {
            armed = None;
            return Poll::Pending;
        }
        let handed_over = clock.handed_over.load(Ordering::Relaxed);
        if armed.is_some() && deadline.as_mut().poll(cx).is_ready() {
            if armed == Some(handed_over) {
                tracing::warn!(target: "django.server", timeout_s = timeout.as_secs_f64(), "an HTTP/2 client took none of a response within the send timeout: stream reset");
                return Poll::Ready(());
            }
            // Frames went out since it was armed: the stall, if any, is younger.
            armed = None;
        }
        if armed.is_none() {
            deadline
                .as_mut()
                .reset(tokio::time::Instant::now() + timeout);
            armed = Some(handed_over);
            // Polled once after the reset, so the timer wakes this task.
            let _ = deadline.as_mut().poll(cx);
        }
        Poll::Pending
    })
    .await;
}
