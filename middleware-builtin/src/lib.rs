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

pub mod cache;
pub mod messages;
pub mod sessions;

use middleware_core::Registry;

/// Registers every built-in middleware (and its settings and system checks).
pub fn register_all(registry: &mut Registry) {
    sessions::register(registry);
    messages::register(registry);
}
