//! The one body type of the chain: fixed bytes without boxing, or a stream.
//!
//! ```
//! use middleware_core::Body;
//!
//! let body = Body::from("Hello, world!");
//! assert_eq!(body.as_bytes().map(|b| b.len()), Some(13));
//! assert!(!body.is_streaming());
//! ```

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;

use crate::after_response::Pending;
use futures_util::Stream;
use http_body::{Frame, SizeHint};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, StreamBody};

/// The error type of streaming bodies.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A request body slower than the minimum rate the server holds it to (`SERVER_BODY_MIN_RATE`
/// over `SERVER_BODY_READ_TIMEOUT`): reading it fails with this error, and the request is
/// answered 408.
#[derive(Debug, thiserror::Error)]
#[error("the request body brought {received} bytes in {period:?}, below the minimum of {minimum}")]
pub struct BodyTooSlow {
    /// What arrived in the last period.
    pub received: u64,
    /// The period.
    pub period: std::time::Duration,
    /// What had to arrive in it.
    pub minimum: u64,
}

/// A request or response body.
///
/// Fixed bodies (the common case: a view returns a string) and empty bodies are stored inline,
/// so nothing is boxed per request; streaming bodies (`StreamingHttpResponse`, or a request body
/// still arriving from the socket) are a boxed [`http_body::Body`]. Middleware that need the
/// content check [`Body::as_bytes`] and leave streaming bodies streaming, as Django's built-ins do
/// with `response.streaming`.
#[derive(Default)]
pub struct Body {
    kind: Kind,
    /// After-response tasks, spawned when the body is dropped: once it has been sent, read
    /// or abandoned.
    after: Option<Box<Pending>>,
}

#[derive(Default)]
enum Kind {
    #[default]
    Empty,
    Full(Bytes),
    /// In memory, but sent without announcing its length (see [`Body::unannounced`]).
    Unannounced(Bytes),
    Stream(UnsyncBoxBody<Bytes, BoxError>),
}

impl Body {
    /// An empty body.
    pub const fn empty() -> Self {
        Body {
            kind: Kind::Empty,
            after: None,
        }
    }

    /// A streaming body from any [`http_body::Body`].
    pub fn from_http_body<B>(body: B) -> Self
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        Body {
            kind: Kind::Stream(body.map_err(Into::into).boxed_unsync()),
            after: None,
        }
    }

    /// A streaming body from a stream of chunks, Django's `StreamingHttpResponse`.
    pub fn from_stream<S, E>(stream: S) -> Self
    where
        S: Stream<Item = Result<Bytes, E>> + Send + 'static,
        E: Into<BoxError> + 'static,
    {
        use futures_util::TryStreamExt;
        Body::from_http_body(StreamBody::new(
            stream.map_ok(Frame::data).map_err(Into::into),
        ))
    }

    /// The same bytes, but the server will not announce their length itself: the response's
    /// own `Content-Length` header frames it when there is one, and HTTP/1.1 sends it chunked
    /// when there is none. Django leaves `Content-Length` to `CommonMiddleware`, and its
    /// servers send responses without it this way; the server uses this to keep that on the wire.
    pub fn unannounced(self) -> Self {
        let kind = match self.kind {
            Kind::Full(b) => Kind::Unannounced(b),
            // An empty body too: Django's servers send an empty chunked body, not
            // `Content-Length: 0` (a 412 from ConditionalGetMiddleware, say).
            Kind::Empty => Kind::Unannounced(Bytes::new()),
            kind => kind,
        };
        Body {
            kind,
            after: self.after,
        }
    }

    /// Runs `pending` when this body is dropped.
    pub(crate) fn run_after(&mut self, pending: Pending) {
        // A body that has tasks already (a nested chain's) keeps both sets.
        match &mut self.after {
            Some(existing) => existing.absorb(pending),
            None => self.after = Some(Box::new(pending)),
        }
    }

    /// Whether the body is a stream (Django's `response.streaming`).
    pub fn is_streaming(&self) -> bool {
        matches!(self.kind, Kind::Stream(_))
    }

    /// The content of a non-streaming body; `None` for streams.
    pub fn as_bytes(&self) -> Option<&Bytes> {
        static EMPTY: Bytes = Bytes::from_static(b"");
        match &self.kind {
            Kind::Empty => Some(&EMPTY),
            Kind::Full(b) | Kind::Unannounced(b) => Some(b),
            Kind::Stream(_) => None,
        }
    }

    /// Collects the whole body into memory, refusing more than `limit` bytes.
    ///
    /// Returns the bytes and leaves nothing behind; use it on request bodies
    /// through [`crate::RequestBodyExt::body_bytes`], which puts the bytes back so the body can be
    /// read twice.
    pub async fn collect_limited(self, limit: usize) -> Result<Bytes, BodyError> {
        match self.kind {
            Kind::Empty => Ok(Bytes::new()),
            Kind::Full(b) | Kind::Unannounced(b) if b.len() > limit => {
                Err(BodyError::TooLarge { limit })
            }
            Kind::Full(b) | Kind::Unannounced(b) => Ok(b),
            Kind::Stream(mut s) => {
                let mut buf = bytes::BytesMut::new();
                while let Some(frame) = s.frame().await {
                    let frame = frame.map_err(BodyError::Stream)?;
                    if let Ok(data) = frame.into_data() {
                        if buf.len() + data.len() > limit {
                            return Err(BodyError::TooLarge { limit });
                        }
                        buf.extend_from_slice(&data);
                    }
                }
                Ok(buf.freeze())
            }
        }
    }

    /// Collects the whole body with no limit: for responses in tests and the test client.
    pub async fn collect_all(self) -> Result<Bytes, BodyError> {
        self.collect_limited(usize::MAX).await
    }
}

