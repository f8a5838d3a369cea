//! Django 5.1's `LoginRequiredMiddleware`: every view needs a logged-in user unless marked
//! [`LoginNotRequired`].

use std::borrow::Cow;

use middleware_core::http_utils::url::iri_to_uri;
use middleware_core::response::redirect;
use middleware_core::{
    async_trait, BuildContext, Error, FactoryError, Middleware, Next, Request, RequestExt,
    ResolverMatch, Response,
};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::{get_user, REDIRECT_FIELD_NAME};

/// Django's default `LOGIN_URL`.
pub const DEFAULT_LOGIN_URL: &str = "/accounts/login/";

middleware_core::declare_settings! {
    /// `LOGIN_URL`, read by `AuthenticationMiddleware`, `LoginRequiredMiddleware` and the flat
    /// pages.
    pub struct LoginUrlSettings {
        /// where `LoginRequiredMiddleware` and `redirect_to_login` send anonymous users (a path
        /// or an absolute URL; URL names are not reversed)
        LOGIN_URL => login_url: String = "/accounts/login/",
    }
}

/// Route marker: this view is public (Django's `@login_not_required`).
#[derive(Clone, Copy, Debug, Default)]
pub struct LoginNotRequired;

/// Route marker: where `LoginRequiredMiddleware` sends anonymous users for this view (Django's
/// `login_url` / `redirect_field_name` view attributes, set by `@login_required(...)`).
#[derive(Clone, Debug, Default)]
pub struct LoginRequiredOptions {
    /// The login page for this view; `None` (or empty) falls back to `LOGIN_URL`.
    pub login_url: Option<String>,
    /// The query parameter carrying the current URL; `None` keeps the middleware's (`next`),
    /// `Some("")` adds none.
    pub redirect_field_name: Option<String>,
}

/// Python's `quote(s, safe="/")`: everything but `A-Za-z0-9_.-~/` is percent-encoded (UTF-8).
const QUOTE_SAFE_SLASH: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'_')
    .remove(b'.')
    .remove(b'-')
    .remove(b'~')
    .remove(b'/');

fn quote(s: &str) -> String {
    utf8_percent_encode(s, QUOTE_SAFE_SLASH).to_string()
}

/// `(scheme, netloc)` of `url` as Python's `urlsplit` finds them (scheme lower-cased).
fn scheme_netloc(url: &str) -> (String, &str) {
    let mut rest = url;
    let mut scheme = String::new();
    if let Some(i) = rest.find(':') {
        let candidate = &rest[..i];
        let valid = candidate
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic())
            && candidate
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
        if valid {
            scheme = candidate.to_ascii_lowercase();
            rest = &rest[i + 1..];
        }
    }
    let netloc = match rest.strip_prefix("//") {
        Some(after) => &after[..after.find(['/', '?', '#']).unwrap_or(after.len())],
        None => "",
    };
    (scheme, netloc)
}

/// Django's `redirect_to_login(next, login_url, redirect_field_name)`: a 302 to `login_url`
/// with `redirect_field_name=next` added to its query (replacing an existing value; encoded
/// as Django's `QueryDict.urlencode(safe="/")`). An empty field name adds nothing.
pub fn redirect_to_login(next: &str, login_url: &str, redirect_field_name: &str) -> Response {
    if redirect_field_name.is_empty() {
        return redirect(&iri_to_uri(login_url));
    }
    let (before_fragment, fragment) = match login_url.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (login_url, None),
    };
    let (base, query) = before_fragment
        .split_once('?')
        .unwrap_or((before_fragment, ""));
    // QueryDict(query, mutable=True)[field] = next: keys keep their first position.
    let mut pairs: Vec<(Cow<'_, str>, Cow<'_, str>)> =
        form_urlencoded::parse(query.as_bytes()).collect();
    match pairs.iter().position(|(k, _)| k == redirect_field_name) {
        Some(i) => {
            pairs[i].1 = Cow::Borrowed(next);
            let key = pairs[i].0.clone();
            let mut seen = false;
            pairs.retain(|(k, _)| {
                if *k != key {
                    return true;
                }
                let keep = !seen;
                seen = true;
                keep
            });
        }
        None => pairs.push((Cow::Borrowed(redirect_field_name), Cow::Borrowed(next))),
    }
    let query: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", quote(k), quote(v)))
        .collect();
    let mut url = format!("{base}?{}", query.join("&"));
    if let Some(f) = fragment.filter(|f| !f.is_empty()) {
        url.push('#');
        url.push_str(f);
    }
    redirect(&iri_to_uri(&url))
}

/// Django's `LoginRequiredMiddleware`: `process_view` redirects anonymous users to the login
/// page, except for views marked [`LoginNotRequired`]. Unknown URLs never reach `process_view`,
/// so they still answer 404. Needs `AuthenticationMiddleware` before it.
pub struct LoginRequiredMiddleware {
    next: Next,
    login_url: String,
    redirect_field_name: String,
}

impl LoginRequiredMiddleware {
    /// Reads `LOGIN_URL` once; the query parameter is Django's `next`.
    pub fn new(next: Next, ctx: &BuildContext<'_>) -> Result<Self, FactoryError> {
        Self::with_redirect_field_name(next, ctx, REDIRECT_FIELD_NAME)
    }

