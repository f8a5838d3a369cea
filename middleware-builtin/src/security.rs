//! `SecurityMiddleware`: Django's `django.middleware.security.SecurityMiddleware`.
//!
//! Redirects plain-HTTP requests to HTTPS (`SECURE_SSL_REDIRECT`) and adds the security headers
//! `Strict-Transport-Security` (secure requests only), `X-Content-Type-Options`,
//! `Referrer-Policy` and `Cross-Origin-Opener-Policy`, never replacing a header the response
//! already has.
//!
//! ```
//! use middleware_core::test_client::Client;
//! use middleware_core::{Chain, Registry, Router, Settings};
//!
//! let mut registry = Registry::new();
//! middleware_builtin::security::register(&mut registry);
//! let settings = Settings::from_toml_str(r#"
//!     ALLOWED_HOSTS = ["testserver"]
//!     MIDDLEWARE = ["django.middleware.security.SecurityMiddleware"]
//!     SECURE_SSL_REDIRECT = true
//!     SECURE_HSTS_SECONDS = 3600
//! "#, "settings.toml").unwrap();
//! let chain = Chain::builder(&registry, &settings).urls(Router::new()).build().unwrap();
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let response = Client::new(chain).get("/page?x=1").await;
//! assert_eq!(response.status, 301);
//! assert_eq!(response.header("location"), Some("https://testserver/page?x=1"));
//! assert_eq!(response.header("x-content-type-options"), Some("nosniff"));
//! # });
//! ```
//!
//! Django's `None` for `SECURE_REFERRER_POLICY`, `SECURE_CROSS_ORIGIN_OPENER_POLICY` and
//! `SECURE_SSL_HOST` is written `false`: TOML has no null.

use std::sync::Arc;

use http::header::{HeaderName, HeaderValue};
use middleware_core::response::permanent_redirect;
use middleware_core::{
    declare_settings, Error, Hook, Hooks, Registry, Request, RequestExt, Response, Settings,
    SettingsError,
};
use regex::Regex;
use serde::Deserialize;

declare_settings! {
    /// The settings `SecurityMiddleware` reads, with Django's names and defaults.
    pub struct SecuritySettings {
        /// `Strict-Transport-Security` on secure responses when non-zero
        SECURE_HSTS_SECONDS => hsts_seconds: u64 = 0,
        ///
        SECURE_HSTS_INCLUDE_SUBDOMAINS => hsts_include_subdomains: bool = false,
        ///
        SECURE_HSTS_PRELOAD => hsts_preload: bool = false,
        /// `X-Content-Type-Options: nosniff`
        SECURE_CONTENT_TYPE_NOSNIFF => content_type_nosniff: bool = true,
        /// redirect plain HTTP to HTTPS
        SECURE_SSL_REDIRECT => ssl_redirect: bool = false,
        /// host to redirect to
        SECURE_SSL_HOST => ssl_host: Option<StringsOrOff> = unset,
        /// regular expressions of paths (without the leading slash) not redirected
        SECURE_REDIRECT_EXEMPT => redirect_exempt: Vec<String> = [],
        /// a string or a list
        SECURE_REFERRER_POLICY => referrer_policy: StringsOrOff = "same-origin",
        ///
        SECURE_CROSS_ORIGIN_OPENER_POLICY => cross_origin_opener_policy: StringsOrOff = "same-origin",
    }
}

// Not among http's standard names; built once, not per response.
const CROSS_ORIGIN_OPENER_POLICY: HeaderName =
    HeaderName::from_static("cross-origin-opener-policy");

/// A setting that is a string, a list of strings, or `false` (Django's `None`).
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum StringsOrOff {
    /// `false` (or `true`, which is rejected where it means nothing).
    Bool(bool),
    /// One string.
    One(String),
    /// A list of strings.
    Many(Vec<String>),
}

impl StringsOrOff {
    /// `SECURE_REFERRER_POLICY`'s value, or `None` when it is `false` (Django's `None`).
    pub(crate) fn referrer_policy(
        &self,
        settings: &Settings,
    ) -> Result<Option<&Self>, SettingsError> {
        match self {
            StringsOrOff::Bool(false) => Ok(None),
            StringsOrOff::Bool(true) => Err(settings.invalid(
                "SECURE_REFERRER_POLICY",
                "true is not a policy",
                "write a policy such as \"same-origin\", a list of policies, or false for none",
            )),
            other => Ok(Some(other)),
        }
    }

