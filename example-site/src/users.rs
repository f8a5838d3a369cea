//! The site's users: an in-memory store with one demo user, registered as Django's
//! `django.contrib.auth.backends.ModelBackend` (the default `AUTHENTICATION_BACKENDS`).
//!
//! Demo credentials: username `demo`, password `demo-password`. The hash was made by Django
//! 6.1.3 (`tests/fixtures/django/make_auth_fixtures.py`), so a Django site with the same user
//! row and `SECRET_KEY` shares logins with this one.
//!
//! ```
//! use middleware_builtin::auth::{Credentials, UserBackend};
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let users = example_site::users::demo_users();
//! let demo = users
//!     .authenticate(&Credentials::new(example_site::users::DEMO_USERNAME, example_site::users::DEMO_PASSWORD))
//!     .await
//!     .unwrap();
//! assert_eq!(demo.unwrap().id, "1");
//! # });
//! ```

use middleware_builtin::auth::{InMemoryUserBackend, User};

/// The demo user's username.
pub const DEMO_USERNAME: &str = "demo";
/// The demo user's password (a development fixture, not a secret).
pub const DEMO_PASSWORD: &str = "demo-password";
/// `make_password("demo-password")` as Django 6.1.3 computed it (1,500,000 PBKDF2 iterations).
pub const DEMO_PASSWORD_HASH: &str =
    "pbkdf2_sha256$1500000$exampleSiteDemoSalt000$IYfAG+8G6QpP3n6b46/A6Cd/TKyA9KljapVKNSsVzOg=";

/// A fresh store holding the demo user (id `1`).
pub fn demo_users() -> InMemoryUserBackend {
    let users = InMemoryUserBackend::new();
    let mut demo = User::new("1", DEMO_USERNAME, DEMO_PASSWORD_HASH);
    demo.email = "demo@example.com".to_owned();
    users.insert(demo);
    users
}
