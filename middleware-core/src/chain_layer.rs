//! The chain as a `tower::Layer` around any `tower::Service` (cargo feature `tower`): wrap your
//! axum `Router`, a tonic service or a hyper-util service; the inner service is the view.
//!
//! ```
//! use middleware_core::chain_layer::ChainLayer;
//! use middleware_core::{Chain, Registry, Settings};
//! use tower_layer::Layer;
//!
//! let settings = Settings::from_toml_str(r#"ALLOWED_HOSTS = ["testserver"]"#, "inline").unwrap();
//! let layer = ChainLayer::new(Chain::builder(&Registry::new(), &settings)).unwrap();
//! // With axum: `Router::new().route("/", get(index)).layer(layer)`; here any service type.
//! let _service = layer.layer(());
//! ```
//!
//! Every request runs through the chain; its view layer resolves the request against the
//! [`ServiceRoutes`] (patterns in axum's syntax, `/items/{id}`, the same string axum's
//! `MatchedPath` holds), runs the `process_view` hooks with the route's markers, then hands the
//! request to the inner service. A path no pattern matches is the catch-all route (pattern `""`,
//! no markers), so `process_view` (CSRF, login required) runs for every request.
//!
//! What middleware put in the request's extensions (the session, the user a middleware loaded,
//! `HtmxDetails`...) travels with the request to the inner service, where axum's
//! `Extension<T>` reads it, and axum's `ConnectInfo` set by its server is left where it is. Tell
//! the layer how to find the client address ([`ChainLayer::client_addr`]) so that the chain's
//! `REMOTE_ADDR` lookups see it too.
//!
//! The request goes to the inner service by value and does not come back: the outer middleware's
//! response phase sees the request as it was before the hand-off (a copy of its head, made per
//! request), without what the inner handlers changed on the request itself. Shared values (the
//! session) are the same object on both sides.
//!
//! `APPEND_SLASH` never redirects behind the layer: which paths the inner service answers is its
//! own business, so every path counts as valid.

use std::collections::HashMap;
use std::convert::Infallible;
use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use async_trait::async_trait;
use bytes::Bytes;
use tower_layer::Layer;
use tower_service::Service;

use crate::body::BoxError;
use crate::chain::{BuildError, Chain, ChainBuilder};
use crate::error::Error;
use crate::lending::{Lent, ReturnSlot};
use crate::request::{ConnectionInfo, RequestExt};
use crate::tower::{into_body, BoxFuture, IntoBody};
use crate::view::PathValue;
use crate::view::{Markers, Resolve, ResolverMatch, RouteInfo, View};
use crate::{Request, Response};

/// Reads the client address from a request's extensions (axum: `ConnectInfo<SocketAddr>`).
pub type ClientAddrFn = Arc<dyn Fn(&http::Extensions) -> Option<SocketAddr> + Send + Sync>;

/// The markers of the inner service's routes, by pattern (axum's syntax: `/items/{id}`,
/// `/static/{*path}`): what Django's view decorators (`csrf_exempt`...) set on a view.
#[derive(Default)]
pub struct ServiceRoutes {
    markers: Vec<(String, Markers)>,
    names: HashMap<String, String>,
}

impl fmt::Debug for ServiceRoutes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let patterns: Vec<&str> = self.markers.iter().map(|(p, _)| p.as_str()).collect();
        f.debug_struct("ServiceRoutes")
            .field("patterns", &patterns)
            .finish()
    }
}

impl ServiceRoutes {
    /// No routes: every request is the catch-all route.
    pub fn new() -> Self {
        ServiceRoutes::default()
    }

    /// Attaches `marker` to the route `pattern` (added on first mention).
    pub fn marker<T: Clone + Send + Sync + 'static>(mut self, pattern: &str, marker: T) -> Self {
        self.entry(pattern).insert(marker);
        self
    }

    /// Names the route `pattern`, so `process_view` hooks see a `url_name`.
    pub fn name(mut self, pattern: &str, name: &str) -> Self {
        self.entry(pattern);
        self.names.insert(pattern.to_owned(), name.to_owned());
        self
    }

    fn entry(&mut self, pattern: &str) -> &mut Markers {
        let index = match self.markers.iter().position(|(p, _)| p == pattern) {
            Some(index) => index,
            None => {
                self.markers.push((pattern.to_owned(), Markers::default()));
                self.markers.len() - 1
            }
        };
        &mut self.markers[index].1
    }

    fn into_resolver(self) -> Result<ServiceResolver, BuildError> {
        let view: Arc<dyn View> = Arc::new(HandOffView);
        let mut routes = matchit::Router::new();
        for (pattern, markers) in self.markers {
            let info = Arc::new(RouteInfo {
                view: view.clone(),
                url_name: self.names.get(&pattern).cloned(),
                route: pattern.clone(),
                markers: Arc::new(markers),
            });
            routes
                .insert(pattern.clone(), info)
                .map_err(|e| BuildError::InvalidRoute {
                    pattern,
                    message: e.to_string(),
                })?;
        }
        let catch_all = Arc::new(RouteInfo {
            view,
            route: String::new(),
            url_name: None,
            markers: Arc::default(),
        });
        Ok(ServiceResolver { routes, catch_all })
    }
}

/// [`ServiceRoutes`] as the chain's URLconf: every request resolves, to its route or to the
/// catch-all.
struct ServiceResolver {
    routes: matchit::Router<Arc<RouteInfo>>,
    catch_all: Arc<RouteInfo>,
}

