//! Django's password hashes (`django.contrib.auth.hashers`): `make_password`,
//! `check_password` with the upgrade on login, and the hashers of Django's default
//! `PASSWORD_HASHERS`.
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
//! Formats (Django 6.1's, byte for byte):
//!
//! | hasher | encoded |
//! | --- | --- |
//! | `PBKDF2PasswordHasher` | `pbkdf2_sha256$1500000$<salt>$<base64>` |
//! | `PBKDF2SHA1PasswordHasher` | `pbkdf2_sha1$1500000$<salt>$<base64>` |
//! | `Argon2PasswordHasher` | `argon2$argon2id$v=19$m=102400,t=2,p=8$<salt>$<hash>` |
//! | `BCryptSHA256PasswordHasher` | `bcrypt_sha256$$2b$12$<salt><hash>` |
//! | `BCryptPasswordHasher` | `bcrypt$$2b$12$<salt><hash>` |
//! | `ScryptPasswordHasher` | `scrypt$16384$<salt>$8$5$<base64>` |
//! | `MD5PasswordHasher` | `md5$<salt>$<hex>` |
//!
//! [`PasswordHashers`] is Django's `PASSWORD_HASHERS`: the first is preferred, the others
//! still verify, and [`PasswordHashers::verify_password`] says when a correct password should
//! be hashed again (another hasher was used, or other parameters). A password starting with
//! `!` is unusable and never verifies. All of this is slow on purpose: in async code, go
//! through [`PasswordHashing`] (a bounded pool) rather than calling it on a runtime thread.

mod argon2;
mod bcrypt;
mod pbkdf2;
mod pool;
mod scrypt;

use std::sync::OnceLock;

use middleware_core::crypto::{constant_time_eq, get_random_string, RANDOM_STRING_CHARS};
use middleware_core::{FactoryError, Settings};

pub use self::argon2::Argon2Params;
pub use self::scrypt::ScryptParams;
pub use pool::{HashingBusy, HashingError, PasswordHashing, DEFAULT_QUEUE_TIMEOUT};

/// Django 6.1's `PBKDF2PasswordHasher.iterations`.
pub const PBKDF2_ITERATIONS: u32 = 1_500_000;
/// The algorithm name of Django's default hasher.
pub const PBKDF2_SHA256: &str = "pbkdf2_sha256";
/// The algorithm name of Django's `PBKDF2SHA1PasswordHasher`.
pub const PBKDF2_SHA1: &str = "pbkdf2_sha1";
/// The algorithm name of Django's `Argon2PasswordHasher`.
pub const ARGON2: &str = "argon2";
/// The algorithm name of Django's `BCryptSHA256PasswordHasher`.
pub const BCRYPT_SHA256: &str = "bcrypt_sha256";
/// The algorithm name of Django's `BCryptPasswordHasher`.
pub const BCRYPT: &str = "bcrypt";
/// The algorithm name of Django's `ScryptPasswordHasher`.
pub const SCRYPT: &str = "scrypt";
/// The algorithm name of Django's `MD5PasswordHasher` (for tests: fast and weak).
pub const MD5: &str = "md5";
/// Django's `UNUSABLE_PASSWORD_PREFIX`.
pub const UNUSABLE_PASSWORD_PREFIX: &str = "!";
/// Django's `UNUSABLE_PASSWORD_SUFFIX_LENGTH`.
pub const UNUSABLE_PASSWORD_SUFFIX_LENGTH: usize = 40;
/// Length of a generated salt: Django's `ceil(salt_entropy / log2(62))` with 128 bits.
pub const SALT_LENGTH: usize = 22;
/// Django's `BasePasswordHasher.salt_entropy`, in bits.
const SALT_ENTROPY: f64 = 128.0;

