//! The server's header read timeout, over real TCP: a client that does not finish a request
//! head in time is disconnected (slowloris), an idle keep-alive connection too, while a slow
//! view or a slow streaming body is never cut by it, and requests that arrive in time are
//! served.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::StatusCode;
use middleware_core::server::{LiveServer, ServerConfig};
use middleware_core::{Chain, Error, Registry, Request, Response, Router, Settings};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

mod support;
use support::{h2_client, raw, read_until_closed};

const TIMEOUT: Duration = Duration::from_millis(600);

async fn hello(_: &mut Request) -> Result<Response, Error> {
    Ok(middleware_core::response::text(StatusCode::OK, "hello"))
}

/// The validated host (Django's `get_host()`, as `CommonMiddleware` calls it).
async fn host(request: &mut Request) -> Result<Response, Error> {
    use middleware_core::RequestExt;
    let host = request.get_host()?;
    Ok(middleware_core::response::text(StatusCode::OK, host))
}

/// Answers after twice the header read timeout.
async fn slow(_: &mut Request) -> Result<Response, Error> {
    tokio::time::sleep(TIMEOUT * 2).await;
    Ok(middleware_core::response::text(StatusCode::OK, "slow"))
}

/// Streams three chunks over about twice the header read timeout.
async fn drip(_: &mut Request) -> Result<Response, Error> {
    let chunks = futures_util::stream::unfold(0u8, |i| async move {
        if i == 3 {
            return None;
        }
        if i > 0 {
            tokio::time::sleep(TIMEOUT * 2 / 3).await;
        }
        Some((Ok::<_, Error>(Bytes::from(format!("chunk{i};"))), i + 1))
    });
    Ok(middleware_core::response::streaming(
        StatusCode::OK,
        "text/plain",
        chunks,
    ))
}

/// Something a view leaves in its request's extensions.
#[derive(Clone)]
struct LeftBehind;

/// Says whether its request came with anything an earlier request left behind, and what the
/// server and the chain recorded on it; then leaves something behind itself.
async fn extensions(request: &mut Request) -> Result<Response, Error> {
    use middleware_core::RequestExt;
    let report = format!(
        "left-behind={} remote={} route={}",
        request.extensions().get::<LeftBehind>().is_some(),
        request
            .connection_info()
            .and_then(|c| c.remote_addr)
            .is_some(),
        request.resolver_match().map_or("none", |m| m.route()),
    );
    request.extensions_mut().insert(LeftBehind);
    Ok(middleware_core::response::text(StatusCode::OK, report))
}

/// A response with its own `Content-Length`, as CommonMiddleware gives one.
async fn sized(_: &mut Request) -> Result<Response, Error> {
    let mut r = middleware_core::response::text(StatusCode::OK, "sized");
    r.headers_mut()
        .insert(http::header::CONTENT_LENGTH, http::HeaderValue::from(5u64));
    Ok(r)
}

async fn start() -> LiveServer {
    start_with(Duration::from_secs(2)).await
}

async fn start_with(shutdown_timeout: Duration) -> LiveServer {
    let mut router = Router::new();
    router
        .route("/", hello)
        .unwrap()
        .route("/slow/", slow)
        .unwrap()
        .route("/drip/", drip)
        .unwrap()
        .route("/extensions/", extensions)
        .unwrap()
        .route("/sized/", sized)
        .unwrap();
    let chain = support::chain(router);
    let config = ServerConfig::default()
        .header_read_timeout(TIMEOUT)
        .shutdown_timeout(shutdown_timeout);
    LiveServer::start(chain, config).await.unwrap()
}

/// Sends `GET path` on the connection and reads the (chunked) answer.
async fn get(stream: &mut TcpStream, path: &str) -> String {
    stream
        .write_all(format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").as_bytes())
        .await
        .unwrap();
    read_chunked_response(stream).await
}

/// Reads one chunked response (the answers here carry no Content-Length).
async fn read_chunked_response(stream: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !buf.ends_with(b"\r\n0\r\n\r\n") {
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut chunk))
            .await
            .expect("a response in time")
            .unwrap();
        assert!(
            n > 0,
            "connection closed mid-response: {:?}",
            String::from_utf8_lossy(&buf)
        );
        buf.extend_from_slice(&chunk[..n]);
    }
    String::from_utf8_lossy(&buf).into_owned()
}

