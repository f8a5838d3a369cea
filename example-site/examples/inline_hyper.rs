//! The load benchmark's reference: a plain hyper 1.x server that answers every request with a
//! fixed body and the given headers written inline, with no chain. Same runtime, same
//! HTTP/1.1 + HTTP/2 auto builder as the example site's server.
//!
//! `cargo run --release -p example-site --example inline_hyper -- 127.0.0.1:8001 "X-Custom-Header: Hello" ...`
//!
//! With `--gzip`, the gzip benchmark's reference (`bench/gzip.sh`): every request whose
//! `Accept-Encoding` mentions `gzip` gets the body freshly compressed by flate2's `GzEncoder`
//! (zlib-rs, level 6, mtime 0, a file name of 0–99 `a` bytes as padding, as GZipMiddleware
//! writes) and `Content-Encoding: gzip`;
//! other requests get it uncompressed.

use std::convert::Infallible;
use std::io::Write;
use std::sync::atomic::{AtomicU32, Ordering};

use bytes::Bytes;
use http::{HeaderName, HeaderValue};
use http_body_util::Full;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let addr: std::net::SocketAddr = args
        .next()
        .unwrap_or_else(|| "127.0.0.1:8001".into())
        .parse()?;
    let mut headers = Vec::new();
    let mut body = Bytes::from_static(b"Hello, world!");
    let mut gzip = false;
    for arg in args {
        if arg == "--gzip" {
            gzip = true;
            continue;
        }
        // The exact bytes of a file (a shell's `$(cat ...)` would drop a final newline).
        if let Some(path) = arg.strip_prefix("--body-file=") {
            body = Bytes::from(std::fs::read(path)?);
            continue;
        }
        if let Some(text) = arg.strip_prefix("--body=") {
            body = Bytes::from(text.to_owned());
            continue;
        }
        let (name, value) = arg.split_once(':').ok_or("headers are 'Name: value'")?;
        headers.push((
            HeaderName::from_bytes(name.trim().as_bytes())?,
            HeaderValue::from_str(value.trim())?,
        ));
    }
    let headers = std::sync::Arc::new(headers);
    // A cheap per-request padding length in 0..100; the middleware uses `rand`, whose cost is
    // noise next to deflating 20 KB.
    let counter = std::sync::Arc::new(AtomicU32::new(0));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        loop {
            let (stream, _) = listener.accept().await?;
            let _ = stream.set_nodelay(true);
            let headers = headers.clone();
            let body = body.clone();
            let counter = counter.clone();
            tokio::spawn(async move {
                let svc =
                    hyper::service::service_fn(move |req: http::Request<hyper::body::Incoming>| {
                        let accepts_gzip = gzip
                            && req
                                .headers()
                                .get_all(http::header::ACCEPT_ENCODING)
                                .iter()
                                .any(|v| v.as_bytes().windows(4).any(|w| w == b"gzip"));
                        let content = if accepts_gzip {
                            let pad = counter.fetch_add(37, Ordering::Relaxed) % 100;
                            gzip_body(&body, pad as usize)
                        } else {
                            body.clone()
                        };
                        let mut r = http::Response::new(Full::new(content));
                        for (n, v) in headers.iter() {
                            r.headers_mut().append(n.clone(), v.clone());
                        }
                        if accepts_gzip {
                            r.headers_mut().insert(
                                http::header::CONTENT_ENCODING,
                                http::HeaderValue::from_static("gzip"),
                            );
                        }
                        async move { Ok::<_, Infallible>(r) }
                    });
                let _ = auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
        #[allow(unreachable_code)]
        Ok::<(), std::io::Error>(())
    })?;
    Ok(())
}

/// `body` gzipped at level 6 with mtime 0 and a `pad`-byte file name.
fn gzip_body(body: &[u8], pad: usize) -> Bytes {
    let mut enc = flate2::GzBuilder::new().filename(vec![b'a'; pad]).write(
        Vec::with_capacity(body.len() / 2 + 128),
        flate2::Compression::new(6),
    );
    // Writing into a Vec cannot fail.
    let _ = enc.write_all(body);
    Bytes::from(enc.finish().unwrap_or_default())
}
