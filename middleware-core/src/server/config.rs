//! The server's limits and timeouts.

use std::time::Duration;

/// Server limits and timeouts.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ServerConfig {
    /// How long a client may take to send its request headers (default 30 s); slower
    /// connections are closed (slowloris), and so are keep-alive connections idle for that
    /// long. The time a view or a streaming body takes does not count.
    pub header_read_timeout: Duration,
    /// The largest request head, in bytes (default 64 KiB); larger heads get 431 from hyper.
    pub max_header_size: usize,
    /// The largest request body, in bytes (default 100 MiB); a `Content-Length` above it is
    /// answered 413 at once, a chunked body that grows past it fails to read (400).
    pub max_body_size: u64,
    /// How long graceful shutdown waits for in-flight requests (default 30 s); the
    /// connections still open then are closed, and `serve` returns.
    pub shutdown_timeout: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            header_read_timeout: Duration::from_secs(30),
            max_header_size: 64 * 1024,
            max_body_size: 100 * 1024 * 1024,
            shutdown_timeout: Duration::from_secs(30),
        }
    }
}

impl ServerConfig {
    /// Sets the header read timeout.
    pub fn header_read_timeout(mut self, t: Duration) -> Self {
        self.header_read_timeout = t;
        self
    }
    /// Sets the largest request head.
    pub fn max_header_size(mut self, n: usize) -> Self {
        self.max_header_size = n;
        self
    }
    /// Sets the largest request body.
    pub fn max_body_size(mut self, n: u64) -> Self {
        self.max_body_size = n;
        self
    }
    /// Sets the graceful shutdown timeout.
    pub fn shutdown_timeout(mut self, t: Duration) -> Self {
        self.shutdown_timeout = t;
        self
    }
}