// A client that sends part of a request head and stops is disconnected after the timeout,
// with no response (hyper's header_read_timeout behaves the same).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unfinished_request_head_is_disconnected_after_the_timeout() {
    let server = start().await;
    let addr = server.addr();
    let mut s = TcpStream::connect(addr).await.unwrap();
    let sent = Instant::now();
    s.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .await
        .unwrap();
    let (answer, closed) = read_until_closed(&mut s).await;
    assert_eq!(answer, "");
    let waited = closed - sent;
    assert!(waited >= TIMEOUT, "closed after {waited:?}");
    assert!(waited < TIMEOUT * 4, "closed after {waited:?}");
}

// A keep-alive connection is served, then closed once it has been idle for the timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_keep_alive_connection_is_closed_after_the_timeout() {
    let server = start().await;
    let addr = server.addr();
    let mut s = TcpStream::connect(addr).await.unwrap();
    // Two requests, each sent before the timeout runs out, on one connection.
    for _ in 0..2 {
        tokio::time::sleep(TIMEOUT / 2).await;
        let r = get(&mut s, "/").await;
        assert!(r.starts_with("HTTP/1.1 200"), "{r}");
    }
    let idle_from = Instant::now();
    let (rest, closed) = read_until_closed(&mut s).await;
    assert_eq!(rest, "");
    let idle = closed - idle_from;
    assert!(idle >= TIMEOUT / 2, "closed after {idle:?} idle");
    assert!(idle < TIMEOUT * 4, "closed after {idle:?} idle");
}

// The timeout is for request heads only: a view slower than it is answered, on the same
// connection, and so is a streaming body that takes longer than it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_views_and_slow_streams_are_not_cut() {
    let server = start().await;
    let addr = server.addr();
    let mut s = TcpStream::connect(addr).await.unwrap();
    let r = get(&mut s, "/slow/").await;
    assert!(r.starts_with("HTTP/1.1 200"), "{r}");
    assert!(r.contains("slow"), "{r}");

    let r = get(&mut s, "/drip/").await;
    assert!(r.starts_with("HTTP/1.1 200"), "{r}");
    assert!(r.contains("chunk0;") && r.contains("chunk2;"), "{r}");

    // And the connection is still usable right after.
    let r = get(&mut s, "/").await;
    assert!(r.starts_with("HTTP/1.1 200"), "{r}");
}

// HTTP/2 prior knowledge: requests are served as their own tasks (not polled in the
// connection's service call), and the connection works for several of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_requests_are_served() {
    let server = start().await;
    let addr = server.addr();
    let mut sender = h2_client(addr).await;
    let (slow, fast) = tokio::join!(
        sender.send_request(
            http::Request::get(format!("http://{addr}/slow/"))
                .body(http_body_util::Empty::<Bytes>::new())
                .unwrap()
        ),
        async {
            // Sent while /slow/ is in flight on the same connection.
            tokio::time::sleep(Duration::from_millis(50)).await;
            let started = Instant::now();
            let r = sender
                .clone()
                .send_request(
                    http::Request::get(format!("http://{addr}/"))
                        .body(http_body_util::Empty::<Bytes>::new())
                        .unwrap(),
                )
                .await;
            (r, started.elapsed())
        }
    );
    let (fast, took) = fast;
    assert_eq!(fast.unwrap().status(), 200);
    assert!(took < TIMEOUT, "a request behind a slow one took {took:?}");
    assert_eq!(slow.unwrap().status(), 200);
}

// Shutdown closes an idle keep-alive connection at once (hyper's graceful shutdown of an idle
// HTTP/1.1 connection), so it does not hold the server up until the shutdown timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_closes_idle_connections_without_waiting_for_the_timeout() {
    let mut server = start().await;
    let addr = server.addr();
    let mut s = TcpStream::connect(addr).await.unwrap();
    let r = get(&mut s, "/").await;
    assert!(r.starts_with("HTTP/1.1 200"), "{r}");
    let stopped = Instant::now();
    assert!(server.stop());
    let (rest, closed) = read_until_closed(&mut s).await;
    assert_eq!(rest, "");
    // Well under both the header read timeout and the 2 s shutdown timeout.
    assert!(
        closed - stopped < TIMEOUT / 2,
        "closed after {:?}",
        closed - stopped
    );
    tokio::time::timeout(TIMEOUT, server.finished())
        .await
        .unwrap()
        .unwrap();
}

