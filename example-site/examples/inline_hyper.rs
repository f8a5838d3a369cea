//! The load benchmark's reference: a plain hyper 1.x server that answers every request with a
//! fixed body and the given headers written inline, with no chain. Same runtime, same
//! HTTP/1.1 + HTTP/2 auto builder as the example site's server.
//!
//! `cargo run --release -p example-site --example inline_hyper -- 127.0.0.1:8001 --body-file=F "X-Custom-Header: Hello" ...`

use std::convert::Infallible;

use bytes::Bytes;
use http::{HeaderName, HeaderValue};
use http_body_util::Full;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let addr: std::net::SocketAddr = args
        .next()
        .unwrap_or_else(|| "127.0.0.1:8001".into())
        .parse()?;
    let mut headers = Vec::new();
    let mut body = Bytes::from_static(b"Hello, world!");
    for arg in args {
        if let Some(path) = arg.strip_prefix("--body-file=") {
            body = Bytes::from(std::fs::read(path)?);
            continue;
        }
        let (name, value) = arg.split_once(':').ok_or("headers are 'Name: value'")?;
        headers.push((
            HeaderName::from_bytes(name.trim().as_bytes())?,
            HeaderValue::from_str(value.trim())?,
        ));
    }
    let headers = std::sync::Arc::new(headers);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        loop {
            let (stream, _) = listener.accept().await?;
            let _ = stream.set_nodelay(true);
            let headers = headers.clone();
            let body = body.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(
                    move |_req: http::Request<hyper::body::Incoming>| {
                        let mut r = http::Response::new(Full::new(body.clone()));
                        for (n, v) in headers.iter() {
                            r.headers_mut().append(n.clone(), v.clone());
                        }
                        async move { Ok::<_, Infallible>(r) }
                    },
                );
                let _ = auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
        #[allow(unreachable_code)]
        Ok::<(), std::io::Error>(())
    })?;
    Ok(())
}
