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
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use futures_util::future::{self, Either};
use futures_util::task::AtomicWaker;
use futures_util::FutureExt;
use http_body_util::Limited;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;

use crate::body::Body;
use crate::chain::Chain;
use crate::request::ConnectionInfo;
use crate::{Request, Response};

/// Server limits and timeouts.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ServerConfig {
    /// How long a client may take to send its request headers (default 30 s); slower
    /// connections are closed (slowloris), and so are keep-alive connections idle for that
    /// long. The time a view or a streaming body takes does not count.
    pub header_read_timeout: Duration,
    /// The largest request head, in bytes (default 64 KiB); larger heads get 431 from hyper.
    pub max_header_size: usize,
    /// The largest request body, in bytes (default 100 MiB); a `Content-Length` above it is
    /// answered 413 at once, a chunked body that grows past it fails to read (400).
    pub max_body_size: u64,
    /// How long graceful shutdown waits for in-flight requests (default 30 s); the
    /// connections still open then are closed, and `serve` returns.
    pub shutdown_timeout: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            header_read_timeout: Duration::from_secs(30),
            max_header_size: 64 * 1024,
            max_body_size: 100 * 1024 * 1024,
            shutdown_timeout: Duration::from_secs(30),
        }
    }
}

impl ServerConfig {
    /// Sets the header read timeout.
    pub fn header_read_timeout(mut self, t: Duration) -> Self {
        self.header_read_timeout = t;
        self
    }
    /// Sets the largest request head.
    pub fn max_header_size(mut self, n: usize) -> Self {
        self.max_header_size = n;
        self
    }
    /// Sets the largest request body.
    pub fn max_body_size(mut self, n: u64) -> Self {
        self.max_body_size = n;
        self
    }
    /// Sets the graceful shutdown timeout.
    pub fn shutdown_timeout(mut self, t: Duration) -> Self {
        self.shutdown_timeout = t;
        self
    }
}

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
    /// waits (up to the shutdown timeout) for in-flight requests to finish.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()>,
    ) -> std::io::Result<()> {
        refuse_empty_secret_key(&self.chain)?;
        let local_addr = listener.local_addr().ok();
        let mut builder = auto::Builder::new(TokioExecutor::new());
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
        let connections = Arc::new(Connections::new(self.config.header_read_timeout));
        let watchdog = tokio::spawn(connections.clone().watch());
        // Every connection task holds a sender: when the last one is gone, `recv` says so.
        let (drain, mut drained) = tokio::sync::mpsc::channel::<Infallible>(1);
        // Shared by the connections (`Activity::server`) instead of cloning the chain's handles.
        let this = Arc::new(self);
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    let (stream, remote_addr) = match accepted {
                        Ok(x) => x,
                        Err(e) => {
                            // Out of file descriptors and the like: keep serving.
                            tracing::warn!(target: "django.server", error = %e, "accept failed");
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        }
                    };
                    let _ = stream.set_nodelay(true);
                    let info = ConnectionInfo { remote_addr: Some(remote_addr), local_addr, scheme: "http" };
                    let activity = connections.open(this.clone(), info);
                    let watched = activity.clone();
                    let reuse = RefCell::new(Reuse::default());
                    let service = hyper::service::service_fn(move |req: http::Request<Incoming>| {
                        Server::respond(req, activity.begin(), &reuse, handle)
                    });
                    let conn = builder.serve_connection(TokioIo::new(stream), service).into_owned();
                    let drain = drain.clone();
                    tokio::spawn(async move {
                        let _drain = drain;
                        match watched.drive(std::pin::pin!(conn), |c| c.graceful_shutdown()).await {
                            Ended::Served(Err(e)) => {
                                tracing::debug!(target: "django.server", error = %e, %remote_addr, "connection error");
                            }
                            Ended::Served(Ok(())) => {}
                            Ended::Idle => {
                                tracing::debug!(target: "django.server", %remote_addr, "no request head within the header read timeout: connection closed");
                            }
                            Ended::Aborted => {
                                tracing::warn!(target: "django.server", %remote_addr, "still busy at the shutdown timeout: connection closed");
                            }
                        }
                    });
                }
                _ = &mut shutdown => break,
            }
        }
        drop(listener);
        drop(drain);
        tracing::info!(target: "django.server", "shutting down: waiting for in-flight requests");
        connections.shut_down();
        tokio::select! {
            _ = drained.recv() => {}
            _ = tokio::time::sleep(this.config.shutdown_timeout) => {
                tracing::warn!(target: "django.server", "shutdown timeout: closing remaining connections");
                connections.abort();
            }
        }
        watchdog.abort();
        Ok(())
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
        // hyper's size hint is the request's `Content-Length`, already parsed and checked.
        let too_large = http_body::Body::size_hint(req.body()).lower() > this.config.max_body_size;
        let limit = usize::try_from(this.config.max_body_size).unwrap_or(usize::MAX);
        // Most requests have no body: skip the boxed, limited stream for them.
        let mut request: Request = req.map(|b| {
            if http_body::Body::is_end_stream(&b) {
                Body::empty()
            } else {
                Body::from_http_body(Limited::new(b, limit))
            }
        });
        let eager = request.version() != http::Version::HTTP_2;
        let mut reuse = reuse.borrow_mut();
        crate::request::start(
            &mut request,
            reuse.extensions.take(),
            busy.0.info.clone(),
            this.chain.core_settings(),
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

/// Why a request hyper accepted is still malformed, by RFC 9112 and 9113 (nginx answers
/// each of these 400): which `Host` to trust is ambiguous, or the framing is.
fn malformed(req: &http::Request<Incoming>) -> Option<&'static str> {
    let headers = req.headers();
    let mut hosts = headers.get_all(http::header::HOST).iter();
    let host = hosts.next();
    if hosts.next().is_some() {
        // RFC 9112 §3.2: more than one Host header field.
        return Some("more than one Host header");
    }
    match req.version() {
        // RFC 9112 §3.2: an HTTP/1.1 request without Host, even in absolute form.
        http::Version::HTTP_11 if host.is_none() => return Some("HTTP/1.1 without a Host header"),
        // RFC 9113 §8.3.1: neither :authority nor Host.
        http::Version::HTTP_2 if host.is_none() && req.uri().authority().is_none() => {
            return Some("HTTP/2 without :authority or Host")
        }
        _ => {}
    }
    // RFC 9112 §6.1: chunked may be applied only once. hyper checks that it comes last.
    let chunked = headers
        .get_all(http::header::TRANSFER_ENCODING)
        .iter()
        .flat_map(|v| v.as_bytes().split(|&b| b == b','))
        .filter(|coding| coding.trim_ascii().eq_ignore_ascii_case(b"chunked"))
        .count();
    (chunked > 1).then_some("Transfer-Encoding applies chunked more than once")
}

