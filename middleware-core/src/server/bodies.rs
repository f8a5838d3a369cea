//! Bodies as the server hands them on.

use std::pin::Pin;
use std::task::{Context, Poll};

use super::connections::Busy;
use crate::body::Body;

/// A response body as the server sends it: it keeps its request counted as in flight until
/// hyper is done with it.
pub(super) struct ServedBody {
    pub(super) body: Body,
    pub(super) _busy: Busy,
}

impl http_body::Body for ServedBody {
    type Data = bytes::Bytes;
    type Error = crate::body::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        http_body::Body::is_end_stream(&self.body)
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::Body::size_hint(&self.body)
    }
}
