//! The example site with the benchmarks' extra middleware registered, served as `example-site
//! serve` serves it (`bench/async.sh`, `bench/growth.sh`):
//!
//! * `bench.UpstreamMiddleware`: awaits a `GET` to an upstream (`UPSTREAM`, default
//!   `127.0.0.1:18290`) on every request before calling the rest of the chain, through a
//!   pooled keep-alive hyper client (what an axum or tower user would write), and copies the
//!   upstream's status into `X-Upstream`: the seed's promise of async middleware that wait on
//!   other services while the server handles other requests;
//! * `bench.HeaderMiddleware0` to `bench.HeaderMiddleware99`: each sets its own header
//!   (`x-bench-N: 1`) on every response, for the cost of N middleware.
//!
//! `cargo run --release -p example-site --example bench_site -- 127.0.0.1:18280 SETTINGS`
//! (the log is off unless `RUST_LOG` is set).

use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderName, HeaderValue};
use http_body_util::Empty;
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use middleware_core::server::{self, ServerConfig};
use middleware_core::{async_trait, Error, Middleware, Next, Request, Response};

type Upstream = Client<HttpConnector, Empty<Bytes>>;

/// Awaits the upstream, then the rest of the chain.
struct UpstreamMiddleware {
    get_response: Next,
    client: Upstream,
    uri: http::Uri,
}

const X_UPSTREAM: HeaderName = HeaderName::from_static("x-upstream");

#[async_trait]
impl Middleware for UpstreamMiddleware {
    async fn call(&self, request: &mut Request) -> Result<Response, Error> {
        let status = match self.client.get(self.uri.clone()).await {
            // The upstream's answer is a few bytes; its body is left to the pool to drain.
            Ok(r) => r.status().as_u16(),
            Err(_) => 502,
        };
        let mut response = self.get_response.get_response(request).await;
        response
            .headers_mut()
            .insert(X_UPSTREAM, HeaderValue::from(status));
        Ok(response)
    }
}

/// Sets one header.
struct HeaderMiddleware {
    get_response: Next,
    name: HeaderName,
}

const ONE: HeaderValue = HeaderValue::from_static("1");

#[async_trait]
impl Middleware for HeaderMiddleware {
    async fn call(&self, request: &mut Request) -> Result<Response, Error> {
        let mut response = self.get_response.get_response(request).await;
        response.headers_mut().insert(self.name.clone(), ONE);
        Ok(response)
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .init();
    }
    let mut args = std::env::args().skip(1);
    let bind: std::net::SocketAddr = args
        .next()
        .ok_or("usage: bench_site ADDR SETTINGS")?
        .parse()?;
    let settings_path = args.next().ok_or("usage: bench_site ADDR SETTINGS")?;
    let settings = example_site::load_settings(Some(std::path::Path::new(&settings_path)))?;
    let upstream: http::Uri = format!(
        "http://{}/",
        std::env::var("UPSTREAM").unwrap_or_else(|_| "127.0.0.1:18290".into())
    )
    .parse()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    // The client's pool and connector need the runtime's context.
    let _entered = runtime.enter();
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let client: Upstream = Client::builder(TokioExecutor::new()).build(connector);
    let mut registry = example_site::registry_with_printer(Arc::new(|_: &str| {}));
    registry.register("bench.UpstreamMiddleware", move |next, _| {
        Ok(UpstreamMiddleware {
            get_response: next,
            client: client.clone(),
            uri: upstream.clone(),
        })
    });
    for i in 0..100 {
        let name = HeaderName::try_from(format!("x-bench-{i}"))?;
        registry.register(&format!("bench.HeaderMiddleware{i}"), move |next, _| {
            Ok(HeaderMiddleware {
                get_response: next,
                name: name.clone(),
            })
        });
    }
    let chain = example_site::build_chain_with(&registry, &settings)?;
    // The `SERVER_*` settings apply, as with `example-site serve` (bench/async.sh raises
    // `SERVER_MAX_CONNECTIONS` above its largest connection count).
    let config = ServerConfig::from_settings(&settings)?;
    runtime.block_on(server::run(chain, bind, config))?;
    Ok(())
}
