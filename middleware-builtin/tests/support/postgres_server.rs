//! A throwaway PostgreSQL cluster on a random loopback port, for tests: `initdb` in a temporary
//! directory, then `pg_ctl start`, as the `postgres` user when the tests run as root
//! (PostgreSQL refuses to run as root). Skipped, loudly, when the binaries are missing. Stopped
//! and removed on drop.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Stdio};

/// Where Debian's `postgresql` package puts the server binaries.
const BIN_DIRS: &[&str] = &[
    "/usr/lib/postgresql/17/bin",
    "/usr/lib/postgresql/16/bin",
    "/usr/lib/postgresql/15/bin",
];

/// A running cluster with trust authentication for the `postgres` user on 127.0.0.1.
pub struct PostgresServer {
    bin: PathBuf,
    dir: PathBuf,
    /// Its port on 127.0.0.1.
    pub port: u16,
    as_root: bool,
}

impl PostgresServer {
    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if self.as_root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        }
    }

    /// Initialises and starts a cluster; `None` (and a SKIP note) when PostgreSQL is missing or
    /// does not start.
    pub fn start() -> Option<PostgresServer> {
        let Some(bin) = BIN_DIRS
            .iter()
            .map(PathBuf::from)
            .find(|d| d.join("initdb").exists())
        else {
            eprintln!("SKIP: PostgreSQL is not installed (apt-get install postgresql)");
            return None;
        };
        let as_root = Command::new("id")
            .arg("-u")
            .output()
            .map(|o| o.stdout.starts_with(b"0\n"))
            .unwrap_or(false);
        let dir = std::env::temp_dir().join(format!(
            "mw-pg-{}-{}",
            std::process::id(),
            middleware_core::crypto::get_random_string(8, b"abcdefghijklmnopqrstuvwxyz")
        ));
        std::fs::create_dir_all(&dir).ok()?;
        if as_root {
            let ok = Command::new("chown")
                .arg("postgres:postgres")
                .arg(&dir)
                .status()
                .map(|s| s.success())
                .unwrap_or(false);
            if !ok {
                eprintln!("SKIP: cannot hand {} to the postgres user", dir.display());
                return None;
            }
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let server = PostgresServer {
            bin,
            dir,
            port,
            as_root,
        };
        let init = server
            .command("initdb")
            .args(["-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"])
            .arg("-D")
            .arg(server.dir.join("data"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if !init.map(|s| s.success()).unwrap_or(false) {
            eprintln!("SKIP: initdb failed in {}", server.dir.display());
            return None;
        }
        if !server.start_again() {
            eprintln!("SKIP: PostgreSQL did not start on port {port}");
            return None;
        }
        Some(server)
    }

    /// Starts the (stopped) cluster again on the same port; whether it is up.
    pub fn start_again(&self) -> bool {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.display()
        );
        self.command("pg_ctl")
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-o", &options, "-l"])
            .arg(self.dir.join("log"))
            .args(["-w", "-t", "20", "start"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    }

    /// Stops the cluster (fast shutdown: open connections are terminated).
    pub fn stop(&self) {
        let _ = self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-m", "fast", "-w", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }

    /// Runs SQL with `psql` as `postgres` on database `db`; its stdout.
    pub fn psql(&self, db: &str, sql: &str) -> String {
        let out = self
            .command("psql")
            .args([
                "-X",
                "-q",
                "-At",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                "127.0.0.1",
                "-U",
            ])
            .args([
                "postgres",
                "-p",
                &self.port.to_string(),
                "-d",
                db,
                "-c",
                sql,
            ])
            .output();
        match out {
            Ok(o) => String::from_utf8_lossy(&o.stdout).into_owned(),
            Err(_) => String::new(),
        }
    }

    /// Creates an empty database named `name`.
    pub fn create_database(&self, name: &str) {
        self.psql("postgres", &format!("CREATE DATABASE \"{name}\""));
    }

    /// A `[DATABASES.default]` table for database `name` of this cluster.
    pub fn settings(&self, name: &str) -> String {
        format!(
            "[DATABASES.default]\nENGINE = \"django.db.backends.postgresql\"\nNAME = \"{name}\"\nUSER = \"postgres\"\nHOST = \"127.0.0.1\"\nPORT = {}\n",
            self.port
        )
    }
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
