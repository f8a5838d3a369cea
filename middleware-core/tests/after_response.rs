//! Work after the response (`RequestExt::after_response`), Django's `request_finished`: it runs
//! once the client has the whole response, never before, is bounded, survives its own panics,
//! and is drained by the server's graceful shutdown up to the shutdown timeout.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::Bytes;
use http::StatusCode;
use middleware_core::server::{LiveServer, ServerConfig};
use middleware_core::test_client::Client as TestClient;
use middleware_core::{
    Chain, Error, GetResponse, Registry, Request, RequestExt, Response, Settings, TaskRefused,
};
use tokio::sync::Notify;

mod support;

/// What a view's after-response task did.
#[derive(Default)]
struct Seen {
    /// Set by the view's streaming body when its last chunk has been taken.
    body_done: AtomicBool,
    /// Set by the task when it starts: whether the body was done by then.
    started_after_body: AtomicBool,
    started: AtomicBool,
    finished: AtomicUsize,
    /// The task waits for this before it finishes.
    gate: Notify,
    refused: AtomicUsize,
}

/// A view that queues `tasks` after-response tasks (each waits for `seen.gate` when `gated`,
/// or sleeps `sleep`) and answers with a two-chunk streaming body.
struct QueueingView {
    seen: Arc<Seen>,
    tasks: usize,
    gated: bool,
    sleep: Duration,
}

#[async_trait]
impl GetResponse for QueueingView {
    async fn get_response(&self, request: &mut Request) -> Response {
        for _ in 0..self.tasks {
            let seen = self.seen.clone();
            let gated = self.gated;
            let sleep = self.sleep;
            let queued = request.after_response().add(async move {
                seen.started_after_body
                    .store(seen.body_done.load(Ordering::SeqCst), Ordering::SeqCst);
                seen.started.store(true, Ordering::SeqCst);
                if gated {
                    seen.gate.notified().await;
                }
                tokio::time::sleep(sleep).await;
                seen.finished.fetch_add(1, Ordering::SeqCst);
            });
            if queued.is_err() {
                self.seen.refused.fetch_add(1, Ordering::SeqCst);
            }
        }
        let seen = self.seen.clone();
        let chunks = futures_util::stream::unfold(0, move |i| {
            let seen = seen.clone();
            async move {
                match i {
                    0 => Some((Ok::<_, Error>(Bytes::from_static(b"hello ")), 1)),
                    1 => {
                        seen.body_done.store(true, Ordering::SeqCst);
                        Some((Ok(Bytes::from_static(b"world")), 2))
                    }
                    _ => None,
                }
            }
        });
        middleware_core::response::streaming(StatusCode::OK, "text/plain", chunks)
    }
}

fn chain(view: QueueingView, limit: Option<usize>) -> Chain {
    let settings = Settings::from_toml_str(
        "SECRET_KEY = \"test-secret-key-0123456789-0123456789-0123456789\"\nALLOWED_HOSTS = [\"*\"]\n",
        "test",
    )
    .unwrap();
    let registry = Registry::new();
    let mut builder = Chain::builder(&registry, &settings).handler(view);
    if let Some(limit) = limit {
        builder = builder.after_response_limit(limit);
    }
    builder.build().unwrap()
}

fn view(seen: &Arc<Seen>, tasks: usize) -> QueueingView {
    QueueingView {
        seen: seen.clone(),
        tasks,
        gated: true,
        sleep: Duration::ZERO,
    }
}

async fn eventually(what: &str, done: impl Fn() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < Duration::from_secs(10), "never: {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

// The test client has the whole body while the task is still held at its gate: the response
// never waits for the task, and the task starts only once the body was finished.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_client_gets_the_response_before_the_task_runs() {
    let seen = Arc::new(Seen::default());
    let chain = chain(view(&seen, 1), None);
    let tasks = chain.after_response_tasks().clone();
    let mut client = TestClient::new(chain);
    let response = client.get("/").await;
    assert_eq!(response.text(), "hello world");
    assert_eq!(seen.finished.load(Ordering::SeqCst), 0);
    eventually("the task starts", || seen.started.load(Ordering::SeqCst)).await;
    assert!(seen.started_after_body.load(Ordering::SeqCst));
    assert_eq!(tasks.pending(), 1);
    seen.gate.notify_one();
    assert!(tasks.drain(Duration::from_secs(5)).await);
    assert_eq!(seen.finished.load(Ordering::SeqCst), 1);
    assert_eq!(tasks.pending(), 0);
}

// Over real TCP: the client reads the whole response (the server closes the connection)
// while the task waits; then the task finishes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_client_has_the_whole_response_before_the_task_side_effect() {
    let seen = Arc::new(Seen::default());
    let chain = chain(view(&seen, 1), None);
    let tasks = chain.after_response_tasks().clone();
    let server = LiveServer::start(chain, ServerConfig::default())
        .await
        .unwrap();
    let answer = support::raw(
        server.addr(),
        "GET / HTTP/1.1\r\nHost: testserver\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.contains("hello ") && answer.contains("world"),
        "{answer}"
    );
    assert_eq!(seen.finished.load(Ordering::SeqCst), 0);
    eventually("the task starts", || seen.started.load(Ordering::SeqCst)).await;
    assert!(seen.started_after_body.load(Ordering::SeqCst));
    seen.gate.notify_one();
    assert!(tasks.drain(Duration::from_secs(5)).await);
    assert_eq!(seen.finished.load(Ordering::SeqCst), 1);
    server.finished().await.unwrap();
}