// The server reuses a finished request's extension storage for the next request on the
// connection: the next request must start with nothing but what the server and the chain
// record for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_sees_nothing_an_earlier_request_on_the_connection_left() {
    let server = start().await;
    let addr = server.addr();
    let mut s = TcpStream::connect(addr).await.unwrap();
    for _ in 0..3 {
        let r = get(&mut s, "/extensions/").await;
        assert!(
            r.contains("left-behind=false remote=true route=extensions/"),
            "{r}"
        );
    }
}

// Framing as Django's servers do it: a response with a `Content-Length` header is sent with
// it (also to HEAD, without the body), one without it is sent chunked; the keep-alive
// connection stays in step across all three.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_content_length_header_frames_the_body_and_its_absence_means_chunked() {
    let server = start().await;
    let addr = server.addr();
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(
        b"GET /sized/ HTTP/1.1\r\nHost: a\r\n\r\n\
          HEAD /sized/ HTTP/1.1\r\nHost: a\r\n\r\n\
          GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    )
    .await
    .unwrap();
    let (all, _) = read_until_closed(&mut s).await;
    let answers: Vec<&str> = all.split("HTTP/1.1 200 OK\r\n").skip(1).collect();
    assert_eq!(answers.len(), 3, "{all}");
    for sized in &answers[..2] {
        assert!(sized.contains("content-length: 5\r\n"), "{sized}");
        assert!(!sized.contains("transfer-encoding"), "{sized}");
    }
    assert!(answers[0].ends_with("\r\n\r\nsized"), "{}", answers[0]);
    assert!(
        answers[1].ends_with("\r\n\r\n"),
        "HEAD sends no body: {}",
        answers[1]
    );
    assert!(
        answers[2].contains("transfer-encoding: chunked\r\n"),
        "{}",
        answers[2]
    );
    assert!(!answers[2].contains("content-length"), "{}", answers[2]);
    assert!(
        answers[2].ends_with("5\r\nhello\r\n0\r\n\r\n"),
        "{}",
        answers[2]
    );
}

// A request still running at the shutdown timeout does not keep the server: `serve` returns
// and the connection is closed, without waiting for the view.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_drops_what_is_still_running_at_the_shutdown_timeout() {
    let shutdown_timeout = TIMEOUT / 3;
    let mut server = start_with(shutdown_timeout).await;
    let addr = server.addr();
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /slow/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    tokio::time::sleep(TIMEOUT / 6).await;
    let stopped = Instant::now();
    assert!(server.stop());
    tokio::time::timeout(TIMEOUT, server.finished())
        .await
        .unwrap()
        .unwrap();
    let (answer, closed) = read_until_closed(&mut s).await;
    assert_eq!(answer, "", "the slow view never answered");
    let waited = closed - stopped;
    assert!(waited >= shutdown_timeout, "closed after {waited:?}");
    // The view would have answered TIMEOUT * 2 after the request.
    assert!(waited < TIMEOUT, "closed after {waited:?}");
}

// RFC 9112 §3.2 and §6.1, as nginx: an ambiguous Host or framing is 400 and the connection
// closes; the same requests made well are served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ambiguous_hosts_and_framing_are_400() {
    let server = start().await;
    let addr = server.addr();
    for (what, head) in [
        (
            "two Host headers",
            "GET / HTTP/1.1\r\nHost: localhost\r\nHost: evil.com\r\n\r\n",
        ),
        ("HTTP/1.1 without Host", "GET / HTTP/1.1\r\n\r\n"),
        (
            "absolute form without Host",
            "GET http://127.0.0.1/ HTTP/1.1\r\n\r\n",
        ),
        (
            "chunked twice",
            "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n",
        ),
        (
            "chunked twice, two fields",
            "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        ),
    ] {
        let answer = raw(addr, head).await;
        assert!(answer.starts_with("HTTP/1.1 400 "), "{what}: {answer}");
    }
    for (what, head) in [
        ("one Host", "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"),
        ("HTTP/1.0 without Host", "GET / HTTP/1.0\r\n\r\n"),
        (
            "chunked once",
            "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n",
        ),
    ] {
        let answer = raw(addr, head).await;
        assert!(answer.starts_with("HTTP/1.1 200 ") || answer.starts_with("HTTP/1.0 200 "), "{what}: {answer}");
    }
}

