//! The load benchmark's reference: a plain hyper 1.x server that answers every request with a
//! fixed body and the given headers written inline, with no chain. Same runtime, same
//! HTTP/1.1 + HTTP/2 auto builder as the example site's server.
//!
//! `cargo run --release -p example-site --example inline_hyper -- 127.0.0.1:8001 "X-Custom-Header: Hello" ...`
//!
//! With `--chunked`, the body's length is not announced (HTTP/1.1 chunked framing), as the
//! example site sends a response that no middleware gave a `Content-Length`; `bench/load.sh`
//! passes it when the site's answer is chunked, so both put the same bytes on the wire.
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
    let mut chunked = false;
    for arg in args {
        if arg == "--gzip" {
            gzip = true;
            continue;
        }
        if arg == "--chunked" {
            chunked = true;
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
                        let mut r = http::Response::new(InlineBody {
                            data: Some(content),
                            chunked,
                        });
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

/// The body, sent whole; with `--chunked` its length is not announced, so HTTP/1.1 sends it
/// chunked without `Content-Length`, the framing the example site uses when no middleware sets
/// `Content-Length` (as Django's servers do).
struct InlineBody {
    data: Option<Bytes>,
    chunked: bool,
}

impl hyper::body::Body for InlineBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Infallible>>> {
        std::task::Poll::Ready(self.data.take().map(|d| Ok(hyper::body::Frame::data(d))))
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_none()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        match (&self.data, self.chunked) {
            (_, true) => hyper::body::SizeHint::default(),
            (Some(d), false) => hyper::body::SizeHint::with_exact(d.len() as u64),
            (None, false) => hyper::body::SizeHint::with_exact(0),
        }
    }
}
