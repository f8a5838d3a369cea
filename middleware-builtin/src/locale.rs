//! `LocaleMiddleware`: Django's `django.middleware.locale.LocaleMiddleware`.
//!
//! Picks the request's language (URL prefix when the URLconf uses language-prefixed routes,
//! then the `django_language` cookie, then `Accept-Language`, then `LANGUAGE_CODE`), puts it in
//! the request's extensions as [`ActiveLanguage`], and on the way out adds
//! `Vary: Accept-Language` and `Content-Language`, or redirects a 404 to the language-prefixed
//! URL when that one exists.
//!
//! ```
//! use middleware_builtin::locale::{parse_accept_lang_header, I18nPatterns};
//!
//! assert_eq!(
//!     parse_accept_lang_header("da, en-gb;q=0.25, en;q=0.5"),
//!     vec![("da".to_owned(), 1.0), ("en".to_owned(), 0.5), ("en-gb".to_owned(), 0.25)]
//! );
//! // An app whose routes are prefixed with the language ("en/about/", "nl/about/"...) says so
//! // when it registers the middleware:
//! let mut registry = middleware_core::Registry::new();
//! middleware_builtin::register_all(&mut registry);
//! middleware_builtin::locale::register_with(&mut registry, Some(I18nPatterns { prefix_default_language: true }));
//! ```

use std::sync::{Arc, OnceLock};

use http::header::{self, HeaderValue};
use http::StatusCode;
use middleware_core::checks::CheckMessage;
use middleware_core::response::{redirect, ResponseExt};
use middleware_core::{
    declare_settings, Error, FactoryError, Hook, Hooks, Registry, Request, RequestExt, Resolve,
    Response,
};
use regex::Regex;

/// Check ID: `LocaleMiddleware` is listed after `CommonMiddleware`.
pub const W_LOCALE_AFTER_COMMON: &str = "middleware.W102";

/// Django's `LANGUAGE_CODE_MAX_LENGTH`: longer codes and headers are cut (DoS hardening).
pub const LANGUAGE_CODE_MAX_LENGTH: usize = 500;

/// The default `LANGUAGES`: a short list, not Django's ~100 entries (which name every
/// catalog Django ships). Sites set `LANGUAGES` to what they translate anyway.
pub const DEFAULT_LANGUAGES: &[(&str, &str)] = &[
    ("ar", "Arabic"),
    ("de", "German"),
    ("en", "English"),
    ("en-gb", "British English"),
    ("es", "Spanish"),
    ("fr", "French"),
    ("it", "Italian"),
    ("ja", "Japanese"),
    ("nl", "Dutch"),
    ("pl", "Polish"),
    ("pt", "Portuguese"),
    ("pt-br", "Brazilian Portuguese"),
    ("ru", "Russian"),
    ("sv", "Swedish"),
    ("zh-hans", "Simplified Chinese"),
    ("zh-hant", "Traditional Chinese"),
];

/// The language chosen for this request (Django's `request.LANGUAGE_CODE`), in the request's
/// extensions. A view may put another one in the response's extensions (Django's
/// `translation.activate` inside a view) to change `Content-Language`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActiveLanguage(pub String);

/// Declares that the URLconf's routes are prefixed with the language code (Django's
/// `i18n_patterns(...)`), e.g. `en/about/`, `nl/about/`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct I18nPatterns {
    /// Django's `prefix_default_language`: when `false`, the `LANGUAGE_CODE` pages are served
    /// without a prefix.
    pub prefix_default_language: bool,
}

declare_settings! {
    /// The language settings `LocaleMiddleware` and the cache keys read.
    pub struct I18nSettings {
        ///
        LANGUAGE_CODE => language_code: String = "en-us",
        ///
        USE_I18N => use_i18n: bool = true,
    }
}

declare_settings! {
    /// The settings `LocaleMiddleware` reads.
    pub struct LocaleSettings {
        /// `[["en", "English"], ["fr", "French"]]`
        LANGUAGES => languages: Option<Vec<(String, String)>> = unset("Django's list"),
        ///
        LANGUAGE_COOKIE_NAME => cookie_name: String = "django_language",
    }
    shared {
        /// `LANGUAGE_CODE` and `USE_I18N`.
        i18n: I18nSettings,
    }
}

