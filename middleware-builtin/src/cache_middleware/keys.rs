//! Django's cache keys (`django.utils.cache`: `_generate_cache_header_key`,
//! `_generate_cache_key`, `_i18n_cache_key_suffix`, `get_cache_key`, `learn_cache_key`).

use http::HeaderMap;
use md5::{Digest, Md5};
use middleware_core::http_utils::split_header_value;
use middleware_core::http_utils::url::{escape_uri_path, iri_to_uri};
use middleware_core::{Error, Request, RequestExt, Settings, SettingsError};

use crate::cache::{CacheBackend, CacheError, Timeout};
use crate::locale::{ActiveLanguage, I18nSettings};

middleware_core::declare_settings! {
    /// The settings the cache keys read.
    pub struct CacheKeySettings {
        /// with `TIME_ZONE`, adds the time zone to the page cache key, as Django does
        USE_TZ => use_tz: bool = true,
        /// the time-zone suffix of cache keys
        TIME_ZONE => time_zone: String = "America/Chicago",
    }
    shared {
        /// `LANGUAGE_CODE` and `USE_I18N`: the language suffix.
        i18n: I18nSettings,
    }
}

/// The settings that go into every cache key: `USE_I18N` + `LANGUAGE_CODE` (the language suffix)
/// and `USE_TZ` + `TIME_ZONE` (the time zone suffix).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CacheKeyConfig {
    /// `USE_I18N` (default `true`): keys end with `.{language}`.
    pub use_i18n: bool,
    /// `LANGUAGE_CODE` (default `"en-us"`): the language when no `ActiveLanguage` is set.
    pub language_code: String,
    /// `USE_TZ` (default `true`): keys end with `.{TIME_ZONE}`.
    pub use_tz: bool,
    /// `TIME_ZONE` (default `"America/Chicago"`).
    pub time_zone: String,
}

impl From<CacheKeySettings> for CacheKeyConfig {
    fn from(declared: CacheKeySettings) -> Self {
        CacheKeyConfig {
            use_i18n: declared.i18n.use_i18n,
            language_code: declared.i18n.language_code,
            use_tz: declared.use_tz,
            time_zone: declared.time_zone,
        }
    }
}

impl Default for CacheKeyConfig {
    fn default() -> Self {
        CacheKeyConfig {
            use_i18n: true,
            language_code: "en-us".to_owned(),
            use_tz: true,
            time_zone: "America/Chicago".to_owned(),
        }
    }
}

/// Django's `path_info`: percent-decoded, with bytes that are not UTF-8 re-escaped
/// (`repercent_broken_unicode`) rather than replaced.
fn decoded_path(raw: &str) -> String {
    let bytes: Vec<u8> = percent_encoding::percent_decode_str(raw).collect();
    let mut out = String::with_capacity(bytes.len());
    let mut rest = &bytes[..];
    loop {
        match std::str::from_utf8(rest) {
            Ok(s) => {
                out.push_str(s);
                return out;
            }
            Err(e) => {
                let (good, bad) = rest.split_at(e.valid_up_to());
                out.push_str(std::str::from_utf8(good).unwrap_or_default());
                let n = e.error_len().unwrap_or(bad.len()).max(1);
                for b in &bad[..n] {
                    out.push_str(&format!("%{b:02X}"));
                }
                rest = &bad[n..];
            }
        }
    }
}

/// `request.build_absolute_uri()` as Django computes it for cache keys: the scheme, the
/// validated host (`ALLOWED_HOSTS`), `escape_uri_path(path)` and `iri_to_uri(query)`.
pub fn cache_uri(request: &Request) -> Result<String, Error> {
    let host = request.get_host()?;
    let mut path = escape_uri_path(&decoded_path(request.path()));
    // Django takes urljoin's slow path only then, and urljoin resolves the dot segments.
    if path.contains("/./") || path.contains("/../") {
        path = resolve_dot_segments(&path);
    }
    let query = match request.uri().query() {
        Some(q) if !q.is_empty() => format!("?{}", iri_to_uri(q)),
        _ => String::new(),
    };
    Ok(format!("{}://{host}{path}{query}", request.scheme()))
}

