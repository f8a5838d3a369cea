//! The porting guide, `docs/porting.md`, compiled as doc tests.
#![doc = include_str!("../../docs/porting.md")]
