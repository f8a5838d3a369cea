//! The site's databases: `migrate`, `clearsessions`, and the automatic migration of SQLite
//! files at start-up (Django's `startproject` + `migrate` in one step).

use std::sync::Mutex;

use middleware_builtin::db::migrate::{clear_expired_sessions, migrate};
use middleware_builtin::db::{databases_from_settings, Database, Engine};
use middleware_core::Settings;

/// One migration at a time in this process: chains built in parallel (tests) share the file.
static MIGRATING: Mutex<()> = Mutex::new(());

/// Runs `work` on every `DATABASES` entry chosen by `pick`, on a runtime of its own in a
/// thread of its own, so it works from `main` and from inside another runtime alike.
fn on_databases<T: Send + 'static>(
    settings: &Settings,
    pick: fn(&Database) -> bool,
    work: fn(
        std::sync::Arc<Database>,
    ) -> futures_util::future::BoxFuture<'static, Result<T, String>>,
) -> Result<Vec<(String, T)>, String> {
    let databases = databases_from_settings(settings).map_err(|e| e.to_string())?;
    let chosen: Vec<_> = databases
        .aliases()
        .filter_map(|a| databases.get(a))
        .filter(|db| pick(db))
        .collect();
    if chosen.is_empty() {
        return Ok(Vec::new());
    }
    let _guard = MIGRATING.lock().unwrap_or_else(|e| e.into_inner());
    std::thread::scope(|scope| {
        scope
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| format!("cannot start a runtime: {e}"))?;
                runtime.block_on(async move {
                    let mut out = Vec::new();
                    for db in chosen {
                        let alias = db.alias().to_owned();
                        out.push((alias, work(db).await?));
                    }
                    Ok(out)
                })
            })
            .join()
            .unwrap_or_else(|_| Err("the migration thread panicked".to_owned()))
    })
}

fn migrate_one(
    db: std::sync::Arc<Database>,
) -> futures_util::future::BoxFuture<'static, Result<Vec<String>, String>> {
    Box::pin(async move {
        let report = migrate(&db).await.map_err(|e| e.to_string())?;
        Ok(report
            .applied
            .into_iter()
            .map(|(app, name)| format!("{app}.{name}"))
            .collect())
    })
}

/// `example-site migrate`: Django's tables on every database; per alias, what was applied.
pub fn migrate_all(settings: &Settings) -> Result<Vec<(String, Vec<String>)>, String> {
    on_databases(settings, |_| true, migrate_one)
}

/// At start-up: migrates the SQLite files (created if missing), as `cargo run` on a fresh
/// checkout needs. PostgreSQL is left to `example-site migrate`, run once for all instances.
pub fn auto_migrate(settings: &Settings) -> Result<(), String> {
    let done = on_databases(
        settings,
        |db| db.engine() == Engine::Sqlite && db.config().sqlite_path().is_some(),
        migrate_one,
    )?;
    for (alias, applied) in done {
        if !applied.is_empty() {
            tracing::debug!(database = %alias, count = applied.len(), "applied Django's migrations");
        }
    }
    Ok(())
}

/// At start-up, with `EXAMPLE_SITE_DEMO_USER = true`: the demo user in the `default`
/// database (see [`crate::users::ensure_demo_user`]).
pub fn seed_demo_user(settings: &Settings) -> Result<(), String> {
    let site = crate::users::SiteSettings::from_settings(settings).map_err(|e| e.to_string())?;
    if !site.demo_user {
        return Ok(());
    }
    let done = on_databases(
        settings,
        |db| db.alias() == "default",
        |db| {
            Box::pin(async move {
                crate::users::ensure_demo_user(db)
                    .await
                    .map_err(|e| e.to_string())
            })
        },
    );
    // Not fatal: a PostgreSQL not migrated yet, or down, must not keep the site from starting.
    let done = match done {
        Ok(done) => done,
        Err(e) => {
            tracing::warn!(error = %e, "could not create the demo user");
            return Ok(());
        }
    };
    if done.iter().any(|(_, added)| *added) {
        tracing::debug!(
            username = crate::users::DEMO_USERNAME,
            "created the demo user"
        );
    }
    Ok(())
}

/// `example-site clearsessions`: Django's command for the `db` engines; rows deleted per alias.
pub fn clearsessions(settings: &Settings) -> Result<Vec<(String, u64)>, String> {
    on_databases(
        settings,
        |db| db.alias() == "default",
        |db| Box::pin(async move { clear_expired_sessions(&db).await.map_err(|e| e.to_string()) }),
    )
}
