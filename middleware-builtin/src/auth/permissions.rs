//! Django's permissions on `request.user` (`PermissionsMixin.has_perm` & co., asking every
//! backend of `AUTHENTICATION_BACKENDS`), and the `permission_required` view decorator.
//!
//! ```
//! use middleware_builtin::auth::{self, permission_required, PermissionRequired};
//! use middleware_core::{Error, Request, Response, Route};
//!
//! async fn edit(request: &mut Request) -> Result<Response, Error> {
//!     let can_delete = auth::has_perm(request, "flatpages.delete_flatpage").await?;
//!     Ok(Response::new(format!("can delete: {can_delete}").into()))
//! }
//! // Anonymous users, and users without the permission, go to LOGIN_URL with `next`;
//! // with `.raise_exception(true)` the latter get 403 instead.
//! let route = Route::with_view(
//!     "pages/edit/",
//!     permission_required(PermissionRequired::new(["flatpages.change_flatpage"]), edit),
//! );
//! # let _ = route;
//! ```

use std::collections::BTreeSet;
use std::sync::Arc;

use middleware_core::view::FnView;
use middleware_core::{async_trait, view_fn, Error, Request, Response, View, ViewFn};
use tokio::sync::OnceCell;

use super::backends::BackendError;
use super::login_required::redirect_from;
use super::user::User;
use super::{auth_config, busy_error, get_user, state, AuthConfig, REDIRECT_FIELD_NAME};

type Perms = Arc<BTreeSet<String>>;

/// The permissions of this request's user, loaded once each (Django's `_user_perm_cache`,
/// `_group_perm_cache` and `_perm_cache` on the user object, which lives for one request).
#[derive(Clone, Default)]
pub(super) struct PermCache(Arc<Caches>);

#[derive(Default)]
struct Caches {
    user: OnceCell<Perms>,
    group: OnceCell<Perms>,
    all: OnceCell<Perms>,
}

#[derive(Clone, Copy)]
enum Source {
    User,
    Group,
}

fn backend_error(e: BackendError) -> Error {
    match e {
        BackendError::Store(e) => Error::internal(e),
        BackendError::Unavailable(busy) => busy_error(busy),
        BackendError::PermissionDenied => Error::permission_denied(""),
    }
}

/// The union over the backends of one permission source (Django's `_user_get_permissions`).
async fn load(config: &AuthConfig, user: &User, source: Source) -> Result<Perms, Error> {
    let mut perms = BTreeSet::new();
    for name in config.backend_names() {
        let Some(backend) = config.backend(name) else {
            continue;
        };
        let found = match source {
            Source::User => backend.get_user_permissions(user).await,
            Source::Group => backend.get_group_permissions(user).await,
        };
        perms.extend(found.map_err(backend_error)?);
    }
    Ok(Arc::new(perms))
}

/// The user (active, logged in) whose permissions may be asked for, with the request's cache.
async fn subject(
    request: &mut Request,
) -> Result<Option<(Arc<User>, Arc<AuthConfig>, PermCache)>, Error> {
    let user = get_user(request).await?;
    let Some(user) = user.user().filter(|u| u.is_active).cloned() else {
        // Django: anonymous and inactive users hold no permission.
        return Ok(None);
    };
    let st = state(request)?;
    Ok(Some((user, st.config.clone(), st.perms.clone())))
}

async fn cached(request: &mut Request, which: Option<Source>) -> Result<Perms, Error> {
    let Some((user, config, cache)) = subject(request).await? else {
        return Ok(Perms::default());
    };
    let user_perms = || async {
        cache
            .0
            .user
            .get_or_try_init(|| load(&config, &user, Source::User))
            .await
            .cloned()
    };
    let group_perms = || async {
        cache
            .0
            .group
            .get_or_try_init(|| load(&config, &user, Source::Group))
            .await
            .cloned()
    };
    match which {
        Some(Source::User) => user_perms().await,
        Some(Source::Group) => group_perms().await,
        None => cache
            .0
            .all
            .get_or_try_init(|| async {
                let mut all = (*user_perms().await?).clone();
                all.extend(group_perms().await?.iter().cloned());
                Ok::<_, Error>(Arc::new(all))
            })
            .await
            .cloned(),
    }
}

/// Django's `request.user.get_user_permissions()`: `"app_label.codename"` strings granted to
/// the user directly (every permission for a superuser; none for anonymous or inactive users).
pub async fn get_user_permissions(request: &mut Request) -> Result<Perms, Error> {
    cached(request, Some(Source::User)).await
}

