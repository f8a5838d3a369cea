//! CSRF secrets and tokens, bit-compatible with Django (`django/middleware/csrf.py`).
//!
//! A *secret* is 32 characters of [`CSRF_ALLOWED_CHARS`]; the cookie holds it as is. A *token*
//! (what forms and `X-CSRFToken` carry) is 64 characters: a fresh random mask followed by the
//! secret enciphered with it, so the token differs on every page (BREACH) while the secret stays.
//!
//! ```
//! use middleware_builtin::csrf::token::{mask_cipher_secret_with, unmask_cipher_token};
//!
//! let token = mask_cipher_secret_with(
//!     "abcdefghijklmnopqrstuvwxyzABCDEF",
//!     "0123456789ABCDEFGHIJKLMNOPQRSTUV",
//! ).unwrap();
//! assert_eq!(token, "0123456789ABCDEFGHIJKLMNOPQRSTUV02468acegiKMOQSUWY02468acegikmoq");
//! assert_eq!(unmask_cipher_token(&token).unwrap(), "abcdefghijklmnopqrstuvwxyzABCDEF");
//! ```

use rand::Rng;
use subtle::ConstantTimeEq;

/// Django's `CSRF_ALLOWED_CHARS`: `ascii_letters + digits`, lowercase first. The order matters:
/// masking adds indices into this alphabet.
pub const CSRF_ALLOWED_CHARS: &[u8; 62] =
    b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
/// Length of a secret (the cookie value).
pub const CSRF_SECRET_LENGTH: usize = 32;
/// Length of a masked token (form field / header value).
pub const CSRF_TOKEN_LENGTH: usize = 2 * CSRF_SECRET_LENGTH;
/// The session key Django stores the secret under when `CSRF_USE_SESSIONS` is on.
pub const CSRF_SESSION_KEY: &str = "_csrftoken";

/// Why a cookie or token is not a well-formed CSRF value: Django's `InvalidTokenFormat`.
///
/// The messages are Django's subject-less phrases (`"has incorrect length"`), completed by the
/// caller into `"CSRF cookie has incorrect length."` and the like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenFormatError {
    /// Neither 32 nor 64 characters.
    #[error("has incorrect length")]
    IncorrectLength,
    /// A character outside `a-zA-Z0-9`.
    #[error("has invalid characters")]
    InvalidCharacters,
}

fn index_of(c: u8) -> Option<usize> {
    match c {
        b'a'..=b'z' => Some(usize::from(c - b'a')),
        b'A'..=b'Z' => Some(26 + usize::from(c - b'A')),
        b'0'..=b'9' => Some(52 + usize::from(c - b'0')),
        _ => None,
    }
}

fn indices(s: &str) -> Result<Vec<usize>, TokenFormatError> {
    s.bytes()
        .map(|b| index_of(b).ok_or(TokenFormatError::InvalidCharacters))
        .collect()
}

/// A new random 32-character string of [`CSRF_ALLOWED_CHARS`] from the OS random number
/// generator: Django's `_get_new_csrf_string` (used for secrets and masks).
pub fn new_csrf_string() -> String {
    // One read of the OS generator for the whole string (a read per character was most of the
    // cost of masking a token); bytes at or above 248 = 4 * 62 are dropped so that `% 62` is
    // uniform, as Django's `secrets.choice` is.
    const LIMIT: u8 = 248;
    let mut out = String::with_capacity(CSRF_SECRET_LENGTH);
    let mut buf = [0u8; 48];
    while out.len() < CSRF_SECRET_LENGTH {
        rand::rngs::OsRng.fill(&mut buf[..]);
        for &b in buf.iter().filter(|&&b| b < LIMIT) {
            if out.len() == CSRF_SECRET_LENGTH {
                break;
            }
            out.push(char::from(
                CSRF_ALLOWED_CHARS[usize::from(b) % CSRF_ALLOWED_CHARS.len()],
            ));
        }
    }
    out
}

