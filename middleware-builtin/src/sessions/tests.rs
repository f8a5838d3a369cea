//! Tests mirroring Django's `tests/sessions_tests/tests.py`, plus interop fixtures and bad input.

use std::time::{Duration, SystemTime};

use http::StatusCode;
use middleware_core::response::text;
use middleware_core::test_client::Client;
use middleware_core::{Chain, Error, Registry, Request, RequestExt, Response, Router, Settings};
use serde_json::{json, Value};

use super::*;

const SECRET: &str = "django-insecure-test-key-0123456789";

fn settings(extra: &str) -> Settings {
    Settings::from_toml_str(
        &format!(
            "SECRET_KEY = \"{SECRET}\"\nALLOWED_HOSTS = [\"testserver\"]\nMIDDLEWARE = [\"SessionMiddleware\"]\n{extra}"
        ),
        "test.toml",
    )
    .unwrap()
}

async fn set_view(req: &mut Request) -> Result<Response, Error> {
    let s = req.session()?;
    for (k, v) in req.query().iter() {
        s.set(k, v.to_owned()).await;
    }
    Ok(text(StatusCode::OK, "ok"))
}

async fn get_view(req: &mut Request) -> Result<Response, Error> {
    let s = req.session()?;
    let k = req.query().get("k").unwrap_or("").to_owned();
    let v = s.get(&k).await;
    Ok(text(
        StatusCode::OK,
        format!("{}", v.unwrap_or(Value::Null)),
    ))
}

async fn flush_view(req: &mut Request) -> Result<Response, Error> {
    req.session()?.flush().await?;
    Ok(text(StatusCode::OK, "flushed"))
}

async fn cycle_view(req: &mut Request) -> Result<Response, Error> {
    req.session()?.cycle_key().await?;
    Ok(text(StatusCode::OK, "cycled"))
}

async fn fail_view(req: &mut Request) -> Result<Response, Error> {
    req.session()?.set("hello", "world").await;
    let status = req
        .query()
        .get("status")
        .unwrap_or("500")
        .parse()
        .unwrap_or(500);
    Ok(text(StatusCode::from_u16(status).unwrap(), "failed"))
}

async fn expiry_view(req: &mut Request) -> Result<Response, Error> {
    let s = req.session()?;
    let v: i64 = req.query().get("s").unwrap_or("0").parse().unwrap_or(0);
    s.set_expiry(Expiry::Seconds(v)).await;
    Ok(text(StatusCode::OK, "ok"))
}

async fn noop_view(_: &mut Request) -> Result<Response, Error> {
    Ok(text(StatusCode::OK, "noop"))
}

fn chain(extra: &str) -> Chain {
    let mut registry = Registry::new();
    crate::register_all(&mut registry);
    let mut router = Router::new();
    router
        .route("set/", set_view)
        .unwrap()
        .route("get/", get_view)
        .unwrap()
        .route("flush/", flush_view)
        .unwrap()
        .route("cycle/", cycle_view)
        .unwrap()
        .route("fail/", fail_view)
        .unwrap()
        .route("expiry/", expiry_view)
        .unwrap()
        .route("noop/", noop_view)
        .unwrap()
        .route("race/", race_view)
        .unwrap();
    Chain::builder(&registry, &settings(extra))
        .urls(router)
        .build()
        .unwrap()
}

fn client(extra: &str) -> Client {
    Client::new(chain(extra))
}

fn signed_cookie(data: &SessionData) -> String {
    signing::dumps(data, SECRET.as_bytes(), SIGNED_COOKIES_SALT, true).unwrap()
}

fn decode_cookie(value: &str) -> SessionData {
    signing::loads(value, SECRET.as_bytes(), &[], SIGNED_COOKIES_SALT, None).unwrap()
}

use middleware_core::signing;

// Django: tests/sessions_tests/tests.py::SessionMiddlewareTests::test_secure_session_cookie
#[tokio::test]
async fn secure_session_cookie() {
    let r = client("SESSION_COOKIE_SECURE = true")
        .get("/set/?a=1")
        .await;
    let line = r.set_cookie("sessionid").unwrap();
    assert!(line.contains("; Secure"), "{line}");
}

