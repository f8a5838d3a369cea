//! Django's `auth.E013`: `LoginRequiredMiddleware` needs `AuthenticationMiddleware` before it.
//!
//! (The chain also refuses that order at start-up through `requires_before`; the check reports
//! it from `check` without building. That `AuthenticationMiddleware` follows
//! `SessionMiddleware` is enforced the same way and has no Django check id.)

use middleware_core::checks::{CheckContext, CheckMessage};

/// Django's `check_middleware` (`django/contrib/auth/checks.py`).
pub(super) fn check_middleware(ctx: &CheckContext<'_>) -> Vec<CheckMessage> {
    let Some(login_required) = ctx.middleware_index("LoginRequiredMiddleware") else {
        return vec![];
    };
    match ctx.middleware_index("AuthenticationMiddleware") {
        Some(auth) if auth < login_required => vec![],
        _ => vec![CheckMessage::error(
            "auth.E013",
            "In order to use django.contrib.auth.middleware.LoginRequiredMiddleware, \
             django.contrib.auth.middleware.AuthenticationMiddleware must be defined before it in MIDDLEWARE.",
            None,
        )],
    }
}
