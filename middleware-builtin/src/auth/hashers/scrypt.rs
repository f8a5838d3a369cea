//! Django's `ScryptPasswordHasher`: `scrypt$<n>$<salt>$<r>$<p>$<base64 of 64 bytes>`.

use base64::Engine as _;

use super::{check_salt, HashError};

/// Django's `ScryptPasswordHasher` parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScryptParams {
    /// `work_factor`, scrypt's N (Django: 2**14); a power of two.
    pub work_factor: u64,
    /// `block_size`, scrypt's r (Django: 8).
    pub block_size: u32,
    /// `parallelism`, scrypt's p (Django: 5).
    pub parallelism: u32,
}

impl Default for ScryptParams {
    fn default() -> Self {
        ScryptParams {
            work_factor: 1 << 14,
            block_size: 8,
            parallelism: 5,
        }
    }
}

/// OpenSSL's default `maxmem` (Django passes `maxmem=0`): 32 MiB.
const MAX_MEMORY: u64 = 32 * 1024 * 1024;

pub(super) fn decode(encoded: &str) -> Option<(ScryptParams, &str)> {
    let mut parts = encoded.splitn(6, '$');
    if parts.next()? != super::SCRYPT {
        return None;
    }
    let n = parts.next()?.parse().ok()?;
    let salt = parts.next()?;
    let r = parts.next()?.parse().ok()?;
    let p = parts.next()?.parse().ok()?;
    parts.next()?;
    Some((
        ScryptParams {
            work_factor: n,
            block_size: r,
            parallelism: p,
        },
        salt,
    ))
}

/// Django's `encode(password, salt, n, r, p)` with `dklen=64`. Parameters that Python's
/// `hashlib.scrypt` refuses (N not a power of two above 1, more memory than OpenSSL's
/// default limit) are refused here too.
pub(super) fn encode(
    params: ScryptParams,
    password: &str,
    salt: &str,
) -> Result<String, HashError> {
    check_salt(salt)?;
    let ScryptParams {
        work_factor: n,
        block_size: r,
        parallelism: p,
    } = params;
    if n < 2 || !n.is_power_of_two() || r == 0 || p == 0 {
        return Err(HashError::BadParameters);
    }
    // OpenSSL's EVP_PBE_scrypt bound: 128·r·(N + 2) for V and X plus 128·r·p for B.
    let memory = 128u64
        .saturating_mul(u64::from(r))
        .saturating_mul(n.saturating_add(2).saturating_add(u64::from(p)));
    if memory > MAX_MEMORY {
        return Err(HashError::BadParameters);
    }
    let log_n = u8::try_from(n.trailing_zeros()).map_err(|_| HashError::BadParameters)?;
    let scrypt_params =
        scrypt::Params::new(log_n, r, p, 64).map_err(|_| HashError::BadParameters)?;
    let mut out = [0u8; 64];
    scrypt::scrypt(
        password.as_bytes(),
        salt.as_bytes(),
        &scrypt_params,
        &mut out,
    )
    .map_err(|_| HashError::BadParameters)?;
    Ok(format!(
        "{}${n}${salt}${r}${p}${}",
        super::SCRYPT,
        base64::engine::general_purpose::STANDARD.encode(out)
    ))
}
