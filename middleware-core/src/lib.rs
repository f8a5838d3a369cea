//! Django's middleware model for Rust.
//!
//! Django lets an application declare an ordered `MIDDLEWARE` list; at start-up each entry is
//! built once around the next one, and every request runs through the chain: code before the
//! view, `await get_response(request)`, code after. This crate is that model, async from the
//! ground up:
//!
//! * [`Middleware`] (call style, `__call__`) and [`HookMiddleware`] (`MiddlewareMixin` style),
//!   both with `process_view`, `process_exception` and `process_template_response`;
//! * a [`Registry`] of named factories and a [`Chain`] built once from [`Settings`];
//! * every layer turns errors and panics into responses, so outer middleware always see one;
//! * a [`Router`] with Django's path syntax, a [`server`] and an in-process [`test_client`].
//!
//! ```
//! use middleware_core::{async_trait, Chain, Error, Middleware, Next, Registry, Request, Response, Router, Settings};
//!
//! struct AsyncHeaderMiddleware { get_response: Next }
//!
//! #[async_trait]
//! impl Middleware for AsyncHeaderMiddleware {
//!     async fn call(&self, request: &mut Request) -> Result<Response, Error> {
//!         let mut response = self.get_response.get_response(request).await;
//!         response.headers_mut().insert("x-custom-header", "Hello".parse().unwrap());
//!         Ok(response)
//!     }
//! }
//!
//! async fn index(_: &mut Request) -> Result<Response, Error> {
//!     Ok(Response::new("Hello, world!".into()))
//! }
//!
//! let mut registry = Registry::new();
//! registry.register("AsyncHeaderMiddleware", |next, _| Ok(AsyncHeaderMiddleware { get_response: next }));
//! let settings = Settings::from_toml_str(r#"
//!     ALLOWED_HOSTS = ["testserver"]
//!     MIDDLEWARE = ["AsyncHeaderMiddleware"]
//! "#, "settings.toml").unwrap();
//! let mut router = Router::new();
//! router.route("", index).unwrap();
//! let chain = Chain::builder(&registry, &settings).urls(router).build().unwrap();
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let response = chain.call(http::Request::get("/").body(Default::default()).unwrap()).await;
//! assert_eq!(response.headers()["x-custom-header"], "Hello");
//! # });
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod body;
pub mod chain;
pub mod checks;
pub mod crypto;
pub mod error;
pub mod http_utils;
pub mod middleware;
#[cfg(doctest)]
pub mod porting;
pub mod registry;
pub mod request;
pub mod response;
pub mod routing;
pub mod server;
pub mod settings;
pub mod signing;
pub mod test_client;
#[cfg(feature = "tower")]
pub mod tower;
pub mod urls;
pub mod view;

pub use async_trait::async_trait;
pub use body::Body;
pub use chain::{BuildError, Chain, ChainBuilder, ChainEntry, EntryStatus};
pub use error::{Error, ErrorHandlers, ErrorInfo};
pub use middleware::{GetResponse, HookMiddleware, Hooks, Middleware, Mixin, Next};
pub use registry::{BuildContext, FactoryError, Registry};
pub use request::{ConnectionInfo, QueryDict, RequestExt};
pub use response::ResponseExt;
pub use routing::{Route, Router};
pub use settings::{CoreSettings, Secret, Settings, SettingsBuilder, SettingsError};
pub use view::{
    view_fn, Markers, NotFromView, Render, Resolve, ResolverMatch, RouteInfo, TemplateResponse,
    View, ViewFn,
};

/// A request: `http::Request` with this crate's [`Body`].
pub type Request = http::Request<Body>;
/// A response: `http::Response` with this crate's [`Body`].
pub type Response = http::Response<Body>;