    /// The value of `key`, a string or `false` (Django's `None`, then `None`).
    pub(crate) fn string_or_off(
        &self,
        settings: &Settings,
        key: &str,
    ) -> Result<Option<&str>, SettingsError> {
        match self {
            StringsOrOff::Bool(false) => Ok(None),
            StringsOrOff::One(s) => Ok(Some(s)),
            _ => Err(settings.invalid(
                key,
                "expected a string or false",
                format!("write {key} = \"...\", or {key} = false for Django's None"),
            )),
        }
    }
}

/// `SecurityMiddleware`'s settings, read once at start-up.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct SecurityConfig {
    /// `SECURE_HSTS_SECONDS` (default 0: no HSTS header).
    pub hsts_seconds: u64,
    /// `SECURE_HSTS_INCLUDE_SUBDOMAINS` (default `false`).
    pub hsts_include_subdomains: bool,
    /// `SECURE_HSTS_PRELOAD` (default `false`).
    pub hsts_preload: bool,
    /// `SECURE_CONTENT_TYPE_NOSNIFF` (default `true`).
    pub content_type_nosniff: bool,
    /// `SECURE_SSL_REDIRECT` (default `false`).
    pub ssl_redirect: bool,
    /// `SECURE_SSL_HOST` (default `None`: the request's host).
    pub ssl_host: Option<String>,
    /// `SECURE_REDIRECT_EXEMPT`: regexes searched in the path without its leading `/`.
    pub redirect_exempt: Vec<Regex>,
    /// The `Referrer-Policy` value (from `SECURE_REFERRER_POLICY`, default `same-origin`).
    pub referrer_policy: Option<HeaderValue>,
    /// `SECURE_CROSS_ORIGIN_OPENER_POLICY` (default `same-origin`).
    pub cross_origin_opener_policy: Option<HeaderValue>,
}

impl SecurityConfig {
    /// Reads the settings; a wrong type, a bad regex or a value that cannot be a header is an
    /// error naming the setting.
    pub fn from_settings(settings: &Settings) -> Result<Self, SettingsError> {
        let declared = SecuritySettings::from_settings(settings)?;
        let header = |key: &str, value: &str| {
            HeaderValue::from_str(value).map_err(|_| {
                settings.invalid(
                    key,
                    format!("{value:?} cannot be sent in an HTTP header"),
                    "use visible ASCII characters only",
                )
            })
        };
        let referrer_policy = match declared.referrer_policy.referrer_policy(settings)? {
            None => None,
            Some(StringsOrOff::One(s)) => {
                // Django splits a string on commas and strips each part: "a, b" -> "a,b".
                let joined = s.split(',').map(str::trim).collect::<Vec<_>>().join(",");
                Some(joined)
            }
            Some(StringsOrOff::Many(list)) => Some(list.join(",")),
            Some(StringsOrOff::Bool(_)) => None,
        };
        // An empty value is falsy in Django: no header.
        let referrer_policy = match referrer_policy.filter(|s| !s.is_empty()) {
            Some(s) => Some(header("SECURE_REFERRER_POLICY", &s)?),
            None => None,
        };
        let coop_key = "SECURE_CROSS_ORIGIN_OPENER_POLICY";
        let coop = match declared
            .cross_origin_opener_policy
            .string_or_off(settings, coop_key)?
            .filter(|s| !s.is_empty())
        {
            Some(s) => Some(header(coop_key, s)?),
            None => None,
        };
        let redirect_exempt = declared
            .redirect_exempt
            .iter()
            .map(|pattern| {
                Regex::new(pattern).map_err(|e| {
                    settings.invalid(
                        "SECURE_REDIRECT_EXEMPT",
                        format!("{pattern:?} is not a valid regular expression: {e}"),
                        "use the Rust regex syntax (no look-around or back-references)",
                    )
                })
            })
            .collect::<Result<_, _>>()?;
        let ssl_host = match &declared.ssl_host {
            Some(host) => host.string_or_off(settings, "SECURE_SSL_HOST")?,
            None => None,
        };
        Ok(SecurityConfig {
            hsts_seconds: declared.hsts_seconds,
            hsts_include_subdomains: declared.hsts_include_subdomains,
            hsts_preload: declared.hsts_preload,
            content_type_nosniff: declared.content_type_nosniff,
            ssl_redirect: declared.ssl_redirect,
            ssl_host: ssl_host.filter(|s| !s.is_empty()).map(str::to_owned),
            redirect_exempt,
            referrer_policy,
            cross_origin_opener_policy: coop,
        })
    }

