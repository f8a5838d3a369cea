//! Cross-crate integration tests live in `tests/`.

pub mod fuzz;

/// The porting guide, `docs/porting.md`, compiled and run as doc tests (here, where both
/// middleware-core and middleware-builtin are dependencies).
#[cfg(doctest)]
#[doc = include_str!("../../docs/porting.md")]
pub mod porting {}
