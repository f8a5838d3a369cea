//! Django's sites framework (`django.contrib.sites`) on its `django_site` table: the current
//! site, by `SITE_ID` or else by the request's host, and `CurrentSiteMiddleware`, which puts it
//! on the request (Django's `request.site`) as a [`Site`] extension.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use middleware_builtin::sites::Site;
//! use middleware_core::test_client::Client;
//! use middleware_core::{Chain, Error, Registry, Request, Response, Route, Router, Settings};
//!
//! async fn page(request: &mut Request) -> Result<Response, Error> {
//!     let site = request.extensions().get::<Site>().cloned();
//!     Ok(Response::new(site.map(|s| s.domain).unwrap_or_default().into()))
//! }
//!
//! let dir = std::env::temp_dir().join(format!("sites-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let settings = Settings::from_toml_str(&format!(r#"
//!     MIDDLEWARE = ["django.contrib.sites.middleware.CurrentSiteMiddleware"]
//!     ALLOWED_HOSTS = ["testserver"]
//!     SITE_ID = 1
//!     [DATABASES.default]
//!     ENGINE = "django.db.backends.sqlite3"
//!     NAME = "{}"
//! "#, dir.join("db.sqlite3").display()), "settings.toml").unwrap();
//! let databases = middleware_builtin::db::databases_from_settings(&settings).unwrap();
//! // Django's migration creates the row `example.com` with id 1.
//! middleware_builtin::db::migrate::migrate(&databases.get("default").unwrap()).await.unwrap();
//!
//! let mut registry = Registry::new();
//! middleware_builtin::sites::register(&mut registry);
//! let mut router = Router::new();
//! router.add(Route::new("", page)).unwrap();
//! let chain = Chain::builder(&registry, &settings).urls(router).build().unwrap();
//! assert_eq!(Client::new(chain).get("/").await.text(), "example.com");
//! # std::fs::remove_dir_all(&dir).ok();
//! # });
//! ```
//!
//! Sites are cached for the life of the chain once read, as Django caches them for the life of
//! the process (`SITE_CACHE`); [`Sites::clear_cache`] is Django's `Site.objects.clear_cache()`.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use middleware_core::http_utils::host::split_domain_port;
use middleware_core::{
    async_trait, BuildContext, Error, HookMiddleware, Registry, Request, RequestExt, Response,
    SettingsError,
};

use crate::db::{shared_databases, Database, DbError, Param};

middleware_core::declare_settings! {
    /// The settings the sites framework reads (besides `DATABASES`).
    pub struct SitesSettings {
        /// the current site's row of `django_site`; unset: the site whose domain is the
        /// request's host. `CurrentSiteMiddleware`, `RedirectFallbackMiddleware`,
        /// `FlatpageFallbackMiddleware`
        SITE_ID => site_id: Option<i64> = unset,
    }
}

/// A row of `django_site` (Django's `Site`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Site {
    /// The primary key.
    pub id: i64,
    /// The domain name, e.g. `example.com`.
    pub domain: String,
    /// The display name.
    pub name: String,
}

/// Why the current site could not be found.
#[derive(Debug, thiserror::Error)]
pub enum SiteError {
    /// No row matches (Django's `Site.DoesNotExist`).
    #[error("Site matching query does not exist ({0})")]
    DoesNotExist(String),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Django's `SITE_CACHE` holds sites by id and by host in one dict.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum CacheKey {
    Id(i64),
    Host(String),
}

/// The sites of one database, with Django's cache (`Site.objects`).
#[derive(Debug)]
pub struct Sites {
    db: Arc<Database>,
    site_id: Option<i64>,
    cache: RwLock<HashMap<CacheKey, Site>>,
}

impl Sites {
    /// Sites read from `db`; `site_id` is the `SITE_ID` setting.
    pub fn new(db: Arc<Database>, site_id: Option<i64>) -> Self {
        Sites {
            db,
            site_id,
            cache: RwLock::new(HashMap::new()),
        }
    }

