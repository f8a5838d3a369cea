//! A route in Django's `path()` syntax: parsing it into parts and parameters, its Django-style
//! regex, and the matchit shape it gets when its parameters each fill a segment.

use std::sync::OnceLock;

use regex::Regex;

use super::converter::{Converter, Kind};
use super::index::Seg;
use super::{PathValue, UrlError, UrlResolver};

#[derive(Debug)]
pub(super) enum Part {
    Static(String),
    Param(usize),
}

#[derive(Debug)]
pub(super) struct Param {
    pub(super) name: String,
    /// The capture group in the route regex (`p0`, `p1`, …).
    pub(super) group: String,
    pub(super) converter: usize,
}

#[derive(Debug)]
pub(super) struct Route<T> {
    pub(super) route: String,
    pub(super) name: Option<String>,
    pub(super) value: T,
    pub(super) params: Vec<Param>,
    pub(super) parts: Vec<Part>,
    /// Django's route regex (`\A…\z`, groups `p0`, `p1`, …); `None` for
    /// routes without parameters, which compare literally.
    pub(super) regex: Option<Regex>,
}

impl<T> Route<T> {
    /// Django's `RoutePattern.match` on the path without its leading `/`.
    pub(super) fn match_full(
        &self,
        rest: &str,
        converters: &[Converter],
    ) -> Option<Vec<(String, PathValue)>> {
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
    pub(super) fn match_segments(
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

pub(super) fn parameter_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        // Django's `_PATH_PARAMETER_COMPONENT_RE`.
        #[allow(clippy::expect_used)]
        Regex::new(r"<(?:(?P<converter>[^>:]+):)?(?P<parameter>[^>]+)>")
            .expect("constant regex compiles")
    })
}

pub(super) fn is_python_whitespace(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c')
}

pub(super) fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_alphabetic())
        && chars.all(|c| c == '_' || c.is_alphanumeric())
}

impl<T> UrlResolver<T> {
    pub(super) fn parse(&self, route: &str) -> Result<(Vec<Part>, Vec<Param>), UrlError> {
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
    pub(super) fn shape(&self, parts: &[Part], params: &[Param]) -> Option<(String, Vec<Seg>)> {
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
}
