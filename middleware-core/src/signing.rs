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

use std::fmt;
use std::io::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::{alphabet, Engine};
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::crypto::{constant_time_eq, salted_hmac, Algorithm};

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

/// Serialize like Python's `json.dumps(obj, separators=(",", ":"))` with the
/// default `ensure_ascii=True`, which is what Django's `JSONSerializer`
/// writes. Non-finite floats become `null` (serde_json's rule) where Python
/// would write `NaN`/`Infinity`.
pub fn json_dumps<T: Serialize + ?Sized>(value: &T) -> Result<String, SigningError> {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, PythonJsonFormatter);
    value.serialize(&mut ser).map_err(SigningError::Serialize)?;
    // The formatter only ever writes ASCII, so this cannot fail; mapping the
    // error keeps library code free of panics all the same.
    String::from_utf8(out).map_err(|e| SigningError::BadPayload(e.to_string()))
}

/// Parse JSON bytes the way Django's `JSONSerializer.loads` does: the bytes
/// are decoded as Latin-1 (never fails) and then parsed, so raw non-ASCII
/// bytes read as the same mojibake Django would see.
pub fn json_loads<T: DeserializeOwned>(data: &[u8]) -> Result<T, SigningError> {
    let text: String = data.iter().map(|&b| char::from(b)).collect();
    serde_json::from_str(&text).map_err(|e| SigningError::BadPayload(format!("invalid JSON: {e}")))
}

struct PythonJsonFormatter;

impl serde_json::ser::Formatter for PythonJsonFormatter {
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        // serde_json already escapes quotes, backslashes and C0 controls the
        // same way Python does; ensure_ascii additionally escapes DEL and
        // everything non-ASCII, as UTF-16 code units (surrogate pairs).
        let mut start = 0;
        for (i, ch) in fragment.char_indices() {
            if ch.is_ascii() && ch != '\x7f' {
                continue;
            }
            writer.write_all(&fragment.as_bytes()[start..i])?;
            let mut units = [0u16; 2];
            for unit in ch.encode_utf16(&mut units) {
                write!(writer, "\\u{unit:04x}")?;
            }
            start = i + ch.len_utf8();
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }

    fn write_f64<W: ?Sized + Write>(&mut self, writer: &mut W, value: f64) -> std::io::Result<()> {
        writer.write_all(py_float_repr(value).as_bytes())
    }

    fn write_f32<W: ?Sized + Write>(&mut self, writer: &mut W, value: f32) -> std::io::Result<()> {
        // Python has no single precision: the value would have been widened.
        self.write_f64(writer, f64::from(value))
    }
}

/// Python's `repr(float)`: shortest round-trip digits, positional notation
/// for decimal exponents in [-4, 16), otherwise `d.ddde±XX`.
fn py_float_repr(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    let sign = if v.is_sign_negative() { "-" } else { "" };
    if v == 0.0 {
        return format!("{sign}0.0");
    }
    // Rust's `{:e}` gives the same shortest round-trip digits as Python's
    // repr; only the layout differs.
    let sci = format!("{:e}", v.abs());
    let Some((mantissa, exp)) = sci.split_once('e') else {
        return v.to_string();
    };
    let Ok(exp) = exp.parse::<i32>() else {
        return v.to_string();
    };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let decpt = exp + 1;
    let body = if decpt <= -4 || decpt > 16 {
        let (first, rest) = digits.split_at(1);
        let dot = if rest.is_empty() { "" } else { "." };
        let exp_sign = if exp < 0 { '-' } else { '+' };
        format!("{first}{dot}{rest}e{exp_sign}{:02}", exp.unsigned_abs())
    } else if decpt <= 0 {
        format!("0.{}{digits}", "0".repeat(decpt.unsigned_abs() as usize))
    } else {
        let decpt = decpt as usize;
        if decpt >= digits.len() {
            format!("{digits}{}.0", "0".repeat(decpt - digits.len()))
        } else {
            format!("{}.{}", &digits[..decpt], &digits[decpt..])
        }
    };
    format!("{sign}{body}")
}

fn duration_repr(d: Duration) -> String {
    if d.subsec_nanos() == 0 {
        d.as_secs().to_string()
    } else {
        py_float_repr(d.as_secs_f64())
    }
}

fn zlib_compress(data: &[u8]) -> Option<Vec<u8>> {
    // A deflate state is a few hundred KiB to allocate and clear; session and messages values
    // are small, so a fresh state per call cost more than compressing. Each thread keeps one
    // and resets it (same output as a new one).
    thread_local! {
        // Python's zlib.compress() default level is 6, same as Compression::default().
        static COMPRESSOR: std::cell::RefCell<Compress> =
            std::cell::RefCell::new(Compress::new(Compression::default(), true));
    }
    COMPRESSOR.with(|cell| match cell.try_borrow_mut() {
        Ok(mut compressor) => {
            compressor.reset();
            zlib_compress_with(&mut compressor, data)
        }
        // Re-entered (cannot happen: nothing here calls back), so use a fresh state.
        Err(_) => zlib_compress_with(&mut Compress::new(Compression::default(), true), data),
    })
}

fn zlib_compress_with(compressor: &mut Compress, data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(data.len() / 2 + 64);
    loop {
        let consumed = compressor.total_in() as usize;
        let input = data.get(consumed..)?;
        if out.len() == out.capacity() {
            out.reserve(data.len().max(64));
        }
        match compressor.compress_vec(input, &mut out, FlushCompress::Finish) {
            Ok(Status::StreamEnd) => return Some(out),
            Ok(_) => {}
            Err(_) => return None,
        }
    }
}

fn zlib_decompress(data: &[u8], limit: usize) -> Result<Vec<u8>, SigningError> {
    // As for compression: one inflate state per thread, reset for each value.
    thread_local! {
        static DECOMPRESSOR: std::cell::RefCell<Decompress> =
            std::cell::RefCell::new(Decompress::new(true));
    }
    DECOMPRESSOR.with(|cell| match cell.try_borrow_mut() {
        Ok(mut decompressor) => {
            decompressor.reset(true);
            zlib_decompress_with(&mut decompressor, data, limit)
        }
        Err(_) => zlib_decompress_with(&mut Decompress::new(true), data, limit),
    })
}