    /// The chain's sites: `SITE_ID` and the `default` database, built once per chain and
    /// shared by every middleware that needs the current site.
    pub fn shared(ctx: &BuildContext<'_>) -> Result<Arc<Sites>, SettingsError> {
        ctx.resources.get_or_try_init(|| {
            let site_id = SitesSettings::from_settings(ctx.settings)?.site_id;
            let databases = shared_databases(ctx)?;
            let db = databases.require(ctx.settings, "default", "django.contrib.sites")?;
            Ok(Sites::new(db, site_id))
        })
    }

    /// Django's `get_current_site(request)`: the `SITE_ID` site, else the site whose domain is
    /// the request's host (case-insensitively), else the one whose domain is the host without
    /// its port. A host that is not in `ALLOWED_HOSTS` is the 400 `get_host` gives.
    pub async fn get_current(&self, request: &mut Request) -> Result<Site, Error> {
        let found = match self.site_id {
            Some(id) => self.by_id(id).await,
            None => self.by_host(&request.get_host()?).await,
        };
        found.map_err(Error::internal)
    }

    /// The site with primary key `id` (Django's `_get_site_by_id`).
    pub async fn by_id(&self, id: i64) -> Result<Site, SiteError> {
        let key = CacheKey::Id(id);
        if let Some(site) = self.cached(&key) {
            return Ok(site);
        }
        let site = self
            .fetch("id = $1", Param::Int(id))
            .await?
            .ok_or_else(|| SiteError::DoesNotExist(format!("id = {id}")))?;
        Ok(self.remember(key, site))
    }

    /// The site for `host` (Django's `_get_site_by_request`).
    pub async fn by_host(&self, host: &str) -> Result<Site, SiteError> {
        if let Some(site) = self.by_domain(host).await? {
            return Ok(site);
        }
        let (domain, _port) = split_domain_port(host);
        self.by_domain(&domain)
            .await?
            .ok_or_else(|| SiteError::DoesNotExist(format!("domain = {host:?}")))
    }

    async fn by_domain(&self, domain: &str) -> Result<Option<Site>, SiteError> {
        let key = CacheKey::Host(domain.to_owned());
        if let Some(site) = self.cached(&key) {
            return Ok(Some(site));
        }
        // Django's `domain__iexact`.
        let site = self
            .fetch("LOWER(domain) = LOWER($1)", Param::text(domain))
            .await?;
        Ok(site.map(|site| self.remember(key, site)))
    }

    async fn fetch(&self, condition: &str, param: Param) -> Result<Option<Site>, DbError> {
        let sql = format!("SELECT id, domain, name FROM django_site WHERE {condition} ORDER BY id");
        let Some(row) = self.db.fetch_optional(&sql, &[param]).await? else {
            return Ok(None);
        };
        Ok(Some(Site {
            id: row.i64(0)?,
            domain: row.text(1)?,
            name: row.text(2)?,
        }))
    }

    fn cached(&self, key: &CacheKey) -> Option<Site> {
        self.cache
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(key)
            .cloned()
    }

    fn remember(&self, key: CacheKey, site: Site) -> Site {
        self.cache
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(key, site.clone());
        site
    }

    /// Forgets every cached site (Django's `Site.objects.clear_cache()`), e.g. after the
    /// application changed `django_site`.
    pub fn clear_cache(&self) {
        self.cache
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }
}

/// Django's `CurrentSiteMiddleware`: the current [`Site`] in the request's extensions.
#[derive(Debug)]
pub struct CurrentSiteMiddleware {
    sites: Arc<Sites>,
}

impl CurrentSiteMiddleware {
    /// The middleware over `sites`.
    pub fn new(sites: Arc<Sites>) -> Self {
        CurrentSiteMiddleware { sites }
    }
}

#[async_trait]
impl HookMiddleware for CurrentSiteMiddleware {
    async fn process_request(&self, request: &mut Request) -> Result<Option<Response>, Error> {
        let site = self.sites.get_current(request).await?;
        request.extensions_mut().insert(site);
        Ok(None)
    }
}

/// Registers `CurrentSiteMiddleware` under its Django path.
pub fn register(registry: &mut Registry) {
    registry
        .register_hooks("CurrentSiteMiddleware", |ctx| {
            Ok(CurrentSiteMiddleware::new(Sites::shared(ctx)?))
        })
        .alias("django.contrib.sites.middleware.CurrentSiteMiddleware")
        .declares::<SitesSettings>()
        .declares::<crate::db::DatabasesSettings>();
}
