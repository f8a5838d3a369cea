//! `ContentSecurityPolicyMiddleware`: Django 6.0's `django.middleware.csp`.
//!
//! Sends `Content-Security-Policy` built from `SECURE_CSP` and
//! `Content-Security-Policy-Report-Only` built from `SECURE_CSP_REPORT_ONLY`. Each setting is a
//! TOML table of directive → value, where a value is a string, a list of strings, `true` (a bare
//! directive such as `upgrade-insecure-requests`) or `false` (left out: Django's `None`/`False`).
//! Directives are sent in the order they are written.
//!
//! Each request gets a [`CspNonce`] in its extensions; the nonce is generated only when a view
//! asks for it, and [`NONCE`] (`"<CSP_NONCE_SENTINEL>"`) in a directive becomes
//! `'nonce-…'` only then; otherwise the sentinel is dropped.
//!
//! A view overrides the policy with the route markers [`CspOverride`] /
//! [`CspReportOnlyOverride`] (Django's `@csp_override` / `@csp_report_only_override`), or by
//! putting the same types in its response's extensions; an empty override disables the header.
//!
//! ```
//! use middleware_builtin::csp::CspNonce;
//! use middleware_core::test_client::Client;
//! use middleware_core::{Chain, Error, Registry, Request, Response, Router, Settings};
//!
//! async fn page(request: &mut Request) -> Result<Response, Error> {
//!     let nonce = request.extensions().get::<CspNonce>().map(|n| n.value().to_owned());
//!     Ok(Response::new(format!("<script nonce=\"{}\"></script>", nonce.unwrap_or_default()).into()))
//! }
//!
//! let mut registry = Registry::new();
//! middleware_builtin::csp::register(&mut registry);
//! let settings = Settings::from_toml_str(r#"
//!     MIDDLEWARE = ["django.middleware.csp.ContentSecurityPolicyMiddleware"]
//!     [SECURE_CSP]
//!     default-src = ["'self'"]
//!     script-src = ["'self'", "<CSP_NONCE_SENTINEL>"]
//! "#, "settings.toml").unwrap();
//! let mut router = Router::new();
//! router.route("", page).unwrap();
//! let chain = Chain::builder(&registry, &settings).urls(router).build().unwrap();
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let response = Client::new(chain).get("/").await;
//! let policy = response.header("content-security-policy").unwrap();
//! assert!(policy.starts_with("default-src 'self'; script-src 'self' 'nonce-"));
//! # });
//! ```

use std::fmt;
use std::sync::{Arc, OnceLock};

use base64::Engine as _;
use http::header::{HeaderName, HeaderValue};
use middleware_core::{
    async_trait, declare_settings, Error, Middleware, Next, Registry, Request, RequestExt,
    Response, Settings, SettingsError,
};
use rand::RngCore;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;

declare_settings! {
    /// The settings `ContentSecurityPolicyMiddleware` reads.
    pub struct CspSettings {
        /// `ContentSecurityPolicyMiddleware`: directives, in the order written
        SECURE_CSP => policy: CspPolicy = {},
        /// the report-only header
        SECURE_CSP_REPORT_ONLY => report_only: CspPolicy = {},
    }
}

/// Django's `CSP.NONCE`: replaced by `'nonce-…'` when the request's nonce was used.
pub const NONCE: &str = "<CSP_NONCE_SENTINEL>";
/// `'self'`.
pub const SELF: &str = "'self'";
/// `'none'`.
pub const NONE: &str = "'none'";
/// `'unsafe-inline'`.
pub const UNSAFE_INLINE: &str = "'unsafe-inline'";
/// `'unsafe-eval'`.
pub const UNSAFE_EVAL: &str = "'unsafe-eval'";
/// `'strict-dynamic'`.
pub const STRICT_DYNAMIC: &str = "'strict-dynamic'";

const HEADER: HeaderName = HeaderName::from_static("content-security-policy");
const HEADER_REPORT_ONLY: HeaderName =
    HeaderName::from_static("content-security-policy-report-only");

/// The value of one directive.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum DirectiveValue {
    /// `true`: the bare directive; `false`: the directive is left out.
    Flag(bool),
    /// One source.
    One(String),
    /// Several sources, joined with spaces.
    Many(Vec<String>),
}

