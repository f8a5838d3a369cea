//! Third-party Django middleware, ported onto `middleware-core`: each keeps the original's
//! setting names and registers under a Rust name and the original's dotted path.
//!
//! * [`cors`]: django-cors-headers' `corsheaders.middleware.CorsMiddleware`;
//! * [`request_id`]: django-log-request-id's `log_request_id.middleware.RequestIDMiddleware`;
//! * [`ratelimit`]: django-ratelimit's `django_ratelimit.middleware.RatelimitMiddleware` and
//!   its `@ratelimit` decorator, as a route marker.
//!
//! ```
//! let mut registry = middleware_core::Registry::new();
//! middleware_builtin::register_all(&mut registry);
//! middleware_contrib::register_all(&mut registry);
//! assert!(registry.contains("corsheaders.middleware.CorsMiddleware"));
//! assert!(registry.contains("log_request_id.middleware.RequestIDMiddleware"));
//! assert!(registry.contains("django_ratelimit.middleware.RatelimitMiddleware"));
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod cors;
pub mod ratelimit;
pub mod request_id;

use std::fmt;

use middleware_core::Registry;

/// What an application plugs into the contrib middleware when it registers them: the
/// original projects' extension points that Django reaches by signal or dotted path.
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct ContribOptions {
    /// django-cors-headers' `check_request_enabled` signal receivers.
    pub cors_check_request_enabled: Vec<cors::CheckRequestEnabled>,
    /// The views `RATELIMIT_VIEW` may name.
    pub ratelimit_views: ratelimit::RatelimitViews,
}

impl fmt::Debug for ContribOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ContribOptions")
            .field(
                "cors_check_request_enabled",
                &self.cors_check_request_enabled.len(),
            )
            .field("ratelimit_views", &self.ratelimit_views)
            .finish()
    }
}

impl ContribOptions {
    /// Adds a `check_request_enabled` receiver.
    pub fn cors_check_request_enabled(mut self, handler: cors::CheckRequestEnabled) -> Self {
        self.cors_check_request_enabled.push(handler);
        self
    }

    /// Uses `views` for `RATELIMIT_VIEW`.
    pub fn ratelimit_views(mut self, views: ratelimit::RatelimitViews) -> Self {
        self.ratelimit_views = views;
        self
    }
}

/// Registers every contrib middleware (and its settings and checks) with default options.
pub fn register_all(registry: &mut Registry) {
    register_all_with(registry, ContribOptions::default());
}

/// Registers every contrib middleware with `options`.
pub fn register_all_with(registry: &mut Registry, options: ContribOptions) {
    cors::register_with(registry, options.cors_check_request_enabled);
    request_id::register(registry);
    ratelimit::register_with(registry, options.ratelimit_views);
}
