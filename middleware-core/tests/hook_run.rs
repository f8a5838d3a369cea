//! Consecutive hook-style middleware (`register_hooks`, `register_ready_hooks`,
//! `register_fn_hooks`), which the chain
//! runs as one layer: every case where that could differ from one layer per middleware, as
//! Django's `MiddlewareMixin.__call__` and `convert_exception_to_response` behave.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use http::StatusCode;
use middleware_core::response::text;
use middleware_core::test_client::Client;
use middleware_core::{
    async_trait, Chain, Error, FnHooks, Hook, HookMiddleware, Hooks, Middleware, Next, Registry,
    Request, ResolverMatch, Response, Router, Settings,
};

type Log = Arc<Mutex<Vec<String>>>;

/// What a recorded hook does, chosen by the request's path.
#[derive(Clone, Copy)]
enum Act {
    Pass,
    Answer,
    Fail,
    Panic,
}

/// For each middleware, what its `process_request` and `process_response` do on a path:
/// `/NAME-request-ACT/` or `/NAME-response-ACT/` (anything else: pass).
fn act(request: &Request, name: &str, phase: &str) -> Act {
    let path = request.uri().path();
    let prefix = format!("/{name}-{phase}-");
    match path
        .strip_prefix(&prefix)
        .map(|rest| rest.trim_end_matches('/'))
    {
        Some("answer") => Act::Answer,
        Some("fail") => Act::Fail,
        Some("panic") => Act::Panic,
        _ => Act::Pass,
    }
}

fn push(log: &Log, entry: String) {
    log.lock().unwrap().push(entry);
}

/// An `async` hook-style middleware (Django's `MiddlewareMixin` subclass) that records its
/// hooks, and stamps the responses it sees with its name.
struct Recorded {
    name: &'static str,
    log: Log,
}

#[async_trait]
impl HookMiddleware for Recorded {
    async fn process_request(&self, request: &mut Request) -> Result<Option<Response>, Error> {
        push(&self.log, format!("{}:request", self.name));
        tokio::task::yield_now().await;
        outcome_of_request(request, self.name)
    }

    async fn process_response(
        &self,
        request: &mut Request,
        response: Response,
    ) -> Result<Response, Error> {
        push(
            &self.log,
            format!("{}:response {}", self.name, response.status().as_u16()),
        );
        tokio::task::yield_now().await;
        outcome_of_response(request, self.name, response)
    }

    async fn process_view(
        &self,
        _request: &mut Request,
        _view: &ResolverMatch,
    ) -> Result<Option<Response>, Error> {
        push(&self.log, format!("{}:view", self.name));
        Ok(None)
    }
}

fn outcome_of_request(request: &Request, name: &str) -> Result<Option<Response>, Error> {
    match act(request, name, "request") {
        Act::Pass => Ok(None),
        Act::Answer => Ok(Some(text(StatusCode::IM_A_TEAPOT, format!("from {name}")))),
        Act::Fail => Err(Error::PermissionDenied(format!("{name} refused"))),
        Act::Panic => panic!("{name} panicked in process_request"),
    }
}

fn outcome_of_response(
    request: &Request,
    name: &'static str,
    mut response: Response,
) -> Result<Response, Error> {
    match act(request, name, "response") {
        Act::Pass | Act::Answer => {
            response
                .headers_mut()
                .append("x-seen-by", http::HeaderValue::from_static(name));
            Ok(response)
        }
        Act::Fail => Err(Error::PermissionDenied(format!("{name} refused"))),
        Act::Panic => panic!("{name} panicked in process_response"),
    }
}

/// The same as [`Hooks`] that always wait ([`Hook::Pending`]), editing the response in place.
struct Pending {
    name: &'static str,
    log: Log,
}

impl Hooks for Pending {
    fn process_request<'a>(
        &'a self,
        request: &'a mut Request,
    ) -> Hook<'a, Result<Option<Response>, Error>> {
        Hook::pending(async move {
            push(&self.log, format!("{}:request", self.name));
            tokio::task::yield_now().await;
            outcome_of_request(request, self.name)
        })
    }

    fn process_response<'a>(
        &'a self,
        request: &'a mut Request,
        response: &'a mut Response,
    ) -> Hook<'a, Result<(), Error>> {
        Hook::pending(async move {
            push(
                &self.log,
                format!("{}:response {}", self.name, response.status().as_u16()),
            );
            tokio::task::yield_now().await;
            let given = std::mem::take(response);
            *response = outcome_of_response(request, self.name, given)?;
            Ok(())
        })
    }

    fn process_view<'a>(
        &'a self,
        _request: &'a mut Request,
        _view: &'a ResolverMatch,
    ) -> Hook<'a, Result<Option<Response>, Error>> {
        Hook::pending(async move {
            push(&self.log, format!("{}:view", self.name));
            tokio::task::yield_now().await;
            Ok(None)
        })
    }
}

