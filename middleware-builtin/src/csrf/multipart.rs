//! A minimal, bounded reader of `multipart/form-data` bodies that finds one non-file field.
//!
//! Django reads `csrfmiddlewaretoken` from `request.POST`, which for multipart bodies is filled
//! by its `MultiPartParser`. The core's `post()` parses only urlencoded bodies, so this module
//! finds the token field in an already-buffered multipart body (buffered under
//! `DATA_UPLOAD_MAX_MEMORY_SIZE` by the caller). It never allocates more than the field's value.
//!
//! ```
//! use middleware_builtin::csrf::multipart::{boundary, find_field};
//!
//! let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"csrfmiddlewaretoken\"\r\n\r\nabc\r\n--XyZ--\r\n";
//! let b = boundary("multipart/form-data; boundary=XyZ").unwrap();
//! assert_eq!(find_field(body, &b, "csrfmiddlewaretoken").as_deref(), Some("abc"));
//! ```

/// The boundary of a `multipart/form-data` content type, if it is one with a valid boundary
/// (Django's rule: 1 to 70 printable ASCII characters, not ending in a space).
pub fn boundary(content_type: &str) -> Option<String> {
    let mut parts = content_type.split(';');
    let mime = parts.next()?.trim();
    if !mime.eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    let value = parts.find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"').to_owned())
    })?;
    let valid = !value.is_empty()
        && value.len() <= 200
        && value.bytes().all(|b| (b' '..=b'~').contains(&b))
        && !value.ends_with(' ');
    valid.then_some(value)
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || from > haystack.len() {
        return None;
    }
    haystack[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

/// The `name` parameter of a `Content-Disposition: form-data` header, and whether it names a
/// file (a `filename` parameter is present).
fn disposition(headers: &str) -> Option<(String, bool)> {
    for line in headers.split("\r\n") {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        if !key.trim().eq_ignore_ascii_case("content-disposition") {
            continue;
        }
        let mut name = None;
        let mut is_file = false;
        for param in value.split(';').skip(1) {
            let Some((k, v)) = param.split_once('=') else {
                continue;
            };
            let k = k.trim().to_ascii_lowercase();
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|s| s.strip_suffix('"'))
                .unwrap_or(v);
            match k.as_str() {
                "name" => name = Some(v.to_owned()),
                "filename" | "filename*" => is_file = true,
                _ => {}
            }
        }
        return name.map(|n| (n, is_file));
    }
    None
}

/// The last value of the non-file field `field` in a multipart `body` (Django's
/// `QueryDict.get` returns the last), decoded as UTF-8 with replacement. A body that does not
/// parse yields what was found before the damage, or `None`.
pub fn find_field(body: &[u8], boundary: &str, field: &str) -> Option<String> {
    let delimiter = format!("--{boundary}");
    let delimiter = delimiter.as_bytes();
    let next_delimiter = format!("\r\n--{boundary}");
    let next_delimiter = next_delimiter.as_bytes();
    let mut found = None;
    let mut pos = find(body, delimiter, 0)? + delimiter.len();
    loop {
        if body[pos..].starts_with(b"--") {
            return found;
        }
        // The rest of the delimiter line (transport padding), then the part's headers.
        let line_end = find(body, b"\r\n", pos)? + 2;
        let headers_end = find(body, b"\r\n\r\n", line_end.saturating_sub(2))?;
        let headers = String::from_utf8_lossy(&body[line_end.min(headers_end)..headers_end]);
        let content_start = headers_end + 4;
        let Some(content_end) = find(body, next_delimiter, content_start) else {
            return found;
        };
        if let Some((name, false)) = disposition(&headers) {
            if name == field {
                found =
                    Some(String::from_utf8_lossy(&body[content_start..content_end]).into_owned());
            }
        }
        pos = content_end + next_delimiter.len();
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn finds_last_non_file_value() {
        let body = b"preamble\r\n--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n\
--b\r\nContent-Disposition: form-data; name=\"csrfmiddlewaretoken\"\r\n\r\nfirst\r\n\
--b\r\nContent-Disposition: form-data; name=\"csrfmiddlewaretoken\"; filename=\"x.txt\"\r\nContent-Type: text/plain\r\n\r\nfile\r\n\
--b\r\ncontent-disposition: form-data; name=csrfmiddlewaretoken\r\n\r\nsecond\r\n--b--\r\n";
        assert_eq!(
            find_field(body, "b", "csrfmiddlewaretoken").as_deref(),
            Some("second")
        );
        assert_eq!(find_field(body, "b", "a").as_deref(), Some("1"));
        assert_eq!(find_field(body, "b", "missing"), None);
    }

    #[test]
    fn junk_never_panics() {
        let cases: [&[u8]; 8] = [
            b"",
            b"--b",
            b"--b\r\n",
            b"--b\r\nContent-Disposition: form-data; name=\"csrfmiddlewaretoken\"\r\n\r\nunterminated",
            b"--b--",
            b"\r\n\r\n--b\r\n\r\n\r\n--b",
            b"--b\r\n\r\n--b\r\n\r\n",
            b"--bb--b\r\n--b",
        ];
        for body in cases {
            let _ = find_field(body, "b", "csrfmiddlewaretoken");
        }
        assert_eq!(
            find_field(cases[3], "b", "csrfmiddlewaretoken"),
            None,
            "an unterminated part is not a value"
        );
    }

    #[test]
    fn boundaries() {
        assert_eq!(
            boundary("multipart/form-data; boundary=\"a b\"").as_deref(),
            Some("a b")
        );
        assert_eq!(
            boundary("Multipart/Form-Data;charset=utf-8; BOUNDARY=x").as_deref(),
            Some("x")
        );
        assert_eq!(boundary("multipart/form-data"), None);
        assert_eq!(boundary("multipart/form-data; boundary="), None);
        assert_eq!(
            boundary("application/x-www-form-urlencoded; boundary=x"),
            None
        );
        assert_eq!(
            boundary(&format!(
                "multipart/form-data; boundary={}",
                "x".repeat(201)
            )),
            None
        );
    }
}