/// The settings the middleware reads, once, at start-up.
#[derive(Clone, Debug)]
pub struct LocaleConfig {
    /// `LANGUAGE_CODE` (default `"en-us"`).
    pub language_code: String,
    /// `LANGUAGES` codes, lower-cased (default [`DEFAULT_LANGUAGES`]).
    pub languages: Vec<String>,
    /// `LANGUAGE_COOKIE_NAME` (default `"django_language"`).
    pub cookie_name: String,
    /// `USE_I18N` (default `true`); when `false` the language is always `LANGUAGE_CODE`.
    pub use_i18n: bool,
    /// `APPEND_SLASH`, for the 404 redirect.
    pub append_slash: bool,
}

impl Default for LocaleConfig {
    fn default() -> Self {
        LocaleConfig {
            language_code: "en-us".into(),
            languages: DEFAULT_LANGUAGES
                .iter()
                .map(|(c, _)| (*c).to_owned())
                .collect(),
            cookie_name: "django_language".into(),
            use_i18n: true,
            append_slash: true,
        }
    }
}

impl LocaleConfig {
    /// Reads the settings (with Django's defaults).
    pub fn from_settings(settings: &middleware_core::Settings) -> Result<Self, FactoryError> {
        let declared = LocaleSettings::from_settings(settings)?;
        Ok(LocaleConfig {
            language_code: declared.i18n.language_code,
            languages: match declared.languages {
                Some(l) => l.into_iter().map(|(c, _)| c.to_lowercase()).collect(),
                None => LocaleConfig::default().languages,
            },
            cookie_name: declared.cookie_name,
            use_i18n: declared.i18n.use_i18n,
            append_slash: settings.core().append_slash,
        })
    }

    fn is_supported(&self, code: &str) -> bool {
        let lower = code.to_lowercase();
        self.languages.contains(&lower)
    }

    /// Django's `get_supported_language_variant(code, strict)`: the code itself, a special
    /// fallback (Chinese), a more generic code (`fr-ca` → `fr`), or, unless `strict`, any
    /// variant of the generic code (`fr` → `fr-ca`).
    pub fn supported_variant(&self, code: &str, strict: bool) -> Option<String> {
        if code.is_empty() {
            return None;
        }
        let code = if code.chars().count() <= LANGUAGE_CODE_MAX_LENGTH {
            code
        } else {
            let head = char_prefix(code, LANGUAGE_CODE_MAX_LENGTH);
            match head.rfind('-') {
                Some(i) if i > 0 && !strict => &code[..i],
                _ => return None,
            }
        };
        let mut candidates = vec![code.to_owned()];
        candidates.extend(special_fallback(code).iter().map(|s| (*s).to_owned()));
        let mut end = code.len();
        while let Some(i) = code[..end].rfind('-') {
            candidates.push(code[..i].to_owned());
            end = i;
        }
        let generic = candidates.last().cloned().unwrap_or_default();
        for c in &candidates {
            if self.is_supported(c) && language_code_re().is_match(c) {
                return Some(c.clone());
            }
        }
        if !strict {
            let prefix = format!("{generic}-");
            return self
                .languages
                .iter()
                .find(|l| l.starts_with(&prefix))
                .cloned();
        }
        None
    }

    /// Django's `get_language_from_path`: the supported language of the path's first segment.
    pub fn language_from_path(&self, path_info: &str) -> Option<String> {
        if !self.use_i18n {
            return None;
        }
        let caps = language_prefix_re().captures(path_info)?;
        self.supported_variant(caps.get(1)?.as_str(), false)
    }

    /// Django's `get_language_from_request`.
    pub fn language_from_request(&self, request: &Request, check_path: bool) -> String {
        if !self.use_i18n {
            return self.language_code.clone();
        }
        if check_path {
            if let Some(l) = self.language_from_path(&request.path_info()) {
                return l;
            }
        }
        let cookie = request.cookie(&self.cookie_name);
        if let Some(c) = &cookie {
            if c.chars().count() <= LANGUAGE_CODE_MAX_LENGTH
                && self.languages.iter().any(|l| l == c)
                && language_code_re().is_match(c)
            {
                return c.clone();
            }
            if let Some(v) = self.supported_variant(c, false) {
                return v;
            }
        }
        let accept = request
            .headers()
            .get_all(header::ACCEPT_LANGUAGE)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect::<Vec<_>>()
            .join(",");
        for (lang, _) in parse_accept_lang_header(&accept) {
            if lang == "*" {
                break;
            }
            if !language_code_re().is_match(&lang) {
                continue;
            }
            if let Some(v) = self.supported_variant(&lang, false) {
                return v;
            }
        }
        self.supported_variant(&self.language_code, false)
            .unwrap_or_else(|| self.language_code.clone())
    }
}

