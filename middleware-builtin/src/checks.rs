//! System checks for the security, common, clickjacking and CSP middleware.
//!
//! Django's deploy checks (`manage.py check --deploy`) with Django's IDs and messages
//! (`security.W001` ... `security.W025`), the always-on CSP check `security.E026`, and order
//! checks Django does not have (`middleware_order.W001` ...).
//!
//! ```
//! use middleware_core::{Registry, Settings};
//!
//! let mut registry = Registry::new();
//! middleware_builtin::security::register(&mut registry);
//! middleware_builtin::checks::register(&mut registry);
//! let settings = Settings::from_toml_str("DEBUG = true", "t").unwrap();
//! let ids: Vec<String> = registry.run_checks(&settings, true).into_iter().map(|m| m.id).collect();
//! assert!(ids.contains(&"security.W001".to_owned()));
//! assert!(ids.contains(&"security.W018".to_owned()));
//! ```
//!
//! Differences from Django: middleware are recognised under any registered name (Rust name or
//! dotted path), where Django compares the exact dotted string.

use middleware_core::checks::{CheckContext, CheckMessage};
use middleware_core::declared::Checked;
use middleware_core::Registry;

use crate::clickjacking::XFrameSettings;
use crate::csp::{check_policy, CspSettings};
use crate::security::{SecuritySettings, StringsOrOff};

const SECURITY: &str = "SecurityMiddleware";
const XFRAME: &str = "XFrameOptionsMiddleware";

/// Django's `REFERRER_POLICY_VALUES`.
pub const REFERRER_POLICY_VALUES: &[&str] = &[
    "no-referrer",
    "no-referrer-when-downgrade",
    "origin",
    "origin-when-cross-origin",
    "same-origin",
    "strict-origin",
    "strict-origin-when-cross-origin",
    "unsafe-url",
];

/// Django's `CROSS_ORIGIN_OPENER_POLICY_VALUES`.
pub const CROSS_ORIGIN_OPENER_POLICY_VALUES: &[&str] =
    &["same-origin", "same-origin-allow-popups", "unsafe-none"];

const SECRET_KEY_INSECURE_PREFIX: &str = "django-insecure-";
const SECRET_KEY_MIN_LENGTH: usize = 50;
const SECRET_KEY_MIN_UNIQUE_CHARACTERS: usize = 5;

fn secret_key_warning(name: &str) -> String {
    format!(
        "Your {name} has less than {SECRET_KEY_MIN_LENGTH} characters, less than \
         {SECRET_KEY_MIN_UNIQUE_CHARACTERS} unique characters, or it's prefixed with \
         '{SECRET_KEY_INSECURE_PREFIX}' indicating that it was generated automatically by \
         Django. Please generate a long and random value, otherwise many of Django's \
         security-critical features will be vulnerable to attack."
    )
}

/// Django's `_check_secret_key`: long, varied and not Django's generated development key.
fn strong_secret_key(key: &str) -> bool {
    let unique: std::collections::HashSet<char> = key.chars().collect();
    unique.len() >= SECRET_KEY_MIN_UNIQUE_CHARACTERS
        && key.chars().count() >= SECRET_KEY_MIN_LENGTH
        && !key.starts_with(SECRET_KEY_INSECURE_PREFIX)
}

fn warn(id: &str, msg: &str) -> Vec<CheckMessage> {
    vec![CheckMessage::warning(id, msg, None)]
}

/// `SecurityMiddleware`'s settings when it is listed (a value of the wrong type reads as the
/// default: it is reported when the chain is built, so each check only reports its own
/// concern).
fn security(ctx: &CheckContext<'_>) -> Option<Checked<SecuritySettings>> {
    if !ctx.has_middleware(SECURITY) {
        return None;
    }
    SecuritySettings::for_checks(ctx.settings).ok()
}