middleware_core::declare_settings! {
    /// The settings read by [`PasswordHashers::from_settings`] and
    /// [`PasswordHashing::from_settings`].
    pub struct PasswordHashingSettings {
        /// the first makes new passwords, every one verifies; a correct password of another
        /// hasher or other parameters is hashed again on login. Also `BCryptPasswordHasher` and
        /// `MD5PasswordHasher`; any other name refuses to start
        PASSWORD_HASHERS => hashers: Option<Vec<String>> = unset(
            "Django's list: `PBKDF2PasswordHasher`, `PBKDF2SHA1PasswordHasher`, `Argon2PasswordHasher`, `BCryptSHA256PasswordHasher`, `ScryptPasswordHasher` (each `django.contrib.auth.hashers.…`)"
        ),
        /// not Django's: at most this many password hashes run at once (see
        /// [deployment](deployment.md#password-hashing-a-bounded-pool)); at least 1
        PASSWORD_HASHING_WORKERS => workers: Option<usize> = unset("the number of cores"),
        /// not Django's: seconds a login waits for a free hashing worker before it is answered
        /// 503 with `Retry-After`; `0` refuses at once when all are busy
        PASSWORD_HASHING_QUEUE_TIMEOUT => queue_timeout: f64 = 5,
    }
}

/// Django's default `PASSWORD_HASHERS`.
pub const DEFAULT_PASSWORD_HASHERS: &[&str] = &[
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
];

/// Why a password could not be hashed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HashError {
    /// The salt is empty or contains `$` (Django asserts the same), or is not a bcrypt salt.
    #[error("the salt must be non-empty and must not contain '$'")]
    BadSalt,
    /// Zero iterations.
    #[error("the iteration count must be at least 1")]
    BadIterations,
    /// Costs the algorithm refuses (argon2 memory below 8 per lane, scrypt N not a power of
    /// two, a bcrypt cost outside 4..=31, a bcrypt password over 72 bytes...).
    #[error("the hasher refused its parameters")]
    BadParameters,
    /// `make_password` was asked for an algorithm that `PASSWORD_HASHERS` does not list.
    #[error("Unknown password hashing algorithm '{0}'. Did you specify it in the PASSWORD_HASHERS setting?")]
    UnknownAlgorithm(String),
}

/// One of Django's password hashers, with its parameters (Django's class attributes, which
/// its tests patch to simulate a change of work factor).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hasher {
    /// `PBKDF2PasswordHasher`.
    Pbkdf2Sha256 {
        /// `iterations` (Django: 1,500,000).
        iterations: u32,
    },
    /// `PBKDF2SHA1PasswordHasher`.
    Pbkdf2Sha1 {
        /// `iterations` (Django: 1,500,000).
        iterations: u32,
    },
    /// `Argon2PasswordHasher`.
    Argon2(Argon2Params),
    /// `BCryptSHA256PasswordHasher`.
    BcryptSha256 {
        /// `rounds`, the log2 work factor (Django: 12).
        rounds: u32,
    },
    /// `BCryptPasswordHasher` (no SHA-256 first: passwords over 72 bytes are refused).
    Bcrypt {
        /// `rounds` (Django: 12).
        rounds: u32,
    },
    /// `ScryptPasswordHasher`.
    Scrypt(ScryptParams),
    /// `MD5PasswordHasher`.
    Md5,
}

/// Django's `must_update_salt`: fewer than 128 bits in `chars` characters of `[a-zA-Z0-9]`.
fn must_update_salt(chars: usize) -> bool {
    (chars as f64) * (RANDOM_STRING_CHARS.len() as f64).log2() < SALT_ENTROPY
}

/// Django's `_check_encode_args`.
fn check_salt(salt: &str) -> Result<(), HashError> {
    if salt.is_empty() || salt.contains('$') {
        return Err(HashError::BadSalt);
    }
    Ok(())
}

fn md5_encode(password: &str, salt: &str) -> Result<String, HashError> {
    use md5::{Digest, Md5};
    check_salt(salt)?;
    let digest = Md5::new()
        .chain_update(salt.as_bytes())
        .chain_update(password.as_bytes())
        .finalize();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("{MD5}${salt}${hex}"))
}

