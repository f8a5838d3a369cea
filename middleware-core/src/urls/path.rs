//! Request path decoding: what a WSGI/ASGI server and Django's `repercent_broken_unicode` do
//! to the path before it is matched.

use std::borrow::Cow;

use percent_encoding::percent_decode_str;

/// Percent-decode a request path like a WSGI server followed by Django's
/// `repercent_broken_unicode`.
pub(super) fn decode_path(raw: &str) -> Cow<'_, str> {
    // Most paths have nothing to decode.
    if !raw.contains('%') {
        return Cow::Borrowed(raw);
    }
    let bytes: Cow<'_, [u8]> = percent_decode_str(raw).into();
    match bytes {
        Cow::Borrowed(_) => Cow::Borrowed(raw),
        Cow::Owned(bytes) => match String::from_utf8(bytes) {
            Ok(s) => Cow::Owned(s),
            Err(e) => Cow::Owned(repercent_broken_unicode(e.as_bytes())),
        },
    }
}

pub(super) fn repercent_broken_unicode(mut bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    loop {
        match std::str::from_utf8(bytes) {
            Ok(s) => {
                out.push_str(s);
                return out;
            }
            Err(e) => {
                let (valid, rest) = bytes.split_at(e.valid_up_to());
                out.push_str(std::str::from_utf8(valid).unwrap_or_default());
                let bad = e.error_len().unwrap_or(rest.len());
                for b in rest.iter().take(bad) {
                    out.push_str(&format!("%{b:02X}"));
                }
                bytes = rest.get(bad..).unwrap_or_default();
            }
        }
    }
}
