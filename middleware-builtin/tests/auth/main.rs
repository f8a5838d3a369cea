//! The auth middleware through real chains: Django's `tests/auth_tests/test_middleware.py`,
//! `test_remote_user.py`, `test_hashers.py` (PBKDF2 vectors made by Django 6.1.3) and bad input.
//! This file holds the shared chains and `AuthenticationMiddleware`'s tests; the modules below
//! hold the rest by topic.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use http::{Method, StatusCode};
use middleware_builtin::auth::hashers::{self, check_password, make_password_with};
use middleware_builtin::auth::{
    session_auth_hash, AuthBackends, AuthenticationMiddleware, InMemoryUserBackend,
    LoginNotRequired, LoginRequiredMiddleware, LoginRequiredOptions, RemoteUserMiddleware,
    RemoteUserOptions, User, BACKEND_SESSION_KEY, HASH_SESSION_KEY, MODEL_BACKEND,
    REMOTE_USER_BACKEND, SESSION_KEY,
};
use middleware_builtin::sessions::{SessionData, SessionExt, SIGNED_COOKIES_SALT};
use middleware_builtin::BuiltinOptions;
use middleware_core::response::text;
use middleware_core::test_client::{Client, TestResponse};
use middleware_core::{
    signing, Body, Chain, Error, Registry, Request, Response, Route, Router, Settings,
};
use serde_json::{json, Value};

#[path = "../support/auth_views.rs"]
mod auth_views;
use auth_views::{login_view, logout_view, me};

const SECRET: &str = "django-insecure-test-key-0123456789";
const FALLBACK: &str = "old-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz";
const SESSION: &str = "django.contrib.sessions.middleware.SessionMiddleware";
const AUTH: &str = "django.contrib.auth.middleware.AuthenticationMiddleware";
const LOGIN_REQUIRED: &str = "django.contrib.auth.middleware.LoginRequiredMiddleware";
const REMOTE: &str = "django.contrib.auth.middleware.RemoteUserMiddleware";
const PERSISTENT: &str = "django.contrib.auth.middleware.PersistentRemoteUserMiddleware";
const CSRF: &str = "django.middleware.csrf.CsrfViewMiddleware";

fn hashed(password: &str) -> String {
    // MD5 keeps the tests fast, as Django's own test settings do; with a full-entropy salt
    // and MD5 listed first, a login does not upgrade the hash. The Django vectors below cover
    // the real hashers.
    hashers::Hasher::Md5
        .encode(password, "testsalttestsalttestsa")
        .unwrap()
}

/// alice (1), bob (2), inactive carol (3), knownuser (5).
fn users() -> InMemoryUserBackend {
    let users = InMemoryUserBackend::new();
    users.insert(User::new("1", "alice", hashed("wonderland")));
    users.insert(User::new("2", "bob", hashed("builder")));
    let mut carol = User::new("3", "carol", hashed("pw"));
    carol.is_active = false;
    users.insert(carol);
    users.insert(User::new("5", "knownuser", hashed("pw")));
    users
}

async fn plain(_: &mut Request) -> Result<Response, Error> {
    Ok(text(StatusCode::OK, "plain"))
}

async fn set_data(req: &mut Request) -> Result<Response, Error> {
    req.session()?.set("cart", "3 apples").await;
    Ok(text(StatusCode::OK, "set"))
}

async fn get_data(req: &mut Request) -> Result<Response, Error> {
    let v = req.session()?.get("cart").await;
    Ok(text(
        StatusCode::OK,
        format!("cart={}", v.unwrap_or(Value::Null)),
    ))
}