/// Re-encodes with the stored parameters and compares the whole strings in constant time
/// (Django's `verify` for the hashers whose `encode` takes every parameter).
fn verify_by_encoding(encoded: &str, again: Result<String, HashError>) -> bool {
    again.is_ok_and(|again| constant_time_eq(again.as_bytes(), encoded.as_bytes()))
}

impl Hasher {
    /// The hasher of a dotted path of `PASSWORD_HASHERS`, with Django's parameters.
    pub fn from_dotted_path(path: &str) -> Option<Hasher> {
        let name = path.strip_prefix("django.contrib.auth.hashers.")?;
        Some(match name {
            "PBKDF2PasswordHasher" => Hasher::Pbkdf2Sha256 {
                iterations: PBKDF2_ITERATIONS,
            },
            "PBKDF2SHA1PasswordHasher" => Hasher::Pbkdf2Sha1 {
                iterations: PBKDF2_ITERATIONS,
            },
            "Argon2PasswordHasher" => Hasher::Argon2(Argon2Params::default()),
            "BCryptSHA256PasswordHasher" => Hasher::BcryptSha256 {
                rounds: bcrypt::DEFAULT_ROUNDS,
            },
            "BCryptPasswordHasher" => Hasher::Bcrypt {
                rounds: bcrypt::DEFAULT_ROUNDS,
            },
            "ScryptPasswordHasher" => Hasher::Scrypt(ScryptParams::default()),
            "MD5PasswordHasher" => Hasher::Md5,
            _ => return None,
        })
    }

