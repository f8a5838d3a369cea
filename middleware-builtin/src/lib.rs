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

pub mod conditional_get;
pub mod gzip;
pub mod locale;
pub mod csrf;

use middleware_core::Registry;

pub mod checks;
pub mod clickjacking;
pub mod common;
pub mod csp;
#[cfg(test)]
mod policy_test_support;
pub mod security;

/// Registers every built-in middleware (and its settings and system checks).
pub fn register_all(registry: &mut Registry) {
    security::register(registry);
    common::register(registry);
    clickjacking::register(registry);
    csp::register(registry);
    checks::register(registry);
    gzip::register(registry);
    conditional_get::register(registry);
    locale::register(registry);
    csrf::register(registry);
}
