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
//! With `--gzip`, the gzip benchmark's reference (`bench/gzip.sh`, `bench/stacks.sh`): every
//! request whose `Accept-Encoding` mentions `gzip` gets the body compressed anew at level 6 by
//! the same flate2 build (zlib-rs), with a deflater each worker thread keeps and resets, as
//! GZipMiddleware keeps a pool (the same gzip header: mtime 0, a file name of 0–99 `a` bytes
//! as padding) and `Content-Encoding: gzip`; other requests get it uncompressed.
//!
//! With `--etag`, every response gets the ETag ConditionalGetMiddleware computes (the MD5 of the
//! uncompressed body, hashed per request as the middleware does), made weak when the body is
//! gzipped (as GZipMiddleware does), and a request whose `If-None-Match` matches gets 304.
//!
//! With `--delay-ms=N`, every answer waits N ms first (a timer, no CPU): the slow upstream of
//! the async benchmark (`bench/async.sh`).

use std::convert::Infallible;
use std::fmt::Write as _;
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
    let mut etag = false;
    let mut delay = None;
    for arg in args {
        if arg == "--etag" {
            etag = true;
            continue;
        }
        if let Some(ms) = arg.strip_prefix("--delay-ms=") {
            delay = Some(std::time::Duration::from_millis(ms.parse()?));
            continue;
        }
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
                        let tag = etag.then(|| md5_etag(&body, accepts_gzip));
                        let not_modified = tag.as_ref().is_some_and(|t| {
                            req.headers()
                                .get(http::header::IF_NONE_MATCH)
                                .is_some_and(|v| v.as_bytes() == t.as_bytes())
                        });
                        let content = if not_modified {
                            Bytes::new()
                        } else if accepts_gzip {
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
                        if let Some(t) = tag {
                            r.headers_mut().insert(http::header::ETAG, t);
                        }
                        if not_modified {
                            *r.status_mut() = http::StatusCode::NOT_MODIFIED;
                        } else if accepts_gzip {
                            r.headers_mut().insert(
                                http::header::CONTENT_ENCODING,
                                http::HeaderValue::from_static("gzip"),
                            );
                        }
                        async move {
                            if let Some(d) = delay {
                                tokio::time::sleep(d).await;
                            }
                            Ok::<_, Infallible>(r)
                        }
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

/// The ETag ConditionalGetMiddleware sets (`"<md5 hex>"`), weak when the body is gzipped.
fn md5_etag(body: &[u8], gzipped: bool) -> HeaderValue {
    use md5::Digest;
    let digest = md5::Md5::digest(body);
    let mut tag = String::with_capacity(36);
    if gzipped {
        tag.push_str("W/");
    }
    tag.push('"');
    for b in digest {
        let _ = write!(tag, "{b:02x}");
    }
    tag.push('"');
    HeaderValue::from_str(&tag).unwrap_or_else(|_| HeaderValue::from_static("\"\""))
}

thread_local! {
    // One deflater per worker thread, reset after each body: GZipMiddleware keeps a pool of
    // reset deflaters for the same reason (a new one costs about 300 KB of zeroed tables).
    static DEFLATER: std::cell::RefCell<flate2::Compress> =
        std::cell::RefCell::new(flate2::Compress::new(flate2::Compression::new(6), false));
}

/// `body` gzipped at level 6 with mtime 0 and a `pad`-byte file name (the header
/// GZipMiddleware writes), deflated by the thread's reused deflater.
fn gzip_body(body: &[u8], pad: usize) -> Bytes {
    let mut out = Vec::with_capacity(body.len() / 2 + 128);
    out.extend_from_slice(&[0x1f, 0x8b, 8, 0x08, 0, 0, 0, 0, 0, 255]);
    out.resize(10 + pad, b'a');
    out.push(0);
    DEFLATER.with(|d| {
        let mut d = d.borrow_mut();
        let mut input = body;
        loop {
            if out.capacity() - out.len() < 64 {
                out.reserve(input.len().max(256) + 64);
            }
            let before = d.total_in();
            match d.compress_vec(input, &mut out, flate2::FlushCompress::Finish) {
                Ok(flate2::Status::StreamEnd) | Err(_) => break,
                Ok(_) => {
                    let used = usize::try_from(d.total_in() - before).unwrap_or(input.len());
                    input = &input[used.min(input.len())..];
                }
            }
        }
        d.reset();
    });
    let mut crc = flate2::Crc::new();
    crc.update(body);
    out.extend_from_slice(&crc.sum().to_le_bytes());
    out.extend_from_slice(&crc.amount().to_le_bytes());
    Bytes::from(out)
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
