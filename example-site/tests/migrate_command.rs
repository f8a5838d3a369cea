//! `example-site migrate` and `clearsessions` on a fresh SQLite file, as Django's commands.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::process::Command;

fn run(args: &[&str], settings: &std::path::Path) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_example-site"))
        .args(args)
        .arg("--settings")
        .arg(settings)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

// Django: `manage.py migrate` on an empty database applies the 20 migrations of these apps in
// this order; run again, "No migrations to apply."; `clearsessions` then finds nothing to do.
#[test]
fn migrate_then_migrate_again_then_clearsessions() {
    let dir = std::env::temp_dir().join(format!("example-site-migrate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let settings = dir.join("settings.toml");
    std::fs::write(
        &settings,
        "SECRET_KEY = \"k-0123456789-0123456789-0123456789-0123456789\"\nDATABASES = { default = { ENGINE = \"django.db.backends.sqlite3\", NAME = \"db.sqlite3\" } }\n",
    )
    .unwrap();
    let (ok, out) = run(&["migrate"], &settings);
    assert!(ok, "{out}");
    let applied: Vec<&str> = out
        .lines()
        .filter_map(|l| l.trim().strip_prefix("Applying "))
        .map(|l| l.split("...").next().unwrap())
        .collect();
    assert_eq!(applied.len(), 20, "{out}");
    assert_eq!(applied[0], "contenttypes.0001_initial");
    assert_eq!(applied[19], "sites.0002_alter_domain_unique");
    assert!(
        dir.join("db.sqlite3").is_file(),
        "NAME is relative to the settings file"
    );
    let (ok, out) = run(&["migrate"], &settings);
    assert!(ok && out.contains("No migrations to apply"), "{out}");
    let (ok, out) = run(&["clearsessions"], &settings);
    assert!(ok && out.contains("Deleted 0 expired sessions"), "{out}");
    std::fs::remove_dir_all(&dir).unwrap();
}

// Without DATABASES there is nothing to migrate: a clear error, not a silent success.
#[test]
fn migrate_without_databases_says_so() {
    let dir =
        std::env::temp_dir().join(format!("example-site-migrate-none-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let settings = dir.join("settings.toml");
    std::fs::write(
        &settings,
        "SECRET_KEY = \"k-0123456789-0123456789-0123456789\"\n",
    )
    .unwrap();
    let (ok, out) = run(&["migrate"], &settings);
    assert!(!ok && out.contains("DATABASES"), "{out}");
    std::fs::remove_dir_all(&dir).unwrap();
}
