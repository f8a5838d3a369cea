//! End to end in a real browser: headless Chromium, driven through chromedriver, against the
//! example site's binary on a random loopback port. Built only with `--features e2e`; `.ci/run`
//! installs Debian's `chromium` and `chromium-driver` and runs it. Without them it prints SKIP.
//!
//! The user story: `/private/` sends an anonymous visitor to the login page; logging in as the
//! demo user comes back to `/private/`; the notes form posts (CSRF token from the page) and the
//! note comes back as a message; logging out lands on the login page with a message, and
//! `/private/` redirects again. Screenshots go to `target/e2e/`.
#![cfg(feature = "e2e")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use support::{free_port, target_dir, wait_for_port, KillOnDrop, Site};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

async fn browser(driver_port: u16, profile: &Path) -> Client {
    let args = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1000,700",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([format!("--user-data-dir={}", profile.display())])
    .collect::<Vec<_>>();
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({ "binary": CHROMIUM, "args": args }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{driver_port}"))
        .await
        .expect("chromedriver session")
}

async fn path_and_query(c: &Client) -> String {
    let url = c.current_url().await.unwrap();
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    }
}

async fn text_of(c: &Client, css: &str) -> String {
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css} not found: {e}"))
        .text()
        .await
        .unwrap()
}

async fn screenshot(c: &Client, name: &str) {
    let png = c.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    let path = target_dir("e2e").join(name);
    std::fs::write(&path, png).unwrap();
    eprintln!("screenshot: {}", path.display());
}

#[tokio::test]
async fn login_private_notes_logout_in_chromium() {
    if !Path::new(CHROMIUM).exists() || !Path::new(CHROMEDRIVER).exists() {
        eprintln!("SKIP: {CHROMIUM} or {CHROMEDRIVER} not installed (apt-get install chromium chromium-driver)");
        return;
    }
    let site = Site::start(None, Some(&target_dir("e2e").join("site.log")));
    let driver_port = free_port();
    let _driver = KillOnDrop(
        Command::new(CHROMEDRIVER)
            .arg(format!("--port={driver_port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    assert!(wait_for_port(driver_port, Duration::from_secs(20)));
    let profile = target_dir("e2e").join(format!("profile-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&profile);
    let c = browser(driver_port, &profile).await;
    let base = site.base();
    let outcome = async {
        // Anonymous: /private/ sends us to the login page, remembering where we were going.
        c.goto(&format!("{base}/private/")).await.unwrap();
        assert_eq!(path_and_query(&c).await, "/accounts/login/?next=/private/");
        assert_eq!(text_of(&c, "#login-link").await, "Log in");

        // Wrong password: the form again, with Django's error, still on the login page.
        c.find(Locator::Id("id_username"))
            .await
            .unwrap()
            .send_keys("demo")
            .await
            .unwrap();
        c.find(Locator::Id("id_password"))
            .await
            .unwrap()
            .send_keys("nope")
            .await
            .unwrap();
        c.find(Locator::Id("login-submit"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        assert!(text_of(&c, "#login-error")
            .await
            .starts_with("Please enter a correct username"));

        // The demo user: back on /private/ (the hidden `next` survived the failed attempt).
        c.find(Locator::Id("id_password"))
            .await
            .unwrap()
            .send_keys("demo-password")
            .await
            .unwrap();
        c.find(Locator::Id("login-submit"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        assert_eq!(text_of(&c, "#private-title").await, "Private page");
        assert_eq!(path_and_query(&c).await, "/private/");
        assert_eq!(text_of(&c, "#whoami").await, "Signed in as demo");

        // The notes form: posted with the page's CSRF token, redirected back, message shown
        // once — as text, so the markup in it was escaped.
        c.goto(&format!("{base}/notes/")).await.unwrap();
        let note = "Hello from <b>Chromium</b> & Rust";
        c.find(Locator::Id("id_text"))
            .await
            .unwrap()
            .send_keys(note)
            .await
            .unwrap();
        c.find(Locator::Id("note-submit"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        assert_eq!(
            text_of(&c, "ul.messages li.success").await,
            format!("Note saved: {note}")
        );
        assert_eq!(path_and_query(&c).await, "/notes/");
        screenshot(&c, "notes.png").await;
        c.refresh().await.unwrap();
        text_of(&c, "#note-form").await;
        assert!(
            c.find_all(Locator::Css("ul.messages li"))
                .await
                .unwrap()
                .is_empty(),
            "shown once"
        );

        // Log out (a POST form in the header): the login page, with the message.
        c.find(Locator::Id("logout"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        assert_eq!(
            text_of(&c, "ul.messages li").await,
            "You have been logged out."
        );
        assert_eq!(path_and_query(&c).await, "/accounts/login/");
        screenshot(&c, "logged-out.png").await;

        // And /private/ is closed again.
        c.goto(&format!("{base}/private/")).await.unwrap();
        assert_eq!(path_and_query(&c).await, "/accounts/login/?next=/private/");
        screenshot(&c, "end.png").await;
    };
    // Catch a failure so the browser session is closed either way.
    let result = futures_util::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(outcome)).await;
    let _ = c.close().await;
    let _ = std::fs::remove_dir_all(&profile);
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}
