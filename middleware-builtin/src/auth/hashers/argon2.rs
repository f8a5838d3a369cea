//! Django's `Argon2PasswordHasher`: `argon2` followed by argon2-cffi's PHC string,
//! `argon2$argon2id$v=19$m=102400,t=2,p=8$<salt>$<hash>` (base64 without padding).

use base64::engine::general_purpose::STANDARD_NO_PAD;
use base64::Engine as _;

use super::{check_salt, HashError};

/// argon2-cffi's `DEFAULT_HASH_LENGTH`, the length Django hashes with.
pub const HASH_LENGTH: usize = 32;

/// Django's `Argon2PasswordHasher` parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Argon2Params {
    /// `time_cost` (Django: 2).
    pub time_cost: u32,
    /// `memory_cost` in KiB (Django: 102400).
    pub memory_cost: u32,
    /// `parallelism` (Django: 8).
    pub parallelism: u32,
}

impl Default for Argon2Params {
    fn default() -> Self {
        Argon2Params {
            time_cost: 2,
            memory_cost: 102_400,
            parallelism: 8,
        }
    }
}

/// An encoded argon2 password, parsed as argon2-cffi's `extract_parameters` does.
pub(super) struct Decoded {
    algorithm: argon2::Algorithm,
    /// 0x10 when the string has no `v=` (hashes from before argon2 1.3).
    version: argon2::Version,
    params: Argon2Params,
    pub(super) salt: Vec<u8>,
    hash: Vec<u8>,
}

fn b64(s: &str) -> Option<Vec<u8>> {
    STANDARD_NO_PAD.decode(s.trim_end_matches('=')).ok()
}

pub(super) fn decode(encoded: &str) -> Option<Decoded> {
    let rest = encoded.strip_prefix("argon2$")?;
    let mut parts: Vec<&str> = rest.split('$').collect();
    let algorithm = match *parts.first()? {
        "argon2id" => argon2::Algorithm::Argon2id,
        "argon2i" => argon2::Algorithm::Argon2i,
        "argon2d" => argon2::Algorithm::Argon2d,
        _ => return None,
    };
    let version = if parts.len() == 5 {
        match parts.remove(1) {
            "v=19" => argon2::Version::V0x13,
            "v=16" => argon2::Version::V0x10,
            _ => return None,
        }
    } else {
        argon2::Version::V0x10
    };
    let [_, costs, salt, hash] = parts[..] else {
        return None;
    };
    let mut params = Argon2Params::default();
    let mut seen = 0;
    for (i, kv) in costs.split(',').enumerate() {
        let (key, value) = kv.split_once('=')?;
        let value: u32 = value.parse().ok()?;
        match (i, key) {
            (0, "m") => params.memory_cost = value,
            (1, "t") => params.time_cost = value,
            (2, "p") => params.parallelism = value,
            _ => return None,
        }
        seen += 1;
    }
    if seen != 3 {
        return None;
    }
    Some(Decoded {
        algorithm,
        version,
        params,
        salt: b64(salt)?,
        hash: b64(hash)?,
    })
}

fn hash(
    algorithm: argon2::Algorithm,
    version: argon2::Version,
    params: Argon2Params,
    password: &[u8],
    salt: &[u8],
    len: usize,
) -> Option<Vec<u8>> {
    let p = argon2::Params::new(
        params.memory_cost,
        params.time_cost,
        params.parallelism,
        Some(len),
    )
    .ok()?;
    let mut out = vec![0u8; len];
    argon2::Argon2::new(algorithm, version, p)
        .hash_password_into(password, salt, &mut out)
        .ok()?;
    Some(out)
}

/// Django's `Argon2PasswordHasher.encode(password, salt)`: argon2id, version 19.
pub(super) fn encode(
    params: Argon2Params,
    password: &str,
    salt: &str,
) -> Result<String, HashError> {
    check_salt(salt)?;
    let out = hash(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        params,
        password.as_bytes(),
        salt.as_bytes(),
        HASH_LENGTH,
    )
    .ok_or(HashError::BadParameters)?;
    Ok(format!(
        "argon2$argon2id$v=19$m={},t={},p={}${}${}",
        params.memory_cost,
        params.time_cost,
        params.parallelism,
        STANDARD_NO_PAD.encode(salt.as_bytes()),
        STANDARD_NO_PAD.encode(out)
    ))
}

/// argon2-cffi's `PasswordHasher().verify`: the variety, version, costs and hash length all
/// come from `encoded`.
pub(super) fn verify(password: &str, encoded: &str) -> bool {
    let Some(d) = decode(encoded) else {
        return false;
    };
    if d.hash.is_empty() {
        return false;
    }
    hash(
        d.algorithm,
        d.version,
        d.params,
        password.as_bytes(),
        &d.salt,
        d.hash.len(),
    )
    .is_some_and(|out| middleware_core::crypto::constant_time_eq(&out, &d.hash))
}

/// Django's `must_update`: any parameter (variety, version, hash length, costs) other than
/// this hasher's, or a salt of less than 128 bits.
pub(super) fn must_update(params: Argon2Params, encoded: &str) -> bool {
    let Some(d) = decode(encoded) else {
        return true;
    };
    d.algorithm != argon2::Algorithm::Argon2id
        || d.version != argon2::Version::V0x13
        || d.hash.len() != HASH_LENGTH
        || d.params != params
        // Django decodes the salt as latin-1: one character per byte.
        || super::must_update_salt(d.salt.len())
}

/// Django's `decode(encoded)["salt"]` (latin-1) and the costs, for tests and summaries.
pub(super) fn salt_and_params(encoded: &str) -> Option<(String, Argon2Params)> {
    let d = decode(encoded)?;
    Some((d.salt.iter().map(|&b| char::from(b)).collect(), d.params))
}
