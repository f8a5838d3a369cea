//! Tests (unwrap is fine here: a failed unwrap is a failed test).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::convert::Infallible;
use std::io::Read;
use std::task::Poll;

use bytes::Bytes;
use futures_util::stream;
use http::{HeaderMap, StatusCode};
use http_body_util::BodyExt;
use middleware_core::response::{html, streaming};
use middleware_core::{Body, Response};

use super::*;

const COMPRESSIBLE: &[u8] = &[b'a'; 500];
const SHORT: &[u8] = b"This string is too short to be worth compressing.";

fn sequence() -> Vec<Bytes> {
    vec![
        Bytes::from(vec![b'a'; 500]),
        Bytes::from(vec![b'b'; 200]),
        Bytes::from(vec![b'a'; 300]),
    ]
}

fn req_headers(accept: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(header::ACCEPT_ENCODING, accept.parse().unwrap());
    h
}

fn gzip_req() -> HeaderMap {
    req_headers("gzip, deflate")
}

fn page(content: &'static [u8]) -> Response {
    html(StatusCode::OK, Body::from(content))
}

fn stream_page(chunks: Vec<Bytes>) -> Response {
    streaming(
        StatusCode::OK,
        "text/html; charset=UTF-8",
        stream::iter(chunks.into_iter().map(Ok::<_, Infallible>)),
    )
}

/// Decompresses exactly one gzip member and checks nothing follows it.
fn decompress(gz: &[u8]) -> Vec<u8> {
    let mut d = flate2::read::GzDecoder::new(gz);
    let mut out = Vec::new();
    d.read_to_end(&mut out).expect("valid gzip");
    out
}

async fn body_of(r: Response) -> Bytes {
    r.into_body().collect_all().await.unwrap()
}

fn header<'a>(r: &'a Response, name: &str) -> Option<&'a str> {
    r.headers().get(name).and_then(|v| v.to_str().ok())
}

// Django: tests/middleware/tests.py::GZipMiddlewareTest::test_compress_response
#[tokio::test]
async fn compress_response() {
    let r = gzip_with(&gzip_req(), page(COMPRESSIBLE), Padding::default());
    assert_eq!(header(&r, "content-encoding"), Some("gzip"));
    assert_eq!(header(&r, "vary"), Some("Accept-Encoding"));
    let len: usize = header(&r, "content-length").unwrap().parse().unwrap();
    let body = body_of(r).await;
    assert_eq!(len, body.len());
    assert_eq!(decompress(&body), COMPRESSIBLE);
}

// Django: tests/middleware/tests.py::GZipMiddlewareTest::test_compress_streaming_response
// (and ::test_compress_async_streaming_response: every stream is async here)
#[tokio::test]
async fn compress_streaming_response() {
    let mut resp = stream_page(sequence());
    resp.headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from(1000));
    let r = gzip_with(&gzip_req(), resp, Padding::default());
    assert_eq!(header(&r, "content-encoding"), Some("gzip"));
    assert!(r.headers().get("content-length").is_none());
    assert!(r.body().is_streaming());
    assert_eq!(decompress(&body_of(r).await), sequence().concat());
}

// Django: tests/middleware/tests.py::GZipMiddlewareTest::test_compress_streaming_response_unicode
#[tokio::test]
async fn compress_streaming_response_unicode() {
    let chunks = vec![
        Bytes::from("a".repeat(500)),
        Bytes::from("é".repeat(200)),
        Bytes::from("a".repeat(300)),
    ];
    let r = gzip_with(&gzip_req(), stream_page(chunks.clone()), Padding::default());
    assert_eq!(header(&r, "content-encoding"), Some("gzip"));
    assert_eq!(decompress(&body_of(r).await), chunks.concat());
}

// Django: tests/middleware/tests.py::GZipMiddlewareTest::test_compress_file_response
// (a file is a stream of chunks here; this source file stands in for Django's)
#[tokio::test]
async fn compress_file_response() {
    let file = include_bytes!("tests.rs");
    let chunks: Vec<Bytes> = file.chunks(4096).map(Bytes::copy_from_slice).collect();
    let r = gzip_with(&gzip_req(), stream_page(chunks), Padding::default());
    assert_eq!(header(&r, "content-encoding"), Some("gzip"));
    assert_eq!(decompress(&body_of(r).await), file);
}

