//! The view that answers a rejected request (`CSRF_FAILURE_VIEW`), and the named registry that
//! stands in for Django's dotted-path import of it.
//!
//! ```
//! use std::sync::Arc;
//! use http::StatusCode;
//! use middleware_builtin::csrf::CsrfFailureViews;
//! use middleware_core::response::text;
//!
//! let views = CsrfFailureViews::new();
//! views.insert("myapp.views.csrf_failure", Arc::new(|_req: &middleware_core::Request, reason: &str| {
//!     text(StatusCode::FORBIDDEN, format!("403 CSRF verification failed: {reason}\n"))
//! }));
//! assert!(views.contains("myapp.views.csrf_failure"));
//! assert!(views.contains("django.views.csrf.csrf_failure")); // Django's default page
//! ```

use std::sync::Arc;

use http::StatusCode;
use middleware_core::error::html_escape;
use middleware_core::registry::NamedTable;
use middleware_core::{Request, RequestExt, Response};

/// A CSRF failure view: Django's `csrf_failure(request, reason="")`. It should answer 403.
pub type CsrfFailureView = Arc<dyn Fn(&Request, &str) -> Response + Send + Sync>;

/// The name of Django's default failure view (the default of `CSRF_FAILURE_VIEW`).
pub const DEFAULT_FAILURE_VIEW: &str = "django.views.csrf.csrf_failure";

/// Failure views by name, so `CSRF_FAILURE_VIEW` can name one as Django names a dotted path.
///
/// Cloning shares the same table; pass one to [`crate::register_all_with`] (through
/// [`crate::BuiltinOptions`]). Views may be added after registration, until the chain is built
/// (the name is resolved by the middleware's factory). There is no process-wide table.
#[derive(Clone, Debug)]
pub struct CsrfFailureViews(NamedTable<CsrfFailureView>);

impl std::ops::Deref for CsrfFailureViews {
    type Target = NamedTable<CsrfFailureView>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl Default for CsrfFailureViews {
    fn default() -> Self {
        Self::new()
    }
}

impl CsrfFailureViews {
    /// A table holding only Django's default page under [`DEFAULT_FAILURE_VIEW`].
    pub fn new() -> Self {
        let views = CsrfFailureViews(NamedTable::default());
        views.insert(DEFAULT_FAILURE_VIEW, Arc::new(csrf_failure));
        views
    }
}

const HEAD: &str = r#"<!DOCTYPE html>
<html lang="en">
<head>
  <meta http-equiv="content-type" content="text/html; charset=utf-8">
  <meta name="color-scheme" content="light dark" />
  <meta name="robots" content="NONE,NOARCHIVE">
  <title>403 Forbidden</title>
  <style >
    html * { padding:0; margin:0; }
    body * { padding:10px 20px; }
    body * * { padding:0; }
    body { font-family: sans-serif; background:#eee; color:#000; }
    body>div { border-bottom:1px solid #ddd; }
    h1 { font-weight:normal; margin-bottom:.4em; }
    h1 span { font-size:60%; color:#666; font-weight:normal; }
    #info { background:#f6f6f6; }
    #info ul { margin: 0.5em 4em; }
    #info p, #summary p { padding-top:10px; }
    #summary { background: #ffc; }
    #explanation { background:#eee; border-bottom: 0px none; }
  </style>
</head>
<body>
<div id="summary">
  <h1>Forbidden <span>(403)</span></h1>
  <p>CSRF verification failed. Request aborted.</p>
"#;

const NO_REFERER: &str = "
  <p>You are seeing this message because this HTTPS site requires a “Referer header” to be sent by your web browser, but none was sent. This header is required for security reasons, to ensure that your browser is not being hijacked by third parties.</p>
  <p>If you have configured your browser to disable “Referer” headers, please re-enable them, at least for this site, or for HTTPS connections, or for “same-origin” requests.</p>
  <p>If you are using the &lt;meta name=&quot;referrer&quot; content=&quot;no-referrer&quot;&gt; tag or including the “Referrer-Policy: no-referrer” header, please remove them. The CSRF protection requires the “Referer” header to do strict referer checking. If you’re concerned about privacy, use alternatives like &lt;a rel=&quot;noreferrer&quot; …&gt; for links to third-party sites.</p>
";

const NO_COOKIE: &str = "
  <p>You are seeing this message because this site requires a CSRF cookie when submitting forms. This cookie is required for security reasons, to ensure that your browser is not being hijacked by third parties.</p>
  <p>If you have configured your browser to disable cookies, please re-enable them, at least for this site, or for “same-origin” requests.</p>
";

const DEBUG_HELP: &str = r#"
  <p>In general, this can occur when there is a genuine Cross Site Request Forgery, or when
  <a
  href="https://docs.djangoproject.com/en/6.1/ref/csrf/">Django’s
  CSRF mechanism</a> has not been used correctly.  For POST forms, you need to
  ensure:</p>

  <ul>
    <li>Your browser is accepting cookies.</li>

    <li>The view function passes a <code>request</code> to the template’s <a
    href="https://docs.djangoproject.com/en/6.1/topics/templates/#django.template.backends.base.Template.render"><code>render</code></a>
    method.</li>

    <li>In the template, there is a <code>{% csrf_token
    %}</code> template tag inside each POST form that
    targets an internal URL.</li>

    <li>If you are not using <code>CsrfViewMiddleware</code>, then you must use
    <code>csrf_protect</code> on any views that use the <code>csrf_token</code>
    template tag, as well as those that accept the POST data.</li>

    <li>The form has a valid CSRF token. After logging in in another browser
    tab or hitting the back button after a login, you may need to reload the
    page with the form, because the token is rotated after a login.</li>
  </ul>

  <p>You’re seeing the help section of this page because you have <code>DEBUG =
  True</code> in your Django settings file. Change that to <code>False</code>,
  and only the initial error message will be displayed.  </p>

  <p>You can customize this page using the CSRF_FAILURE_VIEW setting.</p>
</div>
"#;

const NO_DEBUG: &str = r#"
<div id="explanation">
  <p><small>More information is available with DEBUG=True.</small></p>
</div>
"#;

/// Django's built-in page (`django/views/csrf.py` with `csrf_403.html`), as Django 6.1 renders
/// it in English: the reason and the help only when `debug`.
pub fn csrf_failure_page(reason: &str, debug: bool) -> String {
    let mut page = String::with_capacity(4096);
    page.push_str(HEAD);
    if reason == super::REASON_NO_REFERER {
        page.push_str(NO_REFERER);
    }
    page.push('\n');
    if reason == super::REASON_NO_CSRF_COOKIE {
        page.push_str(NO_COOKIE);
    }
    page.push_str("\n</div>\n");
    if debug {
        page.push_str("\n<div id=\"info\">\n  <h2>Help</h2>\n    ");
        if !reason.is_empty() {
            page.push_str("\n    <p>Reason given for failure:</p>\n    <pre>\n    ");
            page.push_str(&html_escape(reason));
            page.push_str("\n    </pre>\n    ");
        }
        page.push('\n');
        page.push_str(DEBUG_HELP);
    } else {
        page.push_str(NO_DEBUG);
    }
    page.push_str("\n</body>\n</html>\n");
    page
}

/// Django's default failure view, `django.views.csrf.csrf_failure`: 403 `text/html`, the reason
/// shown only with `DEBUG` (read from the request's core settings).
pub fn csrf_failure(request: &Request, reason: &str) -> Response {
    let debug = request.core_settings().debug;
    middleware_core::response::html(StatusCode::FORBIDDEN, csrf_failure_page(reason, debug))
}