/// Why a body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// The body is larger than the limit (Django's `RequestDataTooBig`).
    #[error("body exceeds the limit of {limit} bytes")]
    TooLarge {
        /// The limit that was exceeded.
        limit: usize,
    },
    /// The underlying stream failed (client went away, bad chunked encoding, ...).
    #[error("error reading body: {0}")]
    Stream(#[source] BoxError),
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Empty => f.write_str("Body::Empty"),
            Kind::Full(b) | Kind::Unannounced(b) => write!(f, "Body::Full({} bytes)", b.len()),
            Kind::Stream(_) => f.write_str("Body::Stream"),
        }
    }
}

impl From<Bytes> for Body {
    fn from(b: Bytes) -> Self {
        if b.is_empty() {
            Body::empty()
        } else {
            Body {
                kind: Kind::Full(b),
                after: None,
            }
        }
    }
}

impl From<String> for Body {
    fn from(s: String) -> Self {
        Body::from(Bytes::from(s))
    }
}

impl From<&'static str> for Body {
    fn from(s: &'static str) -> Self {
        Body::from(Bytes::from_static(s.as_bytes()))
    }
}

impl From<Vec<u8>> for Body {
    fn from(v: Vec<u8>) -> Self {
        Body::from(Bytes::from(v))
    }
}

impl From<&'static [u8]> for Body {
    fn from(v: &'static [u8]) -> Self {
        Body::from(Bytes::from_static(v))
    }
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        match &mut this.kind {
            Kind::Empty => Poll::Ready(None),
            Kind::Full(_) | Kind::Unannounced(_) => {
                let (Kind::Full(b) | Kind::Unannounced(b)) = std::mem::take(&mut this.kind) else {
                    return Poll::Ready(None);
                };
                Poll::Ready(Some(Ok(Frame::data(b))))
            }
            Kind::Stream(s) => Pin::new(s).poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Empty => true,
            Kind::Full(b) => b.is_empty(),
            // Never "ended" up front: hyper would then announce a length of 0.
            Kind::Unannounced(_) => false,
            Kind::Stream(s) => s.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Empty => SizeHint::with_exact(0),
            Kind::Full(b) => SizeHint::with_exact(b.len() as u64),
            Kind::Unannounced(b) => {
                // A lower bound only: not exact, so hyper does not write Content-Length.
                let mut hint = SizeHint::new();
                hint.set_lower(b.len() as u64);
                hint
            }
            Kind::Stream(s) => s.size_hint(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn full_body_is_one_frame_and_exact_size() {
        let body = Body::from("abc");
        assert_eq!(http_body::Body::size_hint(&body).exact(), Some(3));
        assert_eq!(
            body.collect_all().await.unwrap(),
            Bytes::from_static(b"abc")
        );
    }

    #[tokio::test]
    async fn unannounced_body_keeps_its_bytes_but_not_an_exact_length() {
        let body = Body::from("abc").unannounced();
        assert_eq!(http_body::Body::size_hint(&body).exact(), None);
        assert_eq!(http_body::Body::size_hint(&body).lower(), 3);
        assert!(!body.is_streaming());
        assert_eq!(body.as_bytes().map(|b| b.len()), Some(3));
        assert_eq!(
            body.collect_all().await.unwrap(),
            Bytes::from_static(b"abc")
        );

        // Empty too: hyper must not be able to announce `Content-Length: 0`.
        let empty = Body::empty().unannounced();
        assert_eq!(http_body::Body::size_hint(&empty).exact(), None);
        assert!(!http_body::Body::is_end_stream(&empty));
        assert_eq!(empty.collect_all().await.unwrap(), Bytes::new());
    }

    #[tokio::test]
    async fn stream_body_collects_in_order_and_respects_limit() {
        let chunks = (0..3).map(|i| Ok::<_, BoxError>(Bytes::from(format!("c{i}"))));
        let body = Body::from_stream(futures_util::stream::iter(chunks));
        assert!(body.is_streaming());
        assert!(body.as_bytes().is_none());
        assert_eq!(
            body.collect_all().await.unwrap(),
            Bytes::from_static(b"c0c1c2")
        );

        let chunks = (0..3).map(|_| Ok::<_, BoxError>(Bytes::from_static(b"xxxx")));
        let body = Body::from_stream(futures_util::stream::iter(chunks));
        assert!(matches!(
            body.collect_limited(10).await,
            Err(BodyError::TooLarge { limit: 10 })
        ));
    }
}