// Django: tests/sessions_tests/tests.py::SessionMiddlewareTests::test_httponly_session_cookie
#[tokio::test]
async fn httponly_session_cookie() {
    let r = client("").get("/set/?a=1").await;
    let line = r.set_cookie("sessionid").unwrap();
    assert!(line.contains("; HttpOnly"), "{line}");
    assert!(!line.contains("Secure"), "{line}");
    assert!(
        line.contains("; Max-Age=1209600; Path=/; SameSite=Lax"),
        "{line}"
    );
    assert!(line.contains("; expires="), "{line}");
    assert_eq!(r.header("vary"), Some("Cookie"));
}

// Django: tests/sessions_tests/tests.py::SessionMiddlewareTests::test_samesite_session_cookie
#[tokio::test]
async fn samesite_session_cookie() {
    let r = client("SESSION_COOKIE_SAMESITE = \"Strict\"")
        .get("/set/?a=1")
        .await;
    assert!(r
        .set_cookie("sessionid")
        .unwrap()
        .ends_with("SameSite=Strict"));
    let r = client("SESSION_COOKIE_SAMESITE = false")
        .get("/set/?a=1")
        .await;
    assert!(!r.set_cookie("sessionid").unwrap().contains("SameSite"));
}

// Django: tests/sessions_tests/tests.py::SessionMiddlewareTests::test_no_httponly_session_cookie
#[tokio::test]
async fn no_httponly_session_cookie() {
    let r = client("SESSION_COOKIE_HTTPONLY = false")
        .get("/set/?a=1")
        .await;
    assert!(!r.set_cookie("sessionid").unwrap().contains("HttpOnly"));
}

// Django: tests/sessions_tests/tests.py::SessionMiddlewareTests::test_session_save_on_500
#[tokio::test]
async fn session_not_saved_on_500() {
    let r = client("").get("/fail/?status=500").await;
    assert_eq!(r.status, 500);
    assert!(r.set_cookie("sessionid").is_none());
}

// Django: tests/sessions_tests/tests.py::SessionMiddlewareTests::test_session_save_on_5xx
#[tokio::test]
async fn session_not_saved_on_5xx() {
    let r = client("").get("/fail/?status=503").await;
    assert_eq!(r.status, 503);
    assert!(r.set_cookie("sessionid").is_none());
    let r = client("").get("/fail/?status=499").await;
    assert!(r.set_cookie("sessionid").is_some());
}

// Django: tests/sessions_tests/tests.py::SessionMiddlewareTests::test_session_delete_on_end
#[tokio::test]
async fn session_delete_on_end() {
    let mut c = client("");
    c.get("/set/?a=1").await;
    let r = c.get("/flush/").await;
    assert_eq!(
        r.set_cookie("sessionid").unwrap(),
        "sessionid=\"\"; expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/; SameSite=Lax"
    );
    assert_eq!(r.header("vary"), Some("Cookie"));
    assert!(c.cookie("sessionid").is_none());
}

// Django: tests/sessions_tests/tests.py::SessionMiddlewareTests::test_session_delete_on_end_with_custom_domain_and_path
#[tokio::test]
async fn session_delete_on_end_with_custom_domain_and_path() {
    let mut c =
        client("SESSION_COOKIE_DOMAIN = \".example.local\"\nSESSION_COOKIE_PATH = \"/example/\"");
    c.set_cookie(
        "sessionid",
        Some(&signed_cookie(&[("a", json!(1))].into_iter().collect())),
    );
    let r = c.get("/flush/").await;
    assert_eq!(
        r.set_cookie("sessionid").unwrap(),
        "sessionid=\"\"; Domain=.example.local; expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/example/; SameSite=Lax"
    );
}

// Django: tests/sessions_tests/tests.py::SessionMiddlewareTests::test_flush_empty_without_session_cookie_doesnt_set_cookie
#[tokio::test]
async fn flush_empty_without_cookie_sets_no_cookie() {
    let r = client("").get("/flush/").await;
    assert!(r.set_cookie("sessionid").is_none());
    assert_eq!(r.header("vary"), Some("Cookie"));
}

