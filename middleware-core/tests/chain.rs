//! The chain machinery, mirroring Django's `tests/middleware_exceptions` and `tests/handlers`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures_util::StreamExt;
use http::StatusCode;
use middleware_core::response::text;
use middleware_core::test_client::Client;
use middleware_core::{
    async_trait, BuildError, Chain, EntryStatus, Error, ErrorInfo, FactoryError, HookMiddleware,
    Middleware, Next, Registry, Request, ResolverMatch, Response, Route, Router, Settings,
};

type Log = Arc<Mutex<Vec<String>>>;
type Chunks = tokio::sync::mpsc::Receiver<Result<Bytes, std::io::Error>>;

/// A middleware that records every hook call and can be told to short-circuit or fail.
struct Recorder {
    name: &'static str,
    next: Next,
    log: Log,
    view_response: bool,
    exception_response: bool,
    fail_in_call: bool,
    panic_in_call: bool,
}

impl Recorder {
    fn push(&self, what: &str) {
        self.log
            .lock()
            .unwrap()
            .push(format!("{}:{what}", self.name));
    }
}

#[async_trait]
impl Middleware for Recorder {
    async fn call(&self, request: &mut Request) -> Result<Response, Error> {
        self.push("before");
        if self.fail_in_call {
            return Err(Error::internal("middleware failed"));
        }
        if self.panic_in_call {
            panic!("middleware panicked");
        }
        let mut response = self.next.get_response(request).await;
        self.push(&format!("after {}", response.status().as_u16()));
        response
            .headers_mut()
            .append("x-seen-by", self.name.parse().unwrap());
        Ok(response)
    }

    async fn process_view(
        &self,
        _request: &mut Request,
        _view: &ResolverMatch,
    ) -> Result<Option<Response>, Error> {
        self.push("process_view");
        Ok(self
            .view_response
            .then(|| text(StatusCode::OK, format!("from {} process_view", self.name))))
    }

    async fn process_exception(&self, _request: &mut Request, error: &Error) -> Option<Response> {
        self.push(&format!("process_exception {}", error.status().as_u16()));
        self.exception_response
            .then(|| text(StatusCode::OK, format!("handled by {}", self.name)))
    }

    async fn process_template_response(
        &self,
        _request: &mut Request,
        mut response: Response,
    ) -> Result<Response, Error> {
        self.push("process_template_response");
        if let Some(t) = response
            .extensions_mut()
            .get_mut::<middleware_core::TemplateResponse>()
        {
            let prev = t
                .context
                .get("trail")
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .to_owned();
            t.context
                .insert("trail".into(), format!("{prev}{}", self.name).into());
        }
        Ok(response)
    }
}

#[derive(Default, Clone, Copy)]
struct Behaviour {
    view_response: bool,
    exception_response: bool,
    fail_in_call: bool,
    panic_in_call: bool,
}

fn register(registry: &mut Registry, name: &'static str, log: &Log, b: Behaviour) {
    let log = log.clone();
    registry.register(name, move |next, _| {
        Ok(Recorder {
            name,
            next,
            log: log.clone(),
            view_response: b.view_response,
            exception_response: b.exception_response,
            fail_in_call: b.fail_in_call,
            panic_in_call: b.panic_in_call,
        })
    });
}

async fn ok_view(_: &mut Request) -> Result<Response, Error> {
    Ok(text(StatusCode::OK, "view"))
}
async fn failing_view(_: &mut Request) -> Result<Response, Error> {
    Err(Error::internal("view failed"))
}
async fn panicking_view(_: &mut Request) -> Result<Response, Error> {
    panic!("view panicked")
}
async fn not_found_view(_: &mut Request) -> Result<Response, Error> {
    Err(Error::not_found("nothing here"))
}