impl From<&str> for DirectiveValue {
    fn from(s: &str) -> Self {
        DirectiveValue::One(s.to_owned())
    }
}

impl From<bool> for DirectiveValue {
    fn from(b: bool) -> Self {
        DirectiveValue::Flag(b)
    }
}

impl<const N: usize> From<[&str; N]> for DirectiveValue {
    fn from(list: [&str; N]) -> Self {
        DirectiveValue::Many(list.iter().map(|s| (*s).to_owned()).collect())
    }
}

/// A policy: directives in order (Django's `SECURE_CSP` dict).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CspPolicy {
    directives: Vec<(String, DirectiveValue)>,
}

impl CspPolicy {
    /// An empty policy (no header).
    pub fn new() -> Self {
        CspPolicy::default()
    }

    /// Adds (or replaces) a directive.
    pub fn directive(mut self, name: &str, value: impl Into<DirectiveValue>) -> Self {
        let value = value.into();
        match self.directives.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = value,
            None => self.directives.push((name.to_owned(), value)),
        }
        self
    }

    /// Whether the policy has no directives (Django: an empty dict sends no header).
    pub fn is_empty(&self) -> bool {
        self.directives.is_empty()
    }

    /// Django's `build_policy`: the header value, with `nonce` (when generated) in place of
    /// [`NONCE`].
    pub fn build(&self, nonce: Option<&str>) -> String {
        let mut parts = Vec::with_capacity(self.directives.len());
        for (name, value) in &self.directives {
            let values: Vec<&str> = match value {
                DirectiveValue::Flag(false) => continue,
                DirectiveValue::Flag(true) => {
                    parts.push(name.clone());
                    continue;
                }
                DirectiveValue::One(s) => vec![s.as_str()],
                DirectiveValue::Many(list) => list.iter().map(String::as_str).collect(),
            };
            let nonce_source = nonce.map(|n| format!("'nonce-{n}'"));
            let rendered: Vec<&str> = values
                .into_iter()
                .filter_map(|v| {
                    if v == NONCE {
                        nonce_source.as_deref()
                    } else {
                        Some(v)
                    }
                })
                .collect();
            if rendered.is_empty() {
                continue;
            }
            parts.push(
                format!("{name} {}", rendered.join(" "))
                    .trim_end()
                    .to_owned(),
            );
        }
        parts.join("; ")
    }
}

impl<'de> Deserialize<'de> for CspPolicy {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PolicyVisitor;
        impl<'de> Visitor<'de> for PolicyVisitor {
            type Value = CspPolicy;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a table of CSP directives (directive = string, list or boolean)")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<CspPolicy, A::Error> {
                let mut directives = Vec::new();
                // Entries come in file order when the toml crate preserves order (the
                // workspace enables its `preserve_order` feature).
                while let Some((name, value)) = map.next_entry::<String, DirectiveValue>()? {
                    directives.push((name, value));
                }
                Ok(CspPolicy { directives })
            }
            // `false` is accepted for Django's None: no policy.
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<CspPolicy, E> {
                if v {
                    Err(E::custom(
                        "true is not a policy; use a table, or false for none",
                    ))
                } else {
                    Ok(CspPolicy::default())
                }
            }
        }
        deserializer.deserialize_any(PolicyVisitor)
    }
}

/// Route or response marker: Django's `@csp_override(config)`; an empty policy disables the
/// `Content-Security-Policy` header for the view.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CspOverride(pub CspPolicy);

/// Route or response marker: Django's `@csp_report_only_override(config)`; an empty policy
/// disables the `Content-Security-Policy-Report-Only` header for the view.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CspReportOnlyOverride(pub CspPolicy);

/// The request's nonce (Django's `request.csp_nonce`, a `LazyNonce`): generated on first use,
/// the same value afterwards. Cloning shares it.
#[derive(Clone, Default)]
pub struct CspNonce(Arc<OnceLock<String>>);

impl fmt::Debug for CspNonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A nonce is a per-request secret until it is sent: never print it.
        f.debug_struct("CspNonce")
            .field("generated", &self.is_generated())
            .finish()
    }
}

