//! A [`Chain`] served as a `tower::Service` (feature `tower`), here by hyper-util's
//! `TowerToHyperService`; axum serves it the same way.
//!
//! ```text
//! cargo run -p middleware-core --features tower --example tower_service -- 127.0.0.1:8080
//! curl -i http://127.0.0.1:8080/hello/
//! ```
//!
//! In an axum application, the chain (with its own router) is a fallback or a nested service:
//!
//! ```text
//! let app = axum::Router::new()
//!     .route("/api/health", axum::routing::get(|| async { "ok" }))
//!     .fallback_service(chain.clone());          // everything else: the Django-style site
//! let app = axum::Router::new().nest_service("/site", chain); // or under a prefix
//! ```
//!
//! That snippet is not compiled here: axum 0.8 pins `matchit = "=0.8.4"`, which would downgrade
//! the router dependency of the whole workspace just for a dev-dependency. What axum requires of a
//! fallback service is what this example exercises: `Service<http::Request<B>>` for axum's body,
//! `Error = Infallible`, `Clone + Send + Sync + 'static`, a `Send` future, and a response whose
//! body is `http_body::Body<Data = Bytes>` (axum's `IntoResponse` for `http::Response<B>`).
//! `tests/tower.rs` includes this file and serves it on a random port.

use std::future::Future;
use std::net::SocketAddr;

use http::StatusCode;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use middleware_core::{response, Chain, Error, Registry, Request, Response, Router, Settings};
use tokio::net::TcpListener;

async fn hello(_: &mut Request) -> Result<Response, Error> {
    Ok(response::text(StatusCode::OK, "Hello from the chain\n"))
}

/// A chain with a router, as an application would build it.
pub fn build_chain() -> Result<Chain, Box<dyn std::error::Error>> {
    let settings = Settings::builder()
        .set("ALLOWED_HOSTS", vec!["127.0.0.1", "localhost"])
        .build()?;
    let mut router = Router::new();
    router.route("hello/", hello)?;
    Ok(Chain::builder(&Registry::new(), &settings)
        .urls(router)
        .build()?)
}

/// Serves `chain` through `TowerToHyperService` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    chain: Chain,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    tokio::pin!(shutdown);
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => accepted?,
            () = &mut shutdown => return Ok(()),
        };
        // The chain is the tower service; hyper's `Incoming` body is converted on the way in.
        let service = TowerToHyperService::new(chain.clone());
        tokio::spawn(async move {
            let _ = auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

#[allow(dead_code)] // `tests/tower.rs` includes this file without calling `main`.
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr: SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".to_owned())
        .parse()?;
    let chain = build_chain()?;
    tokio::runtime::Runtime::new()?.block_on(async {
        let listener = TcpListener::bind(addr).await?;
        println!("listening on http://{}", listener.local_addr()?);
        serve(listener, chain, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
    })?;
    Ok(())
}
