//! The server's limits and timeouts, in code or from the settings file.

use std::time::Duration;

use crate::settings::{Settings, SettingsError};

crate::declare_settings! {
    /// The settings [`ServerConfig::from_settings`] reads, as written: every
    /// [`Registry`](crate::Registry) knows them. Django has no such settings (its servers are
    /// configured outside it); these are the limits an operator sets for this one.
    pub struct ServerSettings {
        /// a request head must arrive whole within it (slowloris); also how long a keep-alive connection may stay idle
        SERVER_HEADER_READ_TIMEOUT => header_read_timeout: f64 = 30,
        /// a larger request head is answered 431
        SERVER_MAX_HEADER_SIZE => max_header_size: u64 = 65536,
        /// a larger `Content-Length` is answered 413 before the body is read; a chunked body growing past it fails to read (400)
        SERVER_MAX_BODY_SIZE => max_body_size: u64 = 104857600,
        /// while a view reads a request body, each period this long must bring `SERVER_BODY_MIN_RATE` bytes a second (and at least one byte), or the request is answered 408
        SERVER_BODY_READ_TIMEOUT => body_read_timeout: f64 = 30,
        /// bytes a second, averaged over each `SERVER_BODY_READ_TIMEOUT`; `0` leaves only the one byte per period
        SERVER_BODY_MIN_RATE => body_min_rate: u64 = 240,
        /// an HTTP/2 stream whose client takes none of it for this long is reset; a client that takes none of its responses (connection window or socket full) is disconnected; a view slow to produce does not count
        SERVER_SEND_TIMEOUT => send_timeout: f64 = 60,
        /// connections open at once; one accepted at the limit closes the keep-alive connection idle the longest and waits for its slot, more wait in the listen backlog
        SERVER_MAX_CONNECTIONS => max_connections: u64 = 1024,
        /// how long graceful shutdown waits for in-flight requests and streams
        SERVER_SHUTDOWN_TIMEOUT => shutdown_timeout: f64 = 30,
    }
}

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
    /// While a view reads a request body, each period this long must bring at least
    /// [`body_min_rate`](Self::body_min_rate) bytes a second, and at least one byte (default
    /// 30 s); a slower body fails to read and the request is answered 408 (a body trickled
    /// to hold the connection).
    pub body_read_timeout: Duration,
    /// The slowest request body accepted, in bytes a second, averaged over each
    /// [`body_read_timeout`](Self::body_read_timeout) (default 240, Kestrel's; 0: only the
    /// one byte per period).
    pub body_min_rate: u64,
    /// How long a response may wait for the client to take more of it (default 60 s, nginx's
    /// `send_timeout`): an HTTP/2 stream whose client stops reading it (a full stream
    /// window) is reset then, the connection's other streams going on; a client that reads
    /// none of its responses (a full connection window, a full socket) is disconnected. A view
    /// that is slow to produce its body does not count.
    pub send_timeout: Duration,
    /// The most connections open at once (default 1024). A connection accepted at the limit
    /// closes the keep-alive connection idle the longest (nginx's habit; an HTTP/2 one gets
    /// GOAWAY), and another every 100 ms until a slot frees; behind it, new connections wait in
    /// the listen backlog, unanswered (refused by the kernel when the backlog is full).
    /// Connections with a request in flight are never closed for it.
    pub max_connections: usize,
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
            body_read_timeout: Duration::from_secs(30),
            body_min_rate: 240,
            send_timeout: Duration::from_secs(60),
            max_connections: 1024,
            shutdown_timeout: Duration::from_secs(30),
        }
    }
}

