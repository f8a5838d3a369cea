//! Values produced by the real chain (SessionMiddleware with signed cookies, CsrfViewMiddleware
//! in cookie and session mode, MessageMiddleware with the cookie storage), for
//! `tests/fixtures/django/check_rust_wire.py` to verify with a live Django 6.1.3.
//!
//! Set `RUST_WIRE_OUT=/path.json` to write them (`scripts/django_crosscheck.sh` does); without
//! it the test still checks each value with this crate's own decoders. The other way round,
//! `DJANGO_WIRE_IN=/path.json` (written by `check_rust_wire.py` with Django's own functions)
//! makes `read_django_wire_values` feed Django's values through the chain.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use http::StatusCode;
use middleware_builtin::csrf::{self, does_token_match};
use middleware_builtin::messages::{self, decode_cookie, COOKIE_SALT};
use middleware_builtin::sessions::{SessionExt, SIGNED_COOKIES_SALT};
use middleware_core::response::text;
use middleware_core::signing::{self, get_cookie_signer};
use middleware_core::test_client::Client;
use middleware_core::{Chain, Error, Registry, Request, Response, Router, Settings};
use serde_json::{json, Value};

const SECRET_KEY: &str = "wire-interop-secret-key-0123456789-abcdefghijklmnop";
const CSRF_SECRET: &str = "hDAEYqL62pBum9BIy2ewA5s02KGvdiP4";

fn session_data() -> Value {
    json!({
        "_auth_user_id": "4217",
        "_auth_user_backend": "django.contrib.auth.backends.ModelBackend",
        "_auth_user_hash": "9f2c4e1a7b3d8c6e5f0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60",
        "cart": [{"price": "12.50", "qty": 1, "sku": "BOOK-0001"}],
        "unicode": "Zürich — ✓ 日本",
        "n": -7,
        "f": 2.5,
        "flag": true,
        "nothing": null
    })
}

fn messages_sent() -> Vec<(i32, &'static str, &'static str)> {
    vec![
        (messages::SUCCESS, "Saved.", ""),
        (
            messages::INFO,
            "Zürich: <b>5</b> items — ✓",
            "basket urgent",
        ),
        (
            messages::WARNING,
            "quote \" and backslash \\ and ; comma ,",
            "",
        ),
        (messages::ERROR, "error", "x"),
    ]
}

async fn session_view(req: &mut Request) -> Result<Response, Error> {
    let session = req.session()?;
    if let Value::Object(map) = session_data() {
        session.update(map).await;
    }
    Ok(text(StatusCode::OK, "ok"))
}

async fn token_view(req: &mut Request) -> Result<Response, Error> {
    Ok(text(StatusCode::OK, csrf::get_token(req)))
}

async fn dump_session_view(req: &mut Request) -> Result<Response, Error> {
    let items: serde_json::Map<String, Value> = req.session()?.items().await.into_iter().collect();
    Ok(text(StatusCode::OK, Value::Object(items).to_string()))
}

async fn post_view(_: &mut Request) -> Result<Response, Error> {
    Ok(text(StatusCode::OK, "accepted"))
}

async fn messages_view(req: &mut Request) -> Result<Response, Error> {
    for (level, text_, tags) in messages_sent() {
        messages::add_message(req, level, text_, tags)?;
    }
    Ok(text(StatusCode::OK, "ok"))
}

fn chain(extra: &str) -> Chain {
    let mut registry = Registry::new();
    middleware_builtin::register_all(&mut registry);
    let settings = Settings::from_toml_str(
        &format!(
            r#"
SECRET_KEY = "{SECRET_KEY}"
ALLOWED_HOSTS = ["testserver"]
MIDDLEWARE = ["SessionMiddleware", "CsrfViewMiddleware", "MessageMiddleware"]
MESSAGE_STORAGE = "django.contrib.messages.storage.cookie.CookieStorage"
{extra}
"#
        ),
        "wire.toml",
    )
    .unwrap();
    let mut router = Router::new();
    router
        .route("session/", session_view)
        .unwrap()
        .route("token/", token_view)
        .unwrap()
        .route("messages/", messages_view)
        .unwrap()
        .route("dump/", dump_session_view)
        .unwrap()
        .route("post/", post_view)
        .unwrap();
    Chain::builder(&registry, &settings)
        .urls(router)
        .build()
        .unwrap()
}

fn cookie_value(line: &str) -> String {
    let (_, rest) = line.split_once('=').unwrap();
    rest.split(';').next().unwrap().to_owned()
}

fn load_session(value: &str) -> Value {
    signing::loads(value, SECRET_KEY.as_bytes(), &[], SIGNED_COOKIES_SALT, None).unwrap()
}

