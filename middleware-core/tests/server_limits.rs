//! The server's bounds on slow and greedy clients, over real TCP, with timeouts short enough
//! to run in seconds: a request body trickled below the minimum rate is answered 408, a client
//! that stops reading its response is disconnected at the send timeout, and connections past
//! the limit wait in the backlog while the open ones keep being served.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::StatusCode;
use http_body_util::BodyExt;
use middleware_core::server::{LiveServer, ServerConfig};
use middleware_core::{Error, Request, RequestBodyExt, Response, Router};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

mod support;
use support::read_until_closed;

const PERIOD: Duration = Duration::from_millis(500);
const BIG: usize = 32 * 1024 * 1024;

async fn hello(_: &mut Request) -> Result<Response, Error> {
    Ok(middleware_core::response::text(StatusCode::OK, "hello"))
}

/// The length of the request body, read whole.
async fn length(request: &mut Request) -> Result<Response, Error> {
    let body = request.body_bytes().await?;
    Ok(middleware_core::response::text(
        StatusCode::OK,
        format!("length={}", body.len()),
    ))
}

/// As `length`, after three body read periods spent on something else.
async fn late_reader(request: &mut Request) -> Result<Response, Error> {
    tokio::time::sleep(PERIOD * 3).await;
    length(request).await
}

/// `BIG` bytes, as fast as the client takes them.
async fn big(_: &mut Request) -> Result<Response, Error> {
    Ok(support::bulk(BIG))
}

async fn start(config: ServerConfig) -> LiveServer {
    let mut router = Router::new();
    router
        .route("/", hello)
        .unwrap()
        .route("/length/", length)
        .unwrap()
        .route("/late/", late_reader)
        .unwrap()
        .route("/big/", big)
        .unwrap()
        .route("/ticking/", support::ticking)
        .unwrap();
    LiveServer::start(support::chain(router), config)
        .await
        .unwrap()
}

/// 10 bytes a second over each `PERIOD`: 5 bytes per period.
fn paced() -> ServerConfig {
    ServerConfig::default()
        .body_read_timeout(PERIOD)
        .body_min_rate(10)
}

const POST_HEAD: &str =
    "POST {path} HTTP/1.1\r\nHost: a\r\nContent-Type: text/plain\r\nContent-Length: 20\r\n\r\n";

// The slow body: one byte every few seconds kept a connection for good. Here a byte
// every 400 ms is below 5 bytes per 500 ms: the view's read fails, the answer is 408 and the
// connection closes, within two periods.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trickled_request_body_is_answered_408() {
    let server = start(paced()).await;
    let s = TcpStream::connect(server.addr()).await.unwrap();
    let (mut reader, mut writer) = s.into_split();
    writer
        .write_all(POST_HEAD.replace("{path}", "/length/").as_bytes())
        .await
        .unwrap();
    let sent = Instant::now();
    let trickle = async {
        for _ in 0..20 {
            tokio::time::sleep(Duration::from_millis(400)).await;
            if writer.write_all(b"x").await.is_err() {
                break;
            }
        }
    };
    let mut answer = Vec::new();
    tokio::select! {
        _ = trickle => panic!("the whole body was accepted"),
        _ = reader.read_to_end(&mut answer) => {}
    }
    let took = sent.elapsed();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408 "), "{answer}");
    // The timer's millisecond rounding may end the period a hair before the client's clock.
    assert!(took >= PERIOD * 9 / 10, "answered after {took:?}");
    assert!(took < PERIOD * 3, "answered after {took:?}");
}

// Bodies at a fair pace are read whole: all at once, in pieces each period, or while the view
// did something else first (the time it spends not reading is not the client's).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_bodies_at_the_minimum_rate_or_above_are_read() {
    let server = start(paced()).await;
    let addr = server.addr();
    let whole = support::raw(
        addr,
        &format!(
            "{}xxxxxxxxxxxxxxxxxxxx",
            POST_HEAD
                .replace("{path}", "/length/")
                .replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n")
        ),
    )
    .await;
    assert!(
        whole.starts_with("HTTP/1.1 200 ") && whole.contains("length=20"),
        "{whole}"
    );

    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(
        POST_HEAD
            .replace("{path}", "/length/")
            .replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n")
            .as_bytes(),
    )
    .await
    .unwrap();
    // 5 bytes every 300 ms: over any period of 500 ms, at least 5.
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        s.write_all(b"xxxxx").await.unwrap();
    }
    let (paced_answer, _) = read_until_closed(&mut s).await;
    assert!(paced_answer.contains("length=20"), "{paced_answer}");

    let late = support::raw(
        addr,
        &format!(
            "{}xxxxxxxxxxxxxxxxxxxx",
            POST_HEAD
                .replace("{path}", "/late/")
                .replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n")
        ),
    )
    .await;
    assert!(late.contains("length=20"), "{late}");
}

