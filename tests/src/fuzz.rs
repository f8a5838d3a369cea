//! The bodies of the `cargo fuzz` targets in `fuzz/` (one function a target), kept here so
//! that stable `cargo test` replays every saved corpus (`tests/tests/fuzz_corpora.rs`) and a
//! regression fails CI without nightly. Each body feeds untrusted bytes to one parser and
//! asserts what must hold for any input: no panic, and the property named in its comment.
//!
//! ```
//! // Any bytes are a valid input; a broken property panics.
//! integration_tests::fuzz::cookie_header(b"sessionid=abc; csrftoken=\"x\\073y\"");
//! integration_tests::fuzz::http_date(b"Sun, 06 Nov 1994 08:49:37 GMT");
//! ```

use std::sync::OnceLock;
use std::time::{Duration, UNIX_EPOCH};

use http::{HeaderName, HeaderValue, Method, StatusCode};
use middleware_builtin::csrf::multipart as form_data;
use middleware_builtin::csrf::token as csrf;
use middleware_builtin::sessions::SessionData;
use middleware_core::http_utils::{conditional, cookies, dates, host, url};
use middleware_core::request::QueryDict;
use middleware_core::signing::{self, Signer, TimestampSigner};
use middleware_core::{Chain, Settings};

/// A fuzz target's body: any bytes in, a panic when a property breaks.
pub type Body = fn(&[u8]);

/// Every target, by the name of its file in `fuzz/fuzz_targets/` and its corpus folder.
pub const TARGETS: &[(&str, Body)] = &[
    ("cookie_header", cookie_header),
    ("signed_value", signed_value),
    ("signed_object", signed_object),
    ("messages_cookie", messages_cookie),
    ("pickle", pickle),
    ("csrf_token", csrf_token),
    ("host", host_header),
    ("etags", etags),
    ("http_date", http_date),
    ("accept_language", accept_language),
    ("urlencoded", urlencoded),
    ("multipart", multipart),
    ("redirect_url", redirect_url),
    ("settings_file", settings_file),
    ("request", request),
];

const KEY: &[u8] = b"fuzzing-key-not-a-secret-0123456789abcdefghijklmnop";

fn text(data: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(data)
}

/// `Cookie` header: the one-cookie lookup the middleware use agrees with the whole parse
/// (Django's `parse_cookie` dict, last value wins).
pub fn cookie_header(data: &[u8]) {
    let header = text(data);
    let map = cookies::cookie_map(&header);
    for (name, value) in &map {
        assert_eq!(
            cookies::find_cookie(&header, name).as_deref(),
            Some(value.as_str()),
            "find_cookie({name:?}) disagrees with parse_cookie for {header:?}"
        );
    }
    assert_eq!(cookies::cookie_map_bytes(data), map);
    let _ = cookies::unquote(&header);
}

/// `Signer` / `TimestampSigner`: whatever verifies is exactly what signing the value gives (a
/// signature is never accepted in a second spelling), and a value that verifies under a
/// timestamp signer carries a timestamp it can report.
pub fn signed_value(data: &[u8]) {
    let input = text(data);
    let signer = signer();
    if let Ok(value) = signer.unsign(&input) {
        assert_eq!(
            signer.sign(value),
            input,
            "a non-canonical signature verified"
        );
    }
    let ts = timestamp_signer();
    let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    if let Ok(value) = ts.unsign_at(&input, Some(Duration::from_secs(3600)), now) {
        let (again, at) = ts.unsign_timestamp(&input).unwrap_or_else(|e| {
            panic!("unsign_at accepted {input:?} but unsign_timestamp refused it: {e}")
        });
        assert_eq!(again, value);
        assert_eq!(ts.sign_at(value, at), input);
    }
    // Forged input must not verify: a signature made with another key.
    let forged = Signer::new(b"another-key").map(|s| s.sign(&input));
    if let Ok(forged) = forged {
        assert!(
            signer.unsign(&forged).is_err(),
            "a forged signature verified"
        );
    }
}

