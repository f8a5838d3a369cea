//! Django's `django.contrib.auth.password_validation`: `AUTH_PASSWORD_VALIDATORS` and its four
//! validators, with Django's option names, messages, error codes and help texts.
//!
//! ```
//! use middleware_builtin::auth::password_validation::PasswordValidators;
//! use middleware_builtin::auth::User;
//!
//! let settings = middleware_core::Settings::from_toml_str(r#"
//!     [[AUTH_PASSWORD_VALIDATORS]]
//!     NAME = "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
//!     [[AUTH_PASSWORD_VALIDATORS]]
//!     NAME = "django.contrib.auth.password_validation.MinimumLengthValidator"
//!     OPTIONS = { min_length = 12 }
//! "#, "settings.toml").unwrap();
//! let validators = PasswordValidators::from_settings(&settings).unwrap();
//! let alice = User::new("1", "alice_wonderland", "!");
//! let errors = validators.validate_password("wonderland", Some(&alice)).unwrap_err();
//! assert_eq!(errors.messages(), [
//!     "The password is too similar to the username.",
//!     "This password is too short. It must contain at least 12 characters.",
//! ]);
//! assert!(validators.validate_password("correct horse battery", Some(&alice)).is_ok());
//! ```
//!
//! The setting is read once, when `AuthenticationMiddleware` starts (or a management command
//! does): an unknown `NAME`, an unknown option or a bad value stops the start with a message
//! naming `AUTH_PASSWORD_VALIDATORS`. Like Django, nothing validates unless asked: the
//! `createsuperuser` and `changepassword` commands do, a password form's view calls
//! [`super::validate_password`] (the chain's validators) or
//! [`PasswordValidators::validate_password`].

use std::collections::HashSet;
use std::fmt;
use std::io::Read;
use std::sync::{Arc, LazyLock};

use middleware_core::error::html_escape;
use middleware_core::{Settings, SettingsError};
use regex::Regex;

use super::user::User;

middleware_core::declare_settings! {
    /// The setting this module reads.
    pub struct PasswordValidationSettings {
        /// Django's default (the example site has `startproject`'s four). Django's list of `{
        /// NAME, OPTIONS }`: `django.contrib.auth.password_validation.UserAttributeSimilarityValidator`
        /// (`user_attributes`, `max_similarity`), `MinimumLengthValidator` (`min_length`),
        /// `CommonPasswordValidator` (`password_list_path`; default Django's own list),
        /// `NumericPasswordValidator`. Checked by `createsuperuser`, `changepassword` and
        /// `auth::validate_password`; an unknown `NAME` or option fails at start-up
        AUTH_PASSWORD_VALIDATORS => validators: Vec<toml::Table> = [],
    }
}

const SETTING: &str = "AUTH_PASSWORD_VALIDATORS";
const PREFIX: &str = "django.contrib.auth.password_validation.";

/// Django's common-passwords list (19,640 passwords), gzipped as Django ships it; see
/// `data/NOTICE` for its origin and licence.
static COMMON_PASSWORDS_GZ: &[u8] = include_bytes!("../../data/common-passwords.txt.gz");

/// The default list, unpacked once on first use (shared by every validator that uses it).
static DEFAULT_PASSWORDS: LazyLock<Result<Arc<HashSet<String>>, String>> =
    LazyLock::new(|| read_password_list(COMMON_PASSWORDS_GZ).map(Arc::new));

/// Python's `\W+` on `str`: a run of characters that are neither letters, numbers (any
/// `\p{N}`: Python's `str.isalnum`) nor `_`.
static NON_WORD: LazyLock<Result<Regex, regex::Error>> =
    LazyLock::new(|| Regex::new(r"[^\p{L}\p{N}_]+"));

/// One password that a validator refused: Django's `ValidationError` with its `code`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ValidationError {
    /// Django's error code, e.g. `password_too_short`.
    pub code: String,
    /// The message, as Django words it.
    pub message: String,
}

