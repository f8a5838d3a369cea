//! The Python with Django 6.1.3 that the live cross-checks drive (`DJANGO_PYTHON`, set by
//! scripts/django_crosscheck.sh; else the venv that script makes), and a runner for the
//! fixture scripts of tests/fixtures/django/.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The Python to use, when it imports Django and `module`; `None` (the caller says SKIP).
pub fn django_python(module: &str) -> Option<PathBuf> {
    let path = std::env::var_os("DJANGO_PYTHON").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/django-6.1.3/bin/python"),
        PathBuf::from,
    );
    let ok = std::process::Command::new(&path)
        .args(["-c", &format!("import django, {module}")])
        .output()
        .is_ok_and(|o| o.status.success());
    ok.then_some(path)
}

/// Runs `tests/fixtures/django/{script} {args...}`; its stdout, trimmed. Panics (with its
/// stderr) when it fails.
pub fn run_fixture(python: &Path, script: &str, args: &[&str]) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/django")
        .join(script);
    let out = std::process::Command::new(python)
        .arg(path)
        .args(args)
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "{script} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}
