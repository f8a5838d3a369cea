//! Django's `django.utils.crypto` primitives: `salted_hmac`, constant-time
//! comparison and random strings.
//!
//! ```
//! use middleware_core::crypto::{salted_hmac, Algorithm};
//!
//! // The session auth hash Django stores under `_auth_user_hash`.
//! let mac = salted_hmac(
//!     "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash",
//!     b"pbkdf2_sha256$x",
//!     b"django-insecure-test-key-0123456789",
//!     Algorithm::Sha256,
//! );
//! let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
//! assert_eq!(hex, "04347477c94e271ac4b7ad600084497bca9791a239aeb93e52540ea0023a1e29");
//! ```

use hmac::{Hmac, Mac};
use rand::Rng;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Default alphabet of [`get_random_string`]: `a-z`, `A-Z`, `0-9`, in that
/// order (Django's `RANDOM_STRING_CHARS`).
pub const RANDOM_STRING_CHARS: &[u8] =
    b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// Hash function used by [`salted_hmac`].
///
/// Only the algorithms Django callers actually use are offered; Django's
/// `salted_hmac` still defaults to SHA-1, so there is deliberately no
/// `Default` impl here: callers must choose, as Django's deprecation asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// SHA-1 (Django's legacy default for `salted_hmac`).
    Sha1,
    /// SHA-256 (what `Signer` and the session auth hash use).
    Sha256,
}

/// Django's `salted_hmac(key_salt, value, secret, algorithm=...)` digest.
///
/// The HMAC key is `H(key_salt + secret)` (a plain hash, salt first), and
/// the result is `HMAC(key, value, H)`; returns the raw digest bytes
/// (20 bytes for SHA-1, 32 for SHA-256).
pub fn salted_hmac(key_salt: &str, value: &[u8], secret: &[u8], algorithm: Algorithm) -> Vec<u8> {
    match algorithm {
        Algorithm::Sha1 => {
            let key = Sha1::new()
                .chain_update(key_salt.as_bytes())
                .chain_update(secret)
                .finalize();
            hmac_digest::<Hmac<Sha1>>(&key, value)
        }
        Algorithm::Sha256 => {
            let key = Sha256::new()
                .chain_update(key_salt.as_bytes())
                .chain_update(secret)
                .finalize();
            hmac_digest::<Hmac<Sha256>>(&key, value)
        }
    }
}

fn hmac_digest<M: Mac + hmac::digest::KeyInit>(key: &[u8], value: &[u8]) -> Vec<u8> {
    // `KeyInit::new_from_slice` only fails for fixed-size-key MACs; HMAC
    // accepts any key length, so the fallback branch is unreachable in practice
    // and exists only to avoid a panic path in library code.
    match <M as hmac::digest::KeyInit>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(value);
            mac.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    }
}

/// Compare two byte strings in time independent of their contents
/// (Django's `constant_time_compare`).
///
/// The length comparison itself is not constant time, which matches
/// `hmac.compare_digest` and leaks nothing useful for fixed-length MACs.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// Django's `get_random_string(length, allowed_chars)` using the operating
/// system's CSPRNG.
///
/// Each byte of `allowed_chars` is one symbol; bytes above `0x7F` are taken
/// as Latin-1 code points so the result is always valid UTF-8. An empty
/// alphabet yields an empty string (Django would raise `IndexError`).
pub fn get_random_string(length: usize, allowed_chars: &[u8]) -> String {
    if allowed_chars.is_empty() {
        return String::new();
    }
    let mut rng = rand::rngs::OsRng;
    (0..length)
        .map(|_| char::from(allowed_chars[rng.gen_range(0..allowed_chars.len())]))
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"django-insecure-test-key-0123456789";

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Mirrors `tests/utils_tests/test_crypto.py::TestUtilsCryptoMisc::test_salted_hmac`
    /// (sha1 default, and explicit sha256 case).
    #[test]
    fn salted_hmac_matches_django_test_vectors() {
        // Django's test settings use SECRET_KEY = "django_tests_secret_key".
        let test_key = b"django_tests_secret_key";
        assert_eq!(
            hex(&salted_hmac("salt", b"value", test_key, Algorithm::Sha1)),
            "b51a2e619c43b1ca4f91d15c57455521d71d61eb"
        );
        assert_eq!(
            hex(&salted_hmac("salt", b"value", b"abcdefg", Algorithm::Sha1)),
            "8bbee04ccddfa24772d1423a0ba43bd0c0e24b76"
        );
        // A secret as long as the block size exercises the "hash long keys" path.
        assert_eq!(
            hex(&salted_hmac("salt", b"value", &[b'x'; 64], Algorithm::Sha1)),
            "bd3749347b412b1b0a9ea65220e55767ac8e96b0"
        );
        assert_eq!(
            hex(&salted_hmac("salt", b"value", test_key, Algorithm::Sha256)),
            "ee0bf789e4e009371a5372c90f73fcf17695a8439c9108b0480f14e347b3f9ec"
        );
    }

    /// §4.4: `get_session_auth_hash()` for password field `pbkdf2_sha256$x`.
    #[test]
    fn session_auth_hash_vector() {
        let mac = salted_hmac(
            "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash",
            b"pbkdf2_sha256$x",
            SECRET,
            Algorithm::Sha256,
        );
        assert_eq!(
            hex(&mac),
            "04347477c94e271ac4b7ad600084497bca9791a239aeb93e52540ea0023a1e29"
        );
    }

    /// Mirrors `tests/utils_tests/test_crypto.py::TestUtilsCryptoMisc::test_constant_time_compare`.
    #[test]
    fn constant_time_compare() {
        assert!(constant_time_eq(b"spam", b"spam"));
        assert!(!constant_time_eq(b"spam", b"eggs"));
        assert!(!constant_time_eq(b"spam", b"spa"));
        assert!(constant_time_eq(b"", b""));
    }

    #[test]
    fn random_string_uses_alphabet_and_length() {
        let s = get_random_string(32, RANDOM_STRING_CHARS);
        assert_eq!(s.len(), 32);
        assert!(s.bytes().all(|b| RANDOM_STRING_CHARS.contains(&b)));
        assert_ne!(s, get_random_string(32, RANDOM_STRING_CHARS));
        assert_eq!(get_random_string(5, b"x"), "xxxxx");
        assert_eq!(get_random_string(5, b""), "");
        assert_eq!(get_random_string(0, RANDOM_STRING_CHARS), "");
    }
}