// Django: tests/middleware/tests.py::GZipMiddlewareTest::test_compress_non_200_response
#[tokio::test]
async fn compress_non_200_response() {
    let mut resp = page(COMPRESSIBLE);
    *resp.status_mut() = StatusCode::NOT_FOUND;
    let r = gzip_with(&gzip_req(), resp, Padding::default());
    assert_eq!(header(&r, "content-encoding"), Some("gzip"));
    assert_eq!(decompress(&body_of(r).await), COMPRESSIBLE);
}

// Django: tests/middleware/tests.py::GZipMiddlewareTest::test_no_compress_short_response
#[tokio::test]
async fn no_compress_short_response() {
    let r = gzip_with(&gzip_req(), page(SHORT), Padding::default());
    assert!(r.headers().get("content-encoding").is_none());
    // Skipped before the Vary patch, as in Django.
    assert!(r.headers().get("vary").is_none());
    assert_eq!(body_of(r).await, SHORT);
}

// Django: tests/middleware/tests.py::GZipMiddlewareTest::test_no_compress_compressed_response
#[tokio::test]
async fn no_compress_compressed_response() {
    let mut resp = page(COMPRESSIBLE);
    resp.headers_mut().insert(
        header::CONTENT_ENCODING,
        HeaderValue::from_static("deflate"),
    );
    let r = gzip_with(&gzip_req(), resp, Padding::default());
    assert_eq!(header(&r, "content-encoding"), Some("deflate"));
    assert_eq!(body_of(r).await, COMPRESSIBLE);
}

// Django: tests/middleware/tests.py::GZipMiddlewareTest::test_no_compress_incompressible_response
#[tokio::test]
async fn no_compress_incompressible_response() {
    // A fixed xorshift sequence: random-looking bytes deflate cannot shrink.
    let mut x: u32 = 0x1234_5678;
    let bytes: Vec<u8> = (0..500)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect();
    let resp = html(StatusCode::OK, Body::from(bytes.clone()));
    let r = gzip_with(&gzip_req(), resp, Padding::default());
    assert!(r.headers().get("content-encoding").is_none());
    // Vary was already patched when compression turned out not to pay.
    assert_eq!(header(&r, "vary"), Some("Accept-Encoding"));
    assert_eq!(body_of(r).await, bytes);
}

// Django: tests/middleware/tests.py::GZipMiddlewareTest::test_compress_deterministic
#[tokio::test]
async fn compress_deterministic() {
    let r1 = body_of(gzip_with(
        &gzip_req(),
        page(COMPRESSIBLE),
        Padding::Disabled,
    ))
    .await;
    let r2 = body_of(gzip_with(
        &gzip_req(),
        page(COMPRESSIBLE),
        Padding::Disabled,
    ))
    .await;
    assert_eq!(r1, r2);
    assert_eq!(&r1[4..8], &[0, 0, 0, 0], "mtime is 0");
    assert_eq!(r1[3], 0, "no FNAME when padding is disabled");
    assert_eq!(decompress(&r1), COMPRESSIBLE);
}

// Django: tests/middleware/tests.py::GZipMiddlewareTest::test_random_bytes
#[tokio::test]
async fn random_bytes() {
    let r = body_of(gzip_with(
        &gzip_req(),
        page(COMPRESSIBLE),
        Padding::Fixed(3),
    ))
    .await;
    assert_eq!(r[3], 0x08, "FNAME flag");
    assert_eq!(&r[10..14], b"aaa\0");
    assert_eq!(decompress(&r), COMPRESSIBLE);
}

// Django: tests/middleware/tests.py::GZipMiddlewareTest::test_random_bytes_streaming_response
#[tokio::test]
async fn random_bytes_streaming_response() {
    let r = gzip_with(&gzip_req(), stream_page(sequence()), Padding::Fixed(3));
    let body = body_of(r).await;
    assert_eq!(body[3], 0x08);
    assert_eq!(&body[10..14], b"aaa\0");
    assert_eq!(decompress(&body), sequence().concat());
}

