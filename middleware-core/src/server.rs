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

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use http_body_util::Limited;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;

use crate::body::Body;
use crate::chain::Chain;
use crate::error::Error;
use crate::request::ConnectionInfo;
use crate::{Request, Response};

/// Server limits and timeouts.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ServerConfig {
    /// How long a client may take to send its request headers (default 30 s); slower
    /// connections are closed (slowloris).
    pub header_read_timeout: Duration,
    /// The largest request head, in bytes (default 64 KiB); larger heads get 431 from hyper.
    pub max_header_size: usize,
    /// The largest request body, in bytes (default 100 MiB); a `Content-Length` above it is
    /// answered 413 at once, a chunked body that grows past it fails to read (400).
    pub max_body_size: u64,
    /// How long graceful shutdown waits for in-flight requests (default 30 s).
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
        let local_addr = listener.local_addr().ok();
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(self.config.header_read_timeout)
            .max_buf_size(self.config.max_header_size.max(8192))
            .keep_alive(true);
        builder
            .http2()
            .timer(TokioTimer::new())
            .max_header_list_size(u32::try_from(self.config.max_header_size).unwrap_or(u32::MAX));
        let graceful = GracefulShutdown::new();
        // One reference count per request instead of cloning the chain's handles.
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
                    let server = this.clone();
                    let service = hyper::service::service_fn(move |req: http::Request<Incoming>| {
                        let server = server.clone();
                        let info = info.clone();
                        async move { Ok::<_, Infallible>(server.handle(req, info).await) }
                    });
                    let conn = builder.serve_connection(TokioIo::new(stream), service);
                    let conn = graceful.watch(conn.into_owned());
                    tokio::spawn(async move {
                        if let Err(e) = conn.await {
                            tracing::debug!(target: "django.server", error = %e, %remote_addr, "connection error");
                        }
                    });
                }
                _ = &mut shutdown => break,
            }
        }
        drop(listener);
        tracing::info!(target: "django.server", "shutting down: waiting for in-flight requests");
        tokio::select! {
            _ = graceful.shutdown() => {}
            _ = tokio::time::sleep(this.config.shutdown_timeout) => {
                tracing::warn!(target: "django.server", "shutdown timeout: closing remaining connections");
            }
        }
        Ok(())
    }

    async fn handle(&self, req: http::Request<Incoming>, info: ConnectionInfo) -> Response {
        let started = Instant::now();
        let too_large = req
            .headers()
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .is_some_and(|n| n > self.config.max_body_size);
        let limit = usize::try_from(self.config.max_body_size).unwrap_or(usize::MAX);
        // Most requests have no body: skip the boxed, limited stream for them.
        let mut request: Request = req.map(|b| {
            if http_body::Body::is_end_stream(&b) {
                Body::empty()
            } else {
                Body::from_http_body(Limited::new(b, limit))
            }
        });
        request.extensions_mut().insert(info);
        let response = if too_large {
            tracing::warn!(target: "django.server", method = %request.method(), path = request.uri().path(), limit = self.config.max_body_size, "request body too large: 413");
            let mut r = crate::response::text(
                http::StatusCode::PAYLOAD_TOO_LARGE,
                "413 Payload Too Large\n",
            );
            r.headers_mut().insert(
                http::header::CONNECTION,
                http::HeaderValue::from_static("close"),
            );
            r
        } else {
            match AssertUnwindSafe(self.chain.handle(&mut request))
                .catch_unwind()
                .await
            {
                Ok(r) => r,
                // The chain converts panics at every layer; this is the last net.
                Err(_) => self.chain_error(&request),
            }
        };
        let response = announce_length_only_when_set(response);
        tracing::info!(
            target: "django.server",
            method = %request.method(),
            path = request.uri().path(),
            status = response.status().as_u16(),
            duration_ms = started.elapsed().as_secs_f64() * 1000.0,
            "{} {} {}", request.method(), request.uri().path(), response.status().as_u16()
        );
        response
    }

    fn chain_error(&self, request: &Request) -> Response {
        crate::error::ErrorHandlers::default().response_for(request, Error::Panic("chain".into()))
    }
}

/// Django leaves `Content-Length` to `CommonMiddleware`; a response without it is sent
/// chunked by Django's servers. hyper would announce the length of any in-memory body, so such
/// a body is handed over unannounced to keep the wire behaviour the same.
fn announce_length_only_when_set(response: Response) -> Response {
    if response
        .headers()
        .contains_key(http::header::CONTENT_LENGTH)
    {
        return response;
    }
    response.map(Body::unannounced)
}

/// Binds `addr` and serves `chain` until SIGINT/SIGTERM.
pub async fn run(chain: Chain, addr: SocketAddr, config: ServerConfig) -> std::io::Result<()> {
    let listener = TcpListener::bind(addr).await?;
    tracing::info!(target: "django.server", "listening on http://{}", listener.local_addr()?);
    Server::new(chain, config)
        .serve(listener, shutdown_signal())
        .await
}