fn router() -> Router {
    let mut r = Router::new();
    r.add(Route::new("me/", me).marker(LoginNotRequired))
        .unwrap();
    r.add(Route::new("plain/", plain).marker(LoginNotRequired))
        .unwrap();
    r.add(Route::new("login/", login_view).marker(LoginNotRequired))
        .unwrap();
    r.add(Route::new("logout/", logout_view).marker(LoginNotRequired))
        .unwrap();
    r.add(Route::new("set/", set_data).marker(LoginNotRequired))
        .unwrap();
    r.add(Route::new("get/", get_data).marker(LoginNotRequired))
        .unwrap();
    r.add(Route::new("public_view/", plain).marker(LoginNotRequired))
        .unwrap();
    r.add(Route::new("protected_view/", plain)).unwrap();
    r.add(Route::new("protected_me/", me)).unwrap();
    r.add(
        Route::new("login_required_decorator_view/", plain).marker(LoginRequiredOptions {
            login_url: Some("/custom_login/".into()),
            redirect_field_name: Some("step".into()),
        }),
    )
    .unwrap();
    r.add(
        Route::new("no_field_view/", plain).marker(LoginRequiredOptions {
            login_url: None,
            redirect_field_name: Some(String::new()),
        }),
    )
    .unwrap();
    r
}

fn settings(middleware: &[&str], extra: &str) -> Settings {
    let list: Vec<String> = middleware.iter().map(|m| format!("{m:?}")).collect();
    Settings::from_toml_str(
        &format!(
            "SECRET_KEY = {SECRET:?}\nSECRET_KEY_FALLBACKS = [{FALLBACK:?}]\n\
             ALLOWED_HOSTS = [\"testserver\"]\nMIDDLEWARE = [{}]\n{}\n{extra}",
            list.join(", "),
            // Only registries with the built-ins know the setting.
            if extra.contains("PASSWORD_HASHERS") || !middleware.contains(&AUTH) {
                ""
            } else {
                "PASSWORD_HASHERS = [\"django.contrib.auth.hashers.MD5PasswordHasher\"]"
            }
        ),
        "test.toml",
    )
    .unwrap()
}

fn registry_with(backends: AuthBackends) -> Registry {
    let mut registry = Registry::new();
    middleware_builtin::register_all_with(
        &mut registry,
        BuiltinOptions::default().auth_backends(backends),
    );
    registry
}

fn backends(users: &InMemoryUserBackend) -> AuthBackends {
    let b = AuthBackends::new();
    b.insert(MODEL_BACKEND, users.clone());
    b
}

fn client_with(backends: AuthBackends, middleware: &[&str], extra: &str) -> Client {
    let chain = Chain::builder(&registry_with(backends), &settings(middleware, extra))
        .urls(router())
        .build()
        .unwrap();
    Client::new(chain)
}

fn client(users: &InMemoryUserBackend) -> Client {
    client_with(backends(users), &[SESSION, AUTH], "")
}

/// A signed-cookie session holding `pairs`, as Django's `signed_cookies` engine writes it.
fn session_cookie(pairs: &[(&str, Value)]) -> String {
    let data: SessionData = pairs.iter().map(|(k, v)| (*k, v.clone())).collect();
    signing::dumps(&data, SECRET.as_bytes(), SIGNED_COOKIES_SALT, true).unwrap()
}

fn session_of(client: &Client) -> SessionData {
    let cookie = client.cookie("sessionid").expect("a session cookie");
    signing::loads(cookie, SECRET.as_bytes(), &[], SIGNED_COOKIES_SALT, None).unwrap()
}

fn alice_session(hash_secret: &str) -> String {
    session_cookie(&[
        (SESSION_KEY, json!("1")),
        (BACKEND_SESSION_KEY, json!(MODEL_BACKEND)),
        (
            HASH_SESSION_KEY,
            json!(session_auth_hash(
                &hashed("wonderland"),
                hash_secret.as_bytes()
            )),
        ),
    ])
}

fn deleted_session_cookie(r: &TestResponse) -> bool {
    r.set_cookie("sessionid")
        .is_some_and(|c| c.starts_with("sessionid=\"\";") && c.contains("Max-Age=0"))
}

