//! The site's views: the routes of the conformance contract (`shared/conformance/ROUTES.md`).

use std::convert::Infallible;

use bytes::Bytes;
use http::{HeaderValue, StatusCode};
use middleware_core::response::{text, ResponseExt};
use middleware_core::{Error, ErrorHandlers, Request, RequestExt, Response, Route, Router};

/// `/`: `Hello, world!`.
pub async fn index(_: &mut Request) -> Result<Response, Error> {
    Ok(text(StatusCode::OK, "Hello, world!"))
}

/// `/hello/`: a small HTML page.
pub async fn hello(_: &mut Request) -> Result<Response, Error> {
    Ok(middleware_core::response::html(
        StatusCode::OK,
        "<!DOCTYPE html><html><body>Hello!</body></html>\n",
    ))
}

/// The 20 193-byte page of `/big/`.
pub fn big_body() -> String {
    let mut s = String::from("<!DOCTYPE html><html><body>\n");
    for i in 0..325 {
        s.push_str(&format!(
            "<p>Line {i:03}: the quick brown fox jumps over the lazy dog.</p>\n"
        ));
    }
    s.push_str("</body></html>\n");
    s
}

/// `/big/`: a page large enough for gzip.
///
/// The page is built once, when the URLconf is, and each response shares its bytes (a
/// refcount, no copy): so the load benchmarks measure the middleware, not 325 `format!` calls
/// per request.
#[derive(Clone, Debug)]
pub struct BigPage {
    body: Bytes,
}

impl BigPage {
    /// The view, with [`big_body`] built now.
    pub fn new() -> Self {
        BigPage {
            body: Bytes::from(big_body()),
        }
    }
}

impl Default for BigPage {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait::async_trait]
impl middleware_core::View for BigPage {
    async fn call(&self, _: &mut Request) -> Result<Response, Error> {
        Ok(middleware_core::response::html(
            StatusCode::OK,
            self.body.clone(),
        ))
    }
}

/// `/stream/`: ten 100-byte chunks, streamed.
pub async fn stream(_: &mut Request) -> Result<Response, Error> {
    let chunks = (0..10)
        .map(|i| Ok::<_, Infallible>(Bytes::from(format!("chunk {i}: {}\n", "x".repeat(90)))));
    Ok(middleware_core::response::streaming(
        StatusCode::OK,
        "text/plain; charset=utf-8",
        futures_util::stream::iter(chunks),
    ))
}

/// The size of one chunk of `/stream-big/`.
pub const STREAM_BIG_CHUNK: usize = 64 * 1024;

/// The largest `/stream-big/` answer, in MiB: the route is for benchmarks, not a way to keep
/// the server busy forever.
pub const STREAM_BIG_MAX_MB: u64 = 1024;

/// Chunk `i` of `/stream-big/`: 64 KiB of text lines numbered from the chunk index, so every
/// chunk differs (gzip cannot collapse the stream into back-references to one chunk) yet
/// compresses as real text does.
pub fn stream_big_chunk(i: u64) -> Bytes {
    let mut chunk = Vec::with_capacity(STREAM_BIG_CHUNK);
    let mut line = 0u64;
    while chunk.len() < STREAM_BIG_CHUNK {
        let text =
            format!("chunk {i:06} line {line:04}: the quick brown fox jumps over the lazy dog\n");
        let room = STREAM_BIG_CHUNK - chunk.len();
        chunk.extend_from_slice(&text.as_bytes()[..text.len().min(room)]);
        line += 1;
    }
    Bytes::from(chunk)
}

/// `/stream-big/?mb=N`: N MiB (default 100, at most [`STREAM_BIG_MAX_MB`]) streamed in 64 KiB
/// chunks generated on demand, for the streaming-memory benchmark (`bench/gzip_memory.sh`).
/// A malformed or out-of-range `mb` is a 400.
pub async fn stream_big(req: &mut Request) -> Result<Response, Error> {
    let mb = match req.query().get("mb") {
        None => 100,
        Some(v) => v
            .parse::<u64>()
            .ok()
            .filter(|n| (1..=STREAM_BIG_MAX_MB).contains(n))
            .ok_or_else(|| Error::bad_request("mb must be an integer from 1 to 1024"))?,
    };
    let chunks = mb * 1024 * 1024 / STREAM_BIG_CHUNK as u64;
    let stream =
        futures_util::stream::iter((0..chunks).map(|i| Ok::<_, Infallible>(stream_big_chunk(i))));
    Ok(middleware_core::response::streaming(
        StatusCode::OK,
        "text/plain; charset=utf-8",
        stream,
    ))
}

