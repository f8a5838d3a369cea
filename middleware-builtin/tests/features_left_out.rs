//! A build without the `redis` or `pickle` feature refuses the settings that need them when the
//! chain is built, naming the setting and the feature: a configuration never falls back to
//! another backend in silence. `.ci/run` runs this with `--no-default-features`; with the default
//! features it has nothing to check.
#![cfg(not(all(feature = "redis", feature = "pickle")))]
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use middleware_core::{Chain, Registry, Settings};

fn build_error(toml: &str) -> String {
    let settings = Settings::from_toml_str(toml, "settings.toml").unwrap();
    let mut registry = Registry::new();
    middleware_builtin::register_all(&mut registry);
    let err = Chain::builder(&registry, &settings)
        .build()
        .expect_err("the chain must not build");
    err.to_string()
}

#[cfg(not(feature = "redis"))]
#[test]
fn redis_cache_backend_is_refused_naming_the_feature() {
    let message = build_error(
        r#"
        MIDDLEWARE = ["django.middleware.cache.CacheMiddleware"]
        [CACHES.default]
        BACKEND = "django.core.cache.backends.redis.RedisCache"
        LOCATION = "redis://127.0.0.1:6379/0"
        "#,
    );
    assert!(message.contains("CACHES"), "{message}");
    assert!(message.contains("RedisCache"), "{message}");
    assert!(message.contains("`redis` feature"), "{message}");
}

#[cfg(not(feature = "pickle"))]
#[test]
fn cache_session_engine_is_refused_naming_the_feature() {
    let message = build_error(
        r#"
        SECRET_KEY = "a-long-enough-secret-key-for-the-session-middleware-tests"
        MIDDLEWARE = ["django.contrib.sessions.middleware.SessionMiddleware"]
        SESSION_ENGINE = "django.contrib.sessions.backends.cache"
        "#,
    );
    assert!(message.contains("SESSION_ENGINE"), "{message}");
    assert!(
        message.contains("django.contrib.sessions.backends.cache"),
        "{message}"
    );
    assert!(message.contains("`pickle` feature"), "{message}");
}