async fn login(client: &mut Client, user: &str, password: &str) {
    let r = client.get(&format!("/login/?u={user}&p={password}")).await;
    assert_eq!(r.text(), format!("user={user}"));
}

// ---- TestAuthenticationMiddleware ----

// Django: tests/auth_tests/test_middleware.py::TestAuthenticationMiddleware::test_no_password_change_doesnt_invalidate_session
#[tokio::test]
async fn no_password_change_doesnt_invalidate_session() {
    let users = users();
    let mut c = client(&users);
    login(&mut c, "alice", "wonderland").await;
    assert_eq!(c.get("/me/").await.text(), "user=alice");
    assert_eq!(c.get("/me/").await.text(), "user=alice");
}

// Django: test_middleware.py::TestAuthenticationMiddleware::test_changed_password_invalidates_session
#[tokio::test]
async fn changed_password_invalidates_session() {
    let users = users();
    let mut c = client(&users);
    login(&mut c, "alice", "wonderland").await;
    let mut alice = users.user("1").unwrap();
    alice.password = hashed("new password");
    users.insert(alice);
    let r = c.get("/me/").await;
    assert_eq!(r.text(), "user=");
    // The session was flushed: its cookie is deleted.
    assert!(deleted_session_cookie(&r), "{:?}", r.set_cookies());
}

// Django: test_middleware.py::TestAuthenticationMiddleware::test_no_session (the runtime
// ImproperlyConfigured), and the start-up order check that normally prevents it.
#[tokio::test]
async fn no_session() {
    let users = users();
    let err = Chain::builder(&registry_with(backends(&users)), &settings(&[AUTH], ""))
        .urls(router())
        .build()
        .err()
        .unwrap_or_else(|| {
            panic!("AuthenticationMiddleware without SessionMiddleware must not build")
        });
    assert!(err.to_string().contains("SessionMiddleware"), "{err}");

    // Registered without the order requirement, the middleware still refuses at request time.
    let table = backends(&users);
    let mut registry = Registry::new();
    registry.register_ready_hooks("BareAuth", move |ctx| {
        AuthenticationMiddleware::new(ctx, &table)
    });
    assert_eq!(
        bare_status(&registry, "BareAuth").await,
        StatusCode::INTERNAL_SERVER_ERROR
    );
}

/// The status of `GET /plain/` through a chain of `middleware` alone, registered in `registry`
/// without its order requirement (the request-time `ImproperlyConfigured`).
async fn bare_status(registry: &Registry, middleware: &str) -> StatusCode {
    let chain = Chain::builder(registry, &settings(&[middleware], ""))
        .urls(router())
        .build()
        .unwrap();
    Client::new(chain).get("/plain/").await.status
}

// Django: test_middleware.py::TestAuthenticationMiddleware::test_auser_after_login /
// test_auser_after_logout (request.user follows login/logout within the request).
#[tokio::test]
async fn user_follows_login_and_logout_in_the_same_request() {
    let users = users();
    let mut c = client(&users);
    assert_eq!(
        c.get("/login/?u=alice&p=wonderland").await.text(),
        "user=alice"
    );
    assert_eq!(c.get("/logout/").await.text(), "user=");
    assert_eq!(c.get("/me/").await.text(), "user=");
}

// Django: tests/auth_tests/test_auth_backends.py::ModelBackendTest (wrong password, unknown
// user, inactive user) through authenticate().
#[tokio::test]
async fn bad_credentials_do_not_log_in() {
    let users = users();
    let mut c = client(&users);
    for q in [
        "u=alice&p=wrong",
        "u=nobody&p=x",
        "u=carol&p=pw",
        "u=&p=",
        "u=alice&p=",
    ] {
        assert_eq!(
            c.get(&format!("/login/?{q}")).await.text(),
            "bad credentials",
            "{q}"
        );
    }
    assert_eq!(c.get("/me/").await.text(), "user=");
}

