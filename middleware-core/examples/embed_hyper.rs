//! Embedding the chain in your own hyper 1.x server, with your own routing.
//!
//! Nothing here uses `middleware_core::server` or `Router`: the innermost handler is a plain
//! [`GetResponse`] that matches on the path, the chain is built from a settings string with two
//! middleware of our own, and the accept loop is hand-written with hyper and hyper-util.
//!
//! ```text
//! cargo run -p middleware-core --example embed_hyper -- 127.0.0.1:8080
//! curl -i http://127.0.0.1:8080/hello/
//! ```
//!
//! `tests/embedding.rs` includes this file and runs [`serve`] on a random port.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};

use http::{HeaderValue, StatusCode};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use middleware_core::{
    async_trait, response, Body, BuildContext, Chain, ConnectionInfo, Error, FactoryError,
    GetResponse, HookMiddleware, Middleware, Next, Registry, Request, RequestExt, Response,
    Settings,
};
use tokio::net::TcpListener;

/// The embedder's settings: two middleware and one setting of their own.
pub const SETTINGS: &str = r#"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
MIDDLEWARE = ["RequestIdMiddleware", "PoweredByMiddleware"]
POWERED_BY = "my-framework/1.0"
"#;

/// The id given to a request, in its extensions (per-request state never lives on `self`).
#[derive(Clone, Copy, Debug)]
pub struct RequestId(pub u64);

/// Call style: numbers requests, and tells the client the number.
pub struct RequestIdMiddleware {
    next: Next,
    counter: AtomicU64,
}

#[async_trait]
impl Middleware for RequestIdMiddleware {
    async fn call(&self, request: &mut Request) -> Result<Response, Error> {
        let id = self.counter.fetch_add(1, Ordering::Relaxed) + 1;
        request.extensions_mut().insert(RequestId(id));
        let mut response = self.next.get_response(request).await;
        response
            .headers_mut()
            .insert("x-request-id", HeaderValue::from(id));
        Ok(response)
    }
}

/// Hook style (`MiddlewareMixin`): adds `X-Powered-By` from the `POWERED_BY` setting.
pub struct PoweredByMiddleware {
    value: HeaderValue,
}

impl PoweredByMiddleware {
    fn from_settings(ctx: &BuildContext<'_>) -> Result<Self, FactoryError> {
        let text: String = ctx
            .settings
            .get_or("POWERED_BY", "middleware-core".to_owned())?;
        let value = HeaderValue::from_str(&text).map_err(|_| {
            ctx.settings.invalid(
                "POWERED_BY",
                format!("{text:?} is not a valid header value"),
                "use printable ASCII",
            )
        })?;
        Ok(PoweredByMiddleware { value })
    }
}

#[async_trait]
impl HookMiddleware for PoweredByMiddleware {
    async fn process_response(
        &self,
        _request: &mut Request,
        mut response: Response,
    ) -> Result<Response, Error> {
        response
            .headers_mut()
            .insert("x-powered-by", self.value.clone());
        Ok(response)
    }
}

/// The embedder's own routing: a match on the path.
pub struct Site;

#[async_trait]
impl GetResponse for Site {
    async fn get_response(&self, request: &mut Request) -> Response {
        let id = request.extensions().get::<RequestId>().map_or(0, |r| r.0);
        match (request.method().as_str(), request.uri().path()) {
            ("GET", "/") => response::text(StatusCode::OK, "home\n"),
            ("GET", "/hello/") => response::text(StatusCode::OK, format!("hello, request {id}\n")),
            (_, "/hello/") => response::text(StatusCode::METHOD_NOT_ALLOWED, "GET only\n"),
            _ => response::text(StatusCode::NOT_FOUND, "no such page\n"),
        }
    }
}

/// The registry: the two middleware under the names `MIDDLEWARE` uses.
pub fn registry() -> Registry {
    let mut registry = Registry::new();
    registry
        .register("RequestIdMiddleware", |next, _ctx| {
            Ok(RequestIdMiddleware {
                next,
                counter: AtomicU64::new(0),
            })
        })
        .alias("myframework.middleware.RequestIdMiddleware");
    registry
        .register_hooks("PoweredByMiddleware", PoweredByMiddleware::from_settings)
        .settings(&["POWERED_BY"]);
    registry
}

/// Builds the chain from settings text, ending in [`Site`].
pub fn build_chain(settings_text: &str) -> Result<Chain, Box<dyn std::error::Error>> {
    let settings = Settings::from_toml_str(settings_text, "embed_hyper settings")?;
    Ok(Chain::builder(&registry(), &settings)
        .handler(Site)
        .build()?)
}

/// Serves `chain` on `listener` with hyper until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    chain: Chain,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let local_addr = listener.local_addr().ok();
    tokio::pin!(shutdown);
    loop {
        let (stream, remote_addr) = tokio::select! {
            accepted = listener.accept() => accepted?,
            () = &mut shutdown => return Ok(()),
        };
        let chain = chain.clone();
        let service = hyper::service::service_fn(move |request: http::Request<Incoming>| {
            let chain = chain.clone();
            async move {
                let mut request = request.map(Body::from_http_body);
                // Optional: without it, `get_host()` has no fallback when `Host` is missing and
                // `is_secure()` relies on `SECURE_PROXY_SSL_HEADER` and the URI alone.
                request.set_connection_info(ConnectionInfo {
                    remote_addr: Some(remote_addr),
                    local_addr,
                    scheme: "http",
                });
                Ok::<_, Infallible>(chain.call(request).await)
            }
        });
        tokio::spawn(async move {
            let builder = auto::Builder::new(TokioExecutor::new());
            if let Err(e) = builder
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                eprintln!("connection from {remote_addr}: {e}");
            }
        });
    }
}

#[allow(dead_code)] // `tests/embedding.rs` includes this file without calling `main`.
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr: SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".to_owned())
        .parse()?;
    let chain = build_chain(SETTINGS)?;
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let listener = TcpListener::bind(addr).await?;
        println!("listening on http://{}", listener.local_addr()?);
        let ctrl_c = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        serve(listener, chain, ctrl_c).await
    })?;
    Ok(())
}
