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
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod cors;
pub mod ratelimit;
pub mod request_id;

use middleware_core::Registry;

/// Registers every contrib middleware (and its settings and checks) with default options.
pub fn register_all(registry: &mut Registry) {
    cors::register(registry);
    request_id::register(registry);
    ratelimit::register(registry);
}
