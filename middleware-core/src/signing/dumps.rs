//! Django's `signing.dumps` and `signing.loads`.

use std::time::{Duration, SystemTime};

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::signer::unix_now_secs;
use super::{SigningError, TimestampSigner};

/// Django's `signing.dumps`: a [`TimestampSigner`] with `salt` (use
/// [`DUMPS_SALT`](super::DUMPS_SALT) for Django's default) signs the JSON of `obj`.
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