/// 400 for a request [`malformed`] refuses, with the reason in the log; the connection is
/// closed, since its framing or its target cannot be trusted.
fn bad_request(request: &Request, reason: &'static str) -> Response {
    tracing::warn!(target: "django.server", method = %request.method(), path = request.uri().path(), reason, "malformed request: 400");
    let mut r = crate::response::text(http::StatusCode::BAD_REQUEST, "400 Bad Request\n");
    r.headers_mut().insert(
        http::header::CONNECTION,
        http::HeaderValue::from_static("close"),
    );
    r
}

/// 413 for a `Content-Length` above the limit, before any of the body is read.
fn payload_too_large(request: &Request, limit: u64) -> Response {
    tracing::warn!(target: "django.server", method = %request.method(), path = request.uri().path(), limit, "request body too large: 413");
    let mut r = crate::response::text(
        http::StatusCode::PAYLOAD_TOO_LARGE,
        "413 Payload Too Large\n",
    );
    r.headers_mut().insert(
        http::header::CONNECTION,
        http::HeaderValue::from_static("close"),
    );
    r
}

/// The request's log line, and the response as it goes on the wire, its body keeping the
/// request counted as in flight.
fn served(
    request: &Request,
    response: Response,
    started: Option<Instant>,
    busy: Busy,
) -> http::Response<ServedBody> {
    tracing::info!(
        target: "django.server",
        method = %request.method(),
        path = request.uri().path(),
        status = response.status().as_u16(),
        duration_ms = started.map_or(0.0, |t| t.elapsed().as_secs_f64() * 1000.0),
        "{} {} {}", request.method(), request.uri().path(), response.status().as_u16()
    );
    // Django leaves `Content-Length` to `CommonMiddleware`, and its servers send a response
    // without it chunked. hyper would announce the length of any in-memory body; an
    // unannounced one is sent with the `Content-Length` header when there is one (hyper
    // reads it as it writes the head), chunked when there is none.
    response.map(|body| ServedBody {
        body: body.unannounced(),
        _busy: busy,
    })
}

