//! Unit tests of the session-loading rules (the chain-level tests are in `tests/auth.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::json;

use super::*;

#[test]
fn session_user_ids() {
    assert_eq!(session_user_id(json!("42")), Some("42".to_owned()));
    assert_eq!(session_user_id(json!(42)), Some("42".to_owned()));
    assert_eq!(session_user_id(json!(-1)), Some("-1".to_owned()));
    for bad in [
        json!(1.5),
        json!(null),
        json!(true),
        json!([1]),
        json!({"a": 1}),
    ] {
        assert_eq!(session_user_id(bad.clone()), None, "{bad}");
    }
}

fn settings(extra: &str) -> Settings {
    Settings::from_toml_str(
        &format!("SECRET_KEY = \"k-0123456789-0123456789-0123456789-0123456789\"\n{extra}"),
        "t.toml",
    )
    .unwrap()
}

#[test]
fn config_defaults_and_debug_hides_secrets() {
    let table = AuthBackends::new();
    table.insert(MODEL_BACKEND, InMemoryUserBackend::new());
    let config = AuthConfig::from_settings(&settings(""), &table).unwrap();
    assert_eq!(config.login_url, "/accounts/login/");
    assert_eq!(config.login_redirect_url, "/accounts/profile/");
    assert_eq!(config.logout_redirect_url, None);
    assert_eq!(config.backend_names().collect::<Vec<_>>(), [MODEL_BACKEND]);
    assert!(!format!("{config:?}").contains("0123456789"));
    let config = AuthConfig::from_settings(
        &settings("LOGIN_REDIRECT_URL = \"/home/\"\nLOGOUT_REDIRECT_URL = \"/bye/\""),
        &table,
    )
    .unwrap();
    assert_eq!(config.login_redirect_url, "/home/");
    assert_eq!(config.logout_redirect_url.as_deref(), Some("/bye/"));
}

#[test]
fn bad_backend_settings() {
    let table = AuthBackends::new();
    for extra in [
        "AUTHENTICATION_BACKENDS = \"django.contrib.auth.backends.ModelBackend\"",
        "AUTHENTICATION_BACKENDS = [1]",
        "AUTHENTICATION_BACKENDS = []",
        "",
    ] {
        let err = AuthConfig::from_settings(&settings(extra), &table).unwrap_err();
        assert!(
            err.to_string().contains("AUTHENTICATION_BACKENDS"),
            "{extra}: {err}"
        );
    }
}

// The chain's validators answer auth::validate_password (Django's validate_password(password,
// user) with settings.AUTH_PASSWORD_VALIDATORS).
#[tokio::test]
async fn validate_password_uses_the_chains_validators() {
    let table = AuthBackends::new();
    table.insert(MODEL_BACKEND, InMemoryUserBackend::new());
    let config = AuthConfig::from_settings(
        &settings(
            "AUTH_PASSWORD_VALIDATORS = [{ NAME = \"django.contrib.auth.password_validation.UserAttributeSimilarityValidator\" }, \
             { NAME = \"django.contrib.auth.password_validation.NumericPasswordValidator\" }]",
        ),
        &table,
    )
    .unwrap();
    let mut request = http::Request::new(middleware_core::Body::empty());
    request.extensions_mut().insert(AuthState {
        config: Arc::new(config),
        user: None,
        perms: permissions::PermCache::default(),
    });
    let alice = User::new("1", "alice", "!");
    let refused = validate_password(&request, "alice", Some(&alice)).unwrap();
    assert_eq!(
        refused.unwrap_err().messages(),
        ["The password is too similar to the username."]
    );
    let refused = validate_password(&request, "12345", None).unwrap();
    assert_eq!(
        refused.unwrap_err().messages(),
        ["This password is entirely numeric."]
    );
    assert_eq!(validate_password(&request, "alice", None).unwrap(), Ok(()));
    // Without AuthenticationMiddleware: ImproperlyConfigured.
    let bare = http::Request::new(middleware_core::Body::empty());
    assert!(validate_password(&bare, "x", None).is_err());
}
