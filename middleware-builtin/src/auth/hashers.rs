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
        PBKDF2_SHA256 => pbkdf2_sha256(password.as_bytes(), salt.as_bytes(), iterations).to_vec(),
        PBKDF2_SHA1 => pbkdf2_sha1(password.as_bytes(), salt.as_bytes(), iterations).to_vec(),
        _ => return None,
    };
    Some(base64::engine::general_purpose::STANDARD.encode(hash))
}

type Block = sha2::digest::generic_array::GenericArray<u8, sha2::digest::consts::U64>;

/// SHA-256's initial state.
const SHA256_IV: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

fn state_bytes(state: &[u32; 8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (chunk, word) in out.chunks_exact_mut(4).zip(state) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    out
}

/// PBKDF2-HMAC-SHA256 with one 32-byte block of output (Django's `dklen=None`).
///
/// Written against `sha2::compress256` rather than the generic `hmac`/`pbkdf2` code: the HMAC
/// key states are computed once, and each of the 1,500,000 iterations is two calls into
/// `sha2`'s (optimized, non-generic) compression function. Generic code would be compiled at
/// this crate's optimization level, which in debug builds made one hash take ~20 seconds.
// Index loops on purpose (see the loop below).
#[allow(clippy::needless_range_loop)]
fn pbkdf2_sha256(password: &[u8], salt: &[u8], iterations: u32) -> [u8; 32] {
    use hmac::{Hmac, Mac};
    use sha2::Digest;
    // The HMAC key block: the password, hashed first when longer than a block.
    let mut key = [0u8; 64];
    if password.len() > 64 {
        key[..32].copy_from_slice(&sha2::Sha256::digest(password));
    } else {
        key[..password.len()].copy_from_slice(password);
    }
    let keyed = |pad: u8| {
        let mut block = Block::default();
        for (b, k) in block.iter_mut().zip(key) {
            *b = k ^ pad;
        }
        let mut state = SHA256_IV;
        sha2::compress256(&mut state, std::slice::from_ref(&block));
        state
    };
    let (inner, outer) = (keyed(0x36), keyed(0x5c));
    // U1 = HMAC(password, salt || INT(1)), through the generic code once.
    let first: [u8; 32] = match <Hmac<sha2::Sha256> as Mac>::new_from_slice(password) {
        Ok(mut mac) => {
            mac.update(salt);
            mac.update(&1u32.to_be_bytes());
            mac.finalize().into_bytes().into()
        }
        // HMAC takes keys of any length; never reached.
        Err(_) => [0u8; 32],
    };
    // A one-block message of 32 bytes after a 64-byte key block: 0x80 padding and the bit
    // length (96 bytes = 768 bits) at the end. Plain arrays and index loops, because this loop
    // runs 1,500,000 times and debug builds do not optimize iterator adapters away.
    let mut block = [0u8; 64];
    block[32] = 0x80;
    block[62] = 0x03;
    let mut t = [0u32; 8];
    for i in 0..8 {
        t[i] = u32::from_be_bytes([
            first[4 * i],
            first[4 * i + 1],
            first[4 * i + 2],
            first[4 * i + 3],
        ]);
    }
    block[..32].copy_from_slice(&first);
    for _ in 1..iterations {
        let mut state = inner;
        sha2::compress256(&mut state, std::slice::from_ref(Block::from_slice(&block)));
        write_words(&mut block, &state);
        let mut state = outer;
        sha2::compress256(&mut state, std::slice::from_ref(Block::from_slice(&block)));
        write_words(&mut block, &state);
        for i in 0..8 {
            t[i] ^= state[i];
        }
    }
    state_bytes(&t)
}

/// Writes `state` big-endian into the first 32 bytes of `block`.
#[allow(clippy::needless_range_loop)]
fn write_words(block: &mut [u8; 64], state: &[u32; 8]) {
    for i in 0..8 {
        let w = state[i];
        block[4 * i] = (w >> 24) as u8;
        block[4 * i + 1] = (w >> 16) as u8;
        block[4 * i + 2] = (w >> 8) as u8;
        block[4 * i + 3] = w as u8;
    }
}

/// PBKDF2-HMAC-SHA1 with one 20-byte block (Django's `PBKDF2SHA1PasswordHasher`); only used to
/// verify old hashes, so the plain generic HMAC is enough.
fn pbkdf2_sha1(password: &[u8], salt: &[u8], iterations: u32) -> [u8; 20] {
    use hmac::{Hmac, Mac};
    let Ok(mac) = <Hmac<sha1::Sha1> as Mac>::new_from_slice(password) else {
        return [0u8; 20];
    };
    let mut first = mac.clone();
    first.update(salt);
    first.update(&1u32.to_be_bytes());
    let mut u: [u8; 20] = first.finalize().into_bytes().into();
    let mut t = u;
    for _ in 1..iterations {
        let mut m = mac.clone();
        m.update(&u);
        u = m.finalize().into_bytes().into();
        for (a, b) in t.iter_mut().zip(u) {
            *a ^= b;
        }
    }
    t
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
