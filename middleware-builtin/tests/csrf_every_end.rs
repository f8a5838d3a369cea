//! CSRF is enforced whatever the chain ends in (issue 16: with `.handler(..)` a POST without a
//! token used to get 200, because `process_view` only ran behind a URLconf).
//!
//! Mirrors Django's `csrf_tests.tests.CsrfViewMiddlewareTestMixin.test_process_request_no_csrf_cookie`
//! (a POST without a cookie or token is rejected with 403) for each end: a `Router`, a
//! `GetResponse` handler, the chain as a `tower::Service`, and no end at all.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use http::StatusCode;
use middleware_core::{
    async_trait, Body, Chain, ChainBuilder, Error, GetResponse, Registry, Request, Response,
    Router, Settings,
};

const SETTINGS: &str = r#"
SECRET_KEY = "csrf-every-end-secret-key-0123456789-abcdefghijklmnop"
ALLOWED_HOSTS = ["testserver"]
MIDDLEWARE = ["django.middleware.csrf.CsrfViewMiddleware"]
"#;

struct Hello;

#[async_trait]
impl GetResponse for Hello {
    async fn get_response(&self, _request: &mut Request) -> Response {
        Response::new("hello".into())
    }
}

async fn hello(_: &mut Request) -> Result<Response, Error> {
    Ok(Response::new("hello".into()))
}

fn build(end: impl FnOnce(ChainBuilder<'_>) -> ChainBuilder<'_>) -> Chain {
    let mut registry = Registry::new();
    middleware_builtin::register_all(&mut registry);
    let settings = Settings::from_toml_str(SETTINGS, "settings.toml").unwrap();
    end(Chain::builder(&registry, &settings)).build().unwrap()
}

fn request(method: &str) -> Request {
    http::Request::builder()
        .method(method)
        .uri("/")
        .header("host", "testserver")
        .body(Body::empty())
        .unwrap()
}

async fn assert_enforced(chain: &Chain) {
    let get = chain.call(request("GET")).await;
    assert_eq!(get.status(), StatusCode::OK);
    let post = chain.call(request("POST")).await;
    assert_eq!(post.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn post_without_token_is_refused_behind_a_router() {
    let mut router = Router::new();
    router.route("", hello).unwrap();
    assert_enforced(&build(|b| b.urls(router))).await;
}

#[tokio::test]
async fn post_without_token_is_refused_behind_a_handler() {
    assert_enforced(&build(|b| b.handler(Hello))).await;
}

#[tokio::test]
async fn post_without_token_is_refused_through_the_tower_service() {
    use tower::ServiceExt;
    let chain = build(|b| b.handler(Hello));
    let post = chain.clone().oneshot(request("POST")).await.unwrap();
    assert_eq!(post.status(), StatusCode::FORBIDDEN);
    let get = chain
        .oneshot(
            http::Request::get("/")
                .header("host", "testserver")
                .body(String::new())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(get.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_chain_with_no_end_answers_404() {
    let chain = build(|b| b);
    assert_eq!(
        chain.call(request("GET")).await.status(),
        StatusCode::NOT_FOUND
    );
}