impl CspNonce {
    /// A nonce not generated yet.
    pub fn new() -> Self {
        CspNonce::default()
    }

    /// The nonce, generated now if it was not yet: 16 random bytes, URL-safe base64 without
    /// padding (22 characters, as Python's `secrets.token_urlsafe(16)`).
    pub fn value(&self) -> &str {
        self.0.get_or_init(|| {
            let mut bytes = [0u8; 16];
            rand::rngs::OsRng.fill_bytes(&mut bytes);
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
        })
    }

    /// The nonce if it was generated (Django's `bool(request.csp_nonce)`).
    pub fn get(&self) -> Option<&str> {
        self.0.get().map(String::as_str)
    }

    /// Whether the nonce was generated.
    pub fn is_generated(&self) -> bool {
        self.0.get().is_some()
    }
}

impl CspSettings {
    /// Reads both policies; one that cannot be sent in a header is an error naming its
    /// setting.
    pub fn read_policies(settings: &Settings) -> Result<Self, SettingsError> {
        let declared = Self::from_settings(settings)?;
        check_policy(settings, "SECURE_CSP", &declared.policy)?;
        check_policy(settings, "SECURE_CSP_REPORT_ONLY", &declared.report_only)?;
        Ok(declared)
    }
}

/// Checks that the policy of the CSP setting `key` can be sent in a header; the error names
/// the setting.
pub fn check_policy(
    settings: &Settings,
    key: &str,
    policy: &CspPolicy,
) -> Result<(), SettingsError> {
    // Checked with a nonce-shaped value too, so every source is validated.
    let sample = policy.build(Some("AAAAAAAAAAAAAAAAAAAAAA"));
    if HeaderValue::from_str(&sample).is_err() {
        return Err(settings.invalid(
            key,
            "the policy cannot be sent in an HTTP header",
            "use visible ASCII characters in directive names and sources",
        ));
    }
    Ok(())
}

/// Django's `ContentSecurityPolicyMiddleware`.
#[derive(Debug)]
pub struct ContentSecurityPolicyMiddleware {
    next: Next,
    policy: CspPolicy,
    report_only: CspPolicy,
}

impl ContentSecurityPolicyMiddleware {
    /// A middleware sending `policy` and `report_only` (either may be empty).
    pub fn new(next: Next, policy: CspPolicy, report_only: CspPolicy) -> Self {
        ContentSecurityPolicyMiddleware {
            next,
            policy,
            report_only,
        }
    }
}

/// The override of type `T` on the response, else on the route, if any.
fn override_of<'a, T: Clone + Send + Sync + 'static>(
    request: &'a Request,
    response: &'a Response,
) -> Option<&'a T> {
    response.extensions().get::<T>().or_else(|| {
        request
            .resolver_match()
            .and_then(|m| m.markers_for_response(response))
            .and_then(|markers| markers.get::<T>())
    })
}

/// The header value for `policy`, unless the response already has `name` or there is nothing
/// to send.
fn header_value(
    response: &Response,
    name: &HeaderName,
    policy: &CspPolicy,
    nonce: Option<&str>,
) -> Option<HeaderValue> {
    if policy.is_empty() || response.headers().contains_key(name) {
        return None;
    }
    let value = policy.build(nonce);
    if value.is_empty() {
        return None;
    }
    match HeaderValue::from_str(&value) {
        Ok(v) => Some(v),
        // Only a view's override can get here: settings are validated at start-up.
        Err(_) => {
            tracing::error!(header = %name, "CSP override cannot be a header value; not sent");
            None
        }
    }
}

#[async_trait]
impl Middleware for ContentSecurityPolicyMiddleware {
    async fn call(&self, request: &mut Request) -> Result<Response, Error> {
        let nonce = CspNonce::new();
        request.extensions_mut().insert(nonce.clone());
        let mut response = self.next.get_response(request).await;
        let nonce = nonce.get();
        // Computed before the response is changed, as the overrides borrow from it.
        let policy = override_of::<CspOverride>(request, &response).map_or(&self.policy, |o| &o.0);
        let enforced = header_value(&response, &HEADER, policy, nonce);
        let report_only = override_of::<CspReportOnlyOverride>(request, &response)
            .map_or(&self.report_only, |o| &o.0);
        let report_only = header_value(&response, &HEADER_REPORT_ONLY, report_only, nonce);
        if let Some(v) = enforced {
            response.headers_mut().insert(HEADER, v);
        }
        if let Some(v) = report_only {
            response.headers_mut().insert(HEADER_REPORT_ONLY, v);
        }
        Ok(response)
    }
}

