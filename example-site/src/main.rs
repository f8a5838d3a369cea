//! The example site.
fn main() {}