// Django: session access makes the response vary on Cookie (SessionMiddleware); the user is
// loaded lazily, so a view that never asks for it leaves the session untouched.
#[tokio::test]
async fn user_is_loaded_lazily() {
    let users = users();
    let mut c = client(&users);
    login(&mut c, "alice", "wonderland").await;
    let r = c.get("/plain/").await;
    assert_eq!(r.header("vary"), None);
    let r = c.get("/me/").await;
    assert_eq!(r.header("vary"), Some("Cookie"));
}

// Django: tests/auth_tests/test_login.py::LoginTest::test_login_session_without_hash_session_key
// and test_views.py::LoginTest::test_session_key_flushed_on_login (data kept for the same
// anonymous session, flushed when another user logs in).
#[tokio::test]
async fn login_keeps_anonymous_data_but_not_another_users() {
    let users = users();
    let mut c = client(&users);
    c.get("/set/").await;
    login(&mut c, "alice", "wonderland").await;
    assert_eq!(c.get("/get/").await.text(), "cart=\"3 apples\"");
    let s = session_of(&c);
    assert_eq!(s.get(SESSION_KEY), Some(&json!("1")));
    assert_eq!(s.get(BACKEND_SESSION_KEY), Some(&json!(MODEL_BACKEND)));
    assert_eq!(
        s.get(HASH_SESSION_KEY),
        Some(&json!(session_auth_hash(
            &hashed("wonderland"),
            SECRET.as_bytes()
        )))
    );
    c.get("/set/").await;
    login(&mut c, "bob", "builder").await;
    assert_eq!(c.get("/get/").await.text(), "cart=null");
    assert_eq!(c.get("/me/").await.text(), "user=bob");
}

// Django: tests/csrf_tests (rotate_token on login): the CSRF cookie changes at login.
#[tokio::test]
async fn login_rotates_the_csrf_token() {
    let users = users();
    let mut c = client_with(backends(&users), &[SESSION, CSRF, AUTH], "");
    c.set_cookie("csrftoken", Some("a".repeat(32).as_str()));
    let r = c.get("/login/?u=alice&p=wonderland").await;
    let cookie = r
        .set_cookie("csrftoken")
        .expect("login sends a new CSRF cookie");
    assert!(!cookie.contains(&"a".repeat(32)), "{cookie}");
}

// Django: tests/auth_tests/test_basic.py / test_tokens-style SECRET_KEY_FALLBACKS:
// TestGetUser::test_get_user_fallback_secret — a session hashed with a fallback key logs in,
// and is moved to the current key.
#[tokio::test]
async fn fallback_secret_session_is_upgraded() {
    let users = users();
    let mut c = client(&users);
    c.set_cookie("sessionid", Some(&alice_session(FALLBACK)));
    let r = c.get("/me/").await;
    assert_eq!(r.text(), "user=alice");
    assert!(r.set_cookie("sessionid").is_some());
    let s = session_of(&c);
    assert_eq!(
        s.get(HASH_SESSION_KEY),
        Some(&json!(session_auth_hash(
            &hashed("wonderland"),
            SECRET.as_bytes()
        )))
    );
    assert_eq!(c.get("/me/").await.text(), "user=alice");
}

// Interop: a session written by Django (hash from tests/fixtures/django/auth.json) is
// accepted as it is.
#[tokio::test]
async fn django_session_auth_hash_is_accepted() {
    let fixtures = auth_fixtures();
    let entry = &fixtures["session_auth_hash"][0];
    assert_eq!(entry["secret"], SECRET);
    let password = entry["password"].as_str().unwrap();
    let users = InMemoryUserBackend::new();
    users.insert(User::new("7", "django_user", password));
    let mut c = client(&users);
    c.set_cookie(
        "sessionid",
        Some(&session_cookie(&[
            (SESSION_KEY, json!("7")),
            (BACKEND_SESSION_KEY, json!(MODEL_BACKEND)),
            (HASH_SESSION_KEY, entry["hexdigest"].clone()),
        ])),
    );
    assert_eq!(c.get("/me/").await.text(), "user=django_user");
}

