//! The example site end to end: the seed's middleware, errors and panics, bad settings, and the
#![allow(clippy::unwrap_used, clippy::expect_used)]
//! real server on loopback.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use middleware_core::server::{LiveServer, ServerConfig};
use middleware_core::test_client::Client;
use middleware_core::Settings;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const SEED: &str = r#"
ALLOWED_HOSTS = ["testserver", "127.0.0.1"]
SECRET_KEY = "example-site-tests-not-a-real-secret-0123456789abcdef"
MIDDLEWARE = [
    "example_site.middleware.SimpleAsyncMiddleware",
    "example_site.middleware.AsyncLoggingMiddleware",
    "example_site.middleware.AsyncHeaderMiddleware",
    "example_site.middleware.StatusHeaderMiddleware",
]
"#;

fn seed_client(extra: &str) -> (Client, Arc<Mutex<Vec<String>>>) {
    let printed: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink = printed.clone();
    let registry = example_site::registry_with_printer(Arc::new(move |line: &str| {
        sink.lock().unwrap().push(line.to_owned())
    }));
    let settings = Settings::from_toml_str(&format!("{SEED}\n{extra}"), "test").unwrap();
    let chain = example_site::build_chain_with(&registry, &settings).unwrap();
    (Client::new(chain), printed)
}

// The seed example: `/` answers with both headers and the prints come in order.
#[tokio::test]
async fn seed_middleware_headers_and_print_order() {
    let (mut client, printed) = seed_client("");
    let r = client.get("/").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "Hello, world!");
    assert_eq!(r.header("x-custom-header"), Some("Hello"));
    assert_eq!(r.header("x-status"), Some("OK"));
    assert_eq!(*printed.lock().unwrap(), ["Before view", "After view"]);
}

#[tokio::test]
async fn nested_print_middleware_print_in_onion_order() {
    let printed: Arc<Mutex<Vec<String>>> = Arc::default();
    let mut registry = example_site::registry_with_printer(Arc::new({
        let p = printed.clone();
        move |line: &str| p.lock().unwrap().push(format!("outer {line}"))
    }));
    example_site::middleware::register_printer_as(
        &mut registry,
        "InnerPrinter",
        Arc::new({
            let p = printed.clone();
            move |line: &str| p.lock().unwrap().push(format!("inner {line}"))
        }),
    );
    let settings = Settings::from_toml_str(
        "ALLOWED_HOSTS = [\"testserver\"]\nMIDDLEWARE = [\"SimpleAsyncMiddleware\", \"InnerPrinter\"]",
        "t",
    )
    .unwrap();
    let chain = example_site::build_chain_with(&registry, &settings).unwrap();
    Client::new(chain).get("/").await;
    assert_eq!(
        *printed.lock().unwrap(),
        [
            "outer Before view",
            "inner Before view",
            "inner After view",
            "outer After view"
        ]
    );
}

#[tokio::test]
async fn x_status_is_absent_on_404_and_500_but_x_custom_header_is_there() {
    let (mut client, _) = seed_client("");
    for path in ["/missing/", "/does-not-exist/"] {
        let r = client.get(path).await;
        assert_eq!(r.status, 404, "{path}");
        assert_eq!(r.text(), "404 Not Found\n");
        assert_eq!(r.header("x-custom-header"), Some("Hello"));
        assert_eq!(r.header("x-status"), None);
    }
    let r = client.get("/error/").await;
    assert_eq!(r.status, 500);
    assert_eq!(r.text(), "500 Internal Server Error\n");
    assert_eq!(r.header("x-custom-header"), Some("Hello"));
    assert_eq!(r.header("x-status"), None);
}

#[tokio::test]
async fn error_views_map_to_djangos_statuses() {
    let (mut client, _) = seed_client("");
    assert_eq!(client.get("/forbidden/").await.text(), "403 Forbidden\n");
    assert_eq!(client.get("/bad/").await.text(), "400 Bad Request\n");
    let r = client.get("/stream/").await;
    assert!(r.streaming);
    assert_eq!(r.body.len(), 1000);
    assert_eq!(client.get("/big/").await.body.len(), 20193);
}

#[tokio::test]
async fn panic_in_a_view_is_a_500_through_the_outer_middleware_and_serving_goes_on() {
    let (mut client, printed) = seed_client("");
    let r = client.get("/panic/").await;
    assert_eq!(r.status, 500);
    assert_eq!(r.text(), "500 Internal Server Error\n");
    assert_eq!(r.header("x-custom-header"), Some("Hello"));
    assert_eq!(*printed.lock().unwrap(), ["Before view", "After view"]);
    assert_eq!(client.get("/").await.status, 200);
}

fn build_error(toml: &str) -> String {
    let settings = match Settings::from_toml_str(toml, "bad.toml") {
        Ok(s) => s,
        Err(e) => return e.to_string(),
    };
    match example_site::build_chain(&settings) {
        Ok(_) => String::new(),
        Err(e) => e.to_string(),
    }
}

