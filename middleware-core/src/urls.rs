//! URL routing with Django's `path()` syntax, generic over the routed value.
//!
//! ```
//! use middleware_core::urls::{PathValue, UrlResolver};
//!
//! let mut urls = UrlResolver::new();
//! urls.add("articles/2003/", Some("articles-2003"), "special case")?;
//! urls.add("articles/<int:year>/", Some("articles-year"), "year archive")?;
//! urls.add("blog/<slug:slug>/<path:rest>", None, "blog")?;
//!
//! let m = urls.resolve("/articles/2015/").expect("matches");
//! assert_eq!(*m.value, "year archive");
//! assert_eq!(m.route, "articles/<int:year>/");
//! assert_eq!(m.url_name, Some("articles-year"));
//! assert_eq!(m.kwarg("year"), Some(&PathValue::Int(2015)));
//!
//! // Static routes registered first win, as in Django's first-match rule.
//! assert_eq!(*urls.resolve("/articles/2003/").expect("matches").value, "special case");
//! assert!(urls.resolve("/articles/letters/").is_err());
//!
//! assert_eq!(urls.reverse("articles-year", &[("year", "1999")])?, "/articles/1999/");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Route syntax
//!
//! Routes use Django's `path()` syntax: literal text plus `<converter:name>`
//! (or `<name>`, which means `<str:name>`). Built-in converters mirror
//! `django.urls.converters`:
//!
//! | converter | regex | value |
//! |-----------|-------|-------|
//! | `int`  | `[0-9]+` | [`PathValue::Int`] |
//! | `str`  | `[^/]+` | [`PathValue::Str`] |
//! | `slug` | `[-a-zA-Z0-9_]+` | [`PathValue::Slug`] |
//! | `uuid` | `[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}` | [`PathValue::Uuid`] |
//! | `path` | `.+` | [`PathValue::Path`] |
//!
//! Custom converters are registered with [`UrlResolver::add_converter`]
//! (Django's `register_converter`) and produce [`PathValue::Custom`].
//!
//! # Matching semantics
//!
//! Django tries its patterns in order and the first one whose regex matches
//! wins. This resolver gives exactly the same answer while doing most of the
//! work in a [`matchit`] radix tree:
//!
//! * every route whose parameters each fill a whole path segment (and whose
//!   `path` parameter, if any, is the last segment) is translated to a matchit
//!   route with positional parameter names (`items/<int:id>/` becomes
//!   `/items/{p0}/`), so routes of the same *shape* share one matchit entry
//!   holding their registration indices in order; the captured segments are
//!   then validated with each candidate's converters;
//! * matchit prefers static segments over parameters, which differs from
//!   Django's order when e.g. `items/<slug:s>/` is registered before
//!   `items/new/`. To stay exact, each entry knows which routes of *other*
//!   shapes could match the same paths; any of them registered earlier than
//!   the matchit candidate is checked with its Django-style regex first;
//! * routes matchit cannot express (a `path` converter before the end,
//!   several parameters or literal text in one segment, custom converters
//!   that might match `/` or the empty string) are matched with their
//!   Django-style regex, in registration order, and take part in the same
//!   lowest-registration-index rule.
//!
//! The result is therefore always the route with the lowest registration
//! index that Django's regex would match (and whose `int` fits a `u64`).
//! This relies on matchit's backtracking returning *some* matching shape
//! whenever one exists; a test compares the resolver against plain ordered
//! regex matching over many route orders to check it.
//!
//! # Request path decoding
//!
//! [`UrlResolver::resolve`] takes the path as sent on the wire
//! (percent-encoded, with a leading `/`, without the query string). Like a
//! WSGI/ASGI server in front of Django it is percent-decoded first, so
//! `%2F` becomes `/` *before* matching (`/hello%2F` matches `hello/`).
//! Malformed escapes such as `%zz` or a trailing `%` are kept literally, as
//! Python's `unquote` does. Bytes that do not form valid UTF-8 are handled
//! like Django's `repercent_broken_unicode` (used for `path_info`): each
//! invalid byte is re-encoded as an upper-case `%XX` escape, so
//! `/caf%E9/` is matched as the text `/caf%E9/`; it never panics and never
//! substitutes U+FFFD.
//!
//! # Deviations from Django
//!
//! * `int` values must fit in a `u64`; larger numbers make the route not match
//!   (Django would produce an arbitrary-precision `int`). This mirrors a
//!   converter's `to_python` raising `ValueError`.
//! * Unmatched `<` or `>` in a route is an error here; Django only emits a
//!   system-check warning (`urls.W010`) and treats the bracket literally.
//! * A leading `/` in a route is accepted and ignored; Django warns
//!   (`urls.W002`) and the route can then never match.
//! * Parameter names are checked with Rust's Unicode `is_alphabetic` /
//!   `is_alphanumeric`, an approximation of Python's `str.isidentifier()`.
//! * A repeated parameter name in one route is an error (in Python it is a
//!   regex compilation error).
//! * Custom converters are regex-only: the captured text is returned as
//!   [`PathValue::Custom`] and `reverse` takes text (no `to_python`/`to_url`).
//! * There is no `include()`, namespaces, extra kwargs or positional `args`.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use regex::Regex;

/// Errors raised while building a [`UrlResolver`] (Django's
/// `ImproperlyConfigured` / `ValueError` at URLconf load time).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UrlError {
    /// Whitespace inside `<…>`.
    #[error("URL route '{route}' cannot contain whitespace in angle brackets <…>.")]
    Whitespace {
        /// The offending route.
        route: String,
    },
    /// The parameter name is not an identifier.
    #[error(
        "URL route '{route}' uses parameter name '{parameter}' which isn't a valid Python identifier."
    )]
    InvalidParameterName {
        /// The offending route.
        route: String,
        /// The parameter name as written.
        parameter: String,
    },
    /// The converter name is not registered.
    #[error("URL route '{route}' uses invalid converter '{converter}'.")]
    InvalidConverter {
        /// The offending route.
        route: String,
        /// The converter name as written.
        converter: String,
    },
    /// A `<` or `>` that does not belong to a `<converter:name>` group.
    #[error("URL route '{route}' has an unmatched '{bracket}' bracket.")]
    UnmatchedBracket {
        /// The offending route.
        route: String,
        /// The unmatched bracket.
        bracket: char,
    },
    /// The same parameter name is used twice in one route.
    #[error("URL route '{route}' uses parameter name '{parameter}' more than once.")]
    DuplicateParameter {
        /// The offending route.
        route: String,
        /// The repeated parameter name.
        parameter: String,
    },
    /// [`UrlResolver::add_converter`] with a name already in use.
    #[error("Converter '{name}' is already registered.")]
    ConverterAlreadyRegistered {
        /// The converter name.
        name: String,
    },
    /// [`UrlResolver::add_converter`] with a name that cannot appear in a route.
    #[error("Converter name '{name}' is invalid: it must be non-empty and contain no whitespace, ':', '<' or '>'.")]
    InvalidConverterName {
        /// The converter name.
        name: String,
    },
    /// [`UrlResolver::add_converter`] with a regex that does not compile.
    #[error("Converter '{name}' has an invalid regex: {message}")]
    InvalidConverterRegex {
        /// The converter name.
        name: String,
        /// The regex compiler's message.
        message: String,
    },
}