struct Echo;
impl middleware_core::Render for Echo {
    fn render(
        &self,
        template_name: &str,
        context: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<String, Error> {
        if template_name == "broken.html" {
            return Err(Error::internal("render failed"));
        }
        Ok(format!(
            "{template_name}:{}",
            context.get("trail").and_then(|v| v.as_str()).unwrap_or("")
        ))
    }
}
async fn template_view(_: &mut Request) -> Result<Response, Error> {
    Ok(
        middleware_core::TemplateResponse::new(Arc::new(Echo), "page.html", Default::default())
            .into_response(),
    )
}
async fn broken_template_view(_: &mut Request) -> Result<Response, Error> {
    Ok(
        middleware_core::TemplateResponse::new(Arc::new(Echo), "broken.html", Default::default())
            .into_response(),
    )
}

fn router() -> Router {
    let mut r = Router::new();
    r.add(Route::new("ok/", ok_view)).unwrap();
    r.add(Route::new("fail/", failing_view)).unwrap();
    r.add(Route::new("panic/", panicking_view)).unwrap();
    r.add(Route::new("notfound/", not_found_view)).unwrap();
    r.add(Route::new("template/", template_view)).unwrap();
    r.add(Route::new("broken-template/", broken_template_view))
        .unwrap();
    r
}

fn settings(middleware: &[&str]) -> Settings {
    let list = middleware
        .iter()
        .map(|m| format!("{m:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    Settings::from_toml_str(
        &format!("ALLOWED_HOSTS = [\"testserver\"]\nMIDDLEWARE = [{list}]"),
        "test",
    )
    .unwrap()
}

fn chain(behaviours: &[(&'static str, Behaviour)]) -> (Client, Log) {
    let log: Log = Arc::default();
    let mut registry = Registry::new();
    for (name, b) in behaviours {
        register(&mut registry, name, &log, *b);
    }
    let names: Vec<&str> = behaviours.iter().map(|(n, _)| *n).collect();
    let chain = Chain::builder(&registry, &settings(&names))
        .urls(router())
        .build()
        .unwrap();
    (Client::new(chain), log)
}

fn taken(log: &Log) -> Vec<String> {
    std::mem::take(&mut *log.lock().unwrap())
}

const PLAIN: Behaviour = Behaviour {
    view_response: false,
    exception_response: false,
    fail_in_call: false,
    panic_in_call: false,
};

// Django: the seed example and `load_middleware`: outermost first on the way in, last on the
// way out; process_view top to bottom.
#[tokio::test]
async fn order_of_calls_across_nested_middleware() {
    let (mut client, log) = chain(&[("A", PLAIN), ("B", PLAIN), ("C", PLAIN)]);
    let r = client.get("/ok/").await;
    assert_eq!(r.status, 200);
    assert_eq!(
        taken(&log),
        [
            "A:before",
            "B:before",
            "C:before",
            "A:process_view",
            "B:process_view",
            "C:process_view",
            "C:after 200",
            "B:after 200",
            "A:after 200"
        ]
    );
    let seen: Vec<_> = r.headers.get_all("x-seen-by").iter().collect();
    assert_eq!(seen, ["C", "B", "A"]);
}

// Django: tests/middleware_exceptions/tests.py::MiddlewareTests::test_process_view_return_response
#[tokio::test]
async fn process_view_response_skips_later_hooks_and_the_view() {
    let returning = Behaviour {
        view_response: true,
        ..PLAIN
    };
    let (mut client, log) = chain(&[("A", PLAIN), ("B", returning), ("C", PLAIN)]);
    let r = client.get("/fail/").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "from B process_view");
    let log = taken(&log);
    assert!(log.contains(&"B:process_view".to_owned()));
    assert!(!log.contains(&"C:process_view".to_owned()), "{log:?}");
    assert!(
        !log.iter().any(|l| l.contains("process_exception")),
        "the view must not run"
    );
}

// Django: ::test_process_view_return_none
#[tokio::test]
async fn process_view_none_lets_the_view_run() {
    let (mut client, _log) = chain(&[("A", PLAIN)]);
    assert_eq!(client.get("/ok/").await.text(), "view");
}

// Django: ::test_view_exception_handled_by_process_exception and
// ::test_response_from_process_exception_short_circuits_remainder
#[tokio::test]
async fn process_exception_runs_bottom_to_top_and_first_response_wins() {
    let handling = Behaviour {
        exception_response: true,
        ..PLAIN
    };
    let (mut client, log) = chain(&[("A", PLAIN), ("B", handling), ("C", PLAIN)]);
    let r = client.get("/fail/").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "handled by B");
    let log = taken(&log);
    let exc: Vec<_> = log
        .iter()
        .filter(|l| l.contains("process_exception"))
        .collect();
    assert_eq!(exc, ["C:process_exception 500", "B:process_exception 500"]);
}

// Django: ::test_view_exception_converted_before_middleware
#[tokio::test]
async fn unhandled_view_error_is_a_500_that_outer_middleware_see() {
    let (mut client, log) = chain(&[("A", PLAIN), ("B", PLAIN)]);
    let r = client.get("/fail/").await;
    assert_eq!(r.status, 500);
    assert!(taken(&log).contains(&"A:after 500".to_owned()));
    let info = r
        .extensions
        .get::<ErrorInfo>()
        .expect("error travels with the response");
    assert!(info.0.to_string().contains("view failed"));
}

// Django: ::test_exception_in_middleware_converted_before_prior_middleware
#[tokio::test]
async fn error_in_a_middleware_becomes_a_response_for_the_one_above() {
    let failing = Behaviour {
        fail_in_call: true,
        ..PLAIN
    };
    let (mut client, log) = chain(&[("A", PLAIN), ("B", failing), ("C", PLAIN)]);
    let r = client.get("/ok/").await;
    assert_eq!(r.status, 500);
    let log = taken(&log);
    assert!(log.contains(&"A:after 500".to_owned()), "{log:?}");
    assert!(!log.iter().any(|l| l.starts_with("C:")), "{log:?}");
    // process_exception sees only view errors, not middleware errors (Django's scope).
    assert!(
        !log.iter().any(|l| l.contains("process_exception")),
        "{log:?}"
    );
}

// Panics at every depth: in the view, and in a middleware; outer layers still see a 500.
#[tokio::test]
async fn panics_become_500s_at_every_depth_and_the_chain_keeps_serving() {
    let (mut client, log) = chain(&[("A", PLAIN), ("B", PLAIN)]);
    let r = client.get("/panic/").await;
    assert_eq!(r.status, 500);
    let log_now = taken(&log);
    assert!(
        log_now.contains(&"B:process_exception 500".to_owned()),
        "{log_now:?}"
    );
    assert!(log_now.contains(&"A:after 500".to_owned()), "{log_now:?}");
    assert_eq!(client.get("/ok/").await.status, 200);

    let panicking = Behaviour {
        panic_in_call: true,
        ..PLAIN
    };
    for depth in 0..3 {
        let mut spec = vec![("A", PLAIN), ("B", PLAIN), ("C", PLAIN)];
        spec[depth].1 = panicking;
        let (mut client, log) = chain(&spec);
        let r = client.get("/ok/").await;
        assert_eq!(r.status, 500, "panic at depth {depth}");
        let log = taken(&log);
        for outer in &spec[..depth] {
            assert!(log.contains(&format!("{}:after 500", outer.0)), "{log:?}");
        }
    }
}

// Django: 404 from URL resolution still passes through every middleware (CommonMiddleware's
// APPEND_SLASH relies on it).
#[tokio::test]
async fn unresolved_urls_are_404_through_the_chain() {
    let (mut client, log) = chain(&[("A", PLAIN)]);
    let r = client.get("/nope/").await;
    assert_eq!(r.status, 404);
    let log = taken(&log);
    assert_eq!(
        log,
        ["A:before", "A:after 404"],
        "no process_view for unresolved URLs"
    );
    assert_eq!(client.get("/notfound/").await.status, 404);
}

// Django: ::test_process_template_response and
// ::test_exception_in_render_passed_to_process_exception
#[tokio::test]
async fn template_responses_run_hooks_bottom_to_top_then_render() {
    let (mut client, log) = chain(&[("A", PLAIN), ("B", PLAIN)]);
    let r = client.get("/template/").await;
    assert_eq!(r.text(), "page.html:BA");
    let log = taken(&log);
    let hooks: Vec<_> = log.iter().filter(|l| l.contains("template")).collect();
    assert_eq!(
        hooks,
        ["B:process_template_response", "A:process_template_response"]
    );

    let handling = Behaviour {
        exception_response: true,
        ..PLAIN
    };
    let (mut client, log) = chain(&[("A", handling)]);
    let r = client.get("/broken-template/").await;
    assert_eq!(r.text(), "handled by A");
    assert!(taken(&log).contains(&"A:process_exception 500".to_owned()));
}

// Django: tests/middleware_exceptions/tests.py::MiddlewareNotUsedTests::test_raise_exception
#[tokio::test]
async fn middleware_not_used_is_skipped_and_reported() {
    let log: Log = Arc::default();
    let mut registry = Registry::new();
    register(&mut registry, "A", &log, PLAIN);
    registry.register(
        "Unused",
        |_next: Next, _| -> Result<Recorder, FactoryError> {
            Err(FactoryError::NotUsed(Some("disabled by settings".into())))
        },
    );
    let chain = Chain::builder(&registry, &settings(&["Unused", "A"]))
        .urls(router())
        .build()
        .unwrap();
    assert_eq!(
        chain.entries()[0].status,
        EntryStatus::NotUsed(Some("disabled by settings".into()))
    );
    assert_eq!(chain.entries()[1].status, EntryStatus::Active);
    let r = Client::new(chain).get("/ok/").await;
    assert_eq!(r.status, 200);
}

// Django: tests/handlers/tests.py::HandlerRequestTests::test_streaming — and the body is not
// buffered: the first chunk arrives while the view's stream is still pending.
#[tokio::test]
async fn streaming_bodies_pass_through_untouched_and_unbuffered() {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    let rx = Arc::new(Mutex::new(Some(rx)));
    let mut registry = Registry::new();
    let log: Log = Arc::default();
    register(&mut registry, "A", &log, PLAIN);
    let router = {
        let mut r = Router::new();
        let rx = rx.clone();
        struct StreamView(Arc<Mutex<Option<Chunks>>>);
        #[async_trait]
        impl middleware_core::View for StreamView {
            async fn call(&self, _: &mut Request) -> Result<Response, Error> {
                let rx = self.0.lock().unwrap().take().expect("called once");
                let stream = tokio_stream_from(rx);
                Ok(middleware_core::response::streaming(
                    StatusCode::OK,
                    "text/plain",
                    stream,
                ))
            }
        }
        r.add(Route::with_view("stream/", StreamView(rx))).unwrap();
        r
    };
    let chain = Chain::builder(&registry, &settings(&["A"]))
        .urls(router)
        .build()
        .unwrap();
    let request = http::Request::get("/stream/")
        .header("host", "testserver")
        .body(middleware_core::Body::empty())
        .unwrap();
    let response = chain.call(request).await;
    assert!(response.body().is_streaming());
    assert_eq!(response.headers().get_all("x-seen-by").iter().count(), 1);
    let mut body = response.into_body();
    tx.send(Ok(Bytes::from_static(b"first"))).await.unwrap();
    let frame = http_body_util::BodyExt::frame(&mut body)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(frame.into_data().unwrap(), Bytes::from_static(b"first"));
    tx.send(Ok(Bytes::from_static(b"second"))).await.unwrap();
    drop(tx);
    let rest = http_body_util::BodyExt::collect(body)
        .await
        .unwrap()
        .to_bytes();
    assert_eq!(rest, Bytes::from_static(b"second"));
}

fn tokio_stream_from(
    rx: tokio::sync::mpsc::Receiver<Result<Bytes, std::io::Error>>,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Send {
    futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|x| (x, rx)) })
        .boxed()
}

