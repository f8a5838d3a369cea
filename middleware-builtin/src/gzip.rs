//! `GZipMiddleware`: Django's `django.middleware.gzip.GZipMiddleware`.
//!
//! Compresses responses for clients whose `Accept-Encoding` mentions `gzip`, with Django's
//! BREACH mitigation (a random-length file name in the gzip header). Streaming bodies are
//! compressed as they stream, one sync-flushed gzip block per input chunk.
//!
//! ```
//! use middleware_builtin::gzip::compress_bytes;
//!
//! let body = b"a".repeat(500);
//! let gz = compress_bytes(&body, 3);
//! assert_eq!(&gz[..4], &[0x1f, 0x8b, 8, 0x08]); // gzip magic, deflate, FNAME
//! assert_eq!(&gz[10..14], b"aaa\0"); // the random-length padding
//! assert!(gz.len() < body.len());
//! ```
//!
//! The `gzip_page` view decorator is [`gzip_response`], which a view calls on its own response.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};

use bytes::Bytes;
use flate2::{Compress, Compression, Crc, FlushCompress, Status};
use http::header::{self, HeaderMap, HeaderValue};
use http_body::{Frame, SizeHint};
use middleware_core::body::BoxError;
use middleware_core::response::ResponseExt;
use middleware_core::{Body, Error, Hook, Hooks, Registry, Request, Response};
use rand::Rng;
use regex::Regex;

/// Django's `GZipMiddleware.max_random_bytes`: the padding is 0 to 99 bytes.
pub const MAX_RANDOM_BYTES: usize = 100;

/// Bodies shorter than this are not worth compressing (Django's constant).
pub const MIN_LENGTH: usize = 200;

/// Django's compression level (`compresslevel=6`).
const LEVEL: u32 = 6;

/// How the gzip header is padded against BREACH-style length oracles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Padding {
    /// A random length in `0..max` per response (Django's default, `max` = 100).
    Random(usize),
    /// Always this many bytes: deterministic output, for tests (Django mocks `randbelow`).
    Fixed(usize),
    /// No file name at all (Django's `max_random_bytes = 0`).
    Disabled,
}

impl Default for Padding {
    fn default() -> Self {
        Padding::Random(MAX_RANDOM_BYTES)
    }
}

impl Padding {
    /// The padding length for one response; `None` when padding is disabled.
    fn length(self) -> Option<usize> {
        match self {
            Padding::Random(0) | Padding::Disabled => None,
            Padding::Random(max) => Some(rand::thread_rng().gen_range(0..max)),
            Padding::Fixed(n) => Some(n),
        }
    }
}

/// The 10-byte gzip header (RFC 1952) with mtime 0, optionally followed by the FNAME padding.
///
/// XFL 0 and OS 255 ("unknown") are what Python's `gzip` writes at level 6. `room` is extra
/// capacity for what follows, so appending the deflated body does not move the header.
fn gzip_header(fname: Option<usize>, room: usize) -> Vec<u8> {
    let flags = if fname.is_some() { 0x08 } else { 0 };
    let mut h = Vec::with_capacity(10 + fname.map_or(0, |n| n + 1) + room);
    h.extend_from_slice(&[0x1f, 0x8b, 8, flags, 0, 0, 0, 0, 0, 255]);
    if let Some(n) = fname {
        h.resize(10 + n, b'a');
        h.push(0);
    }
    h
}

/// The gzip trailer: CRC32 and input size modulo 2^32, little-endian.
fn gzip_trailer(crc: &Crc, out: &mut Vec<u8>) {
    out.extend_from_slice(&crc.sum().to_le_bytes());
    out.extend_from_slice(&crc.amount().to_le_bytes());
}

