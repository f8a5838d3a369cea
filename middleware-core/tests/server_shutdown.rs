//! Graceful shutdown of HTTP/2 connections, over real TCP: a stream in flight when the
//! server stops (GOAWAY) is sent to its end, as an HTTP/1.1 response is, and one still running
//! at the shutdown timeout is cut.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::future::Future;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::BodyExt;
use middleware_core::server::{LiveServer, ServerConfig};
use middleware_core::{Error, Request, Response, Router};

mod support;

/// The size of `/big/`: well above what the client's windows and the sockets' buffers hold,
/// so that most of it is still to be sent when the server stops.
const BIG: usize = 16 * 1024 * 1024;

/// `BIG` bytes, as fast as the client takes them.
async fn big(_: &mut Request) -> Result<Response, Error> {
    Ok(support::bulk(BIG))
}

async fn start(shutdown_timeout: Duration) -> LiveServer {
    let mut router = Router::new();
    router
        .route("/big/", big)
        .unwrap()
        .route("/forever/", support::ticking)
        .unwrap();
    let config = ServerConfig::default().shutdown_timeout(shutdown_timeout);
    LiveServer::start(support::chain(router), config)
        .await
        .unwrap()
}

/// A client socket that reads at most 16 KiB a millisecond: a download slower than the
/// server, so that the server's socket holds data not yet sent when the body is done.
struct Throttled {
    inner: tokio::net::TcpStream,
    pause: Option<std::pin::Pin<Box<tokio::time::Sleep>>>,
}

impl tokio::io::AsyncRead for Throttled {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        use std::task::Poll;
        if let Some(pause) = self.pause.as_mut() {
            std::task::ready!(pause.as_mut().poll(cx));
            self.pause = None;
        }
        let mut chunk = [0u8; 16 * 1024];
        let want = buf.remaining().min(chunk.len());
        let mut limited = tokio::io::ReadBuf::new(&mut chunk[..want]);
        let poll = std::pin::Pin::new(&mut self.inner).poll_read(cx, &mut limited);
        if let Poll::Ready(Ok(())) = poll {
            buf.put_slice(limited.filled());
            self.pause = Some(Box::pin(tokio::time::sleep(Duration::from_millis(1))));
        }
        poll
    }
}

impl tokio::io::AsyncWrite for Throttled {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

// The report: SIGTERM during a 100 MiB HTTP/2 download lost its last megabytes, while
// HTTP/1.1 downloads finished. Here the client reads its socket more slowly than the server
// writes, with 1 MiB windows (so it sends window updates all along, as curl does), and the server stops once an eighth
// has arrived: every byte must still come.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_finishes_an_http2_stream_in_flight() {
    let mut server = start(Duration::from_secs(30)).await;
    let addr = server.addr();
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let io = Throttled {
        inner: stream,
        pause: None,
    };
    let window = 1024 * 1024;
    let (mut sender, conn) =
        hyper::client::conn::http2::Builder::new(hyper_util::rt::TokioExecutor::new())
            .initial_stream_window_size(window)
            .initial_connection_window_size(window)
            .handshake::<_, http_body_util::Empty<Bytes>>(hyper_util::rt::TokioIo::new(io))
            .await
            .unwrap();
    tokio::spawn(conn);
    let response = sender
        .send_request(
            http::Request::get(format!("http://{addr}/big/"))
                .body(http_body_util::Empty::<Bytes>::new())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let mut body = response.into_body();
    let mut received = 0usize;
    let mut stopped = false;
    while let Some(frame) = tokio::time::timeout(Duration::from_secs(30), body.frame())
        .await
        .expect("the download goes on")
    {
        let frame = frame.unwrap_or_else(|e| panic!("cut after {received} of {BIG} bytes: {e}"));
        if let Some(data) = frame.data_ref() {
            received += data.len();
        }
        if !stopped && received >= BIG / 8 {
            stopped = true;
            assert!(server.stop());
        }
    }
    assert_eq!(received, BIG);
    tokio::time::timeout(Duration::from_secs(10), server.finished())
        .await
        .expect("serve returns once the stream is done")
        .unwrap();
}

// A stream that is still sending at the shutdown timeout is cut there, and serve returns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_cuts_an_http2_stream_still_running_at_the_timeout() {
    let shutdown_timeout = Duration::from_millis(500);
    let mut server = start(shutdown_timeout).await;
    let addr = server.addr();
    let mut sender = support::h2_client(addr).await;
    let response = sender
        .send_request(
            http::Request::get(format!("http://{addr}/forever/"))
                .body(http_body_util::Empty::<Bytes>::new())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let mut body = response.into_body();
    // The first tick, then shutdown.
    body.frame().await.unwrap().unwrap();
    let stopped = Instant::now();
    assert!(server.stop());
    let mut ticks = 0;
    let ended = loop {
        match tokio::time::timeout(Duration::from_secs(10), body.frame())
            .await
            .expect("the stream ends")
        {
            Some(Ok(_)) => ticks += 1,
            Some(Err(e)) => break Err(e),
            None => break Ok(()),
        }
    };
    let cut_after = stopped.elapsed();
    assert!(ended.is_err(), "the endless stream cannot end cleanly");
    assert!(
        ticks >= 2,
        "it kept streaming during the shutdown timeout: {ticks}"
    );
    assert!(cut_after >= shutdown_timeout, "cut after {cut_after:?}");
    assert!(cut_after < shutdown_timeout * 4, "cut after {cut_after:?}");
    tokio::time::timeout(Duration::from_secs(2), server.finished())
        .await
        .expect("serve returns at the shutdown timeout")
        .unwrap();
}