/// `/etag/`: a fixed ETag and Last-Modified.
pub async fn etag(_: &mut Request) -> Result<Response, Error> {
    let mut r = text(
        StatusCode::OK,
        format!("{}\n", "etag-fixed-content ".repeat(16)),
    );
    r.headers_mut()
        .insert("etag", HeaderValue::from_static("\"v1-fixed\""));
    r.headers_mut().insert(
        "last-modified",
        HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
    );
    Ok(r)
}

/// `/error/`: an unhandled error (500).
pub async fn error(_: &mut Request) -> Result<Response, Error> {
    Err(Error::internal("the /error/ view always fails"))
}

/// `/forbidden/`: PermissionDenied (403).
pub async fn forbidden(_: &mut Request) -> Result<Response, Error> {
    Err(Error::permission_denied("the /forbidden/ view"))
}

/// `/missing/`: Http404.
pub async fn missing(_: &mut Request) -> Result<Response, Error> {
    Err(Error::not_found("the /missing/ view"))
}

/// `/bad/`: SuspiciousOperation (400).
pub async fn bad(_: &mut Request) -> Result<Response, Error> {
    Err(Error::suspicious("SuspiciousOperation", "the /bad/ view"))
}

/// `/frame-ok/`: a page that may be framed.
pub async fn frame_ok(_: &mut Request) -> Result<Response, Error> {
    Ok(text(StatusCode::OK, "framing allowed"))
}

/// `/no-slash`: a route without a trailing slash.
pub async fn no_slash(_: &mut Request) -> Result<Response, Error> {
    Ok(text(StatusCode::OK, "no slash here"))
}

/// The page of `/form/`: a POST form carrying `token` (ROUTES.md's `FORM(token)`).
pub fn form_body(token: &str) -> String {
    let padding = format!("<p>{}</p>\n", "Please submit this form. ".repeat(25));
    format!(
        "<!DOCTYPE html><html><body><form method=\"post\" action=\"/form/\">\
         <input type=\"hidden\" name=\"csrfmiddlewaretoken\" value=\"{token}\">\
         <button type=\"submit\">Send</button></form>\n{padding}</body></html>\n"
    )
}

/// `/form/`: POST answers `ok` (the CSRF middleware guards it); any other method renders the
/// form with a fresh CSRF token (which also makes the middleware send the cookie).
pub async fn form(req: &mut Request) -> Result<Response, Error> {
    if req.method() == http::Method::POST {
        return Ok(text(StatusCode::OK, "ok"));
    }
    let token = middleware_builtin::csrf::get_token(req);
    Ok(middleware_core::response::html(
        StatusCode::OK,
        form_body(&token),
    ))
}

/// `/csrf-exempt/`: exempt from CSRF checks.
pub async fn csrf_exempt(_: &mut Request) -> Result<Response, Error> {
    Ok(text(StatusCode::OK, "exempt ok"))
}

/// The site's CSRF failure view, `example_site.views.csrf_failure` (the `CSRF_FAILURE_VIEW`
/// setting names it): `403 CSRF verification failed: {reason}` in plain text.
pub fn csrf_failure(_: &Request, reason: &str) -> Response {
    text(
        StatusCode::FORBIDDEN,
        format!("403 CSRF verification failed: {reason}\n"),
    )
}

/// `/panic/`: panics; the chain answers 500 and the server keeps serving.
pub async fn panic(_: &mut Request) -> Result<Response, Error> {
    panic!("the /panic/ view panics on purpose")
}

/// `/session/set/?k1=v1&k2=v2`: stores every query key (sorted; last value wins) in the session.
pub async fn session_set(request: &mut Request) -> Result<Response, Error> {
    use middleware_builtin::sessions::SessionExt;
    let session = request.session()?;
    let mut pairs: std::collections::BTreeMap<String, String> = Default::default();
    for (k, v) in request.query().iter() {
        pairs.insert(k.to_owned(), v.to_owned());
    }
    for (k, v) in &pairs {
        session.set(k, v.clone()).await;
    }
    let joined: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    Ok(text(StatusCode::OK, format!("set {}", joined.join("&"))))
}

