//! The example site: Django's default middleware stack plus the seed's examples, serving the
//! routes of the conformance contract and a small application ([`app`]: login, logout, a
//! private page, a notes form) rendered with templates.
//!
//! ```no_run
//! let settings = example_site::load_settings(None).unwrap();
//! let chain = example_site::build_chain(&settings).unwrap();
//! # let _ = chain;
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod app;
pub mod conformance2;
pub mod database;
pub mod log;
pub mod manage;
pub mod middleware;
mod tty;
pub mod users;
pub mod views;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use middleware_core::{BuildError, Chain, Registry, Settings, SettingsError};

/// The settings file shipped with the site.
pub const DEFAULT_SETTINGS: &str = include_str!("../settings.toml");

/// The site's URLconfs (Django's `ROOT_URLCONF`): which routes the site serves.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Urlconf {
    /// The site's own: the first conformance contract's routes and the templated application.
    #[default]
    Site,
    /// The second conformance contract's routes ([`conformance2`]), with `i18n_patterns`.
    Conformance2,
}

impl Urlconf {
    /// The name `--urlconf` takes.
    pub fn name(self) -> &'static str {
        match self {
            Urlconf::Site => "site",
            Urlconf::Conformance2 => "conformance2",
        }
    }

    /// The URLconf called `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        [Urlconf::Site, Urlconf::Conformance2]
            .into_iter()
            .find(|u| u.name() == name)
    }
}

/// Every middleware the site can list: the built-ins, django-cors-headers and the others of
/// `middleware-contrib`, and the seed's.
pub fn registry() -> Registry {
    registry_with_printer(stdout_printer())
}

/// As [`registry`], for `urlconf` (its `i18n_patterns` are known to `LocaleMiddleware`).
pub fn registry_for(urlconf: Urlconf) -> Registry {
    let mut registry = registry();
    if urlconf == Urlconf::Conformance2 {
        middleware_builtin::locale::register_with(&mut registry, Some(conformance2::I18N_PATTERNS));
    }
    registry
}

/// Where the seed's `print()` goes: stdout, buffered as Python buffers it. Line by line on a
/// terminal; in blocks of 8 KiB when stdout is a file or a pipe (two `write` calls per request
/// would otherwise dominate a load test). The buffer is flushed when the printer is dropped,
/// which happens when the chain and the registry go away at shutdown.
pub fn stdout_printer() -> middleware::Printer {
    use std::io::{IsTerminal, Write};
    if std::io::stdout().is_terminal() {
        return Arc::new(|line: &str| println!("{line}"));
    }
    let out = std::sync::Mutex::new(std::io::BufWriter::with_capacity(8192, std::io::stdout()));
    Arc::new(move |line: &str| {
        let mut out = out
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // A closed stdout must not take the site down: the line is dropped, as Python would
        // raise only in the print call.
        let _ = out
            .write_all(line.as_bytes())
            .and_then(|()| out.write_all(b"\n"));
    })
}

/// As [`registry`], with `SimpleAsyncMiddleware` printing through `print`.
pub fn registry_with_printer(print: middleware::Printer) -> Registry {
    let mut registry = Registry::new();
    // CSRF_FAILURE_VIEW = "example_site.views.csrf_failure" resolves here.
    let failure_views = middleware_builtin::csrf::CsrfFailureViews::new();
    // The Django site that recorded the second contract names its module `views`.
    for name in ["example_site.views.csrf_failure", "views.csrf_failure"] {
        failure_views.insert(name, Arc::new(views::csrf_failure));
    }
    // AUTHENTICATION_BACKENDS (default: Django's ModelBackend): auth_user when DATABASES is
    // set, the in-memory demo user otherwise.
    let auth_backends = middleware_builtin::auth::AuthBackends::new();
    auth_backends.insert_fallback(middleware_builtin::auth::MODEL_BACKEND, users::demo_users());
    middleware_builtin::register_all_with(
        &mut registry,
        middleware_builtin::BuiltinOptions::default()
            .csrf_failure_views(failure_views.clone())
            .auth_backends(auth_backends),
    );
    // Flat pages render with the site's templates (flatpages/default.html). The templates are
    // compiled into the binary and a test compiles them, so this only fails in development.
    match app::Templates::new() {
        Ok(templates) => middleware_builtin::flatpages::register(
            &mut registry,
            middleware_builtin::flatpages::FlatpageOptions::new(Arc::new(templates))
                .csrf_failure_views(failure_views),
        ),
        Err(e) => tracing::error!("the site's templates do not compile ({e}): no flat pages"),
    }
    middleware_contrib::register_all(&mut registry);
    middleware::register(&mut registry, print);
    registry.declare::<users::SiteSettings>();
    registry
}

