//! Django's password hashes (`django.contrib.auth.hashers`): `make_password`,
//! `check_password` and friends for the `pbkdf2_sha256` format Django uses by default.
//!
//! ```
//! use middleware_builtin::auth::hashers::{check_password, make_password_with, is_password_usable};
//!
//! // Few iterations keep the example fast; `make_password` uses Django's 1,500,000.
//! let encoded = make_password_with("s3cret", "somesalt", 1000).unwrap();
//! assert!(encoded.starts_with("pbkdf2_sha256$1000$somesalt$"));
//! assert!(check_password("s3cret", &encoded));
//! assert!(!check_password("wrong", &encoded));
//! assert!(!is_password_usable("!unusable"));
//! ```
//!
//! An encoded password is `<algorithm>$<iterations>$<salt>$<base64 hash>`. Verified here:
//! `pbkdf2_sha256` (Django's default) and `pbkdf2_sha1` (the second entry of Django's default
//! `PASSWORD_HASHERS`). Other algorithms (argon2, bcrypt, scrypt, md5...) never verify; a
//! password starting with `!` is unusable and never verifies.

use base64::Engine as _;
use middleware_core::crypto::{constant_time_eq, get_random_string, RANDOM_STRING_CHARS};

/// Django 6.1's `PBKDF2PasswordHasher.iterations`.
pub const PBKDF2_ITERATIONS: u32 = 1_500_000;
/// The algorithm name of Django's default hasher.
pub const PBKDF2_SHA256: &str = "pbkdf2_sha256";
/// The algorithm name of Django's `PBKDF2SHA1PasswordHasher`.
pub const PBKDF2_SHA1: &str = "pbkdf2_sha1";
/// Django's `UNUSABLE_PASSWORD_PREFIX`.
pub const UNUSABLE_PASSWORD_PREFIX: &str = "!";
/// Django's `UNUSABLE_PASSWORD_SUFFIX_LENGTH`.
pub const UNUSABLE_PASSWORD_SUFFIX_LENGTH: usize = 40;
/// Length of a generated salt: Django's `ceil(salt_entropy / log2(62))` with 128 bits.
pub const SALT_LENGTH: usize = 22;
/// Django's `BasePasswordHasher.salt_entropy`, in bits.
const SALT_ENTROPY: f64 = 128.0;

/// Why a password could not be hashed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HashError {
    /// The salt is empty or contains `$` (Django asserts the same).
    #[error("the salt must be non-empty and must not contain '$'")]
    BadSalt,
    /// Zero iterations.
    #[error("the iteration count must be at least 1")]
    BadIterations,
}

/// The parts of an encoded PBKDF2 password.
struct Decoded<'a> {
    algorithm: &'a str,
    iterations: u32,
    salt: &'a str,
    hash: &'a str,
}

fn decode(encoded: &str) -> Option<Decoded<'_>> {
    let mut parts = encoded.splitn(4, '$');
    let algorithm = parts.next()?;
    let iterations = parts.next()?;
    let salt = parts.next()?;
    let hash = parts.next()?;
    // Python's int() would accept "+5" or " 5"; Django only ever writes plain digits.
    if iterations.is_empty() || !iterations.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let iterations: u32 = iterations.parse().ok()?;
    if iterations == 0 {
        return None;
    }
    Some(Decoded {
        algorithm,
        iterations,
        salt,
        hash,
    })
}

fn pbkdf2_b64(algorithm: &str, password: &str, salt: &str, iterations: u32) -> Option<String> {
    let hash: Vec<u8> = match algorithm {
        PBKDF2_SHA256 => {
            let mut out = [0u8; 32];
            pbkdf2::pbkdf2_hmac::<sha2::Sha256>(
                password.as_bytes(),
                salt.as_bytes(),
                iterations,
                &mut out,
            );
            out.to_vec()
        }
        PBKDF2_SHA1 => {
            let mut out = [0u8; 20];
            pbkdf2::pbkdf2_hmac::<sha1::Sha1>(
                password.as_bytes(),
                salt.as_bytes(),
                iterations,
                &mut out,
            );
            out.to_vec()
        }
        _ => return None,
    };
    Some(base64::engine::general_purpose::STANDARD.encode(hash))
}

/// A new random salt of [`SALT_LENGTH`] characters from `[a-zA-Z0-9]` (Django's `salt()`).
pub fn generate_salt() -> String {
    get_random_string(SALT_LENGTH, RANDOM_STRING_CHARS)
}

/// Django's `make_password(password)`: `pbkdf2_sha256` with a random salt and
/// [`PBKDF2_ITERATIONS`].
pub fn make_password(password: &str) -> String {
    let salt = generate_salt();
    // The generated salt is never empty and has no `$`, and the iteration count is positive.
    make_password_with(password, &salt, PBKDF2_ITERATIONS).unwrap_or_default()
}