    /// The `Strict-Transport-Security` value, or `None` when HSTS is off.
    fn hsts_value(&self) -> Option<HeaderValue> {
        if self.hsts_seconds == 0 {
            return None;
        }
        let mut value = format!("max-age={}", self.hsts_seconds);
        if self.hsts_include_subdomains {
            value.push_str("; includeSubDomains");
        }
        if self.hsts_preload {
            value.push_str("; preload");
        }
        HeaderValue::from_str(&value).ok()
    }
}

/// Django's `SecurityMiddleware` (hook style, as Django's is a `MiddlewareMixin`: the headers
/// are added to its own SSL redirect too).
#[derive(Debug)]
pub struct SecurityMiddleware {
    config: Arc<SecurityConfig>,
    hsts: Option<HeaderValue>,
}

impl SecurityMiddleware {
    /// A middleware with `config`.
    pub fn new(config: SecurityConfig) -> Self {
        let hsts = config.hsts_value();
        SecurityMiddleware {
            config: Arc::new(config),
            hsts,
        }
    }

    /// The configuration in use.
    pub fn config(&self) -> &SecurityConfig {
        &self.config
    }
}

impl SecurityMiddleware {
    fn ssl_redirect(&self, request: &Request) -> Result<Option<Response>, Error> {
        if !self.config.ssl_redirect || request.is_secure() {
            return Ok(None);
        }
        let path = request.path_info();
        let path = path.trim_start_matches('/');
        if self.config.redirect_exempt.iter().any(|r| r.is_match(path)) {
            return Ok(None);
        }
        let host = match &self.config.ssl_host {
            Some(host) => host.clone(),
            None => request.get_host()?,
        };
        Ok(Some(permanent_redirect(&format!(
            "https://{host}{}",
            request.full_path()
        ))))
    }
}

impl Hooks for SecurityMiddleware {
    fn process_request<'a>(
        &'a self,
        request: &'a mut Request,
    ) -> Hook<'a, Result<Option<Response>, Error>> {
        Hook::Ready(self.ssl_redirect(request))
    }

    fn process_response<'a>(
        &'a self,
        request: &'a mut Request,
        response: &'a mut Response,
    ) -> Hook<'a, Result<(), Error>> {
        let headers = response.headers_mut();
        if let Some(hsts) = &self.hsts {
            if request.is_secure() {
                headers
                    .entry(http::header::STRICT_TRANSPORT_SECURITY)
                    .or_insert_with(|| hsts.clone());
            }
        }
        if self.config.content_type_nosniff {
            headers
                .entry(http::header::X_CONTENT_TYPE_OPTIONS)
                .or_insert_with(|| HeaderValue::from_static("nosniff"));
        }
        if let Some(policy) = &self.config.referrer_policy {
            headers
                .entry(http::header::REFERRER_POLICY)
                .or_insert_with(|| policy.clone());
        }
        if let Some(coop) = &self.config.cross_origin_opener_policy {
            headers
                .entry(CROSS_ORIGIN_OPENER_POLICY)
                .or_insert_with(|| coop.clone());
        }
        Hook::Ready(Ok(()))
    }
}