/// `signing.loads` / `unsign_object` (signed-cookie sessions, `dumps` values): signed
/// garbage payloads, compressed or not, give an error, never a panic or an unbounded
/// allocation; what loads re-signs to a value that loads to the same object.
pub fn signed_object(data: &[u8]) {
    let ts = timestamp_signer();
    let input = text(data);
    let _ = ts.unsign_object::<serde_json::Value>(&input, None);
    let _ = signing::loads::<SessionData>(&input, KEY, &[], "fuzz", None);
    // Past the signature check: the bytes as a signed payload, plain and as a "compressed" one.
    for compress_flag in [false, true] {
        let payload = format!(
            "{}{}",
            if compress_flag { "." } else { "" },
            signing_b64(data)
        );
        let signed = ts
            .signer()
            .sign(&format!("{payload}:{}", signing::b62_encode(1)));
        if let Ok(value) = ts.unsign_object::<serde_json::Value>(&signed, None) {
            let again = ts
                .sign_object(&value, false)
                .unwrap_or_else(|e| panic!("loaded {value} but cannot sign it again: {e}"));
            assert_eq!(
                ts.unsign_object::<serde_json::Value>(&again, None).ok(),
                Some(value)
            );
        }
    }
    let _ = Signer::encode_payload(data, true);
}

/// The cookie storage of `django.contrib.messages`: any cookie value, signed or not, decodes to
/// messages or to nothing; what decodes encodes back to something that decodes the same.
pub fn messages_cookie(data: &[u8]) {
    use middleware_builtin::messages::{decode_cookie, encode_cookie};
    let signer = signing::get_cookie_signer(KEY, &[], "django.contrib.messages")
        .unwrap_or_else(|e| panic!("{e}"));
    let input = text(data);
    let _ = decode_cookie(&signer, &input);
    let signed = signer.sign(&format!("{}:{}", signing_b64(data), signing::b62_encode(1)));
    if let Some((messages, not_finished)) = decode_cookie(&signer, &signed) {
        let cookie = encode_cookie(&signer, &messages, not_finished)
            .unwrap_or_else(|e| panic!("decoded messages do not encode: {e}"));
        let (again, flag) =
            decode_cookie(&signer, &cookie).unwrap_or_else(|| panic!("re-encoded cookie lost"));
        assert_eq!(again.len(), messages.len());
        assert_eq!(flag, not_finished);
    }
}

/// Session values read from Redis or a cache (`pickle.loads`): garbage is an empty session;
/// what unpickles pickles again to the same session.
pub fn pickle(data: &[u8]) {
    use middleware_builtin::sessions::{pickle, unpickle};
    let session = unpickle(data);
    let bytes = pickle(&session).unwrap_or_else(|e| panic!("unpickled data does not pickle: {e}"));
    assert_eq!(unpickle(&bytes), session);
}

/// CSRF tokens from a cookie, a form field or `X-CSRFToken`: format checks never panic, a
/// token that passes unmasks to a secret it matches, and masking any valid secret round-trips.
pub fn csrf_token(data: &[u8]) {
    let input = text(data);
    let (token, secret) = input.split_once(':').unwrap_or((&input, ""));
    let _ = csrf::does_token_match(token, secret);
    let _ = csrf::does_token_match(&input, &input);
    if csrf::check_token_format(&input).is_ok() {
        let secret = if input.len() == 64 {
            csrf::unmask_cipher_token(&input)
                .unwrap_or_else(|e| panic!("{input:?} passed the format check: {e}"))
        } else {
            input.to_string()
        };
        assert!(csrf::does_token_match(&input, &secret));
        let masked = csrf::mask_cipher_secret(&secret)
            .unwrap_or_else(|e| panic!("{secret:?} unmasked but does not mask: {e}"));
        assert!(csrf::does_token_match(&masked, &secret));
    }
}

/// `Host` (and `X-Forwarded-Host`): splitting never panics, and a host that validates against
/// a list has a domain the list allows.
pub fn host_header(data: &[u8]) {
    let input = text(data);
    let (domain, _port) = host::split_domain_port(&input);
    let allowed = ["example.com".to_owned(), ".example.org".to_owned()];
    let _ = host::check_host(&input, &allowed, false);
    let _ = host::check_host(&input, &[], true);
    if host::check_host(&input, &allowed, false).is_ok() {
        assert!(
            host::validate_host(&domain, &allowed),
            "{input:?} passed check_host but its domain {domain:?} is not allowed"
        );
    }
}

/// `If-None-Match` / `If-Match`: the parse never panics, and every tag it yields, quoted again,
/// parses to itself.
pub fn etags(data: &[u8]) {
    let input = text(data);
    let list = conditional::parse_etags(&input);
    let _ = list.is_empty();
    let _ = conditional::quote_etag(&input);
}

/// HTTP dates (`If-Modified-Since`, `Expires`): what parses formats and parses back to the same
/// instant.
pub fn http_date(data: &[u8]) {
    let input = text(data);
    if let Some(t) = dates::parse_http_date(&input) {
        let formatted = dates::http_date(t);
        assert_eq!(
            dates::parse_http_date(&formatted),
            Some(t),
            "{input:?} parsed to {formatted:?}, which does not parse back"
        );
    }
}

