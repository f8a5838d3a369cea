//! Django's middleware model for Rust.
//!
//! Django lets an application declare an ordered `MIDDLEWARE` list; at start-up each entry is
//! built once around the next one, and every request runs through the chain: code before the
//! view, `await get_response(request)`, code after. This crate is that model, async from the
//! ground up:
//!
//! * a middleware is one function ([`Registry::register_fn`], or a `process_request` /
//!   `process_response` pair with [`Registry::register_fn_hooks`]); the traits
//!   [`Middleware`] (call style, `__call__`) and [`HookMiddleware`] (`MiddlewareMixin` style)
//!   are for middleware with state or with `process_view`, `process_exception` and
//!   `process_template_response`;
//! * a [`Registry`] of named factories and a [`Chain`] built once from [`Settings`];
//! * every layer turns errors and panics into responses, so outer middleware always see one;
//! * work queued on a request runs after its response has been sent ([`after_response`]);
//! * a [`Router`] with Django's path syntax, a [`server`] and an in-process [`test_client`].
//!
//! # Cargo features
//!
//! The model (the traits, [`chain`], [`registry`], [`settings`], [`checks`], [`error`], [`body`],
//! [`request`], [`response`], [`after_response`], [`fn_middleware`], [`view`]) is always
//! compiled. The parts around it are features, all on by default but `tower`; an embedder with
//! its own server and routing takes `default-features = false` and names what it uses:
//!
//! | feature | modules | pulls in |
//! |---------|---------|----------|
//! | `server` | [`server`] | hyper's server, hyper-util, tokio's net and signal, memchr |
//! | `router` | [`urls`], [`routing`] ([`Router`], [`Route`]) | matchit, regex |
//! | `test-client` | [`test_client`] | nothing more |
//! | `crypto` | [`crypto`] | hmac, sha2, sha1, subtle, rand |
//! | `signing` | [`signing`] (and `crypto`) | base64, flate2 |
//! | `http-utils` | [`http_utils`]'s `conditional`, `url` and date parsing | regex |
//! | `tower` | `tower`, `chain_layer` | tower-service, tower-layer, matchit |
//!
//! Without the router a chain ends in [`ChainBuilder::handler`] or any [`Resolve`]; the cookie,
//! host and `Vary` helpers of [`http_utils`] that [`RequestExt`] and [`ResponseExt`] use are part
//! of the model.
//!
//! ```
//! # #[cfg(feature = "router")] {
//! use http::HeaderValue;
//! use middleware_core::{Chain, Error, Next, Registry, Request, Response, Router, Settings};
//!
//! async fn index(_: &mut Request) -> Result<Response, Error> {
//!     Ok(Response::new("Hello, world!".into()))
//! }
//!
//! let mut registry = Registry::new();
//! registry.register_fn("AsyncHeaderMiddleware", |request: Request, next: Next| async move {
//!     let mut response = next.run(request).await;
//!     response.headers_mut().insert("x-custom-header", HeaderValue::from_static("Hello"));
//!     response
//! });
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
//! # }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod after_response;
pub mod body;
pub mod chain;
#[cfg(feature = "tower")]
pub mod chain_layer;
pub mod checks;
#[cfg(feature = "crypto")]
pub mod crypto;
pub mod declared;
pub mod error;
mod fn_hooks;
pub mod fn_middleware;
mod hook_run;
pub mod hooks;
pub mod http_utils;
mod lending;
pub mod middleware;
pub mod registry;
pub mod request;
pub mod response;
#[cfg(feature = "router")]
pub mod routing;
#[cfg(feature = "server")]
pub mod server;
pub mod settings;
#[cfg(feature = "signing")]
pub mod signing;
mod suggest;
mod system_check;
#[cfg(feature = "test-client")]
pub mod test_client;
#[cfg(feature = "tower")]
pub mod tower;
#[cfg(feature = "router")]
pub mod urls;
pub mod view;

pub use after_response::{AfterResponse, AfterResponseTasks, TaskRefused};
pub use async_trait::async_trait;
pub use body::Body;
pub use chain::{BuildError, Chain, ChainBuilder, ChainEntry, EntryStatus};
pub use declared::DeclaredSettings;
pub use error::{Error, ErrorHandlers, ErrorInfo};
pub use fn_middleware::FnHooks;
pub use hooks::{Hook, Hooks};
pub use middleware::{GetResponse, HookMiddleware, HooksLayer, Middleware, Mixin, Next};
pub use registry::{BuildContext, FactoryError, Registry};
pub use request::{ConnectionInfo, QueryDict, RequestBodyExt, RequestExt};
pub use response::ResponseExt;
#[cfg(feature = "router")]
pub use routing::{Route, Router};
pub use settings::{
    CoreSettings, Secret, SecretSetting, Setting, Settings, SettingsBuilder, SettingsError,
};
pub use view::{
    view_fn, Markers, NotFromView, PathValue, Render, Resolve, ResolverMatch, RouteInfo,
    TemplateResponse, View, ViewFn,
};

/// A request: `http::Request` with this crate's [`Body`].
pub type Request = http::Request<Body>;
/// A response: `http::Response` with this crate's [`Body`].
pub type Response = http::Response<Body>;