// Django: tests/sessions_tests/tests.py::SessionMiddlewareTests::test_session_save_on_every_request
// (test_save_every_request_with_non_empty_session_renews_session_cookie)
#[tokio::test]
async fn save_every_request_renews_cookie() {
    let mut c = client("SESSION_SAVE_EVERY_REQUEST = true");
    assert!(
        c.get("/noop/").await.set_cookie("sessionid").is_none(),
        "empty session: nothing"
    );
    c.get("/set/?a=1").await;
    let r = c.get("/noop/").await;
    assert!(r.set_cookie("sessionid").is_some());
    let mut c = client("");
    c.get("/set/?a=1").await;
    assert!(c.get("/noop/").await.set_cookie("sessionid").is_none());
}

// Django: tests/sessions_tests/tests.py::SessionMiddlewareTests::test_session_update_error_redirect
#[tokio::test]
async fn update_error_is_a_400() {
    let dir = std::env::temp_dir().join(format!("sess-update-{}", new_session_key()));
    std::fs::create_dir_all(&dir).unwrap();
    let extra = format!(
        "SESSION_ENGINE = \"{FILE_ENGINE}\"\nSESSION_FILE_PATH = \"{}\"",
        dir.display()
    );
    let mut c = client(&extra);
    c.get("/set/?a=1").await;
    let key = c.cookie("sessionid").unwrap().to_owned();
    // The session is loaded, then deleted (a logout elsewhere) before this request saves.
    let r = c.get(&format!("/race/?dir={}", dir.display())).await;
    assert_eq!(r.status, 400);
    assert!(r.set_cookie("sessionid").is_none());
    assert!(!dir.join(format!("sessionid{key}")).exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

async fn race_view(req: &mut Request) -> Result<Response, Error> {
    let s = req.session()?;
    s.set("c", 3).await;
    let dir = req.query().get("dir").unwrap_or("").to_owned();
    let key = s.session_key().unwrap_or_default();
    std::fs::remove_file(std::path::Path::new(&dir).join(format!("sessionid{key}")))?;
    Ok(text(StatusCode::OK, "ok"))
}

// Django: tests/sessions_tests/tests.py::SessionMiddlewareTests::test_empty_session_saved
#[tokio::test]
async fn emptied_session_with_cookie_is_deleted() {
    let mut c = client("");
    c.get("/set/?foo=bar").await;
    let cookie = c.cookie("sessionid").unwrap().to_owned();
    assert_eq!(decode_cookie(&cookie).get("foo"), Some(&json!("bar")));
    let r = c.get("/flush/").await;
    assert!(r.set_cookie("sessionid").unwrap().contains("Max-Age=0"));
}

// Conformance session-get-no-cookie: reading a session adds Vary: Cookie even without a cookie.
#[tokio::test]
async fn reading_adds_vary_without_cookie() {
    let r = client("").get("/get/?k=x").await;
    assert_eq!(r.text(), "null");
    assert_eq!(r.header("vary"), Some("Cookie"));
    assert!(r.set_cookie("sessionid").is_none());
    let r = client("").get("/noop/").await;
    assert_eq!(r.header("vary"), None, "not accessed: no Vary");
}

// Django: tests/sessions_tests/tests.py::CookieSessionTests (round trip through the middleware)
#[tokio::test]
async fn round_trip_and_reading_does_not_resend() {
    let mut c = client("");
    let r = c.get("/set/?k=v&other=w").await;
    let cookie = c.cookie("sessionid").unwrap().to_owned();
    assert!(r.set_cookie("sessionid").is_some());
    let data = decode_cookie(&cookie);
    assert_eq!(
        serde_json::to_string(&data).unwrap(),
        r#"{"k":"v","other":"w"}"#
    );
    let r = c.get("/get/?k=k").await;
    assert_eq!(r.text(), "\"v\"");
    assert!(r.set_cookie("sessionid").is_none());
}

// Conformance session-tampered; Django: CookieSessionTests::test_actual_expiry (fresh session)
#[tokio::test]
async fn tampered_cookie_becomes_fresh_empty_session() {
    let mut c = client("");
    c.get("/set/?k=v").await;
    let good = c.cookie("sessionid").unwrap().to_owned();
    let mut bad: Vec<char> = good.chars().collect();
    let last = bad.len() - 1;
    bad[last] = if bad[last] == 'A' { 'B' } else { 'A' };
    let bad: String = bad.into_iter().collect();
    let truncated = &good[..good.len() - 5];
    let (payload, rest) = good.split_once(':').unwrap();
    let reordered = format!("{rest}:{payload}");
    let wrong_salt =
        signing::dumps(&json!({"k": "v"}), SECRET.as_bytes(), "other.salt", true).unwrap();
    let wrong_key = signing::dumps(
        &json!({"k": "v"}),
        b"another-key",
        SIGNED_COOKIES_SALT,
        true,
    )
    .unwrap();
    let not_object =
        signing::dumps(&json!([1, 2]), SECRET.as_bytes(), SIGNED_COOKIES_SALT, true).unwrap();
    let huge = "a".repeat(10_000);
    for value in [
        bad.as_str(),
        truncated,
        reordered.as_str(),
        wrong_salt.as_str(),
        wrong_key.as_str(),
        not_object.as_str(),
        "!!!not-base64:::",
        huge.as_str(),
        "eyJrIjoidiJ9:aaaaaa:bm90LWEtc2lnbmF0dXJl",
    ] {
        c.set_cookie("sessionid", Some(value));
        let r = c.get("/get/?k=k").await;
        assert_eq!(r.status, 200, "{value:.40}");
        assert_eq!(r.text(), "null", "{value:.40}");
        let line = r.set_cookie("sessionid").expect("a fresh cookie");
        assert!(line.contains("Max-Age=1209600"), "{line}");
        let fresh = c.cookie("sessionid").unwrap().to_owned();
        assert!(decode_cookie(&fresh).is_empty(), "holds an empty session");
        assert_eq!(r.header("vary"), Some("Cookie"));
    }
}

// Django: tests/sessions_tests/tests.py::CookieSessionTests::test_actual_expiry
#[tokio::test]
async fn expired_cookie_is_an_empty_session() {
    let data: SessionData = [("k", json!("v"))].into_iter().collect();
    let old = SystemTime::now() - Duration::from_secs(100);
    let old_secs = old
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let value = signing::dumps_at(
        &data,
        SECRET.as_bytes(),
        SIGNED_COOKIES_SALT,
        true,
        old_secs,
    )
    .unwrap();
    let mut c = client("SESSION_COOKIE_AGE = 10");
    c.set_cookie("sessionid", Some(&value));
    assert_eq!(c.get("/get/?k=k").await.text(), "null");
    let mut c = client("SESSION_COOKIE_AGE = 1000");
    c.set_cookie("sessionid", Some(&value));
    assert_eq!(c.get("/get/?k=k").await.text(), "\"v\"");
}

// Django: SessionTestsMixin::test_invalid_key (keys shorter than 8 are ignored)
#[tokio::test]
async fn short_keys_are_ignored() {
    let mut c = client("");
    c.set_cookie("sessionid", Some("short"));
    let r = c.get("/get/?k=k").await;
    assert_eq!(r.text(), "null");
    // The request had a cookie and the session is empty: Django deletes it.
    assert!(r.set_cookie("sessionid").unwrap().contains("Max-Age=0"));
}

// Django: SessionTestsMixin::test_secret_key_fallbacks
#[tokio::test]
async fn secret_key_fallbacks_are_accepted() {
    let data: SessionData = [("k", json!("v"))].into_iter().collect();
    let value = signing::dumps(&data, b"old-key", SIGNED_COOKIES_SALT, true).unwrap();
    let mut c = client("SECRET_KEY_FALLBACKS = [\"old-key\"]");
    c.set_cookie("sessionid", Some(&value));
    assert_eq!(c.get("/get/?k=k").await.text(), "\"v\"");
}

// Django: SessionTestsMixin::test_flush / CookieSessionTests::test_cycle
#[tokio::test]
async fn cycle_key_keeps_data_with_new_cookie() {
    let mut c = client("");
    c.get("/set/?a=1").await;
    let before = c.cookie("sessionid").unwrap().to_owned();
    let r = c.get("/cycle/").await;
    assert!(r.set_cookie("sessionid").is_some());
    assert_eq!(
        decode_cookie(c.cookie("sessionid").unwrap()).get("a"),
        Some(&json!("1"))
    );
    assert_eq!(c.get("/get/?k=a").await.text(), "\"1\"");
    let _ = before;
}

// Django: SessionTestsMixin::test_custom_expiry_reset / test_session_get_decoded / browser close
#[tokio::test]
async fn set_expiry_controls_cookie_max_age() {
    let mut c = client("");
    let r = c.get("/expiry/?s=60").await;
    assert!(r.set_cookie("sessionid").unwrap().contains("Max-Age=60;"));
    let r = c.get("/expiry/?s=0").await;
    let line = r.set_cookie("sessionid").unwrap();
    assert!(
        !line.contains("Max-Age") && !line.contains("expires"),
        "{line}"
    );
    let mut c = client("SESSION_EXPIRE_AT_BROWSER_CLOSE = true");
    let line = c
        .get("/set/?a=1")
        .await
        .set_cookie("sessionid")
        .unwrap()
        .to_owned();
    assert!(!line.contains("Max-Age"), "{line}");
}

/// A session bound to nothing, for API tests.
fn bare(key: Option<&str>, engine: Engine) -> Session {
    Session::new(
        Arc::new(Backend {
            engine,
            secret: SECRET.as_bytes().to_vec(),
            fallbacks: vec![],
            cookie_age: 1_209_600,
            expire_at_browser_close: false,
        }),
        key.map(str::to_owned),
    )
}

// Django: SessionTestsMixin::test_new_session / test_get_empty / test_store / test_pop /
// test_pop_default / test_setdefault / test_update / test_has_key / test_keys / test_items / test_clear
#[tokio::test]
async fn mapping_api() {
    let s = bare(None, Engine::SignedCookies);
    assert!(!s.modified() && !s.accessed());
    assert!(s.is_empty());
    assert_eq!(s.get("cat").await, None);
    assert!(s.accessed() && !s.modified());
    s.set("cat", "dog").await;
    assert!(s.modified());
    assert!(s.contains("cat").await);
    assert_eq!(s.pop("cat").await, Some(json!("dog")));
    assert_eq!(s.pop("some key").await, None);
    s.set_modified(false);
    assert_eq!(s.pop("nope").await, None);
    assert!(!s.modified(), "popping a missing key does not modify");
    assert_eq!(s.setdefault("foo", "bar").await, json!("bar"));
    assert_eq!(s.setdefault("foo", "baz").await, json!("bar"));
    s.update([("x", json!(1)), ("a", json!(2))]).await;
    assert_eq!(s.keys().await, ["foo", "x", "a"]);
    assert_eq!(s.items().await[1], ("x".to_owned(), json!(1)));
    assert!(s.delete("x").await);
    assert!(!s.delete("x").await);
    s.clear();
    assert!(s.keys().await.is_empty());
    assert!(s.modified() && s.accessed());
}

// Django: SessionTestsMixin::test_default_expiry / test_custom_expiry_seconds /
// test_custom_expiry_timedelta / test_custom_expiry_datetime / test_get_expire_at_browser_close
#[tokio::test]
async fn expiry_api() {
    let s = bare(None, Engine::SignedCookies);
    assert_eq!(s.get_expiry_age().await, 1_209_600);
    s.set_expiry(Expiry::Seconds(10)).await;
    assert_eq!(s.get_expiry_age().await, 10);
    s.set_expiry(Expiry::In(Duration::from_secs(100))).await;
    let age = s.get_expiry_age().await;
    assert!((98..=100).contains(&age), "{age}");
    s.set_expiry(Expiry::At(SystemTime::now() + Duration::from_secs(50)))
        .await;
    let age = s.get_expiry_age().await;
    assert!((48..=50).contains(&age), "{age}");
    assert!(!s.get_expire_at_browser_close().await);
    s.set_expiry(Expiry::BrowserClose).await;
    assert!(s.get_expire_at_browser_close().await);
    s.set_expiry(Expiry::Default).await;
    assert!(!s.contains(EXPIRY_KEY).await);
    assert_eq!(s.get_expiry_age().await, 1_209_600);
}

// Django: SessionTestsMixin::test_session_key_is_read_only / test_session_key_valid_string_saved
#[tokio::test]
async fn new_keys_are_32_lowercase_alphanumerics() {
    for _ in 0..20 {
        let k = new_session_key();
        assert_eq!(k.len(), 32);
        assert!(k
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
    }
}

// Missing middleware: Django's AttributeError becomes a clear ImproperlyConfigured.
#[tokio::test]
async fn missing_middleware_names_it() {
    let req = http::Request::new(middleware_core::Body::empty());
    match session(&req) {
        Err(Error::ImproperlyConfigured(m)) => assert!(m.contains("SessionMiddleware"), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn unknown_engine_is_a_clear_startup_error() {
    let mut registry = Registry::new();
    crate::register_all(&mut registry);
    let err = Chain::builder(&registry, &settings("SESSION_ENGINE = \"nope\""))
        .urls(Router::new())
        .build()
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("nope") && err.contains("backends.db"), "{err}");
}

#[test]
fn deploy_checks() {
    let mut registry = Registry::new();
    crate::register_all(&mut registry);
    let ids = |extra: &str| -> Vec<String> {
        registry
            .run_checks(&settings(extra), true)
            .into_iter()
            .map(|m| m.id)
            .filter(|id| {
                ["W010", "W011", "W012", "W013", "W014", "W015"]
                    .iter()
                    .any(|w| id.ends_with(w))
            })
            .collect()
    };
    assert_eq!(ids(""), ["security.W012"]);
    assert_eq!(ids("SESSION_COOKIE_SECURE = true"), Vec::<String>::new());
    assert_eq!(
        ids("SESSION_COOKIE_SECURE = true\nSESSION_COOKIE_HTTPONLY = false"),
        ["security.W015"]
    );
    assert_eq!(ids("INSTALLED_APPS = []"), ["security.W011"]);
}

fn fixtures() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/django/signing.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Uncompressed values must be byte-identical; compressed ones carry zlib output, which differs
/// between zlib implementations, so they must decode to the same ordered data (and JSON bytes).
fn assert_same_session(ours: &str, django: &str, salt: &str, payload: &SessionData) {
    if django.starts_with('.') {
        assert!(ours.starts_with('.'), "compressed like Django's");
        let back: SessionData = signing::loads(ours, SECRET.as_bytes(), &[], salt, None).unwrap();
        assert_eq!(
            serde_json::to_string(&back).unwrap(),
            serde_json::to_string(payload).unwrap()
        );
        assert_eq!(
            back.keys().collect::<Vec<_>>(),
            payload.keys().collect::<Vec<_>>()
        );
    } else {
        assert_eq!(ours, django, "byte-identical in Django's key order");
    }
}

// Interop: Django-made signed_cookies values load; ours decode to the same objects and, at the
// same timestamp, are byte-identical.
#[tokio::test]
async fn django_signed_cookie_sessions_interoperate() {
    let f = fixtures();
    let secret = f["secret_key"].as_str().unwrap();
    assert_eq!(secret, SECRET);
    let ts = f["timestamp"].as_i64().unwrap();
    for case in f["signed_cookies_session"].as_array().unwrap() {
        let signed = case["signed"].as_str().unwrap();
        let obj: SessionData = serde_json::from_value(case["obj"].clone()).unwrap();
        let payload: SessionData =
            serde_json::from_str(case["payload_json"].as_str().unwrap()).unwrap();
        let ours =
            signing::dumps_at(&payload, secret.as_bytes(), SIGNED_COOKIES_SALT, true, ts).unwrap();
        assert_same_session(&ours, signed, SIGNED_COOKIES_SALT, &payload);
        // Through the middleware (no max_age problem: SESSION_COOKIE_AGE huge).
        let mut c = client("SESSION_COOKIE_AGE = 2000000000");
        c.set_cookie("sessionid", Some(signed));
        for (k, v) in obj.iter() {
            let r = c.get(&format!("/get/?k={k}")).await;
            assert_eq!(r.text(), v.to_string());
        }
    }
    for case in f["session_encode"].as_array().unwrap() {
        let payload: SessionData =
            serde_json::from_str(case["payload_json"].as_str().unwrap()).unwrap();
        let signed = case["signed"].as_str().unwrap();
        assert_eq!(decode(signed, secret.as_bytes(), &[]), payload);
        let ours =
            signing::dumps_at(&payload, secret.as_bytes(), SESSION_STORE_SALT, true, ts).unwrap();
        assert_same_session(&ours, signed, SESSION_STORE_SALT, &payload);
    }
}

// Django: FileSessionTests (round trip, key validation, atomic files)
#[tokio::test]
async fn file_engine_round_trip() {
    let dir = std::env::temp_dir().join(format!("sess-file-{}", new_session_key()));
    std::fs::create_dir_all(&dir).unwrap();
    let extra = format!(
        "SESSION_ENGINE = \"{FILE_ENGINE}\"\nSESSION_FILE_PATH = \"{}\"",
        dir.display()
    );
    let mut c = client(&extra);
    c.get("/set/?k=v").await;
    let key = c.cookie("sessionid").unwrap().to_owned();
    assert_eq!(key.len(), 32);
    let file = std::fs::read_to_string(dir.join(format!("sessionid{key}"))).unwrap();
    assert_eq!(
        decode(&file, SECRET.as_bytes(), &[]).get("k"),
        Some(&json!("v"))
    );
    assert_eq!(c.get("/get/?k=k").await.text(), "\"v\"");
    // Cycling moves the data to a new file and removes the old one.
    c.get("/cycle/").await;
    let new_key = c.cookie("sessionid").unwrap().to_owned();
    assert_ne!(new_key, key);
    assert!(!dir.join(format!("sessionid{key}")).exists());
    assert_eq!(c.get("/get/?k=k").await.text(), "\"v\"");
    // Path traversal and unknown keys: a fresh session, never a file outside the directory.
    c.set_cookie("sessionid", Some("../../../../etc/passwd"));
    let r = c.get("/get/?k=k").await;
    assert_eq!((r.status, r.text().as_str()), (StatusCode::OK, "null"));
    c.set_cookie("sessionid", Some("abcdefghijklmnop"));
    assert_eq!(c.get("/get/?k=k").await.text(), "null");
    // Flush removes the file.
    c.set_cookie("sessionid", Some(&new_key));
    c.get("/flush/").await;
    assert!(!dir.join(format!("sessionid{new_key}")).exists());
    let leftovers: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert!(leftovers.is_empty(), "no temporary files left behind");
    std::fs::remove_dir_all(&dir).unwrap();
}

// Django: CacheSessionTests (locmem): keys in the cache, load after save, expiry from age
#[tokio::test]
async fn cache_engine_round_trip() {
    let mut c = client(&format!(
        "SESSION_ENGINE = \"{CACHE_ENGINE}\"\n[CACHES.default]\nBACKEND = \"django.core.cache.backends.locmem.LocMemCache\""
    ));
    c.get("/set/?k=v").await;
    let key = c.cookie("sessionid").unwrap().to_owned();
    assert_eq!(key.len(), 32);
    assert_eq!(c.get("/get/?k=k").await.text(), "\"v\"");
    c.set_cookie("sessionid", Some("00000000000000000000000000000000"));
    let r = c.get("/get/?k=k").await;
    assert_eq!(r.text(), "null");
    assert!(
        r.set_cookie("sessionid").unwrap().contains("Max-Age=0"),
        "unknown key: cookie deleted"
    );
}

#[cfg(test)]
#[path = "redis_tests.rs"]
mod redis_tests;

#[cfg(feature = "sqlite")]
#[path = "db_tests.rs"]
mod db_tests;