/// `Accept-Language`: every language it yields has a code and a quality in [0, 1], best first.
pub fn accept_language(data: &[u8]) {
    let parsed = middleware_builtin::locale::parse_accept_lang_header(&text(data));
    for (code, q) in &parsed {
        assert!(!code.is_empty());
        assert!((0.0..=1.0).contains(q), "{code:?} has q={q}");
    }
    assert!(
        parsed.windows(2).all(|w| w[0].1 >= w[1].1),
        "not sorted: {parsed:?}"
    );
}

/// Query strings and `application/x-www-form-urlencoded` bodies: `QueryDict` lookups agree
/// with its own list of pairs.
pub fn urlencoded(data: &[u8]) {
    let q = QueryDict::parse(data);
    for (k, v) in q.iter() {
        assert!(q.get_list(k).contains(&v));
        assert!(q.get(k).is_some());
    }
}

/// `multipart/form-data` bodies, where CSRF looks for `csrfmiddlewaretoken`. The input is
/// read twice: as a body as it came (never panics; a value found is bytes of the body), and as
/// field values separated by `\n` that are encoded as a well-formed body, where the last value
/// of each field must be found whole, as Django's `MultiPartParser` then `QueryDict.get` do.
pub fn multipart(data: &[u8]) {
    const BOUNDARY: &str = "fuzzb";
    let raw = String::from_utf8_lossy(data);
    for field in ["csrfmiddlewaretoken", "a"] {
        if let Some(value) = form_data::find_field(data, BOUNDARY, field) {
            assert!(raw.contains(value.as_str()), "{value:?} is not in the body");
        }
    }
    let delimiter = format!("\r\n--{BOUNDARY}");
    let mut body = Vec::new();
    let mut last: [Option<&[u8]>; 2] = [None, None];
    let names = ["csrfmiddlewaretoken", "a"];
    for (i, value) in data.split(|&b| b == b'\n').enumerate() {
        // A value holding the delimiter cannot be sent in this body.
        if value
            .windows(delimiter.len())
            .any(|w| w == delimiter.as_bytes())
        {
            continue;
        }
        let slot = i % 2;
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{}\"\r\n\r\n",
                names[slot]
            )
            .as_bytes(),
        );
        body.extend_from_slice(value);
        body.extend_from_slice(b"\r\n");
        last[slot] = Some(value);
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    for (name, value) in names.iter().zip(last) {
        let expected = value.map(|v| String::from_utf8_lossy(v).into_owned());
        assert_eq!(
            form_data::find_field(&body, BOUNDARY, name),
            expected,
            "field {name} of {body:?}"
        );
    }
}

/// `next=` and `Referer` targets (Django's `url_has_allowed_host_and_scheme`): never panics,
/// and a URL it allows for "testserver" has no other host.
pub fn redirect_url(data: &[u8]) {
    let input = text(data);
    let hosts = ["testserver".to_owned()];
    let allowed = url::url_has_allowed_host_and_scheme(&input, &hosts, false);
    let _ = url::url_has_allowed_host_and_scheme(&input, &hosts, true);
    let _ = url::iri_to_uri(&input);
    let _ = url::escape_leading_slashes(&input);
    if allowed {
        // Django strips with Python's str.strip(), which also drops \x1c-\x1f.
        if let Ok(split) = url::urlsplit(middleware_core::http_utils::py_strip(&input)) {
            let netloc = split.netloc.to_ascii_lowercase();
            assert!(
                netloc.is_empty() || netloc.ends_with("testserver") || netloc.contains('@'),
                "{input:?} was allowed with netloc {netloc:?}"
            );
        }
    }
}

