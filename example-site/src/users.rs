//! The site's users: Django's `ModelBackend` over `auth_user` when `DATABASES` is set (the
//! site's own settings), else an in-memory store with one demo user, registered as the
//! fallback for `django.contrib.auth.backends.ModelBackend` (settings without a database, such
//! as the conformance sets'). With `EXAMPLE_SITE_DEMO_USER = true` the site creates the demo
//! user in `auth_user` at start-up when no user of that name exists.
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

use middleware_builtin::auth::{InMemoryUserBackend, ModelBackend, User};
use middleware_builtin::db::{Database, DbError};

middleware_core::declare_settings! {
    /// The site's own setting.
    pub struct SiteSettings {
        /// not Django's, the example site's only: at start-up, create the user `demo` /
        /// `demo-password` in `auth_user` of the `default` database when no user has that
        /// name (the site's `settings.toml` sets it)
        EXAMPLE_SITE_DEMO_USER => demo_user: bool = false,
    }
}

/// The demo user's username.
pub const DEMO_USERNAME: &str = "demo";
/// The demo user's password (a development fixture, not a secret).
pub const DEMO_PASSWORD: &str = "demo-password";
/// `make_password("demo-password")` as Django 6.1.3 computed it (1,500,000 PBKDF2 iterations).
pub const DEMO_PASSWORD_HASH: &str =
    "pbkdf2_sha256$1500000$exampleSiteDemoSalt000$IYfAG+8G6QpP3n6b46/A6Cd/TKyA9KljapVKNSsVzOg=";

fn demo_user() -> User {
    let mut demo = User::new("1", DEMO_USERNAME, DEMO_PASSWORD_HASH);
    demo.email = "demo@example.com".to_owned();
    demo
}

/// A fresh store holding the demo user (id `1`).
pub fn demo_users() -> InMemoryUserBackend {
    let users = InMemoryUserBackend::new();
    users.insert(demo_user());
    users
}

/// Adds the demo user to `db`'s `auth_user` unless a user called `demo` exists (whatever its
/// password: a `changepassword demo` is kept). Whether it was added.
pub async fn ensure_demo_user(db: std::sync::Arc<Database>) -> Result<bool, DbError> {
    let users = ModelBackend::new(db);
    if users.user_by_username(DEMO_USERNAME).await?.is_some() {
        return Ok(false);
    }
    match users.insert_user(&demo_user()).await {
        Ok(_) => Ok(true),
        // Another instance added it meanwhile.
        Err(e) if e.is_unique_violation() => Ok(false),
        Err(e) => Err(e),
    }
}