/// Django's `LANG_INFO` fallbacks that do not follow the `xx-yy` → `xx` rule (Chinese only).
fn special_fallback(code: &str) -> &'static [&'static str] {
    match code {
        "zh-cn" | "zh-sg" | "zh-my" => &["zh-hans"],
        "zh-tw" | "zh-hk" | "zh-mo" => &["zh-hant"],
        _ => &[],
    }
}

/// The first `n` characters of `s`.
fn char_prefix(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

fn accept_language_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    // Django's `accept_language_re` (RFC 9110 §12.4.2, §12.5.4); a literal, so it compiles.
    RE.get_or_init(|| {
        Regex::new(
            r"([A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*|\*)(?:\s*;\s*q=(0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?))?(?:\s*,\s*|$)",
        )
        .unwrap_or_else(|_| unreachable!())
    })
}

fn language_code_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    // Django's `language_code_re`: the well-formedness test of `check_for_language`.
    RE.get_or_init(|| {
        Regex::new(r"(?i)^[a-z]{1,8}(?:-[a-z0-9]{1,8})*(?:@[a-z0-9]{1,20})?$")
            .unwrap_or_else(|_| unreachable!())
    })
}

fn language_prefix_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    // Django's `language_code_prefix_re`.
    RE.get_or_init(|| Regex::new(r"^/(\w+([@-]\w+){0,2})(/|$)").unwrap_or_else(|_| unreachable!()))
}

/// Django's `parse_accept_lang_header`: `(lower-cased range, q)` sorted by q, highest first
/// (stable). Any malformed part makes the whole header empty; a header over 500 characters
/// is cut at the last comma before 500 (or ignored when there is none).
pub fn parse_accept_lang_header(value: &str) -> Vec<(String, f64)> {
    let value = if value.chars().count() <= LANGUAGE_CODE_MAX_LENGTH {
        value
    } else {
        match char_prefix(value, LANGUAGE_CODE_MAX_LENGTH).rfind(',') {
            Some(i) if i > 0 => &value[..i],
            _ => return Vec::new(),
        }
    };
    let lower = value.to_lowercase();
    let mut out = Vec::new();
    let mut pos = 0;
    for caps in accept_language_re().captures_iter(&lower) {
        let Some(whole) = caps.get(0) else {
            return Vec::new();
        };
        if whole.start() != pos {
            return Vec::new(); // garbage between two ranges
        }
        pos = whole.end();
        let lang = caps.get(1).map_or("", |m| m.as_str()).to_owned();
        let q = match caps.get(2) {
            Some(m) => m.as_str().parse::<f64>().unwrap_or(0.0),
            None => 1.0,
        };
        out.push((lang, q));
    }
    if pos != lower.len() {
        return Vec::new();
    }
    out.sort_by(|a, b| b.1.total_cmp(&a.1));
    out
}

/// Django's `LocaleMiddleware`.
pub struct LocaleMiddleware {
    config: LocaleConfig,
    patterns: Option<I18nPatterns>,
    urls: Option<Arc<dyn Resolve>>,
}

impl std::fmt::Debug for LocaleMiddleware {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocaleMiddleware")
            .field("config", &self.config)
            .field("patterns", &self.patterns)
            .finish_non_exhaustive()
    }
}

impl LocaleMiddleware {
    /// The middleware for `config`; `patterns` says whether routes are language-prefixed;
    /// `urls` lets a 404 be redirected to the prefixed URL.
    pub fn new(
        config: LocaleConfig,
        patterns: Option<I18nPatterns>,
        urls: Option<Arc<dyn Resolve>>,
    ) -> Self {
        LocaleMiddleware {
            config,
            patterns,
            urls,
        }
    }

