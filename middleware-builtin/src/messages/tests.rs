//! Tests mirroring Django's `tests/messages_tests`, interop fixtures and bad input.

use http::StatusCode;
use middleware_core::response::text;
use middleware_core::signing::TimestampSigner;
use middleware_core::test_client::Client;
use middleware_core::{Chain, Registry, RequestExt, Router, Settings};
use serde_json::{json, Value};

use super::*;
use crate::sessions::SessionExt;

const SECRET: &str = "django-insecure-test-key-0123456789";

fn settings(middleware: &str, extra: &str) -> Settings {
    Settings::from_toml_str(
        &format!(
            "SECRET_KEY = \"{SECRET}\"\nALLOWED_HOSTS = [\"testserver\"]\nMIDDLEWARE = [{middleware}]\n{extra}"
        ),
        "test.toml",
    )
    .unwrap()
}

async fn add_view(req: &mut Request) -> Result<Response, Error> {
    let q = req.query();
    let level: i32 = q.get("level").unwrap_or("20").parse().unwrap_or(20);
    for t in q.get_list("text") {
        add_message(req, level, t, q.get("tags").unwrap_or(""))?;
    }
    Ok(text(StatusCode::OK, "added"))
}

async fn show_view(req: &mut Request) -> Result<Response, Error> {
    let messages = get_messages(req).await;
    let lines: Vec<String> = messages
        .iter()
        .map(|m| format!("{}|{}", m.tags(), m.message))
        .collect();
    Ok(text(StatusCode::OK, lines.join("\n")))
}

async fn add_and_show_view(req: &mut Request) -> Result<Response, Error> {
    info(req, "fresh")?;
    show_view(req).await
}

async fn noop_view(_: &mut Request) -> Result<Response, Error> {
    Ok(text(StatusCode::OK, "noop"))
}

async fn count_view(req: &mut Request) -> Result<Response, Error> {
    let n = storage(req).unwrap().len().await;
    Ok(text(StatusCode::OK, n.to_string()))
}

fn chain_with(middleware: &str, extra: &str) -> Result<Chain, middleware_core::BuildError> {
    let mut registry = Registry::new();
    crate::register_all(&mut registry);
    let mut router = Router::new();
    router
        .route("add/", add_view)
        .unwrap()
        .route("show/", show_view)
        .unwrap()
        .route("add-show/", add_and_show_view)
        .unwrap()
        .route("noop/", noop_view)
        .unwrap()
        .route("count/", count_view)
        .unwrap();
    Chain::builder(&registry, &settings(middleware, extra))
        .urls(router)
        .build()
}

const BOTH: &str = "\"SessionMiddleware\", \"MessageMiddleware\"";

fn client(storage: &str, extra: &str) -> Client {
    Client::new(chain_with(BOTH, &format!("MESSAGE_STORAGE = \"{storage}\"\n{extra}")).unwrap())
}

fn signer() -> TimestampSigner {
    get_cookie_signer(SECRET.as_bytes(), &[], COOKIE_SALT).unwrap()
}

fn cookie_payload(value: &str) -> Value {
    signer().unsign_object(value, None).unwrap()
}

fn make_cookie(messages: &[Message], not_finished: bool) -> String {
    signer()
        .sign_object(&storage::encode_list(messages, not_finished), true)
        .unwrap()
}

// Django: tests/messages_tests/base.py::BaseTests::test_full_request_response_cycle
// (and conformance messages-roundtrip / messages-shown-once)
#[tokio::test]
async fn full_request_response_cycle_cookie() {
    let mut c = client(COOKIE_STORAGE, "");
    let r = c.get("/add/?text=one&text=two").await;
    let line = r.set_cookie("messages").unwrap().to_owned();
    assert!(line.ends_with("; HttpOnly; Path=/; SameSite=Lax"), "{line}");
    assert!(
        !line.contains("Max-Age") && !line.contains("expires"),
        "session cookie: {line}"
    );
    assert_eq!(
        cookie_payload(c.cookie("messages").unwrap()),
        json!([
            ["__json_message", 0, 20, "one", ""],
            ["__json_message", 0, 20, "two", ""]
        ])
    );
    let r = c.get("/show/").await;
    assert_eq!(r.text(), "info|one\ninfo|two");
    assert_eq!(
        r.set_cookie("messages").unwrap(),
        "messages=\"\"; expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/; SameSite=Lax"
    );
    assert_eq!(c.get("/show/").await.text(), "");
}

