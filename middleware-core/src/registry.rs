//! The registry: middleware names (as listed in `MIDDLEWARE`) mapped to factories.
//!
//! A factory is Django's `Middleware(get_response)`: called once at start-up with the [`Next`]
//! layer and the settings. It may answer [`FactoryError::NotUsed`] (Django's
//! `MiddlewareNotUsed`): the entry is then skipped. Built-ins register under their Rust name
//! and Django's dotted path, so a Django `MIDDLEWARE` list ports as it is.
//!
//! ```
//! use middleware_core::{async_trait, Error, Middleware, Next, Registry, Request, Response};
//!
//! struct Noop(Next);
//! #[async_trait]
//! impl Middleware for Noop {
//!     async fn call(&self, request: &mut Request) -> Result<Response, Error> {
//!         Ok(self.0.get_response(request).await)
//!     }
//! }
//!
//! let mut registry = Registry::new();
//! registry
//!     .register("NoopMiddleware", |next, _ctx| Ok(Noop(next)))
//!     .alias("myapp.middleware.NoopMiddleware")
//!     .requires_before("SessionMiddleware");
//! assert!(registry.contains("myapp.middleware.NoopMiddleware"));
//! ```

use std::any::{Any, TypeId};
use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};

use crate::checks::{CheckContext, CheckMessage};
use crate::declared::DeclaredSettings;
use crate::middleware::{HookMiddleware, HooksLayer, Middleware, Mixin, Next};
use crate::settings::{Setting, Settings, SettingsError, CORE_SETTINGS};
use crate::view::Resolve;

/// What a factory sees at start-up.
#[non_exhaustive]
pub struct BuildContext<'a> {
    /// The settings.
    pub settings: &'a Settings,
    /// The URLconf, when the chain ends in one (CommonMiddleware's `APPEND_SLASH` needs it).
    pub urls: Option<&'a Arc<dyn Resolve>>,
    /// The name the entry was listed under in `MIDDLEWARE`.
    pub name: &'a str,
    /// Things built once per chain and shared by every factory that asks for them (the
    /// `CACHES` connections, for instance), as Django shares module-level objects.
    pub resources: &'a Resources,
}

/// Values by name, shared between clones: what a middleware setting names (a failure view, an
/// authentication backend) stands in for Django's dotted-path import. The application fills
/// the table and passes it at registration; the factory resolves the setting's name when the
/// chain is built, so an unknown name fails at start-up. There is no process-wide table.
///
/// ```
/// use middleware_core::registry::NamedTable;
///
/// let views: NamedTable<&'static str> = NamedTable::default();
/// let shared = views.clone();
/// shared.insert("myapp.views.page", "page");
/// assert_eq!(views.get("myapp.views.page"), Some("page"));
/// assert!(!views.contains("other"));
/// ```
pub struct NamedTable<T>(Arc<RwLock<HashMap<String, T>>>);

impl<T> Clone for NamedTable<T> {
    fn clone(&self) -> Self {
        NamedTable(self.0.clone())
    }
}

impl<T> Default for NamedTable<T> {
    fn default() -> Self {
        NamedTable(Arc::new(RwLock::new(HashMap::new())))
    }
}

impl<T> fmt::Debug for NamedTable<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let table = self.0.read().unwrap_or_else(PoisonError::into_inner);
        f.debug_set().entries(table.keys()).finish()
    }
}

impl<T: Clone> NamedTable<T> {
    /// Adds (or replaces) the value called `name`.
    pub fn insert(&self, name: &str, value: T) {
        self.0
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(name.to_owned(), value);
    }

    /// The value called `name`.
    pub fn get(&self, name: &str) -> Option<T> {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(name)
            .cloned()
    }

    /// Whether a value is called `name`.
    pub fn contains(&self, name: &str) -> bool {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .contains_key(name)
    }
}

/// A per-chain store of shared values, one per type, built on first request.
///
/// Factories run one after the other while the chain is built, so the store needs no lock;
/// the values themselves are `Arc`s that the middleware keep.
///
/// ```
/// use middleware_core::registry::Resources;
///
/// let resources = Resources::default();
/// let a = resources.get_or_try_init(|| Ok::<_, ()>(String::from("pool"))).unwrap();
/// let b = resources.get_or_try_init(|| Ok::<_, ()>(String::from("another"))).unwrap();
/// assert!(std::sync::Arc::ptr_eq(&a, &b));
/// ```
#[derive(Default)]
pub struct Resources {
    by_type: RefCell<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
}

impl fmt::Debug for Resources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resources")
            .field("count", &self.by_type.borrow().len())
            .finish()
    }
}

impl Resources {
    /// The shared `T`, built by `init` the first time it is asked for.
    pub fn get_or_try_init<T, E>(&self, init: impl FnOnce() -> Result<T, E>) -> Result<Arc<T>, E>
    where
        T: Any + Send + Sync,
    {
        let existing = self.by_type.borrow().get(&TypeId::of::<T>()).cloned();
        if let Some(value) = existing.and_then(|v| v.downcast::<T>().ok()) {
            return Ok(value);
        }
        let value = Arc::new(init()?);
        self.by_type.borrow_mut().insert(
            TypeId::of::<T>(),
            value.clone() as Arc<dyn Any + Send + Sync>,
        );
        Ok(value)
    }
}