    /// As [`LoginRequiredMiddleware::new`] with another query parameter (Django: a subclass
    /// setting `redirect_field_name`). Register it under your own name.
    pub fn with_redirect_field_name(
        next: Next,
        ctx: &BuildContext<'_>,
        redirect_field_name: &str,
    ) -> Result<Self, FactoryError> {
        let settings = ctx.settings;
        let login_url = LoginUrlSettings::from_settings(settings)?.login_url;
        // Django's resolve_url would reverse a URL name; there is no URL reversal here.
        if !login_url.is_empty() && !login_url.contains('/') && !login_url.contains('.') {
            return Err(settings
                .invalid(
                    "LOGIN_URL",
                    format!("{login_url:?} looks like a URL name; URL names are not reversed here"),
                    "write the login page's path, e.g. \"/accounts/login/\", or an absolute URL",
                )
                .into());
        }
        Ok(LoginRequiredMiddleware {
            next,
            login_url,
            redirect_field_name: redirect_field_name.to_owned(),
        })
    }

    /// Django's `handle_no_permission`.
    fn handle_no_permission(
        &self,
        request: &Request,
        view: &ResolverMatch,
    ) -> Result<Response, Error> {
        let options = view.markers().get::<LoginRequiredOptions>();
        let login_url = options
            .and_then(|o| o.login_url.as_deref())
            .filter(|u| !u.is_empty())
            .unwrap_or(&self.login_url);
        if login_url.is_empty() {
            return Err(Error::ImproperlyConfigured(
                "No login URL to redirect to. Define settings.LOGIN_URL or provide a login_url via the \
                 'django.contrib.auth.decorators.login_required' decorator."
                    .to_owned(),
            ));
        }
        let field = options
            .and_then(|o| o.redirect_field_name.as_deref())
            .unwrap_or(&self.redirect_field_name);
        redirect_from(request, login_url, field)
    }
}

/// Django's `_redirect_to_login` of `user_passes_test` (and `LoginRequiredMiddleware`'s
/// `handle_no_permission`): to `login_url` with the current URL in `field`, as a path when the
/// login page is on this site, whole when it is elsewhere.
pub(crate) fn redirect_from(
    request: &Request,
    login_url: &str,
    field: &str,
) -> Result<Response, Error> {
    let absolute = request.build_absolute_uri(None)?;
    let (login_scheme, login_netloc) = scheme_netloc(login_url);
    let (current_scheme, current_netloc) = scheme_netloc(&absolute);
    // Same site: the path is enough; another site needs the whole URL to come back.
    let next = if (login_scheme.is_empty() || login_scheme == current_scheme)
        && (login_netloc.is_empty() || login_netloc == current_netloc)
    {
        request.full_path()
    } else {
        absolute
    };
    Ok(redirect_to_login(&next, login_url, field))
}

#[async_trait]
impl Middleware for LoginRequiredMiddleware {
    async fn call(&self, request: &mut Request) -> Result<Response, Error> {
        Ok(self.next.get_response(request).await)
    }

    async fn process_view(
        &self,
        request: &mut Request,
        view: &ResolverMatch,
    ) -> Result<Option<Response>, Error> {
        // Public views never load the user (nor touch the session).
        if view.markers().contains::<LoginNotRequired>() {
            return Ok(None);
        }
        if get_user(request).await?.is_authenticated() {
            return Ok(None);
        }
        self.handle_no_permission(request, view).map(Some)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn location(r: &Response) -> &str {
        r.headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    // Django: tests/auth_tests/test_views.py::RedirectToLoginTests (lazy login_url, encoding
    // with safe="/") and LoginRedirectUrlTest-style query merging.
    #[test]
    fn redirect_to_login_encodes_like_querydict() {
        let r = redirect_to_login("/a b/?x=1&y=é", "/login/", "next");
        assert_eq!(r.status(), 302);
        assert_eq!(location(&r), "/login/?next=/a%20b/%3Fx%3D1%26y%3D%C3%A9");
        let r = redirect_to_login("/p/", "/login/?next=/old/&lang=fr#frag", "next");
        assert_eq!(location(&r), "/login/?next=/p/&lang=fr#frag");
        let r = redirect_to_login("/p/", "/login/?lang=fr", "step");
        assert_eq!(location(&r), "/login/?lang=fr&step=/p/");
        let r = redirect_to_login("/p/", "https://sso.example/login", "");
        assert_eq!(location(&r), "https://sso.example/login");
        let r = redirect_to_login("/p/", "/login/?a=1&next=x&next=y", "next");
        assert_eq!(location(&r), "/login/?a=1&next=/p/");
    }

    #[test]
    fn scheme_netloc_matches_urlsplit() {
        assert_eq!(scheme_netloc("/accounts/login/"), (String::new(), ""));
        assert_eq!(
            scheme_netloc("HTTPS://sso.example:8443/login?x"),
            ("https".to_owned(), "sso.example:8443")
        );
        assert_eq!(
            scheme_netloc("//cdn.example/x"),
            (String::new(), "cdn.example")
        );
        assert_eq!(scheme_netloc("1ab:x"), (String::new(), ""));
    }
}