struct PoweredBy {
    log: Log,
}

#[async_trait]
impl HookMiddleware for PoweredBy {
    async fn process_request(&self, request: &mut Request) -> Result<Option<Response>, Error> {
        self.log.lock().unwrap().push("process_request".into());
        Ok((request.uri().path() == "/blocked/")
            .then(|| text(StatusCode::FORBIDDEN, "blocked early")))
    }

    async fn process_response(
        &self,
        _: &mut Request,
        mut response: Response,
    ) -> Result<Response, Error> {
        self.log
            .lock()
            .unwrap()
            .push(format!("process_response {}", response.status().as_u16()));
        response
            .headers_mut()
            .insert("x-powered-by", "rust".parse().unwrap());
        Ok(response)
    }
}

/// Declares it has no hooks, but writes `process_request` and `process_response`: what is
/// written runs (the declaration is not read), so the two can never disagree.
struct NoPhases;

#[async_trait]
impl HookMiddleware for NoPhases {
    async fn process_request(&self, _: &mut Request) -> Result<Option<Response>, Error> {
        Ok(Some(text(
            StatusCode::FORBIDDEN,
            "process_request was called",
        )))
    }

    async fn process_response(
        &self,
        _: &mut Request,
        mut response: Response,
    ) -> Result<Response, Error> {
        response
            .headers_mut()
            .insert("x-process-response", "called".parse().unwrap());
        Ok(response)
    }
}