/// No route matched the request path (Django's `Resolver404`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Resolver404: no route matches the path '{path}'")]
pub struct Resolver404 {
    /// The decoded path that was tried (Django's `path_info`).
    pub path: String,
}

/// [`UrlResolver::reverse`] found no route for the name and arguments
/// (Django's `NoReverseMatch`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct NoReverseMatch {
    /// The route name that was looked up.
    pub name: String,
    /// The keyword arguments that were given.
    pub kwargs: Vec<(String, String)>,
    /// The routes registered under `name`, in the order they were tried.
    pub tried: Vec<String>,
}

impl fmt::Display for NoReverseMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.tried.is_empty() {
            return write!(
                f,
                "Reverse for '{0}' not found. '{0}' is not a valid view function or pattern name.",
                self.name
            );
        }
        write!(f, "Reverse for '{}' with ", self.name)?;
        if self.kwargs.is_empty() {
            f.write_str("no arguments")?;
        } else {
            f.write_str("keyword arguments '{")?;
            for (i, (k, v)) in self.kwargs.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "'{k}': '{v}'")?;
            }
            f.write_str("}'")?;
        }
        write!(f, " not found. {} pattern(s) tried: [", self.tried.len())?;
        for (i, t) in self.tried.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "'{t}'")?;
        }
        f.write_str("]")
    }
}

/// A captured path parameter, typed by its converter.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PathValue {
    /// `<int:…>`: `[0-9]+`, must fit in a `u64`.
    Int(u64),
    /// `<str:…>` or `<…>`: `[^/]+`.
    Str(String),
    /// `<slug:…>`: `[-a-zA-Z0-9_]+`.
    Slug(String),
    /// `<uuid:…>`: the lower-case canonical hyphenated form (the only form the
    /// converter accepts).
    Uuid(String),
    /// `<path:…>`: `.+`, may contain `/`.
    Path(String),
    /// A converter registered with [`UrlResolver::add_converter`]: the matched text.
    Custom(String),
}

impl PathValue {
    /// The value as text (`Int` is rendered in decimal).
    pub fn as_text(&self) -> Cow<'_, str> {
        match self {
            PathValue::Int(n) => Cow::Owned(n.to_string()),
            PathValue::Str(s)
            | PathValue::Slug(s)
            | PathValue::Uuid(s)
            | PathValue::Path(s)
            | PathValue::Custom(s) => Cow::Borrowed(s),
        }
    }
}

impl fmt::Display for PathValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_text())
    }
}

/// The result of [`UrlResolver::resolve`] (Django's `ResolverMatch`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolverMatch<'a, T> {
    /// The value registered for the matched route.
    pub value: &'a T,
    /// The route as registered (without a leading `/`), e.g. `articles/<int:year>/`.
    pub route: &'a str,
    /// The route's name, if any.
    pub url_name: Option<&'a str>,
    /// Captured parameters in route order.
    pub kwargs: Vec<(String, PathValue)>,
}

impl<T> ResolverMatch<'_, T> {
    /// The captured parameter called `name`.
    pub fn kwarg(&self, name: &str) -> Option<&PathValue> {
        self.kwargs.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Int,
    Str,
    Slug,
    Uuid,
    Path,
    Custom,
}

#[derive(Debug)]
struct Converter {
    kind: Kind,
    /// The regex as embedded in a route regex.
    source: String,
    /// `\A(?:source)\z`, to validate one captured value.
    full: Regex,
    /// The converter can only match non-empty text without `/`, so it can be
    /// a matchit segment parameter.
    segment_safe: bool,
}

impl Converter {
    fn new(kind: Kind, source: &str) -> Result<Self, regex::Error> {
        let full = Regex::new(&format!(r"\A(?:{source})\z"))?;
        let segment_safe = match kind {
            Kind::Path => false,
            Kind::Custom => !full.is_match("") && regex_excludes_slash(source),
            _ => true,
        };
        Ok(Self {
            kind,
            source: source.to_owned(),
            full,
            segment_safe,
        })
    }

    fn to_value(&self, text: &str) -> Option<PathValue> {
        Some(match self.kind {
            Kind::Int => PathValue::Int(text.parse().ok()?),
            Kind::Str => PathValue::Str(text.to_owned()),
            Kind::Slug => PathValue::Slug(text.to_owned()),
            Kind::Uuid => PathValue::Uuid(text.to_owned()),
            Kind::Path => PathValue::Path(text.to_owned()),
            Kind::Custom => PathValue::Custom(text.to_owned()),
        })
    }
}

/// Conservative check that a custom converter's regex can never match a `/`:
/// only alphanumerics, `_`, a few quantifier/group characters and the escapes
/// `\d`, `\w`, `\s`, `\.`, `\-` are allowed, and no negated class or `.`.
/// Anything else makes the route use regex matching (always correct, slower).
fn regex_excludes_slash(source: &str) -> bool {
    let mut chars = source.chars().peekable();
    let mut in_class = false;
    // Last literal char seen in the current class, for range checks.
    let mut prev: Option<char> = None;
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('d' | 'w' | 's') => prev = None,
                Some(e @ ('.' | '-' | '_')) => prev = Some(e),
                _ => return false,
            },
            '[' if !in_class => {
                if chars.peek() == Some(&'^') {
                    return false;
                }
                in_class = true;
                prev = None;
            }
            ']' if in_class => in_class = false,
            '-' if in_class => {
                if let (Some(lo), Some(&hi)) = (prev, chars.peek()) {
                    if hi == ']' {
                        prev = Some('-');
                        continue;
                    }
                    if lo <= '/' && hi >= '/' {
                        return false;
                    }
                }
                prev = Some('-');
            }
            c if c.is_ascii_alphanumeric() || c == '_' => prev = Some(c),
            '{' | '}' | ',' | '+' | '*' | '?' | '|' | '(' | ')' if !in_class => {}
            '.' if in_class => prev = Some('.'),
            _ => return false,
        }
    }
    !in_class
}

/// Characters Django's `reverse` leaves unescaped: `quote(safe=RFC3986_SUBDELIMS + "/~:@")`
/// plus Python's always-safe `_.-~`.
const REVERSE_SAFE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'$')
    .remove(b'&')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b'+')
    .remove(b',')
    .remove(b';')
    .remove(b'=')
    .remove(b'/')
    .remove(b'~')
    .remove(b':')
    .remove(b'@')
    .remove(b'_')
    .remove(b'.')
    .remove(b'-');

#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    Static(String),
    Param,
    CatchAll,
}

#[derive(Debug)]
enum Part {
    Static(String),
    Param(usize),
}

#[derive(Debug)]
struct Param {
    name: String,
    /// The capture group in the route regex (`p0`, `p1`, …).
    group: String,
    converter: usize,
}

#[derive(Debug)]
struct Route<T> {
    route: String,
    name: Option<String>,
    value: T,
    params: Vec<Param>,
    parts: Vec<Part>,
    /// Django's route regex (`\A…\z`, groups `p0`, `p1`, …); `None` for
    /// routes without parameters, which compare literally.
    regex: Option<Regex>,
}

impl<T> Route<T> {
    /// Django's `RoutePattern.match` on the path without its leading `/`.
    fn match_full(&self, rest: &str, converters: &[Converter]) -> Option<Vec<(String, PathValue)>> {
        let Some(regex) = &self.regex else {
            return (self.route == rest).then(Vec::new);
        };
        let caps = regex.captures(rest)?;
        let mut kwargs = Vec::with_capacity(self.params.len());
        for param in &self.params {
            let text = caps.name(&param.group)?.as_str();
            let value = converters.get(param.converter)?.to_value(text)?;
            kwargs.push((param.name.clone(), value));
        }
        Some(kwargs)
    }

