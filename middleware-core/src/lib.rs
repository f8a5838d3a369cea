//! Django's middleware model for Rust.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
pub mod http_utils;
