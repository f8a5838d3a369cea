//! Bodies as the server hands them on: request bodies held to a minimum rate, and response
//! bodies that tell the watchdog when they wait for the client.

use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;

use super::connections::Busy;
use crate::body::{Body, BodyTooSlow, BoxError};

/// A request body as the view reads it: each `period` it waits must bring `minimum` bytes.
/// The clock starts the first time the body has nothing ready, so a body that arrives with its
/// head never arms a timer; and time the view spends not reading does not count against the
/// client, since what arrived meanwhile is read before the deadline is looked at.
pub(super) struct Paced {
    inner: Incoming,
    period: Duration,
    minimum: u64,
    received: u64,
    deadline: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl Paced {
    pub(super) fn new(inner: Incoming, period: Duration, minimum: u64) -> Self {
        Paced {
            inner,
            period,
            minimum,
            received: 0,
            deadline: None,
        }
    }
}

impl http_body::Body for Paced {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        loop {
            match Pin::new(&mut this.inner).poll_frame(cx) {
                Poll::Ready(Some(Ok(frame))) => {
                    if let Some(data) = frame.data_ref() {
                        this.received += data.len() as u64;
                    }
                    return Poll::Ready(Some(Ok(frame)));
                }
                Poll::Ready(other) => return Poll::Ready(other.map(|r| r.map_err(Into::into))),
                Poll::Pending => {}
            }
            let deadline = match &mut this.deadline {
                Some(d) => d,
                None => {
                    this.received = 0;
                    this.deadline
                        .insert(Box::pin(tokio::time::sleep(this.period)))
                }
            };
            ready!(deadline.as_mut().poll(cx));
            if this.received < this.minimum {
                let slow = BodyTooSlow {
                    received: this.received,
                    period: this.period,
                    minimum: this.minimum,
                };
                tracing::warn!(target: "django.server", received = slow.received, period_s = slow.period.as_secs_f64(), minimum = slow.minimum, "request body too slow: 408");
                return Poll::Ready(Some(Err(Box::new(slow))));
            }
            this.received = 0;
            deadline
                .as_mut()
                .reset(tokio::time::Instant::now() + this.period);
            // Round again: the body may have something by now, and the new deadline must be
            // polled to wake this task.
        }
    }

    fn is_end_stream(&self) -> bool {
        http_body::Body::is_end_stream(&self.inner)
    }

    fn size_hint(&self) -> SizeHint {
        http_body::Body::size_hint(&self.inner)
    }
}

/// A response body as the server sends it: it keeps its request counted as in flight until
/// hyper is done with it, and while hyper holds a frame of it without asking for the next
/// (the client is not reading), it counts as waiting to send (`Activity::send_waits`).
pub(super) struct ServedBody {
    body: Body,
    busy: Busy,
    waiting: bool,
}

impl ServedBody {
    pub(super) fn new(body: Body, busy: Busy) -> Self {
        ServedBody {
            body,
            busy,
            waiting: false,
        }
    }
}

impl http_body::Body for ServedBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = &mut *self;
        if this.waiting {
            this.waiting = false;
            this.busy.0.send_resumed();
            super::streams::frame_taken();
        }
        let polled = Pin::new(&mut this.body).poll_frame(cx);
        // A body's last frame needs no watching: once it is handed over the request is done,
        // and a client that does not read it leaves an idle connection, which the watchdog
        // closes at the header read timeout. Single-frame bodies pay only this check.
        if matches!(polled, Poll::Ready(Some(Ok(_)))) && !http_body::Body::is_end_stream(&this.body)
        {
            this.waiting = true;
            this.busy.0.send_waits();
            super::streams::frame_waits();
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        http_body::Body::is_end_stream(&self.body)
    }

    fn size_hint(&self) -> SizeHint {
        http_body::Body::size_hint(&self.body)
    }
}

impl Drop for ServedBody {
    fn drop(&mut self) {
        if self.waiting {
            self.busy.0.send_resumed();
        }
    }
}
