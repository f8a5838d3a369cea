//! Django's built-in middleware, ported.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
