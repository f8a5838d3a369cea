//! The example site's default stack on `/` and `/big/`, as an axum 0.8 + tower-http user
//! would write it (bench/peer.sh compares the two):
//!
//! * the security headers of SecurityMiddleware and XFrameOptionsMiddleware, and the seed's
//!   two headers: tower-http `SetResponseHeaderLayer`s (and a `map_response` for the
//!   status-dependent one);
//! * gzip at level 6 above 200 bytes: tower-http `CompressionLayer`;
//! * the MD5 ETag and 304 of ConditionalGetMiddleware: a `from_fn` middleware (tower-http has
//!   none), made weak when the answer is gzipped as Django does;
//! * a signed session cookie, loaded when the request carries one and written when changed:
//!   tower-sessions with a signed cookie (`/session/` writes it, `/` reads nothing);
//! * CSRF: double-submit (the `csrftoken` cookie must match the `X-CSRFToken` header on
//!   unsafe methods, else 403), a `from_fn` middleware.
//!
//! With `UPSTREAM=HOST:PORT` set (bench/async.sh), an innermost `from_fn_with_state` awaits a
//! `GET` to that upstream through hyper-util's pooled client on every request and copies its
//! status into `X-Upstream`, as the site's `bench.UpstreamMiddleware` does.
//!
//! `axum-peer ADDR BIG_BODY_FILE`

use std::convert::Infallible;
use std::fmt::Write as _;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::Router;
use tower::ServiceBuilder;
use tower_http::compression::predicate::SizeAbove;
use tower_http::compression::{CompressionLayer, CompressionLevel};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_sessions::{cookie::Key, MemoryStore, Session, SessionManagerLayer};

/// ConditionalGetMiddleware: the MD5 of the body as a strong ETag, 304 when `If-None-Match`
/// has it. Runs inside the compression, on the uncompressed body.
async fn etag(request: Request, next: Next) -> Response {
    use md5::Digest;
    let if_none_match = request.headers().get(header::IF_NONE_MATCH).cloned();
    let response = next.run(request).await;
    if response.status() != StatusCode::OK || response.headers().contains_key(header::ETAG) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let mut tag = String::with_capacity(34);
    tag.push('"');
    for b in md5::Md5::digest(&bytes) {
        let _ = write!(tag, "{b:02x}");
    }
    tag.push('"');
    let Ok(value) = HeaderValue::from_str(&tag) else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    if if_none_match.is_some_and(|v| v.as_bytes() == tag.as_bytes()) {
        parts.status = StatusCode::NOT_MODIFIED;
        parts.headers.insert(header::ETAG, value);
        parts.headers.remove(header::CONTENT_LENGTH);
        return Response::from_parts(parts, Body::empty());
    }
    parts.headers.insert(header::ETAG, value);
    Response::from_parts(parts, Body::from(bytes))
}

/// GZipMiddleware turns a strong ETag weak when it compresses.
async fn weaken_etag(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let gzipped = response.headers().get(header::CONTENT_ENCODING).is_some();
    if gzipped {
        if let Some(tag) = response.headers().get(header::ETAG) {
            if tag.as_bytes().first() == Some(&b'"') {
                let mut weak = b"W/".to_vec();
                weak.extend_from_slice(tag.as_bytes());
                if let Ok(v) = HeaderValue::from_bytes(&weak) {
                    response.headers_mut().insert(header::ETAG, v);
                }
            }
        }
    }
    response
}

/// Double-submit CSRF: unsafe methods need the `csrftoken` cookie echoed in `X-CSRFToken`.
async fn csrf(request: Request, next: Next) -> Response {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    );
    if !safe {
        let cookie = request
            .headers()
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .find_map(|c| c.trim().strip_prefix("csrftoken="));
        let sent = request
            .headers()
            .get("x-csrftoken")
            .and_then(|v| v.to_str().ok());
        if cookie.is_none() || cookie != sent {
            return (StatusCode::FORBIDDEN, "403 CSRF verification failed\n").into_response();
        }
    }
    next.run(request).await
}

