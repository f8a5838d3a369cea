//! Views, what URL resolution hands to middleware, per-view markers and deferred rendering.
//!
//! A view is a plain `async fn(&mut Request) -> Result<Response, Error>`. Django marks views by
//! setting attributes on the function (`csrf_exempt`, `xframe_options_exempt`,
//! `login_not_required`...); here a route carries typed [`Markers`] that middleware read from the
//! [`ResolverMatch`] in `process_view`, or from the request's extensions after the view ran.
//!
//! ```
//! use middleware_core::{view_fn, Error, Markers, Request, Response, View};
//!
//! async fn hello(_request: &mut Request) -> Result<Response, Error> {
//!     Ok(Response::new("Hello, world!".into()))
//! }
//!
//! #[derive(Clone)]
//! struct CsrfExempt;
//!
//! let view = view_fn(hello);
//! let mut markers = Markers::default();
//! markers.insert(CsrfExempt);
//! assert!(markers.contains::<CsrfExempt>());
//! # let _: &dyn View = &view;
//! ```

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::sync::Arc;

use async_trait::async_trait;

use crate::error::{Error, ErrorInfo};
use crate::{Request, Response};

/// A view: answers a resolved request.
#[async_trait]
pub trait View: Send + Sync + 'static {
    /// Handles the request; errors become responses (and reach `process_exception` first).
    async fn call(&self, request: &mut Request) -> Result<Response, Error>;

    /// The view's name, as Django's `admindocs.utils.get_view_name` gives `module.qualname`:
    /// the Rust path of the view's type (of the function, for an `async fn` view), e.g.
    /// `example_site::views::index`.
    fn view_name(&self) -> &'static str {
        std::any::type_name::<Self>()
    }
}

/// Lets a plain `async fn(&mut Request) -> Result<Response, Error>` be a [`View`].
///
/// The lifetime parameter ties the returned future to the borrow of the request, which a plain
/// `Fn(&mut Request) -> Fut` bound cannot express.
pub trait ViewFn<'a>: Send + Sync + 'static {
    /// The future the function returns.
    type Future: Future<Output = Result<Response, Error>> + Send + 'a;
    /// Calls the function.
    fn call_view(&self, request: &'a mut Request) -> Self::Future;
}

impl<'a, F, Fut> ViewFn<'a> for F
where
    F: Fn(&'a mut Request) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Response, Error>> + Send + 'a,
{
    type Future = Fut;
    fn call_view(&self, request: &'a mut Request) -> Fut {
        self(request)
    }
}

/// A [`View`] made from an `async fn`; see [`view_fn`].
#[derive(Clone, Copy)]
pub struct FnView<F>(F);

impl<F> fmt::Debug for FnView<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FnView")
    }
}

/// Makes a [`View`] of an `async fn(&mut Request) -> Result<Response, Error>`.
pub fn view_fn<F>(f: F) -> FnView<F>
where
    F: for<'a> ViewFn<'a>,
{
    FnView(f)
}

#[async_trait]
impl<F> View for FnView<F>
where
    F: for<'a> ViewFn<'a>,
{
    async fn call(&self, request: &mut Request) -> Result<Response, Error> {
        self.0.call_view(request).await
    }

    fn view_name(&self) -> &'static str {
        std::any::type_name::<F>()
    }
}

/// Typed markers attached to a route: Django's attributes on view functions.
#[derive(Clone, Default, Debug)]
pub struct Markers(http::Extensions);

impl Markers {
    /// Adds a marker (replacing one of the same type).
    pub fn insert<T: Clone + Send + Sync + 'static>(&mut self, marker: T) {
        self.0.insert(marker);
    }

    /// The marker of type `T`, if present.
    pub fn get<T: Clone + Send + Sync + 'static>(&self) -> Option<&T> {
        self.0.get::<T>()
    }

    /// Whether a marker of type `T` is present.
    pub fn contains<T: Clone + Send + Sync + 'static>(&self) -> bool {
        self.0.get::<T>().is_some()
    }
}

/// A route as the URLconf holds it: the view, the pattern, the name and the markers. Shared
/// by every [`ResolverMatch`] of the route, so resolving and cloning a match costs one
/// reference count, not one per part.
pub struct RouteInfo {
    /// The view to call.
    pub view: Arc<dyn View>,
    /// The route pattern, as registered (`items/<int:id>/`).
    pub route: String,
    /// The route's name, for `reverse`.
    pub url_name: Option<String>,
    /// The markers of the route (Django's view attributes); shared with
    /// [`Resolve::markers_for`].
    pub markers: Arc<Markers>,
}

/// A captured path parameter, typed by its converter (the router's `urls::PathValue`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PathValue {
    /// `<int:…>`: `[0-9]+`, must fit in a `u64`.
    Int(u64),
    /// `<str:…>` or `<…>`: `[^/]+`.
    Str(String),
    /// `<slug:…>`: `[-a-zA-Z0-9_]+`.
    Slug(String),
    /// `<uuid:…>`: the lower-case canonical hyphenated form (the only form the
    /// converter accepts).
    Uuid(String),
    /// `<path:…>`: `.+`, may contain `/`.
    Path(String),
    /// A converter registered with `UrlResolver::add_converter`: the matched text.
    Custom(String),
}

impl PathValue {
    /// The value as text (`Int` is rendered in decimal).
    pub fn as_text(&self) -> Cow<'_, str> {
        match self {
            PathValue::Int(n) => Cow::Owned(n.to_string()),
            PathValue::Str(s)
            | PathValue::Slug(s)
            | PathValue::Uuid(s)
            | PathValue::Path(s)
            | PathValue::Custom(s) => Cow::Borrowed(s),
        }
    }
}