/// The same as plain functions (`FnHooks`, which the chain runs as [`Hook::Ready`] hooks).
fn fn_hooks(name: &'static str, log: &Log) -> FnHooks {
    let (before, after) = (log.clone(), log.clone());
    FnHooks::new()
        .process_request(move |request: &mut Request| {
            push(&before, format!("{name}:request"));
            outcome_of_request(request, name)
        })
        .process_response(move |request: &mut Request, response: Response| {
            push(
                &after,
                format!("{name}:response {}", response.status().as_u16()),
            );
            outcome_of_response(request, name, response)
        })
}

/// A call-style middleware: it ends a run of hook-style ones.
struct Call {
    next: Next,
    log: Log,
}

#[async_trait]
impl Middleware for Call {
    async fn call(&self, request: &mut Request) -> Result<Response, Error> {
        push(&self.log, "call:before".into());
        let response = self.next.get_response(request).await;
        push(
            &self.log,
            format!("call:after {}", response.status().as_u16()),
        );
        Ok(response)
    }

    async fn process_view(
        &self,
        _request: &mut Request,
        _view: &ResolverMatch,
    ) -> Result<Option<Response>, Error> {
        push(&self.log, "call:view".into());
        Ok(None)
    }
}

/// Only `process_response`, `async`: its `process_request` is learned absent.
struct ResponseOnly {
    log: Log,
}

#[async_trait]
impl HookMiddleware for ResponseOnly {
    async fn process_response(
        &self,
        _request: &mut Request,
        response: Response,
    ) -> Result<Response, Error> {
        push(
            &self.log,
            format!("response-only {}", response.status().as_u16()),
        );
        Ok(response)
    }
}

/// `MIDDLEWARE`: A and C async hooks, B and D functions, then a call-style layer, then E
/// (`Hooks` that always wait) and `ResponseOnly`, innermost: two runs of hook-style layers.
fn client(log: &Log) -> Client {
    let mut registry = Registry::new();
    let l = log.clone();
    registry.register_ready_hooks("E", move |_| {
        Ok(Pending {
            name: "E",
            log: l.clone(),
        })
    });
    for name in ["A", "C"] {
        let log = log.clone();
        registry.register_hooks(name, move |_| {
            Ok(Recorded {
                name,
                log: log.clone(),
            })
        });
    }
    registry.register_fn_hooks("B", fn_hooks("B", log));
    registry.register_fn_hooks("D", fn_hooks("D", log));
    let l = log.clone();
    registry.register("Call", move |next, _| {
        Ok(Call {
            next,
            log: l.clone(),
        })
    });
    let l = log.clone();
    registry.register_hooks("ResponseOnly", move |_| Ok(ResponseOnly { log: l.clone() }));
    let settings = Settings::from_toml_str(
        r#"ALLOWED_HOSTS = ["testserver"]
MIDDLEWARE = ["A", "B", "C", "D", "Call", "E", "ResponseOnly"]"#,
        "test",
    )
    .unwrap();
    let view_log = log.clone();
    let mut router = Router::new();
    router
        .route("<str:anything>/", move |_: &mut Request| {
            let log = view_log.clone();
            async move {
                push(&log, "view".into());
                Ok::<_, Error>(text(StatusCode::OK, "view"))
            }
        })
        .unwrap();
    Client::new(
        Chain::builder(&registry, &settings)
            .urls(router)
            .build()
            .unwrap(),
    )
}

/// The middleware that stamped the response, innermost first.
fn seen_by(r: &middleware_core::test_client::TestResponse) -> Vec<&str> {
    r.headers
        .get_all("x-seen-by")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect()
}

fn taken(log: &Log) -> Vec<String> {
    std::mem::take(&mut *log.lock().unwrap())
}

// Django: MiddlewareMixin.__call__ per middleware, then BaseHandler._get_response:
// process_request top to bottom, process_view top to bottom after resolution, the view,
// process_response bottom to top.
#[tokio::test]
async fn hooks_run_in_django_order_across_runs_and_call_style_layers() {
    let log: Log = Arc::default();
    let mut client = client(&log);
    for _ in 0..2 {
        let r = client.get("/plain/").await;
        assert_eq!(r.status, 200);
        assert_eq!(r.text(), "view");
        assert_eq!(seen_by(&r), ["E", "D", "C", "B", "A"]);
        assert_eq!(
            taken(&log),
            [
                "A:request",
                "B:request",
                "C:request",
                "D:request",
                "call:before",
                "E:request",
                "A:view",
                "C:view",
                "call:view",
                "E:view",
                "view",
                "response-only 200",
                "E:response 200",
                "call:after 200",
                "D:response 200",
                "C:response 200",
                "B:response 200",
                "A:response 200",
            ]
        );
    }
}