/// Runs `input` through the deflater with `flush`, appending everything produced to `out`.
///
/// Returns when the input is consumed and the flush is complete (for `Finish`: the stream
/// ended). A deflater that makes no progress with room to spare is done too, so this cannot
/// spin.
fn deflate_into(
    c: &mut Compress,
    mut input: &[u8],
    flush: FlushCompress,
    out: &mut Vec<u8>,
) -> Result<(), flate2::CompressError> {
    loop {
        if out.capacity() - out.len() < 64 {
            // Deflate rarely expands by more than a few bytes per block; grow by the input
            // size so one more round usually suffices.
            out.reserve(input.len().max(256) + 64);
        }
        let (before_in, before_out) = (c.total_in(), c.total_out());
        let status = c.compress_vec(input, out, flush)?;
        let consumed = usize::try_from(c.total_in() - before_in).unwrap_or(input.len());
        let produced = c.total_out() - before_out;
        input = input.get(consumed..).unwrap_or(&[]);
        let room_left = out.len() < out.capacity();
        match status {
            Status::StreamEnd => return Ok(()),
            _ if matches!(flush, FlushCompress::Finish) => {
                if consumed == 0 && produced == 0 && room_left {
                    return Ok(());
                }
            }
            _ => {
                if input.is_empty() && room_left {
                    return Ok(());
                }
            }
        }
    }
}

/// Gzips `data` at level 6 with mtime 0 and an FNAME of `random_len` `a` bytes plus NUL, as
/// Django's `compress_string(s, max_random_bytes=...)` does (FNAME always set).
pub fn compress_bytes(data: &[u8], random_len: usize) -> Vec<u8> {
    compress_with(data, Some(random_len))
}

/// Gzips `data`; `fname` is the padding length, `None` for no FNAME.
fn compress_with(data: &[u8], fname: Option<usize>) -> Vec<u8> {
    compress_using(&mut new_compress(), data, fname)
}

/// A raw deflater at Django's level.
fn new_compress() -> Compress {
    Compress::new(Compression::new(LEVEL), false)
}

/// Gzips `data` with `c`, a fresh or reset deflater (left finished: reset it before reuse).
fn compress_using(c: &mut Compress, data: &[u8], fname: Option<usize>) -> Vec<u8> {
    let mut out = gzip_header(fname, data.len() / 2 + 64);
    // Deflating a slice into a growable Vec cannot fail: errors come only from misuse of the
    // stream state, which this function owns from start to end.
    if let Err(e) = deflate_into(c, data, FlushCompress::Finish, &mut out) {
        tracing::error!(error = %e, "deflate failed");
    }
    let mut crc = Crc::new();
    crc.update(data);
    gzip_trailer(&crc, &mut out);
    out
}

/// How many idle deflaters a [`GZipMiddleware`] keeps for reuse. One per request being
/// compressed at the same moment is enough; more would only hold memory (about 300 KB each).
const POOL_MAX: usize = 16;

/// Idle deflaters of one middleware instance, reset and ready.
///
/// Allocating and zeroing a level-6 deflater's window and hash tables (about 300 KB) per
/// response cost a tenth of the time of compressing a 20 KB page; a reset deflater only clears
/// its hash heads.
#[derive(Default)]
struct CompressorPool {
    idle: Mutex<Vec<Compress>>,
}

impl CompressorPool {
    fn take(&self) -> Compress {
        // A poisoned lock only means another thread panicked while pushing or popping; the Vec
        // is still a valid list of reset deflaters.
        let popped = self
            .idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop();
        popped.unwrap_or_else(new_compress)
    }

    fn put(&self, mut c: Compress) {
        c.reset();
        let mut idle = self
            .idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if idle.len() < POOL_MAX {
            idle.push(c);
        }
    }
}

fn accepts_gzip_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    // Django's `re_accepts_gzip`; the pattern is a literal, so it always compiles. A
    // case-sensitive, q-value-blind search, on purpose: it is Django's rule.
    RE.get_or_init(|| Regex::new(r"\bgzip\b").unwrap_or_else(|_| unreachable!()))
}

