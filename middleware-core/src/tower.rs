//! tower interop, both ways (cargo feature `tower`).
//!
//! * A [`Chain`] is a `tower::Service<http::Request<B>>` for any body `B`, answering
//!   `http::Response<Body>` and never failing, so axum, hyper-util or any tower stack can serve
//!   it (see `examples/axum_fallback.rs`).
//! * Any `tower::Layer` can be registered under a name and listed in `MIDDLEWARE`
//!   ([`Registry::register_layer`], [`Registry::register_layer_with`]): tower-http's
//!   `TimeoutLayer`, `CorsLayer`, `TraceLayer`, `RequestBodyLimitLayer`... run at their place in
//!   the chain like any other middleware (see `examples/tower_layers.rs`).
//!
//! ```
//! use middleware_core::{Chain, Registry, Settings};
//! use tower_layer::Identity;
//!
//! let mut registry = Registry::new();
//! // `Identity` is the do-nothing layer; tower-http's layers register the same way.
//! registry.register_layer("IdentityLayer", Identity::new());
//! let settings = Settings::from_toml_str(r#"MIDDLEWARE = ["IdentityLayer"]"#, "inline").unwrap();
//! let chain = Chain::builder(&registry, &settings).build().unwrap();
//!
//! fn is_tower_service<S: tower_service::Service<http::Request<String>>>(_: &S) {}
//! is_tower_service(&chain);
//! ```
//!
//! # How a lent request travels through a tower service
//!
//! Our middleware are lent the request (`&mut Request`) and the caller keeps it afterwards: outer
//! middleware read, in their response phase, what inner ones added to its extensions (the
//! [`crate::ResolverMatch`], a session...). A tower service takes the request by value and
//! gives back only a response. The adapter bridges the two:
//!
//! 1. it keeps a copy of the request's head (method, URI, version, headers, extensions; not the
//!    body), then moves the request out of the `&mut` with [`std::mem::take`];
//! 2. it puts a one-shot *return slot* into the moved request's extensions and calls the tower
//!    service with it;
//! 3. the innermost service of the layer, [`NextService`], takes the slot out (so a nested
//!    adapter gets its own), runs the rest of our chain on the request as the layer handed it
//!    down (its body converted to [`Body`] when the layer changed the body type), then puts the
//!    request, with everything the inner chain added, into the slot;
//! 4. when the tower service answers, the adapter puts the request from the slot back behind the
//!    `&mut`. If the layer answered without calling inwards (a CORS preflight, a body over the
//!    limit) or dropped the inner call (a timeout), the slot is empty and the copy of the head
//!    from step 1 is put back, with an empty body.
//!
//! So outer middleware always see a request, and see the extensions the inner chain added
//! whenever the inner chain ran to completion. The cost is one clone of the head per request for
//! each registered layer.
//!
//! A layer's errors become responses: by default a 500 made by the chain's error handlers from
//! [`Error::Internal`], so the error travels in the response's [`crate::ErrorInfo`]; pass your own
//! mapping with [`TowerLayer::on_error`]. A layer's responses with another body type are
//! converted into [`Body`] (a stream; bodies that already are [`Body`] are passed as they are).

use std::any::Any;
use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use async_trait::async_trait;
use bytes::Bytes;
use tower_layer::Layer;
use tower_service::Service;

use crate::body::{Body, BoxError};
use crate::chain::Chain;
use crate::error::Error;
use crate::lending::Lent;
use crate::middleware::{Middleware, Next};
use crate::registry::{BuildContext, EntryBuilder, FactoryError, Registry};
use crate::{Request, Response};

/// A boxed, `Send` future, as the services of this module return.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// Turns a layer's error into a response, or into an [`Error`] the chain's handlers answer.
pub type ErrorMapper = Arc<dyn Fn(BoxError) -> Result<Response, Error> + Send + Sync>;

/// Any `http_body::Body` as our [`Body`], without boxing it again when it already is one.
pub(crate) fn into_body<B>(body: B) -> Body
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let any: Box<dyn Any> = Box::new(body);
    match any.downcast::<Body>() {
        Ok(body) => *body,
        Err(any) => match any.downcast::<B>() {
            Ok(body) => Body::from_http_body(*body),
            // `any` was made from a `B` two lines above.
            Err(_) => Body::empty(),
        },
    }
}

impl<B> Service<http::Request<B>> for Chain
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<Result<Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // Built once, shared, no back-pressure of its own.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let chain = self.clone();
        Box::pin(async move { Ok(chain.call(request.map(into_body)).await) })
    }
}

/// The rest of our chain as a tower service: the service a registered layer wraps.
///
/// Accepts any request body (layers such as `RequestBodyLimitLayer` change the body type) and
/// answers `http::Response<Body>`; never fails.
#[derive(Clone)]
pub struct NextService {
    next: Next,
}

impl fmt::Debug for NextService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NextService").finish_non_exhaustive()
    }
}

impl NextService {
    /// Wraps the rest of the chain.
    pub fn new(next: Next) -> Self {
        NextService { next }
    }
}