/// Python's `urljoin` on an absolute path: `.` segments dropped, `..` segments remove the one
/// before (never past the root), a trailing `.` or `..` leaves a trailing slash; empty
/// segments are kept (`/a//b/../c` → `/a//c`).
fn resolve_dot_segments(path: &str) -> String {
    let segments: Vec<&str> = path.split('/').collect();
    let mut resolved: Vec<&str> = Vec::with_capacity(segments.len());
    for segment in &segments {
        match *segment {
            ".." => {
                resolved.pop();
            }
            "." => {}
            other => resolved.push(other),
        }
    }
    if matches!(segments.last(), Some(&".") | Some(&"..")) {
        resolved.push("");
    }
    let joined = resolved.join("/");
    if joined.starts_with('/') {
        joined
    } else {
        // urlunparse puts back the root a `..` popped.
        format!("/{joined}")
    }
}

fn md5_hex(data: &[u8]) -> String {
    let digest = Md5::digest(data);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The value of a `META` name (`HTTP_X_FOO`) in `request.META`, as Django sees it: header lines
/// joined with `,`, bytes decoded as Latin-1. `CONTENT_TYPE`/`CONTENT_LENGTH` are not `HTTP_`
/// names in `META`, and header names containing `_` never reach it (servers drop them).
fn meta_value(headers: &HeaderMap, meta: &str) -> Option<String> {
    let wanted = meta.strip_prefix("HTTP_")?;
    if wanted == "CONTENT_TYPE" || wanted == "CONTENT_LENGTH" {
        return None;
    }
    let mut found: Option<String> = None;
    for name in headers.keys() {
        let n = name.as_str();
        if n.contains('_') || n.to_ascii_uppercase().replace('-', "_") != wanted {
            continue;
        }
        for value in headers.get_all(name) {
            let text: String = value.as_bytes().iter().map(|&b| char::from(b)).collect();
            found = Some(match found {
                Some(prev) => format!("{prev},{text}"),
                None => text,
            });
        }
    }
    found
}

/// What of a request goes into its cache keys, taken out of the request once (the request
/// itself cannot be held across the cache's awaits).
#[derive(Clone, Debug)]
pub struct CacheRequest {
    absolute_uri: String,
    method: String,
    headers: HeaderMap,
    suffix: String,
}

impl CacheRequest {
    /// The absolute URI the keys hash.
    pub fn absolute_uri(&self) -> &str {
        &self.absolute_uri
    }

    /// The request method.
    pub fn method(&self) -> &str {
        &self.method
    }
}

impl CacheKeyConfig {
    /// Reads `USE_I18N`, `LANGUAGE_CODE`, `USE_TZ` and `TIME_ZONE`.
    pub fn from_settings(settings: &Settings) -> Result<Self, SettingsError> {
        Ok(CacheKeySettings::from_settings(settings)?.into())
    }

    /// What of `request` goes into its keys; fails as Django's `build_absolute_uri()` does on a
    /// disallowed host (`DisallowedHost`, a 400).
    pub fn request(&self, request: &Request) -> Result<CacheRequest, Error> {
        Ok(CacheRequest {
            absolute_uri: cache_uri(request)?,
            method: request.method().as_str().to_owned(),
            headers: request.headers().clone(),
            suffix: self.suffix(request),
        })
    }

    /// Django's `_i18n_cache_key_suffix`: `.{language}` (the request's [`ActiveLanguage`], set
    /// by `LocaleMiddleware`, else `LANGUAGE_CODE`) and `.{TIME_ZONE}`.
    pub fn suffix(&self, request: &Request) -> String {
        let mut suffix = String::new();
        if self.use_i18n {
            let language = request
                .extensions()
                .get::<ActiveLanguage>()
                .map_or(self.language_code.as_str(), |l| l.0.as_str());
            suffix.push('.');
            suffix.push_str(language);
        }
        if self.use_tz {
            suffix.push('.');
            suffix.push_str(&self.time_zone);
        }
        suffix
    }

    /// Django's `_generate_cache_header_key`: where the `Vary` header list of a URL is kept.
    pub fn header_key(&self, request: &CacheRequest, key_prefix: &str) -> String {
        format!(
            "views.decorators.cache.cache_header.{key_prefix}.{}{}",
            md5_hex(request.absolute_uri.as_bytes()),
            request.suffix
        )
    }

    /// Django's `_generate_cache_key`: the page key for `method`, hashing the request's values
    /// of the `META` names in `headerlist` as netstrings (`-,` for an absent header, so absent
    /// and empty differ).
    pub fn page_key(
        &self,
        request: &CacheRequest,
        method: &str,
        headerlist: &[String],
        key_prefix: &str,
    ) -> String {
        let mut ctx = Md5::new();
        for meta in headerlist {
            match meta_value(&request.headers, meta) {
                None => ctx.update(b"-,"),
                Some(value) => {
                    let data = value.as_bytes();
                    ctx.update(format!("{}:", data.len()).as_bytes());
                    ctx.update(data);
                    ctx.update(b",");
                }
            }
        }
        let headers_hash: String = ctx.finalize().iter().map(|b| format!("{b:02x}")).collect();
        format!(
            "views.decorators.cache.cache_page.{key_prefix}.{method}.{}.{headers_hash}{}",
            md5_hex(request.absolute_uri.as_bytes()),
            request.suffix
        )
    }

    /// The `META` names a response varies on, sorted, as `learn_cache_key` stores them
    /// (`Accept-Language` left out with `USE_I18N`: the language suffix covers it). Empty when
    /// the response has no `Vary`.
    pub fn headerlist(&self, response_headers: &HeaderMap) -> Vec<String> {
        let lines: Vec<String> = response_headers
            .get_all(http::header::VARY)
            .iter()
            .map(|v| v.as_bytes().iter().map(|&b| char::from(b)).collect())
            .collect();
        let joined = lines.join(",");
        let mut list: Vec<String> = split_header_value(&joined, ',')
            .map(|h| h.to_uppercase().replace('-', "_"))
            .filter(|h| h != "ACCEPT_LANGUAGE" || !self.use_i18n)
            .map(|h| format!("HTTP_{h}"))
            .collect();
        list.sort();
        list
    }
}

/// Django's `get_cache_key`: the page key for `method` if the header list of this URL is
/// known (learned by [`learn_cache_key`]), else `None`.
pub async fn get_cache_key(
    request: &CacheRequest,
    key_prefix: &str,
    method: &str,
    cache: &dyn CacheBackend,
    config: &CacheKeyConfig,
) -> Result<Option<String>, CacheError> {
    let header_key = config.header_key(request, key_prefix);
    let Some(stored) = cache.get(&header_key).await? else {
        return Ok(None);
    };
    // An entry this port did not write (e.g. pickled by Django) is no header list.
    let Ok(headerlist) = serde_json::from_slice::<Vec<String>>(&stored) else {
        return Ok(None);
    };
    Ok(Some(config.page_key(
        request,
        method,
        &headerlist,
        key_prefix,
    )))
}

/// Django's `learn_cache_key`: stores the header list of `response_headers`' `Vary` for this
/// URL (for `timeout` seconds) and returns the page key for the request's method.
pub async fn learn_cache_key(
    request: &CacheRequest,
    response_headers: &HeaderMap,
    timeout: i64,
    key_prefix: &str,
    cache: &dyn CacheBackend,
    config: &CacheKeyConfig,
) -> Result<String, CacheError> {
    let header_key = config.header_key(request, key_prefix);
    let headerlist = config.headerlist(response_headers);
    let encoded = serde_json::to_vec(&headerlist).unwrap_or_else(|_| b"[]".to_vec());
    cache
        .set(&header_key, &encoded, Timeout::Seconds(timeout))
        .await?;
    Ok(config.page_key(request, &request.method, &headerlist, key_prefix))
}

#[cfg(test)]
mod tests {
    use super::resolve_dot_segments;

    // What CPython 3.12's urljoin("http://h/", "//" + path) gives, as Django's
    // build_absolute_uri calls it for a path with dot segments.
    #[test]
    fn dot_segments_resolve_as_urljoin_does() {
        for (path, expected) in [
            ("/a/../b", "/b"),
            ("/a//b/../c", "/a//c"),
            ("/a/./b/", "/a/b/"),
            ("/../x", "/x"),
            ("/a/../../b", "/b"),
            ("/a/b/..", "/a/"),
            ("/a/./", "/a/"),
        ] {
            assert_eq!(resolve_dot_segments(path), expected, "{path}");
        }
    }
}