/// Waits (up to 10 s) until the HTTP/2 client's connection is closed.
async fn until_closed(
    sender: &hyper::client::conn::http2::SendRequest<http_body_util::Empty<Bytes>>,
) -> Instant {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !sender.is_closed() {
        assert!(Instant::now() < deadline, "the connection stays open");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Instant::now()
}

// The stalled client: an HTTP/2 client that never reads its response held it for good.
// With its window full, the server waits the send timeout and drops the connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http2_client_that_stops_reading_is_dropped_at_the_send_timeout() {
    let server = start(ServerConfig::default().send_timeout(PERIOD)).await;
    let addr = server.addr();
    let mut sender = support::h2_client(addr).await;
    let response = sender
        .send_request(
            http::Request::get(format!("http://{addr}/big/"))
                .body(http_body_util::Empty::<Bytes>::new())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let asked = Instant::now();
    // The body is never read: the client's window (64 KiB) fills and stays full.
    let closed = until_closed(&sender).await;
    let waited = closed - asked;
    assert!(waited >= PERIOD, "dropped after {waited:?}");
    assert!(waited < PERIOD * 4, "dropped after {waited:?}");
    drop(response);
}

// The same over HTTP/1.1: a client that stops reading fills the sockets, and is dropped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http1_client_that_stops_reading_is_dropped_at_the_send_timeout() {
    let server = start(ServerConfig::default().send_timeout(PERIOD)).await;
    let mut s = TcpStream::connect(server.addr()).await.unwrap();
    s.write_all(b"GET /big/ HTTP/1.1\r\nHost: a\r\n\r\n")
        .await
        .unwrap();
    tokio::time::sleep(PERIOD * 4).await;
    // What the sockets held, then the close: far from the whole body.
    let mut got = 0usize;
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => got += n,
            Err(_) => panic!("the connection stays open after {got} bytes"),
        }
    }
    assert!(got < BIG / 2, "{got} bytes");
}

// A view slow to produce its body is no stalled client: a stream ticking every 100 ms is
// read for three send timeouts, over HTTP/2, and goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_stream_read_by_its_client_is_not_cut_by_the_send_timeout() {
    let server = start(ServerConfig::default().send_timeout(PERIOD)).await;
    let addr = server.addr();
    let mut sender = support::h2_client(addr).await;
    let response = sender
        .send_request(
            http::Request::get(format!("http://{addr}/ticking/"))
                .body(http_body_util::Empty::<Bytes>::new())
                .unwrap(),
        )
        .await
        .unwrap();
    let mut body = response.into_body();
    let started = Instant::now();
    let mut ticks = 0;
    while started.elapsed() < PERIOD * 3 {
        body.frame().await.unwrap().unwrap();
        ticks += 1;
    }
    assert!(ticks >= 10, "{ticks}");
    assert!(!sender.is_closed());
}

/// Sends `GET /` on the connection and reads the (chunked) answer, or nothing within `wait`.
async fn get_within(stream: &mut TcpStream, wait: Duration) -> Option<String> {
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        .await
        .unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + wait;
    while !buf.ends_with(b"\r\n0\r\n\r\n") {
        match tokio::time::timeout_at(deadline, stream.read(&mut chunk)).await {
            Err(_) => return None,
            Ok(n) => {
                let n = n.unwrap();
                assert!(n > 0, "closed: {:?}", String::from_utf8_lossy(&buf));
                buf.extend_from_slice(&chunk[..n]);
            }
        }
    }
    Some(String::from_utf8_lossy(&buf).into_owned())
}

/// Reads what is left of a chunked answer to a request sent earlier, within `wait`.
async fn answer_within(stream: &mut TcpStream, wait: Duration) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !buf.ends_with(b"\r\n0\r\n\r\n") {
        let n = tokio::time::timeout(wait, stream.read(&mut chunk))
            .await
            .expect("answered in time")
            .unwrap();
        assert!(n > 0, "closed: {:?}", String::from_utf8_lossy(&buf));
        buf.extend_from_slice(&chunk[..n]);
    }
    String::from_utf8_lossy(&buf).into_owned()
}

/// Starts `GET /ticking/` on a fresh connection and reads its first tick: a connection with a
/// request in flight for good.
async fn busy_connection(addr: std::net::SocketAddr) -> TcpStream {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /ticking/ HTTP/1.1\r\nHost: a\r\n\r\n")
        .await
        .unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !String::from_utf8_lossy(&buf).contains("tick;") {
        let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut chunk))
            .await
            .unwrap()
            .unwrap();
        assert!(n > 0);
        buf.extend_from_slice(&chunk[..n]);
    }
    s
}

