//! A production HTTP server for a [`Chain`]: hyper 1.x, HTTP/1.1 keep-alive and HTTP/2
//! cleartext on one port, limits and timeouts, one log line per request, and graceful shutdown.
//!
//! ```no_run
//! use middleware_core::server::{Server, ServerConfig};
//! # async fn run(chain: middleware_core::Chain) -> std::io::Result<()> {
//! let config = ServerConfig::default();
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8000").await?;
//! // Serves until SIGINT or SIGTERM, then lets in-flight requests finish.
//! Server::new(chain, config).serve(listener, middleware_core::server::shutdown_signal()).await
//! # }
//! ```

use std::cell::RefCell;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use futures_util::future::{self, Either};
use futures_util::FutureExt;
use http_body_util::Limited;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;

use crate::body::Body;
use crate::chain::Chain;
use crate::request::ConnectionInfo;
use crate::{Request, Response};

mod bodies;
pub(crate) mod config;
mod connections;
mod io;
mod live;
mod streams;
mod strict;

pub use crate::body::BodyTooSlow;
pub use config::{ServerConfig, ServerSettings};
pub use live::LiveServer;

use bodies::ServedBody;
use connections::{Busy, Connections, Ended};

/// How long a connection accepted at the limit waits for the idle one it shed to close
/// before it sheds another.
const SHED_AGAIN: Duration = Duration::from_millis(100);
use streams::StreamExecutor;
use strict::{bad_request, malformed, payload_too_large};

/// Serves a [`Chain`] over TCP.
#[derive(Clone, Debug)]
pub struct Server {
    chain: Chain,
    config: Arc<ServerConfig>,
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

impl Server {
    /// A server for `chain`.
    pub fn new(chain: Chain, config: ServerConfig) -> Self {
        Server {
            chain,
            config: Arc::new(config),
        }
    }

