//! `example-site check [--deploy]`, run as the built binary: the IDs Django 6.1.3's
//! `manage.py check --deploy` reports for the same settings, Django's layout, and a non-zero
//! exit on errors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::{Command, Output};

fn site() -> Command {
    Command::new(env!("CARGO_BIN_EXE_example-site"))
}

fn check(settings: &std::path::Path, deploy: bool) -> Output {
    let mut cmd = site();
    cmd.arg("check").arg("--settings").arg(settings);
    if deploy {
        cmd.arg("--deploy");
    }
    cmd.env("RUST_LOG", "warn").output().unwrap()
}

/// The IDs of the `?: (ID) ...` lines of a report, in order.
fn ids(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("?: ("))
        .filter_map(|l| l.split_once(')'))
        .map(|(id, _)| id.to_owned())
        .collect()
}

fn example_settings() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("settings.toml")
}

/// `../shared/conformance/settings.toml` beside the checkout (as `scripts/conformance.sh`
/// finds it), or under `$SHARED_DIR`, with the MIDDLEWARE entries this tree has not ported
/// left out, as `scripts/conformance.sh` does (AuthenticationMiddleware: none of Django's
/// deploy checks depends on it).
fn conformance_settings() -> TempSettings {
    let shared = std::env::var_os("SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"));
    let path = shared.join("conformance/settings.toml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let registry = example_site::registry();
    let registered: Vec<&str> = registry.names().collect();
    let start = text.find("MIDDLEWARE = [").expect("a MIDDLEWARE list");
    let end = start + text[start..].find(']').expect("the end of MIDDLEWARE");
    let kept: Vec<&str> = text[start..end]
        .split('"')
        .skip(1)
        .step_by(2)
        .filter(|name| registered.contains(name))
        .collect();
    assert!(kept.len() >= 9, "{kept:?}");
    let list = kept
        .iter()
        .map(|m| format!("{m:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    let filtered = format!("{}MIDDLEWARE = [{list}{}", &text[..start], &text[end..]);
    TempSettings::new("conformance", &filtered)
}

/// A settings file in a fresh temporary directory (removed with the guard).
struct TempSettings(PathBuf);

impl TempSettings {
    fn new(name: &str, toml: &str) -> Self {
        // Tests run in parallel and may use the same name: each guard gets its own folder.
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!(
            "example-site-check-{}-{name}-{n}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("settings.toml");
        std::fs::write(&path, toml).unwrap();
        TempSettings(path)
    }
}

impl Drop for TempSettings {
    fn drop(&mut self) {
        if let Some(dir) = self.0.parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

// Expected: `python manage.py check --deploy` with Django 6.1.3 on the same values
// (DEBUG off, a strong SECRET_KEY, no HSTS, no SSL redirect, insecure session and CSRF
// cookies; nosniff, X-Frame-Options DENY, Referrer-Policy and COOP at Django's defaults):
// W004 (SECURE_HSTS_SECONDS), W008 (SECURE_SSL_REDIRECT), W012 (SESSION_COOKIE_SECURE),
// W016 (CSRF_COOKIE_SECURE); issues go to stderr and the exit status is 0.
#[test]
fn deploy_check_of_the_example_site_matches_django() {
    let out = check(&example_settings(), true);
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        ids(&stderr),
        [
            "security.W004",
            "security.W008",
            "security.W012",
            "security.W016"
        ],
        "{stderr}"
    );
    assert!(
        stderr.starts_with("System check identified some issues:\n\nWARNINGS:\n?: (security.W004) You have not set a value for the SECURE_HSTS_SECONDS setting."),
        "{stderr}"
    );
    assert!(
        stderr.ends_with("\nSystem check identified 4 issues (0 silenced).\n"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
}

// Expected: Django 6.1.3's `check --deploy` on `shared/conformance/django/site/settings.py`
// (the values of shared/conformance/settings.toml), run for real:
// W008, W012, W016, and W021 (HSTS is on without SECURE_HSTS_PRELOAD).
#[test]
fn deploy_check_of_the_conformance_settings_matches_django() {
    let out = check(&conformance_settings().0, true);
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        ids(&stderr),
        [
            "security.W008",
            "security.W012",
            "security.W016",
            "security.W021"
        ],
        "{stderr}"
    );
    assert!(
        stderr.ends_with("\nSystem check identified 4 issues (0 silenced).\n"),
        "{stderr}"
    );
}

// Without --deploy the deployment checks do not run: Django prints the clean report on stdout.
#[test]
fn plain_check_is_clean() {
    let conformance = conformance_settings();
    for settings in [example_settings(), conformance.0.clone()] {
        let out = check(&settings, false);
        assert!(out.status.success(), "{out:?}");
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            "System check identified no issues (0 silenced).\n"
        );
    }
}

// An Error (an unknown Referrer-Policy, security.E023) fails the command, as Django's
// SystemCheckError does; warnings are listed with it under their own heading.
#[test]
fn errors_make_check_fail() {
    let base = std::fs::read_to_string(example_settings()).unwrap();
    let settings = TempSettings::new(
        "e023",
        &format!("{base}\nSECURE_REFERRER_POLICY = \"no-such-policy\"\n"),
    );
    let out = check(&settings.0, true);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.starts_with("SystemCheckError: System check identified some issues:\n\nERRORS:\n?: (security.E023) "),
        "{stderr}"
    );
    assert_eq!(
        ids(&stderr),
        [
            "security.E023",
            "security.W004",
            "security.W008",
            "security.W012",
            "security.W016"
        ],
        "{stderr}"
    );
    assert!(stderr.contains("\n\nWARNINGS:\n"), "{stderr}");
    assert!(
        stderr.ends_with("\nSystem check identified 5 issues (0 silenced).\n"),
        "{stderr}"
    );
    // Without --deploy the referrer-policy check does not run (it is a deploy check in
    // Django too), so the same settings pass.
    assert!(check(&settings.0, false).status.success());
}

// Settings the chain cannot be built from are a start-up error (exit 2), not a check report.
#[test]
fn unreadable_settings_exit_2() {
    let settings = TempSettings::new("bad", "MIDDLEWARE = [\"NoSuchMiddleware\"]\n");
    let out = check(&settings.0, true);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8(out.stderr)
        .unwrap()
        .starts_with("error: "));
}

/// The example site's settings with `CSRF_TRUSTED_ORIGINS = ["example.com"]` (no scheme:
/// Django's `4_0.E001`).
fn e001_settings() -> TempSettings {
    let base = std::fs::read_to_string(example_settings()).unwrap();
    // Top-level keys must come before the first table, so the key goes first.
    TempSettings::new(
        "e001",
        &format!("CSRF_TRUSTED_ORIGINS = [\"example.com\"]\n{base}"),
    )
}

// Django's `runserver` runs the system checks and raises SystemCheckError on an error
// (django/core/management/commands/runserver.py, `inner_run` -> `self.check`): `serve`
// refuses to start, with the report in `check`'s layout and a non-zero exit.
#[test]
fn serve_refuses_to_start_on_check_errors() {
    let settings = e001_settings();
    let out = site()
        .args(["serve", "--bind", "127.0.0.1:0", "--settings"])
        .arg(&settings.0)
        .env("RUST_LOG", "info")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.starts_with("SystemCheckError: System check identified some issues:\n\nERRORS:\n?: (4_0.E001) As of Django 4.0, the values in the CSRF_TRUSTED_ORIGINS setting must start with a scheme"),
        "{stderr}"
    );
    assert_eq!(ids(&stderr), ["4_0.E001"], "{stderr}");
    assert!(
        stderr.ends_with("\nSystem check identified 1 issue (0 silenced).\n"),
        "{stderr}"
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.starts_with("Performing system checks...\n"),
        "{stdout}"
    );
    assert!(!stdout.contains("listening on"), "{stdout}");
}

// `serve --skip-checks` (runserver's `--skip-checks`) starts with the same settings.
#[test]
fn serve_skip_checks_starts_despite_errors() {
    use std::io::BufRead;
    let settings = e001_settings();
    let mut child = site()
        .args([
            "serve",
            "--skip-checks",
            "--bind",
            "127.0.0.1:0",
            "--settings",
        ])
        .arg(&settings.0)
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    // The first lines the server prints; it keeps serving until killed.
    let mut seen = Vec::new();
    for line in std::io::BufReader::new(stdout).lines().take(5) {
        let line = line.unwrap();
        let listening = line.contains("listening on http://127.0.0.1:");
        seen.push(line);
        if listening {
            break;
        }
    }
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    assert!(
        seen.last().is_some_and(|l| l.contains("listening on")),
        "{seen:?} {out:?}"
    );
    assert!(!seen.iter().any(|l| l.contains("Performing system checks")));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("4_0.E001"));
}