/// `pbkdf2_sha256` with a given salt and iteration count (Django's
/// `PBKDF2PasswordHasher().encode(password, salt, iterations)`).
pub fn make_password_with(
    password: &str,
    salt: &str,
    iterations: u32,
) -> Result<String, HashError> {
    if salt.is_empty() || salt.contains('$') {
        return Err(HashError::BadSalt);
    }
    if iterations == 0 {
        return Err(HashError::BadIterations);
    }
    let hash = pbkdf2_b64(PBKDF2_SHA256, password, salt, iterations).unwrap_or_default();
    Ok(format!("{PBKDF2_SHA256}${iterations}${salt}${hash}"))
}

/// Django's `make_password(None)`: an unusable password, `!` and 40 random characters.
pub fn make_unusable_password() -> String {
    format!(
        "{UNUSABLE_PASSWORD_PREFIX}{}",
        get_random_string(UNUSABLE_PASSWORD_SUFFIX_LENGTH, RANDOM_STRING_CHARS)
    )
}

/// Django's `is_password_usable(encoded)`: false for passwords made unusable (`!` prefix).
pub fn is_password_usable(encoded: &str) -> bool {
    !encoded.starts_with(UNUSABLE_PASSWORD_PREFIX)
}

/// Django's `check_password(password, encoded)`: whether `password` matches `encoded`, compared
/// in constant time. Unusable, malformed or unsupported encodings never match.
///
/// This is slow on purpose (PBKDF2): in async code, run it on a blocking thread
/// (`tokio::task::spawn_blocking`), as [`super::InMemoryUserBackend`] does.
pub fn check_password(password: &str, encoded: &str) -> bool {
    if !is_password_usable(encoded) {
        return false;
    }
    let Some(d) = decode(encoded) else {
        return false;
    };
    if d.salt.is_empty() {
        return false;
    }
    let Some(computed) = pbkdf2_b64(d.algorithm, password, d.salt, d.iterations) else {
        return false;
    };
    constant_time_eq(computed.as_bytes(), d.hash.as_bytes())
}

/// Django's `hasher.must_update(encoded)` for the preferred hasher: true when `encoded` is not
/// `pbkdf2_sha256` with [`PBKDF2_ITERATIONS`] and a salt of full entropy, i.e. when the
/// password should be re-hashed with [`make_password`] after a successful check.
pub fn must_update(encoded: &str) -> bool {
    if !is_password_usable(encoded) {
        return false;
    }
    match decode(encoded) {
        Some(d) if d.algorithm == PBKDF2_SHA256 => {
            let salt_bits =
                d.salt.chars().count() as f64 * (RANDOM_STRING_CHARS.len() as f64).log2();
            d.iterations != PBKDF2_ITERATIONS || salt_bits < SALT_ENTROPY
        }
        _ => true,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    // Django: tests/auth_tests/test_hashers.py::TestUtilsHashPass::test_pbkdf2 (format, check,
    // wrong password), with few iterations so the debug build stays fast.
    #[test]
    fn round_trip() {
        let encoded = make_password_with("lètmein", "seasalt", 10).unwrap();
        assert!(encoded.starts_with("pbkdf2_sha256$10$seasalt$"));
        assert!(check_password("lètmein", &encoded));
        assert!(!check_password("lètmeinz", &encoded));
        assert!(must_update(&encoded));
    }

    // Django: test_hashers.py::TestUtilsHashPass::test_unusable
    #[test]
    fn unusable_passwords_never_verify() {
        let encoded = make_unusable_password();
        assert_eq!(encoded.len(), 41);
        assert!(!is_password_usable(&encoded));
        assert!(!check_password("", &encoded));
        assert!(!check_password(&encoded, &encoded));
        assert!(!check_password("!", "!"));
        assert!(!must_update(&encoded));
    }

    #[test]
    fn salt_rules() {
        assert_eq!(make_password_with("x", "", 1), Err(HashError::BadSalt));
        assert_eq!(make_password_with("x", "a$b", 1), Err(HashError::BadSalt));
        assert_eq!(
            make_password_with("x", "ab", 0),
            Err(HashError::BadIterations)
        );
        let salt = generate_salt();
        assert_eq!(salt.len(), SALT_LENGTH);
        assert!(salt.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_ne!(salt, generate_salt());
    }

    #[test]
    fn malformed_encodings_do_not_verify_or_panic() {
        for bad in [
            "",
            "pbkdf2_sha256",
            "pbkdf2_sha256$",
            "pbkdf2_sha256$$salt$hash",
            "pbkdf2_sha256$-1$salt$hash",
            "pbkdf2_sha256$+5$salt$hash",
            "pbkdf2_sha256$0$salt$hash",
            "pbkdf2_sha256$99999999999999999999$salt$hash",
            "pbkdf2_sha256$1$$",
            "pbkdf2_sha256$1$salt$",
            "md5$salt$hash",
            "argon2$argon2id$v=19$m=102400,t=2,p=8$c2FsdA$aGFzaA",
            "bcrypt_sha256$$2b$12$abc",
            "plaintext",
            "pbkdf2_sha256\u{0}$1$s$h",
        ] {
            assert!(!check_password("", bad), "{bad:?}");
            assert!(!check_password("hash", bad), "{bad:?}");
        }
    }
}