#[tokio::test]
async fn random_padding_stays_in_range_and_decompresses() {
    for _ in 0..50 {
        let body = body_of(gzip_with(
            &gzip_req(),
            page(COMPRESSIBLE),
            Padding::default(),
        ))
        .await;
        assert_eq!(body[3], 0x08, "non-streaming path always sets FNAME");
        let nul = body[10..].iter().position(|b| *b == 0).unwrap();
        assert!(nul < MAX_RANDOM_BYTES);
        assert!(body[10..10 + nul].iter().all(|b| *b == b'a'));
        assert_eq!(decompress(&body), COMPRESSIBLE);
    }
}

#[tokio::test]
async fn streaming_zero_padding_omits_fname() {
    // GzipFile writes no FNAME for an empty file name; Django's streaming path inherits that.
    let body = body_of(gzip_with(
        &gzip_req(),
        stream_page(sequence()),
        Padding::Fixed(0),
    ))
    .await;
    assert_eq!(body[3], 0);
    assert_eq!(decompress(&body), sequence().concat());
    // The non-streaming path sets FNAME even for an empty name.
    let gz = compress_bytes(COMPRESSIBLE, 0);
    assert_eq!(gz[3], 0x08);
    assert_eq!(gz[10], 0);
    assert_eq!(decompress(&gz), COMPRESSIBLE);
}

// Django: tests/middleware/tests.py::ETagGZipMiddlewareTest::test_strong_etag_modified
#[tokio::test]
async fn strong_etag_modified() {
    let mut resp = page(COMPRESSIBLE);
    resp.headers_mut()
        .insert(header::ETAG, HeaderValue::from_static("\"eggs\""));
    let r = gzip_with(&gzip_req(), resp, Padding::default());
    assert_eq!(header(&r, "etag"), Some("W/\"eggs\""));
}

// Django: tests/middleware/tests.py::ETagGZipMiddlewareTest::test_weak_etag_not_modified
#[tokio::test]
async fn weak_etag_not_modified() {
    let mut resp = page(COMPRESSIBLE);
    resp.headers_mut()
        .insert(header::ETAG, HeaderValue::from_static("W/\"eggs\""));
    let r = gzip_with(&gzip_req(), resp, Padding::default());
    assert_eq!(header(&r, "etag"), Some("W/\"eggs\""));
}

#[tokio::test]
async fn accept_encoding_uses_djangos_regex() {
    for (ae, accepted) in [
        ("gzip", true),
        ("gzip;q=0", true), // q-values are ignored, as in Django
        ("x-gzip", true),   // `-` is a word boundary
        ("br, gzip;q=0.8, deflate", true),
        ("GZIP", false), // case-sensitive
        ("gzipped", false),
        ("deflate, br", false),
        ("", false),
    ] {
        let r = gzip_with(&req_headers(ae), page(COMPRESSIBLE), Padding::default());
        assert_eq!(
            r.headers().get("content-encoding").is_some(),
            accepted,
            "{ae:?}"
        );
        assert_eq!(header(&r, "vary"), Some("Accept-Encoding"), "{ae:?}");
    }
    // Several header lines are joined, as a server does.
    let mut h = HeaderMap::new();
    h.append(header::ACCEPT_ENCODING, "identity".parse().unwrap());
    h.append(header::ACCEPT_ENCODING, "gzip".parse().unwrap());
    let r = gzip_with(&h, page(COMPRESSIBLE), Padding::default());
    assert_eq!(header(&r, "content-encoding"), Some("gzip"));
    // No header at all.
    let r = gzip_with(&HeaderMap::new(), page(COMPRESSIBLE), Padding::default());
    assert!(r.headers().get("content-encoding").is_none());
}

#[tokio::test]
async fn malformed_and_huge_accept_encoding() {
    let mut h = HeaderMap::new();
    h.insert(
        header::ACCEPT_ENCODING,
        HeaderValue::from_bytes(b"\xff\xfe;;,,gzip\x80").unwrap(),
    );
    let r = gzip_with(&h, page(COMPRESSIBLE), Padding::default());
    assert_eq!(header(&r, "content-encoding"), Some("gzip"));

    let huge = format!("{},gzip", "x;q=0.1,".repeat(20_000));
    let r = gzip_with(&req_headers(&huge), page(COMPRESSIBLE), Padding::default());
    assert_eq!(header(&r, "content-encoding"), Some("gzip"));
    let huge = "identity,".repeat(20_000);
    let r = gzip_with(&req_headers(&huge), page(COMPRESSIBLE), Padding::default());
    assert!(r.headers().get("content-encoding").is_none());
}