/// `security.W001`.
pub fn check_security_middleware(ctx: &CheckContext<'_>) -> Vec<CheckMessage> {
    if ctx.has_middleware(SECURITY) {
        return vec![];
    }
    warn(
        "security.W001",
        "You do not have 'django.middleware.security.SecurityMiddleware' in your MIDDLEWARE so \
         the SECURE_HSTS_SECONDS, SECURE_CONTENT_TYPE_NOSNIFF, SECURE_REFERRER_POLICY, \
         SECURE_CROSS_ORIGIN_OPENER_POLICY, and SECURE_SSL_REDIRECT settings will have no effect.",
    )
}

/// `security.W002`.
pub fn check_xframe_options_middleware(ctx: &CheckContext<'_>) -> Vec<CheckMessage> {
    if ctx.has_middleware(XFRAME) {
        return vec![];
    }
    warn(
        "security.W002",
        "You do not have 'django.middleware.clickjacking.XFrameOptionsMiddleware' in your \
         MIDDLEWARE, so your pages will not be served with an 'x-frame-options' header. Unless \
         there is a good reason for your site to be served in a frame, you should consider \
         enabling this header to help prevent clickjacking attacks.",
    )
}

/// `security.W004`.
pub fn check_sts(ctx: &CheckContext<'_>) -> Vec<CheckMessage> {
    if security(ctx).is_none_or(|s| s.hsts_seconds > 0) {
        return vec![];
    }
    warn(
        "security.W004",
        "You have not set a value for the SECURE_HSTS_SECONDS setting. If your entire site is \
         served only over SSL, you may want to consider setting a value and enabling HTTP Strict \
         Transport Security. Be sure to read the documentation first; enabling HSTS carelessly \
         can cause serious, irreversible problems.",
    )
}

/// `security.W005`.
pub fn check_sts_include_subdomains(ctx: &CheckContext<'_>) -> Vec<CheckMessage> {
    if security(ctx).is_none_or(|s| s.hsts_seconds == 0 || s.hsts_include_subdomains) {
        return vec![];
    }
    warn(
        "security.W005",
        "You have not set the SECURE_HSTS_INCLUDE_SUBDOMAINS setting to True. Without this, your \
         site is potentially vulnerable to attack via an insecure connection to a subdomain. \
         Only set this to True if you are certain that all subdomains of your domain should be \
         served exclusively via SSL.",
    )
}

/// `security.W021`.
pub fn check_sts_preload(ctx: &CheckContext<'_>) -> Vec<CheckMessage> {
    if security(ctx).is_none_or(|s| s.hsts_seconds == 0 || s.hsts_preload) {
        return vec![];
    }
    warn(
        "security.W021",
        "You have not set the SECURE_HSTS_PRELOAD setting to True. Without this, your site \
         cannot be submitted to the browser preload list.",
    )
}

/// `security.W006`.
pub fn check_content_type_nosniff(ctx: &CheckContext<'_>) -> Vec<CheckMessage> {
    if security(ctx).is_none_or(|s| s.content_type_nosniff) {
        return vec![];
    }
    warn(
        "security.W006",
        "Your SECURE_CONTENT_TYPE_NOSNIFF setting is not set to True, so your pages will not be \
         served with an 'X-Content-Type-Options: nosniff' header. You should consider enabling \
         this header to prevent the browser from identifying content types incorrectly.",
    )
}

/// `security.W008`.
pub fn check_ssl_redirect(ctx: &CheckContext<'_>) -> Vec<CheckMessage> {
    if security(ctx).is_none_or(|s| s.ssl_redirect) {
        return vec![];
    }
    warn(
        "security.W008",
        "Your SECURE_SSL_REDIRECT setting is not set to True. Unless your site should be \
         available over both SSL and non-SSL connections, you may want to either set this \
         setting True or configure a load balancer or reverse-proxy server to redirect all \
         connections to HTTPS.",
    )
}

/// `security.W009`.
pub fn check_secret_key(ctx: &CheckContext<'_>) -> Vec<CheckMessage> {
    if strong_secret_key(ctx.settings.core().secret_key.expose()) {
        return vec![];
    }
    warn("security.W009", &secret_key_warning("SECRET_KEY"))
}