/// Registers `SecurityMiddleware` under its Rust name and Django's dotted path.
pub fn register(registry: &mut Registry) {
    registry
        .register_ready_hooks("SecurityMiddleware", |ctx| {
            Ok(SecurityMiddleware::new(SecurityConfig::from_settings(
                ctx.settings,
            )?))
        })
        .alias("django.middleware.security.SecurityMiddleware")
        .declares::<SecuritySettings>();
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::policy_test_support::{chain_with, client, Views};
    use http::{HeaderMap, Method};
    use middleware_core::Body;

    const MW: &str = "MIDDLEWARE = [\"SecurityMiddleware\"]\n";

    /// A GET through a chain of SecurityMiddleware whose view answers with `headers`.
    async fn response(
        conf: &str,
        secure: bool,
        headers: &[(&'static str, &'static str)],
    ) -> HeaderMap {
        let views = Views::new().respond_with_headers(headers);
        let chain = chain_with(&format!("{MW}{conf}"), views.router());
        let mut c = client(chain).secure(secure);
        c.get("/some/url").await.headers
    }

    async fn request(conf: &str, path: &str, secure: bool) -> (u16, Option<String>) {
        let chain = chain_with(&format!("{MW}{conf}"), Views::new().router());
        let mut c = client(chain).secure(secure);
        let r = c.request(Method::GET, path, &[], Body::empty()).await;
        (r.status.as_u16(), r.header("location").map(str::to_owned))
    }

    // Django: tests/middleware/test_security.py::SecurityMiddlewareTest::test_sts_on
    #[tokio::test]
    async fn test_sts_on() {
        let h = response("SECURE_HSTS_SECONDS = 3600", true, &[]).await;
        assert_eq!(h["strict-transport-security"], "max-age=3600");
    }

    // Django: tests/middleware/test_security.py::SecurityMiddlewareTest::test_sts_already_present
    #[tokio::test]
    async fn test_sts_already_present() {
        let h = response(
            "SECURE_HSTS_SECONDS = 3600",
            true,
            &[("strict-transport-security", "max-age=7200")],
        )
        .await;
        assert_eq!(h["strict-transport-security"], "max-age=7200");
    }

    // Django: tests/middleware/test_security.py::SecurityMiddlewareTest::test_sts_only_if_secure
    #[tokio::test]
    async fn test_sts_only_if_secure() {
        let h = response("SECURE_HSTS_SECONDS = 3600", false, &[]).await;
        assert!(!h.contains_key("strict-transport-security"));
    }

    // Django: tests/middleware/test_security.py::SecurityMiddlewareTest::test_sts_off
    #[tokio::test]
    async fn test_sts_off() {
        let h = response("SECURE_HSTS_SECONDS = 0", true, &[]).await;
        assert!(!h.contains_key("strict-transport-security"));
    }

    // Django: tests/middleware/test_security.py::SecurityMiddlewareTest::test_sts_include_subdomains
    #[tokio::test]
    async fn test_sts_include_subdomains() {
        let h = response(
            "SECURE_HSTS_SECONDS = 600\nSECURE_HSTS_INCLUDE_SUBDOMAINS = true",
            true,
            &[],
        )
        .await;
        assert_eq!(
            h["strict-transport-security"],
            "max-age=600; includeSubDomains"
        );
    }

    // Django: tests/middleware/test_security.py::SecurityMiddlewareTest::test_sts_no_include_subdomains
    #[tokio::test]
    async fn test_sts_no_include_subdomains() {
        let h = response(
            "SECURE_HSTS_SECONDS = 600\nSECURE_HSTS_INCLUDE_SUBDOMAINS = false",
            true,
            &[],
        )
        .await;
        assert_eq!(h["strict-transport-security"], "max-age=600");
    }

    // Django: tests/middleware/test_security.py::SecurityMiddlewareTest::test_sts_preload
    #[tokio::test]
    async fn test_sts_preload() {
        let h = response(
            "SECURE_HSTS_SECONDS = 10886400\nSECURE_HSTS_PRELOAD = true",
            true,
            &[],
        )
        .await;
        assert_eq!(h["strict-transport-security"], "max-age=10886400; preload");
    }

    // Django: tests/middleware/test_security.py::SecurityMiddlewareTest::test_sts_subdomains_and_preload
    #[tokio::test]
    async fn test_sts_subdomains_and_preload() {
        let h = response(
            "SECURE_HSTS_SECONDS = 10886400\nSECURE_HSTS_INCLUDE_SUBDOMAINS = true\nSECURE_HSTS_PRELOAD = true",
            true,
            &[],
        )
        .await;
        assert_eq!(
            h["strict-transport-security"],
            "max-age=10886400; includeSubDomains; preload"
        );
    }

    // Django: tests/middleware/test_security.py::SecurityMiddlewareTest::test_sts_no_preload
    #[tokio::test]
    async fn test_sts_no_preload() {
        let h = response(
            "SECURE_HSTS_SECONDS = 10886400\nSECURE_HSTS_PRELOAD = false",
            true,
            &[],
        )
        .await;
        assert_eq!(h["strict-transport-security"], "max-age=10886400");
    }

    // Django: tests/middleware/test_security.py::SecurityMiddlewareTest::test_content_type_on
    #[tokio::test]
    async fn test_content_type_on() {
        let h = response("SECURE_CONTENT_TYPE_NOSNIFF = true", false, &[]).await;
        assert_eq!(h["x-content-type-options"], "nosniff");
    }

    // Django: tests/middleware/test_security.py::SecurityMiddlewareTest::test_content_type_already_present
    #[tokio::test]
    async fn test_content_type_already_present() {
        let h = response(
            "SECURE_CONTENT_TYPE_NOSNIFF = true",
            false,
            &[("x-content-type-options", "foo")],
        )
        .await;
        assert_eq!(h["x-content-type-options"], "foo");
    }

    // Django: tests/middleware/test_security.py::SecurityMiddlewareTest::test_content_type_off
    #[tokio::test]
    async fn test_content_type_off() {
        let h = response("SECURE_CONTENT_TYPE_NOSNIFF = false", false, &[]).await;
        assert!(!h.contains_key("x-content-type-options"));
    }

    // Django: tests/middleware/test_security.py::SecurityMiddlewareTest::test_ssl_redirect_on
    #[tokio::test]
    async fn test_ssl_redirect_on() {
        let (status, location) = request(
            "SECURE_SSL_REDIRECT = true",
            "/some/url?query=string",
            false,
        )
        .await;
        assert_eq!(status, 301);
        assert_eq!(
            location.as_deref(),
            Some("https://testserver/some/url?query=string")
        );
    }

    // Django: tests/middleware/test_security.py::SecurityMiddlewareTest::test_no_redirect_ssl
    #[tokio::test]
    async fn test_no_redirect_ssl() {
        let (status, location) = request("SECURE_SSL_REDIRECT = true", "/some/url", true).await;
        assert_eq!((status, location), (200, None));
    }

    // Django: tests/middleware/test_security.py::SecurityMiddlewareTest::test_redirect_exempt
    #[tokio::test]
    async fn test_redirect_exempt() {
        let conf = "SECURE_SSL_REDIRECT = true\nSECURE_REDIRECT_EXEMPT = [\"^insecure/\"]";
        assert_eq!(request(conf, "/insecure/page", false).await, (200, None));
        // Not exempt: the regex is anchored at the start of the path without its '/'.
        assert_eq!(request(conf, "/secure/insecure/", false).await.0, 301);
    }

    // Django: tests/middleware/test_security.py::SecurityMiddlewareTest::test_redirect_ssl_host
    #[tokio::test]
    async fn test_redirect_ssl_host() {
        let (status, location) = request(
            "SECURE_SSL_REDIRECT = true\nSECURE_SSL_HOST = \"secure.example.com\"",
            "/some/url",
            false,
        )
        .await;
        assert_eq!(status, 301);
        assert_eq!(
            location.as_deref(),
            Some("https://secure.example.com/some/url")
        );
    }

    // Django: tests/middleware/test_security.py::SecurityMiddlewareTest::test_ssl_redirect_off
    #[tokio::test]
    async fn test_ssl_redirect_off() {
        assert_eq!(
            request("SECURE_SSL_REDIRECT = false", "/some/url", false).await,
            (200, None)
        );
    }

    // Django: tests/middleware/test_security.py::SecurityMiddlewareTest::test_referrer_policy_off
    #[tokio::test]
    async fn test_referrer_policy_off() {
        let h = response("SECURE_REFERRER_POLICY = false", false, &[]).await;
        assert!(!h.contains_key("referrer-policy"));
    }

    // Django: tests/middleware/test_security.py::SecurityMiddlewareTest::test_referrer_policy_on
    #[tokio::test]
    async fn test_referrer_policy_on() {
        // Django's tuple case is the same TOML list as its list case.
        let cases = [
            ("\"strict-origin\"", "strict-origin"),
            ("\"strict-origin,origin\"", "strict-origin,origin"),
            ("\"strict-origin, origin\"", "strict-origin,origin"),
            ("[\"strict-origin\", \"origin\"]", "strict-origin,origin"),
        ];
        for (value, expected) in cases {
            let h = response(&format!("SECURE_REFERRER_POLICY = {value}"), false, &[]).await;
            assert_eq!(h["referrer-policy"], expected, "{value}");
        }
    }

    // Django: tests/middleware/test_security.py::SecurityMiddlewareTest::test_referrer_policy_already_present
    #[tokio::test]
    async fn test_referrer_policy_already_present() {
        let h = response(
            "SECURE_REFERRER_POLICY = \"strict-origin\"",
            false,
            &[("referrer-policy", "unsafe-url")],
        )
        .await;
        assert_eq!(h["referrer-policy"], "unsafe-url");
    }

    // Django: tests/middleware/test_security.py::SecurityMiddlewareTest::test_coop_off
    #[tokio::test]
    async fn test_coop_off() {
        let h = response("SECURE_CROSS_ORIGIN_OPENER_POLICY = false", false, &[]).await;
        assert!(!h.contains_key("cross-origin-opener-policy"));
    }

    // Django: tests/middleware/test_security.py::SecurityMiddlewareTest::test_coop_default
    #[tokio::test]
    async fn test_coop_default() {
        let h = response("", false, &[]).await;
        assert_eq!(h["cross-origin-opener-policy"], "same-origin");
        // The Referrer-Policy default is same-origin too.
        assert_eq!(h["referrer-policy"], "same-origin");
    }

    // Django: tests/middleware/test_security.py::SecurityMiddlewareTest::test_coop_on
    #[tokio::test]
    async fn test_coop_on() {
        for value in ["same-origin", "same-origin-allow-popups", "unsafe-none"] {
            let conf = format!("SECURE_CROSS_ORIGIN_OPENER_POLICY = \"{value}\"");
            let h = response(&conf, false, &[]).await;
            assert_eq!(h["cross-origin-opener-policy"], value);
        }
    }

    // Django: tests/middleware/test_security.py::SecurityMiddlewareTest::test_coop_already_present
    #[tokio::test]
    async fn test_coop_already_present() {
        let h = response(
            "SECURE_CROSS_ORIGIN_OPENER_POLICY = \"unsafe-none\"",
            false,
            &[("cross-origin-opener-policy", "same-origin")],
        )
        .await;
        assert_eq!(h["cross-origin-opener-policy"], "same-origin");
    }

    // Django's MiddlewareMixin runs process_response on the redirect made by process_request.
    #[tokio::test]
    async fn ssl_redirect_carries_the_security_headers_but_not_hsts() {
        let chain = chain_with(
            &format!("{MW}SECURE_SSL_REDIRECT = true\nSECURE_HSTS_SECONDS = 60"),
            Views::new().router(),
        );
        let r = client(chain).get("/x").await;
        assert_eq!(r.status, 301);
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(r.header("referrer-policy"), Some("same-origin"));
        assert!(r.header("strict-transport-security").is_none());
    }

    #[tokio::test]
    async fn proxy_ssl_header_makes_the_request_secure() {
        let conf = format!(
            "{MW}SECURE_SSL_REDIRECT = true\nSECURE_HSTS_SECONDS = 60\nSECURE_PROXY_SSL_HEADER = [\"HTTP_X_FORWARDED_PROTO\", \"https\"]"
        );
        let chain = chain_with(&conf, Views::new().router());
        let mut c = client(chain);
        let r = c
            .request(
                Method::GET,
                "/x",
                &[("x-forwarded-proto", "https")],
                Body::empty(),
            )
            .await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("strict-transport-security"), Some("max-age=60"));
    }

    #[test]
    fn bad_settings_are_start_up_errors_naming_the_key() {
        for (conf, key) in [
            (
                "SECURE_REDIRECT_EXEMPT = [\"(unclosed\"]",
                "SECURE_REDIRECT_EXEMPT",
            ),
            ("SECURE_REFERRER_POLICY = true", "SECURE_REFERRER_POLICY"),
            ("SECURE_REFERRER_POLICY = 3", "SECURE_REFERRER_POLICY"),
            (
                "SECURE_CROSS_ORIGIN_OPENER_POLICY = [\"a\"]",
                "SECURE_CROSS_ORIGIN_OPENER_POLICY",
            ),
            (
                "SECURE_CROSS_ORIGIN_OPENER_POLICY = \"bad\\nvalue\"",
                "SECURE_CROSS_ORIGIN_OPENER_POLICY",
            ),
            ("SECURE_HSTS_SECONDS = -1", "SECURE_HSTS_SECONDS"),
            ("SECURE_SSL_HOST = 5", "SECURE_SSL_HOST"),
        ] {
            let settings = Settings::from_toml_str(conf, "t").unwrap();
            let err = SecurityConfig::from_settings(&settings).unwrap_err();
            assert!(err.to_string().contains(key), "{conf}: {err}");
        }
    }

    /// The SSL redirect's status and Location for a plain-HTTP GET of `/some/url` with `host`,
    /// under `ALLOWED_HOSTS` that allow every well-formed host below.
    async fn redirect_for_host(host: &str) -> (u16, Option<String>) {
        let conf = "ALLOWED_HOSTS = [\".example.com\", \"[::1]\", \"testserver\"]\n\
                    SECURE_SSL_REDIRECT = true";
        let chain = chain_with(&format!("{MW}{conf}"), Views::new().router());
        let mut c = client(chain);
        let r = c
            .request(Method::GET, "/some/url", &[("host", host)], Body::empty())
            .await;
        (r.status.as_u16(), r.header("location").map(str::to_owned))
    }

    // Absurd Host headers. Django redirects to `"https://%s%s" % (request.get_host(), path)`:
    // get_host validates a lower-cased copy without port or trailing dot but returns the header
    // as sent, so case, port and trailing dot survive; anything get_host refuses
    // (DisallowedHost) is a 400, never a redirect to that host.
    #[tokio::test]
    async fn ssl_redirect_with_absurd_hosts() {
        for (host, location) in [
            ("WWW.Example.COM", "https://WWW.Example.COM/some/url"),
            (
                "www.example.com:8443",
                "https://www.example.com:8443/some/url",
            ),
            ("www.example.com.", "https://www.example.com./some/url"),
            ("[::1]:8000", "https://[::1]:8000/some/url"),
            ("[::1]", "https://[::1]/some/url"),
            // Django's host pattern has no bound on the port's digits.
            (
                "a.example.com:99999999999999999999",
                "https://a.example.com:99999999999999999999/some/url",
            ),
        ] {
            assert_eq!(
                redirect_for_host(host).await,
                (301, Some(location.to_owned())),
                "{host}"
            );
        }
        // A 10 000-label subdomain of an allowed wildcard is still a valid, allowed host.
        let long = format!("{}example.com", "a.".repeat(10_000));
        let (status, location) = redirect_for_host(&long).await;
        assert_eq!(status, 301);
        assert_eq!(location, Some(format!("https://{long}/some/url")));
        for host in [
            "evil.com",
            "example.com.evil.com",
            "[::2]",
            "[::1",
            "::1",
            "www.example.com:80:80",
            "www.example.com:",
            "www.example.com:http",
            "www.exa mple.com",
            "www.example.com/evil",
            "www.example.com@evil.com",
            "user@www.example.com",
            "www.ex\u{e4}mple.com",
            "..",
            "",
        ] {
            assert_eq!(redirect_for_host(host).await, (400, None), "{host:?}");
        }
        let too_long_for_any = format!("{}.evil.com", "a".repeat(100_000));
        assert_eq!(redirect_for_host(&too_long_for_any).await, (400, None));
    }

    // A secure request never reads the host, so a bad one does not matter to this middleware
    // (nothing else in this chain validates it either).
    #[tokio::test]
    async fn secure_request_ignores_a_bad_host() {
        let chain = chain_with(
            &format!("{MW}SECURE_SSL_REDIRECT = true"),
            Views::new().router(),
        );
        let mut c = client(chain).secure(true);
        let r = c
            .request(
                Method::GET,
                "/some/url",
                &[("host", "evil.com")],
                Body::empty(),
            )
            .await;
        assert_eq!(r.status, 200);
    }
}
