//! `migrate`: Django 6.1's tables for contenttypes, auth, sessions, sites, redirects and
//! flatpages, exactly as Django's migrations leave them, recorded in `django_migrations` so
//! Django sees them applied; then what Django's `post_migrate` handlers add (content types,
//! permissions, the `example.com` site).
//!
//! An app whose migrations are all recorded is left alone, so on a database Django already
//! migrated nothing changes. An app with only some recorded is refused: Django's own
//! `migrate` must finish it.

use std::time::SystemTime;

use super::config::Engine;
use super::database::{Database, DbError, Param};

const SQLITE_SCHEMA: &str = include_str!("schema/sqlite.sql");
const POSTGRES_SCHEMA: &str = include_str!("schema/postgresql.sql");

/// Django 6.1.3's migrations of these apps, in the order its `migrate` applies them.
pub const MIGRATIONS: &[(&str, &str)] = &[
    ("contenttypes", "0001_initial"),
    ("contenttypes", "0002_remove_content_type_name"),
    ("auth", "0001_initial"),
    ("auth", "0002_alter_permission_name_max_length"),
    ("auth", "0003_alter_user_email_max_length"),
    ("auth", "0004_alter_user_username_opts"),
    ("auth", "0005_alter_user_last_login_null"),
    ("auth", "0006_require_contenttypes_0002"),
    ("auth", "0007_alter_validators_add_error_messages"),
    ("auth", "0008_alter_user_username_max_length"),
    ("auth", "0009_alter_user_last_name_max_length"),
    ("auth", "0010_alter_group_name_max_length"),
    ("auth", "0011_update_proxy_permissions"),
    ("auth", "0012_alter_user_first_name_max_length"),
    ("sites", "0001_initial"),
    ("flatpages", "0001_initial"),
    ("redirects", "0001_initial"),
    ("redirects", "0002_alter_redirect_new_path_help_text"),
    ("sessions", "0001_initial"),
    ("sites", "0002_alter_domain_unique"),
];

/// The apps, in dependency order.
pub const APPS: &[&str] = &[
    "contenttypes",
    "auth",
    "sites",
    "flatpages",
    "redirects",
    "sessions",
];

/// (app_label, model, verbose_name), in the order Django's `post_migrate` creates the content
/// types; permissions follow [`PERMISSION_ORDER`].
const MODELS: &[(&str, &str, &str)] = &[
    ("contenttypes", "contenttype", "content type"),
    ("auth", "group", "group"),
    ("auth", "permission", "permission"),
    ("auth", "user", "user"),
    ("sessions", "session", "session"),
    ("sites", "site", "site"),
    ("redirects", "redirect", "redirect"),
    ("flatpages", "flatpage", "flat page"),
];

/// Indexes into [`MODELS`] in the order Django creates their permissions.
const PERMISSION_ORDER: &[usize] = &[0, 2, 1, 3, 4, 5, 6, 7];

/// Why `migrate` stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MigrateError {
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
    /// Some of an app's migrations are recorded and some are not.
    #[error("database {alias:?}: app {app:?} has {recorded} of its {total} migrations recorded in django_migrations; Fix: finish it with Django's `manage.py migrate {app}`")]
    Partial {
        /// The `DATABASES` alias.
        alias: String,
        /// The app.
        app: String,
        /// How many of its migrations are recorded.
        recorded: usize,
        /// How many it has.
        total: usize,
    },
}

/// What `migrate` did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct MigrateReport {
    /// The migrations applied now, as (app, name), in order.
    pub applied: Vec<(String, String)>,
}

