//! Cross-crate integration tests live in `tests/`.

pub mod fuzz;

/// The porting guide, `docs/porting.md`, compiled and run as doc tests (here, where both
/// middleware-core and middleware-builtin are dependencies).
#[cfg(doctest)]
#[doc = include_str!("../../docs/porting.md")]
pub mod porting {}

/// The tutorial, `docs/tutorial.md`: its examples that need no server or file are doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../docs/tutorial.md")]
pub mod tutorial {}
