//! `example-site serve` with an empty or missing `SECRET_KEY` and `DEBUG = false` exits before
//! it listens, with Django's message and the fix (issue: it used to serve, and a session forged
//! with the empty key logged anyone in).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;
use std::time::Duration;

#[test]
fn serve_refuses_an_empty_secret_key_when_debug_is_off() {
    let dir = std::env::temp_dir().join(format!("serve-secret-key-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, key) in [("missing.toml", ""), ("empty.toml", "SECRET_KEY = \"\"\n")] {
        let path = dir.join(name);
        std::fs::write(
            &path,
            format!(
                "{key}ALLOWED_HOSTS = [\"*\"]\nMIDDLEWARE = [\"django.middleware.security.SecurityMiddleware\"]\n"
            ),
        )
        .unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_example-site"))
            .args(["serve", "--bind", "127.0.0.1:0", "--settings"])
            .arg(&path)
            .env("RUST_LOG", "info")
            .env_remove("SECRET_KEY")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // It must exit on its own; a server that started would run until killed.
        let mut waited = Duration::ZERO;
        while child.try_wait().unwrap().is_none() && waited < Duration::from_secs(30) {
            std::thread::sleep(Duration::from_millis(50));
            waited += Duration::from_millis(50);
        }
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap();
            panic!("{name}: serve started with an empty SECRET_KEY");
        }
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(!out.status.success(), "{name}");
        assert!(
            stderr.contains("The SECRET_KEY setting must not be empty"),
            "{name}: {stderr}"
        );
        assert!(!stdout.contains("listening"), "{name}: {stdout}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