/// The server's open connections, for the watchdog that closes idle ones and for graceful
/// shutdown. The hot path touches none of it but the connection's own [`Activity`]: the
/// watchdog is one task for the whole server that looks at every connection a few times per
/// timeout, so no connection polls a timer or a shutdown signal each time it wakes.
struct Connections {
    started: Instant,
    /// Milliseconds from `started` as of the watchdog's last tick: the clock requests read when
    /// they end, one load instead of a clock call.
    now_ms: AtomicU64,
    timeout: Duration,
    open: Mutex<Vec<Weak<Activity>>>,
}

impl Connections {
    fn new(timeout: Duration) -> Self {
        Connections {
            started: Instant::now(),
            now_ms: AtomicU64::new(0),
            timeout,
            open: Mutex::new(Vec::new()),
        }
    }

    /// How often the watchdog looks: an idle connection is closed between one timeout and
    /// the timeout plus two ticks after its last response.
    fn tick(&self) -> Duration {
        (self.timeout / 8).clamp(Duration::from_millis(1), Duration::from_secs(1))
    }

    fn list(&self) -> std::sync::MutexGuard<'_, Vec<Weak<Activity>>> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A new connection, idle from now.
    fn open(self: &Arc<Self>, server: Arc<Server>, info: ConnectionInfo) -> Arc<Activity> {
        let activity = Arc::new(Activity {
            server,
            info,
            connections: self.clone(),
            state: AtomicU64::new(self.now_ms.load(Ordering::Relaxed)),
            flags: AtomicU8::new(0),
            waker: AtomicWaker::new(),
        });
        self.list().push(Arc::downgrade(&activity));
        activity
    }

    /// The watchdog: every tick, advances the clock, forgets closed connections and closes
    /// the ones idle for longer than the timeout (a slowloris request head, or a keep-alive
    /// connection nobody uses).
    async fn watch(self: Arc<Self>) {
        let tick = self.tick();
        // The clock lags real time by up to a tick, so a connection may look idle a tick
        // longer than it has been: the margin keeps a close from coming before the timeout.
        let limit = u64::try_from((self.timeout + tick).as_millis()).unwrap_or(u64::MAX);
        let mut ticks = tokio::time::interval(tick);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let now = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(IDLE_MS_MASK);
            self.now_ms.store(now, Ordering::Relaxed);
            self.list().retain(|weak| {
                let Some(activity) = weak.upgrade() else {
                    return false;
                };
                let state = activity.state.load(Ordering::Acquire);
                if state < IN_FLIGHT_ONE && now.saturating_sub(state & IDLE_MS_MASK) >= limit {
                    activity.signal(CLOSE);
                }
                true
            });
        }
    }

    /// Asks every open connection to finish what it is serving and close.
    fn shut_down(&self) {
        self.signal_all(SHUT_DOWN);
    }

    /// Drops every connection still open, in-flight requests and all (the shutdown timeout
    /// has passed): `serve` returns with nothing left running behind it.
    fn abort(&self) {
        self.signal_all(ABORT);
    }

    fn signal_all(&self, flag: u8) {
        for activity in self.list().iter().filter_map(Weak::upgrade) {
            activity.signal(flag);
        }
    }
}

