//! `_session_expiry` values: seconds, or an ISO 8601 datetime string (Django's
//! `datetime.isoformat()`), and Django's `get_expiry_age` arithmetic.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;

/// Django's `get_expiry_age(expiry=value)` at `now`: a falsy value → `cookie_age`; a number →
/// itself; a datetime string → whole seconds from `now` until then (floored, may be negative).
/// An unparsable string counts as already expired.
pub(crate) fn expiry_age_at(value: Option<&Value>, cookie_age: i64, now: SystemTime) -> i64 {
    match value {
        None | Some(Value::Null) | Some(Value::Bool(false)) => cookie_age,
        Some(Value::Number(n)) => match n.as_i64() {
            Some(0) => cookie_age,
            Some(i) => i,
            None => n.as_f64().map(|f| f as i64).unwrap_or(cookie_age),
        },
        Some(Value::String(s)) if s.is_empty() => cookie_age,
        Some(Value::String(s)) => match parse_iso(s) {
            Some(at) => floor_seconds_between(now, at),
            None => 0,
        },
        Some(_) => cookie_age,
    }
}

fn floor_seconds_between(from: SystemTime, to: SystemTime) -> i64 {
    match to.duration_since(from) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => {
            let d = e.duration();
            let whole = d.as_secs() as i64;
            if d.subsec_nanos() > 0 {
                -whole - 1
            } else {
                -whole
            }
        }
    }
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Python's `datetime.isoformat()` of an aware UTC datetime: `2024-01-02T03:04:05.123456+00:00`
/// (no fraction when it is zero).
pub(crate) fn format_iso(t: SystemTime) -> String {
    let (secs, micros) = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => (d.as_secs() as i64, d.subsec_micros()),
        Err(_) => (0, 0),
    };
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    let base = format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    );
    if micros == 0 {
        format!("{base}+00:00")
    } else {
        format!("{base}.{micros:06}+00:00")
    }
}

/// Parses what `datetime.fromisoformat` accepts in practice for session expiries:
/// `YYYY-MM-DD[T ]HH:MM[:SS[.ffffff]][Z|±HH:MM]`. A naive datetime is taken as UTC.
pub(crate) fn parse_iso(s: &str) -> Option<SystemTime> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        if part.bytes().all(|c| c.is_ascii_digit()) && !part.is_empty() {
            part.parse().ok()
        } else {
            None
        }
    };
    if b.len() < 16 || b[4] != b'-' || b[7] != b'-' || !(b[10] == b'T' || b[10] == b' ') {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi) = (num(11..13)?, num(14..16)?);
    if b[13] != b':' || !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 {
        return None;
    }
    let mut i = 16;
    let mut sec = 0;
    let mut micros = 0i64;
    if b.get(i) == Some(&b':') {
        sec = num(i + 1..i + 3)?;
        i += 3;
        if b.get(i) == Some(&b'.') {
            let start = i + 1;
            let mut end = start;
            while end < b.len() && b[end].is_ascii_digit() {
                end += 1;
            }
            let frac = s.get(start..end)?;
            if frac.is_empty() || frac.len() > 9 {
                return None;
            }
            let padded = format!("{frac:0<6}");
            micros = padded.get(..6)?.parse().ok()?;
            i = end;
        }
    }
    if sec > 59 {
        return None;
    }
    let offset = match s.get(i..)? {
        "" | "Z" => 0,
        rest if rest.len() == 6 && (rest.starts_with('+') || rest.starts_with('-')) => {
            let sign = if rest.starts_with('-') { -1 } else { 1 };
            let oh = num(i + 1..i + 3)?;
            let om = num(i + 4..i + 6)?;
            if b[i + 3] != b':' {
                return None;
            }
            sign * (oh * 3600 + om * 60)
        }
        _ => return None,
    };
    let total = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + sec - offset;
    let base = if total >= 0 {
        UNIX_EPOCH + Duration::from_secs(total as u64)
    } else {
        UNIX_EPOCH - Duration::from_secs(total.unsigned_abs())
    };
    Some(base + Duration::from_micros(micros as u64))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn iso_round_trip() {
        let t = UNIX_EPOCH + Duration::from_micros(1_700_000_000_250_000);
        assert_eq!(format_iso(t), "2023-11-14T22:13:20.250000+00:00");
        assert_eq!(parse_iso("2023-11-14T22:13:20.250000+00:00"), Some(t));
        assert_eq!(
            parse_iso("2023-11-14T23:13:20.25+01:00"),
            Some(t),
            "offsets and short fractions"
        );
        assert_eq!(
            format_iso(UNIX_EPOCH + Duration::from_secs(86_400)),
            "1970-01-02T00:00:00+00:00"
        );
        for bad in [
            "",
            "2023-13-01T00:00",
            "garbage",
            "2023-11-14T22:13:20+0100",
            "2023-11-14T2x:13",
        ] {
            assert_eq!(parse_iso(bad), None, "{bad}");
        }
    }

    // Django: tests/sessions_tests/tests.py::SessionTestsMixin::test_custom_expiry_seconds /
    // test_custom_expiry_timedelta / test_default_expiry
    #[test]
    fn expiry_age() {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(expiry_age_at(None, 1209600, now), 1209600);
        assert_eq!(expiry_age_at(Some(&json!(0)), 1209600, now), 1209600);
        assert_eq!(expiry_age_at(Some(&json!(10)), 1209600, now), 10);
        let later = format_iso(now + Duration::from_millis(10_500));
        assert_eq!(expiry_age_at(Some(&json!(later)), 1209600, now), 10);
        let earlier = format_iso(now - Duration::from_millis(500));
        assert_eq!(expiry_age_at(Some(&json!(earlier)), 1209600, now), -1);
    }
}
