//! Django's messages framework.
use middleware_core::Registry;
/// Registers `MessageMiddleware`.
pub fn register(registry: &mut Registry) {
    let _ = registry;
}
