//! Django's built-in middleware, ported onto `middleware-core`.
//!
//! Each middleware lives in its own module and registers under its Rust name and Django's
//! dotted path, so a Django `MIDDLEWARE` list ports as it is:
//!
//! ```
//! let mut registry = middleware_core::Registry::new();
//! middleware_builtin::register_all(&mut registry);
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod admindocs;
pub mod auth;
pub mod broken_link_emails;
pub mod cache;
pub mod cache_middleware;
pub mod conditional_get;
pub mod csrf;
pub mod db;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub mod flatpages;
pub mod gzip;
pub mod locale;
pub mod mail;
pub mod messages;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub mod redirects;
pub mod sessions;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub mod sites;

use middleware_core::Registry;

pub mod checks;
pub mod clickjacking;
pub mod common;
pub mod csp;
#[cfg(test)]
mod policy_test_support;
pub mod security;

/// What an application can plug into the built-ins when it registers them.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct BuiltinOptions {
    /// The views `CSRF_FAILURE_VIEW` may name (Django's default page is always there).
    pub csrf_failure_views: csrf::CsrfFailureViews,
    /// The user backends `AUTHENTICATION_BACKENDS` may name (empty by default: register one
    /// under each name the settings list, `django.contrib.auth.backends.ModelBackend` by
    /// default).
    pub auth_backends: auth::AuthBackends,
}

impl BuiltinOptions {
    /// Uses `views` for `CSRF_FAILURE_VIEW`.
    pub fn csrf_failure_views(mut self, views: csrf::CsrfFailureViews) -> Self {
        self.csrf_failure_views = views;
        self
    }

    /// Uses `backends` for `AUTHENTICATION_BACKENDS`.
    pub fn auth_backends(mut self, backends: auth::AuthBackends) -> Self {
        self.auth_backends = backends;
        self
    }
}

/// Registers every built-in middleware (and its settings and system checks) with default
/// options.
pub fn register_all(registry: &mut Registry) {
    register_all_with(registry, BuiltinOptions::default());
}

/// Registers every built-in middleware with `options`.
pub fn register_all_with(registry: &mut Registry, options: BuiltinOptions) {
    registry.declare::<db::DatabasesSettings>();
    security::register(registry);
    sessions::register(registry);
    messages::register(registry);
    common::register(registry);
    broken_link_emails::register(registry);
    clickjacking::register(registry);
    csp::register(registry);
    checks::register(registry);
    gzip::register(registry);
    conditional_get::register(registry);
    locale::register(registry);
    cache_middleware::register(registry);
    csrf::register_with_failure_views(registry, options.csrf_failure_views);
    auth::register_with_backends(registry, options.auth_backends);
    admindocs::register(registry);
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    {
        sites::register(registry);
        redirects::register(registry);
    }
}