fn zlib_decompress_with(
    decompressor: &mut Decompress,
    data: &[u8],
    limit: usize,
) -> Result<Vec<u8>, SigningError> {
    let truncated = || SigningError::BadPayload("incomplete or truncated zlib stream".into());
    let mut out: Vec<u8> = Vec::with_capacity(data.len().saturating_mul(4).min(limit) + 1);
    loop {
        if out.len() > limit {
            return Err(SigningError::PayloadTooLarge { limit });
        }
        if out.len() == out.capacity() {
            // One byte past the limit is enough to detect an oversize stream.
            let room = (limit + 1 - out.len()).clamp(1, 64 * 1024);
            out.reserve_exact(room);
        }
        let (in_before, out_before) = (decompressor.total_in(), decompressor.total_out());
        let input = data.get(in_before as usize..).ok_or_else(truncated)?;
        let status = decompressor
            .decompress_vec(input, &mut out, FlushDecompress::None)
            .map_err(|e| SigningError::BadPayload(format!("invalid zlib data: {e}")))?;
        if out.len() > limit {
            return Err(SigningError::PayloadTooLarge { limit });
        }
        match status {
            Status::StreamEnd => return Ok(out),
            Status::Ok | Status::BufError => {
                let stalled =
                    decompressor.total_in() == in_before && decompressor.total_out() == out_before;
                if stalled && out.len() < out.capacity() {
                    return Err(truncated());
                }
            }
        }
    }
}

/// Django's `_SEP_UNSAFE` regex, reproduced quirk for quirk so the same
/// separators are refused: Python's `A-z` range also spans ``[\]^_` ``, and
/// `$` matches before a final newline, so `"-\n"` counts as unsafe too.
fn separator_is_unsafe(sep: &str) -> bool {
    let body = sep.strip_suffix('\n').unwrap_or(sep);
    body.bytes()
        .all(|b| (b'A'..=b'z').contains(&b) || b.is_ascii_digit() || b == b'-' || b == b'=')
}

/// Django's `Signer`: appends an HMAC-SHA256 signature to a string.
///
/// The signature of `value` is
/// `b64url_nopad(salted_hmac(salt + "signer", value, key))`.
#[derive(Clone)]
pub struct Signer {
    key: Vec<u8>,
    fallback_keys: Vec<Vec<u8>>,
    salt: String,
    sep: String,
    algorithm: Algorithm,
    max_decompressed_size: usize,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Keys are secrets: only say how many there are.
        f.debug_struct("Signer")
            .field("key", &"<redacted>")
            .field("fallback_keys", &self.fallback_keys.len())
            .field("salt", &self.salt)
            .field("sep", &self.sep)
            .field("algorithm", &self.algorithm)
            .field("max_decompressed_size", &self.max_decompressed_size)
            .finish()
    }
}

impl Signer {
    /// Default salt of a plain signer (`"<module>.<class name>"` in Django).
    pub const DEFAULT_SALT: &'static str = "django.core.signing.Signer";

    /// A signer using `key` (Django's `SECRET_KEY`), no fallback keys, the
    /// default salt, separator `":"` and SHA-256.
    ///
    /// An empty key is refused with [`SigningError::EmptyKey`]: a value signed with it could be
    /// forged by anyone, so no signer ever holds one.
    pub fn new(key: impl AsRef<[u8]>) -> Result<Self, SigningError> {
        let key = key.as_ref();
        if key.is_empty() {
            return Err(SigningError::EmptyKey);
        }
        Ok(Self {
            key: key.to_vec(),
            fallback_keys: Vec::new(),
            salt: Self::DEFAULT_SALT.to_owned(),
            sep: ":".to_owned(),
            algorithm: Algorithm::Sha256,
            max_decompressed_size: DEFAULT_MAX_DECOMPRESSED_SIZE,
        })
    }

    /// Set the salt (namespace). An empty salt keeps the default, as
    /// Django's `salt or default` does.
    pub fn with_salt(mut self, salt: impl Into<String>) -> Self {
        let salt = salt.into();
        if !salt.is_empty() {
            self.salt = salt;
        }
        self
    }

    /// Keys also accepted by `unsign` (Django's `SECRET_KEY_FALLBACKS`),
    /// tried in order after the main key.
    pub fn with_fallback_keys<I, K>(mut self, keys: I) -> Self
    where
        I: IntoIterator<Item = K>,
        K: AsRef<[u8]>,
    {
        self.fallback_keys = keys.into_iter().map(|k| k.as_ref().to_vec()).collect();
        self
    }

    /// Use another separator; fails like Django's `ValueError` for unsafe ones.
    pub fn with_sep(mut self, sep: impl Into<String>) -> Result<Self, SigningError> {
        let sep = sep.into();
        if separator_is_unsafe(&sep) {
            return Err(SigningError::UnsafeSeparator(sep));
        }
        self.sep = sep;
        Ok(self)
    }

    /// Use another hash for the HMAC (Django default: SHA-256).
    pub fn with_algorithm(mut self, algorithm: Algorithm) -> Self {
        self.algorithm = algorithm;
        self
    }

    /// Cap on decompressed object payloads (default
    /// [`DEFAULT_MAX_DECOMPRESSED_SIZE`]).
    pub fn with_max_decompressed_size(mut self, limit: usize) -> Self {
        self.max_decompressed_size = limit;
        self
    }

    /// The salt in use.
    pub fn salt(&self) -> &str {
        &self.salt
    }

    /// The separator in use.
    pub fn sep(&self) -> &str {
        &self.sep
    }

    /// The signature of `value` under the main key (43 characters for SHA-256).
    pub fn signature(&self, value: &str) -> String {
        self.signature_with(value, &self.key)
    }

    fn signature_with(&self, value: &str, key: &[u8]) -> String {
        // Django evaluates `key or self.key`, so an empty fallback key
        // re-checks the main key rather than an empty secret.
        let key = if key.is_empty() { &self.key } else { key };
        let salt = format!("{}signer", self.salt);
        B64.encode(salted_hmac(&salt, value.as_bytes(), key, self.algorithm))
    }

    /// `value + sep + signature(value)`.
    pub fn sign(&self, value: &str) -> String {
        format!("{value}{}{}", self.sep, self.signature(value))
    }