/// Reads `path`, or the site's own `settings.toml` (found next to the crate, so it works from
/// the repository root too; the copy built into the binary otherwise).
pub fn load_settings(path: Option<&Path>) -> Result<Settings, SettingsError> {
    match path {
        Some(p) => Settings::from_file(p),
        None => {
            let beside = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("settings.toml");
            if beside.is_file() {
                Settings::from_file(beside)
            } else {
                Settings::from_toml_str(DEFAULT_SETTINGS, "example-site/settings.toml (built in)")
            }
        }
    }
}

/// Builds the site's chain from `settings` with the given registry.
pub fn build_chain_with(registry: &Registry, settings: &Settings) -> Result<Chain, BuildError> {
    build_chain_for(Urlconf::Site, registry, settings)
}

/// Builds the chain serving `urlconf` from `settings` with the given registry (made by
/// [`registry_for`] with the same `urlconf`).
pub fn build_chain_for(
    urlconf: Urlconf,
    registry: &Registry,
    settings: &Settings,
) -> Result<Chain, BuildError> {
    let urlconf_error = |message: String| BuildError::ImproperlyConfigured {
        index: 0,
        name: "ROOT_URLCONF".into(),
        message,
    };
    let router = match urlconf {
        Urlconf::Site => {
            let mut router = views::router().map_err(|e| urlconf_error(e.to_string()))?;
            // The templates are compiled once here, not per request.
            let templates =
                app::Templates::new().map_err(|e| urlconf_error(format!("templates: {e}")))?;
            app::add_routes(&mut router, Arc::new(templates))
                .map_err(|e| urlconf_error(e.to_string()))?;
            router
        }
        Urlconf::Conformance2 => {
            conformance2::router(settings).map_err(|e| urlconf_error(e.to_string()))?
        }
    };
    database::auto_migrate(settings)
        .and_then(|()| database::seed_demo_user(settings))
        .map_err(|message| BuildError::ImproperlyConfigured {
            index: 0,
            name: "DATABASES".into(),
            message,
        })?;
    Chain::builder(registry, settings)
        .urls(router)
        .error_handlers(views::error_handlers(settings.core().debug))
        .build()
}

/// Builds the site's chain from `settings`.
pub fn build_chain(settings: &Settings) -> Result<Chain, BuildError> {
    build_chain_with(&registry(), settings)
}

/// The text `example-site check` prints for `messages`, laid out as Django's
/// `manage.py check`: with no issues, one line; otherwise a header, the issues grouped by level
/// (`ERRORS:`, `WARNINGS:` ...; sorted within a group) and the count. `silenced` is always 0:
/// there is no `SILENCED_SYSTEM_CHECKS` yet.
///
/// ```
/// use middleware_core::checks::CheckMessage;
///
/// let report = example_site::check_report(&[CheckMessage::warning("security.W008", "No SSL redirect.", None)]);
/// assert_eq!(
///     report,
///     "System check identified some issues:\n\nWARNINGS:\n?: (security.W008) No SSL redirect.\n\n\
///      System check identified 1 issue (0 silenced).",
/// );
/// assert_eq!(example_site::check_report(&[]), "System check identified no issues (0 silenced).");
/// ```
pub fn check_report(messages: &[middleware_core::checks::CheckMessage]) -> String {
    use middleware_core::checks::Level;
    let count = match messages.len() {
        0 => "no issues".to_owned(),
        1 => "1 issue".to_owned(),
        n => format!("{n} issues"),
    };
    let footer = format!("System check identified {count} (0 silenced).");
    if messages.is_empty() {
        return footer;
    }
    let mut out = String::from("System check identified some issues:\n");
    for (level, group) in [
        (Level::Critical, "CRITICALS"),
        (Level::Error, "ERRORS"),
        (Level::Warning, "WARNINGS"),
        (Level::Info, "INFOS"),
        (Level::Debug, "DEBUGS"),
    ] {
        let mut lines: Vec<String> = messages
            .iter()
            .filter(|m| m.level == level)
            .map(ToString::to_string)
            .collect();
        if lines.is_empty() {
            continue;
        }
        lines.sort();
        out.push_str(&format!("\n{group}:\n{}\n", lines.join("\n")));
    }
    out.push('\n');
    out.push_str(&footer);
    out
}