#[test]
fn bad_settings_files_fail_with_the_setting_and_the_fix() {
    let msg = build_error("DEBUG = true\nALLOWED_HOST = []");
    assert!(
        msg.contains("unknown setting ALLOWED_HOST in bad.toml") && msg.contains("ALLOWED_HOSTS"),
        "{msg}"
    );

    let msg = build_error("MIDDLEWARE = [\"example_site.middleware.AsyncHeaderMidleware\"]");
    assert!(
        msg.contains("MIDDLEWARE[0]")
            && msg.contains("example_site.middleware.AsyncHeaderMiddleware"),
        "{msg}"
    );

    let msg = build_error("DEBUG = 1");
    assert!(msg.contains("invalid setting DEBUG in bad.toml"), "{msg}");

    let msg = build_error("MIDDLEWARE = \"example_site.middleware.AsyncHeaderMiddleware\"");
    assert!(msg.contains("invalid setting MIDDLEWARE"), "{msg}");

    let msg = build_error("DEBUG = [");
    assert!(msg.contains("not valid TOML"), "{msg}");
}

#[test]
fn the_shipped_settings_file_builds() {
    let settings = example_site::load_settings(None).unwrap();
    example_site::build_chain(&settings).unwrap();
    let settings = Settings::from_toml_str(example_site::DEFAULT_SETTINGS, "built-in").unwrap();
    example_site::build_chain(&settings).unwrap();
}

async fn start_server() -> LiveServer {
    let settings = Settings::from_toml_str(SEED, "test").unwrap();
    let registry = example_site::registry_with_printer(Arc::new(|_: &str| {}));
    let chain = example_site::build_chain_with(&registry, &settings).unwrap();
    let config = ServerConfig::default()
        .header_read_timeout(Duration::from_secs(2))
        .max_body_size(1024)
        .shutdown_timeout(Duration::from_secs(5));
    LiveServer::start(chain, config).await.unwrap()
}

async fn read_response(stream: &mut tokio::net::TcpStream) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut chunk))
            .await
            .expect("response in time")
            .unwrap();
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf);
        if let Some(head_end) = text.find("\r\n\r\n") {
            let head = &text[..head_end];
            // Without CommonMiddleware there is no Content-Length: the body comes chunked.
            if head
                .to_ascii_lowercase()
                .contains("transfer-encoding: chunked")
            {
                if text.ends_with("\r\n0\r\n\r\n") {
                    break;
                }
                continue;
            }
            let len = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length: ")
                        .map(|v| v.trim().parse::<usize>().unwrap())
                })
                .unwrap_or(0);
            if buf.len() >= head_end + 4 + len {
                break;
            }
        }
    }
    String::from_utf8_lossy(&buf).into_owned()
}

// A panic answers 500, and the next request on the same keep-alive connection succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_survives_a_panic_on_the_same_connection() {
    let mut server = start_server().await;
    let addr = server.addr();
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /panic/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    let r = read_response(&mut s).await;
    assert!(r.starts_with("HTTP/1.1 500"), "{r}");
    assert!(
        r.to_ascii_lowercase().contains("x-custom-header: hello"),
        "{r}"
    );
    s.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    let r = read_response(&mut s).await;
    assert!(r.starts_with("HTTP/1.1 200"), "{r}");
    assert!(r.contains("Hello, world!"), "{r}");
    assert!(server.stop());
    server.finished().await.unwrap();
}

// Bad input gets a 4xx answer, not a dropped connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_answers_malformed_and_oversized_requests_with_4xx() {
    let mut server = start_server().await;
    let addr = server.addr();
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header Line\r\n\r\n")
        .await
        .unwrap();
    let r = read_response(&mut s).await;
    assert!(r.starts_with("HTTP/1.1 400"), "{r}");

    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5000\r\n\r\n")
        .await
        .unwrap();
    let r = read_response(&mut s).await;
    assert!(r.starts_with("HTTP/1.1 413"), "{r}");

    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let huge = format!(
        "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: {}\r\n\r\n",
        "a".repeat(100_000)
    );
    let _ = s.write_all(huge.as_bytes()).await;
    let r = read_response(&mut s).await;
    assert!(
        r.starts_with("HTTP/1.1 431") || r.starts_with("HTTP/1.1 400"),
        "{r}"
    );

    assert!(server.stop());
    server.finished().await.unwrap();
}

// Graceful shutdown lets an in-flight streaming response finish.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_finishes_in_flight_requests() {
    let mut server = start_server().await;
    let addr = server.addr();
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /big/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(server.stop());
    let r = read_response(&mut s).await;
    assert!(r.starts_with("HTTP/1.1 200"), "{r}");
    assert!(r.contains("</body></html>\n"), "{r}");
    tokio::time::timeout(Duration::from_secs(10), server.finished())
        .await
        .unwrap()
        .unwrap();
}