    /// Django's `hasher.algorithm`, the first field of what it encodes.
    pub fn algorithm(&self) -> &'static str {
        match self {
            Hasher::Pbkdf2Sha256 { .. } => PBKDF2_SHA256,
            Hasher::Pbkdf2Sha1 { .. } => PBKDF2_SHA1,
            Hasher::Argon2(_) => ARGON2,
            Hasher::BcryptSha256 { .. } => BCRYPT_SHA256,
            Hasher::Bcrypt { .. } => BCRYPT,
            Hasher::Scrypt(_) => SCRYPT,
            Hasher::Md5 => MD5,
        }
    }

    /// Django's `hasher.salt()`: 22 random characters of `[a-zA-Z0-9]`, or for bcrypt
    /// `bcrypt.gensalt(rounds)`.
    pub fn salt(&self) -> String {
        match self {
            Hasher::BcryptSha256 { rounds } | Hasher::Bcrypt { rounds } => bcrypt::gensalt(*rounds),
            _ => generate_salt(),
        }
    }

    /// Django's `hasher.encode(password, salt)`.
    pub fn encode(&self, password: &str, salt: &str) -> Result<String, HashError> {
        match *self {
            Hasher::Pbkdf2Sha256 { iterations } => {
                pbkdf2::encode(false, password, salt, iterations)
            }
            Hasher::Pbkdf2Sha1 { iterations } => pbkdf2::encode(true, password, salt, iterations),
            Hasher::Argon2(params) => argon2::encode(params, password, salt),
            Hasher::BcryptSha256 { .. } => bcrypt::encode(true, password, salt),
            Hasher::Bcrypt { .. } => bcrypt::encode(false, password, salt),
            Hasher::Scrypt(params) => scrypt::encode(params, password, salt),
            Hasher::Md5 => md5_encode(password, salt),
        }
    }

    /// Django's `hasher.verify(password, encoded)`, in constant time. `encoded` must be of
    /// this hasher's algorithm; malformed ones never verify.
    pub fn verify(&self, password: &str, encoded: &str) -> bool {
        match self {
            Hasher::Pbkdf2Sha256 { .. } | Hasher::Pbkdf2Sha1 { .. } => {
                let sha1 = matches!(self, Hasher::Pbkdf2Sha1 { .. });
                let Some(d) = pbkdf2::decode(self.algorithm(), encoded) else {
                    return false;
                };
                verify_by_encoding(
                    encoded,
                    pbkdf2::encode(sha1, password, d.salt, d.iterations),
                )
            }
            Hasher::Argon2(_) => argon2::verify(password, encoded),
            Hasher::BcryptSha256 { .. } => bcrypt::verify(true, password, encoded),
            Hasher::Bcrypt { .. } => bcrypt::verify(false, password, encoded),
            Hasher::Scrypt(_) => {
                let Some((params, salt)) = scrypt::decode(encoded) else {
                    return false;
                };
                verify_by_encoding(encoded, scrypt::encode(params, password, salt))
            }
            Hasher::Md5 => {
                let Some((salt, _)) = encoded
                    .strip_prefix("md5$")
                    .and_then(|rest| rest.split_once('$'))
                else {
                    return false;
                };
                verify_by_encoding(encoded, md5_encode(password, salt))
            }
        }
    }

    /// Django's `hasher.must_update(encoded)`: whether a password of this hasher's algorithm
    /// was hashed with other parameters (or a weak salt) and should be hashed again.
    pub fn must_update(&self, encoded: &str) -> bool {
        match *self {
            Hasher::Pbkdf2Sha256 { iterations } | Hasher::Pbkdf2Sha1 { iterations } => {
                match pbkdf2::decode(self.algorithm(), encoded) {
                    Some(d) => {
                        d.iterations != iterations || must_update_salt(d.salt.chars().count())
                    }
                    None => true,
                }
            }
            Hasher::Argon2(params) => argon2::must_update(params, encoded),
            Hasher::BcryptSha256 { rounds } | Hasher::Bcrypt { rounds } => {
                bcrypt::work_factor(encoded) != Some(rounds)
            }
            Hasher::Scrypt(params) => scrypt::decode(encoded).is_none_or(|(p, _)| p != params),
            Hasher::Md5 => encoded
                .strip_prefix("md5$")
                .and_then(|rest| rest.split_once('$'))
                .is_none_or(|(salt, _)| must_update_salt(salt.chars().count())),
        }
    }

    /// Django's `hasher.harden_runtime(password, encoded)`: after a wrong password for a hash
    /// of lower work factor, spend the missing work so that the answer takes as long as with
    /// the current parameters (argon2 and scrypt do nothing, as in Django).
    pub fn harden_runtime(&self, password: &str, encoded: &str) {
        match *self {
            Hasher::Pbkdf2Sha256 { iterations } | Hasher::Pbkdf2Sha1 { iterations } => {
                let sha1 = matches!(self, Hasher::Pbkdf2Sha1 { .. });
                if let Some(d) = pbkdf2::decode(self.algorithm(), encoded) {
                    let extra = iterations.saturating_sub(d.iterations);
                    if extra > 0 {
                        let _ = pbkdf2::encode(sha1, password, d.salt, extra);
                    }
                }
            }
            Hasher::BcryptSha256 { rounds } => {
                bcrypt::harden_runtime(true, rounds, password, encoded)
            }
            Hasher::Bcrypt { rounds } => bcrypt::harden_runtime(false, rounds, password, encoded),
            Hasher::Argon2(_) | Hasher::Scrypt(_) | Hasher::Md5 => {}
        }
    }

    /// Django's `decode(encoded)["salt"]`, for the hashers that have one field of salt
    /// (`None` for bcrypt and malformed values).
    pub fn decoded_salt(&self, encoded: &str) -> Option<String> {
        match self {
            Hasher::Pbkdf2Sha256 { .. } | Hasher::Pbkdf2Sha1 { .. } => {
                pbkdf2::decode(self.algorithm(), encoded).map(|d| d.salt.to_owned())
            }
            Hasher::Argon2(_) => argon2::salt_and_params(encoded).map(|(s, _)| s),
            Hasher::Scrypt(_) => scrypt::decode(encoded).map(|(_, s)| s.to_owned()),
            Hasher::Md5 => encoded
                .strip_prefix("md5$")
                .and_then(|rest| rest.split_once('$'))
                .map(|(s, _)| s.to_owned()),
            Hasher::BcryptSha256 { .. } | Hasher::Bcrypt { .. } => None,
        }
    }
}

