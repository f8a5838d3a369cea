//! Test helpers shared by the security, common, clickjacking and CSP tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use http::{HeaderName, HeaderValue, StatusCode};
use middleware_core::test_client::Client;
use middleware_core::{
    async_trait, Chain, Error, Registry, Request, Response, Route, Router, Settings, View,
};

/// A registry with the middleware of this branch and the checks.
pub(crate) fn registry() -> Registry {
    let mut r = Registry::new();
    crate::security::register(&mut r);
    crate::common::register(&mut r);
    crate::clickjacking::register(&mut r);
    crate::csp::register(&mut r);
    crate::checks::register(&mut r);
    r
}

/// Settings from `conf`, with `ALLOWED_HOSTS = ["testserver"]` unless `conf` sets it.
pub(crate) fn settings(conf: &str) -> Settings {
    let text = if conf.contains("ALLOWED_HOSTS") {
        conf.to_owned()
    } else {
        format!("ALLOWED_HOSTS = [\"testserver\"]\n{conf}")
    };
    Settings::from_toml_str(&text, "test.toml").expect("test settings parse")
}

/// A chain from `conf` (see [`settings`]) ending in `router`.
pub(crate) fn chain_with(conf: &str, router: Router) -> Chain {
    let registry = registry();
    let settings = settings(conf);
    Chain::builder(&registry, &settings)
        .urls(router)
        .build()
        .expect("test chain builds")
}

/// The test client for `chain`.
pub(crate) fn client(chain: Chain) -> Client {
    Client::new(chain)
}

/// A view answering 200 `content` with fixed headers.
#[derive(Clone, Default)]
pub(crate) struct FixedView {
    pub(crate) status: u16,
    pub(crate) content: &'static str,
    pub(crate) headers: Vec<(&'static str, &'static str)>,
}

#[async_trait]
impl View for FixedView {
    async fn call(&self, _request: &mut Request) -> Result<Response, Error> {
        let mut r = middleware_core::response::html(
            StatusCode::from_u16(self.status).unwrap_or(StatusCode::OK),
            self.content,
        );
        for (name, value) in &self.headers {
            r.headers_mut().insert(
                HeaderName::from_static(name),
                HeaderValue::from_static(value),
            );
        }
        Ok(r)
    }
}

/// Builds a router whose every path answers with one [`FixedView`].
#[derive(Clone, Default)]
pub(crate) struct Views {
    view: FixedView,
}

impl Views {
    pub(crate) fn new() -> Self {
        Views {
            view: FixedView {
                status: 200,
                content: "OK",
                headers: Vec::new(),
            },
        }
    }

    pub(crate) fn respond_with_headers(mut self, headers: &[(&'static str, &'static str)]) -> Self {
        self.view.headers = headers.to_vec();
        self
    }

    pub(crate) fn router(&self) -> Router {
        let mut r = Router::new();
        r.add(Route::with_view("", self.view.clone()))
            .expect("route")
            .add(Route::with_view("<path:rest>", self.view.clone()))
            .expect("route");
        r
    }
}