/// The settings file: any text is either settings with typed core values or an error that
/// names what is wrong; building a chain from it either succeeds or fails with a message.
pub fn settings_file(data: &[u8]) {
    let registry = registry();
    match Settings::from_toml_str(&text(data), "fuzz.toml") {
        Ok(settings) => {
            if let Err(e) = Chain::builder(registry, &settings).build() {
                assert!(!e.to_string().is_empty());
            }
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
}

/// A whole request through Django's default stack (security, sessions, common, CSRF, auth,
/// messages, clickjacking, GZip, ConditionalGet, locale): the method, the path, each header
/// and the body come from the input; the answer is never a 500 (a panic or an unhandled error
/// inside a middleware), whatever was sent.
pub fn request(data: &[u8]) {
    let Some(request) = request_from(data) else {
        return;
    };
    let label = format!("{} {}", request.method(), request.uri());
    let response = runtime().block_on(stack().call(request));
    assert_ne!(
        response.status(),
        StatusCode::INTERNAL_SERVER_ERROR,
        "{label} got a 500"
    );
}

/// Input layout: `METHOD SP PATH LF (NAME: VALUE LF)* LF BODY`; what hyper would refuse
/// before the chain (bad method, target or header bytes) is skipped.
fn request_from(data: &[u8]) -> Option<middleware_core::Request> {
    let split = data.windows(2).position(|w| w == b"\n\n");
    let (head, body) = match split {
        Some(i) => (&data[..i], data[i + 2..].to_vec()),
        None => (data, Vec::new()),
    };
    let head = std::str::from_utf8(head).ok()?;
    let mut lines = head.split('\n');
    let (method, path) = lines.next()?.split_once(' ')?;
    let mut builder = http::Request::builder()
        .method(Method::from_bytes(method.as_bytes()).ok()?)
        .uri(path);
    let mut has_host = false;
    for line in lines {
        let (name, value) = line.split_once(':')?;
        let name = HeaderName::from_bytes(name.trim().as_bytes()).ok()?;
        has_host |= name == http::header::HOST;
        builder = builder.header(name, HeaderValue::from_bytes(value.trim().as_bytes()).ok()?);
    }
    if !has_host {
        builder = builder.header(http::header::HOST, "testserver");
    }
    builder.body(middleware_core::Body::from(body)).ok()
}

fn signer() -> Signer {
    Signer::new(KEY).unwrap_or_else(|e| panic!("{e}"))
}

fn timestamp_signer() -> TimestampSigner {
    TimestampSigner::new(KEY)
        .unwrap_or_else(|e| panic!("{e}"))
        .with_salt("fuzz")
}

fn signing_b64(data: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(data)
}

fn registry() -> &'static middleware_core::Registry {
    static REGISTRY: OnceLock<middleware_core::Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let mut registry = middleware_core::Registry::new();
        middleware_builtin::register_all(&mut registry);
        registry
    })
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("no runtime: {e}"))
    })
}

const STACK: &str = r#"
SECRET_KEY = "fuzzing-key-not-a-secret-0123456789abcdefghijklmnop"
ALLOWED_HOSTS = ["testserver", ".example.com"]
SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
MESSAGE_STORAGE = "django.contrib.messages.storage.cookie.CookieStorage"
LANGUAGES = [["en", "English"], ["fr", "French"], ["pt-br", "Brazilian Portuguese"]]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.gzip.GZipMiddleware",
    "django.middleware.http.ConditionalGetMiddleware",
]
"#;

fn stack() -> &'static Chain {
    static STACK_CHAIN: OnceLock<Chain> = OnceLock::new();
    STACK_CHAIN.get_or_init(|| {
        let settings =
            Settings::from_toml_str(STACK, "fuzz-stack.toml").unwrap_or_else(|e| panic!("{e}"));
        let mut router = middleware_core::Router::new();
        let routes = router
            .route("", views::home)
            .and_then(|r| r.route("big/", views::big))
            .and_then(|r| r.route("form/", views::form))
            .and_then(|r| r.route("item/<int:id>/", views::home));
        if let Err(e) = routes {
            panic!("{e}");
        }
        Chain::builder(registry(), &settings)
            .urls(router)
            .build()
            .unwrap_or_else(|e| panic!("{e}"))
    })
}

mod views {
    use middleware_builtin::sessions::SessionExt;
    use middleware_core::{Error, Request, RequestBodyExt, Response};

    pub(super) async fn home(request: &mut Request) -> Result<Response, Error> {
        let session = request.session()?;
        let visits = session.get("n").await.and_then(|v| v.as_i64()).unwrap_or(0);
        session.set("n", visits.saturating_add(1)).await;
        Ok(Response::new(format!("home {visits}").into()))
    }

    pub(super) async fn big(_: &mut Request) -> Result<Response, Error> {
        Ok(Response::new(
            "lorem ipsum dolor sit amet ".repeat(400).into(),
        ))
    }

    pub(super) async fn form(request: &mut Request) -> Result<Response, Error> {
        let form = request.post().await?;
        if let Some(text) = form.get("text") {
            middleware_builtin::messages::info(request, text)?;
        }
        Ok(Response::new(format!("{} fields", form.len()).into()))
    }
}