    /// Validate the segments captured by matchit (positional, `p0`, `p1`, …).
    fn match_segments(
        &self,
        captured: &matchit::Params<'_, '_>,
        converters: &[Converter],
    ) -> Option<Vec<(String, PathValue)>> {
        let mut kwargs = Vec::with_capacity(self.params.len());
        for (param, (_, text)) in self.params.iter().zip(captured.iter()) {
            let converter = converters.get(param.converter)?;
            if !converter.full.is_match(text) {
                return None;
            }
            kwargs.push((param.name.clone(), converter.to_value(text)?));
        }
        (kwargs.len() == self.params.len()).then_some(kwargs)
    }
}

#[derive(Debug)]
struct Entry {
    shape: Vec<Seg>,
    /// Route indices of this shape, in registration order.
    candidates: Vec<usize>,
    /// Entries of other shapes that may match some of the same paths.
    overlapping: Vec<usize>,
    /// Route indices of overlapping entries, in registration order.
    overlap_routes: Vec<usize>,
}

/// A Django-style URL resolver mapping request paths to values of type `T`.
///
/// See the [module documentation](self) for the syntax and matching rules.
#[derive(Debug)]
pub struct UrlResolver<T> {
    converters: Vec<Converter>,
    converter_index: HashMap<String, usize>,
    routes: Vec<Route<T>>,
    router: matchit::Router<usize>,
    entries: Vec<Entry>,
    entry_index: HashMap<String, usize>,
    /// Routes matched by regex only, in registration order.
    fallback: Vec<usize>,
    names: HashMap<String, Vec<usize>>,
}

impl<T> Default for UrlResolver<T> {
    fn default() -> Self {
        Self::new()
    }
}

fn parameter_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        // Django's `_PATH_PARAMETER_COMPONENT_RE`.
        #[allow(clippy::expect_used)]
        Regex::new(r"<(?:(?P<converter>[^>:]+):)?(?P<parameter>[^>]+)>")
            .expect("constant regex compiles")
    })
}

fn is_python_whitespace(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c')
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_alphabetic())
        && chars.all(|c| c == '_' || c.is_alphanumeric())
}

fn overlaps(a: &[Seg], b: &[Seg]) -> bool {
    let mut i = 0;
    loop {
        match (a.get(i), b.get(i)) {
            (None, None) => return true,
            // Conservative: a catch-all may swallow the rest.
            (Some(Seg::CatchAll), _) | (_, Some(Seg::CatchAll)) => return true,
            (None, Some(_)) | (Some(_), None) => return false,
            (Some(Seg::Static(x)), Some(Seg::Static(y))) if x != y => return false,
            (Some(Seg::Static(x)), Some(Seg::Param)) | (Some(Seg::Param), Some(Seg::Static(x)))
                if x.is_empty() =>
            {
                return false
            }
            _ => {}
        }
        i += 1;
    }
}

/// Merge `new` (sorted) into `into` (sorted), keeping it sorted.
fn merge_sorted(into: &mut Vec<usize>, new: &[usize]) {
    into.extend_from_slice(new);
    into.sort_unstable();
    into.dedup();
}

/// Percent-decode a request path like a WSGI server followed by Django's
/// `repercent_broken_unicode`.
fn decode_path(raw: &str) -> Cow<'_, str> {
    // Most paths have nothing to decode.
    if !raw.contains('%') {
        return Cow::Borrowed(raw);
    }
    let bytes: Cow<'_, [u8]> = percent_decode_str(raw).into();
    match bytes {
        Cow::Borrowed(_) => Cow::Borrowed(raw),
        Cow::Owned(bytes) => match String::from_utf8(bytes) {
            Ok(s) => Cow::Owned(s),
            Err(e) => Cow::Owned(repercent_broken_unicode(e.as_bytes())),
        },
    }
}

fn repercent_broken_unicode(mut bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    loop {
        match std::str::from_utf8(bytes) {
            Ok(s) => {
                out.push_str(s);
                return out;
            }
            Err(e) => {
                let (valid, rest) = bytes.split_at(e.valid_up_to());
                out.push_str(std::str::from_utf8(valid).unwrap_or_default());
                let bad = e.error_len().unwrap_or(rest.len());
                for b in rest.iter().take(bad) {
                    out.push_str(&format!("%{b:02X}"));
                }
                bytes = rest.get(bad..).unwrap_or_default();
            }
        }
    }
}

impl<T> UrlResolver<T> {
    /// An empty resolver with Django's default converters
    /// (`int`, `path`, `slug`, `str`, `uuid`).
    pub fn new() -> Self {
        let builtins = [
            ("int", Kind::Int, "[0-9]+"),
            ("path", Kind::Path, ".+"),
            ("slug", Kind::Slug, "[-a-zA-Z0-9_]+"),
            ("str", Kind::Str, "[^/]+"),
            (
                "uuid",
                Kind::Uuid,
                "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
            ),
        ];
        let mut converters = Vec::with_capacity(builtins.len());
        let mut converter_index = HashMap::new();
        for (name, kind, source) in builtins {
            // The built-in regexes are constants and always compile.
            if let Ok(c) = Converter::new(kind, source) {
                converter_index.insert(name.to_owned(), converters.len());
                converters.push(c);
            }
        }
        Self {
            converters,
            converter_index,
            routes: Vec::new(),
            router: matchit::Router::new(),
            entries: Vec::new(),
            entry_index: HashMap::new(),
            fallback: Vec::new(),
            names: HashMap::new(),
        }
    }

    /// Register a custom converter (Django's `register_converter`): routes
    /// added afterwards may use `<name:param>`. A value matches when the
    /// whole of it matches `regex`; it is returned as [`PathValue::Custom`].
    ///
    /// Fails if the name is taken (including built-in names, as in Django),
    /// cannot be written in a route, or the regex does not compile.
    pub fn add_converter(&mut self, name: &str, regex: &str) -> Result<(), UrlError> {
        if self.converter_index.contains_key(name) {
            return Err(UrlError::ConverterAlreadyRegistered {
                name: name.to_owned(),
            });
        }
        if name.is_empty()
            || name
                .chars()
                .any(|c| matches!(c, ':' | '<' | '>') || is_python_whitespace(c))
        {
            return Err(UrlError::InvalidConverterName {
                name: name.to_owned(),
            });
        }
        let converter = Regex::new(regex)
            .and_then(|_| Converter::new(Kind::Custom, regex))
            .map_err(|e| UrlError::InvalidConverterRegex {
                name: name.to_owned(),
                message: e.to_string(),
            })?;
        self.converter_index
            .insert(name.to_owned(), self.converters.len());
        self.converters.push(converter);
        Ok(())
    }

