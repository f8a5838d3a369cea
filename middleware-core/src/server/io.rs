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

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// The HTTP/2 connection preface starts so (RFC 9113 §3.4); no HTTP/1.1 method is `PRI`.
const H2_PREFACE_START: &[u8] = b"PRI ";

/// A TCP connection that lingers on close when it carries HTTP/2.
pub(super) struct Lingering {
    stream: TcpStream,
    protocol: Protocol,
    /// The write side is shut down; reads now only wait for the client's close.
    draining: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Protocol {
    /// Nothing read yet.
    Unknown,
    Http1,
    Http2,
}

impl Lingering {
    pub(super) fn new(stream: TcpStream) -> Self {
        Lingering {
            stream,
            protocol: Protocol::Unknown,
            draining: false,
        }
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
        if this.protocol != Protocol::Unknown {
            return Pin::new(&mut this.stream).poll_read(cx, buf);
        }
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.stream).poll_read(cx, buf);
        let read = &buf.filled()[before..];
        if !read.is_empty() {
            // The preface comes in the client's first segment; a read shorter than its first
            // four bytes that happens to match their start is an HTTP/2 client too.
            let n = read.len().min(H2_PREFACE_START.len());
            this.protocol = if read[..n] == H2_PREFACE_START[..n] {
                Protocol::Http2
            } else {
                Protocol::Http1
            };
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
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
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
