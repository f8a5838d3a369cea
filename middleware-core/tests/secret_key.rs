//! An empty or missing `SECRET_KEY` (issue: a forged session for a real user was accepted
//! when the site started with one): with `DEBUG = false` the server refuses to start, as
//! Django refuses to run ("The SECRET_KEY setting must not be empty."); with `DEBUG = true` it
//! starts, and only what signs refuses (tested in middleware-builtin's `secret_key` tests).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use middleware_core::server::{LiveServer, ServerConfig};
use middleware_core::{Chain, Registry, Settings, SettingsError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn chain(toml: &str) -> Chain {
    let settings = Settings::from_toml_str(toml, "site.toml").unwrap();
    Chain::builder(&Registry::new(), &settings).build().unwrap()
}

#[tokio::test]
async fn server_refuses_to_start_without_a_secret_key_when_debug_is_off() {
    for toml in [
        "ALLOWED_HOSTS = [\"*\"]",
        "ALLOWED_HOSTS = [\"*\"]\nSECRET_KEY = \"\"",
        "ALLOWED_HOSTS = [\"*\"]\nSECRET_KEY = \"\"\nDEBUG = false",
    ] {
        let err = LiveServer::start(chain(toml), ServerConfig::default())
            .await
            .expect_err(toml);
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
        let msg = err.to_string();
        assert!(
            msg.starts_with("The SECRET_KEY setting must not be empty"),
            "{msg}"
        );
        assert!(msg.contains("Fix: set SECRET_KEY"), "{msg}");
    }
}

#[tokio::test]
async fn server_starts_with_debug_and_an_empty_key() {
    let toml = "ALLOWED_HOSTS = [\"*\"]\nSECRET_KEY = \"\"\nDEBUG = true";
    let mut server = LiveServer::start(chain(toml), ServerConfig::default())
        .await
        .unwrap();
    let mut stream = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    // No URLconf: Django's 404, but served.
    assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
    assert!(server.stop());
    server.finished().await.unwrap();
}

#[test]
fn signing_key_is_refused_when_empty_whatever_debug_says() {
    for toml in [
        "DEBUG = true",
        "DEBUG = false",
        "SECRET_KEY = \"\"\nDEBUG = true",
    ] {
        let settings = Settings::from_toml_str(toml, "site.toml").unwrap();
        let err = settings.signing_key().unwrap_err();
        assert!(matches!(err, SettingsError::EmptySecretKey { .. }), "{err}");
    }
    let settings = Settings::from_toml_str("SECRET_KEY = \"k\"", "site.toml").unwrap();
    assert_eq!(settings.signing_key().unwrap(), b"k");
    assert!(settings.check_secret_key().is_ok());
}