impl ServerConfig {
    /// The defaults, overridden by the `SERVER_*` settings ([`ServerSettings`]) the file
    /// sets: timeouts in seconds (fractions allowed), sizes in bytes.
    ///
    /// ```
    /// use middleware_core::server::ServerConfig;
    /// use middleware_core::Settings;
    ///
    /// let settings = Settings::from_toml_str("SERVER_SEND_TIMEOUT = 2.5\nSERVER_MAX_CONNECTIONS = 64", "inline").unwrap();
    /// let config = ServerConfig::from_settings(&settings).unwrap();
    /// assert_eq!(config.send_timeout, std::time::Duration::from_millis(2500));
    /// assert_eq!(config.max_connections, 64);
    /// ```
    pub fn from_settings(settings: &Settings) -> Result<Self, SettingsError> {
        let declared = ServerSettings::from_settings(settings)?;
        let seconds = |key: &str, s: f64| -> Result<Duration, SettingsError> {
            Duration::try_from_secs_f64(s)
                .ok()
                .filter(|d| !d.is_zero())
                .ok_or_else(|| {
                    settings.invalid(
                        key,
                        format!("{s} is not a duration"),
                        format!("give {key} a number of seconds above 0"),
                    )
                })
        };
        let at_least = |key: &str, n: u64, least: u64| -> Result<u64, SettingsError> {
            if n < least {
                return Err(settings.invalid(
                    key,
                    format!("{n} is below {least}"),
                    format!("give {key} a whole number of at least {least}"),
                ));
            }
            Ok(n)
        };
        let size = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
        Ok(ServerConfig {
            header_read_timeout: seconds(
                "SERVER_HEADER_READ_TIMEOUT",
                declared.header_read_timeout,
            )?,
            max_header_size: size(at_least(
                "SERVER_MAX_HEADER_SIZE",
                declared.max_header_size,
                1024,
            )?),
            max_body_size: declared.max_body_size,
            body_read_timeout: seconds("SERVER_BODY_READ_TIMEOUT", declared.body_read_timeout)?,
            body_min_rate: declared.body_min_rate,
            send_timeout: seconds("SERVER_SEND_TIMEOUT", declared.send_timeout)?,
            max_connections: size(at_least(
                "SERVER_MAX_CONNECTIONS",
                declared.max_connections,
                1,
            )?),
            shutdown_timeout: seconds("SERVER_SHUTDOWN_TIMEOUT", declared.shutdown_timeout)?,
        })
    }

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
    /// Sets the period over which a request body's rate is checked.
    pub fn body_read_timeout(mut self, t: Duration) -> Self {
        self.body_read_timeout = t;
        self
    }
    /// Sets the slowest request body accepted, in bytes a second.
    pub fn body_min_rate(mut self, bytes_per_second: u64) -> Self {
        self.body_min_rate = bytes_per_second;
        self
    }
    /// Sets how long a response may wait for the client to read it.
    pub fn send_timeout(mut self, t: Duration) -> Self {
        self.send_timeout = t;
        self
    }
    /// Sets the most connections open at once (at least 1).
    pub fn max_connections(mut self, n: usize) -> Self {
        self.max_connections = n.max(1);
        self
    }
    /// Sets the graceful shutdown timeout.
    pub fn shutdown_timeout(mut self, t: Duration) -> Self {
        self.shutdown_timeout = t;
        self
    }

    /// The bytes a request body must bring in each body read period: at least one.
    pub(super) fn body_min_bytes(&self) -> u64 {
        let per_period = u128::from(self.body_min_rate) * self.body_read_timeout.as_millis() / 1000;
        u64::try_from(per_period).unwrap_or(u64::MAX).max(1)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn config(toml: &str) -> Result<ServerConfig, SettingsError> {
        ServerConfig::from_settings(&Settings::from_toml_str(toml, "site.toml").unwrap())
    }

    #[test]
    fn settings_override_the_defaults_and_whole_seconds_are_numbers_too() {
        let c = config("SERVER_BODY_READ_TIMEOUT = 10\nSERVER_BODY_MIN_RATE = 0\nSERVER_SHUTDOWN_TIMEOUT = 0.25").unwrap();
        assert_eq!(c.body_read_timeout, Duration::from_secs(10));
        assert_eq!(c.body_min_bytes(), 1, "at least one byte per period");
        assert_eq!(c.shutdown_timeout, Duration::from_millis(250));
        assert_eq!(c.send_timeout, ServerConfig::default().send_timeout);
        assert_eq!(ServerConfig::default().body_min_bytes(), 7200);
    }

    #[test]
    fn a_zero_timeout_or_connection_limit_is_refused_naming_the_setting() {
        for toml in [
            "SERVER_SEND_TIMEOUT = 0",
            "SERVER_HEADER_READ_TIMEOUT = -1",
            "SERVER_MAX_CONNECTIONS = 0",
            "SERVER_MAX_BODY_SIZE = \"big\"",
        ] {
            let key = toml.split(' ').next().unwrap();
            let message = config(toml).unwrap_err().to_string();
            assert!(
                message.contains(key) && message.contains("site.toml"),
                "{message}"
            );
        }
    }
}