impl<B> Service<http::Request<B>> for NextService
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<Result<Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let next = self.next.clone();
        Box::pin(async move { Ok(next.run(request.map(into_body)).await) })
    }
}

/// A tower layer prepared for registration: the layer and how its errors become responses.
pub struct TowerLayer<L> {
    layer: L,
    on_error: Option<ErrorMapper>,
}

impl<L> fmt::Debug for TowerLayer<L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TowerLayer")
            .field("on_error", &self.on_error.is_some())
            .finish_non_exhaustive()
    }
}

impl<L> TowerLayer<L> {
    /// Wraps `layer`; its errors become 500 responses ([`Error::Internal`]).
    pub fn new(layer: L) -> Self {
        TowerLayer {
            layer,
            on_error: None,
        }
    }

    /// Maps the layer's errors: return a response, or an [`Error`] for the chain's error
    /// handlers. E.g. tower's `Elapsed` from `tower::timeout::TimeoutLayer` as a 504.
    pub fn on_error<F>(mut self, map: F) -> Self
    where
        F: Fn(BoxError) -> Result<Response, Error> + Send + Sync + 'static,
    {
        self.on_error = Some(Arc::new(map));
        self
    }
}

impl<L> From<L> for TowerLayer<L> {
    fn from(layer: L) -> Self {
        TowerLayer::new(layer)
    }
}

/// A layered tower service run as one of our middleware; see the [module docs](self).
pub struct LayerMiddleware<S> {
    service: S,
    on_error: Option<ErrorMapper>,
}

impl<S> fmt::Debug for LayerMiddleware<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LayerMiddleware").finish_non_exhaustive()
    }
}

impl<S> LayerMiddleware<S> {
    /// Runs `service`, which wraps the rest of the chain as a [`NextService`].
    pub fn new(service: S, on_error: Option<ErrorMapper>) -> Self {
        LayerMiddleware { service, on_error }
    }
}

#[async_trait]
impl<S> Middleware for LayerMiddleware<S>
where
    S: Service<Request> + Clone + Send + Sync + 'static,
    S::Response: IntoBody,
    S::Error: Into<BoxError> + Send,
    S::Future: Send + 'static,
{
    async fn call(&self, request: &mut Request) -> Result<Response, Error> {
        // Puts a request back even when the layer panics, so the outer layers' error handling
        // and response phase still see one.
        let (guard, moved) = Lent::take(request);

        let mut service = self.service.clone();
        let outcome = match futures_util::future::poll_fn(|cx| service.poll_ready(cx)).await {
            Ok(()) => service.call(moved).await,
            Err(e) => Err(e),
        };
        drop(guard);

        match outcome {
            Ok(response) => Ok(response.into_response()),
            Err(e) => match &self.on_error {
                Some(map) => map(e.into()),
                None => Err(Error::Internal(e.into())),
            },
        }
    }
}

impl Registry {
    /// Registers a tower layer under `name`, so it can be listed in `MIDDLEWARE`.
    ///
    /// The layer wraps the rest of the chain ([`NextService`]) once per chain build; see the
    /// [module docs](crate::tower) for how the request is moved through it and back.
    pub fn register_layer<L>(&mut self, name: &str, layer: L) -> EntryBuilder<'_>
    where
        L: Layer<NextService> + Send + Sync + 'static,
        L::Service: Service<Request> + Clone + Send + Sync + 'static,
        <L::Service as Service<Request>>::Response: IntoBody,
        <L::Service as Service<Request>>::Error: Into<BoxError> + Send,
        <L::Service as Service<Request>>::Future: Send + 'static,
    {
        let layer = Arc::new(layer);
        self.register(name, move |next, _ctx| {
            Ok(LayerMiddleware::new(
                layer.layer(NextService::new(next)),
                None,
            ))
        })
    }

    /// Registers a tower layer built at start-up from the settings (e.g. a timeout read from a
    /// setting; declare it with `.settings(&[...])`), with an optional error mapping.
    pub fn register_layer_with<F, L>(&mut self, name: &str, factory: F) -> EntryBuilder<'_>
    where
        F: Fn(&BuildContext<'_>) -> Result<TowerLayer<L>, FactoryError> + Send + Sync + 'static,
        L: Layer<NextService> + Send + Sync + 'static,
        L::Service: Service<Request> + Clone + Send + Sync + 'static,
        <L::Service as Service<Request>>::Response: IntoBody,
        <L::Service as Service<Request>>::Error: Into<BoxError> + Send,
        <L::Service as Service<Request>>::Future: Send + 'static,
    {
        self.register(name, move |next, ctx| {
            let TowerLayer { layer, on_error } = factory(ctx)?;
            Ok(LayerMiddleware::new(
                layer.layer(NextService::new(next)),
                on_error,
            ))
        })
    }
}

/// A response a layer may answer with: `http::Response<B>` for any body `B` of bytes.
pub trait IntoBody: Send + 'static {
    /// Converts it into our [`Response`].
    fn into_response(self) -> Response;
}

impl<B> IntoBody for http::Response<B>
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    fn into_response(self) -> Response {
        self.map(into_body)
    }
}