/// `/session/get/?k=NAME`: `NAME=VALUE`, or `NAME=<missing>`.
pub async fn session_get(request: &mut Request) -> Result<Response, Error> {
    use middleware_builtin::sessions::SessionExt;
    let session = request.session()?;
    let name = request.query().get("k").unwrap_or("").to_owned();
    let value = match session.get(&name).await {
        Some(serde_json::Value::String(s)) => s,
        Some(other) => other.to_string(),
        None => "<missing>".to_owned(),
    };
    Ok(text(StatusCode::OK, format!("{name}={value}")))
}

/// `/messages/add/?text=T`: adds an INFO message, redirects to `/messages/show/`.
pub async fn messages_add(request: &mut Request) -> Result<Response, Error> {
    let text_param = request.query().get("text").unwrap_or("").to_owned();
    middleware_builtin::messages::info(request, &text_param)?;
    Ok(middleware_core::response::redirect("/messages/show/"))
}

/// `/messages/show/`: consumes and lists the pending messages.
pub async fn messages_show(request: &mut Request) -> Result<Response, Error> {
    let messages = middleware_builtin::messages::get_messages(request).await;
    let mut body = format!("messages: {}\n", messages.len());
    for m in &messages {
        body.push_str(&format!("{}: {}\n", m.level_tag(), m.message));
    }
    Ok(text(StatusCode::OK, body))
}

/// `/cached/`: the current time (nanoseconds since the epoch), cached for 60 s by the cache
/// middleware when it is in `MIDDLEWARE` (see `settings-cache.toml`); two equal bodies mean
/// the second came from the cache.
pub async fn cached(_: &mut Request) -> Result<Response, Error> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    Ok(text(StatusCode::OK, format!("generated at {now}\n")))
}

/// The site's URLconf.
pub fn router() -> Result<Router, middleware_core::urls::UrlError> {
    let mut r = Router::new();
    r.add(Route::new("", index).name("index"))?
        .add(Route::new("hello/", hello).name("hello"))?
        .add(Route::with_view("big/", BigPage::new()).name("big"))?
        .add(Route::new("stream/", stream).name("stream"))?
        .add(Route::new("etag/", etag).name("etag"))?
        .add(Route::new("stream-big/", stream_big).name("stream-big"))?
        .add(Route::new("error/", error).name("error"))?
        .add(Route::new("forbidden/", forbidden).name("forbidden"))?
        .add(Route::new("missing/", missing).name("missing"))?
        .add(Route::new("bad/", bad).name("bad"))?
        .add(
            Route::new("frame-ok/", frame_ok)
                .name("frame-ok")
                .marker(middleware_builtin::clickjacking::XFrameOptionsExempt),
        )?
        .add(Route::new("no-slash", no_slash).name("no-slash"))?
        .add(Route::new("panic/", panic).name("panic"))?
        .add(Route::new("form/", form).name("form"))?
        .add(
            Route::new("csrf-exempt/", csrf_exempt)
                .name("csrf-exempt")
                .marker(middleware_builtin::csrf::CsrfExempt),
        )?
        .add(Route::new("session/set/", session_set).name("session-set"))?
        .add(Route::new("session/get/", session_get).name("session-get"))?
        .add(Route::new("messages/add/", messages_add).name("messages-add"))?
        .add(Route::new("messages/show/", messages_show).name("messages-show"))?
        .add(
            Route::new("cached/", cached)
                .name("cached")
                .marker(middleware_builtin::cache_middleware::CachePage::new(60)),
        )?;
    Ok(r)
}

fn plain(status: StatusCode, body: &'static str) -> Response {
    let mut r = text(status, body);
    r.set_default_header("content-type", "text/plain; charset=utf-8");
    r
}

/// The site's error handlers: plain text, so the conformance run can compare bytes.
pub fn error_handlers(debug: bool) -> ErrorHandlers {
    let mut h = ErrorHandlers::new(debug);
    h.set(400, |_, _| {
        plain(StatusCode::BAD_REQUEST, "400 Bad Request\n")
    })
    .set(403, |_, _| plain(StatusCode::FORBIDDEN, "403 Forbidden\n"))
    .set(404, |_, _| plain(StatusCode::NOT_FOUND, "404 Not Found\n"))
    .set(500, |_, _| {
        plain(
            StatusCode::INTERNAL_SERVER_ERROR,
            "500 Internal Server Error\n",
        )
    });
    h
}
