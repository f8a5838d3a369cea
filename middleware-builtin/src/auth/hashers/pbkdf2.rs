//! Django's `PBKDF2PasswordHasher` and `PBKDF2SHA1PasswordHasher`:
//! `<algorithm>$<iterations>$<salt>$<base64 hash>`.

use base64::Engine as _;

use super::{check_salt, HashError};

type Block = sha2::digest::generic_array::GenericArray<u8, sha2::digest::consts::U64>;

/// SHA-256's initial state.
const SHA256_IV: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];
/// SHA-1's initial state.
const SHA1_IV: [u32; 5] = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0];

/// The parts of an encoded PBKDF2 password.
pub(super) struct Decoded<'a> {
    pub(super) iterations: u32,
    pub(super) salt: &'a str,
}

/// Splits `algorithm$iterations$salt$hash`; `None` when malformed or of another algorithm.
pub(super) fn decode<'a>(algorithm: &str, encoded: &'a str) -> Option<Decoded<'a>> {
    let mut parts = encoded.splitn(4, '$');
    if parts.next()? != algorithm {
        return None;
    }
    let iterations = parts.next()?;
    let salt = parts.next()?;
    parts.next()?;
    // Python's int() would accept "+5" or " 5"; Django only ever writes plain digits.
    if iterations.is_empty() || !iterations.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let iterations: u32 = iterations.parse().ok()?;
    if iterations == 0 || salt.is_empty() {
        return None;
    }
    Some(Decoded { iterations, salt })
}

/// `PBKDF2PasswordHasher.encode(password, salt, iterations)` for `sha1` or `sha256`.
pub(super) fn encode(
    sha1: bool,
    password: &str,
    salt: &str,
    iterations: u32,
) -> Result<String, HashError> {
    check_salt(salt)?;
    if iterations == 0 {
        return Err(HashError::BadIterations);
    }
    let (algorithm, hash) = if sha1 {
        let out = pbkdf2_sha1(password.as_bytes(), salt.as_bytes(), iterations);
        (
            super::PBKDF2_SHA1,
            base64::engine::general_purpose::STANDARD.encode(out),
        )
    } else {
        let out = pbkdf2_sha256(password.as_bytes(), salt.as_bytes(), iterations);
        (
            super::PBKDF2_SHA256,
            base64::engine::general_purpose::STANDARD.encode(out),
        )
    };
    Ok(format!("{algorithm}${iterations}${salt}${hash}"))
}

fn words_to_bytes<const W: usize, const N: usize>(state: &[u32; W]) -> [u8; N] {
    let mut out = [0u8; N];
    for (chunk, word) in out.chunks_exact_mut(4).zip(state) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    out
}

/// PBKDF2-HMAC-SHA256 with one 32-byte block of output (Django's `dklen=None`).
pub(super) fn pbkdf2_sha256(password: &[u8], salt: &[u8], iterations: u32) -> [u8; 32] {
    use hmac::{Hmac, Mac};
    use sha2::Digest;
    let first: [u8; 32] = match <Hmac<sha2::Sha256> as Mac>::new_from_slice(password) {
        Ok(mut mac) => {
            mac.update(salt);
            mac.update(&1u32.to_be_bytes());
            mac.finalize().into_bytes().into()
        }
        // HMAC takes keys of any length; never reached.
        Err(_) => [0u8; 32],
    };
    let key = key_block(password, |p| sha2::Sha256::digest(p).to_vec());
    words_to_bytes(&iterate(
        sha2::compress256,
        SHA256_IV,
        &key,
        &first,
        iterations,
    ))
}

/// PBKDF2-HMAC-SHA1 with one 20-byte block of output (Django's `PBKDF2SHA1PasswordHasher`).
pub(super) fn pbkdf2_sha1(password: &[u8], salt: &[u8], iterations: u32) -> [u8; 20] {
    use hmac::{Hmac, Mac};
    use sha1::Digest;
    let first: [u8; 20] = match <Hmac<sha1::Sha1> as Mac>::new_from_slice(password) {
        Ok(mut mac) => {
            mac.update(salt);
            mac.update(&1u32.to_be_bytes());
            mac.finalize().into_bytes().into()
        }
        Err(_) => [0u8; 20],
    };
    let key = key_block(password, |p| sha1::Sha1::digest(p).to_vec());
    words_to_bytes(&iterate(sha1::compress, SHA1_IV, &key, &first, iterations))
}

