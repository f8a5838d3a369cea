//! zlib for compressed payloads (Python's `zlib.compress` / `zlib.decompress`), with a cap on
//! the decompressed size.

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

use super::SigningError;

pub(super) fn zlib_compress(data: &[u8]) -> Option<Vec<u8>> {
    // A deflate state is a few hundred KiB to allocate and clear; session and messages values
    // are small, so a fresh state per call cost more than compressing. Each thread keeps one
    // and resets it (same output as a new one).
    thread_local! {
        // Python's zlib.compress() default level is 6, same as Compression::default().
        static COMPRESSOR: std::cell::RefCell<Compress> =
            std::cell::RefCell::new(Compress::new(Compression::default(), true));
    }
    COMPRESSOR.with(|cell| match cell.try_borrow_mut() {
        Ok(mut compressor) => {
            compressor.reset();
            zlib_compress_with(&mut compressor, data)
        }
        // Re-entered (cannot happen: nothing here calls back), so use a fresh state.
        Err(_) => zlib_compress_with(&mut Compress::new(Compression::default(), true), data),
    })
}

pub(super) fn zlib_compress_with(compressor: &mut Compress, data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(data.len() / 2 + 64);
    loop {
        let consumed = compressor.total_in() as usize;
        let input = data.get(consumed..)?;
        if out.len() == out.capacity() {
            out.reserve(data.len().max(64));
        }
        match compressor.compress_vec(input, &mut out, FlushCompress::Finish) {
            Ok(Status::StreamEnd) => return Some(out),
            Ok(_) => {}
            Err(_) => return None,
        }
    }
}

pub(super) fn zlib_decompress(data: &[u8], limit: usize) -> Result<Vec<u8>, SigningError> {
    // As for compression: one inflate state per thread, reset for each value.
    thread_local! {
        static DECOMPRESSOR: std::cell::RefCell<Decompress> =
            std::cell::RefCell::new(Decompress::new(true));
    }
    DECOMPRESSOR.with(|cell| match cell.try_borrow_mut() {
        Ok(mut decompressor) => {
            decompressor.reset(true);
            zlib_decompress_with(&mut decompressor, data, limit)
        }
        Err(_) => zlib_decompress_with(&mut Decompress::new(true), data, limit),
    })
}

pub(super) fn zlib_decompress_with(
    decompressor: &mut Decompress,
    data: &[u8],
    limit: usize,
) -> Result<Vec<u8>, SigningError> {
    let truncated = || SigningError::BadPayload("incomplete or truncated zlib stream".into());
    let mut out: Vec<u8> = Vec::with_capacity(data.len().saturating_mul(4).min(limit) + 1);
    loop {
        if out.len() > limit {
            return Err(SigningError::PayloadTooLarge { limit });
        }
        if out.len() == out.capacity() {
            // One byte past the limit is enough to detect an oversize stream.
            let room = (limit + 1 - out.len()).clamp(1, 64 * 1024);
            out.reserve_exact(room);
        }
        let (in_before, out_before) = (decompressor.total_in(), decompressor.total_out());
        let input = data.get(in_before as usize..).ok_or_else(truncated)?;
        let status = decompressor
            .decompress_vec(input, &mut out, FlushDecompress::None)
            .map_err(|e| SigningError::BadPayload(format!("invalid zlib data: {e}")))?;
        if out.len() > limit {
            return Err(SigningError::PayloadTooLarge { limit });
        }
        match status {
            Status::StreamEnd => return Ok(out),
            Status::Ok | Status::BufError => {
                let stalled =
                    decompressor.total_in() == in_before && decompressor.total_out() == out_before;
                if stalled && out.len() < out.capacity() {
                    return Err(truncated());
                }
            }
        }
    }
}