/// Registers the middleware under its Rust name and Django's dotted path.
pub fn register(registry: &mut Registry) {
    registry
        .register("ContentSecurityPolicyMiddleware", |next, ctx| {
            let declared = CspSettings::read_policies(ctx.settings)?;
            Ok(ContentSecurityPolicyMiddleware::new(
                next,
                declared.policy,
                declared.report_only,
            ))
        })
        .alias("django.middleware.csp.ContentSecurityPolicyMiddleware")
        .declares::<CspSettings>();
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::policy_test_support::{chain_with, client};
    use middleware_core::{Route, Router};

    fn basic() -> CspPolicy {
        CspPolicy::new().directive("default-src", [SELF])
    }
    const BASIC_POLICY: &str = "default-src 'self'";
    const BASIC_TOML: &str = "{ default-src = [\"'self'\"] }";

    // Django: tests/middleware/test_csp.py::CSPBuildPolicyTest::test_config_empty
    #[test]
    fn test_config_empty() {
        assert_eq!(CspPolicy::new().build(None), "");
    }

    // Django: tests/middleware/test_csp.py::CSPBuildPolicyTest::test_config_basic
    #[test]
    fn test_config_basic() {
        assert_eq!(basic().build(None), BASIC_POLICY);
    }

    // Django: tests/middleware/test_csp.py::CSPBuildPolicyTest::test_config_multiple_directives
    #[test]
    fn test_config_multiple_directives() {
        let p = basic().directive("script-src", [NONE]);
        assert_eq!(p.build(None), "default-src 'self'; script-src 'none'");
    }

    // Django: tests/middleware/test_csp.py::CSPBuildPolicyTest::test_config_value_as_string
    #[test]
    fn test_config_value_as_string() {
        assert_eq!(
            CspPolicy::new().directive("default-src", SELF).build(None),
            BASIC_POLICY
        );
    }

    // Django: tests/middleware/test_csp.py::CSPBuildPolicyTest::test_config_value_as_tuple
    #[test]
    fn test_config_value_as_tuple() {
        let p = CspPolicy::new().directive("default-src", [SELF, "foo.com"]);
        assert_eq!(p.build(None), "default-src 'self' foo.com");
    }

    // Django: tests/middleware/test_csp.py::CSPBuildPolicyTest::test_config_value_none
    // and ::test_config_value_boolean_false (TOML has no None: false stands for both)
    #[test]
    fn test_config_value_none_and_false() {
        let p = basic().directive("script-src", false);
        assert_eq!(p.build(None), BASIC_POLICY);
    }

    // Django: tests/middleware/test_csp.py::CSPBuildPolicyTest::test_config_value_boolean_true
    // and ::test_config_value_multiple_boolean
    #[test]
    fn test_config_value_boolean_true() {
        let p = basic()
            .directive("block-all-mixed-content", true)
            .directive("upgrade-insecure-requests", true);
        assert_eq!(
            p.build(None),
            "default-src 'self'; block-all-mixed-content; upgrade-insecure-requests"
        );
    }

    // Django: tests/middleware/test_csp.py::CSPBuildPolicyTest::test_config_with_nonce_arg
    #[test]
    fn test_config_with_nonce_arg() {
        assert_eq!(basic().build(Some("abc123")), BASIC_POLICY);
    }

    // Django: tests/middleware/test_csp.py::CSPBuildPolicyTest::test_config_with_nonce
    // and ::test_config_with_multiple_nonces
    #[test]
    fn test_config_with_nonce() {
        let p = CspPolicy::new()
            .directive("default-src", [SELF, NONCE])
            .directive("script-src", [SELF, NONCE]);
        assert_eq!(
            p.build(Some("abc123")),
            "default-src 'self' 'nonce-abc123'; script-src 'self' 'nonce-abc123'"
        );
        // Without a generated nonce the sentinel is removed, and a directive left empty dropped.
        let p = basic().directive("script-src", [NONCE]);
        assert_eq!(p.build(None), BASIC_POLICY);
    }

    // Django: tests/middleware/test_csp.py::CSPBuildPolicyTest::test_config_with_empty_directive
    #[test]
    fn test_config_with_empty_directive() {
        let p = CspPolicy::new().directive("default-src", DirectiveValue::Many(vec![]));
        assert_eq!(p.build(None), "");
    }

    #[test]
    fn toml_order_is_kept_and_bad_values_are_errors() {
        let s = Settings::from_toml_str(
            "[SECURE_CSP]\nscript-src = \"'self'\"\ndefault-src = [\"'none'\"]\nupgrade-insecure-requests = true\n",
            "t",
        )
        .unwrap();
        let p = CspSettings::read_policies(&s).map(|c| c.policy).unwrap();
        assert_eq!(
            p.build(None),
            "script-src 'self'; default-src 'none'; upgrade-insecure-requests"
        );
        for conf in [
            "SECURE_CSP = \"default-src 'self'\"",
            "SECURE_CSP = true",
            "SECURE_CSP = { default-src = 3 }",
            "SECURE_CSP = { default-src = [\"a\\nb\"] }",
        ] {
            let s = Settings::from_toml_str(conf, "t").unwrap();
            let err = CspSettings::read_policies(&s)
                .map(|c| c.policy)
                .unwrap_err();
            assert!(err.to_string().contains("SECURE_CSP"), "{conf}: {err}");
        }
        let s = Settings::from_toml_str("SECURE_CSP = false", "t").unwrap();
        assert!(CspSettings::read_policies(&s)
            .map(|c| c.policy)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn nonce_is_lazy_stable_and_token_urlsafe_shaped() {
        let n = CspNonce::new();
        assert!(!n.is_generated() && n.get().is_none());
        let v = n.value().to_owned();
        assert_eq!(v.len(), 22);
        assert!(v
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert_eq!(n.clone().value(), v);
        assert_eq!(n.get(), Some(v.as_str()));
        assert_ne!(CspNonce::new().value(), v);
        assert!(!format!("{n:?}").contains(&v));
    }

    async fn base(_: &mut Request) -> Result<Response, Error> {
        Ok(Response::new("".into()))
    }

    async fn nonce_view(request: &mut Request) -> Result<Response, Error> {
        let nonce = request
            .extensions()
            .get::<CspNonce>()
            .map(|n| n.value().to_owned())
            .unwrap_or_default();
        Ok(Response::new(nonce.into()))
    }

    async fn response_override(_: &mut Request) -> Result<Response, Error> {
        let mut r = Response::new("".into());
        r.extensions_mut().insert(CspOverride(
            CspPolicy::new()
                .directive("default-src", [SELF])
                .directive("img-src", [SELF, "data:"]),
        ));
        Ok(r)
    }

    /// Django's `tests/middleware/urls.py` CSP views, with decorators as route markers.
    fn router() -> Router {
        let over = CspPolicy::new()
            .directive("default-src", [SELF])
            .directive("img-src", [SELF, "data:"]);
        let mut r = Router::new();
        r.add(Route::new("csp-base/", base))
            .unwrap()
            .add(Route::new("csp-nonce/", nonce_view))
            .unwrap()
            .add(
                Route::new("csp-disabled-both/", base)
                    .marker(CspOverride::default())
                    .marker(CspReportOnlyOverride::default()),
            )
            .unwrap()
            .add(Route::new("csp-disabled-enforced/", base).marker(CspOverride::default()))
            .unwrap()
            .add(
                Route::new("csp-disabled-report-only/", base)
                    .marker(CspReportOnlyOverride::default()),
            )
            .unwrap()
            .add(Route::new("override-csp-enforced/", base).marker(CspOverride(over.clone())))
            .unwrap()
            .add(
                Route::new("override-csp-report-only/", base)
                    .marker(CspReportOnlyOverride(over.clone())),
            )
            .unwrap()
            .add(
                Route::new("override-csp-both/", base)
                    .marker(CspOverride(over.clone()))
                    .marker(CspReportOnlyOverride(over)),
            )
            .unwrap()
            .add(Route::new("override-csp-response/", response_override))
            .unwrap();
        r
    }

    async fn get(conf: &str, path: &str) -> middleware_core::test_client::TestResponse {
        let conf = format!("MIDDLEWARE = [\"ContentSecurityPolicyMiddleware\"]\n{conf}");
        client(chain_with(&conf, router())).get(path).await
    }

    const BOTH: &str = "SECURE_CSP = { default-src = [\"'self'\"] }\nSECURE_CSP_REPORT_ONLY = { default-src = [\"'self'\"] }";
    const OVERRIDDEN: &str = "default-src 'self'; img-src 'self' data:";

    async fn failing(_: &mut Request) -> Result<Response, Error> {
        Err(Error::not_found("gone"))
    }

    // Django's @csp_override sets the policy on the view's own response: when the view fails,
    // the error page gets the site-wide policy, not the route's override.
    #[tokio::test]
    async fn route_override_does_not_reach_the_error_page_of_its_view() {
        let mut router = router();
        router
            .add(Route::new("csp-disabled-failing/", failing).marker(CspOverride::default()))
            .unwrap();
        let conf = format!(
            "MIDDLEWARE = [\"ContentSecurityPolicyMiddleware\"]\nSECURE_CSP = {BASIC_TOML}"
        );
        let mut c = client(chain_with(&conf, router));
        assert!(c
            .get("/csp-disabled-enforced/")
            .await
            .header("content-security-policy")
            .is_none());
        let r = c.get("/csp-disabled-failing/").await;
        assert_eq!(r.status, 404);
        assert_eq!(r.header("content-security-policy"), Some(BASIC_POLICY));
    }

    // Django: tests/middleware/test_csp.py::CSPMiddlewareTest::test_csp_defaults_off
    #[tokio::test]
    async fn test_csp_defaults_off() {
        let r = get("", "/csp-base/").await;
        assert!(r.header("content-security-policy").is_none());
        assert!(r.header("content-security-policy-report-only").is_none());
    }

    // Django: tests/middleware/test_csp.py::CSPMiddlewareTest::test_csp_basic
    #[tokio::test]
    async fn test_csp_basic() {
        let r = get(&format!("SECURE_CSP = {BASIC_TOML}"), "/csp-base/").await;
        assert_eq!(r.header("content-security-policy"), Some(BASIC_POLICY));
        assert!(r.header("content-security-policy-report-only").is_none());
    }

    // Django: tests/middleware/test_csp.py::CSPMiddlewareTest::test_csp_basic_with_nonce
    #[tokio::test]
    async fn test_csp_basic_with_nonce() {
        let conf = "SECURE_CSP = { default-src = [\"'self'\", \"<CSP_NONCE_SENTINEL>\"] }";
        let r = get(conf, "/csp-nonce/").await;
        let nonce = r.text();
        assert_eq!(nonce.len(), 22);
        assert_eq!(
            r.header("content-security-policy").unwrap(),
            format!("default-src 'self' 'nonce-{nonce}'")
        );
        // A new nonce per request.
        assert_ne!(get(conf, "/csp-nonce/").await.text(), nonce);
    }

    // Django: tests/middleware/test_csp.py::CSPMiddlewareTest::test_csp_basic_with_nonce_but_unused
    #[tokio::test]
    async fn test_csp_basic_with_nonce_but_unused() {
        let conf = "SECURE_CSP = { default-src = [\"'self'\", \"<CSP_NONCE_SENTINEL>\"] }";
        let r = get(conf, "/csp-base/").await;
        assert_eq!(r.header("content-security-policy"), Some(BASIC_POLICY));
    }

    // Django: tests/middleware/test_csp.py::CSPMiddlewareTest::test_csp_report_only_basic
    #[tokio::test]
    async fn test_csp_report_only_basic() {
        let r = get(
            &format!("SECURE_CSP_REPORT_ONLY = {BASIC_TOML}"),
            "/csp-base/",
        )
        .await;
        assert_eq!(
            r.header("content-security-policy-report-only"),
            Some(BASIC_POLICY)
        );
        assert!(r.header("content-security-policy").is_none());
    }

    // Django: tests/middleware/test_csp.py::CSPMiddlewareTest::test_csp_both
    // and CSPMiddlewareWithDecoratedViewsTest::test_no_decorators
    #[tokio::test]
    async fn test_csp_both() {
        let r = get(BOTH, "/csp-base/").await;
        assert_eq!(r.header("content-security-policy"), Some(BASIC_POLICY));
        assert_eq!(
            r.header("content-security-policy-report-only"),
            Some(BASIC_POLICY)
        );
    }

    // Django: tests/middleware/test_csp.py::CSPMiddlewareWithDecoratedViewsTest::test_csp_exempt_both
    // (Django 6.0: an empty override disables the header)
    #[tokio::test]
    async fn test_csp_disabled_both() {
        let r = get(BOTH, "/csp-disabled-both/").await;
        assert!(r.header("content-security-policy").is_none());
        assert!(r.header("content-security-policy-report-only").is_none());
    }

    // Django: tests/middleware/test_csp.py::CSPMiddlewareWithDecoratedViewsTest::test_csp_exempt_decorator
    #[tokio::test]
    async fn test_csp_disabled_enforced() {
        let r = get(BOTH, "/csp-disabled-enforced/").await;
        assert!(r.header("content-security-policy").is_none());
        assert_eq!(
            r.header("content-security-policy-report-only"),
            Some(BASIC_POLICY)
        );
    }

    // Django: tests/middleware/test_csp.py::CSPMiddlewareWithDecoratedViewsTest::test_csp_exempt_report_only_decorator
    #[tokio::test]
    async fn test_csp_disabled_report_only() {
        let r = get(BOTH, "/csp-disabled-report-only/").await;
        assert!(r.header("content-security-policy-report-only").is_none());
        assert_eq!(r.header("content-security-policy"), Some(BASIC_POLICY));
    }

    // Django: tests/middleware/test_csp.py::CSPMiddlewareWithDecoratedViewsTest::test_csp_override_enforced_decorator
    #[tokio::test]
    async fn test_csp_override_enforced_decorator() {
        let r = get(BOTH, "/override-csp-enforced/").await;
        assert_eq!(r.header("content-security-policy"), Some(OVERRIDDEN));
        assert_eq!(
            r.header("content-security-policy-report-only"),
            Some(BASIC_POLICY)
        );
        // The same override put on the response by the view.
        let r = get(BOTH, "/override-csp-response/").await;
        assert_eq!(r.header("content-security-policy"), Some(OVERRIDDEN));
    }

    // Django: tests/middleware/test_csp.py::CSPMiddlewareWithDecoratedViewsTest::test_csp_override_report_only_decorator
    #[tokio::test]
    async fn test_csp_override_report_only_decorator() {
        let r = get(BOTH, "/override-csp-report-only/").await;
        assert_eq!(
            r.header("content-security-policy-report-only"),
            Some(OVERRIDDEN)
        );
        assert_eq!(r.header("content-security-policy"), Some(BASIC_POLICY));
    }

    // Django: tests/middleware/test_csp.py::CSPMiddlewareWithDecoratedViewsTest::test_csp_override_both_decorator
    #[tokio::test]
    async fn test_csp_override_both_decorator() {
        let r = get(BOTH, "/override-csp-both/").await;
        assert_eq!(r.header("content-security-policy"), Some(OVERRIDDEN));
        assert_eq!(
            r.header("content-security-policy-report-only"),
            Some(OVERRIDDEN)
        );
    }

    // A header the view set itself is kept.
    #[tokio::test]
    async fn existing_header_is_not_replaced() {
        async fn own(_: &mut Request) -> Result<Response, Error> {
            let mut r = Response::new("".into());
            r.headers_mut()
                .insert(HEADER, HeaderValue::from_static("script-src 'none'"));
            Ok(r)
        }
        let mut router = Router::new();
        router.route("", own).unwrap();
        let conf = format!(
            "MIDDLEWARE = [\"ContentSecurityPolicyMiddleware\"]\nSECURE_CSP = {BASIC_TOML}"
        );
        let r = client(chain_with(&conf, router)).get("/").await;
        assert_eq!(
            r.header("content-security-policy"),
            Some("script-src 'none'")
        );
    }
}
