//! Django's `BCryptSHA256PasswordHasher` (`bcrypt_sha256$$2b$12$<salt><hash>`, the password
//! first hashed with SHA-256 so that bcrypt's 72-byte limit does not truncate it) and
//! `BCryptPasswordHasher` (`bcrypt$...`, the raw password).

use base64::Engine as _;
use sha2::Digest;

use super::HashError;

/// Django's `BCryptSHA256PasswordHasher.rounds`.
pub const DEFAULT_ROUNDS: u32 = 12;

/// bcrypt's base64, as in `$2b$12$<22 characters of salt>`.
const BCRYPT_B64: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::BCRYPT,
    base64::engine::GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::RequireNone),
);

/// Django's `salt()` for bcrypt: pyca's `bcrypt.gensalt(rounds)`, `$2b$<rounds>$<22 chars>`.
pub(super) fn gensalt(rounds: u32) -> String {
    let raw: [u8; 16] = rand::random();
    format!("$2b${rounds:02}${}", BCRYPT_B64.encode(raw))
}

/// pyca's `bcrypt.hashpw(password, salt)`: the first 29 characters of `salt` (the whole
/// output of an earlier `hashpw` also works) give the version, cost and salt.
fn hashpw(password: &[u8], salt: &str) -> Result<String, HashError> {
    let bytes = salt.as_bytes();
    if bytes.len() < 29 || bytes[0] != b'$' || bytes[3] != b'$' || bytes[6] != b'$' {
        return Err(HashError::BadSalt);
    }
    let version = match &salt[1..3] {
        "2a" => bcrypt::Version::TwoA,
        "2b" => bcrypt::Version::TwoB,
        "2y" => bcrypt::Version::TwoY,
        _ => return Err(HashError::BadSalt),
    };
    let cost: u32 = salt[4..6].parse().map_err(|_| HashError::BadSalt)?;
    let raw: [u8; 16] = BCRYPT_B64
        .decode(&salt[7..29])
        .ok()
        .and_then(|v| v.try_into().ok())
        .ok_or(HashError::BadSalt)?;
    // pyca's bcrypt refuses passwords over 72 bytes instead of truncating them.
    let parts = bcrypt::non_truncating_hash_with_salt(password, cost, raw)
        .map_err(|_| HashError::BadParameters)?;
    Ok(parts.format_for_version(version))
}

fn prehash(sha256: bool, password: &str) -> Vec<u8> {
    if sha256 {
        let digest = sha2::Sha256::digest(password.as_bytes());
        digest
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
            .into_bytes()
    } else {
        password.as_bytes().to_vec()
    }
}

/// Django's `encode(password, salt)`: `<algorithm>$<hashpw output>`.
pub(super) fn encode(sha256: bool, password: &str, salt: &str) -> Result<String, HashError> {
    let algorithm = if sha256 {
        super::BCRYPT_SHA256
    } else {
        super::BCRYPT
    };
    Ok(format!(
        "{algorithm}${}",
        hashpw(&prehash(sha256, password), salt)?
    ))
}

/// Django's `verify`: encode again with the stored salt, compare in constant time.
pub(super) fn verify(sha256: bool, password: &str, encoded: &str) -> bool {
    let Some((_, data)) = encoded.split_once('$') else {
        return false;
    };
    encode(sha256, password, data).is_ok_and(|again| {
        middleware_core::crypto::constant_time_eq(again.as_bytes(), encoded.as_bytes())
    })
}

/// The work factor of `<algorithm>$$2b$12$...`.
pub(super) fn work_factor(encoded: &str) -> Option<u32> {
    let mut parts = encoded.splitn(5, '$');
    let (_, empty, _, work_factor) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    parts.next()?;
    if !empty.is_empty() {
        return None;
    }
    work_factor.parse().ok()
}

/// Django's `harden_runtime`: as many extra encodes as the missing work factor costs.
pub(super) fn harden_runtime(sha256: bool, rounds: u32, password: &str, encoded: &str) {
    let (Some(stored), Some((_, data))) = (work_factor(encoded), encoded.split_once('$')) else {
        return;
    };
    let Some(salt) = data.get(..29) else {
        return;
    };
    let diff = rounds.saturating_sub(stored).min(31);
    for _ in 1..(1u64 << diff) {
        let _ = encode(sha256, password, salt);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn gensalt_round_trips_through_hashpw() {
        let salt = gensalt(4);
        assert_eq!(salt.len(), 29);
        let hashed = hashpw(b"pw", &salt).unwrap();
        assert!(hashed.starts_with(&salt));
        assert_eq!(hashpw(b"pw", &hashed).unwrap(), hashed);
        assert!(hashpw(b"pw", "$2b$04$short").is_err());
        assert!(hashpw(&[b'a'; 73], &salt).is_err());
    }
}