    /// Verify a signed value and return the original part.
    ///
    /// The signature is compared in constant time against the main key, then
    /// each fallback key.
    pub fn unsign<'a>(&self, signed_value: &'a str) -> Result<&'a str, SigningError> {
        let Some((value, sig)) = signed_value.rsplit_once(self.sep.as_str()) else {
            return Err(SigningError::BadSignature(format!(
                "No \"{}\" found in value",
                self.sep
            )));
        };
        let matches = std::iter::once(&self.key)
            .chain(&self.fallback_keys)
            .any(|key| {
                constant_time_eq(sig.as_bytes(), self.signature_with(value, key).as_bytes())
            });
        if matches {
            Ok(value)
        } else {
            Err(SigningError::BadSignature(format!(
                "Signature \"{sig}\" does not match"
            )))
        }
    }

    /// Encode raw serializer output as Django's `sign_object` does before
    /// signing: optional zlib (kept only when it saves at least 2 bytes,
    /// then flagged by a leading `"."`), then unpadded URL-safe base64.
    pub fn encode_payload(data: &[u8], compress: bool) -> String {
        if compress {
            if let Some(compressed) = zlib_compress(data) {
                if compressed.len() + 1 < data.len() {
                    return format!(".{}", B64.encode(compressed));
                }
            }
        }
        B64.encode(data)
    }

    /// Reverse of [`Signer::encode_payload`] on an already verified string.
    pub fn decode_payload(&self, payload: &str) -> Result<Vec<u8>, SigningError> {
        let (compressed, body) = match payload.strip_prefix('.') {
            Some(body) => (true, body),
            None => (false, payload),
        };
        let data = B64
            .decode(body)
            .map_err(|e| SigningError::Malformed(format!("invalid base64: {e}")))?;
        if compressed {
            zlib_decompress(&data, self.max_decompressed_size)
        } else {
            Ok(data)
        }
    }

    /// Sign already-serialized bytes (for serializers other than JSON, such
    /// as the messages framework's pre-joined list).
    pub fn sign_bytes(&self, data: &[u8], compress: bool) -> String {
        self.sign(&Self::encode_payload(data, compress))
    }

    /// Verify and decode bytes signed by [`Signer::sign_bytes`].
    pub fn unsign_bytes(&self, signed: &str) -> Result<Vec<u8>, SigningError> {
        self.decode_payload(self.unsign(signed)?)
    }

    /// Django's `sign_object` with the JSON serializer.
    pub fn sign_object<T: Serialize + ?Sized>(
        &self,
        obj: &T,
        compress: bool,
    ) -> Result<String, SigningError> {
        Ok(self.sign_bytes(json_dumps(obj)?.as_bytes(), compress))
    }

    /// Django's `unsign_object` with the JSON serializer.
    pub fn unsign_object<T: DeserializeOwned>(&self, signed: &str) -> Result<T, SigningError> {
        json_loads(&self.unsign_bytes(signed)?)
    }
}

/// Django's `TimestampSigner`: signs `value + sep + base62(unix time)` so
/// that `unsign` can enforce a maximum age.
#[derive(Clone)]
pub struct TimestampSigner {
    signer: Signer,
}

impl fmt::Debug for TimestampSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TimestampSigner")
            .field("signer", &self.signer)
            .finish()
    }
}

impl TimestampSigner {
    /// Default salt of a timestamp signer.
    pub const DEFAULT_SALT: &'static str = "django.core.signing.TimestampSigner";

    /// A timestamp signer with the defaults of [`Signer::new`] but its own
    /// default salt; an empty key is refused as there.
    pub fn new(key: impl AsRef<[u8]>) -> Result<Self, SigningError> {
        Ok(Self {
            signer: Signer::new(key)?.with_salt(Self::DEFAULT_SALT),
        })
    }

    /// See [`Signer::with_salt`].
    pub fn with_salt(self, salt: impl Into<String>) -> Self {
        Self {
            signer: self.signer.with_salt(salt),
        }
    }

    /// See [`Signer::with_fallback_keys`].
    pub fn with_fallback_keys<I, K>(self, keys: I) -> Self
    where
        I: IntoIterator<Item = K>,
        K: AsRef<[u8]>,
    {
        Self {
            signer: self.signer.with_fallback_keys(keys),
        }
    }

    /// See [`Signer::with_sep`].
    pub fn with_sep(self, sep: impl Into<String>) -> Result<Self, SigningError> {
        Ok(Self {
            signer: self.signer.with_sep(sep)?,
        })
    }

    /// See [`Signer::with_algorithm`].
    pub fn with_algorithm(self, algorithm: Algorithm) -> Self {
        Self {
            signer: self.signer.with_algorithm(algorithm),
        }
    }

    /// See [`Signer::with_max_decompressed_size`].
    pub fn with_max_decompressed_size(self, limit: usize) -> Self {
        Self {
            signer: self.signer.with_max_decompressed_size(limit),
        }
    }

    /// The underlying plain signer (same key, salt and separator).
    pub fn signer(&self) -> &Signer {
        &self.signer
    }

    /// The salt in use.
    pub fn salt(&self) -> &str {
        self.signer.salt()
    }

    /// Sign with the current system time.
    pub fn sign(&self, value: &str) -> String {
        self.sign_at(value, unix_now_secs())
    }

    /// Sign as if the clock read `unix_seconds` (Django truncates
    /// `time.time()` to an integer).
    pub fn sign_at(&self, value: &str, unix_seconds: i64) -> String {
        let sep = self.signer.sep();
        self.signer
            .sign(&format!("{value}{sep}{}", b62_encode(unix_seconds)))
    }