    /// Add a route in Django's `path()` syntax, optionally named for
    /// [`reverse`](Self::reverse). Routes are tried in the order they are
    /// added; a leading `/` is accepted and ignored.
    pub fn add(&mut self, route: &str, name: Option<&str>, value: T) -> Result<(), UrlError> {
        let route = route.strip_prefix('/').unwrap_or(route);
        let (parts, params) = self.parse(route)?;

        let mut regex_src = String::from(r"\A");
        for part in &parts {
            match part {
                Part::Static(s) => regex_src.push_str(&regex::escape(s)),
                Part::Param(i) => {
                    let source = params
                        .get(*i)
                        .and_then(|p| self.converters.get(p.converter))
                        .map_or("[^/]+", |c| c.source.as_str());
                    regex_src.push_str(&format!("(?P<p{i}>{source})"));
                }
            }
        }
        regex_src.push_str(r"\z");
        let regex = if params.is_empty() {
            None
        } else {
            // Converter regexes were validated on their own, so this only
            // fails on pathological sizes; report it rather than never match.
            Some(
                Regex::new(&regex_src).map_err(|e| UrlError::InvalidConverterRegex {
                    name: route.to_owned(),
                    message: e.to_string(),
                })?,
            )
        };

        let index = self.routes.len();
        let shape = self.shape(&parts, &params);
        self.routes.push(Route {
            route: route.to_owned(),
            name: name.map(str::to_owned),
            value,
            params,
            parts,
            regex,
        });
        if let Some(n) = name {
            self.names.entry(n.to_owned()).or_default().push(index);
        }
        match shape {
            Some((pattern, shape)) => self.add_to_router(index, pattern, shape),
            None => self.fallback.push(index),
        }
        Ok(())
    }