/// The HMAC key block: the password, hashed first when longer than a block.
fn key_block(password: &[u8], digest: impl Fn(&[u8]) -> Vec<u8>) -> [u8; 64] {
    let mut key = [0u8; 64];
    if password.len() > 64 {
        let d = digest(password);
        key[..d.len()].copy_from_slice(&d);
    } else {
        key[..password.len()].copy_from_slice(password);
    }
    key
}

/// PBKDF2's U2..Un loop for one output block, written against the hash's compression
/// function (`sha2::compress256`, `sha1::compress`) rather than the generic `pbkdf2` crate
/// (which the unit tests compare it with): the HMAC key states are computed once, and each of
/// the 1,500,000 iterations is two calls into the (optimized, non-generic) compression
/// function. The generic crate is compiled at this crate's optimization level, which in debug
/// builds made one hash take over a minute. `first` is U1; `W` words of digest.
// Index loops on purpose: this loop runs 1,500,000 times and debug builds do not optimize
// iterator adapters away.
#[allow(clippy::needless_range_loop)]
fn iterate<const W: usize>(
    compress: fn(&mut [u32; W], &[Block]),
    iv: [u32; W],
    key: &[u8; 64],
    first: &[u8],
    iterations: u32,
) -> [u32; W] {
    let keyed = |pad: u8| {
        let mut block = Block::default();
        for (b, k) in block.iter_mut().zip(key) {
            *b = k ^ pad;
        }
        let mut state = iv;
        compress(&mut state, std::slice::from_ref(&block));
        state
    };
    let (inner, outer) = (keyed(0x36), keyed(0x5c));
    // A one-block message of the digest after a 64-byte key block: 0x80 padding and the bit
    // length at the end.
    let n = 4 * W;
    let bits = ((64 + n) * 8) as u16;
    let mut block = [0u8; 64];
    block[n] = 0x80;
    block[62] = (bits >> 8) as u8;
    block[63] = bits as u8;
    let mut t = [0u32; W];
    for i in 0..W {
        t[i] = u32::from_be_bytes([
            first[4 * i],
            first[4 * i + 1],
            first[4 * i + 2],
            first[4 * i + 3],
        ]);
    }
    block[..n].copy_from_slice(first);
    for _ in 1..iterations {
        let mut state = inner;
        compress(&mut state, std::slice::from_ref(Block::from_slice(&block)));
        write_words(&mut block, &state);
        let mut state = outer;
        compress(&mut state, std::slice::from_ref(Block::from_slice(&block)));
        write_words(&mut block, &state);
        for i in 0..W {
            t[i] ^= state[i];
        }
    }
    t
}

/// Writes `state` big-endian at the start of `block`.
#[allow(clippy::needless_range_loop)]
fn write_words<const W: usize>(block: &mut [u8; 64], state: &[u32; W]) {
    for i in 0..W {
        let w = state[i];
        block[4 * i] = (w >> 24) as u8;
        block[4 * i + 1] = (w >> 16) as u8;
        block[4 * i + 2] = (w >> 8) as u8;
        block[4 * i + 3] = w as u8;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    // The loop over the compression functions agrees with the RustCrypto pbkdf2 crate.
    #[test]
    fn pbkdf2_matches_the_pbkdf2_crate() {
        for (password, salt, iterations) in [
            (&b"password"[..], &b"salt"[..], 1),
            (b"l\xc3\xa8tmein", b"seasalt", 1000),
            (&[b'z'; 100][..], b"long", 7),
            (&[b'y'; 64][..], b"block", 3),
            (b"", b"empty", 2),
        ] {
            let mut expected = [0u8; 32];
            ::pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, salt, iterations, &mut expected);
            assert_eq!(pbkdf2_sha256(password, salt, iterations), expected);
            let mut expected = [0u8; 20];
            ::pbkdf2::pbkdf2_hmac::<sha1::Sha1>(password, salt, iterations, &mut expected);
            assert_eq!(pbkdf2_sha1(password, salt, iterations), expected);
        }
    }
}