impl ValidationError {
    /// An error with Django's `code` and `message`.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        ValidationError {
            code: code.into(),
            message: message.into(),
        }
    }
}

/// Every validator's refusal, in the order of `AUTH_PASSWORD_VALIDATORS` (the
/// `ValidationError(errors)` of Django's `validate_password`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidationErrors(pub Vec<ValidationError>);

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.messages().join(" "))
    }
}

impl std::error::Error for ValidationErrors {}

impl ValidationErrors {
    /// Django's `error.messages`.
    pub fn messages(&self) -> Vec<&str> {
        self.0.iter().map(|e| e.message.as_str()).collect()
    }
}

/// A password validator: Django's protocol of `validate(password, user=None)` and
/// `get_help_text()`. The four of Django are below; others can be given to
/// [`PasswordValidators::new`].
pub trait PasswordValidator: Send + Sync + fmt::Debug {
    /// `Ok` when `password` is acceptable for `user` (`None`: a user not known yet).
    fn validate(&self, password: &str, user: Option<&User>) -> Result<(), ValidationError>;
    /// Django's `get_help_text()`: what a password must be, for a form.
    fn help_text(&self) -> String;
}

/// The validators of `AUTH_PASSWORD_VALIDATORS`, in order (Django's
/// `get_default_password_validators()`); empty by default, as Django's setting.
#[derive(Clone, Debug, Default)]
pub struct PasswordValidators(Vec<Arc<dyn PasswordValidator>>);

impl PasswordValidators {
    /// These validators, in this order (Django's `password_validators` argument).
    pub fn new(validators: Vec<Arc<dyn PasswordValidator>>) -> Self {
        PasswordValidators(validators)
    }

    /// `AUTH_PASSWORD_VALIDATORS`: a list of tables with Django's `NAME` and `OPTIONS`.
    pub fn from_settings(settings: &Settings) -> Result<Self, SettingsError> {
        let entries = PasswordValidationSettings::from_settings(settings)?.validators;
        let mut validators = Vec::with_capacity(entries.len());
        for entry in entries {
            validators.push(from_entry(settings, entry)?);
        }
        Ok(PasswordValidators(validators))
    }

    /// The validators, in order.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<dyn PasswordValidator>> {
        self.0.iter()
    }

    /// Whether there are none (every password is accepted).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Django's `validate_password(password, user)`: runs every validator; `Err` holds each
    /// refusal, in order.
    pub fn validate_password(
        &self,
        password: &str,
        user: Option<&User>,
    ) -> Result<(), ValidationErrors> {
        let errors: Vec<ValidationError> = self
            .0
            .iter()
            .filter_map(|v| v.validate(password, user).err())
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ValidationErrors(errors))
        }
    }

    /// Django's `password_validators_help_texts()`.
    pub fn help_texts(&self) -> Vec<String> {
        self.0.iter().map(|v| v.help_text()).collect()
    }

    /// Django's `password_validators_help_text_html()`: the help texts, escaped, as `<ul>` of
    /// `<li>`; empty when there are no validators.
    pub fn help_text_html(&self) -> String {
        let items: String = self
            .help_texts()
            .iter()
            .map(|t| format!("<li>{}</li>", html_escape(t)))
            .collect();
        if items.is_empty() {
            items
        } else {
            format!("<ul>{items}</ul>")
        }
    }
}