/// Django's `request.user.get_group_permissions()`: the permissions of the user's groups.
pub async fn get_group_permissions(request: &mut Request) -> Result<Perms, Error> {
    cached(request, Some(Source::Group)).await
}

/// Django's `request.user.get_all_permissions()`: user and group permissions together, loaded
/// once per request.
pub async fn get_all_permissions(request: &mut Request) -> Result<Perms, Error> {
    cached(request, None).await
}

/// Django's `request.user.has_perm("app_label.codename")`: always true for an active
/// superuser, false for anonymous and inactive users, else whether some backend grants it.
pub async fn has_perm(request: &mut Request, perm: &str) -> Result<bool, Error> {
    let user = get_user(request).await?;
    if user.is_active() && user.is_superuser() {
        return Ok(true);
    }
    Ok(get_all_permissions(request).await?.contains(perm))
}

/// Django's `request.user.has_perms([...])`: every one of `perms` (true for none).
pub async fn has_perms<S: AsRef<str>>(request: &mut Request, perms: &[S]) -> Result<bool, Error> {
    for perm in perms {
        if !has_perm(request, perm.as_ref()).await? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Django's `request.user.has_module_perms(app_label)`: whether the user holds any
/// permission of the app (always for an active superuser).
pub async fn has_module_perms(request: &mut Request, app_label: &str) -> Result<bool, Error> {
    let user = get_user(request).await?;
    if user.is_active() && user.is_superuser() {
        return Ok(true);
    }
    Ok(get_all_permissions(request)
        .await?
        .iter()
        .any(|p| p.split_once('.').is_some_and(|(app, _)| app == app_label)))
}

/// Django's `@permission_required(perm, login_url=None, raise_exception=False)`: what the view
/// needs; see [`permission_required`] and [`PermissionRequired::wrap`].
#[derive(Clone, Debug)]
pub struct PermissionRequired {
    perms: Vec<String>,
    login_url: Option<String>,
    raise_exception: bool,
    redirect_field_name: String,
}

impl PermissionRequired {
    /// Every one of `perms` (`"app_label.codename"`) is needed.
    pub fn new<I, S>(perms: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        PermissionRequired {
            perms: perms.into_iter().map(Into::into).collect(),
            login_url: None,
            raise_exception: false,
            redirect_field_name: REDIRECT_FIELD_NAME.to_owned(),
        }
    }

    /// Where users without the permissions are sent (default `LOGIN_URL`).
    pub fn login_url(mut self, url: impl Into<String>) -> Self {
        self.login_url = Some(url.into());
        self
    }

    /// Django's `raise_exception=True`: a logged-in user without the permissions gets 403
    /// (`PermissionDenied`, so the 403 handler) instead of the login page.
    pub fn raise_exception(mut self, raise: bool) -> Self {
        self.raise_exception = raise;
        self
    }

    /// The permissions needed.
    pub fn perms(&self) -> &[String] {
        &self.perms
    }

    /// The view, guarded.
    pub fn wrap<V: View>(self, view: V) -> PermissionRequiredView<V> {
        PermissionRequiredView {
            required: Arc::new(self),
            view,
        }
    }
}

/// Django's `permission_required(...)(view)` for an `async fn` view.
pub fn permission_required<F>(
    required: PermissionRequired,
    view: F,
) -> PermissionRequiredView<FnView<F>>
where
    F: for<'a> ViewFn<'a>,
{
    required.wrap(view_fn(view))
}

/// A view behind [`PermissionRequired`] (Django's `user_passes_test` wrapper).
#[derive(Clone, Debug)]
pub struct PermissionRequiredView<V> {
    required: Arc<PermissionRequired>,
    view: V,
}

#[async_trait]
impl<V: View> View for PermissionRequiredView<V> {
    async fn call(&self, request: &mut Request) -> Result<Response, Error> {
        let required = &self.required;
        // Django's check_perms: first the permissions (even for anonymous users).
        if has_perms(request, &required.perms).await? {
            return self.view.call(request).await;
        }
        if required.raise_exception {
            return Err(Error::permission_denied(""));
        }
        let config = auth_config(request)?;
        let login_url = required
            .login_url
            .as_deref()
            .filter(|u| !u.is_empty())
            .unwrap_or(&config.login_url);
        redirect_from(request, login_url, &required.redirect_field_name)
    }
}