/// The seed's StatusHeaderMiddleware: `X-Status: OK` on 200 only.
async fn x_status(mut response: Response) -> Response {
    if response.status() == StatusCode::OK {
        response
            .headers_mut()
            .insert(HeaderName::from_static("x-status"), HeaderValue::from_static("OK"));
    }
    response
}

type Upstream = hyper_util::client::legacy::Client<
    hyper_util::client::legacy::connect::HttpConnector,
    http_body_util::Empty<axum::body::Bytes>,
>;

/// bench.UpstreamMiddleware: awaits the upstream, then the rest of the chain.
async fn upstream(
    axum::extract::State((client, uri)): axum::extract::State<(Upstream, http::Uri)>,
    request: Request,
    next: Next,
) -> Response {
    let status = match client.get(uri).await {
        Ok(r) => r.status().as_u16(),
        Err(_) => 502,
    };
    let mut response = next.run(request).await;
    response
        .headers_mut()
        .insert(HeaderName::from_static("x-upstream"), HeaderValue::from(status));
    response
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let addr: std::net::SocketAddr = args.next().ok_or("usage: axum-peer ADDR BIG_FILE")?.parse()?;
    let big = axum::body::Bytes::from(std::fs::read(args.next().ok_or("usage: axum-peer ADDR BIG_FILE")?)?);
    let sessions = SessionManagerLayer::new(MemoryStore::default())
        .with_name("sessionid")
        .with_secure(false)
        .with_signed(Key::from(&[7u8; 64]));
    let fixed = |name: &'static str, value: &'static str| {
        SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        )
    };
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    // The client's pool and connector need the runtime's context.
    let _entered = rt.enter();
    let routes = Router::new()
        .route(
            "/",
            get(|| async { ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], "Hello, world!") }),
        )
        .route(
            "/big/",
            get(move || {
                let big = big.clone();
                async move { ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], big) }
            }),
        )
        // A session written and read back, for the check that the signed cookie works.
        .route(
            "/session/",
            any(|session: Session| async move {
                let n: u64 = session.get("n").await.ok().flatten().unwrap_or(0);
                let _ = session.insert("n", n + 1).await;
                ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], format!("{n}"))
            }),
        )
        ;
    let routes = match std::env::var("UPSTREAM") {
        Ok(addr) => {
            let mut connector = hyper_util::client::legacy::connect::HttpConnector::new();
            connector.set_nodelay(true);
            let client: Upstream =
                hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                    .build(connector);
            let uri: http::Uri = format!("http://{addr}/").parse()?;
            routes.layer(middleware::from_fn_with_state((client, uri), upstream))
        }
        Err(_) => routes,
    };
    let app = routes
        // Outermost first, as in the site's MIDDLEWARE.
        .layer(
            ServiceBuilder::new()
                .layer(fixed("x-content-type-options", "nosniff"))
                .layer(fixed("referrer-policy", "same-origin"))
                .layer(fixed("cross-origin-opener-policy", "same-origin"))
                .layer(middleware::from_fn(weaken_etag))
                .layer(
                    CompressionLayer::new()
                        .gzip(true)
                        .no_br()
                        .no_deflate()
                        .no_zstd()
                        .quality(CompressionLevel::Precise(6))
                        .compress_when(SizeAbove::new(200)),
                )
                .layer(middleware::from_fn(etag))
                .layer(sessions)
                .layer(middleware::from_fn(csrf))
                .layer(fixed("x-frame-options", "DENY"))
                .layer(fixed("x-custom-header", "Hello"))
                .layer(axum::middleware::map_response(x_status)),
        );
    rt.block_on(async move {
        // The same 1024-deep accept queue as the site's server (`server::run`).
        let socket = tokio::net::TcpSocket::new_v4()?;
        socket.set_reuseaddr(true)?;
        socket.bind(addr)?;
        let listener = socket.listen(1024)?;
        axum::serve(listener, app).await?;
        Ok::<(), std::io::Error>(())
    })?;
    let _: Option<Infallible> = None;
    Ok(())
}