// Hooks exist when the code implements them: there is no declaration that could drop one.
#[tokio::test]
async fn hook_style_phases_written_run() {
    let mut registry = Registry::new();
    registry.register_hooks("NoPhases", |_| Ok(NoPhases));
    let chain = Chain::builder(&registry, &settings(&["NoPhases"]))
        .urls(router())
        .build()
        .unwrap();
    let mut client = Client::new(chain);
    for _ in 0..2 {
        let r = client.get("/ok/").await;
        assert_eq!(r.status, 403);
        assert_eq!(r.header("x-process-response"), Some("called"));
    }
}

// Django: tests/middleware/… MiddlewareMixin: a process_request response short-circuits the
// inner chain but this middleware's process_response still runs on it.
#[tokio::test]
async fn hook_style_middleware_short_circuit_still_runs_process_response() {
    let log: Log = Arc::default();
    let mut registry = Registry::new();
    let l = log.clone();
    registry.register_hooks("PoweredBy", move |_| Ok(PoweredBy { log: l.clone() }));
    register(&mut registry, "Inner", &log, PLAIN);
    let chain = Chain::builder(&registry, &settings(&["PoweredBy", "Inner"]))
        .urls(router())
        .build()
        .unwrap();
    let mut client = Client::new(chain);
    let r = client.get("/blocked/").await;
    assert_eq!(r.status, 403);
    assert_eq!(r.header("x-powered-by"), Some("rust"));
    assert_eq!(taken(&log), ["process_request", "process_response 403"]);
    let r = client.get("/ok/").await;
    assert_eq!(r.header("x-powered-by"), Some("rust"));
    assert!(taken(&log).contains(&"Inner:before".to_owned()));
}