/// `security.W025`, once per weak entry.
pub fn check_secret_key_fallbacks(ctx: &CheckContext<'_>) -> Vec<CheckMessage> {
    ctx.settings
        .core()
        .secret_key_fallbacks
        .iter()
        .enumerate()
        .filter(|(_, key)| !strong_secret_key(key.expose()))
        .map(|(i, _)| {
            CheckMessage::warning(
                "security.W025",
                secret_key_warning(&format!("SECRET_KEY_FALLBACKS[{i}]")),
                None,
            )
        })
        .collect()
}

/// `security.W018`.
pub fn check_debug(ctx: &CheckContext<'_>) -> Vec<CheckMessage> {
    if !ctx.settings.core().debug {
        return vec![];
    }
    warn(
        "security.W018",
        "You should not have DEBUG set to True in deployment.",
    )
}

/// `security.W019`: compared exactly with `DENY`, as Django does (so `deny` warns too).
pub fn check_xframe_deny(ctx: &CheckContext<'_>) -> Vec<CheckMessage> {
    if !ctx.has_middleware(XFRAME)
        || XFrameSettings::for_checks(ctx.settings).is_ok_and(|s| s.x_frame_options == "DENY")
    {
        return vec![];
    }
    warn(
        "security.W019",
        "You have 'django.middleware.clickjacking.XFrameOptionsMiddleware' in your MIDDLEWARE, \
         but X_FRAME_OPTIONS is not set to 'DENY'. Unless there is a good reason for your site to \
         serve other parts of itself in a frame, you should change it to 'DENY'.",
    )
}

/// `security.W020`.
pub fn check_allowed_hosts(ctx: &CheckContext<'_>) -> Vec<CheckMessage> {
    if !ctx.settings.core().allowed_hosts.is_empty() {
        return vec![];
    }
    warn(
        "security.W020",
        "ALLOWED_HOSTS must not be empty in deployment.",
    )
}

/// `security.W022` (policy `false`, Django's `None`) and `security.E023` (unknown value).
pub fn check_referrer_policy(ctx: &CheckContext<'_>) -> Vec<CheckMessage> {
    let Some(settings) = security(ctx) else {
        return vec![];
    };
    // A value of the wrong type is invalid as well.
    let policy = if settings.is_invalid("SECURE_REFERRER_POLICY") {
        Err(())
    } else {
        settings
            .referrer_policy
            .referrer_policy(ctx.settings)
            .map_err(|_| ())
    };
    let values: Vec<String> = match policy {
        Ok(None) => {
            return warn(
                "security.W022",
                "You have not set the SECURE_REFERRER_POLICY setting. Without this, your site \
                 will not send a Referrer-Policy header. You should consider enabling this header \
                 to protect user privacy.",
            )
        }
        Ok(Some(StringsOrOff::One(s))) => s.split(',').map(|v| v.trim().to_owned()).collect(),
        Ok(Some(StringsOrOff::Many(list))) => list.clone(),
        // A value of the wrong type is invalid as well.
        Ok(Some(StringsOrOff::Bool(_))) | Err(_) => vec![String::new()],
    };
    if values
        .iter()
        .all(|v| REFERRER_POLICY_VALUES.contains(&v.as_str()))
    {
        return vec![];
    }
    let mut sorted = REFERRER_POLICY_VALUES.to_vec();
    sorted.sort_unstable();
    vec![CheckMessage::error(
        "security.E023",
        "You have set the SECURE_REFERRER_POLICY setting to an invalid value.",
        Some(&format!("Valid values are: {}.", sorted.join(", "))),
    )]
}