/// Masks `secret` with the given 32-character `mask`: `mask + cipher`, where
/// `cipher[i] = chars[(idx(secret[i]) + idx(mask[i])) % 62]`.
///
/// Both must be 32 characters of [`CSRF_ALLOWED_CHARS`].
pub fn mask_cipher_secret_with(secret: &str, mask: &str) -> Result<String, TokenFormatError> {
    if secret.len() != CSRF_SECRET_LENGTH || mask.len() != CSRF_SECRET_LENGTH {
        return Err(TokenFormatError::IncorrectLength);
    }
    let n = CSRF_ALLOWED_CHARS.len();
    let mut out = String::with_capacity(CSRF_TOKEN_LENGTH);
    out.push_str(mask);
    for (x, y) in secret.bytes().zip(mask.bytes()) {
        let (Some(x), Some(y)) = (index_of(x), index_of(y)) else {
            return Err(TokenFormatError::InvalidCharacters);
        };
        out.push(char::from(CSRF_ALLOWED_CHARS[(x + y) % n]));
    }
    Ok(out)
}

/// Masks `secret` with a fresh random mask: Django's `_mask_cipher_secret`.
pub fn mask_cipher_secret(secret: &str) -> Result<String, TokenFormatError> {
    mask_cipher_secret_with(secret, &new_csrf_string())
}

/// Recovers the secret from a 64-character masked token: Django's `_unmask_cipher_token`,
/// `secret[i] = chars[(idx(cipher[i]) - idx(mask[i])) mod 62]`.
pub fn unmask_cipher_token(token: &str) -> Result<String, TokenFormatError> {
    if token.len() != CSRF_TOKEN_LENGTH {
        return Err(TokenFormatError::IncorrectLength);
    }
    let all = indices(token)?;
    let (mask, cipher) = all.split_at(CSRF_SECRET_LENGTH);
    let n = CSRF_ALLOWED_CHARS.len();
    Ok(cipher
        .iter()
        .zip(mask)
        .map(|(x, y)| char::from(CSRF_ALLOWED_CHARS[(x + n - y) % n]))
        .collect())
}

/// Django's `_check_token_format`: the length (in characters, as Python's `len`) must be 32 or
/// 64, then every character must be in [`CSRF_ALLOWED_CHARS`]. Length is checked first, as in
/// Django, so the reason names the same problem.
pub fn check_token_format(token: &str) -> Result<(), TokenFormatError> {
    let len = token.chars().count();
    if len != CSRF_TOKEN_LENGTH && len != CSRF_SECRET_LENGTH {
        return Err(TokenFormatError::IncorrectLength);
    }
    if token.bytes().any(|b| index_of(b).is_none()) {
        return Err(TokenFormatError::InvalidCharacters);
    }
    Ok(())
}

