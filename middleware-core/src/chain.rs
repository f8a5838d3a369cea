//! The chain: built once from `MIDDLEWARE`, innermost first, then called per request.
//!
//! ```
//! use middleware_core::{Chain, Registry, Router, Settings, Request, Response, Error, Body};
//!
//! async fn hello(_: &mut Request) -> Result<Response, Error> {
//!     Ok(Response::new("Hello".into()))
//! }
//!
//! # tokio_test_block(async {
//! let mut router = Router::new();
//! router.route("", hello).unwrap();
//! let settings = Settings::from_toml_str("ALLOWED_HOSTS = [\"*\"]", "inline").unwrap();
//! let chain = Chain::builder(&Registry::new(), &settings).urls(router).build().unwrap();
//! let response = chain.call(http::Request::get("/").body(Body::empty()).unwrap()).await;
//! assert_eq!(response.status(), 200);
//! # });
//! # fn tokio_test_block<F: std::future::Future>(f: F) -> F::Output {
//! #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
//! # }
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock, Weak};

use async_trait::async_trait;

use crate::after_response::AfterResponseTasks;
use crate::error::{Error, ErrorHandlers};
use crate::hooks::{probe_call, Hook};
use crate::middleware::{
    panic_message, poll_caught, probe, GetResponse, HookPair, HookPairKind, HookState, Middleware,
    Next,
};
use crate::registry::{BuildContext, FactoryError, Registry};
use crate::settings::{CoreSettings, Settings, SettingsError};
use crate::view::{
    Markers, NotFromView, Resolve, ResolverMatch, RouteInfo, TemplateResponse, View,
};
use crate::{Request, Response};

/// Why the chain could not be built. Each message names the entry and the fix.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// A setting is unknown or invalid.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// A `MIDDLEWARE` entry names nothing registered.
    #[error("MIDDLEWARE[{index}] = {name:?} is not a registered middleware{}. Fix: correct the name, or register it on the Registry before building", suggestions_text(.suggestions))]
    UnknownMiddleware {
        /// Position in `MIDDLEWARE`.
        index: usize,
        /// The name as listed.
        name: String,
        /// Close registered names.
        suggestions: Vec<String>,
    },
    /// An entry needs another one before it.
    #[error("MIDDLEWARE[{index}] = {name:?} requires {requires:?} before it, but {}. Fix: {fix}", found_text(*.found_at, .requires))]
    Order {
        /// Position of the entry with the requirement.
        index: usize,
        /// The entry with the requirement.
        name: String,
        /// What must come before it.
        requires: String,
        /// Where the requirement is, if it is listed (after the entry).
        found_at: Option<usize>,
        /// How to fix it.
        fix: String,
    },
    /// A route pattern given to `chain_layer::ServiceRoutes` is invalid or repeated.
    #[error("route {pattern:?} is invalid: {message}. Fix: write it as axum does (`/items/{{id}}`, `/files/{{*path}}`), once")]
    InvalidRoute {
        /// The pattern.
        pattern: String,
        /// What is wrong with it.
        message: String,
    },
    /// A factory refused its configuration.
    #[error("MIDDLEWARE[{index}] = {name:?} is improperly configured: {message}")]
    ImproperlyConfigured {
        /// Position in `MIDDLEWARE`.
        index: usize,
        /// The entry.
        name: String,
        /// The factory's message.
        message: String,
    },
}

fn suggestions_text(s: &[String]) -> String {
    if s.is_empty() {
        String::new()
    } else {
        format!(" (did you mean {}?)", s.join(" or "))
    }
}

fn found_text(found: Option<usize>, requires: &str) -> String {
    match found {
        Some(i) => format!("{requires:?} is listed after it, at MIDDLEWARE[{i}]"),
        None => format!("{requires:?} is not in MIDDLEWARE"),
    }
}

/// How one `MIDDLEWARE` entry ended up in the chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EntryStatus {
    /// Built and active.
    Active,
    /// Skipped: the factory answered "not used", with its reason.
    NotUsed(Option<String>),
}

