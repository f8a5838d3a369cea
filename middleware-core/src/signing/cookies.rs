//! Signed cookies: Django's `get_cookie_signer` and the salts of `set_signed_cookie` /
//! `get_signed_cookie`.

use std::time::Duration;

use super::{SigningError, TimestampSigner, COOKIE_KEY_PREFIX};

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