/// One entry of the setting: `NAME` resolved, `OPTIONS` checked as the class's `__init__`
/// would (an unknown option is Django's `TypeError`, here a start-up error).
fn from_entry(
    settings: &Settings,
    mut entry: toml::Table,
) -> Result<Arc<dyn PasswordValidator>, SettingsError> {
    let invalid = |message: String, hint: &str| settings.invalid(SETTING, message, hint);
    let name = match entry.remove("NAME") {
        Some(toml::Value::String(name)) => name,
        _ => return Err(invalid(
            "each entry needs a NAME (a string)".to_owned(),
            "e.g. { NAME = \"django.contrib.auth.password_validation.MinimumLengthValidator\" }",
        )),
    };
    let options = match entry.remove("OPTIONS") {
        None => toml::Table::new(),
        Some(toml::Value::Table(t)) => t,
        Some(_) => {
            return Err(invalid(
                format!("OPTIONS of {name} must be a table"),
                "e.g. OPTIONS = { min_length = 9 }",
            ))
        }
    };
    if let Some(key) = entry.keys().next() {
        return Err(invalid(
            format!("unknown key {key:?} in the entry of {name}"),
            "an entry has NAME and OPTIONS",
        ));
    }
    let mut options = Options {
        settings,
        name: &name,
        table: options,
    };
    let validator: Arc<dyn PasswordValidator> =
        match name.strip_prefix(PREFIX) {
            Some("UserAttributeSimilarityValidator") => {
                let attributes = options.take("user_attributes", "a list of strings")?;
                let max_similarity: Option<f64> = match options.table.remove("max_similarity") {
                    None => None,
                    Some(toml::Value::Float(f)) => Some(f),
                    Some(toml::Value::Integer(i)) => Some(i as f64),
                    Some(_) => return Err(options.bad("max_similarity", "a number")),
                };
                options.done("user_attributes, max_similarity")?;
                let mut v = UserAttributeSimilarityValidator::default();
                if let Some(attributes) = attributes {
                    v.user_attributes = attributes;
                }
                if let Some(max) = max_similarity {
                    v = v.with_max_similarity(max).map_err(|e| {
                        invalid(format!("{name}: {e}"), "give max_similarity >= 0.1")
                    })?;
                }
                Arc::new(v)
            }
            Some("MinimumLengthValidator") => {
                let min_length = options.take("min_length", "an integer")?;
                options.done("min_length")?;
                Arc::new(MinimumLengthValidator::new(min_length.unwrap_or(8)))
            }
            Some("CommonPasswordValidator") => {
                let path: Option<String> = options.take("password_list_path", "a path")?;
                options.done("password_list_path")?;
                let v = match &path {
                    None => CommonPasswordValidator::new(),
                    Some(path) => CommonPasswordValidator::from_path(path),
                };
                Arc::new(v.map_err(|e| {
                    invalid(
                    format!("{name}: {e}"),
                    "password_list_path names a readable file, one password a line, gzipped or not",
                )
                })?)
            }
            Some("NumericPasswordValidator") => {
                options.done("none")?;
                Arc::new(NumericPasswordValidator)
            }
            _ => return Err(invalid(
                format!(
                    "The module in NAME could not be imported: {name}. Check your \
                     AUTH_PASSWORD_VALIDATORS setting."
                ),
                "use django.contrib.auth.password_validation.UserAttributeSimilarityValidator, \
                 MinimumLengthValidator, CommonPasswordValidator or NumericPasswordValidator",
            )),
        };
    Ok(validator)
}

/// An entry's `OPTIONS`, taken one by one so that what is left over is an error.
struct Options<'a> {
    settings: &'a Settings,
    name: &'a str,
    table: toml::Table,
}

impl Options<'_> {
    fn bad(&self, key: &str, expected: &str) -> SettingsError {
        self.settings.invalid(
            SETTING,
            format!("OPTIONS {key} of {} must be {expected}", self.name),
            format!("give {key} {expected}, as Django's"),
        )
    }

    fn take<T: serde::de::DeserializeOwned>(
        &mut self,
        key: &str,
        expected: &str,
    ) -> Result<Option<T>, SettingsError> {
        match self.table.remove(key) {
            None => Ok(None),
            Some(v) => v.try_into().map(Some).map_err(|_| self.bad(key, expected)),
        }
    }

    fn done(&self, known: &str) -> Result<(), SettingsError> {
        match self.table.keys().next() {
            None => Ok(()),
            Some(key) => Err(self.settings.invalid(
                SETTING,
                format!("{} got an unexpected option {key:?}", self.name),
                format!("its OPTIONS are: {known}"),
            )),
        }
    }
}

