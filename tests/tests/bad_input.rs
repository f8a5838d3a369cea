//! Bad input through the example site's whole default stack (Security, GZip, ConditionalGet,
//! Session, Common, Csrf, Messages, XFrameOptions and the seed's middleware): non-UTF-8 paths
//! and queries, absurd Host headers, with the test client and through the real server.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use http::Method;
use middleware_core::server::{LiveServer, ServerConfig};
use middleware_core::test_client::{Client, TestResponse};
use middleware_core::{Body, Chain};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The site's chain from its shipped settings (printing middleware silenced).
fn site_chain() -> Chain {
    let settings = example_site::load_settings(None).unwrap();
    let registry = example_site::registry_with_printer(Arc::new(|_: &str| {}));
    example_site::build_chain_with(&registry, &settings).unwrap()
}

async fn get(path: &str, headers: &[(&str, &str)]) -> TestResponse {
    let mut c = Client::new(site_chain());
    c.request(Method::GET, path, headers, Body::empty()).await
}

/// The answer of the site's 404 handler, with the outer middleware's headers on it.
fn assert_site_404(r: &TestResponse, what: &str) {
    assert_eq!(r.status, 404, "{what}");
    assert_eq!(r.text(), "404 Not Found\n", "{what}");
    assert_eq!(r.header("x-frame-options"), Some("DENY"), "{what}");
    assert_eq!(
        r.header("x-content-type-options"),
        Some("nosniff"),
        "{what}"
    );
    assert!(r.header("location").is_none(), "{what}");
}

// Percent-escapes that are not UTF-8 resolve to no route (Django: the re-percent-encoded
// path matches no pattern) and APPEND_SLASH does not redirect to a path that does not exist
// either; every middleware still runs on the 404.
#[tokio::test]
async fn non_utf8_paths_are_plain_404s() {
    for path in [
        "/%FF%FE/",
        "/hello%FF",
        "/hello%FF/",
        "/%C3/",
        "/big/%80",
        "/%ED%A0%80/",
    ] {
        assert_site_404(&get(path, &[]).await, path);
    }
    // The route itself still answers beside them.
    assert_eq!(get("/hello/", &[]).await.status, 200);
}

// A query that is not UTF-8 is decoded with replacement characters, as Django's QueryDict
// decodes with errors="replace".
#[tokio::test]
async fn non_utf8_query_values_are_replaced_not_refused() {
    let r = get("/session/get/?k=%FF%FEx", &[]).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "\u{fffd}\u{fffd}x=<missing>");
}

// Absurd Host headers against ALLOWED_HOSTS = ["localhost", "127.0.0.1", "[::1]",
// "testserver"]: case, a port and one trailing dot do not matter to validation; anything else
// is Django's DisallowedHost, the site's 400. CommonMiddleware raises it, so the 400 has the
// headers of the middleware above it (Security's nosniff) and not of those below
// (XFrameOptions), as in Django.
#[tokio::test]
async fn absurd_hosts() {
    for host in [
        "LOCALHOST",
        "LocalHost:8000",
        "localhost.",
        "localhost.:65535",
        "[::1]",
        "[::1]:8000",
        "127.0.0.1:1",
        "testserver:99999999999999999999",
    ] {
        let r = get("/", &[("host", host)]).await;
        assert_eq!(r.status, 200, "{host}");
        assert_eq!(r.text(), "Hello, world!", "{host}");
    }
    let long = format!("{}.localhost", "a".repeat(100_000));
    for host in [
        "evil.com",
        "localhost..",
        "localhost:80:80",
        "localhost:",
        "[::2]",
        "[::1",
        "::1",
        "LOCALHOST@evil.com",
        "local host",
        "l\u{f6}calhost",
        "",
        long.as_str(),
    ] {
        let r = get("/", &[("host", host)]).await;
        assert_eq!(r.status, 400, "{host:?}");
        assert_eq!(r.text(), "400 Bad Request\n", "{host:?}");
        assert_eq!(
            r.header("x-content-type-options"),
            Some("nosniff"),
            "{host:?}"
        );
        assert!(r.header("x-frame-options").is_none(), "{host:?}");
    }
}

async fn start_server() -> LiveServer {
    let chain = site_chain();
    let config = ServerConfig::default()
        .header_read_timeout(Duration::from_secs(2))
        .shutdown_timeout(Duration::from_secs(5));
    LiveServer::start(chain, config).await.unwrap()
}

/// Sends `raw` on a fresh connection and returns the response head (status line and
/// headers; the body is not needed here): the server closes the connection after it.
async fn exchange(addr: std::net::SocketAddr, raw: &[u8]) -> String {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(raw).await.unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut chunk))
            .await
            .expect("an answer in time")
            .unwrap();
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    String::from_utf8_lossy(&buf).into_owned()
}

// Through the real server: raw non-ASCII bytes in the request target are refused by the HTTP
// parser (400), percent-escaped ones reach the chain (404), a Host with raw Latin-1 bytes is
// a DisallowedHost (400), and the server goes on serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_server_bad_paths_and_hosts() {
    let mut server = start_server().await;
    let addr = server.addr();
    let r = exchange(
        addr,
        b"GET /caf\xff\xfe/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(r.starts_with("HTTP/1.1 400"), "{r}");

    let r = exchange(
        addr,
        b"GET /caf%FF%FE/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(r.starts_with("HTTP/1.1 404"), "{r}");
    assert!(
        r.to_ascii_lowercase().contains("x-frame-options: deny"),
        "{r}"
    );

    for host in [
        &b"ex\xe4mple.com"[..],
        b"localhost\xff",
        b"[::1]:8000:1",
        b"EVIL.COM.",
    ] {
        let raw = [
            &b"GET / HTTP/1.1\r\nHost: "[..],
            host,
            b"\r\nConnection: close\r\n\r\n",
        ]
        .concat();
        let r = exchange(addr, &raw).await;
        assert!(r.starts_with("HTTP/1.1 400"), "{host:?}: {r}");
    }
    let r = exchange(
        addr,
        b"GET / HTTP/1.1\r\nHost: LOCALHOST.:8000\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(r.starts_with("HTTP/1.1 200"), "{r}");

    assert!(server.stop());
    server.finished().await.unwrap();
}

// The benchmark route `/stream-big/`: `mb` is bounded and must be an integer; a valid request
// streams exactly that many MiB in 64 KiB chunks.
#[tokio::test]
async fn stream_big_sizes_and_bad_mb() {
    for mb in [
        "0",
        "-1",
        "abc",
        "1.5",
        "1025",
        "99999999999999999999999",
        "%FF",
    ] {
        let r = get(&format!("/stream-big/?mb={mb}"), &[]).await;
        assert_eq!(r.status, 400, "mb={mb}");
    }
    let r = get("/stream-big/?mb=1", &[]).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body.len(), 1024 * 1024);
    assert!(
        r.header("content-length").is_none(),
        "a stream has no length"
    );
    let first = example_site::views::stream_big_chunk(0);
    assert_eq!(first.len(), example_site::views::STREAM_BIG_CHUNK);
    assert_eq!(&r.body[..first.len()], &first[..]);
    assert_eq!(
        &r.body[first.len()..2 * first.len()],
        &example_site::views::stream_big_chunk(1)[..]
    );
}
