//! The fail-closed rule as a system check (`middleware.W001`), `Resolve::reverse` (Django's
//! `reverse` with kwargs) and per-view markers read from a middleware's call.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use http::StatusCode;
use middleware_core::response::text;
use middleware_core::test_client::Client;
use middleware_core::{
    Chain, Error, FactoryError, FnHooks, Next, Registry, Request, RequestExt, Resolve, Response,
    Route, Router, Settings,
};

fn settings(extra: &str) -> Settings {
    Settings::from_toml_str(
        &format!("ALLOWED_HOSTS = [\"testserver\"]\nMIDDLEWARE = [\"Guard\"]\n{extra}"),
        "settings.toml",
    )
    .unwrap()
}

fn registry() -> Registry {
    let mut registry = Registry::new();
    registry
        .register_fn_with("Guard", |ctx| {
            let enabled: bool = ctx.settings.get_or("GUARD_ENABLED", true)?;
            if !enabled {
                return Err(FactoryError::NotUsed(Some("GUARD_ENABLED is false".into())));
            }
            Ok(|request: Request, next: Next| async move { next.run(request).await })
        })
        .settings(&["GUARD_ENABLED"])
        .needs_process_view();
    registry
}

#[test]
fn a_listed_protection_that_is_not_used_is_reported() {
    let messages = registry().run_checks(&settings("GUARD_ENABLED = false"), false);
    let w001: Vec<_> = messages
        .iter()
        .filter(|m| m.id == "middleware.W001")
        .collect();
    assert_eq!(w001.len(), 1, "{messages:?}");
    assert!(w001[0].msg.contains("\"Guard\""), "{}", w001[0].msg);
    assert!(
        w001[0].msg.contains("GUARD_ENABLED is false"),
        "{}",
        w001[0].msg
    );
}

#[test]
fn a_protection_that_is_built_is_not_reported() {
    let messages = registry().run_checks(&settings(""), false);
    assert!(
        messages.iter().all(|m| m.id != "middleware.W001"),
        "{messages:?}"
    );
}

#[derive(Clone)]
struct Exempt;

async fn article(_: &mut Request) -> Result<Response, Error> {
    Ok(text(StatusCode::OK, "article"))
}

fn router() -> Router {
    let mut router = Router::new();
    router
        .add(Route::new("articles/<int:year>/<slug:slug>/", article).name("article-detail"))
        .unwrap();
    router
        .add(Route::new("exempt/", article).name("exempt").marker(Exempt))
        .unwrap();
    router
}

// Django: urlpatterns_reverse.tests.URLPatternReverse.test_urlpattern_reverse (reverse by name
// with kwargs), through the resolver the chain holds.
#[test]
fn test_urlpattern_reverse() {
    let resolver: &dyn Resolve = &router();
    assert_eq!(
        resolver
            .reverse("article-detail", &[("year", "2026"), ("slug", "hello")])
            .as_deref(),
        Some("/articles/2026/hello/")
    );
    assert_eq!(resolver.reverse("exempt", &[]).as_deref(), Some("/exempt/"));
}

// Django: urlpatterns_reverse.tests.URLPatternReverse.test_no_args_message / NoReverseMatch:
// an unknown name, or arguments the pattern does not take, reverse to nothing.
#[test]
fn test_reverse_none() {
    let resolver: &dyn Resolve = &router();
    assert_eq!(resolver.reverse("missing", &[]), None);
    assert_eq!(resolver.reverse("article-detail", &[("year", "x")]), None);
}

// The route's markers are readable in a middleware's response phase (and from `call` after the
// rest of the chain), from `request.resolver_match()`.
#[tokio::test]
async fn per_view_markers_are_readable_after_the_view() {
    let mut registry = Registry::new();
    registry.register_fn_hooks(
        "MarkerEcho",
        FnHooks::new().process_response(|request: &mut Request, mut response: Response| {
            let exempt = request
                .resolver_match()
                .is_some_and(|m| m.markers().contains::<Exempt>());
            let value = http::HeaderValue::from_static(if exempt { "yes" } else { "no" });
            response.headers_mut().insert("x-exempt", value);
            response
        }),
    );
    let settings = Settings::from_toml_str(
        "ALLOWED_HOSTS = [\"testserver\"]\nMIDDLEWARE = [\"MarkerEcho\"]",
        "settings.toml",
    )
    .unwrap();
    let chain = Chain::builder(&registry, &settings)
        .urls(router())
        .build()
        .unwrap();
    let mut client = Client::new(chain);
    assert_eq!(client.get("/exempt/").await.header("x-exempt"), Some("yes"));
    assert_eq!(
        client.get("/articles/2026/hi/").await.header("x-exempt"),
        Some("no")
    );
}