/// Django's `_does_token_match`: unmasks a 64-character token, then compares with `secret` in
/// constant time. A token that is not well formed never matches (Django asserts instead).
pub fn does_token_match(token: &str, secret: &str) -> bool {
    if check_token_format(token).is_err() {
        return false;
    }
    // Unmasked on the stack: this runs on every checked request.
    let mut unmasked = [0u8; CSRF_SECRET_LENGTH];
    let candidate: &[u8] = if token.len() == CSRF_TOKEN_LENGTH {
        let (mask, cipher) = token.as_bytes().split_at(CSRF_SECRET_LENGTH);
        let n = CSRF_ALLOWED_CHARS.len();
        for ((slot, &c), &m) in unmasked.iter_mut().zip(cipher).zip(mask) {
            // The format check above guarantees both are in the alphabet.
            let (Some(c), Some(m)) = (index_of(c), index_of(m)) else {
                return false;
            };
            *slot = CSRF_ALLOWED_CHARS[(c + n - m) % n];
        }
        &unmasked
    } else {
        token.as_bytes()
    };
    // `ct_eq` on slices of different lengths is false without comparing contents; lengths are
    // not secret here (both are 32 for well-formed values).
    bool::from(candidate.ct_eq(secret.as_bytes()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const TEST_SECRET: &str = "lcccccccX2kcccccccY2jcccccccssIC";
    const MASKED_TEST_SECRET1: &str =
        "1bcdefghij2bcdefghij3bcdefghij4bcdefghij5bcdefghij6bcdefghijABCD";
    const MASKED_TEST_SECRET2: &str =
        "2JgchWvM1tpxT2lfz9aydoXW9yT1DN3NdLiejYxOOlzzV4nhBbYqmqZYbAV3V5Bf";

    fn assert_masked_secret_correct(masked: &str, secret: &str) {
        assert_eq!(masked.len(), CSRF_TOKEN_LENGTH);
        assert_eq!(secret.len(), CSRF_SECRET_LENGTH);
        assert!(masked.bytes().all(|b| CSRF_ALLOWED_CHARS.contains(&b)));
        assert_eq!(unmask_cipher_token(masked).unwrap(), secret);
    }

    #[test]
    fn alphabet_is_djangos_order() {
        assert_eq!(CSRF_ALLOWED_CHARS.len(), 62);
        for (i, c) in CSRF_ALLOWED_CHARS.iter().enumerate() {
            assert_eq!(index_of(*c), Some(i));
        }
    }

    // Django: tests/csrf_tests/tests.py::CsrfFunctionTests::test_unmask_cipher_token
    #[test]
    fn test_unmask_cipher_token() {
        let a32 = "a".repeat(32);
        let b32 = "b".repeat(32);
        let c32 = "c".repeat(32);
        let cases = [
            (TEST_SECRET.to_owned(), MASKED_TEST_SECRET1.to_owned()),
            (TEST_SECRET.to_owned(), MASKED_TEST_SECRET2.to_owned()),
            (
                a32.clone(),
                "vFioG3XOLyGyGsPRFyB9iYUs341ufzIEvFioG3XOLyGyGsPRFyB9iYUs341ufzIE".to_owned(),
            ),
            (a32.clone(), "a".repeat(64)),
            (a32.clone(), "b".repeat(64)),
            (b32.clone(), format!("{a32}{b32}")),
            (b32.clone(), format!("{b32}{c32}")),
            (c32.clone(), format!("{a32}{c32}")),
        ];
        for (secret, masked) in cases {
            assert_eq!(unmask_cipher_token(&masked).unwrap(), secret, "{masked}");
        }
    }

    // Django: tests/csrf_tests/tests.py::CsrfFunctionTests::test_mask_cipher_secret
    #[test]
    fn test_mask_cipher_secret() {
        for secret in [
            "a".repeat(32).as_str(),
            TEST_SECRET,
            "da4SrUiHJYoJ0HYQ0vcgisoIuFOxx4ER",
        ] {
            let masked = mask_cipher_secret(secret).unwrap();
            assert_masked_secret_correct(&masked, secret);
        }
        // Fresh mask each time (BREACH): two maskings of one secret differ.
        assert_ne!(
            mask_cipher_secret(TEST_SECRET).unwrap(),
            mask_cipher_secret(TEST_SECRET).unwrap()
        );
    }

    // The vector of reference §4.5, and the vectors Django 6.1.3 produced in
    // tests/fixtures/django/signing.json ("csrf") on the signing branch, copied as literals.
    #[test]
    fn django_vectors_both_ways() {
        let vectors = [
            (
                "abcdefghijklmnopqrstuvwxyzABCDEF",
                "0123456789ABCDEFGHIJKLMNOPQRSTUV",
                "0123456789ABCDEFGHIJKLMNOPQRSTUV02468acegiKMOQSUWY02468acegikmoq",
            ),
            (
                "hDAEYqL62pBum9BIy2ewA5s02KGvdiP4",
                "TLqi58G5tLSJe44PPxqcALK3nDdL1Eqt",
                "TLqi58G5tLSJe44PPxqcALK3nDdL1Eqt0eQMToh1l0j3q3vndpuy0G2TfdJ64M5n",
            ),
            (
                "nfrioO2Mvz8dAOsjOsgquBXbenoyMAER",
                "Im7uf3B7ZoIQpYrQWYNy1AF0Y1yljevS",
                "Im7uf3B7ZoIQpYrQWYNy1AF0Y1yljevSVroCtHtJkNGTPCJZAgTOl1s12eMJVEZz",
            ),
            (
                "7J1yAq9UvWnlyHqlRoyLJj1NYDNuFfxz",
                "JZ47md2zrvCtDOh80aVcrFicffGD0JPf",
                "JZ47md2zrvCtDOh80aVcrFicffGD0JPfGyVvMt1jMhPE1lxjHojN0O9P3IjXvOcE",
            ),
            (
                "nORDxHPwxIi5jOy9bKFhJEnwIVPauu4I",
                "0VHmE43fhoSjzQ1SsIvMgKIxU9W5MZud",
                "0VHmE43fhoSjzQ1SsIvMgKIxU9W5MZuddzoP1BIBEW0eIupRti0TPeVTsUB56joL",
            ),
            (
                "0jClwZ9gcSJogk3RhlyJsL9OH5t4ox8D",
                "ku5bXkpKNYJBl65znqNQ7tzNReJsXxXC",
                "ku5bXkpKNYJBl65znqNQ7tzNReJsXxXCaDxmj9oQPGiPrgYguBbpp4yro92mbUV5",
            ),
        ];
        for (secret, mask, token) in vectors {
            assert_eq!(mask_cipher_secret_with(secret, mask).unwrap(), token);
            assert_eq!(unmask_cipher_token(token).unwrap(), secret);
            assert!(does_token_match(token, secret));
            assert!(does_token_match(secret, secret));
        }
    }

    // Django: tests/csrf_tests/tests.py::CsrfFunctionTests::test_check_token_format_valid
    #[test]
    fn test_check_token_format_valid() {
        for t in [TEST_SECRET, MASKED_TEST_SECRET1, &"a".repeat(64)] {
            assert_eq!(check_token_format(t), Ok(()));
        }
    }

    // Django: tests/csrf_tests/tests.py::CsrfFunctionTests::test_check_token_format_invalid
    #[test]
    fn test_check_token_format_invalid() {
        assert_eq!(
            check_token_format(&"*".repeat(64)),
            Err(TokenFormatError::InvalidCharacters)
        );
        assert_eq!(
            check_token_format(&"a".repeat(16)),
            Err(TokenFormatError::IncorrectLength)
        );
        assert_eq!(
            TokenFormatError::IncorrectLength.to_string(),
            "has incorrect length"
        );
        assert_eq!(
            TokenFormatError::InvalidCharacters.to_string(),
            "has invalid characters"
        );
    }

    #[test]
    fn every_wrong_length_and_non_ascii_counts_characters() {
        for len in 0..200 {
            let r = check_token_format(&"a".repeat(len));
            if len == 32 || len == 64 {
                assert_eq!(r, Ok(()));
            } else {
                assert_eq!(r, Err(TokenFormatError::IncorrectLength), "len {len}");
            }
        }
        // 32 characters (Python's len) but more bytes: invalid characters, not length.
        let s = format!("é{}", "a".repeat(31));
        assert_eq!(
            check_token_format(&s),
            Err(TokenFormatError::InvalidCharacters)
        );
        assert!(!does_token_match(&s, TEST_SECRET));
        assert!(unmask_cipher_token(&"é".repeat(32)).is_err());
        assert!(mask_cipher_secret("short").is_err());
    }

    // Django: tests/csrf_tests/tests.py::CsrfFunctionTests::test_does_token_match
    #[test]
    fn test_does_token_match() {
        let a64 = "a".repeat(64);
        let a32 = "a".repeat(32);
        let unmasked_a64 = unmask_cipher_token(&a64).unwrap();
        let cases = [
            ((MASKED_TEST_SECRET1, TEST_SECRET), true),
            ((MASKED_TEST_SECRET2, TEST_SECRET), true),
            ((a64.as_str(), unmasked_a64.as_str()), true),
            ((TEST_SECRET, TEST_SECRET), true),
            ((a32.as_str(), a32.as_str()), true),
            ((a32.as_str(), TEST_SECRET), false),
            ((a64.as_str(), TEST_SECRET), false),
        ];
        for ((token, secret), expected) in cases {
            assert_eq!(
                does_token_match(token, secret),
                expected,
                "{token} {secret}"
            );
        }
    }

    // Django: tests/csrf_tests/tests.py::CsrfFunctionTests::test_does_token_match_wrong_token_length
    // (Django asserts; here a malformed token simply never matches.)
    #[test]
    fn test_does_token_match_wrong_token_length() {
        assert!(!does_token_match(&"a".repeat(16), TEST_SECRET));
    }

    #[test]
    fn new_strings_are_well_formed_and_random() {
        let a = new_csrf_string();
        let b = new_csrf_string();
        assert_eq!(check_token_format(&a), Ok(()));
        assert_eq!(a.len(), CSRF_SECRET_LENGTH);
        assert_ne!(a, b);
    }
}