impl fmt::Display for PathValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_text())
    }
}

/// What URL resolution found: the route (view, pattern, name, markers) and the captured
/// arguments. Set on the request before `process_view` runs (Django's
/// `request.resolver_match`, read with [`crate::RequestExt::resolver_match`]).
#[derive(Clone)]
pub struct ResolverMatch {
    route: Arc<RouteInfo>,
    /// Captured path arguments, typed by their converters, in route order.
    pub kwargs: Vec<(String, PathValue)>,
}

impl fmt::Debug for ResolverMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResolverMatch")
            .field("route", &self.route.route)
            .field("url_name", &self.route.url_name)
            .field("kwargs", &self.kwargs)
            .finish_non_exhaustive()
    }
}

impl ResolverMatch {
    /// A match of `route` with the arguments captured from the path.
    pub fn new(route: Arc<RouteInfo>, kwargs: Vec<(String, PathValue)>) -> Self {
        ResolverMatch { route, kwargs }
    }

    /// The view to call.
    pub fn view(&self) -> &Arc<dyn View> {
        &self.route.view
    }

    /// The view's name ([`View::view_name`]): what Django's `get_view_name(view_func)` gives.
    pub fn view_name(&self) -> &'static str {
        self.route.view.view_name()
    }

    /// The route pattern, as registered (`items/<int:id>/`): Django's `ResolverMatch.route`.
    pub fn route(&self) -> &str {
        &self.route.route
    }

    /// The route's name: Django's `ResolverMatch.url_name`.
    pub fn url_name(&self) -> Option<&str> {
        self.route.url_name.as_deref()
    }

    /// The markers of the route (Django's view attributes, set by decorators).
    pub fn markers(&self) -> &Markers {
        &self.route.markers
    }

    /// The route's markers if they reach `response`: `None` when the view did not make it.
    ///
    /// Markers stand for Django's view decorators, and a decorator only touches what the view
    /// returns: a `process_view` hook's answer (CSRF's 403), a `process_exception` hook's, or an
    /// error turned into a response (the 404 or 500 page) gets the site-wide behaviour. So
    /// `@xframe_options_exempt` on a view still leaves `X-Frame-Options: DENY` on its CSRF 403.
    /// Middleware that act on a response read route markers through this.
    pub fn markers_for_response(&self, response: &Response) -> Option<&Markers> {
        let extensions = response.extensions();
        if extensions.get::<NotFromView>().is_some() || extensions.get::<ErrorInfo>().is_some() {
            return None;
        }
        Some(self.markers())
    }

    /// The captured argument `name`.
    pub fn kwarg(&self, name: &str) -> Option<&PathValue> {
        self.kwargs.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }
}

/// In a response's extensions: the view layer answered without the view, through a
/// `process_view` or `process_exception` hook, so the route's markers do not reach it (see
/// [`ResolverMatch::markers_for_response`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NotFromView;

/// Resolves a request to a view: the URLconf. [`crate::Router`] implements it; a framework that
/// embeds the chain may implement it over its own routing.
pub trait Resolve: Send + Sync + 'static {
    /// Finds the view for `request`, or `Err(Error::NotFound)`.
    fn resolve(&self, request: &Request) -> Result<ResolverMatch, Error>;

    /// Whether `path` (percent-encoded, with its leading `/`) resolves: used by `APPEND_SLASH`.
    fn is_valid_path(&self, path: &str) -> bool;

    /// The markers of the route `path` resolves to, if it resolves (`no_append_slash`...).
    fn markers_for(&self, path: &str) -> Option<Arc<Markers>>;

    /// The path of the route called `name` with `kwargs` (Django's `reverse(name, kwargs=...)`),
    /// or `None` when no route of that name takes those arguments. The default knows no names,
    /// for URLconfs without them.
    fn reverse(&self, name: &str, kwargs: &[(&str, &str)]) -> Option<String> {
        let _ = (name, kwargs);
        None
    }
}

/// Renders a template with a context: the engine behind [`TemplateResponse`].
pub trait Render: Send + Sync + 'static {
    /// Renders `template_name` with `context`.
    fn render(
        &self,
        template_name: &str,
        context: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<String, Error>;
}

/// Django's `TemplateResponse`: a response whose body is rendered late, after the
/// `process_template_response` hooks had their chance to change the template or the context.
///
/// A view returns `TemplateResponse::new(..).into_response()`; the chain renders it.
#[derive(Clone)]
pub struct TemplateResponse {
    /// The template to render.
    pub template_name: String,
    /// The context it is rendered with.
    pub context: serde_json::Map<String, serde_json::Value>,
    renderer: Arc<dyn Render>,
}

impl fmt::Debug for TemplateResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TemplateResponse")
            .field("template_name", &self.template_name)
            .finish_non_exhaustive()
    }
}

impl TemplateResponse {
    /// A template response rendered by `renderer`.
    pub fn new(
        renderer: Arc<dyn Render>,
        template_name: impl Into<String>,
        context: serde_json::Map<String, serde_json::Value>,
    ) -> Self {
        TemplateResponse {
            template_name: template_name.into(),
            context,
            renderer,
        }
    }

    /// An unrendered `text/html` 200 response carrying this template response.
    pub fn into_response(self) -> Response {
        let mut response = crate::response::html(http::StatusCode::OK, "");
        response.extensions_mut().insert(self);
        response
    }

    /// Renders now.
    pub fn render(&self) -> Result<String, Error> {
        self.renderer.render(&self.template_name, &self.context)
    }
}