/// The DDL statements of `app` (or of `migrations`, the `django_migrations` table).
fn app_statements(engine: Engine, app: &str) -> Vec<String> {
    let schema = match engine {
        Engine::Sqlite => SQLITE_SCHEMA,
        Engine::Postgres => POSTGRES_SCHEMA,
    };
    let marker = format!("-- app: {app}\n");
    let Some(start) = schema.find(&marker) else {
        return Vec::new();
    };
    let body = &schema[start + marker.len()..];
    let body = &body[..body.find("-- app: ").unwrap_or(body.len())];
    body.split(";\n")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

async fn table_exists(db: &Database, table: &str) -> Result<bool, DbError> {
    let sql = match db.engine() {
        Engine::Sqlite => "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = $1",
        Engine::Postgres => {
            "SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = $1"
        }
    };
    Ok(db
        .fetch_optional(sql, &[Param::text(table)])
        .await?
        .is_some())
}

/// The migrations of [`MIGRATIONS`] not yet recorded in `django_migrations`.
pub async fn unapplied(db: &Database) -> Result<Vec<(&'static str, &'static str)>, MigrateError> {
    if !table_exists(db, "django_migrations").await? {
        return Ok(MIGRATIONS.to_vec());
    }
    let rows = db
        .fetch_all("SELECT app, name FROM django_migrations", &[])
        .await?;
    let mut recorded = Vec::with_capacity(rows.len());
    for row in rows {
        recorded.push((row.text(0)?, row.text(1)?));
    }
    let mut missing = Vec::new();
    for app in APPS {
        let all: Vec<_> = MIGRATIONS.iter().filter(|(a, _)| a == app).collect();
        let gone: Vec<_> = all
            .iter()
            .filter(|(a, n)| !recorded.iter().any(|(ra, rn)| ra == a && rn == n))
            .collect();
        if !gone.is_empty() && gone.len() != all.len() {
            return Err(MigrateError::Partial {
                alias: db.alias().to_owned(),
                app: (*app).to_owned(),
                recorded: all.len() - gone.len(),
                total: all.len(),
            });
        }
    }
    for m in MIGRATIONS {
        if !recorded.iter().any(|(a, n)| a == m.0 && n == m.1) {
            missing.push(*m);
        }
    }
    Ok(missing)
}

/// Django's `migrate` for these apps, in one transaction.
pub async fn migrate(db: &Database) -> Result<MigrateReport, MigrateError> {
    let missing = unapplied(db).await?;
    if missing.is_empty() {
        return Ok(MigrateReport::default());
    }
    let engine = db.engine();
    let mut statements: Vec<(String, Vec<Param>)> = Vec::new();
    let ddl = |app: &str| {
        app_statements(engine, app)
            .into_iter()
            .map(|s| (s, Vec::new()))
    };
    if !table_exists(db, "django_migrations").await? {
        statements.extend(ddl("migrations"));
    }
    let apps: Vec<&str> = APPS
        .iter()
        .copied()
        .filter(|app| missing.iter().any(|(a, _)| a == app))
        .collect();
    for app in &apps {
        statements.extend(ddl(app));
    }
    for (app, name) in &missing {
        statements.push((
            "INSERT INTO django_migrations (app, name, applied) VALUES ($1, $2, $3)".to_owned(),
            vec![
                Param::text(*app),
                Param::text(*name),
                Param::Timestamp(SystemTime::now()),
            ],
        ));
    }
    post_migrate(engine, &apps, &mut statements);
    db.execute_in_transaction(&statements).await?;
    for (app, name) in &missing {
        tracing::debug!(database = %db.alias(), "Applying {app}.{name}... OK");
    }
    Ok(MigrateReport {
        applied: missing
            .iter()
            .map(|(a, n)| ((*a).to_owned(), (*n).to_owned()))
            .collect(),
    })
}

/// Django's `post_migrate` handlers: `create_contenttypes`, `create_permissions`,
/// `create_default_site`, for what is missing.
fn post_migrate(engine: Engine, apps: &[&str], statements: &mut Vec<(String, Vec<Param>)>) {
    for (app, model, _) in MODELS {
        statements.push((
            "INSERT INTO django_content_type (app_label, model) SELECT $1, $2 WHERE NOT EXISTS \
             (SELECT 1 FROM django_content_type WHERE app_label = $1 AND model = $2)"
                .to_owned(),
            vec![Param::text(*app), Param::text(*model)],
        ));
    }
    for &i in PERMISSION_ORDER {
        let (app, model, verbose) = MODELS[i];
        for action in ["add", "change", "delete", "view"] {
            statements.push((
                "INSERT INTO auth_permission (name, content_type_id, codename) SELECT $1, ct.id, $2 \
                 FROM django_content_type ct WHERE ct.app_label = $3 AND ct.model = $4 AND NOT EXISTS \
                 (SELECT 1 FROM auth_permission p WHERE p.content_type_id = ct.id AND p.codename = $2)"
                    .to_owned(),
                vec![
                    Param::Text(format!("Can {action} {verbose}")),
                    Param::Text(format!("{action}_{model}")),
                    Param::text(app),
                    Param::text(model),
                ],
            ));
        }
    }
    if apps.contains(&"sites") {
        statements.push((
            "INSERT INTO django_site (id, domain, name) SELECT $1, $2, $3 WHERE NOT EXISTS \
             (SELECT 1 FROM django_site)"
                .to_owned(),
            vec![
                Param::Int(1),
                Param::text("example.com"),
                Param::text("example.com"),
            ],
        ));
        if engine == Engine::Postgres {
            // Django resets the sequence after inserting the site with an explicit id.
            statements.push((
                "SELECT setval(pg_get_serial_sequence('\"django_site\"','id'), coalesce(max(\"id\"), 1), max(\"id\") IS NOT null) FROM \"django_site\"".to_owned(),
                Vec::new(),
            ));
        }
    }
}

/// Django's `clearsessions` for the `db` engines: deletes the rows of `django_session` whose
/// `expire_date` has passed; how many.
pub async fn clear_expired_sessions(db: &Database) -> Result<u64, DbError> {
    db.execute(
        "DELETE FROM django_session WHERE expire_date < $1",
        &[Param::Timestamp(SystemTime::now())],
    )
    .await
}
