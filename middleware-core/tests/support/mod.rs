//! What the server tests share: a chain with no middleware over a router, and clients that
//! speak raw TCP or HTTP/2 to a [`LiveServer`](middleware_core::server::LiveServer).

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::StatusCode;
use middleware_core::{Chain, Error, Registry, Request, Response, Router, Settings};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// `router` behind no middleware, any host allowed.
pub fn chain(router: Router) -> Chain {
    let settings = Settings::from_toml_str(
        "DEBUG = false\nSECRET_KEY = \"test-secret-key-0123456789-0123456789-0123456789\"\nALLOWED_HOSTS = [\"*\"]\nMIDDLEWARE = []\n",
        "test",
    )
    .unwrap();
    Chain::builder(&Registry::new(), &settings)
        .urls(router)
        .build()
        .unwrap()
}

/// `total` bytes in 64 KiB chunks, as fast as the client takes them.
pub fn bulk(total: usize) -> Response {
    const CHUNK: usize = 64 * 1024;
    let chunk = Bytes::from(vec![b'x'; CHUNK]);
    let chunks =
        futures_util::stream::iter((0..total / CHUNK).map(move |_| Ok::<_, Error>(chunk.clone())));
    middleware_core::response::streaming(StatusCode::OK, "application/octet-stream", chunks)
}

/// A chunk every 100 ms, for good: a view slow to produce, not a client slow to read.
pub async fn ticking(_: &mut Request) -> Result<Response, Error> {
    let chunks = futures_util::stream::unfold((), |()| async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        Some((Ok::<_, Error>(Bytes::from_static(b"tick;")), ()))
    });
    Ok(middleware_core::response::streaming(
        StatusCode::OK,
        "text/plain",
        chunks,
    ))
}

/// Reads until the server closes the connection (or 10 s pass); returns what came and when
/// the close was seen. A reset counts as a close.
pub async fn read_until_closed(stream: &mut TcpStream) -> (String, Instant) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut chunk))
            .await
            .expect("the server closes the connection")
            .unwrap_or(0);
        if n == 0 {
            return (String::from_utf8_lossy(&buf).into_owned(), Instant::now());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Sends `head` (a whole request head) on a fresh connection and reads until the close.
pub async fn raw(addr: std::net::SocketAddr, head: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    read_until_closed(&mut stream).await.0
}

/// An HTTP/2 (prior knowledge) client connection to `addr`, driven on its own task.
pub async fn h2_client(
    addr: std::net::SocketAddr,
) -> hyper::client::conn::http2::SendRequest<http_body_util::Empty<Bytes>> {
    h2_client_with(
        addr,
        hyper::client::conn::http2::Builder::new(hyper_util::rt::TokioExecutor::new()),
    )
    .await
}

/// As [`h2_client`], with the client's own settings (flow-control windows, say).
pub async fn h2_client_with(
    addr: std::net::SocketAddr,
    builder: hyper::client::conn::http2::Builder<hyper_util::rt::TokioExecutor>,
) -> hyper::client::conn::http2::SendRequest<http_body_util::Empty<Bytes>> {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (sender, conn) = builder
        .handshake(hyper_util::rt::TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    sender
}
