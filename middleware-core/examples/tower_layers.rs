//! tower-http layers listed in `MIDDLEWARE` beside our own middleware (feature `tower`).
//!
//! ```text
//! cargo run -p middleware-core --features tower --example tower_layers
//! ```
//!
//! `TraceLayer`, `CorsLayer`, `RequestBodyLimitLayer` and `TimeoutLayer` (its duration read from
//! a setting) are registered by name; `SeenByOuterMiddleware`, outermost, reports in a header
//! what the inner chain left on the request after the tower layers gave it back.
//! `tests/tower.rs` includes this file and checks each line [`demo`] returns.

use std::time::Duration;

use http::{HeaderValue, Method, StatusCode};
use middleware_core::test_client::Client;
use middleware_core::tower::TowerLayer;
use middleware_core::{
    async_trait, Chain, Error, Middleware, Next, Registry, Request, RequestBodyExt, RequestExt,
    Response, Router, Settings,
};
use tower_http::cors::CorsLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

/// The settings: tower layers and our own middleware in one list.
pub const SETTINGS: &str = r#"
ALLOWED_HOSTS = ["testserver"]
MIDDLEWARE = [
    "SeenByOuterMiddleware",
    "TraceLayer",
    "CorsLayer",
    "RequestBodyLimitLayer",
    "TimeoutLayer",
    "MarkRequestMiddleware",
]
REQUEST_TIMEOUT_MS = 200
"#;

/// Put on the request by the innermost middleware, read by the outermost.
#[derive(Clone, Debug)]
pub struct Marked(pub &'static str);

/// Inner: marks the request, before the view.
pub struct MarkRequestMiddleware(Next);

#[async_trait]
impl Middleware for MarkRequestMiddleware {
    async fn call(&self, request: &mut Request) -> Result<Response, Error> {
        request.extensions_mut().insert(Marked("inner"));
        Ok(self.0.get_response(request).await)
    }
}

/// Outer: after the response, reports what it sees on the (returned) request.
pub struct SeenByOuterMiddleware(Next);

#[async_trait]
impl Middleware for SeenByOuterMiddleware {
    async fn call(&self, request: &mut Request) -> Result<Response, Error> {
        let mut response = self.0.get_response(request).await;
        let marked = request.extensions().get::<Marked>().map_or("-", |m| m.0);
        let route = request
            .resolver_match()
            .map_or("-".to_owned(), |m| m.route().to_owned());
        let seen = format!("path={} marked={marked} route={route}", request.path());
        if let Ok(value) = HeaderValue::from_str(&seen) {
            response.headers_mut().insert("x-seen-by-outer", value);
        }
        Ok(response)
    }
}

/// The registry: two of ours, four of tower-http's.
pub fn registry() -> Registry {
    let mut registry = Registry::new();
    registry.register("SeenByOuterMiddleware", |next, _| {
        Ok(SeenByOuterMiddleware(next))
    });
    registry.register("MarkRequestMiddleware", |next, _| {
        Ok(MarkRequestMiddleware(next))
    });
    registry.register_layer("TraceLayer", TraceLayer::new_for_http());
    registry.register_layer(
        "CorsLayer",
        CorsLayer::new()
            .allow_origin(HeaderValue::from_static("https://app.example"))
            .allow_methods([Method::GET, Method::POST]),
    );
    registry.register_layer("RequestBodyLimitLayer", RequestBodyLimitLayer::new(16));
    registry
        .register_layer_with("TimeoutLayer", |ctx| {
            let ms: u64 = ctx.settings.get_or("REQUEST_TIMEOUT_MS", 30_000)?;
            Ok(TowerLayer::new(TimeoutLayer::with_status_code(
                StatusCode::GATEWAY_TIMEOUT,
                Duration::from_millis(ms),
            )))
        })
        .settings(&["REQUEST_TIMEOUT_MS"]);
    registry
}

async fn echo(request: &mut Request) -> Result<Response, Error> {
    let body = request.body_bytes().await?;
    Ok(Response::new(body.into()))
}

async fn slow(_: &mut Request) -> Result<Response, Error> {
    tokio::time::sleep(Duration::from_secs(5)).await;
    Ok(Response::new("too late".into()))
}

/// The chain, ending in a router with `echo/` and `slow/`.
pub fn build_chain(settings_text: &str) -> Result<Chain, Box<dyn std::error::Error>> {
    let settings = Settings::from_toml_str(settings_text, "tower_layers settings")?;
    let mut router = Router::new();
    router.route("echo/", echo)?.route("slow/", slow)?;
    Ok(Chain::builder(&registry(), &settings)
        .urls(router)
        .build()?)
}

/// Sends five requests through the chain and describes each response in one line.
pub async fn demo() -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let mut client = Client::new(build_chain(SETTINGS)?);
    let mut lines = Vec::new();
    let mut describe = |label: &str, r: &middleware_core::test_client::TestResponse| {
        lines.push(format!(
            "{label}: {} cors={} seen=[{}] body={:?}",
            r.status.as_u16(),
            r.header("access-control-allow-origin").unwrap_or("-"),
            r.header("x-seen-by-outer").unwrap_or("-"),
            r.text(),
        ));
    };
    let r = client
        .request(
            Method::POST,
            "/echo/",
            &[("origin", "https://app.example")],
            "hello".into(),
        )
        .await;
    describe("echo", &r);
    let r = client
        .request(
            Method::OPTIONS,
            "/echo/",
            &[
                ("origin", "https://app.example"),
                ("access-control-request-method", "POST"),
            ],
            middleware_core::Body::empty(),
        )
        .await;
    describe("preflight", &r);
    let r = client
        .request(
            Method::POST,
            "/echo/",
            &[("content-length", "27")],
            "far more than sixteen bytes".into(),
        )
        .await;
    describe("too large", &r);
    // Without Content-Length the layer can only cut the body while it is read: the view's
    // `body_bytes()` fails, a 400 as for any unreadable body.
    let r = client
        .request(
            Method::POST,
            "/echo/",
            &[],
            "far more than sixteen bytes".into(),
        )
        .await;
    describe("too large, no length", &r);
    let r = client.get("/slow/").await;
    describe("slow", &r);
    Ok(lines)
}

#[allow(dead_code)] // `tests/tower.rs` includes this file without calling `main`.
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    for line in runtime.block_on(demo())? {
        println!("{line}");
    }
    Ok(())
}