#[test]
fn unknown_middleware_fails_with_the_closest_names() {
    let mut registry = Registry::new();
    registry
        .register("SessionMiddleware", |next: Next, _| Ok(Passthrough(next)))
        .alias("django.contrib.sessions.middleware.SessionMiddleware");
    let err = Chain::builder(
        &registry,
        &settings(&["django.contrib.sessions.middleware.SesionMiddleware"]),
    )
    .urls(router())
    .build()
    .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(
        err,
        BuildError::UnknownMiddleware { index: 0, .. }
    ));
    assert!(
        msg.contains("did you mean")
            && msg.contains("did you mean django.contrib.sessions.middleware.SessionMiddleware or"),
        "{msg}"
    );
}

struct Passthrough(Next);
#[async_trait]
impl Middleware for Passthrough {
    async fn call(&self, request: &mut Request) -> Result<Response, Error> {
        Ok(self.0.get_response(request).await)
    }
}

#[test]
fn order_requirements_name_both_entries_and_the_fix() {
    let mut registry = Registry::new();
    registry
        .register("SessionMiddleware", |next: Next, _| Ok(Passthrough(next)))
        .alias("django.contrib.sessions.middleware.SessionMiddleware");
    registry
        .register("AuthenticationMiddleware", |next: Next, _| {
            Ok(Passthrough(next))
        })
        .alias("django.contrib.auth.middleware.AuthenticationMiddleware")
        .requires_before("SessionMiddleware");

    let err = Chain::builder(
        &registry,
        &settings(&[
            "django.contrib.auth.middleware.AuthenticationMiddleware",
            "django.contrib.sessions.middleware.SessionMiddleware",
        ]),
    )
    .build()
    .unwrap_err()
    .to_string();
    assert!(err.contains("MIDDLEWARE[0]"), "{err}");
    assert!(err.contains("listed after it, at MIDDLEWARE[1]"), "{err}");
    assert!(
        err.contains("Fix: move \"django.contrib.sessions.middleware.SessionMiddleware\" above"),
        "{err}"
    );

    let err = Chain::builder(&registry, &settings(&["AuthenticationMiddleware"]))
        .build()
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("is not in MIDDLEWARE") && err.contains("Fix: insert \"SessionMiddleware\""),
        "{err}"
    );

    assert!(Chain::builder(
        &registry,
        &settings(&["SessionMiddleware", "AuthenticationMiddleware"])
    )
    .build()
    .is_ok());
}