/// Python's `str.lower()`. Rust's `to_lowercase` has the same full mappings (final sigma too).
fn lower(s: &str) -> String {
    s.to_lowercase()
}

/// Python's `len()` of a `str`: code points.
fn py_len(s: &str) -> usize {
    s.chars().count()
}

/// Python's `str.isspace()`: Unicode's White_Space plus the separators U+001C..U+001F.
fn py_isspace(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Python's `str.strip()` (no argument).
fn py_strip(s: &str) -> &str {
    s.trim_matches(py_isspace)
}

/// Python's `str.isdigit()` of a whole string: one character or more, each `\p{Nd}` or of
/// Numeric_Type Digit (superscripts, circled digits...: the ranges below, from Python 3.12's
/// `unicodedata`, Unicode 15.0).
static NUMERIC: LazyLock<Result<Regex, regex::Error>> = LazyLock::new(|| {
    Regex::new(concat!(
        r"^[\p{Nd}\x{B2}-\x{B3}\x{B9}\x{1369}-\x{1371}\x{19DA}\x{2070}\x{2074}-\x{2079}",
        r"\x{2080}-\x{2089}\x{2460}-\x{2468}\x{2474}-\x{247C}\x{2488}-\x{2490}\x{24EA}",
        r"\x{24F5}-\x{24FD}\x{24FF}\x{2776}-\x{277E}\x{2780}-\x{2788}\x{278A}-\x{2792}",
        r"\x{10A40}-\x{10A43}\x{10E60}-\x{10E68}\x{11052}-\x{1105A}\x{1F100}-\x{1F10A}]+$",
    ))
});

/// Python's `password.isdigit()`.
fn py_isdigit(password: &str) -> bool {
    match &*NUMERIC {
        Ok(re) => re.is_match(password),
        // Not reached (the pattern is a constant that the tests compile): ASCII digits.
        Err(_) => !password.is_empty() && password.bytes().all(|b| b.is_ascii_digit()),
    }
}

/// Python's `difflib.SequenceMatcher(a=a, b=b).quick_ratio()`, over code points: the size of
/// the multiset intersection of `a` and `b`, as `2 * matches / (len(a) + len(b))`, and 1.0
/// for two empty strings.
pub fn quick_ratio(a: &str, b: &str) -> f64 {
    let mut avail: std::collections::HashMap<char, i64> = std::collections::HashMap::new();
    for c in b.chars() {
        *avail.entry(c).or_insert(0) += 1;
    }
    let mut matches = 0usize;
    let mut len_a = 0usize;
    for c in a.chars() {
        len_a += 1;
        if let Some(n) = avail.get_mut(&c) {
            if *n > 0 {
                matches += 1;
            }
            *n -= 1;
        }
    }
    let length = len_a + py_len(b);
    if length == 0 {
        1.0
    } else {
        2.0 * matches as f64 / length as f64
    }
}

/// Django's `exceeds_maximum_length_ratio`: a value so much shorter than the password that
/// `quick_ratio` could not reach `max_similarity` (the comparison is skipped).
fn exceeds_maximum_length_ratio(password: &str, max_similarity: f64, value: &str) -> bool {
    let pwd_len = py_len(password);
    let length_bound_similarity = max_similarity / 2.0 * pwd_len as f64;
    let value_len = py_len(value);
    pwd_len >= 10 * value_len && (value_len as f64) < length_bound_similarity
}

/// Django's `UserAttributeSimilarityValidator`: the password must not be too similar
/// (`quick_ratio >= max_similarity`, case-insensitive) to a user attribute, whole or any of
/// its `\W+`-separated parts. Options: `user_attributes` (default `username`, `first_name`,
/// `last_name`, `email`; names that are not a text field of [`User`] are ignored, as Django
/// ignores missing attributes) and `max_similarity` (default 0.7, at least 0.1).
#[derive(Clone, Debug, PartialEq)]
pub struct UserAttributeSimilarityValidator {
    /// The attributes compared, in order.
    pub user_attributes: Vec<String>,
    max_similarity: f64,
}

impl Default for UserAttributeSimilarityValidator {
    fn default() -> Self {
        UserAttributeSimilarityValidator {
            user_attributes: ["username", "first_name", "last_name", "email"]
                .map(String::from)
                .to_vec(),
            max_similarity: 0.7,
        }
    }
}

/// `max_similarity` below 0.1 (Django's `ValueError`).
#[derive(Clone, Copy, Debug, PartialEq, thiserror::Error)]
#[error("max_similarity must be at least 0.1")]
pub struct MaxSimilarityTooLow;

impl UserAttributeSimilarityValidator {
    /// The same with another `max_similarity`; below 0.1 is refused, as by Django.
    pub fn with_max_similarity(mut self, max: f64) -> Result<Self, MaxSimilarityTooLow> {
        if max < 0.1 || max.is_nan() {
            return Err(MaxSimilarityTooLow);
        }
        self.max_similarity = max;
        Ok(self)
    }

    /// The same comparing only `attributes`.
    pub fn with_user_attributes<S: Into<String>>(
        mut self,
        attributes: impl IntoIterator<Item = S>,
    ) -> Self {
        self.user_attributes = attributes.into_iter().map(Into::into).collect();
        self
    }

    /// Django's `get_error_message()`, with the field's verbose name filled in.
    pub fn error_message(verbose_name: &str) -> String {
        format!("The password is too similar to the {verbose_name}.")
    }
}

/// The text attribute `name` of `user` and its verbose name in Django's `AbstractUser`.
fn attribute<'u>(user: &'u User, name: &str) -> Option<(&'u str, &'static str)> {
    match name {
        "username" => Some((user.username.as_str(), "username")),
        "first_name" => Some((user.first_name.as_str(), "first name")),
        "last_name" => Some((user.last_name.as_str(), "last name")),
        "email" => Some((user.email.as_str(), "email address")),
        _ => None,
    }
}