// Django: BaseTests::test_no_update / test_existing_read (not iterated: cookie untouched)
#[tokio::test]
async fn untouched_storage_writes_nothing() {
    let mut c = client(COOKIE_STORAGE, "");
    c.get("/add/?text=keep").await;
    let r = c.get("/noop/").await;
    assert!(r.set_cookie("messages").is_none());
    let r = c.get("/count/").await;
    assert_eq!(r.text(), "1");
    assert!(
        r.set_cookie("messages").is_none(),
        "len() does not mark used"
    );
    assert_eq!(c.get("/show/").await.text(), "info|keep");
}

// Django: BaseTests::test_existing_add (added to existing, not read: both stored)
#[tokio::test]
async fn adding_keeps_existing_messages() {
    let mut c = client(COOKIE_STORAGE, "");
    c.get("/add/?text=first").await;
    c.get("/add/?text=second").await;
    assert_eq!(c.get("/show/").await.text(), "info|first\ninfo|second");
}

// Django: BaseTests::test_existing_read_add_update (read then add: only the new one stored)
#[tokio::test]
async fn read_then_add_stores_only_new() {
    let mut c = client(COOKIE_STORAGE, "");
    c.get("/add/?text=old").await;
    let r = c.get("/add-show/").await;
    assert_eq!(r.text(), "info|old\ninfo|fresh");
    // Iterated after adding: everything was shown, the cookie goes.
    assert!(r.set_cookie("messages").unwrap().contains("Max-Age=0"));
}

// Django: BaseTests::test_middleware_disabled / test_middleware_disabled_fail_silently
#[tokio::test]
async fn missing_middleware() {
    let mut c = Client::new(chain_with("\"SessionMiddleware\"", "").unwrap());
    let r = c.get("/add/?text=x").await;
    assert_eq!(r.status, 500);
    assert_eq!(
        c.get("/show/").await.text(),
        "",
        "get_messages is empty without it"
    );
}

// Django: BaseTests::test_default_level / test_low_level / test_high_level / test_settings_level
#[tokio::test]
async fn levels() {
    let mut c = client(COOKIE_STORAGE, "");
    c.get("/add/?text=dbg&level=10").await;
    c.get("/add/?text=warn&level=30").await;
    assert_eq!(c.get("/show/").await.text(), "warning|warn");
    let mut c = client(COOKIE_STORAGE, "MESSAGE_LEVEL = 5");
    c.get("/add/?text=dbg&level=10").await;
    c.get("/add/?text=low&level=5").await;
    assert_eq!(c.get("/show/").await.text(), "debug|dbg\n|low");
    let mut c = client(COOKIE_STORAGE, "MESSAGE_LEVEL = 30");
    c.get("/add/?text=info&level=20").await;
    assert_eq!(c.get("/show/").await.text(), "");
}

// Django: BaseTests::test_tags / test_level_tag / test_custom_tags
#[tokio::test]
async fn tags() {
    let mut c = client(
        COOKIE_STORAGE,
        "MESSAGE_LEVEL = 10\n[MESSAGE_TAGS]\n40 = \"bad\"\n12 = \"custom\"",
    );
    c.get("/add/?text=e&level=40&tags=extra").await;
    c.get("/add/?text=c&level=12").await;
    c.get("/add/?text=s&level=25").await;
    assert_eq!(
        c.get("/show/").await.text(),
        "extra bad|e\ncustom|c\nsuccess|s"
    );
}

// Django: BaseTests::test_add (empty messages are ignored)
#[tokio::test]
async fn empty_message_is_ignored() {
    let mut c = client(COOKIE_STORAGE, "");
    let r = c.get("/add/?text=").await;
    assert!(r.set_cookie("messages").is_none());
}

// Django: tests/messages_tests/test_cookie.py::CookieTests::test_cookie_settings
#[tokio::test]
async fn cookie_settings() {
    let extra = "SESSION_COOKIE_DOMAIN = \".example.com\"\nSESSION_COOKIE_SECURE = true\nSESSION_COOKIE_HTTPONLY = true\nSESSION_COOKIE_SAMESITE = \"Strict\"";
    let mut c = client(COOKIE_STORAGE, extra);
    let r = c.get("/add/?text=x").await;
    let line = r.set_cookie("messages").unwrap();
    assert!(
        line.contains("; Domain=.example.com; HttpOnly; Path=/; SameSite=Strict; Secure"),
        "{line}"
    );
    let r = c.get("/show/").await;
    assert_eq!(
        r.set_cookie("messages").unwrap(),
        "messages=\"\"; Domain=.example.com; expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/; SameSite=Strict"
    );
}

