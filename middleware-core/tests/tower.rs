//! tower interop (feature `tower`): the chain as a tower service, tower layers as middleware.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "../examples/tower_layers.rs"]
mod tower_layers;
#[path = "../examples/tower_service.rs"]
mod tower_service_example;

use std::convert::Infallible;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::StatusCode;
use http_body_util::{BodyExt, Full};
use middleware_core::tower::{BoxFuture, TowerLayer};
use middleware_core::{
    async_trait, Body, Chain, Error, ErrorInfo, Middleware, Next, Registry, Request,
    RequestBodyExt, RequestExt, Response, Router, Settings,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::ServiceExt;

#[tokio::test]
async fn tower_http_layers_run_in_middleware_order_and_hand_the_request_back() {
    let lines = tower_layers::demo().await.unwrap();
    assert_eq!(
        lines,
        [
            // The inner chain's extensions (ours and the router's) reach the outermost
            // middleware through TraceLayer, CorsLayer, RequestBodyLimitLayer and TimeoutLayer.
            r#"echo: 200 cors=https://app.example seen=[path=/echo/ marked=inner route=echo/] body="hello""#,
            // The preflight is answered by CorsLayer: the inner chain never ran, the outer
            // middleware see the request's head as it was.
            r#"preflight: 200 cors=https://app.example seen=[path=/echo/ marked=- route=-] body="""#,
            r#"too large: 413 cors=https://app.example seen=[path=/echo/ marked=- route=-] body="length limit exceeded""#,
            // The view could not read the body (tower-http's `Limited` cut it): a 400.
            "too large, no length: 400 cors=https://app.example seen=[path=/echo/ marked=inner route=echo/] body=\"\\n<!doctype html>\\n<html lang=\\\"en\\\">\\n<head>\\n  <title>Bad Request (400)</title>\\n</head>\\n<body>\\n  <h1>Bad Request (400)</h1><p></p>\\n</body>\\n</html>\\n\"",
            // TimeoutLayer dropped the inner call: the head comes back, the inner marks do not.
            r#"slow: 504 cors=https://app.example seen=[path=/slow/ marked=- route=-] body="""#,
        ]
    );
}

#[test]
fn layer_built_from_settings_reports_a_bad_setting() {
    let bad =
        tower_layers::SETTINGS.replace("REQUEST_TIMEOUT_MS = 200", "REQUEST_TIMEOUT_MS = \"fast\"");
    let err = tower_layers::build_chain(&bad).unwrap_err().to_string();
    assert!(err.contains("REQUEST_TIMEOUT_MS"), "{err}");
}

async fn streaming_or_not(request: &mut Request) -> Result<Response, Error> {
    let streaming = request.body().is_streaming();
    let body = request.body_bytes().await?;
    Ok(Response::new(
        format!(
            "streaming={streaming} body={}",
            String::from_utf8_lossy(&body)
        )
        .into(),
    ))
}

fn plain_chain() -> Chain {
    let settings = Settings::builder()
        .set("ALLOWED_HOSTS", vec!["*"])
        .build()
        .unwrap();
    let mut router = Router::new();
    router.route("b/", streaming_or_not).unwrap();
    Chain::builder(&Registry::new(), &settings)
        .urls(router)
        .build()
        .unwrap()
}

fn text_of_ref(response: &Response) -> String {
    String::from_utf8_lossy(response.body().as_bytes().unwrap()).into_owned()
}

async fn text_of(response: Response) -> String {
    String::from_utf8(
        response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap()
}

#[tokio::test]
async fn chain_is_a_tower_service_for_any_bytes_body() {
    let chain = plain_chain();
    let request = http::Request::post("/b/")
        .body(String::from("from a String"))
        .unwrap();
    let response = chain.clone().oneshot(request).await.unwrap();
    assert_eq!(text_of(response).await, "streaming=true body=from a String");

    let request = http::Request::post("/b/")
        .body(Full::new(Bytes::from_static(b"full")))
        .unwrap();
    let response = chain.clone().oneshot(request).await.unwrap();
    assert_eq!(text_of(response).await, "streaming=true body=full");

    // Our own body is passed as it is, not boxed into a stream.
    let request = http::Request::post("/b/").body(Body::from("ours")).unwrap();
    let response = chain.clone().oneshot(request).await.unwrap();
    assert_eq!(text_of(response).await, "streaming=false body=ours");

    let request = http::Request::get("/missing/").body(Body::empty()).unwrap();
    let response: Result<Response, Infallible> = chain.oneshot(request).await;
    assert_eq!(response.unwrap().status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn chain_served_by_hyper_util_tower_adapter_over_tcp() {
    let chain = tower_service_example::build_chain().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(tower_service_example::serve(listener, chain, async {
        let _ = stopped.await;
    }));
    for (path, host, status) in [
        ("/hello/", "127.0.0.1", "200 OK"),
        ("/nope/", "localhost", "404 Not Found"),
    ] {
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut raw = String::new();
        stream.read_to_string(&mut raw).await.unwrap();
        assert!(
            raw.starts_with(&format!("HTTP/1.1 {status}")),
            "{path} {host}: {raw}"
        );
        if status == "200 OK" {
            assert!(raw.ends_with("Hello from the chain\n"), "{raw}");
        }
    }
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}

/// A test layer: tags the request on the way in; on `/fail/<tag>/` fails without calling inwards,
/// on `/panic/` panics after the inner chain answered.
#[derive(Clone)]
struct TestLayer(&'static str);

#[derive(Clone)]
struct TestService<S> {
    tag: &'static str,
    inner: S,
}

#[derive(Clone, Debug)]
struct Tags(Vec<&'static str>);

impl<S> tower::Layer<S> for TestLayer {
    type Service = TestService<S>;
    fn layer(&self, inner: S) -> TestService<S> {
        TestService { tag: self.0, inner }
    }
}

impl<S> tower::Service<Request> for TestService<S>
where
    S: tower::Service<Request, Response = Response, Error = Infallible> + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = std::io::Error;
    type Future = BoxFuture<Result<Response, std::io::Error>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        let mut tags = request
            .extensions()
            .get::<Tags>()
            .cloned()
            .unwrap_or(Tags(Vec::new()));
        tags.0.push(self.tag);
        request.extensions_mut().insert(tags);
        let path = request.uri().path().to_owned();
        let tag = self.tag;
        let future = self.inner.call(request);
        Box::pin(async move {
            if path == format!("/fail/{tag}/") {
                return Err(std::io::Error::other("layer says no"));
            }
            let response = future.await.unwrap_or_else(|never| match never {});
            if path == "/panic/" {
                panic!("layer panicked after the inner chain ran");
            }
            Ok(response)
        })
    }
}

/// Outermost: reports what it sees on the request after the response.
struct Report(Next);

#[async_trait]
impl Middleware for Report {
    async fn call(&self, request: &mut Request) -> Result<Response, Error> {
        let mut response = self.0.get_response(request).await;
        let tags = request
            .extensions()
            .get::<Tags>()
            .map(|t| t.0.join(","))
            .unwrap_or_default();
        let body = request
            .body()
            .as_bytes()
            .map(|b| String::from_utf8_lossy(b).into_owned());
        let seen = format!(
            "path={} tags={tags} inner={} body={}",
            request.path(),
            request.extensions().get::<InnerWasHere>().is_some(),
            body.unwrap_or_else(|| "<stream>".to_owned()),
        );
        response
            .headers_mut()
            .insert("x-report", seen.parse().unwrap());
        Ok(response)
    }
}

#[derive(Clone)]
struct InnerWasHere;

struct Inner(Next);

#[async_trait]
impl Middleware for Inner {
    async fn call(&self, request: &mut Request) -> Result<Response, Error> {
        request.extensions_mut().insert(InnerWasHere);
        Ok(self.0.get_response(request).await)
    }
}

fn layered_chain() -> Chain {
    let mut registry = Registry::new();
    registry.register("Report", |next, _| Ok(Report(next)));
    registry.register("Inner", |next, _| Ok(Inner(next)));
    registry.register_layer("OuterLayer", TestLayer("outer"));
    registry.register_layer_with("MappedLayer", |_| {
        Ok(TowerLayer::new(TestLayer("mapped")).on_error(|e| {
            let mut response = Response::new(format!("mapped: {e}").into());
            *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
            Ok(response)
        }))
    });
    let settings = Settings::builder()
        .set("ALLOWED_HOSTS", vec!["*"])
        .set(
            "MIDDLEWARE",
            vec!["Report", "OuterLayer", "MappedLayer", "Inner"],
        )
        .build()
        .unwrap();
    let mut router = Router::new();
    router.route("b/", streaming_or_not).unwrap();
    Chain::builder(&registry, &settings)
        .urls(router)
        .build()
        .unwrap()
}

#[tokio::test]
async fn nested_layers_return_the_request_with_inner_extensions_and_the_read_body() {
    let chain = layered_chain();
    let response = chain
        .call(
            http::Request::post("/b/")
                .body(Body::from("payload"))
                .unwrap(),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["x-report"],
        // The layers' own tags, our inner middleware's extension, and the body the view read
        // (kept by `body_bytes`), all seen by the outermost middleware.
        "path=/b/ tags=outer,mapped inner=true body=payload"
    );
    assert_eq!(text_of(response).await, "streaming=false body=payload");
}

#[tokio::test]
async fn layer_errors_become_500_with_error_info_unless_mapped() {
    // MappedLayer maps its error to its own response.
    let chain = layered_chain();
    let response = chain
        .call(
            http::Request::get("/fail/mapped/")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(text_of_ref(&response), "mapped: layer says no");
    // MappedLayer failed before calling inwards: the inner chain never ran, and the head copied
    // before MappedLayer tagged the request is what came back.
    assert_eq!(
        response.headers()["x-report"],
        "path=/fail/mapped/ tags=outer inner=false body="
    );

    let mut registry = Registry::new();
    registry.register_layer("OuterLayer", TestLayer("outer"));
    let settings = Settings::builder()
        .set("MIDDLEWARE", vec!["OuterLayer"])
        .build()
        .unwrap();
    let chain = Chain::builder(&registry, &settings).build().unwrap();
    let response = chain
        .call(
            http::Request::get("/fail/outer/")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let info = response.extensions().get::<ErrorInfo>().unwrap();
    assert!(info.0.to_string().contains("layer says no"), "{}", info.0);
}

#[tokio::test]
async fn panicking_layer_becomes_500_and_outer_middleware_still_see_the_request() {
    let chain = layered_chain();
    let response = chain
        .call(http::Request::get("/panic/").body(Body::empty()).unwrap())
        .await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    // MappedLayer panicked after the inner chain ran: the request came back through the slot.
    assert_eq!(
        response.headers()["x-report"],
        "path=/panic/ tags=outer,mapped inner=true body="
    );
}

// Behind `ChainLayer`, an axum handler queues after-response work with axum's own
// `Extension` extractor; it runs once the embedder has finished the response body, and the
// embedder drains the chain's tasks as the built-in server does at shutdown.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_handler_behind_chain_layer_queues_after_response_work() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    use axum::Extension;
    use middleware_core::chain_layer::ChainLayer;
    use middleware_core::AfterResponse;

    let done = Arc::new(AtomicBool::new(false));
    let gate = Arc::new(tokio::sync::Notify::new());
    let (task_done, task_gate) = (done.clone(), gate.clone());
    let app = axum::Router::new().route(
        "/",
        axum::routing::get(move |Extension(after): Extension<AfterResponse>| {
            let (done, gate) = (task_done.clone(), task_gate.clone());
            async move {
                after
                    .add(async move {
                        gate.notified().await;
                        done.store(true, Ordering::SeqCst);
                    })
                    .unwrap();
                "queued"
            }
        }),
    );
    let settings = Settings::builder()
        .set("ALLOWED_HOSTS", vec!["*"])
        .build()
        .unwrap();
    let registry = Registry::new();
    let layer = ChainLayer::new(Chain::builder(&registry, &settings)).unwrap();
    let tasks = layer.chain().after_response_tasks().clone();
    let app = app.layer(layer);
    let request = http::Request::get("/")
        .body(axum::body::Body::empty())
        .unwrap();
    let response = app.oneshot(request).await.unwrap();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&body[..], b"queued");
    assert!(!done.load(Ordering::SeqCst));
    assert_eq!(tasks.pending(), 1);
    // The task may not wait at the gate yet: `notify_one` keeps a permit for it.
    gate.notify_one();
    assert!(tasks.drain(std::time::Duration::from_secs(5)).await);
    assert!(done.load(Ordering::SeqCst));
}