impl PasswordValidator for UserAttributeSimilarityValidator {
    fn validate(&self, password: &str, user: Option<&User>) -> Result<(), ValidationError> {
        let Some(user) = user else {
            return Ok(());
        };
        let password = lower(password);
        for name in &self.user_attributes {
            let Some((value, verbose_name)) = attribute(user, name) else {
                continue;
            };
            if value.is_empty() {
                continue;
            }
            let value_lower = lower(value);
            let parts: Vec<&str> = match &*NON_WORD {
                Ok(re) => re.split(&value_lower).collect(),
                Err(_) => Vec::new(),
            };
            for part in parts.into_iter().chain([value_lower.as_str()]) {
                if exceeds_maximum_length_ratio(&password, self.max_similarity, part) {
                    continue;
                }
                if quick_ratio(&password, part) >= self.max_similarity {
                    return Err(ValidationError::new(
                        "password_too_similar",
                        Self::error_message(verbose_name),
                    ));
                }
            }
        }
        Ok(())
    }

    fn help_text(&self) -> String {
        "Your password can’t be too similar to your other personal information.".to_owned()
    }
}

/// Django's `MinimumLengthValidator`: at least `min_length` characters (option `min_length`,
/// default 8).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MinimumLengthValidator {
    /// The least number of characters (code points, as Python's `len`).
    pub min_length: i64,
}

impl Default for MinimumLengthValidator {
    fn default() -> Self {
        MinimumLengthValidator { min_length: 8 }
    }
}

impl MinimumLengthValidator {
    /// At least `min_length` characters.
    pub fn new(min_length: i64) -> Self {
        MinimumLengthValidator { min_length }
    }

    /// Django's `get_error_message()` (its `ngettext`, English).
    pub fn error_message(&self) -> String {
        let n = self.min_length;
        let s = if n == 1 { "" } else { "s" };
        format!("This password is too short. It must contain at least {n} character{s}.")
    }
}