/// Whether `Accept-Encoding` (every line, joined with "," as a WSGI/ASGI server does) matches
/// Django's `\bgzip\b`.
fn accepts_gzip(headers: &HeaderMap) -> bool {
    let mut lines = headers.get_all(header::ACCEPT_ENCODING).iter();
    let (Some(first), second) = (lines.next(), lines.next()) else {
        return false;
    };
    let Some(second) = second else {
        // The usual single line is searched in place (no copy when it is valid UTF-8).
        return accepts_gzip_re().is_match(&String::from_utf8_lossy(first.as_bytes()));
    };
    let joined = [first, second]
        .into_iter()
        .chain(lines)
        .map(|v| String::from_utf8_lossy(v.as_bytes()))
        .collect::<Vec<_>>()
        .join(",");
    accepts_gzip_re().is_match(&joined)
}

/// Django's `GZipMiddleware.process_response`, on a response to a request with `req_headers`.
fn gzip_with(req_headers: &HeaderMap, response: Response, padding: Padding) -> Response {
    gzip_pooled(req_headers, response, padding, None)
}

/// [`gzip_with`], taking the deflater for an in-memory body from `pool` when there is one.
fn gzip_pooled(
    req_headers: &HeaderMap,
    mut response: Response,
    padding: Padding,
    pool: Option<&CompressorPool>,
) -> Response {
    if let Some(content) = response.content() {
        if content.len() < MIN_LENGTH {
            return response;
        }
    }
    if response.headers().contains_key(header::CONTENT_ENCODING) {
        return response;
    }
    response.patch_vary_headers(&["Accept-Encoding"]);
    if !accepts_gzip(req_headers) {
        return response;
    }

    if response.is_streaming() {
        let body = std::mem::take(response.body_mut());
        *response.body_mut() = Body::from_http_body(GzipBody::new(body, padding.length()));
        response.headers_mut().remove(header::CONTENT_LENGTH);
    } else {
        let Some(content) = response.content() else {
            return response;
        };
        // Django: `max_random_bytes = 0` means no FNAME; otherwise it is always set here.
        let compressed = match pool {
            Some(pool) => {
                let mut c = pool.take();
                let compressed = compress_using(&mut c, content, padding.length());
                pool.put(c);
                compressed
            }
            None => compress_with(content, padding.length()),
        };
        if compressed.len() >= content.len() {
            return response;
        }
        let len = compressed.len();
        *response.body_mut() = Body::from(compressed);
        response
            .headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    }

    // A strong ETag would promise byte-identical content across encodings (RFC 9110 §8.8.1).
    let weakened = response
        .headers()
        .get(header::ETAG)
        .filter(|v| v.as_bytes().starts_with(b"\""))
        .map(|v| [b"W/".as_slice(), v.as_bytes()].concat());
    if let Some(w) = weakened.and_then(|w| HeaderValue::from_bytes(&w).ok()) {
        response.headers_mut().insert(header::ETAG, w);
    }
    response
        .headers_mut()
        .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    response
}

/// Django's `gzip_page` decorator: a view compresses its own response with it.
///
/// ```
/// use middleware_core::{Error, Request, Response};
///
/// async fn page(req: &mut Request) -> Result<Response, Error> {
///     let response = Response::new("x".repeat(1000).into());
///     Ok(middleware_builtin::gzip::gzip_response(req.headers(), response).await)
/// }
/// ```
pub async fn gzip_response(req_headers: &HeaderMap, response: Response) -> Response {
    gzip_with(req_headers, response, Padding::default())
}

/// Django's `GZipMiddleware`.
#[derive(Clone, Default)]
pub struct GZipMiddleware {
    padding: Padding,
    pool: Arc<CompressorPool>,
}

impl std::fmt::Debug for GZipMiddleware {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GZipMiddleware")
            .field("padding", &self.padding)
            .finish_non_exhaustive()
    }
}

impl GZipMiddleware {
    /// The middleware with Django's random padding (0–99 bytes).
    pub fn new() -> Self {
        Self::default()
    }

    /// The middleware with the given padding (tests fix it, as Django's tests mock `randbelow`).
    pub fn with_padding(padding: Padding) -> Self {
        GZipMiddleware {
            padding,
            pool: Arc::default(),
        }
    }
}