#[test]
fn unknown_settings_key_fails_the_build_naming_it() {
    let registry = Registry::new();
    let s = Settings::from_toml_str("SECURE_HSTS_SECOND = 5", "site.toml").unwrap();
    let err = Chain::builder(&registry, &s)
        .build()
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("unknown setting SECURE_HSTS_SECOND in site.toml"),
        "{err}"
    );
}

#[tokio::test]
async fn custom_error_handlers_are_used_at_every_layer() {
    let log: Log = Arc::default();
    let mut registry = Registry::new();
    register(
        &mut registry,
        "A",
        &log,
        Behaviour {
            fail_in_call: true,
            ..PLAIN
        },
    );
    let mut handlers = middleware_core::ErrorHandlers::new(false);
    handlers.set(500, |_, _| {
        text(StatusCode::INTERNAL_SERVER_ERROR, "custom 500")
    });
    handlers.set(404, |_, _| text(StatusCode::NOT_FOUND, "custom 404"));
    let chain = Chain::builder(&registry, &settings(&["A"]))
        .urls(router())
        .error_handlers(handlers.clone())
        .build()
        .unwrap();
    assert_eq!(Client::new(chain).get("/ok/").await.text(), "custom 500");
    let chain = Chain::builder(&Registry::new(), &settings(&[]))
        .urls(router())
        .error_handlers(handlers)
        .build()
        .unwrap();
    assert_eq!(Client::new(chain).get("/nope/").await.text(), "custom 404");
}

struct DropCounter {
    next: Next,
    dropped: Arc<Mutex<usize>>,
}

impl Drop for DropCounter {
    fn drop(&mut self) {
        *self.dropped.lock().unwrap() += 1;
    }
}

#[async_trait]
impl Middleware for DropCounter {
    async fn call(&self, request: &mut Request) -> Result<Response, Error> {
        Ok(self.next.get_response(request).await)
    }
}

// A chain (and every middleware in it) is freed when its last clone goes: middleware that
// buffer (logs, counters) get their `Drop` at shutdown.
#[tokio::test]
async fn dropping_the_chain_drops_its_middleware() {
    let dropped: Arc<Mutex<usize>> = Arc::default();
    let mut registry = Registry::new();
    for name in ["Outer", "Inner"] {
        let dropped = dropped.clone();
        registry.register(name, move |next, _| {
            Ok(DropCounter {
                next,
                dropped: dropped.clone(),
            })
        });
    }
    let chain = Chain::builder(&registry, &settings(&["Outer", "Inner"]))
        .urls(router())
        .build()
        .unwrap();
    let clone = chain.clone();
    assert_eq!(Client::new(clone).get("/ok/").await.status, 200);
    assert_eq!(*dropped.lock().unwrap(), 0);
    drop(chain);
    assert_eq!(*dropped.lock().unwrap(), 2);
}

/// Reads `request.resolver_match` before and after the rest of the chain.
struct ResolverMatchProbe(Next);

#[async_trait]
impl Middleware for ResolverMatchProbe {
    async fn call(&self, request: &mut Request) -> Result<Response, Error> {
        use middleware_core::RequestExt;
        let before = request.resolver_match().is_some();
        let mut response = self.0.get_response(request).await;
        let after = match request.resolver_match() {
            Some(m) => format!(
                "route={} name={} id={} marked={}",
                m.route(),
                m.url_name().unwrap_or("-"),
                m.kwarg("id").map_or("-".to_owned(), |v| v.to_string()),
                m.markers().contains::<Marked>()
            ),
            None => "none".to_owned(),
        };
        let headers = response.headers_mut();
        headers.insert("x-before", before.to_string().parse().unwrap());
        headers.insert("x-after", after.parse().unwrap());
        Ok(response)
    }
}

