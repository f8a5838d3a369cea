//! Django's `django.core.signing`, byte-compatible with Django 6.1.
//!
//! ```
//! use middleware_core::signing::{Signer, SigningError, TimestampSigner};
//! use std::time::{Duration, UNIX_EPOCH};
//!
//! # fn main() -> Result<(), SigningError> {
//! let key = b"django-insecure-test-key-0123456789";
//! let signer = Signer::new(key)?.with_salt("my-salt");
//! let signed = signer.sign("hello");
//! assert_eq!(signed, "hello:XVlYxn2t_Igqr6gt05QQLh2Lp5BCfwCvXULKY01mqzU");
//! assert_eq!(signer.unsign(&signed).unwrap(), "hello");
//! assert!(signer.unsign("hello:forged").is_err());
//!
//! // Timestamped values can be checked for age with an injectable clock.
//! let ts = TimestampSigner::new(key)?.with_salt("my-salt");
//! let signed = ts.sign_at("hello", 1_700_000_000);
//! assert_eq!(signed, "hello:1r31eq:ia1pfCgN03DQykTiHaKvDeaNNHCQC9d6yHj4FoK0mGo");
//! let now = UNIX_EPOCH + Duration::from_secs(1_700_000_100);
//! assert!(ts.unsign_at(&signed, Some(Duration::from_secs(60)), now).is_err());
//! assert_eq!(ts.unsign_at(&signed, Some(Duration::from_secs(600)), now)?, "hello");
//!
//! // An empty SECRET_KEY would let anyone forge values: no signer is built with one.
//! assert!(matches!(Signer::new(b""), Err(SigningError::EmptyKey)));
//! # Ok(())
//! # }
//! ```
//!
//! Objects go through JSON exactly as Django's `JSONSerializer` writes it
//! (compact separators, ASCII-only with `\uXXXX` escapes, Python float
//! `repr`), so values signed here verify in Django and vice versa. Key order
//! is whatever the value's `Serialize` impl produces: struct fields in
//! declaration order, `serde_json::Map` sorted by key (without serde_json's
//! `preserve_order` feature), so byte-identical output needs the same order
//! Django's dict had.

mod cookies;
mod dumps;
mod json;
mod signer;
#[cfg(test)]
mod tests;
mod zlib;

use std::time::Duration;

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;

pub use cookies::{
    cookie_signer_salt, get_cookie_signer, legacy_cookie_signer_salt, sign_cookie, unsign_cookie,
};
pub use dumps::{dumps, dumps_at, loads, loads_at};
pub use json::{json_dumps, json_loads};
pub use signer::{Signer, TimestampSigner};

use json::{duration_repr, py_float_repr};

/// Salt used by [`dumps`] / [`loads`] (Django's default for `signing.dumps`).
pub const DUMPS_SALT: &str = "django.core.signing";

/// Default salt of [`get_cookie_signer`] when Django is called without one.
pub const COOKIE_SIGNER_DEFAULT_SALT: &str = "django.core.signing.get_cookie_signer";

/// Prefix Django adds to `SECRET_KEY` (and each fallback) for cookie signing.
pub const COOKIE_KEY_PREFIX: &[u8] = b"django.http.cookies";

/// Default upper bound on a decompressed payload, to defuse zip bombs.
///
/// Django has no such limit; a signed value is only produced by key holders,
/// but a leaked key should not also hand out a memory-exhaustion primitive.
pub const DEFAULT_MAX_DECOMPRESSED_SIZE: usize = 10 * 1024 * 1024;

const BASE62_ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// URL-safe base64 as Django's `b64_encode`/`b64_decode` use it: no padding
/// written, padding optional on read, and non-canonical trailing bits
/// tolerated like Python's `binascii` does.
const B64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// Errors from signing and verifying values.
///
/// [`SigningError::BadSignature`] and [`SigningError::SignatureExpired`]
/// correspond to Django's `BadSignature` / `SignatureExpired`; the others
/// are cases where Django would raise `binascii.Error`, `zlib.error`,
/// `ValueError` or `json.JSONDecodeError`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SigningError {
    /// Signature missing or not matching; the message is Django's exact text
    /// (`No ":" found in value` / `Signature "…" does not match`).
    #[error("{0}")]
    BadSignature(String),
    /// The signature is valid but older than `max_age`.
    #[error("Signature age {} > {} seconds", py_float_repr(*.age), duration_repr(*.max_age))]
    SignatureExpired {
        /// Seconds elapsed since the value was signed.
        age: f64,
        /// The maximum age that was allowed.
        max_age: Duration,
    },
    /// A correctly signed value whose structure is wrong (missing or invalid
    /// timestamp, invalid base64).
    #[error("malformed signed value: {0}")]
    Malformed(String),
    /// The payload of a signed object could not be decompressed or parsed.
    #[error("bad payload: {0}")]
    BadPayload(String),
    /// The decompressed payload would exceed the configured limit.
    #[error("decompressed payload exceeds {limit} bytes")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The object could not be serialized to JSON.
    #[error("cannot serialize object: {0}")]
    Serialize(#[source] serde_json::Error),
    /// The separator is empty or made only of `A-z0-9-_=` (which would make
    /// splitting ambiguous); message as Django's `ValueError`.
    #[error("Unsafe Signer separator: {0:?} (cannot be empty or consist of only A-z0-9-_=)")]
    UnsafeSeparator(String),
    /// The key is empty: anyone could forge a value signed with it, so nothing signs or verifies
    /// with one (Django raises `ImproperlyConfigured` with this message on reading an empty
    /// `SECRET_KEY`).
    #[error("The SECRET_KEY setting must not be empty.")]
    EmptyKey,
}

impl SigningError {
    /// True for errors Django reports as `BadSignature` (including its
    /// subclass `SignatureExpired`).
    pub fn is_bad_signature(&self) -> bool {
        matches!(self, Self::BadSignature(_) | Self::SignatureExpired { .. })
    }
}

/// Encode an integer in Django's base62 (`0-9A-Za-z`, `-` prefix for
/// negatives).
pub fn b62_encode(n: i64) -> String {
    if n == 0 {
        return "0".to_owned();
    }
    let mut rest = n.unsigned_abs();
    let mut digits = Vec::new();
    while rest > 0 {
        digits.push(BASE62_ALPHABET[(rest % 62) as usize]);
        rest /= 62;
    }
    if n < 0 {
        digits.push(b'-');
    }
    digits.iter().rev().map(|&b| char::from(b)).collect()
}

/// Decode Django's base62; errors on empty input, foreign characters and
/// values outside `i64`.
///
/// Like Django, a lone `"-"` decodes to 0.
pub fn b62_decode(s: &str) -> Result<i64, SigningError> {
    let (negative, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None if s.is_empty() => {
            return Err(SigningError::Malformed("empty base62 value".into()));
        }
        None => (false, s),
    };
    // Accumulate negatively when needed so that i64::MIN round-trips.
    let mut acc: i64 = 0;
    for c in digits.bytes() {
        let digit = BASE62_ALPHABET
            .iter()
            .position(|&a| a == c)
            .ok_or_else(|| SigningError::Malformed(format!("invalid base62 value {s:?}")))?
            as i64;
        let overflow = || SigningError::Malformed(format!("base62 value out of range: {s:?}"));
        acc = acc.checked_mul(62).ok_or_else(overflow)?;
        acc = if negative {
            acc.checked_sub(digit)
        } else {
            acc.checked_add(digit)
        }
        .ok_or_else(overflow)?;
    }
    Ok(acc)
}