/// What [`PasswordHashers::verify_password`] found (Django's `verify_password` pair).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verified {
    /// The password matches.
    pub is_correct: bool,
    /// The password should be hashed again with the preferred hasher (meaningful only when
    /// `is_correct`).
    pub must_update: bool,
}

/// Django's `PASSWORD_HASHERS`: the first hasher makes new passwords, every one verifies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PasswordHashers {
    hashers: Vec<Hasher>,
}

impl Default for PasswordHashers {
    /// Django's default `PASSWORD_HASHERS`.
    fn default() -> Self {
        PasswordHashers {
            hashers: DEFAULT_PASSWORD_HASHERS
                .iter()
                .filter_map(|p| Hasher::from_dotted_path(p))
                .collect(),
        }
    }
}

impl PasswordHashers {
    /// These hashers, the first preferred. `None` when the list is empty.
    pub fn new(hashers: Vec<Hasher>) -> Option<Self> {
        (!hashers.is_empty()).then_some(PasswordHashers { hashers })
    }

    /// Reads `PASSWORD_HASHERS` (Django's dotted names; default Django's list). Unknown names
    /// and an empty list are refused at start-up.
    pub fn from_settings(settings: &Settings) -> Result<Self, FactoryError> {
        let Some(names) = PasswordHashingSettings::from_settings(settings)?.hashers else {
            return Ok(Self::default());
        };
        let mut hashers = Vec::with_capacity(names.len());
        for name in &names {
            let Some(hasher) = Hasher::from_dotted_path(name) else {
                return Err(settings
                    .invalid(
                        "PASSWORD_HASHERS",
                        format!("{name:?} is not one of Django's password hashers"),
                        "use django.contrib.auth.hashers.PBKDF2PasswordHasher, PBKDF2SHA1PasswordHasher, \
                         Argon2PasswordHasher, BCryptSHA256PasswordHasher, BCryptPasswordHasher, \
                         ScryptPasswordHasher or MD5PasswordHasher",
                    )
                    .into());
            };
            hashers.push(hasher);
        }
        Self::new(hashers).ok_or_else(|| {
            settings
                .invalid(
                    "PASSWORD_HASHERS",
                    "the list is empty",
                    "list at least one hasher; the first makes new passwords",
                )
                .into()
        })
    }

    /// Django's `get_hasher("default")`: the first.
    pub fn preferred(&self) -> &Hasher {
        // `new` and `from_settings` refuse an empty list.
        &self.hashers[0]
    }

    /// The hashers, in order.
    pub fn hashers(&self) -> &[Hasher] {
        &self.hashers
    }

    /// Django's `get_hasher(algorithm)`.
    pub fn get(&self, algorithm: &str) -> Option<&Hasher> {
        self.hashers.iter().find(|h| h.algorithm() == algorithm)
    }

    /// Django's `identify_hasher(encoded)`: the hasher named by the first field.
    pub fn identify(&self, encoded: &str) -> Option<&Hasher> {
        self.get(encoded.split_once('$').map_or(encoded, |(a, _)| a))
    }

    /// Django's `make_password(password)`: the preferred hasher with a new salt.
    pub fn make_password(&self, password: &str) -> String {
        let hasher = self.preferred();
        // A generated salt always suits its hasher, and the parameters come from Django's
        // classes or from code that chose them: log rather than panic if they are refused.
        hasher.encode(password, &hasher.salt()).unwrap_or_else(|e| {
            tracing::error!(target: "django.contrib.auth", algorithm = hasher.algorithm(), error = %e, "password hasher failed");
            make_unusable_password()
        })
    }

    /// Django's `make_password(password, salt, hasher)`: `algorithm` (default: the preferred
    /// hasher) with `salt` (default: a new one).
    pub fn make_password_with(
        &self,
        password: &str,
        salt: Option<&str>,
        algorithm: Option<&str>,
    ) -> Result<String, HashError> {
        let hasher = match algorithm {
            None => self.preferred(),
            Some(a) => self
                .get(a)
                .ok_or_else(|| HashError::UnknownAlgorithm(a.to_owned()))?,
        };
        match salt.filter(|s| !s.is_empty()) {
            Some(salt) => hasher.encode(password, salt),
            None => hasher.encode(password, &hasher.salt()),
        }
    }