// Django: CookieTests::test_get_bad_cookie (and conformance messages-tampered)
#[tokio::test]
async fn bad_cookies_give_no_messages_and_are_deleted() {
    let good = make_cookie(&[Message::new(20, "secret", Some(String::new()))], false);
    let mut tampered = good.clone();
    tampered.insert(3, 'x');
    let wrong_salt = get_cookie_signer(SECRET.as_bytes(), &[], "other")
        .unwrap()
        .sign_object(&json!([["__json_message", 0, 20, "x"]]), false)
        .unwrap();
    let not_messages = signer().sign_object(&json!({"a": 1}), false).unwrap();
    let bad_shape = signer()
        .sign_object(&json!([["__json_message", "x"]]), false)
        .unwrap();
    let huge = "A".repeat(8192);
    for value in [
        tampered.as_str(),
        &good[..good.len() - 3],
        wrong_salt.as_str(),
        not_messages.as_str(),
        bad_shape.as_str(),
        "garbage",
        "!!:!!:!!",
        huge.as_str(),
    ] {
        let mut c = client(COOKIE_STORAGE, "");
        c.set_cookie("messages", Some(value));
        let r = c.get("/show/").await;
        assert_eq!(
            (r.status, r.text().as_str()),
            (StatusCode::OK, ""),
            "{value:.30}"
        );
        assert!(
            r.set_cookie("messages").unwrap().contains("Max-Age=0"),
            "deleted"
        );
    }
}

// Django: CookieTests::test_max_cookie_length (oldest dropped, sentinel appended)
#[tokio::test]
async fn max_cookie_length_drops_oldest() {
    let mut c = client(COOKIE_STORAGE, "");
    // Random-ish text does not compress, so five 900-byte messages cannot all fit.
    let texts: Vec<String> = (0..5)
        .map(|i| {
            middleware_core::crypto::get_random_string(
                900,
                middleware_core::crypto::RANDOM_STRING_CHARS,
            ) + &i.to_string()
        })
        .collect();
    let q: Vec<String> = texts.iter().map(|t| format!("text={t}")).collect();
    let r = c.get(&format!("/add/?{}", q.join("&"))).await;
    let value = c.cookie("messages").unwrap().to_owned();
    assert!(value.len() <= MAX_COOKIE_SIZE, "{}", value.len());
    assert!(r.set_cookie("messages").is_some());
    let payload = cookie_payload(&value);
    let items = payload.as_array().unwrap();
    assert_eq!(items.last().unwrap(), &json!(NOT_FINISHED));
    let kept: Vec<&str> = items[..items.len() - 1]
        .iter()
        .map(|m| m[3].as_str().unwrap())
        .collect();
    assert_eq!(kept.last().copied(), Some(texts[4].as_str()), "newest kept");
    assert!(!kept.contains(&texts[0].as_str()), "oldest dropped");
}

// Django: CookieTests::test_json_encoder_decoder / test_safedata / test_extra_tags
#[test]
fn encoder_round_trip() {
    let mut safe = Message::new(30, "<b>safe</b>", Some(String::new()));
    safe.is_safe = true;
    let messages = vec![
        Message::new(20, "no tags", None),
        Message::new(40, "Jürgen \u{1F600}", Some("a b".into())),
        safe,
    ];
    let v = storage::encode_list(&messages, true);
    let back = storage::decode_list(&v).unwrap();
    assert_eq!(back.len(), 4);
    assert_eq!(back[3], storage::Item::NotFinished);
    for (i, m) in messages.iter().enumerate() {
        assert_eq!(back[i], storage::Item::Message(m.clone()));
    }
    // Python's default separators for the session storage.
    assert_eq!(
        storage::python_json(&storage::encode_list(&messages[..1], false)),
        "[[\"__json_message\", 0, 20, \"no tags\"]]"
    );
}

fn fixtures() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/django/signing.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

// Interop: Django-made messages cookies decode to the same messages, and ours decode in
// Django's format (byte-identical payload JSON; identical cookies when uncompressed).
#[tokio::test]
async fn django_messages_cookies_interoperate() {
    let f = fixtures();
    let ts = f["timestamp"].as_i64().unwrap();
    for case in f["messages"].as_array().unwrap() {
        let cookie = case["cookie"].as_str().unwrap();
        let expected: Vec<Message> = case["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| Message {
                level: m["level"].as_i64().unwrap() as i32,
                message: m["message"].as_str().unwrap().to_owned(),
                extra_tags: m["extra_tags"].as_str().map(str::to_owned),
                is_safe: m["is_safe"].as_bool().unwrap(),
                level_tag: String::new(),
            })
            .collect();
        let mut c = client(COOKIE_STORAGE, "");
        c.set_cookie("messages", Some(cookie));
        let shown = c.get("/show/").await.text();
        assert_eq!(shown.lines().count(), expected.len());
        for (line, m) in shown.lines().zip(&expected) {
            assert!(line.ends_with(&format!("|{}", m.message)), "{line}");
        }
        let ours_json =
            middleware_core::signing::json_dumps(&storage::encode_list(&expected, false)).unwrap();
        assert_eq!(ours_json, case["payload_json"].as_str().unwrap());
        let ours = signer()
            .sign_object_at(&storage::encode_list(&expected, false), true, ts)
            .unwrap();
        if case["compressed"].as_bool().unwrap() {
            assert!(ours.starts_with('.'));
            assert_eq!(cookie_payload(&ours), cookie_payload(cookie));
        } else {
            assert_eq!(ours, cookie);
        }
    }
}

