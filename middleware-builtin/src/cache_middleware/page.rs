//! Django's `@cache_page` decorator as a view wrapper: `CacheMiddleware`'s request and response
//! phases around one view, inside every entry of `MIDDLEWARE`.

use std::sync::Arc;

use async_trait::async_trait;
use middleware_core::{Error, FactoryError, Request, Response, Settings, TemplateResponse, View};

use super::{CacheMiddlewareConfig, CachePage, Fetched, Fetcher, Updater, DEFAULT_CACHE_ALIAS};
use crate::cache::Caches;

/// Django's `@cache_page(timeout, cache=..., key_prefix=...)` wrapped around `view`: a lookup
/// before the view and a store after it, as the decorator's own `CacheMiddleware` does. It needs
/// nothing in `MIDDLEWARE`; whatever the middleware add to the response (`Vary: Cookie` when the
/// session was read, cookies) is added after the page was stored, as in Django.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use std::sync::Arc;
/// use middleware_builtin::cache::caches_from_settings;
/// use middleware_builtin::cache_middleware::{CachePage, CachePageView};
/// use middleware_core::{response::text, test_client::Client, view_fn, Chain, Registry, Route, Router, Settings};
///
/// let settings = Settings::from_toml_str(r#"ALLOWED_HOSTS = ["testserver"]"#, "settings.toml").unwrap();
/// let caches = Arc::new(caches_from_settings(&settings).unwrap());
/// let runs = Arc::new(AtomicUsize::new(0));
/// let counter = runs.clone();
/// let view = view_fn(move |_: &mut middleware_core::Request| {
///     let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
///     async move { Ok(text(http::StatusCode::OK, format!("run {n}"))) }
/// });
/// let cached = CachePageView::new(CachePage::new(60), view, &settings, caches).unwrap();
/// let mut router = Router::new();
/// router.add(Route::with_view("", cached)).unwrap();
/// let registry = Registry::new();
/// let mut client = Client::new(Chain::builder(&registry, &settings).urls(router).build().unwrap());
/// assert_eq!(client.get("/").await.text(), "run 1");
/// let hit = client.get("/").await;
/// assert_eq!(hit.text(), "run 1");
/// assert_eq!(hit.header("cache-control"), Some("max-age=60"));
/// # });
/// ```
pub struct CachePageView<V> {
    fetcher: Fetcher,
    updater: Updater,
    view: V,
}

impl<V> std::fmt::Debug for CachePageView<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachePageView")
            .field("page", &self.fetcher.page)
            .finish_non_exhaustive()
    }
}

impl<V: View> CachePageView<V> {
    /// `view` cached as `page` says, in `caches` (the site's `CACHES`), with the key settings
    /// (`USE_I18N`, `TIME_ZONE`...) of `settings`. A cache alias not in `caches` is an error
    /// here, at start-up.
    pub fn new(
        page: CachePage,
        view: V,
        settings: &Settings,
        caches: Arc<Caches>,
    ) -> Result<Self, FactoryError> {
        let alias = page.cache_alias.as_deref().unwrap_or(DEFAULT_CACHE_ALIAS);
        if caches.get(alias).is_none() {
            return Err(settings
                .invalid(
                    "CACHES",
                    format!("cache_page names the cache {alias:?}, which is not in CACHES"),
                    "add that alias to CACHES or name one of its aliases",
                )
                .into());
        }
        let config = Arc::new(CacheMiddlewareConfig::from_settings(settings)?);
        Ok(CachePageView {
            fetcher: Fetcher {
                config: config.clone(),
                caches,
                urls: None,
                page: Some(page),
            },
            updater: Updater { config },
            view,
        })
    }
}

#[async_trait]
impl<V: View> View for CachePageView<V> {
    async fn call(&self, request: &mut Request) -> Result<Response, Error> {
        let prepared = self.fetcher.prepare(request)?;
        match self.fetcher.fetch(prepared).await {
            Fetched::Hit(response) => Ok(response),
            Fetched::Miss(None) => self.view.call(request).await,
            Fetched::Miss(Some(plan)) => {
                let mut response = self.view.call(request).await?;
                // Django stores a TemplateResponse from a post-render callback; here it is
                // rendered first, so what is stored is the page, not an empty body.
                if let Some(template) = response.extensions_mut().remove::<TemplateResponse>() {
                    *response.body_mut() = template.render()?.into();
                }
                let (source, authorized) = self.updater.prepare(request);
                Ok(self
                    .updater
                    .update(source, authorized, &plan, response)
                    .await)
            }
        }
    }
}