impl Hooks for GZipMiddleware {
    fn process_response<'a>(
        &'a self,
        request: &'a mut Request,
        response: &'a mut Response,
    ) -> Hook<'a, Result<(), Error>> {
        let taken = std::mem::take(response);
        *response = gzip_pooled(request.headers(), taken, self.padding, Some(&self.pool));
        Hook::Ready(Ok(()))
    }
}

/// Registers `GZipMiddleware` (also as `django.middleware.gzip.GZipMiddleware`).
pub fn register(registry: &mut Registry) {
    registry
        .register_ready_hooks("GZipMiddleware", |_ctx| Ok(GZipMiddleware::new()))
        .alias("django.middleware.gzip.GZipMiddleware");
}

/// Where a [`GzipBody`] is in its output.
enum State {
    /// Nothing sent yet: the header goes first, before the source is polled.
    Header,
    /// Compressing the source's chunks.
    Body,
    /// The gzip trailer has been sent; trailers of the source (if any) may follow.
    Done,
}

/// A streaming gzip encoder around any body: Django's `compress_sequence`.
///
/// The header is the first frame; each data frame of the source is deflated with a sync flush
/// and sent at once, so a slow stream reaches the client chunk by chunk; memory stays bounded
/// by one chunk. An error of the source ends the body with that error.
pub struct GzipBody<B> {
    inner: B,
    state: State,
    fname: Option<usize>,
    compress: Compress,
    crc: Crc,
    /// Source trailers, sent after the gzip trailer.
    trailers: VecDeque<HeaderMap>,
}

impl<B> std::fmt::Debug for GzipBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GzipBody").finish_non_exhaustive()
    }
}

impl<B> GzipBody<B> {
    /// Wraps `inner`; `fname` is the padding length (`None` or `Some(0)`: no FNAME, as
    /// `GzipFile` omits an empty file name).
    pub fn new(inner: B, fname: Option<usize>) -> Self {
        GzipBody {
            inner,
            state: State::Header,
            fname: fname.filter(|n| *n > 0),
            compress: Compress::new(Compression::new(LEVEL), false),
            crc: Crc::new(),
            trailers: VecDeque::new(),
        }
    }
}

impl<B> http_body::Body for GzipBody<B>
where
    B: http_body::Body<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        loop {
            match this.state {
                State::Header => {
                    this.state = State::Body;
                    return Poll::Ready(Some(Ok(Frame::data(Bytes::from(gzip_header(
                        this.fname, 0,
                    ))))));
                }
                State::Done => {
                    return Poll::Ready(this.trailers.pop_front().map(|t| Ok(Frame::trailers(t))));
                }
                State::Body => {}
            }
            let frame = match Pin::new(&mut this.inner).poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Err(e))) => {
                    this.state = State::Done;
                    this.trailers.clear();
                    return Poll::Ready(Some(Err(e.into())));
                }
                Poll::Ready(Some(Ok(frame))) => frame,
                Poll::Ready(None) => {
                    this.state = State::Done;
                    let mut out = Vec::with_capacity(64);
                    if let Err(e) =
                        deflate_into(&mut this.compress, &[], FlushCompress::Finish, &mut out)
                    {
                        return Poll::Ready(Some(Err(Box::new(e))));
                    }
                    gzip_trailer(&this.crc, &mut out);
                    return Poll::Ready(Some(Ok(Frame::data(Bytes::from(out)))));
                }
            };
            match frame.into_data() {
                Ok(data) => {
                    if data.is_empty() {
                        continue;
                    }
                    this.crc.update(&data);
                    let mut out = Vec::with_capacity(data.len() / 2 + 64);
                    if let Err(e) =
                        deflate_into(&mut this.compress, &data, FlushCompress::Sync, &mut out)
                    {
                        this.state = State::Done;
                        return Poll::Ready(Some(Err(Box::new(e))));
                    }
                    if !out.is_empty() {
                        return Poll::Ready(Some(Ok(Frame::data(Bytes::from(out)))));
                    }
                }
                Err(frame) => {
                    if let Ok(t) = frame.into_trailers() {
                        this.trailers.push_back(t);
                    }
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self.state, State::Done) && self.trailers.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

#[cfg(test)]
mod tests;