// The shutdown signal arrives while a task is still running: the server returns only once it
// has finished (within the shutdown timeout).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_waits_for_a_pending_task() {
    let seen = Arc::new(Seen::default());
    let mut view = view(&seen, 1);
    view.gated = false;
    view.sleep = Duration::from_millis(400);
    let chain = chain(view, None);
    let config = ServerConfig::default().shutdown_timeout(Duration::from_secs(5));
    let mut server = LiveServer::start(chain, config).await.unwrap();
    let answer = support::raw(
        server.addr(),
        "GET / HTTP/1.1\r\nHost: testserver\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    eventually("the task starts", || seen.started.load(Ordering::SeqCst)).await;
    assert_eq!(seen.finished.load(Ordering::SeqCst), 0);
    let stopping = Instant::now();
    assert!(server.stop());
    server.finished().await.unwrap();
    assert_eq!(
        seen.finished.load(Ordering::SeqCst),
        1,
        "the server exited before its after-response task finished"
    );
    assert!(stopping.elapsed() < Duration::from_secs(5));
}

// A task still running at the shutdown timeout does not hold the server: it returns at the
// timeout, the task abandoned.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_abandons_a_task_at_the_timeout() {
    let seen = Arc::new(Seen::default());
    let chain = chain(view(&seen, 1), None);
    let tasks = chain.after_response_tasks().clone();
    let timeout = Duration::from_millis(300);
    let config = ServerConfig::default().shutdown_timeout(timeout);
    let mut server = LiveServer::start(chain, config).await.unwrap();
    support::raw(
        server.addr(),
        "GET / HTTP/1.1\r\nHost: testserver\r\nConnection: close\r\n\r\n",
    )
    .await;
    eventually("the task starts", || seen.started.load(Ordering::SeqCst)).await;
    let stopping = Instant::now();
    assert!(server.stop());
    server.finished().await.unwrap();
    let took = stopping.elapsed();
    assert!(took >= timeout, "returned after {took:?}");
    assert!(took < timeout * 10, "returned after {took:?}");
    assert_eq!(seen.finished.load(Ordering::SeqCst), 0);
    assert_eq!(tasks.pending(), 1);
    seen.gate.notify_one();
}

// Over the chain's limit, a task is refused (with a warning) and the response is unaffected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_over_the_limit_are_refused() {
    let seen = Arc::new(Seen::default());
    let chain = chain(view(&seen, 3), Some(2));
    let tasks = chain.after_response_tasks().clone();
    let mut client = TestClient::new(chain);
    let response = client.get("/").await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(seen.refused.load(Ordering::SeqCst), 1);
    assert_eq!(tasks.pending(), 2);
    // Running tasks count too: a second request gets none in.
    client.get("/").await;
    assert_eq!(seen.refused.load(Ordering::SeqCst), 4);
    // Until both have started, a task may not be waiting at the gate yet.
    eventually("both tasks finish", || {
        seen.gate.notify_waiters();
        seen.finished.load(Ordering::SeqCst) == 2
    })
    .await;
    assert!(tasks.drain(Duration::from_secs(5)).await);
}

struct FailingView;

#[async_trait]
impl GetResponse for FailingView {
    async fn get_response(&self, request: &mut Request) -> Response {
        let queue = request.after_response();
        queue
            .add(async { panic!("boom in an after-response task") as () })
            .unwrap();
        queue
            .add(async { Err::<(), _>("an after-response error") })
            .unwrap();
        Response::new("ok".into())
    }
}

// A panicking task and a failing one are logged and counted out; the chain keeps working.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panics_and_errors_are_contained() {
    let settings = Settings::from_toml_str("ALLOWED_HOSTS = [\"*\"]", "test").unwrap();
    let chain = Chain::builder(&Registry::new(), &settings)
        .handler(FailingView)
        .build()
        .unwrap();
    let tasks = chain.after_response_tasks().clone();
    let mut client = TestClient::new(chain);
    assert_eq!(client.get("/").await.text(), "ok");
    assert!(tasks.drain(Duration::from_secs(5)).await);
    assert_eq!(client.get("/").await.text(), "ok");
    assert!(tasks.drain(Duration::from_secs(5)).await);
}

// Outside a chain nothing would run the task: it is refused rather than silently lost.
#[test]
fn outside_a_chain_tasks_are_refused() {
    let mut request = http::Request::get("/")
        .body(middleware_core::Body::empty())
        .unwrap();
    assert_eq!(
        request.after_response().add(async {}),
        Err(TaskRefused::NoChain)
    );
}