// ---- bad input ----

// Forged `_auth_user_id` (no such user), a wrong or missing hash, values of the wrong type and
// unknown backends: always the anonymous user, never a 500.
#[tokio::test]
async fn forged_sessions_give_the_anonymous_user() {
    let users = users();
    let good_hash = json!(session_auth_hash(&hashed("wonderland"), SECRET.as_bytes()));
    type Case<'a> = (&'a str, Vec<(&'a str, Value)>, bool);
    let cases: Vec<Case<'_>> = vec![
        // (what, session, flushed)
        (
            "unknown id",
            vec![
                (SESSION_KEY, json!("999")),
                (BACKEND_SESSION_KEY, json!(MODEL_BACKEND)),
                (HASH_SESSION_KEY, good_hash.clone()),
            ],
            false,
        ),
        (
            "wrong hash",
            vec![
                (SESSION_KEY, json!("1")),
                (BACKEND_SESSION_KEY, json!(MODEL_BACKEND)),
                (HASH_SESSION_KEY, json!("0".repeat(64))),
            ],
            true,
        ),
        (
            "missing hash",
            vec![
                (SESSION_KEY, json!("1")),
                (BACKEND_SESSION_KEY, json!(MODEL_BACKEND)),
            ],
            true,
        ),
        (
            "hash of another user",
            vec![
                (SESSION_KEY, json!("2")),
                (BACKEND_SESSION_KEY, json!(MODEL_BACKEND)),
                (HASH_SESSION_KEY, good_hash.clone()),
            ],
            true,
        ),
        (
            "non-string hash",
            vec![
                (SESSION_KEY, json!("1")),
                (BACKEND_SESSION_KEY, json!(MODEL_BACKEND)),
                (HASH_SESSION_KEY, json!(12345)),
            ],
            true,
        ),
        (
            "unknown backend",
            vec![
                (SESSION_KEY, json!("1")),
                (BACKEND_SESSION_KEY, json!("evil.backends.Backdoor")),
                (HASH_SESSION_KEY, good_hash.clone()),
            ],
            false,
        ),
        (
            "missing backend",
            vec![
                (SESSION_KEY, json!("1")),
                (HASH_SESSION_KEY, good_hash.clone()),
            ],
            false,
        ),
        (
            "inactive user",
            vec![
                (SESSION_KEY, json!("3")),
                (BACKEND_SESSION_KEY, json!(MODEL_BACKEND)),
                (
                    HASH_SESSION_KEY,
                    json!(session_auth_hash(&hashed("pw"), SECRET.as_bytes())),
                ),
            ],
            false,
        ),
    ];
    for (what, pairs, flushed) in cases {
        let mut c = client(&users);
        c.set_cookie("sessionid", Some(&session_cookie(&pairs)));
        let r = c.get("/me/").await;
        assert_eq!(
            (r.status, r.text()),
            (StatusCode::OK, "user=".to_owned()),
            "{what}"
        );
        assert_eq!(
            deleted_session_cookie(&r),
            flushed,
            "{what}: {:?}",
            r.set_cookies()
        );
    }
    for garbage in [
        json!(null),
        json!(true),
        json!(1.5),
        json!([1]),
        json!({"id": "1"}),
        json!(""),
    ] {
        for key in [SESSION_KEY, BACKEND_SESSION_KEY] {
            let mut pairs = vec![
                (SESSION_KEY, json!("1")),
                (BACKEND_SESSION_KEY, json!(MODEL_BACKEND)),
                (HASH_SESSION_KEY, good_hash.clone()),
            ];
            pairs.retain(|(k, _)| *k != key);
            pairs.push((key, garbage.clone()));
            let mut c = client(&users);
            c.set_cookie("sessionid", Some(&session_cookie(&pairs)));
            let r = c.get("/protected_me/").await;
            assert_eq!(r.status, StatusCode::OK, "{key}={garbage}");
            assert_eq!(r.text(), "user=", "{key}={garbage}");
        }
    }
    // A tampered cookie is no session at all.
    let mut c = client(&users);
    c.set_cookie("sessionid", Some(&format!("{}x", alice_session(SECRET))));
    assert_eq!(c.get("/me/").await.text(), "user=");
}