/// `security.E024`.
pub fn check_cross_origin_opener_policy(ctx: &CheckContext<'_>) -> Vec<CheckMessage> {
    let Some(settings) = security(ctx) else {
        return vec![];
    };
    let key = "SECURE_CROSS_ORIGIN_OPENER_POLICY";
    let valid = !settings.is_invalid(key)
        && match settings
            .cross_origin_opener_policy
            .string_or_off(ctx.settings, key)
        {
            Ok(None) => true,
            Ok(Some(v)) => CROSS_ORIGIN_OPENER_POLICY_VALUES.contains(&v),
            Err(_) => false,
        };
    if valid {
        return vec![];
    }
    vec![CheckMessage::error(
        "security.E024",
        "You have set the SECURE_CROSS_ORIGIN_OPENER_POLICY setting to an invalid value.",
        Some(&format!(
            "Valid values are: {}.",
            CROSS_ORIGIN_OPENER_POLICY_VALUES.join(", ")
        )),
    )]
}

/// `security.E026`: an enabled CSP setting must be a table (Django: a dictionary).
pub fn check_csp_settings(ctx: &CheckContext<'_>) -> Vec<CheckMessage> {
    let Ok(csp) = CspSettings::for_checks(ctx.settings) else {
        return vec![];
    };
    [
        ("SECURE_CSP", &csp.policy),
        ("SECURE_CSP_REPORT_ONLY", &csp.report_only),
    ]
    .into_iter()
    .filter(|(key, policy)| csp.is_invalid(key) || check_policy(ctx.settings, key, policy).is_err())
    .map(|_| {
        CheckMessage::error(
            "security.E026",
            "Each enabled CSP setting (SECURE_CSP, SECURE_CSP_REPORT_ONLY) must be a dictionary.",
            None,
        )
    })
    .take(1)
    .collect()
}

/// `middleware_order.W001`: SecurityMiddleware should be first in `MIDDLEWARE`, so the SSL
/// redirect happens before any other work and every response gets its headers.
pub fn check_security_first(ctx: &CheckContext<'_>) -> Vec<CheckMessage> {
    match ctx.middleware_index(SECURITY) {
        Some(i) if i > 0 => vec![CheckMessage::warning(
            "middleware_order.W001",
            format!(
                "SecurityMiddleware is at MIDDLEWARE[{i}]; the middleware above it answer without \
                 the security headers and before the SSL redirect."
            ),
            Some("Move 'django.middleware.security.SecurityMiddleware' to the top of MIDDLEWARE."),
        )],
        _ => vec![],
    }
}

/// `middleware_order.W002`: XFrameOptionsMiddleware or ContentSecurityPolicyMiddleware listed
/// above SecurityMiddleware: they would run for requests about to be SSL-redirected, and
/// Django's documented order puts SecurityMiddleware first.
pub fn check_header_middleware_below_security(ctx: &CheckContext<'_>) -> Vec<CheckMessage> {
    let Some(security) = ctx.middleware_index(SECURITY) else {
        return vec![];
    };
    [XFRAME, "ContentSecurityPolicyMiddleware"]
        .iter()
        .filter_map(|name| ctx.middleware_index(name).map(|i| (name, i)))
        .filter(|(_, i)| *i < security)
        .map(|(name, i)| {
            CheckMessage::warning(
                "middleware_order.W002",
                format!("{name} (MIDDLEWARE[{i}]) is listed above SecurityMiddleware (MIDDLEWARE[{security}])."),
                Some("List SecurityMiddleware first, as in Django's default MIDDLEWARE."),
            )
        })
        .collect()
}

