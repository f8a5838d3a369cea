//! Nothing signs with an empty `SECRET_KEY`: every built-in that signs or verifies with it
//! (sessions, the logged-in user's session auth hash, cookie-stored messages) refuses to be
//! built, naming the setting and the fix, even with `DEBUG = true` (where the server itself
//! starts). Before this, a session forged with the empty key logged anyone in.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use middleware_builtin::auth::{AuthBackends, InMemoryUserBackend, MODEL_BACKEND};
use middleware_core::{Chain, Settings};

fn build(middleware: &[&str], extra: &str) -> Result<Chain, String> {
    let list: Vec<String> = middleware.iter().map(|m| format!("{m:?}")).collect();
    let toml = format!("DEBUG = true\nMIDDLEWARE = [{}]\n{extra}", list.join(", "));
    let settings = Settings::from_toml_str(&toml, "site.toml").unwrap();
    let backends = AuthBackends::new();
    backends.insert(MODEL_BACKEND, InMemoryUserBackend::new());
    let mut registry = middleware_core::Registry::new();
    middleware_builtin::register_all_with(
        &mut registry,
        middleware_builtin::BuiltinOptions::default().auth_backends(backends),
    );
    Chain::builder(&registry, &settings)
        .build()
        .map_err(|e| e.to_string())
}

const SESSION: &str = "django.contrib.sessions.middleware.SessionMiddleware";
const AUTH: &str = "django.contrib.auth.middleware.AuthenticationMiddleware";
const MESSAGES: &str = "django.contrib.messages.middleware.MessageMiddleware";

#[test]
fn middleware_that_sign_refuse_an_empty_secret_key() {
    for (stack, extra) in [
        (vec![SESSION], ""),
        (
            vec![SESSION],
            "SESSION_ENGINE = \"django.contrib.sessions.backends.cache\"",
        ),
        (vec![SESSION, AUTH], ""),
        (
            vec![MESSAGES],
            "MESSAGE_STORAGE = \"django.contrib.messages.storage.cookie.CookieStorage\"",
        ),
    ] {
        for key in ["", "SECRET_KEY = \"\""] {
            let err = build(&stack, &format!("{extra}\n{key}")).expect_err("must refuse");
            assert!(
                err.contains("The SECRET_KEY setting must not be empty"),
                "{stack:?}: {err}"
            );
            assert!(err.contains("Fix: set SECRET_KEY"), "{stack:?}: {err}");
        }
        build(&stack, &format!("{extra}\nSECRET_KEY = \"a-real-key\"")).unwrap();
    }
}

#[test]
fn middleware_that_do_not_sign_build_without_a_key_in_debug() {
    build(
        &[
            "django.middleware.security.SecurityMiddleware",
            "django.middleware.common.CommonMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
        ],
        "",
    )
    .unwrap();
}