impl fmt::Debug for BuildContext<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BuildContext")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Why a factory built nothing.
#[derive(Debug, thiserror::Error)]
pub enum FactoryError {
    /// Django's `MiddlewareNotUsed`: skip this entry (with an optional reason, logged at debug).
    #[error("not used{}", .0.as_ref().map(|r| format!(": {r}")).unwrap_or_default())]
    NotUsed(Option<String>),
    /// A setting the middleware reads is wrong.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// Django's `ImproperlyConfigured` at start-up.
    #[error("{0}")]
    ImproperlyConfigured(String),
}

type Factory =
    Arc<dyn Fn(Next, &BuildContext<'_>) -> Result<Arc<dyn Middleware>, FactoryError> + Send + Sync>;
type Condition = Arc<dyn Fn(&Settings) -> bool + Send + Sync>;
/// A system check: Django's `@register` check function.
pub type CheckFn = Arc<dyn Fn(&CheckContext<'_>) -> Vec<CheckMessage> + Send + Sync>;

pub(crate) struct Requirement {
    pub(crate) name: String,
    pub(crate) when: Option<Condition>,
}

pub(crate) struct Entry {
    pub(crate) canonical: String,
    pub(crate) factory: Factory,
    pub(crate) requires: Vec<Requirement>,
    /// Enforces something in `process_view` (CSRF, login-required): the chain refuses to
    /// build when the built middleware does not declare that hook.
    pub(crate) needs_view_hook: bool,
}

/// Middleware names mapped to factories, the settings they read, and system checks.
#[derive(Default)]
pub struct Registry {
    pub(crate) entries: Vec<Entry>,
    by_name: HashMap<String, usize>,
    settings: Vec<String>,
    /// What each declared setting is, in declaration order (a subset of `settings`: the
    /// keys declared by name only have none).
    declared: Vec<&'static Setting>,
    /// A name declared twice with different declarations: it should be declared once and
    /// shared.
    conflicts: Vec<(&'static Setting, &'static Setting)>,
    pub(crate) checks: Vec<(CheckFn, bool)>,
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("names", &self.by_name.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// Adds names, order requirements and settings to a registered entry.
#[derive(Debug)]
pub struct EntryBuilder<'r> {
    registry: &'r mut Registry,
    index: usize,
}

impl EntryBuilder<'_> {
    /// Another name for the same middleware (Django's dotted path).
    pub fn alias(self, name: &str) -> Self {
        self.registry.by_name.insert(name.to_owned(), self.index);
        self
    }

    /// `name` must appear earlier in `MIDDLEWARE` (e.g. auth needs sessions).
    pub fn requires_before(self, name: &str) -> Self {
        self.registry.entries[self.index]
            .requires
            .push(Requirement {
                name: name.to_owned(),
                when: None,
            });
        self
    }

    /// `name` must appear earlier in `MIDDLEWARE` when `when(settings)` holds (e.g. CSRF needs
    /// sessions only with `CSRF_USE_SESSIONS`).
    pub fn requires_before_if<F>(self, name: &str, when: F) -> Self
    where
        F: Fn(&Settings) -> bool + Send + Sync + 'static,
    {
        self.registry.entries[self.index]
            .requires
            .push(Requirement {
                name: name.to_owned(),
                when: Some(Arc::new(when)),
            });
        self
    }

    /// This middleware enforces a protection in `process_view` (CSRF, login-required, rate
    /// limits): if the built middleware's `process_view` turns out to be the trait's default,
    /// every request is answered 500 naming it, so the protection cannot be listed and
    /// silently skipped.
    pub fn needs_process_view(self) -> Self {
        self.registry.entries[self.index].needs_view_hook = true;
        self
    }

    /// Declares the settings this middleware reads by name only, so they are not reported as
    /// unknown; [`declares`](Self::declares) declares them with their type, default and doc.
    pub fn settings(self, keys: &[&str]) -> Self {
        self.registry.declare_settings(keys);
        self
    }

    /// Declares the settings this middleware reads, as declared by
    /// [`declare_settings!`](crate::declare_settings) (shared ones included).
    pub fn declares<T: DeclaredSettings>(self) -> Self {
        self.registry.declare::<T>();
        self
    }
}

impl Registry {
    /// An empty registry that knows the core settings and the server's.
    pub fn new() -> Self {
        let mut r = Registry::default();
        r.declare_described(CORE_SETTINGS);
        #[cfg(feature = "server")]
        r.declare::<crate::server::config::ServerSettings>();
        r
    }

    /// Registers a call-style middleware factory under `name`.
    pub fn register<F, M>(&mut self, name: &str, factory: F) -> EntryBuilder<'_>
    where
        F: Fn(Next, &BuildContext<'_>) -> Result<M, FactoryError> + Send + Sync + 'static,
        M: Middleware,
    {
        self.insert(
            name,
            Arc::new(move |next, ctx| Ok(Arc::new(factory(next, ctx)?) as Arc<dyn Middleware>)),
        )
    }

    /// Registers a hook-style (`MiddlewareMixin`) middleware: the factory builds the hooks and
    /// the registry wraps them in a [`Mixin`].
    pub fn register_hooks<F, H>(&mut self, name: &str, factory: F) -> EntryBuilder<'_>
    where
        F: Fn(&BuildContext<'_>) -> Result<H, FactoryError> + Send + Sync + 'static,
        H: HookMiddleware,
    {
        self.register(name, move |next, ctx| Ok(Mixin::new(factory(ctx)?, next)))
    }

    /// Registers a [`Hooks`](crate::hooks::Hooks) middleware, whose hooks answer at once
    /// unless they must wait (the cheapest kind of layer): the factory builds the hooks and
    /// the registry wraps them in a [`HooksLayer`].
    pub fn register_ready_hooks<F, H>(&mut self, name: &str, factory: F) -> EntryBuilder<'_>
    where
        F: Fn(&BuildContext<'_>) -> Result<H, FactoryError> + Send + Sync + 'static,
        H: crate::hooks::Hooks,
    {
        self.register(name, move |next, ctx| {
            Ok(HooksLayer::new(factory(ctx)?, next))
        })
    }

    fn insert(&mut self, name: &str, factory: Factory) -> EntryBuilder<'_> {
        let index = self.entries.len();
        self.entries.push(Entry {
            canonical: name.to_owned(),
            factory,
            requires: Vec::new(),
            needs_view_hook: false,
        });
        self.by_name.insert(name.to_owned(), index);
        EntryBuilder {
            registry: self,
            index,
        }
    }

    /// Declares settings declared by [`declare_settings!`](crate::declare_settings) (shared ones
    /// included), for the application's own settings or a middleware registered by hand.
    pub fn declare<T: DeclaredSettings>(&mut self) {
        let mut settings = Vec::new();
        T::declarations(&mut settings);
        self.declare_described(settings);
    }

    fn declare_described(&mut self, settings: impl IntoIterator<Item = &'static Setting>) {
        for setting in settings {
            match self.declared.iter().find(|d| d.name == setting.name) {
                Some(same) if *same == setting => {}
                Some(other) => self.conflicts.push((other, setting)),
                None => self.declared.push(setting),
            }
            self.declare_settings(&[setting.name]);
        }
    }

    /// Declares settings read by the application itself by name only, so they are not
    /// reported as unknown; prefer [`declare`](Self::declare), which the settings reference
    /// can show.
    pub fn declare_settings(&mut self, keys: &[&str]) {
        for key in keys {
            if !self.settings.iter().any(|k| k == key) {
                self.settings.push((*key).to_owned());
            }
        }
    }

    /// Adds a system check; `deploy` checks run only with `check --deploy`.
    pub fn add_check<F>(&mut self, deploy: bool, check: F)
    where
        F: Fn(&CheckContext<'_>) -> Vec<CheckMessage> + Send + Sync + 'static,
    {
        self.checks.push((Arc::new(check), deploy));
    }

    /// Whether `name` is registered.
    pub fn contains(&self, name: &str) -> bool {
        self.by_name.contains_key(name)
    }

    /// The canonical (first registered) name for `name`, if registered.
    pub fn canonical(&self, name: &str) -> Option<&str> {
        self.by_name
            .get(name)
            .map(|&i| self.entries[i].canonical.as_str())
    }

    /// Every setting the core and the registered middleware read.
    pub fn known_settings(&self) -> impl Iterator<Item = &str> + Clone {
        self.settings.iter().map(String::as_str)
    }

    /// Every setting declared with its type, default and doc, in declaration order: the rows
    /// of the settings reference.
    pub fn declared_settings(&self) -> impl Iterator<Item = &'static Setting> + '_ {
        self.declared.iter().copied()
    }

    /// Settings declared twice with different declarations (each pair: the first, the
    /// other); a setting several middleware read is declared once and shared.
    pub fn conflicting_declarations(
        &self,
    ) -> impl Iterator<Item = (&'static Setting, &'static Setting)> + '_ {
        self.conflicts.iter().copied()
    }

    /// Every registered name.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.by_name.keys().map(String::as_str)
    }

    pub(crate) fn entry(&self, name: &str) -> Option<(usize, &Entry)> {
        self.by_name.get(name).map(|&i| (i, &self.entries[i]))
    }

    /// Whether the entries `a` and `b` name the same middleware.
    pub fn same(&self, a: &str, b: &str) -> bool {
        match (self.by_name.get(a), self.by_name.get(b)) {
            (Some(x), Some(y)) => x == y,
            _ => a == b,
        }
    }

    /// Checks that `settings` only sets known keys.
    pub fn check_settings(&self, settings: &Settings) -> Result<(), SettingsError> {
        settings.check_known(self.known_settings())
    }
}