/// What a connection is doing, for the watchdog: how many requests are in flight (HTTP/2 may
/// have several) and since when it has had none, in one atomic word so the watchdog never
/// sees the count and the time out of step; and what the server asks of it.
struct Activity {
    /// What the connection's requests are served by, and where they came from: held here
    /// so a request holds one reference count (its [`Busy`]) for all of them.
    server: Arc<Server>,
    info: ConnectionInfo,
    connections: Arc<Connections>,
    /// Requests in flight in the top 16 bits; the end of the last response, in the
    /// server's milliseconds (`Connections::now_ms`), in the low 48.
    state: AtomicU64,
    /// `CLOSE` and `SHUT_DOWN`, set by the server.
    flags: AtomicU8,
    /// The connection task, woken when a flag is set.
    waker: AtomicWaker,
}

const IN_FLIGHT_ONE: u64 = 1 << 48;
const IDLE_MS_MASK: u64 = IN_FLIGHT_ONE - 1;
/// Idle past the header read timeout: drop the connection.
const CLOSE: u8 = 1;
/// The server is shutting down: finish in-flight requests, then close.
const SHUT_DOWN: u8 = 2;
/// The shutdown timeout has passed: drop the connection, requests in flight or not.
const ABORT: u8 = 4;

/// How a connection ended.
enum Ended<E> {
    /// hyper finished with it (the client closed it, or shutdown did).
    Served(Result<(), E>),
    /// The watchdog closed it.
    Idle,
    /// The server stopped waiting for it (shutdown timeout).
    Aborted,
}

impl Activity {
    /// A request head has arrived; the returned guard ends the request when the response
    /// body is done with (sent, or dropped with the connection).
    fn begin(self: &Arc<Self>) -> Busy {
        self.state.fetch_add(IN_FLIGHT_ONE, Ordering::AcqRel);
        Busy(self.clone())
    }

    fn signal(&self, flag: u8) {
        self.flags.fetch_or(flag, Ordering::AcqRel);
        self.waker.wake();
    }

    /// Polls the connection until it ends, closing it when the watchdog says it is idle
    /// and starting its graceful shutdown (`shut_down`) when the server stops.
    async fn drive<C, E>(&self, mut conn: Pin<&mut C>, shut_down: impl Fn(Pin<&mut C>)) -> Ended<E>
    where
        C: Future<Output = Result<(), E>>,
    {
        let mut shutting_down = false;
        // The waker last handed to `self.waker`: registering again only when the task's
        // waker changes keeps the atomic handshake off the per-request path.
        let mut registered: Option<Waker> = None;
        let mut seen = 0;
        future::poll_fn(|cx| {
            if !registered.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                self.waker.register(cx.waker());
                registered = Some(cx.waker().clone());
            }
            let mut flags = self.flags.load(Ordering::Acquire);
            if flags != seen {
                // The signal's wake took the registered waker: register again, so that a later
                // signal (shutdown, then its timeout) wakes this task too, and read the flags
                // again, for one set before that.
                self.waker.register(cx.waker());
                flags = self.flags.load(Ordering::Acquire);
                seen = flags;
            }
            if flags & ABORT != 0 {
                return Poll::Ready(Ended::Aborted);
            }
            if flags & CLOSE != 0 {
                return Poll::Ready(Ended::Idle);
            }
            if flags & SHUT_DOWN != 0 && !shutting_down {
                shutting_down = true;
                shut_down(conn.as_mut());
            }
            conn.as_mut().poll(cx).map(Ended::Served)
        })
        .await
    }
}

/// One request in flight on a connection (see [`Activity::begin`]).
struct Busy(Arc<Activity>);

