//! System checks: Django's check framework (`manage.py check [--deploy]`).
//!
//! Checks are functions registered on the [`crate::Registry`] and run by
//! [`Registry::run_checks`](crate::Registry::run_checks); each returns messages with
//! Django's IDs where Django has one (`security.W004` ...).
//!
//! ```
//! use middleware_core::checks::{CheckMessage, Level};
//! use middleware_core::Registry;
//!
//! let mut registry = Registry::new();
//! registry.add_check(true, |ctx| {
//!     if ctx.settings.core().debug {
//!         vec![CheckMessage::warning("security.W018", "You should not have DEBUG set to True in deployment.", None)]
//!     } else {
//!         vec![]
//!     }
//! });
//! let settings = middleware_core::Settings::from_toml_str("DEBUG = true", "t").unwrap();
//! let messages = registry.run_checks(&settings, true);
//! assert_eq!(messages[0].id, "security.W018");
//! assert_eq!(messages[0].level, Level::Warning);
//! ```

use std::fmt;

use crate::settings::Settings;

/// Severity, as Django's `checks.Debug` ... `checks.Critical`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Informational, below info.
    Debug,
    /// Informational.
    Info,
    /// A problem that does not stop the site.
    Warning,
    /// A problem that makes `check` fail.
    Error,
    /// A serious problem that makes `check` fail.
    Critical,
}

/// One finding: Django's `CheckMessage`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckMessage {
    /// Django's ID, e.g. `security.W004`.
    pub id: String,
    /// Severity.
    pub level: Level,
    /// What is wrong.
    pub msg: String,
    /// How to fix it.
    pub hint: Option<String>,
}

impl CheckMessage {
    /// A warning.
    pub fn warning(id: &str, msg: impl Into<String>, hint: Option<&str>) -> Self {
        Self::new(Level::Warning, id, msg, hint)
    }

    /// An error.
    pub fn error(id: &str, msg: impl Into<String>, hint: Option<&str>) -> Self {
        Self::new(Level::Error, id, msg, hint)
    }

    /// A message of any level.
    pub fn new(level: Level, id: &str, msg: impl Into<String>, hint: Option<&str>) -> Self {
        CheckMessage {
            id: id.to_owned(),
            level,
            msg: msg.into(),
            hint: hint.map(str::to_owned),
        }
    }

    /// Whether this message makes `check` fail (Error or Critical).
    pub fn is_serious(&self) -> bool {
        self.level >= Level::Error
    }
}

impl fmt::Display for CheckMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "?: ({}) {}", self.id, self.msg)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n\tHINT: {hint}")?;
        }
        Ok(())
    }
}

/// What a check sees.
#[non_exhaustive]
pub struct CheckContext<'a> {
    /// The settings.
    pub settings: &'a Settings,
    /// Compares middleware names with the registry's aliases.
    same: &'a dyn Fn(&str, &str) -> bool,
    /// Whether `--deploy` checks are running.
    pub deploy: bool,
}

impl fmt::Debug for CheckContext<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CheckContext")
            .field("deploy", &self.deploy)
            .finish_non_exhaustive()
    }
}

impl<'a> CheckContext<'a> {
    /// What a check sees; `same` says whether two middleware names are one registered
    /// middleware (`Registry::same`).
    pub(crate) fn new(
        settings: &'a Settings,
        same: &'a dyn Fn(&str, &str) -> bool,
        deploy: bool,
    ) -> Self {
        CheckContext {
            settings,
            same,
            deploy,
        }
    }

    /// The position in `MIDDLEWARE` of the middleware registered as `name` (under any alias).
    pub fn middleware_index(&self, name: &str) -> Option<usize> {
        self.settings
            .core()
            .middleware
            .iter()
            .position(|m| (self.same)(m, name))
    }

    /// Whether the middleware registered as `name` is in `MIDDLEWARE`.
    pub fn has_middleware(&self, name: &str) -> bool {
        self.middleware_index(name).is_some()
    }
}