    /// Resolve a request path (percent-encoded as on the wire, with its
    /// leading `/`, without the query string) to the first matching route,
    /// in registration order, like Django's `resolve()`.
    ///
    /// The path is percent-decoded first (see the
    /// [module documentation](self#request-path-decoding)); a path that does
    /// not start with `/` after decoding never matches.
    pub fn resolve(&self, path: &str) -> Result<ResolverMatch<'_, T>, Resolver404> {
        let decoded = decode_path(path);
        let Some(rest) = decoded.strip_prefix('/') else {
            return Err(Resolver404 {
                path: decoded.into_owned(),
            });
        };
        let mut best: Option<(usize, Vec<(String, PathValue)>)> = None;
        let mut overlap_routes: &[usize] = &[];
        if let Ok(m) = self.router.at(&decoded) {
            if let Some(entry) = self.entries.get(*m.value) {
                overlap_routes = &entry.overlap_routes;
                best = entry.candidates.iter().find_map(|&i| {
                    let route = self.routes.get(i)?;
                    Some((i, route.match_segments(&m.params, &self.converters)?))
                });
            }
        }
        // Routes of other shapes, or matched by regex only, win if they were
        // registered earlier (Django's first-match-in-order rule).
        for list in [overlap_routes, self.fallback.as_slice()] {
            let limit = best.as_ref().map_or(usize::MAX, |(i, _)| *i);
            let earlier = list.iter().take_while(|&&i| i < limit);
            if let Some(found) = earlier.clone().find_map(|&i| {
                let route = self.routes.get(i)?;
                Some((i, route.match_full(rest, &self.converters)?))
            }) {
                best = Some(found);
            }
        }
        match best.and_then(|(i, kwargs)| Some((self.routes.get(i)?, kwargs))) {
            Some((route, kwargs)) => Ok(ResolverMatch {
                value: &route.value,
                route: &route.route,
                url_name: route.name.as_deref(),
                kwargs,
            }),
            None => Err(Resolver404 {
                path: decoded.into_owned(),
            }),
        }
    }

    /// Whether [`resolve`](Self::resolve) would find a route for `path`
    /// (Django's `is_valid_path`, used by `APPEND_SLASH`). Takes the same
    /// raw, percent-encoded form as `resolve`.
    pub fn is_valid_path(&self, path: &str) -> bool {
        self.resolve(path).is_ok()
    }

    /// Build the URL of the route called `name` with the given keyword
    /// arguments, like Django's `reverse(name, kwargs=...)`.
    ///
    /// When several routes share a name, the last registered one is tried
    /// first and earlier ones after it, as Django does. A route is used when
    /// its parameter names are exactly the given keys and the substituted
    /// path matches the route's regex (so values rejected by a converter,
    /// e.g. `"abc"` for `<int:…>`, are refused). The result starts with `/`
    /// and is percent-encoded like Django's (`quote(…, safe="!$&'()*+,;=/~:@")`);
    /// a leading `//` is escaped as `/%2F`. Repeated keys: the last value wins.
    pub fn reverse(&self, name: &str, kwargs: &[(&str, &str)]) -> Result<String, NoReverseMatch> {
        let indices = self.names.get(name).map_or(&[][..], Vec::as_slice);
        let lookup = |key: &str| {
            kwargs
                .iter()
                .rev()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| *v)
        };
        let distinct = kwargs
            .iter()
            .enumerate()
            .filter(|(i, (k, _))| !kwargs.iter().take(*i).any(|(prev, _)| prev == k))
            .count();
        for route in indices.iter().rev().filter_map(|&i| self.routes.get(i)) {
            if route.params.len() != distinct
                || route.params.iter().any(|p| lookup(&p.name).is_none())
            {
                continue;
            }
            let mut candidate = String::with_capacity(route.route.len() + 16);
            for part in &route.parts {
                match part {
                    Part::Static(s) => candidate.push_str(s),
                    Part::Param(i) => {
                        let value = route.params.get(*i).and_then(|p| lookup(&p.name));
                        candidate.push_str(value.unwrap_or_default());
                    }
                }
            }
            if route
                .regex
                .as_ref()
                .is_some_and(|re| !re.is_match(&candidate))
            {
                continue;
            }
            let url = format!("/{}", utf8_percent_encode(&candidate, REVERSE_SAFE));
            return Ok(match url.strip_prefix("//") {
                Some(tail) => format!("/%2F{tail}"),
                None => url,
            });
        }
        Err(NoReverseMatch {
            name: name.to_owned(),
            kwargs: kwargs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            tried: indices
                .iter()
                .rev()
                .filter_map(|&i| self.routes.get(i).map(|r| r.route.clone()))
                .collect(),
        })
    }

    fn parse(&self, route: &str) -> Result<(Vec<Part>, Vec<Param>), UrlError> {
        let mut parts = Vec::new();
        let mut params: Vec<Param> = Vec::new();
        let mut previous_end = 0;
        let check_static = |text: &str| -> Result<(), UrlError> {
            match text.chars().find(|c| matches!(c, '<' | '>')) {
                Some(bracket) => Err(UrlError::UnmatchedBracket {
                    route: route.to_owned(),
                    bracket,
                }),
                None => Ok(()),
            }
        };
        for caps in parameter_re().captures_iter(route) {
            let Some(whole) = caps.get(0) else { continue };
            if whole.as_str().chars().any(is_python_whitespace) {
                return Err(UrlError::Whitespace {
                    route: route.to_owned(),
                });
            }
            let converter_name = caps.name("converter").map_or("str", |m| m.as_str());
            let parameter = caps.name("parameter").map_or("", |m| m.as_str());
            if !is_identifier(parameter) {
                return Err(UrlError::InvalidParameterName {
                    route: route.to_owned(),
                    parameter: parameter.to_owned(),
                });
            }
            let Some(&converter) = self.converter_index.get(converter_name) else {
                return Err(UrlError::InvalidConverter {
                    route: route.to_owned(),
                    converter: converter_name.to_owned(),
                });
            };
            if params.iter().any(|p| p.name == parameter) {
                return Err(UrlError::DuplicateParameter {
                    route: route.to_owned(),
                    parameter: parameter.to_owned(),
                });
            }
            let text = route.get(previous_end..whole.start()).unwrap_or_default();
            check_static(text)?;
            if !text.is_empty() {
                parts.push(Part::Static(text.to_owned()));
            }
            parts.push(Part::Param(params.len()));
            params.push(Param {
                name: parameter.to_owned(),
                group: format!("p{}", params.len()),
                converter,
            });
            previous_end = whole.end();
        }
        let text = route.get(previous_end..).unwrap_or_default();
        check_static(text)?;
        if !text.is_empty() {
            parts.push(Part::Static(text.to_owned()));
        }
        Ok((parts, params))
    }

    /// The matchit pattern and shape of a route, or `None` if the route must
    /// be matched by regex.
    fn shape(&self, parts: &[Part], params: &[Param]) -> Option<(String, Vec<Seg>)> {
        // Split into '/'-separated segments of (static text, parameters).
        let mut segments: Vec<(String, Vec<usize>)> = vec![(String::new(), Vec::new())];
        for part in parts {
            match part {
                Part::Static(s) => {
                    for (i, chunk) in s.split('/').enumerate() {
                        if i > 0 {
                            segments.push((String::new(), Vec::new()));
                        }
                        segments.last_mut()?.0.push_str(chunk);
                    }
                }
                Part::Param(p) => segments.last_mut()?.1.push(*p),
            }
        }
        let count = segments.len();
        let mut shape = Vec::with_capacity(count);
        let mut pattern = String::new();
        for (i, (text, seg_params)) in segments.into_iter().enumerate() {
            pattern.push('/');
            match seg_params.as_slice() {
                [] => {
                    pattern.push_str(&text.replace('{', "{{").replace('}', "}}"));
                    shape.push(Seg::Static(text));
                }
                [p] if text.is_empty() => {
                    let converter = self.converters.get(params.get(*p)?.converter)?;
                    if converter.segment_safe {
                        pattern.push_str(&format!("{{p{p}}}"));
                        shape.push(Seg::Param);
                    } else if converter.kind == Kind::Path && i + 1 == count {
                        pattern.push_str(&format!("{{*p{p}}}"));
                        shape.push(Seg::CatchAll);
                    } else {
                        return None;
                    }
                }
                _ => return None,
            }
        }
        Some((pattern, shape))
    }

    fn add_to_router(&mut self, index: usize, pattern: String, shape: Vec<Seg>) {
        if let Some(&e) = self.entry_index.get(&pattern) {
            if let Some(entry) = self.entries.get_mut(e) {
                entry.candidates.push(index);
                let others = entry.overlapping.clone();
                for o in others {
                    if let Some(other) = self.entries.get_mut(o) {
                        other.overlap_routes.push(index);
                    }
                }
                return;
            }
        }
        if self
            .router
            .insert(pattern.clone(), self.entries.len())
            .is_err()
        {
            // matchit refuses this shape next to an existing one (e.g. a
            // catch-all beside a parameter); regex matching is always exact.
            self.fallback.push(index);
            return;
        }
        let e = self.entries.len();
        let mut entry = Entry {
            shape,
            candidates: vec![index],
            overlapping: Vec::new(),
            overlap_routes: Vec::new(),
        };
        for (o, other) in self.entries.iter_mut().enumerate() {
            if overlaps(&entry.shape, &other.shape) {
                entry.overlapping.push(o);
                merge_sorted(&mut entry.overlap_routes, &other.candidates);
                other.overlapping.push(e);
                other.overlap_routes.push(index);
            }
        }
        self.entries.push(entry);
        self.entry_index.insert(pattern, e);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// Django's `tests/urlpatterns/path_urls.py` (the `path()` routes).
    fn path_urls() -> UrlResolver<&'static str> {
        let mut u = UrlResolver::new();
        let routes = [
            ("articles/2003/", "articles-2003"),
            ("articles/<int:year>/", "articles-year"),
            ("articles/<int:year>/<int:month>/", "articles-year-month"),
            (
                "articles/<int:year>/<int:month>/<int:day>/",
                "articles-year-month-day",
            ),
            ("books/2007/", "books-2007"),
            (
                "books/<int:year>/<int:month>/<int:day>/",
                "books-year-month-day",
            ),
            ("users/", "users"),
            ("users/<id>/", "user-with-id"),
            ("<lang>/<path:url>/", "lang-and-path"),
        ];
        for (route, name) in routes {
            u.add(route, Some(name), name).unwrap();
        }
        u
    }

    /// Django's `tests/urlpatterns/converter_urls.py`.
    fn converter_urls() -> UrlResolver<&'static str> {
        let mut u = UrlResolver::new();
        for name in ["int", "path", "slug", "str", "uuid"] {
            u.add(&format!("{name}/<{name}:{name}>/"), Some(name), name)
                .unwrap();
        }
        u
    }

    fn kw(m: &ResolverMatch<'_, &str>) -> Vec<(String, PathValue)> {
        m.kwargs.clone()
    }

    fn s(v: &str) -> PathValue {
        PathValue::Str(v.to_owned())
    }

    #[test]
    fn simplified_url_tests_test_path_lookup_without_parameters() {
        let u = path_urls();
        let m = u.resolve("/articles/2003/").unwrap();
        assert_eq!(m.url_name, Some("articles-2003"));
        assert_eq!(m.route, "articles/2003/");
        assert!(m.kwargs.is_empty());
    }

    #[test]
    fn simplified_url_tests_test_path_lookup_with_typed_parameters() {
        let u = path_urls();
        let m = u.resolve("/articles/2015/").unwrap();
        assert_eq!(m.url_name, Some("articles-year"));
        assert_eq!(m.route, "articles/<int:year>/");
        assert_eq!(kw(&m), vec![("year".to_owned(), PathValue::Int(2015))]);
        assert_eq!(*m.value, "articles-year");
    }

    #[test]
    fn simplified_url_tests_test_path_lookup_with_multiple_parameters() {
        let u = path_urls();
        let m = u.resolve("/articles/2015/04/12/").unwrap();
        assert_eq!(m.url_name, Some("articles-year-month-day"));
        assert_eq!(m.route, "articles/<int:year>/<int:month>/<int:day>/");
        assert_eq!(
            kw(&m),
            vec![
                ("year".to_owned(), PathValue::Int(2015)),
                ("month".to_owned(), PathValue::Int(4)),
                ("day".to_owned(), PathValue::Int(12)),
            ]
        );
    }

    #[test]
    fn simplified_url_tests_test_two_variable_at_start_of_path_pattern() {
        let u = path_urls();
        let m = u.resolve("/en/foo/").unwrap();
        assert_eq!(m.url_name, Some("lang-and-path"));
        assert_eq!(m.route, "<lang>/<path:url>/");
        assert_eq!(
            kw(&m),
            vec![
                ("lang".to_owned(), s("en")),
                ("url".to_owned(), PathValue::Path("foo".to_owned())),
            ]
        );
        // `path` in the middle of a route may span segments.
        let m = u.resolve("/en/a/b/c/").unwrap();
        assert_eq!(m.kwarg("url"), Some(&PathValue::Path("a/b/c".to_owned())));
    }

    #[test]
    fn simplified_url_tests_test_path_reverse_without_parameter() {
        assert_eq!(
            path_urls().reverse("articles-2003", &[]).unwrap(),
            "/articles/2003/"
        );
    }

    #[test]
    fn simplified_url_tests_test_path_reverse_with_parameter() {
        let url = path_urls()
            .reverse(
                "articles-year-month-day",
                &[("year", "2015"), ("month", "4"), ("day", "12")],
            )
            .unwrap();
        assert_eq!(url, "/articles/2015/4/12/");
    }

    #[test]
    fn simplified_url_tests_test_invalid_converter() {
        let err = UrlResolver::new()
            .add("foo/<nonexistent:var>/", None, ())
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "URL route 'foo/<nonexistent:var>/' uses invalid converter 'nonexistent'."
        );
    }

    #[test]
    fn simplified_url_tests_test_warning_override_default_converter() {
        let err = UrlResolver::<()>::new()
            .add_converter("int", "[0-9]+")
            .unwrap_err();
        assert_eq!(err.to_string(), "Converter 'int' is already registered.");
    }

    #[test]
    fn simplified_url_tests_test_warning_override_converter() {
        let mut u = UrlResolver::<()>::new();
        u.add_converter("base64", "[a-zA-Z0-9+/]*={0,2}").unwrap();
        let err = u.add_converter("base64", "x").unwrap_err();
        assert_eq!(err.to_string(), "Converter 'base64' is already registered.");
    }

    #[test]
    fn simplified_url_tests_test_whitespace_in_route() {
        for ws in [" ", "\t", "\n", "\r", "\x0b", "\x0c"] {
            let route = format!("space/<int:num>/extra/<str:{ws}test>");
            let err = UrlResolver::new().add(&route, None, ()).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("URL route '{route}' cannot contain whitespace in angle brackets <…>.")
            );
        }
        // Whitespace is valid outside the brackets.
        let mut u = UrlResolver::new();
        u.add("space \t\n\r\x0b\x0c/<int:num>/", None, ()).unwrap();
        let m = u.resolve("/space%20%09%0A%0D%0B%0C/1/").unwrap();
        assert_eq!(m.kwarg("num"), Some(&PathValue::Int(1)));
    }

    #[test]
    fn simplified_url_tests_test_path_trailing_newlines() {
        let u = path_urls();
        for url in [
            "/articles/2003/\n",
            "/articles/2010/\n",
            "/en/foo/\n",
            "/users/1/\n",
            "/articles/2003/%0A",
            "/en/foo/%0A",
        ] {
            assert!(u.resolve(url).is_err(), "{url:?}");
        }
    }

    #[test]
    fn converter_tests_test_matching_urls() {
        let u = converter_urls();
        let cases: [(&str, &str, PathValue); 7] = [
            ("int", "0", PathValue::Int(0)),
            ("int", "01", PathValue::Int(1)),
            ("int", "1234567890", PathValue::Int(1_234_567_890)),
            ("str", "abcxyz", s("abcxyz")),
            (
                "path",
                "allows.ANY*characters",
                PathValue::Path("allows.ANY*characters".into()),
            ),
            (
                "slug",
                "abcxyz-ABCXYZ_01234567890",
                PathValue::Slug("abcxyz-ABCXYZ_01234567890".into()),
            ),
            (
                "uuid",
                "39da9369-838e-4750-91a5-f7805cd82839",
                PathValue::Uuid("39da9369-838e-4750-91a5-f7805cd82839".into()),
            ),
        ];
        for (name, suffix, value) in cases {
            let url = format!("/{name}/{suffix}/");
            let m = u.resolve(&url).unwrap();
            assert_eq!(m.url_name, Some(name), "{url}");
            assert_eq!(m.kwargs, vec![(name.to_owned(), value.clone())], "{url}");
            // reverse() works with string parameters...
            assert_eq!(u.reverse(name, &[(name, suffix)]).unwrap(), url);
            // ...and with the converted value.
            let text = value.as_text();
            assert_eq!(
                u.reverse(name, &[(name, &text)]).unwrap(),
                format!("/{name}/{text}/")
            );
        }
    }

    #[test]
    fn converter_tests_test_nonmatching_urls() {
        let u = converter_urls();
        let cases: &[(&str, &[&str])] = &[
            ("int", &["-1", "letters"]),
            ("str", &["", "/"]),
            ("path", &[""]),
            ("slug", &["", "stars*notallowed"]),
            (
                "uuid",
                &[
                    "",
                    "9da9369-838e-4750-91a5-f7805cd82839",
                    "39da9369-838-4750-91a5-f7805cd82839",
                    "39da9369-838e-475-91a5-f7805cd82839",
                    "39da9369-838e-4750-91a-f7805cd82839",
                    "39da9369-838e-4750-91a5-f7805cd8283",
                    "39DA9369-838E-4750-91A5-F7805CD82839",
                ],
            ),
        ];
        for (name, suffixes) in cases {
            for suffix in *suffixes {
                let url = format!("/{name}/{suffix}/");
                assert!(u.resolve(&url).is_err(), "{url}");
            }
        }
    }

    #[test]
    fn converter_tests_int_overflow_is_no_match() {
        let u = converter_urls();
        assert!(u.resolve("/int/18446744073709551615/").is_ok());
        assert!(u.resolve("/int/18446744073709551616/").is_err());
    }

    #[test]
    fn same_name_tests_test_matching_urls_same_name() {
        // Django's path_same_name_urls.py (kwargs and converter variants).
        let mut u = UrlResolver::new();
        u.add("kwargs_names/a/<int:a>/", Some("kwargs_names"), 1)
            .unwrap();
        u.add("kwargs_names/b/<int:b>/", Some("kwargs_names"), 2)
            .unwrap();
        for conv in ["path", "str", "slug", "int", "uuid"] {
            u.add(
                &format!("converter/{conv}/<{conv}:var>/"),
                Some("converter"),
                3,
            )
            .unwrap();
        }
        assert_eq!(
            u.reverse("kwargs_names", &[("a", "1")]).unwrap(),
            "/kwargs_names/a/1/"
        );
        assert_eq!(
            u.reverse("kwargs_names", &[("b", "1")]).unwrap(),
            "/kwargs_names/b/1/"
        );
        // Last defined is tried first; values rejected fall through to earlier ones.
        let cases = [
            ("a/b", "/converter/path/a/b/"),
            ("a b", "/converter/str/a%20b/"),
            ("a-b", "/converter/slug/a-b/"),
            ("2", "/converter/int/2/"),
            (
                "39da9369-838e-4750-91a5-f7805cd82839",
                "/converter/uuid/39da9369-838e-4750-91a5-f7805cd82839/",
            ),
        ];
        for (value, expected) in cases {
            assert_eq!(u.reverse("converter", &[("var", value)]).unwrap(), expected);
        }
    }

    #[test]
    fn parameter_restriction_tests_test_integer_parameter_name_causes_exception() {
        let err = UrlResolver::new()
            .add("hello/<int:1>/", None, ())
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "URL route 'hello/<int:1>/' uses parameter name '1' which isn't a valid Python identifier."
        );
    }

    #[test]
    fn parameter_restriction_tests_test_non_identifier_parameter_name_causes_exception() {
        let err = UrlResolver::new()
            .add("b/<int:book.id>/", None, ())
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "URL route 'b/<int:book.id>/' uses parameter name 'book.id' which isn't a valid Python identifier."
        );
    }

    #[test]
    fn parameter_restriction_tests_test_allows_non_ascii_but_valid_identifiers() {
        let mut u = UrlResolver::new();
        u.add("hello/<str:\u{394}>/", None, ()).unwrap();
        let m = u.resolve("/hello/1/").unwrap();
        assert_eq!(m.kwarg("\u{394}"), Some(&s("1")));
    }

    #[test]
    fn conversion_exception_tests_test_reverse_value_error_means_no_match() {
        let u = path_urls();
        let err = u.reverse("articles-year", &[("year", "abc")]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Reverse for 'articles-year' with keyword arguments '{'year': 'abc'}' not found. \
             1 pattern(s) tried: ['articles/<int:year>/']"
        );
        // Wrong or missing keys.
        assert!(u.reverse("articles-year", &[]).is_err());
        assert!(u
            .reverse("articles-year", &[("year", "1"), ("x", "2")])
            .is_err());
        let err = u.reverse("nope", &[]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Reverse for 'nope' not found. 'nope' is not a valid view function or pattern name."
        );
    }

    #[test]
    fn route_syntax_errors() {
        let mut u = UrlResolver::new();
        assert!(matches!(
            u.add("a/<int:x", None, ()),
            Err(UrlError::UnmatchedBracket { bracket: '<', .. })
        ));
        assert!(matches!(
            u.add("a/x>/", None, ()),
            Err(UrlError::UnmatchedBracket { bracket: '>', .. })
        ));
        assert!(matches!(
            u.add("<int:x>/<str:x>/", None, ()),
            Err(UrlError::DuplicateParameter { .. })
        ));
        assert!(matches!(
            u.add("<a:b:c>/", None, ()),
            // Django checks the name ("b:c") before the converter.
            Err(UrlError::InvalidParameterName { .. })
        ));
        assert!(matches!(
            u.add("<>/", None, ()),
            Err(UrlError::UnmatchedBracket { .. })
        ));
        assert!(matches!(
            u.add_converter("bad name", "x"),
            Err(UrlError::InvalidConverterName { .. })
        ));
        assert!(matches!(
            u.add_converter("bad", "a)|(b"),
            Err(UrlError::InvalidConverterRegex { .. })
        ));
        assert!(u.routes.is_empty());
    }

    #[test]
    fn inclusion_order_first_registered_wins() {
        // Static registered first wins (Django docs' articles/2003/ example).
        let u = path_urls();
        assert_eq!(
            u.resolve("/articles/2003/").unwrap().url_name,
            Some("articles-2003")
        );
        // Parameter route registered before a static one of the same shape:
        // Django picks the parameter route; so do we (matchit alone would not).
        let mut u = UrlResolver::new();
        u.add("items/<slug:s>/", None, "slug").unwrap();
        u.add("items/new/", None, "new").unwrap();
        u.add("items/<int:id>/", None, "int").unwrap();
        assert_eq!(*u.resolve("/items/new/").unwrap().value, "slug");
        assert_eq!(*u.resolve("/items/12/").unwrap().value, "slug");
        assert_eq!(*u.resolve("/items/a.b/").unwrap_err().path, *"/items/a.b/");
        // Same shape, different converters: tried in order.
        let mut u = UrlResolver::new();
        u.add("items/<int:id>/", None, "int").unwrap();
        u.add("items/<slug:s>/", None, "slug").unwrap();
        u.add("items/<str:s>/", None, "str").unwrap();
        assert_eq!(*u.resolve("/items/12/").unwrap().value, "int");
        assert_eq!(*u.resolve("/items/a-b/").unwrap().value, "slug");
        assert_eq!(*u.resolve("/items/a.b/").unwrap().value, "str");
        // Catch-all registered first beats later, more specific routes.
        let mut u = UrlResolver::new();
        u.add("files/<path:p>", None, "path").unwrap();
        u.add("files/readme", None, "static").unwrap();
        assert_eq!(*u.resolve("/files/readme").unwrap().value, "path");
    }

    #[test]
    fn empty_route_matches_root() {
        let mut u = UrlResolver::new();
        u.add("", Some("home"), "home").unwrap();
        assert_eq!(*u.resolve("/").unwrap().value, "home");
        assert!(u.resolve("/x").is_err());
        assert!(u.resolve("").is_err());
        assert_eq!(u.reverse("home", &[]).unwrap(), "/");
    }

    #[test]
    fn trailing_slash_is_significant() {
        let mut u = UrlResolver::new();
        u.add("hello", None, "no-slash").unwrap();
        u.add("/hello/", None, "slash").unwrap();
        assert_eq!(*u.resolve("/hello").unwrap().value, "no-slash");
        assert_eq!(*u.resolve("/hello/").unwrap().value, "slash");
        assert_eq!(u.resolve("/hello/").unwrap().route, "hello/");
        let mut u = UrlResolver::new();
        u.add("only/", None, ()).unwrap();
        assert!(!u.is_valid_path("/only"));
        assert!(u.is_valid_path("/only/"));
    }

    #[test]
    fn percent_decoding_before_matching() {
        let mut u = UrlResolver::new();
        u.add("hello/", None, "hello").unwrap();
        u.add("caf\u{e9}/<str:x>/", None, "cafe").unwrap();
        // %2F is decoded to '/' before matching, as a WSGI/ASGI server does.
        assert!(u.is_valid_path("/hello%2F"));
        assert!(u.is_valid_path("/%68ello/"));
        let m = u.resolve("/caf%C3%A9/a%20b/").unwrap();
        assert_eq!(m.kwarg("x"), Some(&s("a b")));
        assert!(u.is_valid_path("/caf\u{e9}/x/"));
    }

    #[test]
    fn malformed_percent_encoding_does_not_panic() {
        let mut u = UrlResolver::new();
        u.add("<str:x>/", None, ()).unwrap();
        u.add("p/<path:rest>", None, ()).unwrap();
        // Malformed escapes are kept literally.
        assert_eq!(u.resolve("/%zz/").unwrap().kwarg("x"), Some(&s("%zz")));
        assert_eq!(u.resolve("/%4/").unwrap().kwarg("x"), Some(&s("%4")));
        assert!(u.resolve("/p/%").is_ok());
        // Invalid UTF-8 is re-percent-encoded (Django's repercent_broken_unicode).
        assert_eq!(
            u.resolve("/caf%E9/").unwrap().kwarg("x"),
            Some(&s("caf%E9"))
        );
        assert_eq!(
            u.resolve("/%FF%FE%C3/").unwrap().kwarg("x"),
            Some(&s("%FF%FE%C3"))
        );
        assert_eq!(
            u.resolve("/a%E2%82b/").unwrap().kwarg("x"),
            Some(&s("a%E2%82b"))
        );
        for p in ["%", "%%", "/%", "/%C3", "/\u{0}", "//", "/%00/", "/%2F%2F"] {
            let _ = u.resolve(p);
        }
    }

    #[test]
    fn unicode_paths() {
        let mut u = UrlResolver::new();
        u.add("\u{65e5}\u{672c}/<str:w>/", Some("jp"), ()).unwrap();
        let m = u.resolve("/%E6%97%A5%E6%9C%AC/%E8%AA%9E/").unwrap();
        assert_eq!(m.kwarg("w"), Some(&s("\u{8a9e}")));
        assert_eq!(
            u.reverse("jp", &[("w", "\u{8a9e}")]).unwrap(),
            "/%E6%97%A5%E6%9C%AC/%E8%AA%9E/"
        );
        // slug is ASCII-only, like Django's.
        let mut u = UrlResolver::new();
        u.add("<slug:s>/", None, ()).unwrap();
        assert!(u.resolve("/caf%C3%A9/").is_err());
    }

    #[test]
    fn over_long_paths() {
        let mut u = UrlResolver::new();
        u.add("<str:x>/", None, ()).unwrap();
        u.add("a/<path:p>", None, ()).unwrap();
        let long = "x".repeat(200_000);
        assert!(u.resolve(&format!("/{long}/")).is_ok());
        assert!(u.resolve(&format!("/{long}/{long}")).is_err());
        assert!(u.resolve(&format!("/a/{}", "%2F".repeat(50_000))).is_ok());
        assert!(u.resolve(&"/".repeat(100_000)).is_err());
    }

    #[test]
    fn reverse_percent_encoding() {
        let mut u = UrlResolver::new();
        u.add("s/<str:x>/", Some("s"), ()).unwrap();
        u.add("<path:p>", Some("p"), ()).unwrap();
        assert_eq!(
            u.reverse("s", &[("x", "a b?c#d%e&f=g:@~!$'()*+,;")])
                .unwrap(),
            "/s/a%20b%3Fc%23d%25e&f=g:@~!$'()*+,;/"
        );
        // str rejects '/', path accepts it.
        assert!(u.reverse("s", &[("x", "a/b")]).is_err());
        assert_eq!(u.reverse("p", &[("p", "a/b")]).unwrap(), "/a/b");
        // No scheme-relative URLs.
        assert_eq!(
            u.reverse("p", &[("p", "/evil.com")]).unwrap(),
            "/%2Fevil.com"
        );
        // Round trip.
        let url = u.reverse("s", &[("x", "\u{e9} %")]).unwrap();
        assert_eq!(u.resolve(&url).unwrap().kwarg("x"), Some(&s("\u{e9} %")));
    }

    #[test]
    fn custom_converters() {
        let mut u = UrlResolver::new();
        u.add_converter("year", "[0-9]{4}").unwrap();
        u.add_converter("base64", "[a-zA-Z0-9+/]*={0,2}").unwrap();
        u.add_converter("ym", "[0-9]{4}/[0-9]{2}").unwrap();
        u.add("y/<year:y>/", Some("y"), "year").unwrap();
        u.add("b/<base64:v>/", Some("b"), "b64").unwrap();
        u.add("m/<ym:d>/", None, "ym").unwrap();
        assert!(u
            .converters
            .iter()
            .any(|c| c.kind == Kind::Custom && c.segment_safe));
        let m = u.resolve("/y/2024/").unwrap();
        assert_eq!(m.kwarg("y"), Some(&PathValue::Custom("2024".into())));
        assert!(u.resolve("/y/20245/").is_err());
        // Converters that can match '/' or "" work via regex matching.
        assert_eq!(
            u.resolve("/b/YQ==/").unwrap().kwarg("v"),
            Some(&PathValue::Custom("YQ==".into()))
        );
        assert_eq!(
            u.resolve("/b/a/b/").unwrap().kwarg("v"),
            Some(&PathValue::Custom("a/b".into()))
        );
        assert!(u.resolve("/b//").is_ok());
        assert_eq!(*u.resolve("/m/2024/05/").unwrap().value, "ym");
        assert_eq!(u.reverse("y", &[("y", "1999")]).unwrap(), "/y/1999/");
        assert!(u.reverse("y", &[("y", "99")]).is_err());
    }

    #[test]
    fn params_sharing_a_segment_use_regex_matching() {
        let mut u = UrlResolver::new();
        u.add("d/<int:y>-<int:m>/", None, "ym").unwrap();
        u.add("page<int:n>.html", None, "page").unwrap();
        u.add("{braces}/<int:n>", None, "braces").unwrap();
        let m = u.resolve("/d/2024-05/").unwrap();
        assert_eq!(m.kwarg("m"), Some(&PathValue::Int(5)));
        assert_eq!(*u.resolve("/page3.html").unwrap().value, "page");
        assert!(u.resolve("/pagex.html").is_err());
        assert_eq!(*u.resolve("/%7Bbraces%7D/1").unwrap().value, "braces");
        assert_eq!(u.fallback.len(), 2);
    }

    /// Django's semantics as a reference: try every route's regex in order.
    fn reference<T>(u: &UrlResolver<T>, path: &str) -> Option<usize> {
        let decoded = decode_path(path);
        let rest = decoded.strip_prefix('/')?;
        u.routes
            .iter()
            .position(|r| r.match_full(rest, &u.converters).is_some())
    }

    #[test]
    fn matches_ordered_regex_reference() {
        let routes = [
            "a/<int:x>/",
            "a/new/",
            "<slug:s>/new/",
            "a/<str:x>/",
            "<str:x>/<str:y>/",
            "a/<int:x>/<path:rest>",
            "a/b/c",
            "<path:p>/",
            "",
            "<int:n>",
            "a/b/<uuid:u>",
            "<str:a>/b/<int:c>",
            "a/<slug:s>/c",
            "<path:all>",
            "x/<int:y>-<int:z>",
        ];
        let paths = [
            "/",
            "/a/1/",
            "/a/new/",
            "/b/new/",
            "/a/x y/",
            "/a/1/2/3",
            "/a/b/c",
            "/a/b/c/",
            "/z/",
            "/7",
            "/a/b/39da9369-838e-4750-91a5-f7805cd82839",
            "/q/b/3",
            "/a/b/3",
            "/a/s-s/c",
            "/x/1-2",
            "/a//",
            "//",
            "/a/1/x",
            "/new/new/",
            "/a%2Fnew%2F",
        ];
        // Every prefix and every rotation of the route list.
        for start in 0..routes.len() {
            for len in 1..=routes.len() {
                let mut u = UrlResolver::new();
                for k in 0..len {
                    let route = routes[(start + k) % routes.len()];
                    u.add(route, None, route).unwrap();
                }
                for p in paths {
                    let expected = reference(&u, p).map(|i| u.routes[i].route.as_str());
                    let got = u.resolve(p).ok().map(|m| m.route);
                    assert_eq!(got, expected, "path {p:?}, start {start}, len {len}");
                }
            }
        }
    }

    #[test]
    fn repeated_kwarg_last_wins_and_no_panic_on_empty_name_table() {
        let u = path_urls();
        assert_eq!(
            u.reverse("articles-year", &[("year", "x"), ("year", "2000")])
                .unwrap(),
            "/articles/2000/"
        );
        let empty = UrlResolver::<()>::default();
        assert!(empty.resolve("/").is_err());
        assert!(empty.reverse("x", &[]).is_err());
    }

    #[test]
    fn slash_safety_heuristic() {
        assert!(regex_excludes_slash("[0-9]{4}"));
        assert!(regex_excludes_slash("[a-z.]+"));
        assert!(regex_excludes_slash(r"\d+|\w+"));
        assert!(!regex_excludes_slash("[^x]+"));
        assert!(!regex_excludes_slash(".+"));
        assert!(!regex_excludes_slash("[+-9]+"));
        assert!(!regex_excludes_slash("[.-9]"));
        assert!(!regex_excludes_slash(r"\D"));
        assert!(!regex_excludes_slash("a/b"));
    }
}