impl PasswordValidator for MinimumLengthValidator {
    fn validate(&self, password: &str, _user: Option<&User>) -> Result<(), ValidationError> {
        if (py_len(password) as i64) < self.min_length {
            return Err(ValidationError::new(
                "password_too_short",
                self.error_message(),
            ));
        }
        Ok(())
    }

    fn help_text(&self) -> String {
        let n = self.min_length;
        let s = if n == 1 { "" } else { "s" };
        format!("Your password must contain at least {n} character{s}.")
    }
}

/// Django's `CommonPasswordValidator`: the password, lower-cased and stripped, must not be in
/// the list (option `password_list_path`, gzipped or plain text; default Django's own list of
/// 19,640, shipped in this crate and read once per process).
#[derive(Clone)]
pub struct CommonPasswordValidator {
    passwords: Arc<HashSet<String>>,
}

impl fmt::Debug for CommonPasswordValidator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The count, not 19,640 passwords.
        f.debug_struct("CommonPasswordValidator")
            .field("passwords", &self.passwords.len())
            .finish()
    }
}

/// A password list that could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the password list {path} could not be read: {reason}")]
pub struct PasswordListError {
    path: String,
    reason: String,
}

/// One password a line, stripped (Django's `{x.strip() for x in f}`), from gzipped bytes or,
/// when they are not gzip (Django's `OSError` fallback), plain UTF-8 text.
fn read_password_list(bytes: &[u8]) -> Result<HashSet<String>, String> {
    let mut text = String::new();
    let unzipped = flate2::read::MultiGzDecoder::new(bytes).read_to_string(&mut text);
    if unzipped.is_err() {
        text = String::from_utf8(bytes.to_vec()).map_err(|e| e.to_string())?;
    }
    Ok(text.lines().map(|l| py_strip(l).to_owned()).collect())
}

impl CommonPasswordValidator {
    /// With Django's list.
    pub fn new() -> Result<Self, PasswordListError> {
        match &*DEFAULT_PASSWORDS {
            Ok(passwords) => Ok(CommonPasswordValidator {
                passwords: passwords.clone(),
            }),
            Err(reason) => Err(PasswordListError {
                path: "common-passwords.txt.gz (built in)".to_owned(),
                reason: reason.clone(),
            }),
        }
    }

    /// With the list in the file at `path` (Django's `password_list_path`).
    pub fn from_path(path: &str) -> Result<Self, PasswordListError> {
        let error = |reason: String| PasswordListError {
            path: path.to_owned(),
            reason,
        };
        let bytes = std::fs::read(path).map_err(|e| error(e.to_string()))?;
        Ok(CommonPasswordValidator {
            passwords: Arc::new(read_password_list(&bytes).map_err(error)?),
        })
    }

    /// The passwords refused.
    pub fn passwords(&self) -> &HashSet<String> {
        &self.passwords
    }
}

impl PasswordValidator for CommonPasswordValidator {
    fn validate(&self, password: &str, _user: Option<&User>) -> Result<(), ValidationError> {
        if self.passwords.contains(py_strip(&lower(password))) {
            return Err(ValidationError::new(
                "password_too_common",
                "This password is too common.",
            ));
        }
        Ok(())
    }

    fn help_text(&self) -> String {
        "Your password can’t be a commonly used password.".to_owned()
    }
}

/// Django's `NumericPasswordValidator`: not entirely digits (Python's `str.isdigit`, so
/// superscript and other Unicode digits count; an empty password is not numeric).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NumericPasswordValidator;

impl PasswordValidator for NumericPasswordValidator {
    fn validate(&self, password: &str, _user: Option<&User>) -> Result<(), ValidationError> {
        if py_isdigit(password) {
            return Err(ValidationError::new(
                "password_entirely_numeric",
                "This password is entirely numeric.",
            ));
        }
        Ok(())
    }

    fn help_text(&self) -> String {
        "Your password can’t be entirely numeric.".to_owned()
    }
}

#[cfg(test)]
#[path = "password_validation_tests.rs"]
mod tests;