/// Registers every check of this module (deploy checks only run with `check --deploy`).
pub fn register(registry: &mut Registry) {
    let deploy: [fn(&CheckContext<'_>) -> Vec<CheckMessage>; 15] = [
        check_security_middleware,
        check_xframe_options_middleware,
        check_sts,
        check_sts_include_subdomains,
        check_sts_preload,
        check_content_type_nosniff,
        check_ssl_redirect,
        check_secret_key,
        check_secret_key_fallbacks,
        check_debug,
        check_xframe_deny,
        check_allowed_hosts,
        check_referrer_policy,
        check_cross_origin_opener_policy,
        check_header_middleware_below_security,
    ];
    for check in deploy {
        registry.add_check(true, check);
    }
    registry.add_check(false, check_csp_settings);
    registry.add_check(false, check_security_first);
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use middleware_core::Settings;

    const WITH_SECURITY: &str =
        "MIDDLEWARE = [\"django.middleware.security.SecurityMiddleware\"]\n";
    const GOOD_KEY: &str =
        "SECRET_KEY = \"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRS\"\n";

    fn ids(conf: &str, deploy: bool) -> Vec<String> {
        let registry = crate::policy_test_support::registry();
        let settings = Settings::from_toml_str(conf, "t").unwrap();
        registry
            .run_checks(&settings, deploy)
            .into_iter()
            .map(|m| m.id)
            .collect()
    }

    fn has(conf: &str, id: &str) -> bool {
        ids(conf, true).iter().any(|i| i == id)
    }

    fn count(conf: &str, id: &str) -> usize {
        ids(conf, true).iter().filter(|i| *i == id).count()
    }

    // Django: tests/check_framework/test_security.py::CheckSecurityMiddlewareTest::test_no_security_middleware
    // and ::test_with_security_middleware
    #[test]
    fn test_security_middleware() {
        assert!(has("MIDDLEWARE = []", "security.W001"));
        assert!(!has(WITH_SECURITY, "security.W001"));
        // Recognised under its Rust name too.
        assert!(!has(
            "MIDDLEWARE = [\"SecurityMiddleware\"]",
            "security.W001"
        ));
    }

    // Django: CheckStrictTransportSecurityTest::test_no_sts, ::test_no_sts_no_middleware, ::test_with_sts
    #[test]
    fn test_sts() {
        assert!(has(WITH_SECURITY, "security.W004"));
        assert!(!has("MIDDLEWARE = []", "security.W004"));
        assert!(!has(
            &format!("{WITH_SECURITY}SECURE_HSTS_SECONDS = 3600"),
            "security.W004"
        ));
    }

    // Django: CheckStrictTransportSecuritySubdomainsTest (4 tests)
    #[test]
    fn test_sts_subdomains() {
        let on = "SECURE_HSTS_SECONDS = 3600\n";
        assert!(has(
            &format!("{WITH_SECURITY}{on}SECURE_HSTS_INCLUDE_SUBDOMAINS = false"),
            "security.W005"
        ));
        assert!(!has(&format!("MIDDLEWARE = []\n{on}"), "security.W005"));
        assert!(!has(WITH_SECURITY, "security.W005"));
        assert!(!has(
            &format!("{WITH_SECURITY}{on}SECURE_HSTS_INCLUDE_SUBDOMAINS = true"),
            "security.W005"
        ));
    }

    // Django: CheckStrictTransportSecurityPreloadTest (4 tests)
    #[test]
    fn test_sts_preload() {
        let on = "SECURE_HSTS_SECONDS = 3600\n";
        assert!(has(&format!("{WITH_SECURITY}{on}"), "security.W021"));
        assert!(!has(&format!("MIDDLEWARE = []\n{on}"), "security.W021"));
        assert!(!has(WITH_SECURITY, "security.W021"));
        assert!(!has(
            &format!("{WITH_SECURITY}{on}SECURE_HSTS_PRELOAD = true"),
            "security.W021"
        ));
    }

    // Django: CheckXFrameOptionsMiddlewareTest::test_middleware_not_installed, ::test_middleware_installed
    #[test]
    fn test_xframe_middleware() {
        assert!(has("MIDDLEWARE = []", "security.W002"));
        assert!(!has(
            "MIDDLEWARE = [\"django.middleware.clickjacking.XFrameOptionsMiddleware\"]",
            "security.W002"
        ));
    }

    // Django: CheckXFrameOptionsDenyTest::test_x_frame_options_not_deny, ::test_middleware_not_installed, ::test_xframe_deny
    #[test]
    fn test_xframe_deny() {
        let mw = "MIDDLEWARE = [\"XFrameOptionsMiddleware\"]\n";
        assert!(has(
            &format!("{mw}X_FRAME_OPTIONS = \"SAMEORIGIN\""),
            "security.W019"
        ));
        assert!(!has(
            "MIDDLEWARE = []\nX_FRAME_OPTIONS = \"SAMEORIGIN\"",
            "security.W019"
        ));
        assert!(!has(
            &format!("{mw}X_FRAME_OPTIONS = \"DENY\""),
            "security.W019"
        ));
        assert!(!has(mw, "security.W019"));
    }

    // Django: CheckContentTypeNosniffTest (3 tests)
    #[test]
    fn test_content_type_nosniff() {
        assert!(has(
            &format!("{WITH_SECURITY}SECURE_CONTENT_TYPE_NOSNIFF = false"),
            "security.W006"
        ));
        assert!(!has(
            "MIDDLEWARE = []\nSECURE_CONTENT_TYPE_NOSNIFF = false",
            "security.W006"
        ));
        assert!(!has(WITH_SECURITY, "security.W006"));
    }

    // Django: CheckSSLRedirectTest (3 tests)
    #[test]
    fn test_ssl_redirect() {
        assert!(has(WITH_SECURITY, "security.W008"));
        assert!(!has("MIDDLEWARE = []", "security.W008"));
        assert!(!has(
            &format!("{WITH_SECURITY}SECURE_SSL_REDIRECT = true"),
            "security.W008"
        ));
    }

    // Django: CheckSecretKeyTest (okay, empty, insecure, low length, low entropy)
    #[test]
    fn test_secret_key() {
        assert!(!has(GOOD_KEY, "security.W009"));
        assert!(has("SECRET_KEY = \"\"", "security.W009"));
        let insecure = format!(
            "SECRET_KEY = \"django-insecure-{}\"",
            "abcdefghij".repeat(5)
        );
        assert!(has(&insecure, "security.W009"));
        assert!(has(
            &format!("SECRET_KEY = \"{}\"", "abcdefghij".repeat(4)),
            "security.W009"
        ));
        assert!(has(
            &format!("SECRET_KEY = \"{}\"", "abcd".repeat(20)),
            "security.W009"
        ));
    }

    // Django: CheckSecretKeyFallbacksTest (okay, insecure, low length, low entropy, multiple bad keys)
    #[test]
    fn test_secret_key_fallbacks() {
        let good = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRS";
        assert_eq!(
            count(
                &format!("SECRET_KEY_FALLBACKS = [\"{good}\"]"),
                "security.W025"
            ),
            0
        );
        assert_eq!(count("SECRET_KEY_FALLBACKS = []", "security.W025"), 0);
        let conf =
            format!("SECRET_KEY_FALLBACKS = [\"{good}\", \"short\", \"django-insecure-{good}\"]");
        let registry = crate::policy_test_support::registry();
        let settings = Settings::from_toml_str(&conf, "t").unwrap();
        let msgs: Vec<_> = registry
            .run_checks(&settings, true)
            .into_iter()
            .filter(|m| m.id == "security.W025")
            .collect();
        assert_eq!(msgs.len(), 2);
        assert!(msgs[0]
            .msg
            .starts_with("Your SECRET_KEY_FALLBACKS[1] has less than 50"));
        assert!(msgs[1].msg.starts_with("Your SECRET_KEY_FALLBACKS[2] has"));
        // The key itself is never in the message.
        assert!(!msgs.iter().any(|m| m.msg.contains("short")));
    }

    // Django: CheckDebugTest::test_debug_true, ::test_debug_false
    #[test]
    fn test_debug() {
        assert!(has("DEBUG = true", "security.W018"));
        assert!(!has("DEBUG = false", "security.W018"));
    }

    // Django: CheckAllowedHostsTest::test_allowed_hosts_empty, ::test_allowed_hosts_set
    #[test]
    fn test_allowed_hosts() {
        assert!(has("ALLOWED_HOSTS = []", "security.W020"));
        assert!(!has("ALLOWED_HOSTS = [\".example.org\"]", "security.W020"));
    }

    // Django: CheckReferrerPolicyTest (no policy, no middleware, valid, invalid)
    #[test]
    fn test_referrer_policy() {
        assert!(has(
            &format!("{WITH_SECURITY}SECURE_REFERRER_POLICY = false"),
            "security.W022"
        ));
        assert!(!has(
            "MIDDLEWARE = []\nSECURE_REFERRER_POLICY = false",
            "security.W022"
        ));
        for valid in [
            "\"strict-origin\"",
            "\"strict-origin, origin\"",
            "\"strict-origin,origin\"",
            "[\"strict-origin\", \"origin\"]",
        ] {
            let conf = format!("{WITH_SECURITY}SECURE_REFERRER_POLICY = {valid}");
            assert!(
                !has(&conf, "security.E023") && !has(&conf, "security.W022"),
                "{valid}"
            );
        }
        for invalid in [
            "\"invalid-value\"",
            "\"no-referrer,invalid-value\"",
            "[\"no-referrer\", \"invalid-value\"]",
            "3",
        ] {
            let conf = format!("{WITH_SECURITY}SECURE_REFERRER_POLICY = {invalid}");
            assert!(has(&conf, "security.E023"), "{invalid}");
        }
    }

    // Django: CheckCrossOriginOpenerPolicyTest::test_no_coop, ::test_with_coop, ::test_with_invalid_coop
    #[test]
    fn test_cross_origin_opener_policy() {
        assert!(!has(
            &format!("{WITH_SECURITY}SECURE_CROSS_ORIGIN_OPENER_POLICY = false"),
            "security.E024"
        ));
        for v in CROSS_ORIGIN_OPENER_POLICY_VALUES {
            let conf = format!("{WITH_SECURITY}SECURE_CROSS_ORIGIN_OPENER_POLICY = \"{v}\"");
            assert!(!has(&conf, "security.E024"), "{v}");
        }
        assert!(has(
            &format!("{WITH_SECURITY}SECURE_CROSS_ORIGIN_OPENER_POLICY = \"invalid\""),
            "security.E024"
        ));
        assert!(!has(
            "MIDDLEWARE = []\nSECURE_CROSS_ORIGIN_OPENER_POLICY = \"invalid\"",
            "security.E024"
        ));
    }

    // Django: tests/check_framework/test_security.py CSP checks (settings must be dicts).
    #[test]
    fn test_csp_settings_must_be_tables() {
        assert!(
            ids("SECURE_CSP = \"default-src 'self'\"", false).contains(&"security.E026".to_owned())
        );
        assert!(
            ids("SECURE_CSP_REPORT_ONLY = [\"x\"]", false).contains(&"security.E026".to_owned())
        );
        assert!(!ids(
            "SECURE_CSP = { default-src = \"'self'\" }\nSECURE_CSP_REPORT_ONLY = false",
            false
        )
        .contains(&"security.E026".to_owned()));
    }

    #[test]
    fn order_checks() {
        let conf = "MIDDLEWARE = [\"CommonMiddleware\", \"XFrameOptionsMiddleware\", \"SecurityMiddleware\"]";
        let found = ids(conf, false);
        assert!(found.contains(&"middleware_order.W001".to_owned()));
        assert_eq!(count(conf, "middleware_order.W002"), 1);
        let good = "MIDDLEWARE = [\"SecurityMiddleware\", \"CommonMiddleware\", \"XFrameOptionsMiddleware\"]";
        assert!(!ids(good, true)
            .iter()
            .any(|i| i.starts_with("middleware_order")));
    }

    #[test]
    fn deploy_checks_only_run_with_deploy() {
        assert!(!ids("DEBUG = true", false).contains(&"security.W018".to_owned()));
        assert!(ids("DEBUG = true", true).contains(&"security.W018".to_owned()));
    }
}