#[tokio::test]
async fn write_rust_wire_values_for_django() {
    let mut out = Vec::new();

    // Signed-cookie sessions, as SessionMiddleware sends them.
    for _ in 0..3 {
        let mut client = Client::new(chain(""));
        let r = client.get("/session/").await;
        let value = cookie_value(r.set_cookie("sessionid").unwrap());
        assert!(value.starts_with('.'), "compressed");
        assert_eq!(load_session(&value), session_data());
        out.push(json!({"kind": "signed_cookies_session", "signed": value, "obj": session_data()}));
    }

    // CSRF tokens masked by get_token, for a known secret in the cookie.
    for _ in 0..5 {
        let mut client = Client::new(chain(""));
        client.set_cookie("csrftoken", Some(CSRF_SECRET));
        let token = client.get("/token/").await.text();
        assert!(does_token_match(&token, CSRF_SECRET));
        out.push(json!({"kind": "csrf_token", "token": token, "secret": CSRF_SECRET}));
    }

    // CSRF_USE_SESSIONS: the secret is in the session cookie Django would read.
    for _ in 0..3 {
        let mut client = Client::new(chain("CSRF_USE_SESSIONS = true"));
        let r = client.get("/token/").await;
        assert!(r.set_cookie("csrftoken").is_none());
        let session = cookie_value(r.set_cookie("sessionid").unwrap());
        let secret = load_session(&session)[csrf::CSRF_SESSION_KEY]
            .as_str()
            .unwrap()
            .to_owned();
        let token = r.text();
        assert!(does_token_match(&token, &secret));
        out.push(json!({"kind": "csrf_session", "token": token, "session": session}));
    }

    // The messages cookie, as CookieStorage writes it.
    let mut client = Client::new(chain(""));
    let r = client.get("/messages/").await;
    let cookie = cookie_value(r.set_cookie("messages").unwrap());
    let signer = get_cookie_signer(SECRET_KEY.as_bytes(), &[], COOKIE_SALT).unwrap();
    let (decoded, not_finished) = decode_cookie(&signer, &cookie).unwrap();
    assert!(!not_finished);
    let expected: Vec<Value> = messages_sent()
        .into_iter()
        .map(|(level, message, tags)| {
            json!({"level": level, "message": message, "extra_tags": tags, "is_safe": false})
        })
        .collect();
    let got: Vec<Value> = decoded
        .iter()
        .map(|m| {
            json!({"level": m.level, "message": m.message, "extra_tags": m.extra_tags, "is_safe": m.is_safe})
        })
        .collect();
    assert_eq!(got, expected);
    out.push(json!({"kind": "messages", "cookie": cookie, "messages": expected}));

    if let Some(path) = std::env::var_os("RUST_WIRE_OUT") {
        let doc = json!({"secret_key": SECRET_KEY, "values": out});
        std::fs::write(path, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    }
}

/// Values Django 6.1.3 produced live (`check_rust_wire.py` writes them), read by the chain.
#[tokio::test]
async fn read_django_wire_values() {
    let Some(path) = std::env::var_os("DJANGO_WIRE_IN") else {
        eprintln!("SKIP: DJANGO_WIRE_IN not set (scripts/django_crosscheck.sh sets it)");
        return;
    };
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(doc["secret_key"], SECRET_KEY);
    let values = doc["values"].as_array().unwrap();
    assert!(values.len() >= 4);
    let signer = get_cookie_signer(SECRET_KEY.as_bytes(), &[], COOKIE_SALT).unwrap();
    for entry in values {
        let s = |k: &str| entry[k].as_str().unwrap().to_owned();
        match entry["kind"].as_str().unwrap() {
            "signed_cookies_session" => {
                let mut client = Client::new(chain(""));
                client.set_cookie("sessionid", Some(&s("signed")));
                let got: Value = serde_json::from_str(&client.get("/dump/").await.text()).unwrap();
                assert_eq!(got, entry["obj"]);
            }
            "csrf_token" => {
                let mut client = Client::new(chain("")).enforce_csrf_checks(true);
                client.set_cookie("csrftoken", Some(&s("secret")));
                let r = client
                    .post_form("/post/", &[("csrfmiddlewaretoken", &s("token"))])
                    .await;
                assert_eq!(r.text(), "accepted");
            }
            "csrf_session" => {
                let mut client =
                    Client::new(chain("CSRF_USE_SESSIONS = true")).enforce_csrf_checks(true);
                client.set_cookie("sessionid", Some(&s("session")));
                let r = client
                    .post_form("/post/", &[("csrfmiddlewaretoken", &s("token"))])
                    .await;
                assert_eq!(r.text(), "accepted");
            }
            "messages" => {
                let (decoded, _) = decode_cookie(&signer, &s("cookie")).unwrap();
                let got: Vec<Value> = decoded
                    .iter()
                    .map(|m| {
                        json!({"level": m.level, "message": m.message, "extra_tags": m.extra_tags, "is_safe": m.is_safe})
                    })
                    .collect();
                assert_eq!(Value::from(got), entry["messages"]);
            }
            other => panic!("unknown kind {other}"),
        }
    }
    eprintln!(
        "{} Django-produced wire values read by the Rust chain",
        values.len()
    );
}