#[tokio::test]
async fn empty_stream_is_a_valid_empty_gzip() {
    let r = gzip_with(&gzip_req(), stream_page(vec![]), Padding::Fixed(5));
    let body = body_of(r).await;
    assert_eq!(decompress(&body), b"");
    // Empty chunks are skipped, not sent as empty frames.
    let r = gzip_with(
        &gzip_req(),
        stream_page(vec![Bytes::new(), Bytes::from_static(b"x"), Bytes::new()]),
        Padding::Fixed(0),
    );
    assert_eq!(decompress(&body_of(r).await), b"x");
}

#[tokio::test]
async fn stream_error_propagates_as_body_error() {
    #[derive(Debug, thiserror::Error)]
    #[error("source broke")]
    struct Broke;
    let chunks: Vec<Result<Bytes, Broke>> = vec![Ok(Bytes::from(vec![b'a'; 300])), Err(Broke)];
    let resp = streaming(StatusCode::OK, "text/plain", stream::iter(chunks));
    let r = gzip_with(&gzip_req(), resp, Padding::default());
    let mut body = r.into_body();
    let mut data = 0;
    let err = loop {
        match body.frame().await {
            Some(Ok(_)) => data += 1,
            Some(Err(e)) => break e,
            None => panic!("the error was swallowed"),
        }
    };
    assert_eq!(data, 2, "header, then the first chunk");
    assert_eq!(err.to_string(), "source broke");
    assert!(body.frame().await.is_none(), "nothing after the error");
}

#[tokio::test]
async fn streaming_output_is_produced_chunk_by_chunk() {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Result<Bytes, Infallible>>();
    let rx = stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|x| (x, rx)) });
    let resp = streaming(StatusCode::OK, "text/plain", rx);
    let r = gzip_with(&gzip_req(), resp, Padding::Fixed(2));
    let mut body = r.into_body();
    let waker = futures_util::task::noop_waker();
    let mut cx = std::task::Context::from_waker(&waker);
    let mut poll = |body: &mut Body| match http_body::Body::poll_frame(Pin::new(body), &mut cx) {
        Poll::Ready(Some(Ok(f))) => Some(f.into_data().unwrap()),
        Poll::Ready(other) => panic!("unexpected {:?}", other.map(|r| r.is_ok())),
        Poll::Pending => None,
    };
    let header = poll(&mut body).expect("the header comes before any input");
    assert_eq!(
        &header[..],
        &[0x1f, 0x8b, 8, 8, 0, 0, 0, 0, 0, 255, b'a', b'a', 0]
    );
    assert!(poll(&mut body).is_none(), "waits for the source");

    tx.send(Ok(Bytes::from_static(b"first chunk"))).unwrap();
    let first = poll(&mut body).expect("the first chunk is flushed at once");
    // A sync-flushed block decodes on its own: the client sees the text now.
    let mut d = flate2::Decompress::new(false);
    let mut out = Vec::with_capacity(64);
    d.decompress_vec(&first, &mut out, flate2::FlushDecompress::Sync)
        .unwrap();
    assert_eq!(out, b"first chunk");
    assert!(poll(&mut body).is_none(), "the source has not ended");

    tx.send(Ok(Bytes::from_static(b" second"))).unwrap();
    let second = poll(&mut body).unwrap();
    drop(tx);
    let last = poll(&mut body).unwrap();
    assert!(http_body::Body::is_end_stream(&body));
    let all = [&header[..], &first[..], &second[..], &last[..]].concat();
    assert_eq!(decompress(&all), b"first chunk second");
}