impl ServiceResolver {
    fn lookup(&self, path: &str) -> ResolverMatch {
        match self.routes.at(path) {
            Ok(found) => {
                let kwargs = found
                    .params
                    .iter()
                    .map(|(k, v)| (k.to_owned(), PathValue::Str(v.to_owned())))
                    .collect();
                ResolverMatch::new(found.value.clone(), kwargs)
            }
            Err(_) => ResolverMatch::new(self.catch_all.clone(), Vec::new()),
        }
    }
}

impl Resolve for ServiceResolver {
    fn resolve(&self, request: &Request) -> Result<ResolverMatch, Error> {
        Ok(self.lookup(request.uri().path()))
    }

    fn is_valid_path(&self, _path: &str) -> bool {
        true
    }

    fn markers_for(&self, path: &str) -> Option<Arc<Markers>> {
        Some(match self.routes.at(path) {
            Ok(found) => found.value.markers.clone(),
            Err(_) => self.catch_all.markers.clone(),
        })
    }
}

type InnerCall = Box<dyn FnOnce(Request) -> BoxFuture<Result<Response, Error>> + Send>;

/// The inner service's call for one request, put in its extensions by [`ChainService`] and
/// taken out by the view.
#[derive(Clone)]
struct HandOff(Arc<Mutex<Option<InnerCall>>>);

/// The view of every [`ServiceRoutes`] route: hands the request to the inner service.
struct HandOffView;

#[async_trait]
impl View for HandOffView {
    async fn call(&self, request: &mut Request) -> Result<Response, Error> {
        let call = request
            .extensions_mut()
            .remove::<HandOff>()
            .and_then(|h| h.0.lock().unwrap_or_else(|p| p.into_inner()).take());
        let Some(call) = call else {
            return Err(Error::ImproperlyConfigured(
                "this chain ends in a ChainLayer's inner service, but the request did not come \
                 through the layer. Fix: call the service ChainLayer::layer made, not the chain"
                    .to_owned(),
            ));
        };
        // Made before the request is copied, so both sides share one queue; and an extension
        // of its own, so axum handlers read it with `Extension<AfterResponse>`.
        let after = crate::request::after_response(request);
        let (lent, mut moved) = Lent::take(request);
        // The inner service never gives the request back; nothing will fill the slot.
        moved.extensions_mut().remove::<ReturnSlot>();
        moved.extensions_mut().insert(after);
        let response = call(moved).await;
        drop(lent);
        response
    }
}

/// The chain as a `tower::Layer`; see the [module docs](self).
#[derive(Clone)]
pub struct ChainLayer {
    chain: Chain,
    client_addr: Option<ClientAddrFn>,
}

impl fmt::Debug for ChainLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChainLayer")
            .field("chain", &self.chain)
            .finish_non_exhaustive()
    }
}

impl ChainLayer {
    /// Builds the chain with the inner service as the view of every route (no markers).
    pub fn new(builder: ChainBuilder<'_>) -> Result<Self, BuildError> {
        ChainLayer::with_routes(builder, ServiceRoutes::new())
    }

    /// Builds the chain with `routes` giving markers to the inner service's routes.
    pub fn with_routes(
        builder: ChainBuilder<'_>,
        routes: ServiceRoutes,
    ) -> Result<Self, BuildError> {
        let chain = builder.urls(routes.into_resolver()?).build()?;
        Ok(ChainLayer {
            chain,
            client_addr: None,
        })
    }

    /// How to find the client address in a request that has no [`ConnectionInfo`] yet; with
    /// axum served `into_make_service_with_connect_info::<SocketAddr>()`:
    /// `|ext| ext.get::<ConnectInfo<SocketAddr>>().map(|c| c.0)`.
    pub fn client_addr<F>(mut self, find: F) -> Self
    where
        F: Fn(&http::Extensions) -> Option<SocketAddr> + Send + Sync + 'static,
    {
        self.client_addr = Some(Arc::new(find));
        self
    }

    /// The chain inside.
    pub fn chain(&self) -> &Chain {
        &self.chain
    }
}

impl<S> Layer<S> for ChainLayer {
    type Service = ChainService<S>;

    fn layer(&self, inner: S) -> ChainService<S> {
        ChainService {
            layer: self.clone(),
            inner,
        }
    }
}

/// The chain around an inner service; made by [`ChainLayer`].
#[derive(Clone)]
pub struct ChainService<S> {
    layer: ChainLayer,
    inner: S,
}

impl<S> fmt::Debug for ChainService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChainService").finish_non_exhaustive()
    }
}

impl<S, B> Service<http::Request<B>> for ChainService<S>
where
    S: Service<Request> + Clone + Send + 'static,
    S::Response: IntoBody,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<Result<Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // The inner service is made ready when the view calls it, on its own clone.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let mut request = request.map(into_body);
        if request.connection_info().is_none() {
            if let Some(find) = &self.layer.client_addr {
                let remote_addr = find(request.extensions());
                request.set_connection_info(ConnectionInfo {
                    remote_addr,
                    local_addr: None,
                    scheme: "http",
                });
            }
        }
        let mut inner = self.inner.clone();
        let call: InnerCall = Box::new(move |request| {
            Box::pin(async move {
                futures_util::future::poll_fn(|cx| inner.poll_ready(cx))
                    .await
                    .map_err(|e| Error::Internal(e.into()))?;
                match inner.call(request).await {
                    Ok(response) => Ok(response.into_response()),
                    Err(e) => Err(Error::Internal(e.into())),
                }
            })
        });
        request
            .extensions_mut()
            .insert(HandOff(Arc::new(Mutex::new(Some(call)))));
        let chain = self.layer.chain.clone();
        Box::pin(async move { Ok(chain.call(request).await) })
    }
}