// RFC 9113 §8.3.1: an HTTP/2 request with neither :authority nor Host is 400; with either it
// is served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_without_authority_or_host_is_400() {
    let server = start().await;
    let addr = server.addr();
    let mut sender = h2_client(addr).await;
    let mut status = Vec::new();
    for request in [
        http::Request::get("/"),
        http::Request::get("/").header("host", "127.0.0.1"),
        http::Request::get(format!("http://{addr}/")),
    ] {
        let response = sender
            .send_request(request.body(http_body_util::Empty::<Bytes>::new()).unwrap())
            .await
            .unwrap();
        status.push(response.status().as_u16());
    }
    assert_eq!(status, [400, 200, 200]);
}

// RFC 9112 §3.2.2: for an absolute-form target the URI's authority is the host, whatever the
// Host header says; `ALLOWED_HOSTS` is checked against it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_absolute_form_target_is_validated_by_its_authority() {
    let settings = Settings::from_toml_str(
        "DEBUG = false\nSECRET_KEY = \"test-secret-key-0123456789-0123456789-0123456789\"\nALLOWED_HOSTS = [\"localhost\"]\n",
        "test",
    )
    .unwrap();
    let mut router = Router::new();
    router.route("/", host).unwrap();
    let chain = Chain::builder(&Registry::new(), &settings)
        .urls(router)
        .build()
        .unwrap();
    let server = LiveServer::start(chain, ServerConfig::default())
        .await
        .unwrap();
    let addr = server.addr();
    let forged = raw(
        addr,
        "GET http://evil.com/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(forged.starts_with("HTTP/1.1 400 "), "{forged}");
    let fine = raw(
        addr,
        "GET http://localhost/ HTTP/1.1\r\nHost: evil.com\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(fine.starts_with("HTTP/1.1 200 "), "{fine}");
    assert!(fine.contains("localhost"), "{fine}");
    let origin_form = raw(
        addr,
        "GET / HTTP/1.1\r\nHost: evil.com\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(origin_form.starts_with("HTTP/1.1 400 "), "{origin_form}");
}

// The issue's `Content-Length: 18446744073709551615` got hyper's 431 (a head too large). Any
// length above the body limit is 413, the two hyper refuses included, with leading zeros or
// after a request served on the same connection; a length that is no number is 400; a head
// with too many fields is still 431, whatever the fields say.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_lengths_above_the_limit_are_413_and_unreadable_ones_400() {
    let server = start().await;
    let addr = server.addr();
    let head =
        |length: &str| format!("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: {length}\r\n\r\n");
    for length in [
        "18446744073709551615",
        "18446744073709551614",
        "0018446744073709551615",
        "18446744073709551613",
        "104857601",
    ] {
        let answer = raw(addr, &head(length)).await;
        assert!(answer.starts_with("HTTP/1.1 413 "), "{length}: {answer}");
        assert!(
            answer.contains("413 Payload Too Large\n"),
            "{length}: {answer}"
        );
    }
    for length in ["18446744073709551616", "12abc", "-1"] {
        let answer = raw(addr, &head(length)).await;
        assert!(answer.starts_with("HTTP/1.1 400 "), "{length}: {answer}");
    }
    let second = raw(
        addr,
        &format!(
            "GET / HTTP/1.1\r\nHost: a\r\n\r\n{}",
            head("18446744073709551615")
        ),
    )
    .await;
    let answers: Vec<&str> = second.split("HTTP/1.1 ").skip(1).collect();
    assert_eq!(answers.len(), 2, "{second}");
    assert!(
        answers[0].starts_with("200 ") && answers[1].starts_with("413 "),
        "{second}"
    );

    let many: String = (0..120)
        .map(|i| format!("X-Field-{i}: 18446744073709551615\r\n"))
        .collect();
    let answer = raw(addr, &format!("GET / HTTP/1.1\r\nHost: a\r\n{many}\r\n")).await;
    assert!(answer.starts_with("HTTP/1.1 431 "), "{answer}");
}