// Django: MiddlewareMixin.__call__: a response from process_request skips the rest of the
// chain, and that middleware's own process_response, then the outer ones', run on it.
#[tokio::test]
async fn a_short_circuit_in_the_middle_of_a_run_skips_the_inner_layers_only() {
    let log: Log = Arc::default();
    let mut client = client(&log);
    for path in ["/B-request-answer/", "/C-request-answer/"] {
        let r = client.get(path).await;
        assert_eq!(r.status, 418, "{path}");
        let answerer = if path.starts_with("/B") { "B" } else { "C" };
        assert_eq!(r.text(), format!("from {answerer}"));
        let expected: Vec<String> = if answerer == "B" {
            vec![
                "A:request".into(),
                "B:request".into(),
                "B:response 418".into(),
                "A:response 418".into(),
            ]
        } else {
            vec![
                "A:request".into(),
                "B:request".into(),
                "C:request".into(),
                "C:response 418".into(),
                "B:response 418".into(),
                "A:response 418".into(),
            ]
        };
        assert_eq!(taken(&log), expected, "{path}");
    }
}

// Django: test_exception_in_middleware_converted_before_prior_middleware
// (tests/middleware_exceptions/tests.py): an exception in a middleware becomes a response at
// that middleware (convert_exception_to_response), which the middleware above it see. A
// middleware whose process_request raised runs no process_response of its own.
#[tokio::test]
async fn an_error_or_panic_in_process_request_is_converted_at_that_layer() {
    let log: Log = Arc::default();
    let mut client = client(&log);
    for (path, status) in [
        ("/B-request-fail/", 403),
        ("/B-request-panic/", 500),
        ("/C-request-fail/", 403),
        ("/C-request-panic/", 500),
    ] {
        let r = client.get(path).await;
        assert_eq!(r.status, status, "{path}");
        let expected: Vec<String> = if path.starts_with("/B") {
            vec![
                "A:request".into(),
                "B:request".into(),
                format!("A:response {status}"),
            ]
        } else {
            vec![
                "A:request".into(),
                "B:request".into(),
                "C:request".into(),
                format!("B:response {status}"),
                format!("A:response {status}"),
            ]
        };
        assert_eq!(taken(&log), expected, "{path}");
        assert_eq!(
            seen_by(&r),
            if path.starts_with("/B") {
                vec!["A"]
            } else {
                vec!["B", "A"]
            },
            "{path}"
        );
    }
    // The chain keeps serving after the panics.
    assert_eq!(client.get("/plain/").await.status, 200);
}

// Django: convert_exception_to_response around each middleware: an exception in
// process_response becomes a response there; the middleware above see that response, the
// ones below have already run.
#[tokio::test]
async fn an_error_or_panic_in_process_response_is_converted_at_that_layer() {
    let log: Log = Arc::default();
    let mut client = client(&log);
    for (path, status) in [("/C-response-fail/", 403), ("/D-response-panic/", 500)] {
        let r = client.get(path).await;
        assert_eq!(r.status, status, "{path}");
        let log = taken(&log);
        let responses: Vec<_> = log.iter().filter(|e| e.contains(":response")).collect();
        let expected: Vec<String> = if path.starts_with("/C") {
            vec![
                "E:response 200".into(),
                "D:response 200".into(),
                "C:response 200".into(),
                format!("B:response {status}"),
                format!("A:response {status}"),
            ]
        } else {
            vec![
                "E:response 200".into(),
                "D:response 200".into(),
                format!("C:response {status}"),
                format!("B:response {status}"),
                format!("A:response {status}"),
            ]
        };
        assert_eq!(responses, expected.iter().collect::<Vec<_>>(), "{path}");
        let above: Vec<_> = if path.starts_with("/C") {
            vec!["B", "A"]
        } else {
            vec!["C", "B", "A"]
        };
        assert_eq!(seen_by(&r), above, "{path}");
    }
}

/// A client for `middleware` (a TOML list) from `registry`, every path answered 200 "view".
fn plain_client(registry: &Registry, middleware: &str) -> Client {
    let settings = Settings::from_toml_str(
        &format!("ALLOWED_HOSTS = [\"testserver\"]\nMIDDLEWARE = {middleware}"),
        "test",
    )
    .unwrap();
    let mut router = Router::new();
    router
        .route("<str:anything>/", |_: &mut Request| async {
            Ok::<_, Error>(text(StatusCode::OK, "view"))
        })
        .unwrap();
    Client::new(
        Chain::builder(registry, &settings)
            .urls(router)
            .build()
            .unwrap(),
    )
}

