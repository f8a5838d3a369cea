#![cfg(feature = "e2e")]