    /// Verify the signature and return `(value, unix timestamp)` without any
    /// age check.
    pub fn unsign_timestamp<'a>(&self, signed: &'a str) -> Result<(&'a str, i64), SigningError> {
        let result = self.signer.unsign(signed)?;
        // Django raises a bare ValueError here; a Signer value under the
        // same key and salt is the realistic way to get this far.
        let (value, ts) = result
            .rsplit_once(self.signer.sep())
            .ok_or_else(|| SigningError::Malformed("timestamp missing".into()))?;
        Ok((value, b62_decode(ts)?))
    }

    /// Verify and, when `max_age` is given, reject values signed more than
    /// `max_age` ago.
    pub fn unsign<'a>(
        &self,
        signed: &'a str,
        max_age: Option<Duration>,
    ) -> Result<&'a str, SigningError> {
        self.unsign_at(signed, max_age, SystemTime::now())
    }

    /// [`TimestampSigner::unsign`] with an explicit current time.
    pub fn unsign_at<'a>(
        &self,
        signed: &'a str,
        max_age: Option<Duration>,
        now: SystemTime,
    ) -> Result<&'a str, SigningError> {
        let (value, ts) = self.unsign_timestamp(signed)?;
        if let Some(max_age) = max_age {
            // Float arithmetic, as in Django: fractional seconds of `now` count.
            let age = unix_secs_f64(now) - ts as f64;
            if age > max_age.as_secs_f64() {
                return Err(SigningError::SignatureExpired { age, max_age });
            }
        }
        Ok(value)
    }

    /// Django's `TimestampSigner.sign_object` (JSON) at the current time.
    pub fn sign_object<T: Serialize + ?Sized>(
        &self,
        obj: &T,
        compress: bool,
    ) -> Result<String, SigningError> {
        self.sign_object_at(obj, compress, unix_now_secs())
    }

    /// [`TimestampSigner::sign_object`] at a given time.
    pub fn sign_object_at<T: Serialize + ?Sized>(
        &self,
        obj: &T,
        compress: bool,
        unix_seconds: i64,
    ) -> Result<String, SigningError> {
        Ok(self.sign_bytes_at(json_dumps(obj)?.as_bytes(), compress, unix_seconds))
    }

    /// Sign already-serialized bytes at a given time (see [`Signer::sign_bytes`]).
    pub fn sign_bytes_at(&self, data: &[u8], compress: bool, unix_seconds: i64) -> String {
        self.sign_at(&Signer::encode_payload(data, compress), unix_seconds)
    }

    /// Verify (with optional max age) and decode signed bytes.
    pub fn unsign_bytes_at(
        &self,
        signed: &str,
        max_age: Option<Duration>,
        now: SystemTime,
    ) -> Result<Vec<u8>, SigningError> {
        self.signer
            .decode_payload(self.unsign_at(signed, max_age, now)?)
    }

    /// Django's `TimestampSigner.unsign_object` (JSON).
    pub fn unsign_object<T: DeserializeOwned>(
        &self,
        signed: &str,
        max_age: Option<Duration>,
    ) -> Result<T, SigningError> {
        self.unsign_object_at(signed, max_age, SystemTime::now())
    }

    /// [`TimestampSigner::unsign_object`] with an explicit current time.
    pub fn unsign_object_at<T: DeserializeOwned>(
        &self,
        signed: &str,
        max_age: Option<Duration>,
        now: SystemTime,
    ) -> Result<T, SigningError> {
        json_loads(&self.unsign_bytes_at(signed, max_age, now)?)
    }
}

fn unix_secs_f64(t: SystemTime) -> f64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs_f64(),
        Err(before) => -before.duration().as_secs_f64(),
    }
}

fn unix_now_secs() -> i64 {
    // `as` truncates toward zero, like Python's int(time.time()).
    unix_secs_f64(SystemTime::now()) as i64
}

/// Django's `signing.dumps`: a [`TimestampSigner`] with `salt` (use
/// [`DUMPS_SALT`] for Django's default) signs the JSON of `obj`.
pub fn dumps<T: Serialize + ?Sized>(
    obj: &T,
    key: &[u8],
    salt: &str,
    compress: bool,
) -> Result<String, SigningError> {
    dumps_at(obj, key, salt, compress, unix_now_secs())
}

/// [`dumps`] at a given Unix time.
pub fn dumps_at<T: Serialize + ?Sized>(
    obj: &T,
    key: &[u8],
    salt: &str,
    compress: bool,
    unix_seconds: i64,
) -> Result<String, SigningError> {
    TimestampSigner::new(key)?
        .with_salt(salt)
        .sign_object_at(obj, compress, unix_seconds)
}

/// Django's `signing.loads`.
pub fn loads<T: DeserializeOwned>(
    s: &str,
    key: &[u8],
    fallback_keys: &[&[u8]],
    salt: &str,
    max_age: Option<Duration>,
) -> Result<T, SigningError> {
    loads_at(s, key, fallback_keys, salt, max_age, SystemTime::now())
}

/// [`loads`] with an explicit current time.
pub fn loads_at<T: DeserializeOwned>(
    s: &str,
    key: &[u8],
    fallback_keys: &[&[u8]],
    salt: &str,
    max_age: Option<Duration>,
    now: SystemTime,
) -> Result<T, SigningError> {
    TimestampSigner::new(key)?
        .with_salt(salt)
        .with_fallback_keys(fallback_keys)
        .unsign_object_at(s, max_age, now)
}

fn cookie_key(secret: &[u8]) -> Vec<u8> {
    [COOKIE_KEY_PREFIX, secret].concat()
}

/// Django's `get_cookie_signer(salt)` for the default `SIGNING_BACKEND`: a
/// [`TimestampSigner`] keyed with `"django.http.cookies" + SECRET_KEY`
/// (fallbacks prefixed likewise). `salt` is used as given (the messages
/// framework passes `"django.contrib.messages"`; signed cookies pass
/// [`cookie_signer_salt`]).
///
/// The prefix alone would make the key non-empty, so an empty `secret_key` is refused here
/// with [`SigningError::EmptyKey`] before it is prefixed.
pub fn get_cookie_signer(
    secret_key: &[u8],
    fallback_keys: &[&[u8]],
    salt: &str,
) -> Result<TimestampSigner, SigningError> {
    if secret_key.is_empty() {
        return Err(SigningError::EmptyKey);
    }
    Ok(TimestampSigner::new(cookie_key(secret_key))?
        .with_fallback_keys(fallback_keys.iter().map(|k| cookie_key(k)))
        .with_salt(salt))
}

/// The Django 6.1 salt for `set_signed_cookie`/`get_signed_cookie`:
/// `django.http.cookies.v2:{len(salt)}:{salt}{cookie_name}`.
///
/// The length is Python's `len()`, i.e. counted in code points, not bytes.
pub fn cookie_signer_salt(cookie_name: &str, salt: &str) -> String {
    format!(
        "django.http.cookies.v2:{}:{salt}{cookie_name}",
        salt.chars().count()
    )
}

/// The pre-6.1 signed-cookie salt, `cookie_name + salt` (ambiguous across
/// name/salt splits, hence CVE-2026-6873).
pub fn legacy_cookie_signer_salt(cookie_name: &str, salt: &str) -> String {
    format!("{cookie_name}{salt}")
}

/// Django's `HttpResponse.set_signed_cookie` value for `cookie_name`.
pub fn sign_cookie(
    secret_key: &[u8],
    fallback_keys: &[&[u8]],
    cookie_name: &str,
    value: &str,
    salt: &str,
) -> Result<String, SigningError> {
    Ok(get_cookie_signer(
        secret_key,
        fallback_keys,
        &cookie_signer_salt(cookie_name, salt),
    )?
    .sign(value))
}