impl Drop for Busy {
    fn drop(&mut self) {
        let now = self.0.connections.now_ms.load(Ordering::Relaxed);
        // Requests of an HTTP/2 connection end concurrently: the update is atomic against
        // them and against `begin`, and keeps the latest end time.
        let _ = self
            .0
            .state
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |state| {
                let in_flight = (state & !IDLE_MS_MASK).saturating_sub(IN_FLIGHT_ONE);
                Some(in_flight | (state & IDLE_MS_MASK).max(now))
            });
    }
}

/// A response body as the server sends it: it keeps its request counted as in flight until
/// hyper is done with it.
struct ServedBody {
    body: Body,
    _busy: Busy,
}

impl http_body::Body for ServedBody {
    type Data = bytes::Bytes;
    type Error = crate::body::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        http_body::Body::is_end_stream(&self.body)
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::Body::size_hint(&self.body)
    }
}

/// Before anything is accepted: a site whose cookies anyone could forge must not serve
/// ([`CoreSettings::check_secret_key`](crate::CoreSettings::check_secret_key)).
fn refuse_empty_secret_key(chain: &Chain) -> std::io::Result<()> {
    chain
        .core_settings()
        .check_secret_key("the chain's settings")
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))
}

/// Binds `addr` and serves `chain` until SIGINT/SIGTERM.
pub async fn run(chain: Chain, addr: SocketAddr, config: ServerConfig) -> std::io::Result<()> {
    // Before the port is bound, so that nothing says "listening" first.
    refuse_empty_secret_key(&chain)?;
    let listener = TcpListener::bind(addr).await?;
    tracing::info!(target: "django.server", "listening on http://{}", listener.local_addr()?);
    Server::new(chain, config)
        .serve(listener, shutdown_signal())
        .await
}

/// A server on a free loopback port, for tests over real TCP (Django's
/// `LiveServerTestCase`): it serves until [`stop`](Self::stop), or until it is dropped.
///
/// ```
/// use middleware_core::server::{LiveServer, ServerConfig};
/// use middleware_core::{Chain, Registry, Settings};
/// # tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(async {
/// let settings = Settings::from_toml_str(
///     "ALLOWED_HOSTS = [\"*\"]\nSECRET_KEY = \"a-long-random-test-key-0123456789\"",
///     "inline",
/// )
/// .unwrap();
/// let chain = Chain::builder(&Registry::new(), &settings).build().unwrap();
/// let mut server = LiveServer::start(chain, ServerConfig::default()).await.unwrap();
/// let mut stream = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
/// // ... speak HTTP on `stream` ...
/// # drop(stream);
/// assert!(server.stop());
/// server.finished().await.unwrap();
/// # });
/// ```
#[derive(Debug)]
pub struct LiveServer {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    serving: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl LiveServer {
    /// Binds `127.0.0.1` on a port the system picks and serves `chain` on a spawned task.
    pub async fn start(chain: Chain, config: ServerConfig) -> std::io::Result<Self> {
        // Checked here too, so that the caller sees the error rather than the spawned task.
        refuse_empty_secret_key(&chain)?;
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let serving = tokio::spawn(Server::new(chain, config).serve(listener, async {
            let _ = stopped.await;
        }));
        Ok(LiveServer {
            addr,
            stop: Some(stop),
            serving,
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Starts the graceful shutdown, as SIGTERM does; [`finished`](Self::finished) waits for
    /// its end. `false` when the server had stopped already.
    pub fn stop(&mut self) -> bool {
        self.stop.take().is_some_and(|stop| stop.send(()).is_ok())
    }

    /// Waits until the server has stopped (once in-flight requests are done, or the shutdown
    /// timeout has passed), with `serve`'s result; stops it first if [`stop`](Self::stop)
    /// was not called.
    pub async fn finished(self) -> std::io::Result<()> {
        let LiveServer { stop, serving, .. } = self;
        // A dropped sender ends the shutdown future too.
        drop(stop);
        serving.await.map_err(std::io::Error::other)?
    }
}
