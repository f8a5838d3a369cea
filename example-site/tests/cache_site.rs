//! The site cache on the example site (`settings-cache.toml`): `/cached/` is served from the
//! cache; the default settings (as in the conformance run) cache nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use middleware_core::test_client::Client;

fn settings(file: &str) -> middleware_core::Settings {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(file);
    example_site::load_settings(Some(&path)).unwrap()
}

fn site(file: &str) -> Client {
    Client::new(example_site::build_chain(&settings(file)).unwrap())
}

#[tokio::test]
async fn cached_page_is_served_from_the_cache_with_settings_cache() {
    let mut client = site("settings-cache.toml");
    let first = client.get("/cached/").await;
    assert_eq!(first.status, 200);
    assert_eq!(first.header("cache-control"), Some("max-age=60"));
    let second = client.get("/cached/").await;
    assert_eq!(
        second.text(),
        first.text(),
        "second answer came from the cache"
    );
    assert!(second.header("age").is_some());
    // Pages without a CachePage marker use CACHE_MIDDLEWARE_SECONDS.
    let hello = client.get("/hello/").await;
    assert_eq!(hello.header("cache-control"), Some("max-age=600"));
    // No cache order warnings for this MIDDLEWARE.
    let warnings: Vec<String> = example_site::registry()
        .run_checks(&settings("settings-cache.toml"), false)
        .into_iter()
        .map(|m| m.id)
        .filter(|id| id.starts_with("middleware.W11"))
        .collect();
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[tokio::test]
async fn default_settings_do_not_cache() {
    let mut client = site("settings.toml");
    let first = client.get("/cached/").await;
    assert_eq!(first.status, 200);
    assert_eq!(first.header("cache-control"), None);
    std::thread::sleep(std::time::Duration::from_millis(2));
    assert_ne!(client.get("/cached/").await.text(), first.text());
}