#[tokio::test]
async fn gzip_response_is_the_gzip_page_decorator() {
    let r = gzip_response(&gzip_req(), page(COMPRESSIBLE)).await;
    assert_eq!(header(&r, "content-encoding"), Some("gzip"));
    assert_eq!(decompress(&body_of(r).await), COMPRESSIBLE);
    let r = gzip_response(&HeaderMap::new(), page(COMPRESSIBLE)).await;
    assert_eq!(header(&r, "vary"), Some("Accept-Encoding"));
    assert!(r.headers().get("content-encoding").is_none());
}

#[test]
fn compress_bytes_handles_empty_and_large_inputs() {
    assert_eq!(decompress(&compress_bytes(b"", 0)), b"");
    let big: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
    assert_eq!(decompress(&compress_bytes(&big, 99)), big);
}

// Backpressure: the encoder pulls one source chunk per frame it is asked for, so a fast source
// behind a slow client is never read ahead (bench/gzip_memory.sh measures the same end to end).
#[tokio::test]
async fn streaming_reads_the_source_only_as_fast_as_the_client() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let pulled = Arc::new(AtomicUsize::new(0));
    let counter = pulled.clone();
    let chunks = (0..10_000u32).map(move |i| {
        counter.fetch_add(1, Ordering::SeqCst);
        Ok::<_, Infallible>(Bytes::from(format!("chunk {i} {}\n", "z".repeat(1000))))
    });
    let resp = streaming(StatusCode::OK, "text/plain", stream::iter(chunks));
    let mut body = gzip_with(&gzip_req(), resp, Padding::Fixed(1)).into_body();
    assert_eq!(
        pulled.load(Ordering::SeqCst),
        0,
        "nothing is read before the first poll"
    );
    for frames in 1..=6 {
        body.frame().await.unwrap().unwrap();
        // The first frame is the header, read before any input.
        assert_eq!(pulled.load(Ordering::SeqCst), frames - 1);
    }
}

// The pooled deflaters of the middleware are reset between responses: every response is
// byte-identical to a fresh deflater's, whatever was compressed before with the same one.
#[tokio::test]
async fn pooled_deflaters_give_the_same_bytes_as_fresh_ones() {
    let pool = CompressorPool::default();
    let bodies: Vec<Vec<u8>> = (0..20)
        .map(|i| {
            (0..(300 + i * 997))
                .map(|j| b"abcdefgh"[(j * (i + 3)) % 8])
                .collect()
        })
        .collect();
    for (i, content) in bodies.iter().enumerate() {
        let resp = html(StatusCode::OK, Body::from(content.clone()));
        let r = gzip_pooled(&gzip_req(), resp, Padding::Fixed(i % 5), Some(&pool));
        assert_eq!(header(&r, "content-encoding"), Some("gzip"), "{i}");
        let got = body_of(r).await;
        assert_eq!(got, compress_with(content, Some(i % 5)), "{i}");
        assert_eq!(decompress(&got), *content, "{i}");
    }
    let idle = pool.idle.lock().unwrap().len();
    assert_eq!(idle, 1, "one deflater served every sequential response");
}

// The pool keeps at most POOL_MAX idle deflaters, however many were in use at once.
#[test]
fn pool_is_bounded() {
    let pool = CompressorPool::default();
    let taken: Vec<Compress> = (0..POOL_MAX + 5).map(|_| pool.take()).collect();
    for c in taken {
        pool.put(c);
    }
    assert_eq!(pool.idle.lock().unwrap().len(), POOL_MAX);
}

// One, two and three Accept-Encoding lines: each line is searched, joined with ",", so a gzip
// on any line counts, and words do not run together across lines.
#[test]
fn accept_encoding_over_several_lines() {
    let lines = |values: &[&str]| {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(header::ACCEPT_ENCODING, v.parse().unwrap());
        }
        accepts_gzip(&h)
    };
    assert!(!lines(&[]));
    assert!(lines(&["gzip"]));
    assert!(!lines(&["br"]));
    assert!(lines(&["br", "deflate", "gzip;q=0.5"]));
    assert!(lines(&["br", "gzip", "deflate"]));
    assert!(!lines(&["br", "deflate", "identity"]));
    assert!(!lines(&["g", "zip"]), "lines are joined with a comma");
    assert!(!lines(&["xgzip", "gzipx"]));
}
