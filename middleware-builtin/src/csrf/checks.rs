//! System checks for CSRF: Django's `security.W003`, `security.W016`, `security.E102` and
//! `4_0.E001`.

use middleware_core::checks::{CheckContext, CheckMessage};
use middleware_core::Registry;

use super::{CsrfFailureViews, CsrfSettings};

const NAME: &str = "CsrfViewMiddleware";

pub(super) fn register(registry: &mut Registry, views: CsrfFailureViews) {
    registry.add_check(true, |ctx: &CheckContext<'_>| {
        if ctx.has_middleware(NAME) {
            return vec![];
        }
        vec![CheckMessage::warning(
            "security.W003",
            "You don't appear to be using Django's built-in cross-site request forgery \
             protection via the middleware ('django.middleware.csrf.CsrfViewMiddleware' is not \
             in your MIDDLEWARE). Enabling the middleware is the safest approach to ensure you \
             don't leave any holes.",
            None,
        )]
    });
    registry.add_check(true, |ctx: &CheckContext<'_>| {
        let Ok(csrf) = CsrfSettings::for_checks(ctx.settings) else {
            return vec![];
        };
        if csrf.use_sessions || !ctx.has_middleware(NAME) || csrf.cookie_secure {
            return vec![];
        }
        vec![CheckMessage::warning(
            "security.W016",
            "You have 'django.middleware.csrf.CsrfViewMiddleware' in your MIDDLEWARE, but you \
             have not set CSRF_COOKIE_SECURE to True. Using a secure-only CSRF cookie makes it \
             more difficult for network traffic sniffers to steal the CSRF token.",
            None,
        )]
    });
    registry.add_check(false, move |ctx: &CheckContext<'_>| {
        let Ok(csrf) = CsrfSettings::for_checks(ctx.settings) else {
            return vec![];
        };
        // A name of the wrong type names no view.
        let name = if csrf.is_invalid("CSRF_FAILURE_VIEW") {
            ""
        } else {
            csrf.failure_view.as_str()
        };
        if views.contains(name) {
            return vec![];
        }
        vec![CheckMessage::error(
            "security.E102",
            format!("The CSRF failure view '{name}' could not be imported."),
            Some("Register the view by this name in CsrfFailureViews before building the chain."),
        )]
    });
    registry.add_check(false, |ctx: &CheckContext<'_>| {
        let Ok(csrf) = CsrfSettings::for_checks(ctx.settings) else {
            return vec![];
        };
        csrf.trusted_origins
            .iter()
            .filter(|o| !o.contains("://"))
            .map(|o| {
                CheckMessage::error(
                    "4_0.E001",
                    format!(
                        "As of Django 4.0, the values in the CSRF_TRUSTED_ORIGINS setting must \
                         start with a scheme (usually http:// or https://) but found {o}. See the \
                         release notes for details."
                    ),
                    None,
                )
            })
            .collect()
    });
}