/// Django's `HttpRequest.get_signed_cookie` check of a cookie value.
///
/// With `legacy_salt_fallback` (Django's
/// `SIGNED_COOKIE_LEGACY_SALT_FALLBACK`), a bad signature under the v2 salt
/// is retried with the legacy salt; an expired signature is not retried.
pub fn unsign_cookie(
    secret_key: &[u8],
    fallback_keys: &[&[u8]],
    cookie_name: &str,
    signed_value: &str,
    salt: &str,
    max_age: Option<Duration>,
    legacy_salt_fallback: bool,
) -> Result<String, SigningError> {
    let v2 = get_cookie_signer(
        secret_key,
        fallback_keys,
        &cookie_signer_salt(cookie_name, salt),
    )?;
    match v2.unsign(signed_value, max_age) {
        Ok(value) => Ok(value.to_owned()),
        Err(SigningError::BadSignature(_)) if legacy_salt_fallback => {
            let legacy = get_cookie_signer(
                secret_key,
                fallback_keys,
                &legacy_cookie_signer_salt(cookie_name, salt),
            )?;
            legacy.unsign(signed_value, max_age).map(str::to_owned)
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    /// `SECRET_KEY` used for the reference vectors (§4 of the reference notes).
    const KEY: &[u8] = b"django-insecure-test-key-0123456789";
    const T0: i64 = 1_700_000_000;

    fn at(secs: f64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs_f64(secs)
    }

    // ---- reference vectors -------------------------------------------------

    #[test]
    fn signer_vectors() {
        assert_eq!(
            Signer::new(KEY).unwrap().with_salt("my-salt").sign("hello"),
            "hello:XVlYxn2t_Igqr6gt05QQLh2Lp5BCfwCvXULKY01mqzU"
        );
        assert_eq!(
            Signer::new(KEY).unwrap().sign("hello"),
            "hello:uKbadYY91gIvswRcRj-330vXLqJJLYvUXOSRxHxbtDU"
        );
    }

    #[test]
    fn timestamp_signer_vector() {
        let signer = TimestampSigner::new(KEY).unwrap().with_salt("my-salt");
        let signed = signer.sign_at("hello", T0);
        assert_eq!(
            signed,
            "hello:1r31eq:ia1pfCgN03DQykTiHaKvDeaNNHCQC9d6yHj4FoK0mGo"
        );
        assert_eq!(signer.unsign_timestamp(&signed).unwrap(), ("hello", T0));
    }

    #[test]
    fn dumps_vector() {
        let signed = dumps_at(&json!({"a": 1}), KEY, DUMPS_SALT, false, T0).unwrap();
        assert_eq!(
            signed,
            "eyJhIjoxfQ:1r31eq:b4Nl0al4NLn5XGOvTMbupuEZHd9HHZmCTB-2a43IYaE"
        );
        let back: Value = loads_at(&signed, KEY, &[], DUMPS_SALT, None, at(T0 as f64)).unwrap();
        assert_eq!(back, json!({"a": 1}));
    }

    #[test]
    fn compressed_dumps_round_trip_and_django_vector() {
        let obj: Vec<u32> = (0..30).collect();
        let ours = dumps_at(&obj, KEY, DUMPS_SALT, true, T0).unwrap();
        assert!(ours.starts_with('.'), "compression should pay off: {ours}");
        let back: Vec<u32> = loads(&ours, KEY, &[], DUMPS_SALT, None).unwrap();
        assert_eq!(back, obj);

        let django = ".eJwNy8kNACEQA8GE-oHNXMSCNv80lm9JdRfCbIKkaIaDHgoZbRQoUaFGgw5e-B3jjQMnLtx48Pl-gH4Pug:1r31eq:Z0Qno3fVS5H0tWpeHjCOpvjy55RSWpx9tJAb74iQ2iA";
        let back: Vec<u32> = loads(django, KEY, &[], DUMPS_SALT, None).unwrap();
        assert_eq!(back, obj);
    }

    #[test]
    fn session_encode_vectors() {
        let session = json!({"foo": "bar"});
        // SessionBase.encode(): dumps(..., compress=True); too short to compress.
        assert_eq!(
            dumps_at(
                &session,
                KEY,
                "django.contrib.sessions.SessionStore",
                true,
                T0
            )
            .unwrap(),
            "eyJmb28iOiJiYXIifQ:1r31eq:Mmx-jszD6K_WVEX59DieZsyMtPJaqKF0lqgZ9qsG1_M"
        );
        assert_eq!(
            dumps_at(
                &session,
                KEY,
                "django.contrib.sessions.backends.signed_cookies",
                true,
                T0
            )
            .unwrap(),
            "eyJmb28iOiJiYXIifQ:1r31eq:tLeYEGRX4kupEAM85mQlIdshwbtomLbPQHVTdCG2IB8"
        );
    }

    #[test]
    fn signed_cookie_v2_vector() {
        let salt = cookie_signer_salt("c", "s");
        assert_eq!(salt, "django.http.cookies.v2:1:sc");
        let signed = get_cookie_signer(KEY, &[], &salt).unwrap().sign_at("v", T0);
        assert_eq!(
            signed,
            "v:1r31eq:abwGmoGPIjLczU6TXQuX_AX28HjlytPZZiPIt9La-6s"
        );
        assert_eq!(
            unsign_cookie(KEY, &[], "c", &signed, "s", None, false).unwrap(),
            "v"
        );
        // The v2 salt binds the name/salt split; the legacy one ("c" + "s")
        // would collide with cookie "cs" and an empty salt.
        assert!(unsign_cookie(KEY, &[], "cs", &signed, "", None, true).is_err());
    }

    #[test]
    fn cookie_salt_counts_code_points() {
        assert_eq!(
            cookie_signer_salt("n", "\u{e9}t\u{e9}"),
            "django.http.cookies.v2:3:\u{e9}t\u{e9}n"
        );
        assert_eq!(legacy_cookie_signer_salt("n", "s"), "ns");
    }

    #[test]
    fn legacy_cookie_salt_fallback() {
        let legacy = get_cookie_signer(KEY, &[], &legacy_cookie_signer_salt("c", "s"))
            .unwrap()
            .sign("v");
        assert!(unsign_cookie(KEY, &[], "c", &legacy, "s", None, false)
            .unwrap_err()
            .is_bad_signature());
        assert_eq!(
            unsign_cookie(KEY, &[], "c", &legacy, "s", None, true).unwrap(),
            "v"
        );
        // Expired v2 values are not retried with the legacy salt.
        let old = get_cookie_signer(KEY, &[], &cookie_signer_salt("c", "s"))
            .unwrap()
            .sign_at("v", T0);
        let err = unsign_cookie(
            KEY,
            &[],
            "c",
            &old,
            "s",
            Some(Duration::from_secs(60)),
            true,
        )
        .unwrap_err();
        assert!(
            matches!(err, SigningError::SignatureExpired { .. }),
            "{err}"
        );
        // sign_cookie uses the v2 salt.
        let fresh = sign_cookie(KEY, &[], "c", "v", "s").unwrap();
        assert_eq!(
            get_cookie_signer(KEY, &[], "django.http.cookies.v2:1:sc")
                .unwrap()
                .unsign(&fresh, None)
                .unwrap(),
            "v"
        );
    }

    #[test]
    fn messages_cookie_vector_decodes() {
        let cookie = ".eJyLjlaKj88qzs-Lz00tLk5MT1XSMdAxMtBR8kjNyclXitXBJm8ClHdKTFGwSbJT0lGqUIqNBQBBmhXq:1r31eq:r8wnHJ8jgUljhYiuMSZRQtsHgkpMoL64f8zhhVC0GZg";
        let signer = get_cookie_signer(KEY, &[], "django.contrib.messages").unwrap();
        let payload = signer.unsign_bytes_at(cookie, None, at(T0 as f64)).unwrap();
        assert_eq!(
            payload,
            br#"[["__json_message",0,20,"Hello"],["__json_message",0,40,"Bad <b>","x"]]"#
        );
    }

    // ---- mirrors of tests/signing/tests.py --------------------------------

    /// `tests/signing/tests.py::TestSigner::test_signature`
    #[test]
    fn test_signature() {
        let signer = Signer::new("predictable-secret").unwrap();
        let signer2 = Signer::new("predictable-secret2").unwrap();
        for s in ["hello", "3098247:529:087:", "\u{2019}"] {
            let expected = B64.encode(salted_hmac(
                &format!("{}signer", signer.salt()),
                s.as_bytes(),
                b"predictable-secret",
                Algorithm::Sha256,
            ));
            assert_eq!(signer.signature(s), expected);
            assert_ne!(signer.signature(s), signer2.signature(s));
        }
    }

    /// `tests/signing/tests.py::TestSigner::test_signature_with_salt`
    #[test]
    fn test_signature_with_salt() {
        let signer = Signer::new("predictable-secret")
            .unwrap()
            .with_salt("extra-salt");
        let expected = B64.encode(salted_hmac(
            "extra-saltsigner",
            b"hello",
            b"predictable-secret",
            Algorithm::Sha256,
        ));
        assert_eq!(signer.signature("hello"), expected);
        assert_ne!(
            Signer::new("predictable-secret")
                .unwrap()
                .with_salt("one")
                .signature("hello"),
            Signer::new("predictable-secret")
                .unwrap()
                .with_salt("two")
                .signature("hello"),
        );
    }

    /// `tests/signing/tests.py::TestSigner::test_sign_unsign`
    #[test]
    fn test_sign_unsign() {
        let signer = Signer::new("predictable-secret").unwrap();
        for example in [
            "q;wjmbk;wkmb",
            "3098247529087",
            "3098247:529:087:",
            "jkw osanteuh ,rcuh nthu aou oauh ,ud du",
            "\u{2019}",
        ] {
            let signed = signer.sign(example);
            assert_ne!(example, signed);
            assert_eq!(signer.unsign(&signed).unwrap(), example);
        }
    }

    /// `tests/signing/tests.py::TestSigner::test_unsign_detects_tampering`
    #[test]
    fn test_unsign_detects_tampering() {
        let signer = Signer::new("predictable-secret").unwrap();
        let signed = signer.sign("Another string");
        assert_eq!(signer.unsign(&signed).unwrap(), "Another string");
        for tampered in tamperings(&signed) {
            let err = signer.unsign(&tampered).unwrap_err();
            assert!(err.is_bad_signature(), "{tampered}: {err}");
        }
    }

    fn tamperings(s: &str) -> Vec<String> {
        vec![
            s.to_uppercase(),
            format!("{s}a"),
            format!("a{}", &s[1..]),
            s.replace(':', ""),
        ]
    }

    /// `tests/signing/tests.py::TestSigner::test_sign_unsign_object`
    #[test]
    fn test_sign_unsign_object() {
        let signer = Signer::new("predictable-secret").unwrap();
        for obj in [
            json!(["a", "list"]),
            json!("a string \u{2019}"),
            json!({"a": "dictionary"}),
        ] {
            for compress in [false, true] {
                let signed = signer.sign_object(&obj, compress).unwrap();
                assert_eq!(signer.unsign_object::<Value>(&signed).unwrap(), obj);
            }
        }
    }

    /// `tests/signing/tests.py::TestSigner::test_dumps_loads`
    #[test]
    fn test_dumps_loads() {
        for obj in [
            json!(["a", "list"]),
            json!("a string \u{2019}"),
            json!({"a": "dictionary"}),
        ] {
            for compress in [false, true] {
                let signed = dumps(&obj, KEY, DUMPS_SALT, compress).unwrap();
                let back: Value = loads(&signed, KEY, &[], DUMPS_SALT, None).unwrap();
                assert_eq!(back, obj);
            }
        }
    }

    /// `tests/signing/tests.py::TestSigner::test_decode_detects_tampering`
    #[test]
    fn test_decode_detects_tampering() {
        let value = json!({"foo": "bar", "baz": 1});
        let encoded = dumps(&value, KEY, DUMPS_SALT, false).unwrap();
        assert_eq!(
            loads::<Value>(&encoded, KEY, &[], DUMPS_SALT, None).unwrap(),
            value
        );
        for tampered in tamperings(&encoded) {
            let err = loads::<Value>(&tampered, KEY, &[], DUMPS_SALT, None).unwrap_err();
            assert!(err.is_bad_signature(), "{tampered}: {err}");
        }
    }

    /// `tests/signing/tests.py::TestSigner::test_works_with_non_ascii_keys`
    #[test]
    fn test_works_with_non_ascii_keys() {
        assert_eq!(
            Signer::new(b"\xe7").unwrap().sign("foo"),
            "foo:EE4qGC5MEKyQG5msxYA0sBohAxLC0BJf8uRhemh0BGU"
        );
    }

    /// `tests/signing/tests.py::TestSigner::test_valid_sep`
    #[test]
    fn test_valid_sep() {
        for sep in ["/", "*sep*", ","] {
            let signer = Signer::new("predictable-secret")
                .unwrap()
                .with_sep(sep)
                .unwrap();
            assert_eq!(
                signer.sign("foo"),
                format!("foo{sep}jZQoX_FtSO70jX9HLRGg2A_2s4kdDBxz1QoO_OpEQb0")
            );
        }
    }

    /// `tests/signing/tests.py::TestSigner::test_invalid_sep`
    #[test]
    fn test_invalid_sep() {
        for sep in ["", "-", "abc", "[\\]^_`", "=\n"] {
            let err = Signer::new("k").unwrap().with_sep(sep).unwrap_err();
            assert!(matches!(err, SigningError::UnsafeSeparator(_)), "{sep:?}");
        }
        assert_eq!(
            Signer::new("k")
                .unwrap()
                .with_sep("-")
                .unwrap_err()
                .to_string(),
            "Unsafe Signer separator: \"-\" (cannot be empty or consist of only A-z0-9-_=)"
        );
        assert!(TimestampSigner::new("k").unwrap().with_sep("abc").is_err());
    }

    /// `tests/signing/tests.py::TestSigner::test_verify_with_non_default_key`
    #[test]
    fn test_verify_with_non_default_key() {
        let signed = Signer::new("secret").unwrap().sign("abc");
        let new_signer = Signer::new("newsecret")
            .unwrap()
            .with_fallback_keys(["othersecret", "secret"]);
        assert_eq!(new_signer.unsign(&signed).unwrap(), "abc");
    }

    /// `tests/signing/tests.py::TestSigner::test_sign_unsign_multiple_keys`
    #[test]
    fn test_sign_unsign_multiple_keys() {
        let signer = Signer::new("secret")
            .unwrap()
            .with_fallback_keys(["oldsecret"]);
        let signed = signer.sign("abc");
        assert_eq!(signer.unsign(&signed).unwrap(), "abc");
    }

    /// `tests/signing/tests.py::TestSigner::test_sign_unsign_ignore_secret_key_fallbacks`
    #[test]
    fn test_sign_unsign_ignore_secret_key_fallbacks() {
        let signed = Signer::new("oldsecret").unwrap().sign("abc");
        let signer = Signer::new("secret")
            .unwrap()
            .with_fallback_keys(Vec::<&str>::new());
        assert!(signer.unsign(&signed).unwrap_err().is_bad_signature());
    }

    /// `tests/signing/tests.py::TestTimestampSigner::test_timestamp_signer`
    #[test]
    fn test_timestamp_signer() {
        let signer = TimestampSigner::new("predictable-key").unwrap();
        let ts = signer.sign_at("hello", 123_456_789);
        assert_ne!(ts, Signer::new("predictable-key").unwrap().sign("hello"));
        assert_eq!(
            signer.unsign_at(&ts, None, at(123_456_789.0)).unwrap(),
            "hello"
        );

        let now = at(123_456_800.0);
        let secs = Duration::from_secs;
        assert_eq!(signer.unsign_at(&ts, Some(secs(12)), now).unwrap(), "hello");
        assert_eq!(signer.unsign_at(&ts, Some(secs(11)), now).unwrap(), "hello");
        let err = signer.unsign_at(&ts, Some(secs(10)), now).unwrap_err();
        assert!(matches!(err, SigningError::SignatureExpired { .. }));
        assert!(err.is_bad_signature());
        assert_eq!(err.to_string(), "Signature age 11.0 > 10 seconds");
    }

    /// `tests/signing/tests.py::TestBase62::test_base62`
    #[test]
    fn test_base62() {
        let mut cases = vec![
            -(10_i64.pow(10)),
            10_i64.pow(10),
            1_620_378_259,
            i64::MAX,
            i64::MIN,
        ];
        cases.extend(-100..100);
        for i in cases {
            assert_eq!(b62_decode(&b62_encode(i)).unwrap(), i, "{i}");
        }
        assert_eq!(b62_encode(T0), "1r31eq");
        assert_eq!(b62_encode(-61), "-z");
        assert_eq!(b62_decode("-").unwrap(), 0);
        assert!(b62_decode("").is_err());
        assert!(b62_decode("!").is_err());
        assert!(b62_decode("zzzzzzzzzzzzzzzzzzzzzz").is_err());
    }

    // ---- JSON compatibility -------------------------------------------------

    #[test]
    fn json_matches_python_ensure_ascii() {
        assert_eq!(
            json_dumps(&json!([
                "\u{e9}",
                "\u{2019}",
                "\u{1f600}",
                "\x7f\n\"\\\x01/"
            ]))
            .unwrap(),
            r#"["\u00e9","\u2019","\ud83d\ude00","\u007f\n\"\\\u0001/"]"#
        );
        assert_eq!(
            json_dumps(&json!({"b": [1, true, null], "a": {}})).unwrap(),
            r#"{"a":{},"b":[1,true,null]}"#
        );
    }

    #[test]
    fn json_floats_match_python_repr() {
        for (v, repr) in [
            (1.0, "1.0"),
            (-0.0, "-0.0"),
            (0.1, "0.1"),
            (1.5e16, "1.5e+16"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (123456789.125, "123456789.125"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.2345e-7, "1.2345e-07"),
            (1e300, "1e+300"),
            (f64::MIN_POSITIVE, "2.2250738585072014e-308"),
        ] {
            assert_eq!(py_float_repr(v), repr);
        }
        assert_eq!(json_dumps(&[0.5f32]).unwrap(), "[0.5]");
    }

    #[test]
    fn json_loads_reads_latin1_like_django() {
        // Raw UTF-8 "é" is two Latin-1 characters to Django.
        let v: String = json_loads("\"\u{e9}\"".as_bytes()).unwrap();
        assert_eq!(v, "\u{c3}\u{a9}");
        let v: String = json_loads(br#""\u00e9""#).unwrap();
        assert_eq!(v, "\u{e9}");
        // Python would accept these; they must at least be errors, not panics.
        assert!(json_loads::<Value>(br#""\ud800""#).is_err());
        assert!(json_loads::<Value>(b"[NaN]").is_err());
        assert!(json_loads::<Value>(b"").is_err());
    }

    // ---- bad input ----------------------------------------------------------

    #[test]
    fn truncated_and_reordered_values_are_rejected() {
        let signer = TimestampSigner::new(KEY).unwrap();
        let signed = signer
            .sign_object_at(&json!({"k": "v"}), false, T0)
            .unwrap();
        for n in 0..signed.len() {
            assert!(
                signer.unsign_object::<Value>(&signed[..n], None).is_err(),
                "{n}"
            );
        }
        let parts: Vec<&str> = signed.split(':').collect();
        let reordered = format!("{}:{}:{}", parts[1], parts[0], parts[2]);
        assert!(signer
            .unsign(&reordered, None)
            .unwrap_err()
            .is_bad_signature());
        assert_eq!(
            signer.unsign("", None).unwrap_err().to_string(),
            "No \":\" found in value"
        );
    }

    /// An empty `SECRET_KEY` lets anyone compute valid signatures, so every entry point that
    /// signs or verifies refuses it (Django: `ImproperlyConfigured("The SECRET_KEY setting must
    /// not be empty.")` on reading the setting).
    #[test]
    fn empty_key_signs_and_verifies_nothing() {
        assert!(matches!(Signer::new(b""), Err(SigningError::EmptyKey)));
        assert!(matches!(
            TimestampSigner::new(""),
            Err(SigningError::EmptyKey)
        ));
        assert!(matches!(
            dumps_at(&json!({"_auth_user_id": "1"}), b"", "salt", true, T0),
            Err(SigningError::EmptyKey)
        ));
        // A value an attacker signed with the empty key does not load either.
        let forged = format!("x:{}", Signer::new(b"k").unwrap().signature("x"));
        assert!(matches!(
            loads::<Value>(&forged, b"", &[], "salt", None),
            Err(SigningError::EmptyKey)
        ));
        // The cookie signer's "django.http.cookies" prefix would make the key non-empty: the
        // raw secret is checked before prefixing.
        assert!(matches!(
            get_cookie_signer(b"", &[], "django.contrib.messages"),
            Err(SigningError::EmptyKey)
        ));
        assert!(matches!(
            sign_cookie(b"", &[], "c", "v", "s"),
            Err(SigningError::EmptyKey)
        ));
        assert!(matches!(
            unsign_cookie(b"", &[], "c", "v:sig", "s", None, true),
            Err(SigningError::EmptyKey)
        ));
        assert_eq!(
            SigningError::EmptyKey.to_string(),
            "The SECRET_KEY setting must not be empty."
        );
    }

    #[test]
    fn wrong_salt_or_key_is_rejected_and_fallback_accepted() {
        let signed = dumps_at(&json!(1), KEY, "salt-a", false, T0).unwrap();
        assert!(loads::<Value>(&signed, KEY, &[], "salt-b", None)
            .unwrap_err()
            .is_bad_signature());
        assert!(loads::<Value>(&signed, b"other", &[], "salt-a", None)
            .unwrap_err()
            .is_bad_signature());
        let v: Value = loads(&signed, b"new-key", &[b"older", KEY], "salt-a", None).unwrap();
        assert_eq!(v, json!(1));
        let sig = signed.rsplit(':').next().unwrap();
        assert_eq!(
            loads::<Value>(&signed, b"other", &[], "salt-a", None)
                .unwrap_err()
                .to_string(),
            format!("Signature \"{sig}\" does not match")
        );
    }

    #[test]
    fn expired_values_are_rejected() {
        let signed = dumps_at(&json!("x"), KEY, DUMPS_SALT, false, T0).unwrap();
        let max = Some(Duration::from_secs(60));
        let ok: Value = loads_at(&signed, KEY, &[], DUMPS_SALT, max, at(T0 as f64 + 60.0)).unwrap();
        assert_eq!(ok, json!("x"));
        let err = loads_at::<Value>(&signed, KEY, &[], DUMPS_SALT, max, at(T0 as f64 + 60.5))
            .unwrap_err();
        assert!(
            matches!(err, SigningError::SignatureExpired { .. }),
            "{err}"
        );
        // Real clock: 2023 is long past.
        assert!(loads::<Value>(&signed, KEY, &[], DUMPS_SALT, max).is_err());
    }

    #[test]
    fn garbage_payloads_are_errors_not_panics() {
        let signer = TimestampSigner::new(KEY).unwrap();
        let sign = |payload: &str| signer.sign_at(payload, T0);
        for payload in [
            "",
            ".",
            "!!!!",
            "a",
            "abcde",
            ".abcde",
            ".eJwLyc8r",
            "\u{e9}\u{e9}",
            "e30",
            "W10",
        ] {
            let result = signer.unsign_object::<Vec<u8>>(&sign(payload), None);
            // "W10" is "[]", which is a valid Vec<u8>.
            if payload != "W10" {
                assert!(result.is_err(), "{payload:?} gave {result:?}");
            }
        }
        // A correctly signed value whose timestamp is not base62.
        let plain = Signer::new(KEY)
            .unwrap()
            .with_salt(TimestampSigner::DEFAULT_SALT);
        assert!(matches!(
            signer.unsign(&plain.sign("value-without-ts"), None),
            Err(SigningError::Malformed(_))
        ));
        assert!(matches!(
            signer.unsign(&plain.sign("v:!!"), None),
            Err(SigningError::Malformed(_))
        ));
        // Non-ASCII and non-UTF-8-looking input is handled as plain text.
        assert!(signer.unsign("\u{e9}:\u{e9}:\u{e9}", None).is_err());
        assert!(signer.unsign("\0:\0", None).is_err());
    }

    #[test]
    fn truncated_zlib_is_an_error() {
        let data = json_dumps(&vec!["abc"; 100]).unwrap();
        let encoded = Signer::encode_payload(data.as_bytes(), true);
        assert!(encoded.starts_with('.'));
        let raw = B64.decode(&encoded[1..]).unwrap();
        for cut in [2, raw.len() / 2, raw.len() - 1] {
            let truncated = format!(".{}", B64.encode(&raw[..cut]));
            let err = Signer::new(KEY)
                .unwrap()
                .decode_payload(&truncated)
                .unwrap_err();
            assert!(matches!(err, SigningError::BadPayload(_)), "{cut}: {err}");
        }
    }

    #[test]
    fn decompression_is_capped() {
        let big = vec![b' '; 1024 * 1024];
        let signer = Signer::new(KEY)
            .unwrap()
            .with_max_decompressed_size(64 * 1024);
        let signed = signer.sign_bytes(&big, true);
        assert!(signed.len() < 5000);
        assert!(matches!(
            signer.unsign_bytes(&signed),
            Err(SigningError::PayloadTooLarge { limit: 65536 })
        ));
        let roomy = Signer::new(KEY).unwrap();
        assert_eq!(roomy.unsign_bytes(&signed).unwrap(), big);
        // Exactly at the limit is fine.
        let exact = Signer::new(KEY)
            .unwrap()
            .with_max_decompressed_size(big.len());
        assert_eq!(exact.unsign_bytes(&signed).unwrap().len(), big.len());
    }

    #[test]
    fn compression_only_when_it_saves_two_bytes() {
        assert!(!Signer::encode_payload(b"[1]", true).starts_with('.'));
        assert!(Signer::encode_payload(&[b'a'; 100], true).starts_with('.'));
    }

    #[test]
    fn debug_does_not_leak_keys() {
        let signer = TimestampSigner::new("super-secret-key")
            .unwrap()
            .with_fallback_keys(["old-secret"]);
        let shown = format!("{signer:?}");
        assert!(!shown.contains("super-secret"), "{shown}");
        assert!(!shown.contains("old-secret"), "{shown}");
        assert!(shown.contains("django.core.signing.TimestampSigner"));
    }
}
