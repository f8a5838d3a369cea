//! Django's `Signer` and `TimestampSigner`.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::json::{json_dumps, json_loads};
use super::zlib::{zlib_compress, zlib_decompress};
use super::{b62_decode, b62_encode, SigningError, B64, DEFAULT_MAX_DECOMPRESSED_SIZE};
use crate::crypto::{constant_time_eq, salted_hmac, Algorithm};

/// Django's `_SEP_UNSAFE` regex, reproduced quirk for quirk so the same
/// separators are refused: Python's `A-z` range also spans ``[\]^_` ``, and
/// `$` matches before a final newline, so `"-\n"` counts as unsafe too.
pub(super) fn separator_is_unsafe(sep: &str) -> bool {
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

pub(super) fn unix_secs_f64(t: SystemTime) -> f64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs_f64(),
        Err(before) => -before.duration().as_secs_f64(),
    }
}

pub(super) fn unix_now_secs() -> i64 {
    // `as` truncates toward zero, like Python's int(time.time()).
    unix_secs_f64(SystemTime::now()) as i64
}