// Django: tests/messages_tests/test_session.py::SessionTests::test_get / test_no_session
#[tokio::test]
async fn session_storage() {
    let mut c = client(SESSION_STORAGE, "");
    let r = c.get("/add/?text=in%20session").await;
    assert!(r.set_cookie("messages").is_none());
    assert!(r.set_cookie("sessionid").is_some());
    assert_eq!(c.get("/show/").await.text(), "info|in session");
    assert_eq!(c.get("/show/").await.text(), "");
    // Without SessionMiddleware before it: refused at start-up (Django: ImproperlyConfigured).
    let err = chain_with(
        "\"MessageMiddleware\"",
        &format!("MESSAGE_STORAGE = \"{SESSION_STORAGE}\""),
    );
    assert!(err.is_err());
    // The cookie storage needs no session.
    assert!(chain_with(
        "\"MessageMiddleware\"",
        &format!("MESSAGE_STORAGE = \"{COOKIE_STORAGE}\"")
    )
    .is_ok());
}

async fn session_messages(req: &mut Request) -> Result<Response, Error> {
    let v = req.session()?.get(SESSION_KEY).await;
    Ok(text(
        StatusCode::OK,
        v.map(|v| v.to_string()).unwrap_or_default(),
    ))
}

// Django: tests/messages_tests/test_fallback.py::FallbackTests::test_session_fallback /
// test_get_fallback / test_flush_used_backends
#[tokio::test]
async fn fallback_overflows_into_session() {
    let mut c = client(FALLBACK_STORAGE, "");
    let texts: Vec<String> = (0..5)
        .map(|i| {
            middleware_core::crypto::get_random_string(
                900,
                middleware_core::crypto::RANDOM_STRING_CHARS,
            ) + &i.to_string()
        })
        .collect();
    let q: Vec<String> = texts.iter().map(|t| format!("text={t}")).collect();
    c.get(&format!("/add/?{}", q.join("&"))).await;
    let payload = cookie_payload(c.cookie("messages").unwrap());
    let items = payload.as_array().unwrap();
    assert_eq!(items.last().unwrap(), &json!(NOT_FINISHED));
    assert_eq!(
        items[0][3],
        json!(texts[0]),
        "the fallback keeps the oldest in the cookie"
    );
    assert!(
        c.cookie("sessionid").is_some(),
        "the rest went to the session"
    );
    let shown = c.get("/show/").await.text();
    let got: Vec<&str> = shown
        .lines()
        .map(|l| l.trim_start_matches("info|"))
        .collect();
    assert_eq!(
        got,
        texts.iter().map(String::as_str).collect::<Vec<_>>(),
        "in order, none lost"
    );
    assert_eq!(c.get("/show/").await.text(), "");
}

// Django: FallbackTests::test_get (cookie only) and the session JSON format
#[tokio::test]
async fn fallback_small_messages_stay_in_cookie() {
    let mut c = client(FALLBACK_STORAGE, "");
    let r = c.get("/add/?text=small").await;
    assert!(r.set_cookie("messages").is_some());
    assert!(r.set_cookie("sessionid").is_none());
    assert_eq!(c.get("/show/").await.text(), "info|small");
}

// Django: SessionTests: the session holds Python's json.dumps of the list
#[tokio::test]
async fn session_storage_format() {
    let mut registry = Registry::new();
    crate::register_all(&mut registry);
    let mut router = Router::new();
    router
        .route("add/", add_view)
        .unwrap()
        .route("raw/", session_messages)
        .unwrap();
    let chain = Chain::builder(
        &registry,
        &settings(BOTH, &format!("MESSAGE_STORAGE = \"{SESSION_STORAGE}\"")),
    )
    .urls(router)
    .build()
    .unwrap();
    let mut c = Client::new(chain);
    c.get("/add/?text=h%C3%A9").await;
    assert_eq!(
        c.get("/raw/").await.text(),
        serde_json::to_string("[[\"__json_message\", 0, 20, \"h\\u00e9\", \"\"]]").unwrap()
    );
}