// Django: convert_exception_to_response around each middleware, for hooks that wait: E's
// hooks are `Hook::Pending`, in the inner run with ResponseOnly.
#[tokio::test]
async fn hooks_that_wait_are_converted_at_their_layer_too() {
    let log: Log = Arc::default();
    let mut client = client(&log);
    let r = client.get("/E-request-panic/").await;
    assert_eq!(r.status, 500);
    let log_now = taken(&log);
    assert!(
        log_now.contains(&"call:after 500".to_owned()),
        "{log_now:?}"
    );
    assert!(
        !log_now.iter().any(|e| e.starts_with("response-only")),
        "{log_now:?}"
    );
    assert!(!log_now.contains(&"view".to_owned()), "{log_now:?}");
    assert_eq!(seen_by(&r), ["D", "C", "B", "A"]);

    let r = client.get("/E-response-fail/").await;
    assert_eq!(r.status, 403);
    let log_now = taken(&log);
    assert!(
        log_now.contains(&"response-only 200".to_owned()),
        "{log_now:?}"
    );
    assert!(
        log_now.contains(&"E:response 200".to_owned()),
        "{log_now:?}"
    );
    assert!(
        log_now.contains(&"call:after 403".to_owned()),
        "{log_now:?}"
    );
    assert_eq!(seen_by(&r), ["D", "C", "B", "A"]);

    // E answers from process_request: its own process_response still runs, on that answer.
    let r = client.get("/E-request-answer/").await;
    assert_eq!(r.status, 418);
    assert_eq!(seen_by(&r), ["E", "D", "C", "B", "A"]);
    assert!(!taken(&log).contains(&"view".to_owned()));
}

// Django: MiddlewareMixin.__call__ for one middleware alone (no run to join): the same
// semantics through `HooksLayer::call`.
#[tokio::test]
async fn a_hook_style_layer_alone_keeps_django_semantics() {
    let log: Log = Arc::default();
    let mut registry = Registry::new();
    registry.register_fn_hooks("B", fn_hooks("B", &log));
    let mut client = plain_client(&registry, r#"["B"]"#);
    let r = client.get("/B-request-answer/").await;
    assert_eq!((r.status.as_u16(), seen_by(&r)), (418, vec!["B"]));
    let r = client.get("/B-request-fail/").await;
    assert_eq!((r.status.as_u16(), seen_by(&r)), (403, Vec::<&str>::new()));
    let r = client.get("/B-response-panic/").await;
    assert_eq!(r.status, 500);
    let r = client.get("/plain/").await;
    assert_eq!((r.status.as_u16(), seen_by(&r)), (200, vec!["B"]));
    assert_eq!(
        taken(&log),
        [
            "B:request",
            "B:response 418",
            "B:request",
            "B:request",
            "B:response 200",
            "B:request",
            "B:response 200"
        ]
    );
}

// Django: process_response returns the response it was given, changed, or another one; the
// in-place form does both without moving it, and its errors convert at its layer.
#[tokio::test]
async fn process_response_in_place_edits_replaces_and_fails_like_the_by_value_form() {
    let mut registry = Registry::new();
    registry.register_fn_hooks(
        "Outer",
        FnHooks::new().process_response_in_place(|_, response: &mut Response| {
            let status = response.status().as_u16().to_string();
            response
                .headers_mut()
                .insert("x-outer-saw", status.parse().unwrap());
        }),
    );
    registry.register_fn_hooks(
        "Inner",
        FnHooks::new().process_response_in_place(
            |request: &mut Request, response: &mut Response| {
                match request.uri().path() {
                    "/replace/" => *response = text(StatusCode::ACCEPTED, "replaced"),
                    "/fail/" => return Err(Error::PermissionDenied("no".into())),
                    _ => {
                        response
                            .headers_mut()
                            .insert("x-inner", http::HeaderValue::from_static("1"));
                    }
                }
                Ok(())
            },
        ),
    );
    let mut client = plain_client(&registry, r#"["Outer", "Inner"]"#);
    let r = client.get("/edit/").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("x-inner"), Some("1"));
    assert_eq!(r.header("x-outer-saw"), Some("200"));
    assert_eq!(r.text(), "view");
    let r = client.get("/replace/").await;
    assert_eq!(r.status, 202);
    assert_eq!(r.text(), "replaced");
    assert_eq!(r.header("x-outer-saw"), Some("202"));
    let r = client.get("/fail/").await;
    assert_eq!(r.status, 403);
    assert_eq!(r.header("x-inner"), None);
    assert_eq!(r.header("x-outer-saw"), Some("403"));
}