#[derive(Clone)]
struct Marked;

// Django: tests/urlpatterns_reverse/tests.py::ResolverMatchTests::test_resolver_match_on_request
// and ::test_resolver_match_on_request_before_resolution: `request.resolver_match` is unset
// before URL resolution, then carries the route, its name, the typed arguments and (here) the
// route's markers for the middleware around the view; a path that resolves to nothing leaves
// it unset.
#[tokio::test]
async fn resolver_match_is_set_by_resolution_and_seen_by_outer_middleware() {
    let mut registry = Registry::new();
    registry.register("Probe", |next, _| Ok(ResolverMatchProbe(next)));
    let mut router = Router::new();
    router
        .add(
            Route::new("items/<int:id>/", ok_view)
                .name("item")
                .marker(Marked),
        )
        .unwrap();
    let chain = Chain::builder(&registry, &settings(&["Probe"]))
        .urls(router)
        .build()
        .unwrap();
    let mut client = Client::new(chain);

    let r = client.get("/items/42/").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("x-before"), Some("false"));
    assert_eq!(
        r.header("x-after"),
        Some("route=items/<int:id>/ name=item id=42 marked=true")
    );

    let r = client.get("/nowhere/").await;
    assert_eq!(r.status, 404);
    assert_eq!(r.header("x-before"), Some("false"));
    assert_eq!(r.header("x-after"), Some("none"));
}

/// A middleware registered as enforcing something in `process_view` that does not implement
/// the hook would be listed and never run: it fails closed, every request answered 500 with a
/// message naming it and the fix, never let through.
#[tokio::test]
async fn a_protection_without_its_view_hook_fails_closed() {
    struct Forgetful(middleware_core::Next);
    #[middleware_core::async_trait]
    impl middleware_core::Middleware for Forgetful {
        async fn call(
            &self,
            request: &mut middleware_core::Request,
        ) -> Result<middleware_core::Response, middleware_core::Error> {
            Ok(self.0.get_response(request).await)
        }
    }
    let mut registry = middleware_core::Registry::new();
    registry
        .register("Forgetful", |next, _| Ok(Forgetful(next)))
        .needs_process_view();
    let chain = Chain::builder(&registry, &settings(&["Forgetful"]))
        .urls(router())
        .build()
        .unwrap();
    let mut client = Client::new(chain);
    for _ in 0..2 {
        let r = client.get("/ok/").await;
        assert_eq!(r.status, 500);
        let info = r.extensions.get::<middleware_core::ErrorInfo>().unwrap();
        let message = info.0.to_string();
        assert!(message.contains("\"Forgetful\""), "{message}");
        assert!(message.contains("Fix: implement process_view"), "{message}");
    }
}

// The same fail-closed rule for a `Hooks` middleware, whose process_view the chain calls
// without a future: a protection registered with needs_process_view that leaves it out is
// refused, and one that writes it runs it on every request.
#[tokio::test]
async fn a_hooks_protection_without_its_process_view_refuses_requests() {
    use middleware_core::{Hook, Hooks, Request, ResolverMatch, Response};
    struct Forgetful;
    impl Hooks for Forgetful {}
    struct Blocking;
    impl Hooks for Blocking {
        fn process_view<'a>(
            &'a self,
            _request: &'a mut Request,
            _view: &'a ResolverMatch,
        ) -> Hook<'a, Result<Option<Response>, middleware_core::Error>> {
            Hook::Ready(Ok(Some(middleware_core::response::text(
                http::StatusCode::FORBIDDEN,
                "blocked",
            ))))
        }
    }
    let mut registry = middleware_core::Registry::new();
    registry
        .register_ready_hooks("Forgetful", |_| Ok(Forgetful))
        .needs_process_view();
    registry
        .register_ready_hooks("Blocking", |_| Ok(Blocking))
        .needs_process_view();
    for (name, status) in [("Forgetful", 500), ("Blocking", 403)] {
        let chain = Chain::builder(&registry, &settings(&[name]))
            .urls(router())
            .build()
            .unwrap();
        let mut client = Client::new(chain);
        for _ in 0..2 {
            assert_eq!(client.get("/ok/").await.status, status, "{name}");
        }
    }
}
