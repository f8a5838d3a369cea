//! The router: views registered with Django's `path()` syntax, names, markers and `reverse`.
//!
//! ```
//! use middleware_core::{Route, Router, Request, Response, Error, RequestExt};
//!
//! async fn item(request: &mut Request) -> Result<Response, Error> {
//!     let id = request.resolver_match()
//!         .and_then(|m| m.kwarg("id")).map(|v| v.to_string()).unwrap_or_default();
//!     Ok(Response::new(format!("item {id}").into()))
//! }
//!
//! #[derive(Clone)]
//! struct CsrfExempt;
//!
//! let mut router = Router::new();
//! router.add(Route::new("items/<int:id>/", item).name("item").marker(CsrfExempt)).unwrap();
//! assert_eq!(router.reverse("item", &[("id", "7")]).unwrap(), "/items/7/");
//! ```

use std::fmt;
use std::sync::Arc;

use crate::error::Error;
use crate::urls::{NoReverseMatch, UrlError, UrlResolver};
use crate::view::{view_fn, Markers, Resolve, ResolverMatch, RouteInfo, View, ViewFn};
use crate::Request;

/// One route before it is added: pattern, view, optional name and markers.
pub struct Route {
    pattern: String,
    view: Arc<dyn View>,
    name: Option<String>,
    markers: Markers,
}

impl fmt::Debug for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Route")
            .field("pattern", &self.pattern)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Route {
    /// A route to an `async fn(&mut Request) -> Result<Response, Error>`.
    pub fn new<F>(pattern: &str, view: F) -> Self
    where
        F: for<'a> ViewFn<'a>,
    {
        Route::with_view(pattern, view_fn(view))
    }

    /// A route to any [`View`].
    pub fn with_view(pattern: &str, view: impl View) -> Self {
        Route {
            pattern: pattern.to_owned(),
            view: Arc::new(view),
            name: None,
            markers: Markers::default(),
        }
    }

    /// Names the route, for [`Router::reverse`] (Django's `name=`).
    pub fn name(mut self, name: &str) -> Self {
        self.name = Some(name.to_owned());
        self
    }

    /// Attaches a marker (Django's view decorators that set attributes: `csrf_exempt`...).
    pub fn marker<T: Clone + Send + Sync + 'static>(mut self, marker: T) -> Self {
        self.markers.insert(marker);
        self
    }
}

/// Views by URL, resolved in registration order (Django's first match wins).
#[derive(Default)]
pub struct Router {
    urls: UrlResolver<Arc<RouteInfo>>,
}

impl fmt::Debug for Router {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Router").finish_non_exhaustive()
    }
}

impl Router {
    /// An empty router.
    pub fn new() -> Self {
        Router {
            urls: UrlResolver::new(),
        }
    }

    /// Adds a route.
    pub fn add(&mut self, route: Route) -> Result<&mut Self, UrlError> {
        let target = Arc::new(RouteInfo {
            view: route.view,
            route: route.pattern.trim_start_matches('/').to_owned(),
            url_name: route.name.clone(),
            markers: Arc::new(route.markers),
        });
        self.urls
            .add(&route.pattern, route.name.as_deref(), target)?;
        Ok(self)
    }

    /// Adds an unnamed route without markers to an `async fn` view.
    pub fn route<F>(&mut self, pattern: &str, view: F) -> Result<&mut Self, UrlError>
    where
        F: for<'a> ViewFn<'a>,
    {
        self.add(Route::new(pattern, view))
    }

    /// Registers a custom path converter (Django's `register_converter`).
    pub fn add_converter(&mut self, name: &str, regex: &str) -> Result<&mut Self, UrlError> {
        self.urls.add_converter(name, regex)?;
        Ok(self)
    }

    /// The path for a named route (Django's `reverse`).
    pub fn reverse(&self, name: &str, kwargs: &[(&str, &str)]) -> Result<String, NoReverseMatch> {
        self.urls.reverse(name, kwargs)
    }
}

impl Resolve for Router {
    fn resolve(&self, request: &Request) -> Result<ResolverMatch, Error> {
        let m = self
            .urls
            .resolve(request.uri().path())
            .map_err(|e| Error::not_found(e.to_string()))?;
        Ok(ResolverMatch::new(m.value.clone(), m.kwargs))
    }

    fn is_valid_path(&self, path: &str) -> bool {
        self.urls.is_valid_path(path)
    }

    fn markers_for(&self, path: &str) -> Option<Arc<Markers>> {
        self.urls
            .resolve(path)
            .ok()
            .map(|m| m.value.markers.clone())
    }

    fn reverse(&self, name: &str, kwargs: &[(&str, &str)]) -> Option<String> {
        Router::reverse(self, name, kwargs).ok()
    }
}
