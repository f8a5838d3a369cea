//! Path converters (`django.urls.converters`): the built-in ones and those registered with
//! [`UrlResolver::add_converter`](super::UrlResolver::add_converter).

use regex::Regex;

use super::PathValue;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Int,
    Str,
    Slug,
    Uuid,
    Path,
    Custom,
}

#[derive(Debug)]
pub(super) struct Converter {
    pub(super) kind: Kind,
    /// The regex as embedded in a route regex.
    pub(super) source: String,
    /// `\A(?:source)\z`, to validate one captured value.
    pub(super) full: Regex,
    /// The converter can only match non-empty text without `/`, so it can be
    /// a matchit segment parameter.
    pub(super) segment_safe: bool,
}

impl Converter {
    pub(super) fn new(kind: Kind, source: &str) -> Result<Self, regex::Error> {
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

    pub(super) fn to_value(&self, text: &str) -> Option<PathValue> {
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
pub(super) fn regex_excludes_slash(source: &str) -> bool {
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