/// One `MIDDLEWARE` entry of a built chain, for `example-site middleware`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainEntry {
    /// The name as listed.
    pub name: String,
    /// The canonical registered name.
    pub canonical: String,
    /// Whether it is active.
    pub status: EntryStatus,
}

/// A built middleware chain. Cheap to share (`Arc` inside); call it from any number of tasks.
#[derive(Clone)]
pub struct Chain {
    entry: Next,
    entries: Arc<[ChainEntry]>,
    core: Arc<CoreSettings>,
    tasks: Arc<AfterResponseTasks>,
    // Owns every built middleware. The innermost layer reaches the ones with hooks through
    // weak references (they hold it, through `Next`, so strong ones would make a cycle and a
    // chain could never be freed: its middleware would never be dropped, nor flush what they
    // buffer).
    _layers: Arc<[Arc<dyn Middleware>]>,
}

impl fmt::Debug for Chain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Chain")
            .field("entries", &self.entries)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Chain`]; see [`Chain::builder`].
pub struct ChainBuilder<'a> {
    registry: &'a Registry,
    settings: &'a Settings,
    errors: ErrorHandlers,
    innermost: Option<Innermost>,
    after_response_limit: usize,
}

impl fmt::Debug for ChainBuilder<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChainBuilder").finish_non_exhaustive()
    }
}

enum Innermost {
    Urls(Arc<dyn Resolve>),
    Handler(Arc<dyn GetResponse>),
}

impl<'a> ChainBuilder<'a> {
    /// Ends the chain in a URLconf: resolution, `process_view`, the view, `process_exception`
    /// and template rendering, as Django's `_get_response`.
    pub fn urls(mut self, urls: impl Resolve) -> Self {
        self.innermost = Some(Innermost::Urls(Arc::new(urls)));
        self
    }

    /// Ends the chain in a URLconf shared with other code.
    pub fn shared_urls(mut self, urls: Arc<dyn Resolve>) -> Self {
        self.innermost = Some(Innermost::Urls(urls));
        self
    }

    /// Ends the chain in an embedder's own handler: the one view of a catch-all route (pattern
    /// `""`, no name, no markers), so `process_view` hooks (CSRF, login-required...) still run
    /// before it. Route markers (`csrf_exempt`...) need [`urls`](Self::urls).
    pub fn handler(mut self, handler: impl GetResponse) -> Self {
        self.innermost = Some(Innermost::Handler(Arc::new(handler)));
        self
    }

    /// The most after-response tasks the chain holds at once, queued or running
    /// ([`crate::after_response`]); over it new ones are refused with a warning. Default
    /// [`DEFAULT_LIMIT`](crate::after_response::DEFAULT_LIMIT) (1024).
    pub fn after_response_limit(mut self, limit: usize) -> Self {
        self.after_response_limit = limit;
        self
    }

    /// Replaces the error handlers (Django's `handler400` ... `handler500`).
    pub fn error_handlers(mut self, errors: ErrorHandlers) -> Self {
        self.errors = errors;
        self
    }

    /// Builds the chain: checks the settings' keys, resolves every `MIDDLEWARE` name, checks the
    /// order requirements, then calls the factories from the last entry to the first.
    pub fn build(self) -> Result<Chain, BuildError> {
        let registry = self.registry;
        let settings = self.settings;
        registry.check_settings(settings)?;
        let names = &settings.core().middleware;

        let mut resolved = Vec::with_capacity(names.len());
        for (index, name) in names.iter().enumerate() {
            let Some((id, entry)) = registry.entry(name) else {
                return Err(BuildError::UnknownMiddleware {
                    index,
                    name: name.clone(),
                    suggestions: crate::suggest::closest(name, registry.names()),
                });
            };
            resolved.push((id, entry));
        }
        for (index, (_, entry)) in resolved.iter().enumerate() {
            for req in &entry.requires {
                if req.when.as_ref().is_some_and(|when| !when(settings)) {
                    continue;
                }
                let position = names.iter().position(|n| registry.same(n, &req.name));
                if position.is_none_or(|p| p > index) {
                    let listed = registry
                        .entries
                        .iter()
                        .find(|e| registry.same(&e.canonical, &req.name))
                        .map(|e| e.canonical.clone())
                        .unwrap_or_else(|| req.name.clone());
                    let requires = position.map(|p| names[p].clone()).unwrap_or(listed);
                    let fix = match position {
                        Some(_) => {
                            format!("move {requires:?} above {:?} in MIDDLEWARE", names[index])
                        }
                        None => format!(
                            "insert {requires:?} before {:?} in MIDDLEWARE",
                            names[index]
                        ),
                    };
                    return Err(BuildError::Order {
                        index,
                        name: names[index].clone(),
                        requires,
                        found_at: position,
                        fix,
                    });
                }
            }
        }

        let errors = Arc::new(self.errors);
        // Every end is a view layer, so `process_view` runs whatever the chain ends in: a
        // handler or a tower service is the one view of a catch-all route. A chain that lists
        // CsrfViewMiddleware enforces it, with or without a URLconf (issue 16).
        let (resolver, urls): (Arc<dyn Resolve>, Option<Arc<dyn Resolve>>) = match self.innermost {
            Some(Innermost::Urls(resolver)) => (resolver.clone(), Some(resolver)),
            Some(Innermost::Handler(handler)) => (Arc::new(HandlerRoute::new(handler)), None),
            None => (Arc::new(NoRoutes), None),
        };
        let view_layer = Arc::new(ViewLayer {
            urls: resolver,
            hooks: OnceLock::new(),
        });
        let innermost: Arc<dyn Middleware> = view_layer.clone();
        let mut next = Next::new(innermost, errors.clone());

        let resources = crate::registry::Resources::default();
        let mut hooks = HookLists::default();
        let mut layers: Vec<Arc<dyn Middleware>> = Vec::with_capacity(names.len());
        // The current run of consecutive hook-style layers (innermost first) and what the
        // innermost of them calls: the chain runs such a run as one layer (`hook_run`).
        let mut run: Vec<Arc<dyn Middleware>> = Vec::new();
        let mut run_inner = next.clone();
        let mut entries = Vec::with_capacity(names.len());
        for (index, (name, (_, entry))) in names.iter().zip(&resolved).enumerate().rev() {
            let ctx = BuildContext {
                settings,
                urls: urls.as_ref(),
                name,
                resources: &resources,
            };
            match (entry.factory)(next.clone(), &ctx) {
                Ok(mw) => {
                    // Every layer is asked for every hook until its code shows the hook is the
                    // trait's default; a protection whose process_view turns out to be the
                    // default answers 500 rather than let requests through unchecked.
                    let required = entry.needs_view_hook.then(|| name.clone());
                    hooks.view.insert(0, Hooked::new(&mw, required));
                    hooks.exception.push(Hooked::new(&mw, None));
                    hooks.template_response.push(Hooked::new(&mw, None));
                    layers.push(mw.clone());
                    if mw.hook_pair().is_some() {
                        if run.is_empty() {
                            run_inner = next.clone();
                        }
                        run.push(mw);
                        next = crate::hook_run::next_for(&run, &run_inner, &errors);
                    } else {
                        run.clear();
                        next = Next::new(mw, errors.clone());
                    }
                    entries.push(ChainEntry {
                        name: name.clone(),
                        canonical: entry.canonical.clone(),
                        status: EntryStatus::Active,
                    });
                }
                Err(FactoryError::NotUsed(reason)) => {
                    if settings.core().debug {
                        match &reason {
                            Some(r) => {
                                tracing::debug!(target: "django.request", "MiddlewareNotUsed({name:?}): {r}")
                            }
                            None => {
                                tracing::debug!(target: "django.request", "MiddlewareNotUsed: {name:?}")
                            }
                        }
                    }
                    entries.push(ChainEntry {
                        name: name.clone(),
                        canonical: entry.canonical.clone(),
                        status: EntryStatus::NotUsed(reason),
                    });
                }
                Err(FactoryError::Settings(e)) => return Err(BuildError::Settings(e)),
                Err(FactoryError::ImproperlyConfigured(message)) => {
                    return Err(BuildError::ImproperlyConfigured {
                        index,
                        name: name.clone(),
                        message,
                    })
                }
            }
        }
        entries.reverse();
        // Set exactly once, here, before any request can reach the layer.
        let _ = view_layer.hooks.set(hooks);
        Ok(Chain {
            entry: next,
            entries: entries.into(),
            core: settings.core().clone(),
            tasks: Arc::new(AfterResponseTasks::new(self.after_response_limit)),
            _layers: layers.into(),
        })
    }
}

impl Chain {
    /// Starts building a chain from `settings.MIDDLEWARE` with the factories in `registry`.
    pub fn builder<'a>(registry: &'a Registry, settings: &'a Settings) -> ChainBuilder<'a> {
        ChainBuilder {
            registry,
            settings,
            errors: ErrorHandlers::new(settings.core().debug),
            innermost: None,
            after_response_limit: crate::after_response::DEFAULT_LIMIT,
        }
    }

    /// Handles one request, lent so the caller keeps it afterwards.
    pub async fn handle(&self, request: &mut Request) -> Response {
        crate::request::ensure_core_settings(request, &self.core, &self.tasks);
        self.handle_started(request).await
    }

    /// [`handle`](Self::handle) for a request the server has given the chain's settings
    /// already (`request::start`). The tasks queued to run after the response go with its
    /// body, spawned when the body is finished.
    pub(crate) async fn handle_started(&self, request: &mut Request) -> Response {
        let mut response = self.entry.get_response(request).await;
        if let Some(pending) = crate::request::take_after_response(request) {
            response.body_mut().run_after(pending);
        }
        response
    }

    /// The chain's after-response tasks: an embedder without the built-in server drains them
    /// before its runtime ends (`tasks.drain(timeout).await`); see [`crate::after_response`].
    pub fn after_response_tasks(&self) -> &Arc<AfterResponseTasks> {
        &self.tasks
    }

    /// Handles one request.
    // An `async` block, not an `async fn`, which would store the request twice in its future.
    #[allow(clippy::manual_async_fn)]
    pub fn call(&self, mut request: Request) -> impl Future<Output = Response> + Send + '_ {
        async move { self.handle(&mut request).await }
    }

    /// The `MIDDLEWARE` entries, outermost first, with their status.
    pub fn entries(&self) -> &[ChainEntry] {
        &self.entries
    }

    /// The core settings the chain was built with.
    pub fn core_settings(&self) -> &Arc<CoreSettings> {
        &self.core
    }
}

#[async_trait]
impl GetResponse for Chain {
    async fn get_response(&self, request: &mut Request) -> Response {
        self.handle(request).await
    }
}

/// The resolver of a chain ended by [`ChainBuilder::handler`]: every request resolves to the
/// handler.
struct HandlerRoute(Arc<RouteInfo>);

impl HandlerRoute {
    fn new(handler: Arc<dyn GetResponse>) -> Self {
        HandlerRoute(Arc::new(RouteInfo {
            view: Arc::new(HandlerView(handler)),
            route: String::new(),
            url_name: None,
            markers: Arc::default(),
        }))
    }
}

impl Resolve for HandlerRoute {
    fn resolve(&self, _request: &Request) -> Result<ResolverMatch, Error> {
        Ok(ResolverMatch::new(self.0.clone(), Vec::new()))
    }

    fn is_valid_path(&self, _path: &str) -> bool {
        true
    }

    fn markers_for(&self, _path: &str) -> Option<Arc<Markers>> {
        Some(self.0.markers.clone())
    }
}

struct HandlerView(Arc<dyn GetResponse>);

#[async_trait]
impl View for HandlerView {
    async fn call(&self, request: &mut Request) -> Result<Response, Error> {
        Ok(self.0.get_response(request).await)
    }
}

/// The resolver of a chain built with no end: nothing resolves.
struct NoRoutes;

impl Resolve for NoRoutes {
    fn resolve(&self, _request: &Request) -> Result<ResolverMatch, Error> {
        Err(Error::not_found("no handler"))
    }

    fn is_valid_path(&self, _path: &str) -> bool {
        false
    }

    fn markers_for(&self, _path: &str) -> Option<Arc<Markers>> {
        None
    }
}

/// One middleware in one hook list, with what the chain learned about that hook of it.
struct Hooked {
    /// Weak: the [`Chain`] owns the middleware (see `Chain::_layers`).
    middleware: Weak<dyn Middleware>,
    state: HookState,
    /// The entry's name, when it must implement this hook (`needs_process_view`).
    required: Option<String>,
}

impl Hooked {
    fn new(middleware: &Arc<dyn Middleware>, required: Option<String>) -> Self {
        Hooked {
            middleware: Arc::downgrade(middleware),
            state: HookState::default(),
            required,
        }
    }

    /// Whether the hook is known to be the default and nothing requires it.
    fn skipped(&self) -> bool {
        self.state.is_absent() && self.required.is_none()
    }

    /// The middleware, unless this hook of it is skipped.
    fn live(&self) -> Option<Arc<dyn Middleware>> {
        if self.skipped() {
            return None;
        }
        self.middleware.upgrade()
    }

    /// Records a probe's finding; for a required hook that is the default, the error that
    /// refuses the request (fail closed) instead.
    fn learn(&self, default_ran: bool) -> Result<(), Error> {
        self.state.learn(default_ran);
        match &self.required {
            Some(name) if default_ran => {
                tracing::error!(target: "django.request", "{name:?} is registered as enforcing a protection in process_view but does not implement process_view; refusing the request");
                Err(Error::ImproperlyConfigured(format!(
                    "{name:?} enforces its protection in process_view but does not implement it. Fix: implement process_view, or register it without needs_process_view()"
                )))
            }
            _ => Ok(()),
        }
    }
}

/// The layers asked for each optional hook.
#[derive(Default)]
struct HookLists {
    /// `MIDDLEWARE` order.
    view: Vec<Hooked>,
    /// Reverse order.
    exception: Vec<Hooked>,
    /// Reverse order.
    template_response: Vec<Hooked>,
}

/// The view layer's rare paths (a template to render, an error to recover from), boxed so
/// that their state is not part of the layer's future.
type RareFuture<'a> = Pin<Box<dyn Future<Output = Result<Response, Error>> + Send + 'a>>;

/// Whether `response` is a [`TemplateResponse`] still to be rendered.
fn is_template(response: &Response) -> bool {
    response.extensions().get::<TemplateResponse>().is_some()
}

/// The innermost layer: Django's `_get_response`.
struct ViewLayer {
    urls: Arc<dyn Resolve>,
    hooks: OnceLock<HookLists>,
}

impl ViewLayer {
    fn hooks(&self) -> &HookLists {
        static EMPTY: OnceLock<HookLists> = OnceLock::new();
        self.hooks
            .get()
            .unwrap_or_else(|| EMPTY.get_or_init(HookLists::default))
    }

    async fn process_exception(
        &self,
        request: &mut Request,
        error: Error,
    ) -> Result<Response, Error> {
        for hooked in &self.hooks().exception {
            let Some(mw) = hooked.live() else { continue };
            let (response, default_ran) = probe(mw.process_exception(request, &error)).await;
            hooked.learn(default_ran)?;
            if let Some(response) = response {
                return Ok(response);
            }
        }
        Err(error)
    }

    /// A response as it leaves the layer: as it is, or, for a template response, its
    /// boxed render (`process_template_response` hooks, then the template).
    fn leave<'a>(
        &'a self,
        request: &'a mut Request,
        response: Response,
    ) -> Result<Response, RareFuture<'a>> {
        if is_template(&response) {
            return Err(self.render_boxed(request, response));
        }
        Ok(response)
    }

    // The two rare paths are boxed out of line: a future is built on the stack before it is
    // boxed, and inlined here their space (over a kilobyte) would be reserved in the frame
    // of every request's view layer, under which the view runs.
    #[cold]
    #[inline(never)]
    fn render_boxed<'a>(&'a self, request: &'a mut Request, response: Response) -> RareFuture<'a> {
        Box::pin(self.render_template(request, response))
    }

    #[cold]
    #[inline(never)]
    fn recover_boxed<'a>(&'a self, request: &'a mut Request, error: Error) -> RareFuture<'a> {
        Box::pin(self.recover(request, error))
    }

    /// The view failed: `process_exception` hooks, then the template render of what they
    /// answered, if anything.
    async fn recover(&self, request: &mut Request, error: Error) -> Result<Response, Error> {
        let mut response = self.process_exception(request, error).await?;
        response.extensions_mut().insert(NotFromView);
        if is_template(&response) {
            return self.render_template(request, response).await;
        }
        Ok(response)
    }

    /// `process_template_response` hooks, bottom to top, then the render.
    async fn render_template(
        &self,
        request: &mut Request,
        mut response: Response,
    ) -> Result<Response, Error> {
        for hooked in &self.hooks().template_response {
            let Some(mw) = hooked.live() else { continue };
            let (outcome, default_ran) =
                probe(mw.process_template_response(request, response)).await;
            hooked.learn(default_ran)?;
            response = outcome?;
        }
        if let Some(template) = response.extensions_mut().remove::<TemplateResponse>() {
            match template.render() {
                Ok(text) => *response.body_mut() = text.into(),
                Err(e) => response = self.process_exception(request, e).await?,
            }
        }
        Ok(response)
    }
}

#[async_trait]
impl Middleware for ViewLayer {
    async fn call(&self, request: &mut Request) -> Result<Response, Error> {
        let resolved = self.urls.resolve(request)?;
        let view = resolved.view().clone();
        let hooks = &self.hooks().view;
        if hooks.iter().all(Hooked::skipped) {
            // The request keeps the match; nothing else needs it.
            crate::request::set_resolver_match(request, resolved);
        } else {
            crate::request::set_resolver_match(request, resolved.clone());
            for hooked in hooks {
                let Some(mw) = hooked.live() else { continue };
                // A `Hooks` layer answers at once unless it must wait: no boxed future for
                // the common case (CSRF's check of a safe method, on every request).
                let (outcome, default_ran) = match mw.hook_pair() {
                    Some(HookPair(HookPairKind::Ready(hooks))) => {
                        match probe_call(|| hooks.process_view(request, &resolved)) {
                            (Hook::Ready(outcome), default_ran) => (outcome, default_ran),
                            (Hook::Pending(future), _) => (future.await, false),
                        }
                    }
                    _ => probe(mw.process_view(request, &resolved)).await,
                };
                hooked.learn(default_ran)?;
                let Some(mut response) = outcome? else {
                    continue;
                };
                response.extensions_mut().insert(NotFromView);
                let render = match self.leave(request, response) {
                    Ok(response) => return Ok(response),
                    Err(render) => render,
                };
                return render.await;
            }
        }
        // Each response or error dies in the block it is made in, before the next await: one
        // held across an await would be stored in this future, which is allocated and moved
        // on every request.
        let rare: RareFuture<'_> = {
            let outcome = {
                let mut call = view.call(request);
                std::future::poll_fn(|cx| poll_caught(call.as_mut(), cx)).await
            };
            match outcome {
                Ok(Ok(response)) => match self.leave(request, response) {
                    Ok(response) => return Ok(response),
                    Err(render) => render,
                },
                Ok(Err(e)) => self.recover_boxed(request, e),
                Err(p) => self.recover_boxed(request, Error::Panic(panic_message(p.as_ref()))),
            }
        };
        rare.await
    }
}