    /// Django's `verify_password(password, encoded)`, preferring the first hasher.
    pub fn verify_password(&self, password: &str, encoded: &str) -> Verified {
        self.verify_password_preferring(password, encoded, self.preferred())
    }

    /// Django's `verify_password(password, encoded, preferred)`.
    ///
    /// As Django, an unusable or unidentifiable `encoded` still runs the preferred hasher once
    /// (so that a missing user or a disabled account takes as long as a wrong password), and a
    /// wrong password for a hash of lower work factor runs [`Hasher::harden_runtime`].
    pub fn verify_password_preferring(
        &self,
        password: &str,
        encoded: &str,
        preferred: &Hasher,
    ) -> Verified {
        let hasher = is_password_usable(encoded)
            .then(|| self.identify(encoded))
            .flatten();
        let Some(hasher) = hasher else {
            let _ = self.make_password(&get_random_string(
                UNUSABLE_PASSWORD_SUFFIX_LENGTH,
                RANDOM_STRING_CHARS,
            ));
            return Verified {
                is_correct: false,
                must_update: false,
            };
        };
        let hasher_changed = hasher.algorithm() != preferred.algorithm();
        let must_update = hasher_changed || preferred.must_update(encoded);
        let is_correct = hasher.verify(password, encoded);
        if !is_correct && !hasher_changed && must_update {
            hasher.harden_runtime(password, encoded);
        }
        Verified {
            is_correct,
            must_update,
        }
    }

    /// Django's `check_password(password, encoded, setter)`: `setter` gets the raw password
    /// when it is correct and must be hashed again.
    pub fn check_password(&self, password: &str, encoded: &str, setter: impl FnOnce(&str)) -> bool {
        let v = self.verify_password(password, encoded);
        if v.is_correct && v.must_update {
            setter(password);
        }
        v.is_correct
    }
}

fn default_hashers() -> &'static PasswordHashers {
    static DEFAULT: OnceLock<PasswordHashers> = OnceLock::new();
    DEFAULT.get_or_init(PasswordHashers::default)
}

/// A new random salt of [`SALT_LENGTH`] characters from `[a-zA-Z0-9]` (Django's `salt()`).
pub fn generate_salt() -> String {
    get_random_string(SALT_LENGTH, RANDOM_STRING_CHARS)
}

/// Django's `make_password(password)` with the default `PASSWORD_HASHERS`: `pbkdf2_sha256`,
/// a random salt and [`PBKDF2_ITERATIONS`].
pub fn make_password(password: &str) -> String {
    default_hashers().make_password(password)
}

/// `pbkdf2_sha256` with a given salt and iteration count (Django's
/// `PBKDF2PasswordHasher().encode(password, salt, iterations)`).
pub fn make_password_with(
    password: &str,
    salt: &str,
    iterations: u32,
) -> Result<String, HashError> {
    pbkdf2::encode(false, password, salt, iterations)
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

/// Django's `check_password(password, encoded)` with the default `PASSWORD_HASHERS`: whether
/// `password` matches `encoded`, compared in constant time. Unusable, malformed or unknown
/// encodings never match.
///
/// This is slow on purpose: in async code, use [`PasswordHashing`].
pub fn check_password(password: &str, encoded: &str) -> bool {
    default_hashers()
        .verify_password(password, encoded)
        .is_correct
}

/// Whether `encoded` should be hashed again under the default `PASSWORD_HASHERS` (Django's
/// `must_update` of `verify_password`): not `pbkdf2_sha256` with [`PBKDF2_ITERATIONS`] and a
/// salt of full entropy.
pub fn must_update(encoded: &str) -> bool {
    if !is_password_usable(encoded) {
        return false;
    }
    let preferred = default_hashers().preferred();
    encoded.split('$').next() != Some(preferred.algorithm()) || preferred.must_update(encoded)
}

#[cfg(test)]
mod tests;
