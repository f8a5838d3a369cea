//! Cross-crate integration tests live in `tests/`.

pub mod fuzz;
