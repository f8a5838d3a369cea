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

/// A fixture script started once in its `serve` mode (`tests/fixtures/django/{script} {args...}
/// serve`): Django starts once, then each [`DjangoProcess::call`] is one command line in and
/// one answer line out. Its stderr is the test's. Ended (stdin closed, then killed) on drop.
pub struct DjangoProcess {
    child: std::process::Child,
    stdin: std::process::ChildStdin,
    stdout: std::io::BufReader<std::process::ChildStdout>,
    script: String,
}

impl DjangoProcess {
    /// Starts `script` with `args` and `serve`.
    pub fn start(python: &Path, script: &str, args: &[&str]) -> DjangoProcess {
        use std::process::Stdio;
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/fixtures/django")
            .join(script);
        let mut child = std::process::Command::new(python)
            .arg(path)
            .args(args)
            .arg("serve")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python runs");
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = std::io::BufReader::new(child.stdout.take().expect("piped stdout"));
        DjangoProcess {
            child,
            stdin,
            stdout,
            script: script.to_owned(),
        }
    }

    /// Runs one command (`args`, none with white space); its answer, trimmed. Panics when the
    /// process has died (its error is on the test's stderr).
    pub fn call(&mut self, args: &[&str]) -> String {
        use std::io::{BufRead, Write};
        writeln!(self.stdin, "{}", args.join(" ")).expect("the Django process reads");
        self.stdin.flush().expect("the Django process reads");
        let mut line = String::new();
        let n = self
            .stdout
            .read_line(&mut line)
            .expect("the Django process answers");
        assert!(
            n > 0,
            "{} {args:?}: the Django process ended (see its error above)",
            self.script
        );
        line.trim().to_owned()
    }
}

impl Drop for DjangoProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
