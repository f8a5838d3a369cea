//! The connection's socket as hyper sees it: an HTTP/2 connection the server closes lingers
//! until the client has closed too.
//!
//! Why: when an HTTP/2 connection ends on the server's side (graceful shutdown, after GOAWAY
//! and the last stream), the client is still reading the end of the last response and sending
//! WINDOW_UPDATE frames as it does. A socket closed with received data unread, or receiving
//! data after it was closed, is reset by the kernel, and a reset throws away whatever of the
//! response was still in the socket's send buffer: the client lost the last megabytes of a
//! download. So the server half-closes (FIN after all it has sent) and reads, discarding, until
//! the client closes: nginx's `lingering_close`. HTTP/1.1 clients send nothing while they read
//! a response, and are closed at once as before.
//!
//! How long a connection may linger is the watchdog's business, as for any connection with no
//! request in flight: the header read timeout, and the shutdown timeout at shutdown.
//!
//! It also answers 413 where hyper would answer 431: hyper refuses a `Content-Length` of
//! 2^64 - 2 or more (it keeps those values for its own bookkeeping) as a head too large, and
//! writes its 431 itself, before the server sees the request. Any other length above the body
//! limit gets the server's own 413 (`strict::declared_too_large`).

use std::io;
use std::pin::Pin;
use std::sync::{Arc, LazyLock};
use std::task::{ready, Context, Poll};

use memchr::memmem::Finder;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use super::connections::Activity;

/// The HTTP/2 connection preface starts so (RFC 9113 §3.4); no HTTP/1.1 method is `PRI`.
const H2_PREFACE_START: &[u8] = b"PRI ";

/// What hyper refuses as too large a `Content-Length` starts so: 18446744073709551614 and
/// ...615, with leading zeros or not. Other numbers with these digits are not refused by hyper,
/// so they never meet the 431 this looks for; the digits elsewhere in a head (a head refused
/// for too many fields, say) are not taken for a length.
static HUGE_LENGTH: LazyLock<Finder<'static>> =
    LazyLock::new(|| Finder::new(b"1844674407370955161"));

/// What replaces hyper's 431 for a `Content-Length` it could not hold, as the server's own
/// 413 reads.
const TOO_LARGE: &[u8] = b"HTTP/1.1 413 Payload Too Large\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: 22\r\nconnection: close\r\n\r\n413 Payload Too Large\n";

/// hyper's answer to a head it refuses as too large.
const HEAD_TOO_LARGE: &[u8] = b"HTTP/1.1 431 ";

/// A TCP connection that lingers on close when it carries HTTP/2.
pub(super) struct Lingering {
    stream: TcpStream,
    protocol: Protocol,
    /// The write side is shut down; reads now only wait for the client's close.
    draining: bool,
    /// Whether a request is in flight, so that only request heads are looked at.
    activity: Arc<Activity>,
    /// A request head carried a `Content-Length` hyper refuses.
    huge_length: bool,
    /// How much of `TOO_LARGE` has been written in place of hyper's 431.
    replaced: Option<usize>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Protocol {
    /// Nothing read yet.
    Unknown,
    Http1,
    Http2,
}

impl Lingering {
    pub(super) fn new(stream: TcpStream, activity: Arc<Activity>) -> Self {
        Lingering {
            stream,
            protocol: Protocol::Unknown,
            draining: false,
            activity,
            huge_length: false,
            replaced: None,
        }
    }

    /// Looks at what was just read of an HTTP/1.1 request head.
    fn look_at_head(&mut self, read: &[u8]) {
        if self.huge_length {
            return;
        }
        let mut from = 0;
        while let Some(at) = HUGE_LENGTH.find(&read[from..]) {
            let at = from + at;
            // The digits must be a Content-Length's value (a line split across two reads is
            // missed, and hyper's 431 stands).
            let line = memchr::memrchr(b'\n', &read[..at]).map_or(0, |nl| nl + 1);
            let field = &read[line..at];
            if field.len() >= 15 && field[..15].eq_ignore_ascii_case(b"content-length:") {
                self.huge_length = true;
                return;
            }
            from = at + 1;
        }
    }

    /// When hyper answers 431 to a head with a `Content-Length` it refused, writes the
    /// server's 413 instead; `None` for any other write.
    fn poll_replace(
        &mut self,
        cx: &mut Context<'_>,
        first: &[u8],
        len: usize,
    ) -> Option<Poll<io::Result<usize>>> {
        if self.replaced.is_none() {
            if !(self.huge_length && first.starts_with(HEAD_TOO_LARGE)) {
                return None;
            }
            tracing::warn!(target: "django.server", remote_addr = ?self.stream.peer_addr().ok(), "Content-Length of 2^64 - 2 or more, above the request body limit: 413");
            self.replaced = Some(0);
        }
        let mut done = self.replaced.unwrap_or(0);
        while done < TOO_LARGE.len() {
            match Pin::new(&mut self.stream).poll_write(cx, &TOO_LARGE[done..]) {
                Poll::Ready(Ok(0)) => {
                    return Some(Poll::Ready(Err(io::ErrorKind::WriteZero.into())))
                }
                Poll::Ready(Ok(n)) => {
                    done += n;
                    self.replaced = Some(done);
                }
                Poll::Ready(Err(e)) => return Some(Poll::Ready(Err(e))),
                Poll::Pending => return Some(Poll::Pending),
            }
        }
        // What hyper wrote after its head (nothing: the connection closes) is dropped too.
        Some(Poll::Ready(Ok(len)))
    }

    /// Reads and drops what the client still sends, until it closes (or fails).
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut scratch = [0u8; 2048];
        loop {
            let mut buf = ReadBuf::new(&mut scratch);
            match ready!(Pin::new(&mut self.stream).poll_read(cx, &mut buf)) {
                Ok(()) if buf.filled().is_empty() => return Poll::Ready(Ok(())),
                Ok(()) => {}
                // Reset by the client: nothing left to protect.
                Err(_) => return Poll::Ready(Ok(())),
            }
        }
    }
}

impl AsyncRead for Lingering {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.protocol == Protocol::Http2 {
            return Pin::new(&mut this.stream).poll_read(cx, buf);
        }
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.stream).poll_read(cx, buf);
        let read = &buf.filled()[before..];
        if this.protocol == Protocol::Http1 {
            if !read.is_empty() && !this.activity.in_flight() {
                this.look_at_head(read);
            }
            return polled;
        }
        if !read.is_empty() {
            // The preface comes in the client's first segment; a read shorter than its first
            // four bytes that happens to match their start is an HTTP/2 client too.
            let n = read.len().min(H2_PREFACE_START.len());
            if read[..n] == H2_PREFACE_START[..n] {
                this.protocol = Protocol::Http2;
            } else {
                this.protocol = Protocol::Http1;
                this.look_at_head(read);
            }
        }
        polled
    }
}

impl AsyncWrite for Lingering {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if let Some(replaced) = this.poll_replace(cx, buf, buf.len()) {
            return replaced;
        }
        Pin::new(&mut this.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.huge_length {
            let first = bufs
                .iter()
                .find(|b| !b.is_empty())
                .map_or(&[][..], |b| &b[..]);
            let len = bufs.iter().map(|b| b.len()).sum();
            if let Some(replaced) = this.poll_replace(cx, first, len) {
                return replaced;
            }
        }
        Pin::new(&mut this.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.protocol != Protocol::Http2 {
            return Pin::new(&mut this.stream).poll_shutdown(cx);
        }
        if !this.draining {
            ready!(Pin::new(&mut this.stream).poll_shutdown(cx))?;
            this.draining = true;
        }
        this.poll_drain(cx)
    }
}
