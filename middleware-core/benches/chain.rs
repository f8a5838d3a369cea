//! Chain overhead: N header-adding layers through the real chain (call-style `Middleware`
#![allow(missing_docs, clippy::unwrap_used)]
//! layers, and `Hooks` layers, which the chain runs as one), against the same headers inserted
//! with no chain, and against a stack of tower `BoxCloneService` layers doing the same.
//! Run with `cargo bench -p middleware-core --bench chain`; report ratios, not absolute times.

use std::convert::Infallible;
use std::task::{Context, Poll};

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};
use http::{HeaderName, HeaderValue};
use middleware_core::{
    async_trait, Body, Chain, Error, GetResponse, Hook, Hooks, Middleware, Next, Registry, Request,
    Response, Settings,
};
use tower::util::BoxCloneService;
use tower::{Service, ServiceExt};

const NAME: HeaderName = HeaderName::from_static("x-layer");

struct AddHeader(Next);

#[async_trait]
impl Middleware for AddHeader {
    async fn call(&self, request: &mut Request) -> Result<Response, Error> {
        let mut r = self.0.get_response(request).await;
        r.headers_mut().append(NAME, HeaderValue::from_static("1"));
        Ok(r)
    }
}

struct AddHeaderHooks;

impl Hooks for AddHeaderHooks {
    fn process_response<'a>(
        &'a self,
        _request: &'a mut Request,
        response: &'a mut Response,
    ) -> Hook<'a, Result<(), Error>> {
        response
            .headers_mut()
            .append(NAME, HeaderValue::from_static("1"));
        Hook::Ready(Ok(()))
    }
}

struct Leaf;
#[async_trait]
impl GetResponse for Leaf {
    async fn get_response(&self, _: &mut Request) -> Response {
        Response::new(Body::from("Hello, world!"))
    }
}

fn chain(layers: usize, name: &str) -> Chain {
    let mut registry = Registry::new();
    registry.register("AddHeader", |next, _| Ok(AddHeader(next)));
    registry.register_ready_hooks("AddHeaderHooks", |_| Ok(AddHeaderHooks));
    let list = vec![format!("{name:?}"); layers].join(", ");
    let settings = Settings::from_toml_str(&format!("MIDDLEWARE = [{list}]"), "bench").unwrap();
    Chain::builder(&registry, &settings)
        .handler(Leaf)
        .build()
        .unwrap()
}

type Svc = BoxCloneService<http::Request<()>, http::Response<Body>, Infallible>;

#[derive(Clone)]
struct TowerAddHeader(Svc);

impl Service<http::Request<()>> for TowerAddHeader {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Self::Response, Infallible>> + Send>,
    >;
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.0.poll_ready(cx)
    }
    fn call(&mut self, req: http::Request<()>) -> Self::Future {
        let fut = self.0.call(req);
        Box::pin(async move {
            let mut r = fut.await?;
            r.headers_mut().append(NAME, HeaderValue::from_static("1"));
            Ok(r)
        })
    }
}

fn tower_stack(layers: usize) -> Svc {
    let mut svc: Svc = BoxCloneService::new(tower::service_fn(|_: http::Request<()>| async {
        Ok::<_, Infallible>(http::Response::new(Body::from("Hello, world!")))
    }));
    for _ in 0..layers {
        svc = BoxCloneService::new(TowerAddHeader(svc));
    }
    svc
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut group = c.benchmark_group("chain_overhead");
    for layers in [0usize, 1, 5, 10, 20] {
        group.bench_with_input(
            BenchmarkId::new("inline_headers", layers),
            &layers,
            |b, &n| {
                b.iter(|| {
                    let mut r = Response::new(Body::from("Hello, world!"));
                    for _ in 0..n {
                        r.headers_mut().append(NAME, HeaderValue::from_static("1"));
                    }
                    black_box(r)
                })
            },
        );
        for (id, name) in [
            ("middleware_chain", "AddHeader"),
            ("hooks_chain", "AddHeaderHooks"),
        ] {
            let c_chain = chain(layers, name);
            group.bench_with_input(BenchmarkId::new(id, layers), &layers, |b, _| {
                b.iter(|| {
                    rt.block_on(async {
                        let mut req = http::Request::new(Body::empty());
                        black_box(c_chain.handle(&mut req).await)
                    })
                })
            });
        }
        let svc = tower_stack(layers);
        group.bench_with_input(
            BenchmarkId::new("tower_box_clone_service", layers),
            &layers,
            |b, _| {
                b.iter(|| {
                    rt.block_on(async {
                        let mut s = svc.clone();
                        let s = s.ready().await.unwrap();
                        black_box(s.call(http::Request::new(())).await.unwrap())
                    })
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
