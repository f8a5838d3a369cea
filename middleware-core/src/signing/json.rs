//! JSON exactly as Django's `JSONSerializer` writes it (Python's `json.dumps` with compact
//! separators and `ensure_ascii`, floats in Python's `repr`) and reads it.

use std::io::Write;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::SigningError;

/// Serialize like Python's `json.dumps(obj, separators=(",", ":"))` with the
/// default `ensure_ascii=True`, which is what Django's `JSONSerializer`
/// writes. Non-finite floats become `null` (serde_json's rule) where Python
/// would write `NaN`/`Infinity`.
pub fn json_dumps<T: Serialize + ?Sized>(value: &T) -> Result<String, SigningError> {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, PythonJsonFormatter);
    value.serialize(&mut ser).map_err(SigningError::Serialize)?;
    // The formatter only ever writes ASCII, so this cannot fail; mapping the
    // error keeps library code free of panics all the same.
    String::from_utf8(out).map_err(|e| SigningError::BadPayload(e.to_string()))
}

/// Parse JSON bytes the way Django's `JSONSerializer.loads` does: the bytes
/// are decoded as Latin-1 (never fails) and then parsed, so raw non-ASCII
/// bytes read as the same mojibake Django would see.
pub fn json_loads<T: DeserializeOwned>(data: &[u8]) -> Result<T, SigningError> {
    let text: String = data.iter().map(|&b| char::from(b)).collect();
    serde_json::from_str(&text).map_err(|e| SigningError::BadPayload(format!("invalid JSON: {e}")))
}

struct PythonJsonFormatter;

impl serde_json::ser::Formatter for PythonJsonFormatter {
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        // serde_json already escapes quotes, backslashes and C0 controls the
        // same way Python does; ensure_ascii additionally escapes DEL and
        // everything non-ASCII, as UTF-16 code units (surrogate pairs).
        let mut start = 0;
        for (i, ch) in fragment.char_indices() {
            if ch.is_ascii() && ch != '\x7f' {
                continue;
            }
            writer.write_all(&fragment.as_bytes()[start..i])?;
            let mut units = [0u16; 2];
            for unit in ch.encode_utf16(&mut units) {
                write!(writer, "\\u{unit:04x}")?;
            }
            start = i + ch.len_utf8();
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }

    fn write_f64<W: ?Sized + Write>(&mut self, writer: &mut W, value: f64) -> std::io::Result<()> {
        writer.write_all(py_float_repr(value).as_bytes())
    }

    fn write_f32<W: ?Sized + Write>(&mut self, writer: &mut W, value: f32) -> std::io::Result<()> {
        // Python has no single precision: the value would have been widened.
        self.write_f64(writer, f64::from(value))
    }
}

/// Python's `repr(float)`: shortest round-trip digits, positional notation
/// for decimal exponents in [-4, 16), otherwise `d.ddde±XX`.
pub(super) fn py_float_repr(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    let sign = if v.is_sign_negative() { "-" } else { "" };
    if v == 0.0 {
        return format!("{sign}0.0");
    }
    // Rust's `{:e}` gives the same shortest round-trip digits as Python's
    // repr; only the layout differs.
    let sci = format!("{:e}", v.abs());
    let Some((mantissa, exp)) = sci.split_once('e') else {
        return v.to_string();
    };
    let Ok(exp) = exp.parse::<i32>() else {
        return v.to_string();
    };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let decpt = exp + 1;
    let body = if decpt <= -4 || decpt > 16 {
        let (first, rest) = digits.split_at(1);
        let dot = if rest.is_empty() { "" } else { "." };
        let exp_sign = if exp < 0 { '-' } else { '+' };
        format!("{first}{dot}{rest}e{exp_sign}{:02}", exp.unsigned_abs())
    } else if decpt <= 0 {
        format!("0.{}{digits}", "0".repeat(decpt.unsigned_abs() as usize))
    } else {
        let decpt = decpt as usize;
        if decpt >= digits.len() {
            format!("{digits}{}.0", "0".repeat(decpt - digits.len()))
        } else {
            format!("{}.{}", &digits[..decpt], &digits[decpt..])
        }
    };
    format!("{sign}{body}")
}

pub(super) fn duration_repr(d: Duration) -> String {
    if d.subsec_nanos() == 0 {
        d.as_secs().to_string()
    } else {
        py_float_repr(d.as_secs_f64())
    }
}