// Django stores str(pk); an integer id (written by other code) still identifies the user.
#[tokio::test]
async fn integer_user_id_in_session_is_accepted() {
    let users = users();
    let mut c = client(&users);
    c.set_cookie(
        "sessionid",
        Some(&session_cookie(&[
            (SESSION_KEY, json!(1)),
            (BACKEND_SESSION_KEY, json!(MODEL_BACKEND)),
            (
                HASH_SESSION_KEY,
                json!(session_auth_hash(&hashed("wonderland"), SECRET.as_bytes())),
            ),
        ])),
    );
    assert_eq!(c.get("/me/").await.text(), "user=alice");
}

// A spoofed REMOTE_USER header means nothing without RemoteUserMiddleware.
#[tokio::test]
async fn spoofed_remote_user_header_without_the_middleware_is_ignored() {
    let users = users();
    let mut c = client(&users);
    for h in ["remote-user", "remote_user", "x-remote-user"] {
        let r = c
            .request(Method::GET, "/me/", &[(h, "alice")], Body::empty())
            .await;
        assert_eq!(r.text(), "user=", "{h}");
    }
}

#[test]
fn unknown_or_empty_backends_refuse_to_start() {
    let users = users();
    for (extra, needle) in [
        ("AUTHENTICATION_BACKENDS = [\"myapp.Nope\"]", "myapp.Nope"),
        ("AUTHENTICATION_BACKENDS = []", "No authentication backends"),
        // auth_tests.test_validators.PasswordValidationTest.test_get_password_validators_custom_invalid,
        // at start-up.
        (
            "AUTH_PASSWORD_VALIDATORS = [{ NAME = \"json.tool\" }]",
            "The module in NAME could not be imported: json.tool. Check your AUTH_PASSWORD_VALIDATORS setting.",
        ),
    ] {
        let err = Chain::builder(
            &registry_with(backends(&users)),
            &settings(&[SESSION, AUTH], extra),
        )
        .urls(router())
        .build()
        .err()
        .unwrap_or_else(|| panic!("must not build"));
        assert!(err.to_string().contains(needle), "{err}");
    }
    // The default AUTHENTICATION_BACKENDS names ModelBackend, which an empty table lacks.
    let err = Chain::builder(
        &registry_with(AuthBackends::new()),
        &settings(&[SESSION, AUTH], ""),
    )
    .urls(router())
    .build()
    .err()
    .unwrap_or_else(|| panic!("must not build"));
    assert!(err.to_string().contains(MODEL_BACKEND), "{err}");
}

// Django: test_auth_backends.py::SelectingBackendTests — with several backends, login() needs
// to know which one; authenticate() says which one answered.
#[tokio::test]
async fn several_backends() {
    let first = InMemoryUserBackend::new();
    first.insert(User::new("10", "zed", hashed("z")));
    let second = users();
    let table = AuthBackends::new();
    table.insert("myapp.First", first);
    table.insert(MODEL_BACKEND, second);
    let mut c = client_with(
        table,
        &[SESSION, AUTH],
        &format!("AUTHENTICATION_BACKENDS = [\"myapp.First\", {MODEL_BACKEND:?}]"),
    );
    login(&mut c, "alice", "wonderland").await;
    assert_eq!(
        session_of(&c).get(BACKEND_SESSION_KEY),
        Some(&json!(MODEL_BACKEND))
    );
    login(&mut c, "zed", "z").await;
    assert_eq!(
        session_of(&c).get(BACKEND_SESSION_KEY),
        Some(&json!("myapp.First"))
    );
}

fn auth_fixtures() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/django/auth.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

mod login_required;
mod password_hashes;
mod remote_user;