    /// Accepts connections on `listener` until `shutdown` resolves, then stops accepting and
    /// waits (up to the shutdown timeout) for in-flight requests to finish, then for the
    /// chain's [after-response tasks](crate::after_response) within the same timeout.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()>,
    ) -> std::io::Result<()> {
        refuse_empty_secret_key(&self.chain)?;
        let local_addr = listener.local_addr().ok();
        let mut builder = auto::Builder::new(StreamExecutor {
            send_timeout: self.config.send_timeout,
        });
        // The header read timeout is the server's watchdog (`Connections::watch`), not
        // hyper's: hyper arms a fresh timer for every request head, about a tenth of what
        // the site costs per request on a small page (docs/performance.md).
        builder
            .http1()
            .header_read_timeout(None)
            .max_buf_size(self.config.max_header_size.max(8192))
            .keep_alive(true);
        builder
            .http2()
            .timer(TokioTimer::new())
            .max_header_list_size(u32::try_from(self.config.max_header_size).unwrap_or(u32::MAX));
        let connections = Arc::new(Connections::new(
            self.config.header_read_timeout,
            self.config.send_timeout,
        ));
        let watchdog = tokio::spawn(connections.clone().watch());
        // Every connection task holds a sender: when the last one is gone, `recv` says so.
        let (drain, mut drained) = tokio::sync::mpsc::channel::<Infallible>(1);
        // Shared by the connections (`Activity::server`) instead of cloning the chain's handles.
        let this = Arc::new(self);
        tokio::pin!(shutdown);
        // A connection holds its slot until its task ends. One accepted with no slot free sheds
        // the keep-alive connection idle the longest and waits for its slot; behind it, new
        // connections wait in the kernel's listen backlog. Busy connections are never shed.
        let slots = Arc::new(tokio::sync::Semaphore::new(
            this.config
                .max_connections
                .clamp(1, tokio::sync::Semaphore::MAX_PERMITS),
        ));
        let mut at_limit = false;
        loop {
            let (stream, remote_addr) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(x) => x,
                    Err(e) => {
                        // Out of file descriptors and the like: keep serving.
                        tracing::warn!(target: "django.server", error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
                _ = &mut shutdown => break,
            };
            let slot = match slots.clone().try_acquire_owned() {
                Ok(slot) => {
                    at_limit = false;
                    slot
                }
                Err(_) => {
                    if !at_limit {
                        at_limit = true;
                        tracing::warn!(target: "django.server", max_connections = this.config.max_connections, "connection limit reached: idle keep-alive connections are closed to make room, new connections wait in the listen backlog");
                    }
                    let slot = loop {
                        // One at a time, again while no slot frees: a shed HTTP/2 connection
                        // may linger until its client closes.
                        connections.shed_idle(1);
                        tokio::select! {
                            slot = slots.clone().acquire_owned() => break slot.ok(),
                            _ = &mut shutdown => break None,
                            _ = tokio::time::sleep(SHED_AGAIN) => {}
                        }
                    };
                    match slot {
                        Some(slot) => slot,
                        None => break,
                    }
                }
            };
            this.serve_connection(
                &builder,
                &connections,
                stream,
                remote_addr,
                local_addr,
                (slot, drain.clone()),
            );
        }
        drop(listener);
        drop(drain);
        tracing::info!(target: "django.server", "shutting down: waiting for in-flight requests");
        connections.shut_down();
        // One timeout for both: the requests in flight, then the work they left to run after
        // their responses (`after_response`).
        let deadline = tokio::time::Instant::now() + this.config.shutdown_timeout;
        tokio::select! {
            _ = drained.recv() => {}
            _ = tokio::time::sleep_until(deadline) => {
                tracing::warn!(target: "django.server", "shutdown timeout: closing remaining connections");
                connections.abort();
            }
        }
        watchdog.abort();
        let tasks = this.chain.after_response_tasks();
        if tasks.pending() > 0 {
            tracing::info!(target: "django.server", pending = tasks.pending(), "shutting down: waiting for after-response tasks");
            if tokio::time::timeout_at(deadline, tasks.idle())
                .await
                .is_err()
            {
                tracing::warn!(target: "django.server", abandoned = tasks.pending(), "shutdown timeout: after-response tasks still running are abandoned");
            }
        }
        Ok(())
    }

    /// Serves one accepted connection on its own task, which holds `held` (the connection's
    /// slot, and a sender of the drain channel) until it ends.
    fn serve_connection(
        self: &Arc<Self>,
        builder: &auto::Builder<StreamExecutor>,
        connections: &Arc<Connections>,
        stream: tokio::net::TcpStream,
        remote_addr: SocketAddr,
        local_addr: Option<SocketAddr>,
        held: (
            tokio::sync::OwnedSemaphorePermit,
            tokio::sync::mpsc::Sender<Infallible>,
        ),
    ) {
        let _ = stream.set_nodelay(true);
        let info = ConnectionInfo {
            remote_addr: Some(remote_addr),
            local_addr,
            scheme: "http",
        };
        let activity = connections.open(self.clone(), info);
        let watched = activity.clone();
        let reuse = RefCell::new(Reuse::default());
        let service = hyper::service::service_fn(move |req: http::Request<Incoming>| {
            Server::respond(req, activity.begin(), &reuse, handle)
        });
        let conn = builder
            .serve_connection(
                TokioIo::new(io::Lingering::new(stream, watched.clone())),
                service,
            )
            .into_owned();
        tokio::spawn(async move {
            let _held = held;
            match watched
                .drive(std::pin::pin!(conn), |c| c.graceful_shutdown())
                .await
            {
                Ended::Served(Err(e)) if strict::refused_by_parser(&*e) => {
                    // hyper has answered it (400, 414 or 431) and closed.
                    tracing::warn!(target: "django.server", reason = %e, %remote_addr, "malformed request head refused");
                }
                Ended::Served(Err(e)) => {
                    tracing::debug!(target: "django.server", error = %e, %remote_addr, "connection error");
                }
                Ended::Served(Ok(())) => {}
                Ended::Idle => {
                    tracing::debug!(target: "django.server", %remote_addr, "no request head within the header read timeout: connection closed");
                }
                Ended::Stalled => {
                    tracing::warn!(target: "django.server", %remote_addr, "the client took none of its response within the send timeout: connection closed");
                }
                Ended::Aborted => {
                    tracing::warn!(target: "django.server", %remote_addr, "still busy at the shutdown timeout: connection closed");
                }
            }
        });
    }

    /// The service's answer to one request. HTTP/1.1 requests go through the chain at once,
    /// in the service call, as far as they get without waiting: hyper polls the connection
    /// for a close before it polls the response future, and a request still alive then pins
    /// the connection's read buffer, which costs a fresh buffer per request. HTTP/2 streams
    /// keep running as their own tasks.
    ///
    /// `handle` is [`handle`]: a parameter so that its future's type can be named in
    /// `reuse`, where the connection keeps what a finished request leaves for the next one.
    fn respond<H, F>(
        mut req: http::Request<Incoming>,
        busy: Busy,
        reuse: &RefCell<Reuse<F>>,
        handle: H,
    ) -> impl Future<Output = Answer>
    where
        H: FnOnce(Request, Busy, Option<Instant>) -> F,
        F: Future<Output = (Answer, http::Extensions)>,
    {
        let this = &*busy.0.server;
        // Only the log line needs the start time: no clock read when it is off.
        let started =
            tracing::enabled!(target: "django.server", tracing::Level::INFO).then(Instant::now);
        let malformed = malformed(&req);
        // RFC 9112 §3.2.2: an absolute-form target's authority wins over `Host` (as nginx's
        // `$host`), and an HTTP/2 `:authority` stands for `Host` (RFC 9113 §8.3.1), so the
        // host the chain validates is the one the request was routed by.
        if let Some(authority) = req.uri().authority() {
            if let Ok(host) = http::HeaderValue::from_str(authority.as_str()) {
                req.headers_mut().insert(http::header::HOST, host);
            }
        }
        let too_large = strict::declared_too_large(&req, this.config.max_body_size);
        let limit = usize::try_from(this.config.max_body_size).unwrap_or(usize::MAX);
        let body_min_bytes = this.config.body_min_bytes();
        // Most requests have no body: skip the boxed, limited stream for them.
        let mut request: Request = req.map(|b| {
            if http_body::Body::is_end_stream(&b) {
                Body::empty()
            } else {
                Body::from_http_body(Limited::new(
                    bodies::Paced::new(b, this.config.body_read_timeout, body_min_bytes),
                    limit,
                ))
            }
        });
        let eager = request.version() != http::Version::HTTP_2;
        let mut reuse = reuse.borrow_mut();
        crate::request::start(
            &mut request,
            reuse.extensions.take(),
            busy.0.info.clone(),
            this.chain.core_settings(),
            this.chain.after_response_tasks(),
        );
        if let Some(reason) = malformed {
            let response = bad_request(&request, reason);
            return Either::Left(future::ready(Ok(served(&request, response, started, busy))));
        }
        if too_large {
            let response = payload_too_large(&request, this.config.max_body_size);
            return Either::Left(future::ready(Ok(served(&request, response, started, busy))));
        }
        let handling = handle(request, busy, started);
        if !eager {
            return Either::Right(Box::pin(handling).map(answer_only));
        }
        let mut handling = match reuse.handling.take() {
            Some(mut slot) => {
                slot.set(handling);
                slot
            }
            None => Box::pin(handling),
        };
        // A future polled with a no-op waker and then with the task's own one is woken
        // through the last: every future must keep only the latest poll's waker.
        match handling
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
        {
            Poll::Ready((answer, extensions)) => {
                reuse.extensions = Some(extensions);
                reuse.handling = Some(handling);
                Either::Left(future::ready(answer))
            }
            Poll::Pending => Either::Right(handling.map(answer_only)),
        }
    }
}

/// What the service answers hyper with.
type Answer = Result<http::Response<ServedBody>, Infallible>;

/// The answer of a request whose extensions nobody will reuse.
fn answer_only((answer, _): (Answer, http::Extensions)) -> Answer {
    answer
}

/// What a connection keeps from a finished HTTP/1.1 request for the next one: the pinned
/// allocation its future ran in, and its extensions, emptied (`request::recycle`). Touched
/// only by the connection's own service calls, one at a time.
struct Reuse<F> {
    handling: Option<Pin<Box<F>>>,
    extensions: Option<http::Extensions>,
}

impl<F> Default for Reuse<F> {
    fn default() -> Self {
        Reuse {
            handling: None,
            extensions: None,
        }
    }
}

/// One request through the chain, then its log line; hands back the request's extensions,
/// emptied, for the next request on the connection.
// An `async` block, not an `async fn`: the arguments of an `async fn` are stored twice in its
// future (as arguments, then as locals), and this future is moved on every request.
#[allow(clippy::manual_async_fn)]
fn handle(
    mut request: Request,
    busy: Busy,
    started: Option<Instant>,
) -> impl Future<Output = (Answer, http::Extensions)> {
    async move {
        // No panic guard here: every layer of the chain has one (`Next::get_response`), and
        // the error handlers guard their own calls.
        let response = busy.0.server.chain.handle_started(&mut request).await;
        let extensions = crate::request::recycle(&mut request);
        (Ok(served(&request, response, started, busy)), extensions)
    }
}

/// The request's log line, and the response as it goes on the wire, its body keeping the
/// request counted as in flight.
fn served(
    request: &Request,
    response: Response,
    started: Option<Instant>,
    busy: Busy,
) -> http::Response<ServedBody> {
    // Fields only: a message repeating method, path and status cost a third of the line
    // (`docs/performance.md`, "The request log"). Whole microseconds: formatting a float
    // cost more than the line's other values together.
    tracing::info!(
        target: "django.server",
        method = %request.method(),
        path = request.uri().path(),
        status = response.status().as_u16(),
        duration_us = started.map_or(0, |t| u64::try_from(t.elapsed().as_micros()).unwrap_or(u64::MAX)),
    );
    // Django leaves `Content-Length` to `CommonMiddleware`, and its servers send a response
    // without it chunked. hyper would announce the length of any in-memory body; an
    // unannounced one is sent with the `Content-Length` header when there is one (hyper
    // reads it as it writes the head), chunked when there is none.
    response.map(|body| ServedBody::new(body.unannounced(), busy))
}

/// Before anything is accepted: a site whose cookies anyone could forge must not serve
/// ([`CoreSettings::check_secret_key`](crate::CoreSettings::check_secret_key)).
fn refuse_empty_secret_key(chain: &Chain) -> std::io::Result<()> {
    chain
        .core_settings()
        .check_secret_key("the chain's settings")
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))
}

/// The listen backlog `run` asks for (the kernel caps it at `net.core.somaxconn`).
const LISTEN_BACKLOG: u32 = 1024;

/// A listener on `addr` with a [`LISTEN_BACKLOG`]-deep accept queue. `TcpListener::bind`
/// asks for 128, as the standard library does: when a thousand clients connect at once (or the
/// server is at `SERVER_MAX_CONNECTIONS`), the kernel drops the SYNs beyond that and the
/// clients retry a second later, which shows as one-second tails (docs/performance.md,
/// "Async middleware waiting on an upstream").
fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    // As `TcpListener::bind` does on Unix: a restarted server can bind while old connections
    // linger in TIME_WAIT.
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// Binds `addr` and serves `chain` until SIGINT/SIGTERM.
pub async fn run(chain: Chain, addr: SocketAddr, config: ServerConfig) -> std::io::Result<()> {
    // Before the port is bound, so that nothing says "listening" first.
    refuse_empty_secret_key(&chain)?;
    let listener = bind(addr)?;
    tracing::info!(target: "django.server", "listening on http://{}", listener.local_addr()?);
    Server::new(chain, config)
        .serve(listener, shutdown_signal())
        .await
}
