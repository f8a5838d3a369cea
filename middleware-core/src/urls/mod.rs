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

mod converter;
mod index;
mod path;
mod pattern;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::fmt;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use regex::Regex;

use converter::{Converter, Kind};
use index::Entry;
use path::decode_path;
use pattern::{is_python_whitespace, Part, Route};

pub use crate::view::PathValue;

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
}
