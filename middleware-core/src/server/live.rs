//! The server on a free loopback port, for tests.

use std::net::SocketAddr;

use tokio::net::TcpListener;

use super::{refuse_empty_secret_key, Server, ServerConfig};
use crate::chain::Chain;

/// A server on a free loopback port, for tests over real TCP (Django's
/// `LiveServerTestCase`): it serves until [`stop`](Self::stop), or until it is dropped.
///
/// ```
/// use middleware_core::server::{LiveServer, ServerConfig};
/// use middleware_core::{Chain, Registry, Settings};
/// # tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(async {
/// let settings = Settings::from_toml_str(
///     "ALLOWED_HOSTS = [\"*\"]\nSECRET_KEY = \"a-long-random-test-key-0123456789\"",
///     "inline",
/// )
/// .unwrap();
/// let chain = Chain::builder(&Registry::new(), &settings).build().unwrap();
/// let mut server = LiveServer::start(chain, ServerConfig::default()).await.unwrap();
/// let mut stream = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
/// // ... speak HTTP on `stream` ...
/// # drop(stream);
/// assert!(server.stop());
/// server.finished().await.unwrap();
/// # });
/// ```
#[derive(Debug)]
pub struct LiveServer {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    serving: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl LiveServer {
    /// Binds `127.0.0.1` on a port the system picks and serves `chain` on a spawned task.
    pub async fn start(chain: Chain, config: ServerConfig) -> std::io::Result<Self> {
        // Checked here too, so that the caller sees the error rather than the spawned task.
        refuse_empty_secret_key(&chain)?;
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let serving = tokio::spawn(Server::new(chain, config).serve(listener, async {
            let _ = stopped.await;
        }));
        Ok(LiveServer {
            addr,
            stop: Some(stop),
            serving,
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Starts the graceful shutdown, as SIGTERM does; [`finished`](Self::finished) waits for
    /// its end. `false` when the server had stopped already.
    pub fn stop(&mut self) -> bool {
        self.stop.take().is_some_and(|stop| stop.send(()).is_ok())
    }

    /// Waits until the server has stopped (once in-flight requests are done, or the shutdown
    /// timeout has passed), with `serve`'s result; stops it first if [`stop`](Self::stop)
    /// was not called.
    pub async fn finished(self) -> std::io::Result<()> {
        let LiveServer { stop, serving, .. } = self;
        // A dropped sender ends the shutdown future too.
        drop(stop);
        serving.await.map_err(std::io::Error::other)?
    }
}
