//! The embedding example, run for real: a hand-written hyper server on a random port, real
//! HTTP/1.1 requests over TCP.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "../examples/embed_hyper.rs"]
mod embed_hyper;

use std::collections::HashMap;

use middleware_core::{Chain, Registry, Settings};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

struct Reply {
    status: u16,
    headers: HashMap<String, String>,
    body: String,
}

async fn raw_request(addr: std::net::SocketAddr, method: &str, path: &str, host: &str) -> Reply {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8(raw).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_ascii_lowercase(), v.to_owned()))
        .collect();
    // Small bodies without Content-Length come chunked: keep only the data line.
    let body = if body.starts_with(|c: char| c.is_ascii_hexdigit()) && body.contains("\r\n") {
        body.split("\r\n").nth(1).unwrap_or("").to_owned() + "\n"
    } else {
        body.to_owned()
    };
    Reply {
        status,
        headers,
        body: body.trim_end_matches('\n').to_owned() + "\n",
    }
}

#[tokio::test]
async fn hand_written_hyper_server_runs_the_chain_from_a_settings_string() {
    let chain = embed_hyper::build_chain(embed_hyper::SETTINGS).unwrap();
    let names: Vec<_> = chain.entries().iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["RequestIdMiddleware", "PoweredByMiddleware"]);

    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(embed_hyper::serve(listener, chain, async {
        let _ = stopped.await;
    }));

    let first = raw_request(addr, "GET", "/hello/", "127.0.0.1").await;
    assert_eq!(first.status, 200);
    assert_eq!(first.body, "hello, request 1\n");
    assert_eq!(first.headers["x-request-id"], "1");
    assert_eq!(first.headers["x-powered-by"], "my-framework/1.0");

    let second = raw_request(addr, "GET", "/hello/", "localhost").await;
    assert_eq!(second.headers["x-request-id"], "2");
    assert_eq!(second.body, "hello, request 2\n");

    // The embedder's routing answers, the middleware still run around it.
    let missing = raw_request(addr, "GET", "/nope", "127.0.0.1").await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.headers["x-powered-by"], "my-framework/1.0");
    let post = raw_request(addr, "POST", "/hello/", "127.0.0.1").await;
    assert_eq!(post.status, 405);

    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}

#[tokio::test]
async fn chain_handle_works_without_connection_info() {
    use middleware_core::RequestExt;
    let chain = embed_hyper::build_chain(embed_hyper::SETTINGS).unwrap();
    let mut request = http::Request::get("/hello/")
        .header("host", "localhost")
        .body(middleware_core::Body::empty())
        .unwrap();
    let response = chain.handle(&mut request).await;
    assert_eq!(response.status(), 200);
    // The request is the caller's again, with what the chain added.
    assert_eq!(
        request
            .extensions()
            .get::<embed_hyper::RequestId>()
            .unwrap()
            .0,
        1
    );
    assert_eq!(request.get_host().unwrap(), "localhost");
    assert!(!request.is_secure());
}

#[tokio::test]
async fn https_uri_counts_as_secure_without_connection_info() {
    use middleware_core::RequestExt;
    // HTTP/2 servers put the scheme in the URI; no ConnectionInfo, no Host header.
    let request = http::Request::get("https://localhost/hello/")
        .body(middleware_core::Body::empty())
        .unwrap();
    assert!(request.is_secure());
    let settings = Settings::builder()
        .set("ALLOWED_HOSTS", vec!["localhost"])
        .build()
        .unwrap();
    let chain = Chain::builder(&Registry::new(), &settings)
        .handler(embed_hyper::Site)
        .build()
        .unwrap();
    let mut request = request;
    request.set_core_settings(chain.core_settings().clone());
    assert_eq!(request.get_host().unwrap(), "localhost");
}

#[test]
fn bad_settings_are_refused_with_the_key_named() {
    let bad = embed_hyper::SETTINGS.replace("POWERED_BY = \"my-framework/1.0\"", "POWERED_BY = 3");
    let err = embed_hyper::build_chain(&bad).unwrap_err().to_string();
    assert!(err.contains("POWERED_BY"), "{err}");

    let bad = embed_hyper::SETTINGS.replace("my-framework/1.0", "bad\\nvalue");
    let err = embed_hyper::build_chain(&bad).unwrap_err().to_string();
    assert!(
        err.contains("POWERED_BY") && err.contains("header value"),
        "{err}"
    );

    let unknown = format!("{}\nPOWERED_BYE = \"x\"\n", embed_hyper::SETTINGS);
    let err = embed_hyper::build_chain(&unknown).unwrap_err().to_string();
    assert!(err.contains("did you mean POWERED_BY"), "{err}");
}

#[test]
fn settings_builder_builds_core_settings_and_rejects_bad_values() {
    let settings = Settings::builder()
        .source("in code")
        .set("DEBUG", true)
        .set("MIDDLEWARE", vec!["RequestIdMiddleware"])
        .set("POWERED_BY", "x")
        .build()
        .unwrap();
    assert!(settings.core().debug);
    assert_eq!(settings.core().middleware, ["RequestIdMiddleware"]);
    assert_eq!(settings.source(), "in code");
    let err = Settings::builder().set("DEBUG", "yes").build().unwrap_err();
    assert!(err.to_string().contains("DEBUG"), "{err}");
}
