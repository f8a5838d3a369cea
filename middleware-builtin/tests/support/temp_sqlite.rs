// Each test binary that includes this uses part of it.
#![allow(dead_code)]

//! A SQLite file migrated as Django 6.1's migrations leave it (site 1 is `example.com`), in a
//! folder of its own that is removed on drop.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use middleware_builtin::db::{databases_from_settings, migrate::migrate, Database, Param};
use middleware_core::Settings;

pub struct TempDb {
    dir: PathBuf,
    /// The `default` database.
    pub db: Arc<Database>,
    /// `[DATABASES.default]` for a settings file: put it last, it opens a table.
    pub settings: String,
}

impl Drop for TempDb {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.dir).ok();
    }
}

impl TempDb {
    pub async fn new() -> TempDb {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "mw-sqlite-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let settings = format!(
            "[DATABASES.default]\nENGINE = \"django.db.backends.sqlite3\"\nNAME = \"{}\"\n",
            dir.join("db.sqlite3").display()
        );
        let parsed = Settings::from_toml_str(&settings, "test.toml").unwrap();
        let db = databases_from_settings(&parsed)
            .unwrap()
            .get("default")
            .unwrap();
        migrate(&db).await.unwrap();
        TempDb { dir, db, settings }
    }

    /// The SQLite file.
    pub fn path(&self) -> PathBuf {
        self.dir.join("db.sqlite3")
    }

    /// Runs `sql` with text parameters.
    pub async fn exec(&self, sql: &str, params: &[&str]) {
        let params: Vec<Param> = params.iter().map(|p| Param::text(*p)).collect();
        self.db.execute(sql, &params).await.unwrap();
    }
}
