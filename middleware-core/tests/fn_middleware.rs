//! One-function middleware: `Registry::register_fn` (call style) and
//! `Registry::register_fn_hooks` (a `process_request` / `process_response` pair).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use http::{HeaderValue, StatusCode};
use middleware_core::response::text;
use middleware_core::test_client::Client;
use middleware_core::{Chain, Error, FnHooks, Next, Registry, Request, Response, Router, Settings};

type Log = Arc<Mutex<Vec<String>>>;

#[derive(Clone, Debug, PartialEq)]
struct Tag(&'static str);

async fn ok_view(request: &mut Request) -> Result<Response, Error> {
    // What an outer function middleware put on the request reaches the view.
    let tag = request.extensions().get::<Tag>().map_or("none", |t| t.0);
    request.extensions_mut().insert(Tag("set-by-view"));
    Ok(text(StatusCode::OK, tag))
}

async fn failing_view(_: &mut Request) -> Result<Response, Error> {
    Err(Error::PermissionDenied("no".into()))
}

fn client(registry: &Registry, middleware: &[&str]) -> Client {
    let list = middleware
        .iter()
        .map(|m| format!("{m:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    let settings = Settings::from_toml_str(
        &format!("ALLOWED_HOSTS = [\"testserver\"]\nMIDDLEWARE = [{list}]"),
        "test",
    )
    .unwrap();
    let mut router = Router::new();
    router.route("ok/", ok_view).unwrap();
    router.route("fail/", failing_view).unwrap();
    Client::new(
        Chain::builder(registry, &settings)
            .urls(router)
            .build()
            .unwrap(),
    )
}

/// An outer middleware that records, in its response phase, the tag the request carries then.
fn register_outer(registry: &mut Registry, log: &Log) {
    let log = log.clone();
    registry.register_fn_hooks(
        "Outer",
        FnHooks::new().process_response(move |request: &mut Request, response| {
            let tag = request.extensions().get::<Tag>().map_or("none", |t| t.0);
            log.lock().unwrap().push(format!("outer sees {tag}"));
            response
        }),
    );
}

#[tokio::test]
async fn a_function_runs_code_before_and_after_the_rest_of_the_chain() {
    let log: Log = Arc::default();
    let mut registry = Registry::new();
    register_outer(&mut registry, &log);
    let l = log.clone();
    registry.register_fn("Header", move |mut request: Request, next: Next| {
        let log = l.clone();
        async move {
            log.lock().unwrap().push("before".into());
            request.extensions_mut().insert(Tag("set-by-fn"));
            let mut response = next.run(request).await;
            log.lock().unwrap().push("after".into());
            let value = HeaderValue::from_static("Hello");
            response.headers_mut().insert("x-custom-header", value);
            response
        }
    });
    let mut client = client(&registry, &["Outer", "Header"]);
    let r = client.get("/ok/").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "set-by-fn");
    assert_eq!(r.header("x-custom-header"), Some("Hello"));
    // The request went back to the outer layer with what the view added to it.
    assert_eq!(
        *log.lock().unwrap(),
        ["before", "after", "outer sees set-by-view"]
    );
}

#[tokio::test]
async fn a_function_that_answers_without_next_gives_the_outer_layers_the_request_back() {
    let log: Log = Arc::default();
    let mut registry = Registry::new();
    register_outer(&mut registry, &log);
    registry.register_fn("Tagger", |mut request: Request, next: Next| async move {
        request.extensions_mut().insert(Tag("set-by-tagger"));
        next.run(request).await
    });
    registry.register_fn("Maintenance", |_request: Request, _next: Next| async {
        text(StatusCode::SERVICE_UNAVAILABLE, "maintenance")
    });
    let mut client = client(&registry, &["Outer", "Tagger", "Maintenance"]);
    let r = client.get("/ok/").await;
    assert_eq!(r.status, 503);
    assert_eq!(*log.lock().unwrap(), ["outer sees set-by-tagger"]);
}

#[tokio::test]
async fn a_function_error_is_answered_by_the_error_handlers_at_its_layer() {
    let log: Log = Arc::default();
    let mut registry = Registry::new();
    register_outer(&mut registry, &log);
    registry.register_fn("Refuses", |_request: Request, _next: Next| async {
        Err::<Response, _>(Error::PermissionDenied("refused".into()))
    });
    let mut client = client(&registry, &["Outer", "Refuses"]);
    let r = client.get("/ok/").await;
    assert_eq!(r.status, 403);
    assert_eq!(*log.lock().unwrap(), ["outer sees none"]);
}

// Django: MiddlewareMixin.__call__ (django/utils/deprecation.py): a response from
// process_request skips the rest of the chain, and process_response still runs on it.
#[tokio::test]
async fn hook_functions_short_circuit_and_process_response_still_runs() {
    let log: Log = Arc::default();
    let mut registry = Registry::new();
    let (before, after) = (log.clone(), log.clone());
    registry.register_fn_hooks(
        "Gate",
        FnHooks::new()
            .process_request(move |request: &mut Request| {
                before.lock().unwrap().push("process_request".into());
                (request.uri().path() == "/fail/").then(|| text(StatusCode::GONE, "gone"))
            })
            .process_response(move |_, mut response: Response| {
                after
                    .lock()
                    .unwrap()
                    .push(format!("process_response {}", response.status()));
                let value = HeaderValue::from_static("rust");
                response.headers_mut().insert("x-powered-by", value);
                response
            }),
    );
    let mut client = client(&registry, &["Gate"]);
    let r = client.get("/fail/").await;
    assert_eq!(r.status, 410);
    assert_eq!(r.header("x-powered-by"), Some("rust"));
    let r = client.get("/ok/").await;
    assert_eq!(r.status, 200);
    assert_eq!(
        *log.lock().unwrap(),
        [
            "process_request",
            "process_response 410 Gone",
            "process_request",
            "process_response 200 OK"
        ]
    );
}

// Django: an exception in process_response is converted to a response at that layer
// (convert_exception_to_response), so the outer layers see a 403 here.
#[tokio::test]
async fn a_hook_function_returning_an_error_answers_with_the_error_handlers() {
    let mut registry = Registry::new();
    registry.register_fn_hooks(
        "Strict",
        FnHooks::new()
            .process_response(|_, _response: Response| Err(Error::PermissionDenied("no".into()))),
    );
    let mut client = client(&registry, &["Strict"]);
    assert_eq!(client.get("/ok/").await.status, 403);
}

#[test]
fn a_function_built_from_the_settings_reads_them_at_start_up() {
    let mut registry = Registry::new();
    registry
        .register_fn_with("Banner", |ctx| {
            let banner: String = ctx.settings.get("BANNER")?.unwrap_or_default();
            Ok(move |request: Request, next: Next| {
                let banner = banner.clone();
                async move {
                    let mut response = next.run(request).await;
                    if let Ok(value) = HeaderValue::from_str(&banner) {
                        response.headers_mut().insert("x-banner", value);
                    }
                    response
                }
            })
        })
        .settings(&["BANNER"]);
    let settings = Settings::from_toml_str(
        "ALLOWED_HOSTS = [\"testserver\"]\nMIDDLEWARE = [\"Banner\"]\nBANNER = \"hi\"",
        "test",
    )
    .unwrap();
    let chain = Chain::builder(&registry, &settings).build().unwrap();
    let response = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(
            chain.call(
                http::Request::get("/")
                    .header("host", "testserver")
                    .body(Default::default())
                    .unwrap(),
            ),
        );
    assert_eq!(response.headers()["x-banner"], "hi");
}