// With room for two connections, both busy (a response streaming), a third is not served: it
// waits while the two keep being served, and is served when one closes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_past_the_limit_wait_while_the_open_ones_are_busy() {
    let server = start(ServerConfig::default().max_connections(2)).await;
    let addr = server.addr();
    let mut first = busy_connection(addr).await;
    let mut second = busy_connection(addr).await;
    let mut third = TcpStream::connect(addr).await.unwrap();
    assert_eq!(
        get_within(&mut third, Duration::from_millis(500)).await,
        None
    );
    // Both still stream: each has more ticks to read.
    for s in [&mut first, &mut second] {
        let mut chunk = [0u8; 256];
        let n = tokio::time::timeout(Duration::from_secs(2), s.read(&mut chunk))
            .await
            .unwrap()
            .unwrap();
        assert!(n > 0);
    }
    drop(first);
    // The request sent earlier is answered now.
    let answer = answer_within(&mut third, Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

// nginx's habit at its connection limit (ngx_drain_connections): an idle keep-alive connection
// is closed to serve a new one at once, instead of the new one waiting up to the header read
// timeout (30 s here) for the idle one to go. The one idle the longest goes first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_keep_alive_connections_make_room_for_a_new_one_at_the_limit() {
    let server = start(ServerConfig::default().max_connections(2)).await;
    let addr = server.addr();
    let mut older = TcpStream::connect(addr).await.unwrap();
    assert!(get_within(&mut older, Duration::from_secs(5))
        .await
        .unwrap()
        .starts_with("HTTP/1.1 200"));
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut newer = TcpStream::connect(addr).await.unwrap();
    assert!(get_within(&mut newer, Duration::from_secs(5))
        .await
        .unwrap()
        .starts_with("HTTP/1.1 200"));
    let mut third = TcpStream::connect(addr).await.unwrap();
    let answer = get_within(&mut third, Duration::from_secs(2))
        .await
        .expect("served without waiting for the header read timeout");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // The older idle connection was closed (at its end of a response: nothing was lost), the
    // newer one is still served.
    let (rest, _) = read_until_closed(&mut older).await;
    assert_eq!(rest, "");
    assert!(get_within(&mut newer, Duration::from_secs(5))
        .await
        .unwrap()
        .starts_with("HTTP/1.1 200"));
}

// Per stream, not per connection: an HTTP/2 client that reads one stream and leaves another
// with a full window gets the stalled one reset at the send timeout, while the one it reads
// goes on over the same connection. The client's connection window is large, so the unread
// stream fills only its own (64 KiB) window.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http2_stream_its_client_stops_reading_is_reset_alone_at_the_send_timeout() {
    let server = start(ServerConfig::default().send_timeout(PERIOD)).await;
    let addr = server.addr();
    let mut builder =
        hyper::client::conn::http2::Builder::new(hyper_util::rt::TokioExecutor::new());
    builder.initial_connection_window_size(64 * 1024 * 1024);
    let mut sender = support::h2_client_with(addr, builder).await;
    let get = |path: &str| {
        http::Request::get(format!("http://{addr}{path}"))
            .body(http_body_util::Empty::<Bytes>::new())
            .unwrap()
    };
    let stalled = sender.send_request(get("/big/")).await.unwrap();
    let read = sender.send_request(get("/ticking/")).await.unwrap();
    let asked = Instant::now();
    let mut ticking = read.into_body();
    // Read the ticking stream for three send timeouts: it never stalls.
    let mut ticks = 0;
    while asked.elapsed() < PERIOD * 3 {
        ticking.frame().await.unwrap().unwrap();
        ticks += 1;
    }
    assert!(ticks >= 10, "{ticks}");
    // By now the unread stream has been reset: its window's worth is there, then the reset.
    let mut body = stalled.into_body();
    let mut got = 0usize;
    let outcome = loop {
        match tokio::time::timeout(Duration::from_secs(5), body.frame()).await {
            Ok(Some(Ok(frame))) => got += frame.data_ref().map_or(0, |d| d.len()),
            Ok(Some(Err(e))) => break e,
            Ok(None) => panic!("the stalled stream ended normally after {got} bytes"),
            Err(_) => panic!("the stalled stream is neither reset nor moving"),
        }
    };
    // RST_STREAM with CANCEL, from the server.
    let outcome = format!("{outcome:?}");
    assert!(
        outcome.contains("CANCEL") && outcome.contains("Remote"),
        "{outcome}"
    );
    assert!(got < BIG / 2, "{got} bytes");
    // The connection and its reading stream are untouched.
    assert!(!sender.is_closed());
    ticking.frame().await.unwrap().unwrap();
}