    /// The redirect target for a 404 whose language-prefixed path exists.
    fn prefixed_redirect(&self, request: &Request, language: &str) -> Option<Response> {
        let urls = self.urls.as_ref()?;
        let raw_path = request.path();
        let language_path = format!("/{language}{raw_path}");
        let valid = urls.is_valid_path(&language_path);
        let needs_slash = !valid
            && self.config.append_slash
            && !language_path.ends_with('/')
            && urls.is_valid_path(&format!("{language_path}/"));
        if !valid && !needs_slash {
            return None;
        }
        let slash = if needs_slash { "/" } else { "" };
        let query = match request.uri().query() {
            Some(q) if !q.is_empty() => format!("?{q}"),
            _ => String::new(),
        };
        // The script prefix is always "/" here: the language goes first.
        let mut r = redirect(&format!("{language_path}{slash}{query}"));
        r.patch_vary_headers(&["Accept-Language", "Cookie"]);
        Some(r)
    }
}

impl Hooks for LocaleMiddleware {
    fn process_request<'a>(
        &'a self,
        request: &'a mut Request,
    ) -> Hook<'a, Result<Option<Response>, Error>> {
        let used = self.patterns.is_some();
        let mut language = self.config.language_from_request(request, used);
        let from_path = self.config.language_from_path(&request.path_info());
        if from_path.is_none() && self.patterns.is_some_and(|p| !p.prefix_default_language) {
            language = self.config.language_code.clone();
        }
        // Django's `get_language()` returns the activated code lower-cased (`to_language`).
        request
            .extensions_mut()
            .insert(ActiveLanguage(language.to_lowercase()));
        Hook::Ready(Ok(None))
    }

    fn process_response<'a>(
        &'a self,
        request: &'a mut Request,
        response: &'a mut Response,
    ) -> Hook<'a, Result<(), Error>> {
        let language = response
            .extensions()
            .get::<ActiveLanguage>()
            .or_else(|| request.extensions().get::<ActiveLanguage>())
            .map(|l| l.0.clone())
            .unwrap_or_else(|| self.config.language_code.to_lowercase());
        let from_path = self.config.language_from_path(&request.path_info());
        let used = self.patterns.is_some();

        if response.status() == StatusCode::NOT_FOUND
            && from_path.is_none()
            && self.patterns.is_some_and(|p| p.prefix_default_language)
        {
            if let Some(r) = self.prefixed_redirect(request, &language) {
                *response = r;
                return Hook::Ready(Ok(()));
            }
        }
        if !(used && from_path.is_some()) {
            response.patch_vary_headers(&["Accept-Language"]);
        }
        if let Ok(v) = HeaderValue::from_str(&language) {
            response.set_default_header_value(header::CONTENT_LANGUAGE, v);
        }
        Hook::Ready(Ok(()))
    }
}

fn register_entry(registry: &mut Registry, patterns: Option<I18nPatterns>) {
    registry
        .register_ready_hooks("LocaleMiddleware", move |ctx| {
            Ok(LocaleMiddleware::new(
                LocaleConfig::from_settings(ctx.settings)?,
                patterns,
                ctx.urls.cloned(),
            ))
        })
        .alias("django.middleware.locale.LocaleMiddleware")
        .declares::<LocaleSettings>();
}

/// Registers `LocaleMiddleware` (also as `django.middleware.locale.LocaleMiddleware`) for a
/// URLconf without language prefixes, and the order check `middleware.W102`.
pub fn register(registry: &mut Registry) {
    register_entry(registry, None);
    registry.add_check(false, |ctx| {
        let find = |names: &[&str]| names.iter().find_map(|n| ctx.middleware_index(n));
        let locale = find(&[
            "LocaleMiddleware",
            "django.middleware.locale.LocaleMiddleware",
        ]);
        let common = find(&[
            "CommonMiddleware",
            "django.middleware.common.CommonMiddleware",
        ]);
        match (locale, common) {
            (Some(l), Some(c)) if l > c => vec![CheckMessage::warning(
                W_LOCALE_AFTER_COMMON,
                "LocaleMiddleware is listed after CommonMiddleware in MIDDLEWARE.",
                Some(
                    "Move LocaleMiddleware above CommonMiddleware (and below SessionMiddleware): \
                     CommonMiddleware's APPEND_SLASH redirect must see the language-prefixed \
                     URLs that LocaleMiddleware resolves.",
                ),
            )],
            _ => vec![],
        }
    });
}

/// Re-registers `LocaleMiddleware` for a URLconf whose routes are language-prefixed (Django's
/// `i18n_patterns`); call it after [`crate::register_all`]. `None` means no prefixes.
pub fn register_with(registry: &mut Registry, patterns: Option<I18nPatterns>) {
    register_entry(registry, patterns);
}

#[cfg(test)]
mod tests;
