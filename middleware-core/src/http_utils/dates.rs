//! HTTP dates: formatting as IMF-fixdate and parsing the three formats of
//! RFC 9110 §5.6.7, with the exact rules of Django's `django.utils.http`
//! (`http_date`, `parse_http_date`, `parse_http_date_safe`). Parsing (regex) is
//! the `http-utils` feature; formatting is part of the model (cookies, `Expires`).
//!
//! ```
//! use std::time::{Duration, UNIX_EPOCH};
//! use middleware_core::http_utils::dates::{http_date, parse_http_date};
//!
//! let t = UNIX_EPOCH + Duration::from_secs(1_167_616_461);
//! assert_eq!(http_date(t), "Mon, 01 Jan 2007 01:54:21 GMT");
//! assert_eq!(parse_http_date("Mon, 01 Jan 2007 01:54:21 GMT"), Some(t));
//! assert_eq!(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"),
//!            Some(UNIX_EPOCH + Duration::from_secs(784_111_777)));
//! assert_eq!(parse_http_date("yesterday"), None);
//! ```
//!
//! The `httpdate` crate is deliberately not used: it panics for times before
//! 1970 and it does not implement Django's two-digit-year rule.

#[cfg(feature = "http-utils")]
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[cfg(feature = "http-utils")]
use regex::Regex;

const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Whole seconds since the Unix epoch, rounded towards negative infinity like
/// Python's `time.gmtime()`; saturates instead of overflowing.
pub(crate) fn unix_seconds(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => {
            let d = e.duration();
            let secs = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
            // A fractional part before the epoch floors to the previous second.
            let floor_extra = i64::from(d.subsec_nanos() > 0);
            secs.saturating_neg().saturating_sub(floor_extra)
        }
    }
}

/// The instant `secs` seconds after (or before, if negative) the epoch, or
/// `None` when the platform's `SystemTime` cannot represent it.
pub(crate) fn from_unix_seconds(secs: i64) -> Option<SystemTime> {
    if secs >= 0 {
        UNIX_EPOCH.checked_add(Duration::from_secs(secs.unsigned_abs()))
    } else {
        UNIX_EPOCH.checked_sub(Duration::from_secs(secs.unsigned_abs()))
    }
}

/// Days since 1970-01-01 → (year, month 1-12, day 1-31); Howard Hinnant's
/// `civil_from_days`, valid for the whole i64 range we feed it.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Inverse of [`civil_from_days`].
#[cfg(feature = "http-utils")]
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(feature = "http-utils")]
fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

/// The civil year (UTC) containing `t`.
#[cfg(feature = "http-utils")]
pub(crate) fn year_of(t: SystemTime) -> i64 {
    civil_from_days(unix_seconds(t).div_euclid(86_400)).0
}

/// Format `t` as an IMF-fixdate, e.g. `Mon, 01 Jan 2007 01:54:21 GMT`
/// (Django's `http_date`, i.e. `email.utils.formatdate(t, usegmt=True)`).
/// Sub-second parts are dropped (floored), as `time.gmtime` does.
pub fn http_date(t: SystemTime) -> String {
    let secs = unix_seconds(t);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    // 1970-01-01 was a Thursday (index 4 with Sunday = 0).
    let weekday = WEEKDAYS[days.wrapping_add(4).rem_euclid(7) as usize];
    let month_name = MONTHS[(month - 1) as usize];
    format!(
        "{weekday}, {day:02} {month_name} {year:04} {:02}:{:02}:{:02} GMT",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

#[cfg(feature = "http-utils")]
struct DateRegexes {
    rfc1123: Regex,
    rfc850: Regex,
    asctime: Regex,
}

#[cfg(feature = "http-utils")]
fn regexes() -> Option<&'static DateRegexes> {
    static RE: OnceLock<Option<DateRegexes>> = OnceLock::new();
    RE.get_or_init(|| {
        // Same patterns as django/utils/http.py. Python's `\w` is Unicode-aware
        // like Rust's; `[0-9]` stays ASCII-only so "１９９４" is rejected.
        // Python's `$` also matches just before a final "\n": mirror it.
        let d = r"(?P<day>[0-9]{2})";
        let d2 = r"(?P<day>[ 0-9][0-9])";
        let m = r"(?P<mon>\w{3})";
        let y = r"(?P<year>[0-9]{4})";
        let y2 = r"(?P<year>[0-9]{2})";
        let t = r"(?P<hour>[0-9]{2}):(?P<min>[0-9]{2}):(?P<sec>[0-9]{2})";
        Some(DateRegexes {
            rfc1123: Regex::new(&format!(r"^\w{{3}}, {d} {m} {y} {t} GMT\n?$")).ok()?,
            rfc850: Regex::new(&format!(r"^\w{{6,9}}, {d}-{m}-{y2} {t} GMT\n?$")).ok()?,
            asctime: Regex::new(&format!(r"^\w{{3}} {m} {d2} {t} {y}\n?$")).ok()?,
        })
    })
    .as_ref()
}

/// Parse an HTTP date in any of the three RFC 9110 formats (IMF-fixdate,
/// RFC 850, asctime). Returns `None` for anything Django's `parse_http_date`
/// would reject (Django's `parse_http_date_safe`).
///
/// Two-digit years (and, as in Django, *any* year below 100, even one written
/// with four digits such as `0037`) are resolved relative to the current year:
/// more than 50 years in the future means the previous century.
#[cfg(feature = "http-utils")]
pub fn parse_http_date(date: &str) -> Option<SystemTime> {
    parse_http_date_at(date, SystemTime::now())
}

/// [`parse_http_date`] with an explicit "now", which only matters for the
/// two-digit-year rule. Useful for deterministic tests.
#[cfg(feature = "http-utils")]
pub fn parse_http_date_at(date: &str, now: SystemTime) -> Option<SystemTime> {
    from_unix_seconds(parse_http_date_seconds(date, now)?)
}

/// The parsed date as seconds since the epoch (negative before 1970).
#[cfg(feature = "http-utils")]
pub(crate) fn parse_http_date_seconds(date: &str, now: SystemTime) -> Option<i64> {
    let re = regexes()?;
    let caps = re
        .rfc1123
        .captures(date)
        .or_else(|| re.rfc850.captures(date))
        .or_else(|| re.asctime.captures(date))?;
    let num = |name: &str| -> Option<i64> { caps.name(name)?.as_str().trim().parse().ok() };
    let mut year = num("year")?;
    if year < 100 {
        let current_year = year_of(now);
        let current_century = current_year - current_year.rem_euclid(100);
        if year - current_year.rem_euclid(100) > 50 {
            year += current_century - 100;
        } else {
            year += current_century;
        }
    }
    let mon = caps.name("mon")?.as_str().to_lowercase();
    let month = MONTHS
        .iter()
        .position(|m| m.to_lowercase() == mon)
        .and_then(|i| u32::try_from(i + 1).ok())?;
    let day = u32::try_from(num("day")?).ok()?;
    let (hour, min, sec) = (num("hour")?, num("min")?, num("sec")?);
    // Python's datetime() rejects these, which makes Django report "not a
    // valid date"; year 0 is impossible in `datetime` too.
    if !(1..=9999).contains(&year)
        || day == 0
        || day > days_in_month(year, month)
        || hour > 23
        || min > 59
        || sec > 59
    {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + min * 60 + sec)
}

// Formatting and parsing are checked together (round trips).
#[cfg(all(test, feature = "http-utils"))]
mod tests {
    use super::*;

    fn at(secs: i64) -> SystemTime {
        from_unix_seconds(secs).unwrap_or(UNIX_EPOCH)
    }

    /// Seconds since the epoch of a UTC civil time, for readable expectations.
    fn utc(y: i64, mo: u32, d: u32, h: i64, mi: i64, s: i64) -> i64 {
        days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s
    }

    // tests/utils_tests/test_http.py::HttpDateProcessingTests::test_http_date
    #[test]
    fn formats_imf_fixdate() {
        assert_eq!(
            http_date(at(1_167_616_461)),
            "Mon, 01 Jan 2007 01:54:21 GMT"
        );
        assert_eq!(http_date(UNIX_EPOCH), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_date(at(-1)), "Wed, 31 Dec 1969 23:59:59 GMT");
        let fractional = UNIX_EPOCH + Duration::from_millis(1_700_000_000_250);
        assert_eq!(http_date(fractional), "Tue, 14 Nov 2023 22:13:20 GMT");
    }

    // ...::test_parsing_rfc1123
    #[test]
    fn parses_rfc1123() {
        let now = SystemTime::now();
        let got = parse_http_date_seconds("Sun, 06 Nov 1994 08:49:37 GMT", now);
        assert_eq!(got, Some(utc(1994, 11, 6, 8, 49, 37)));
    }

    // ...::test_parsing_rfc850 (same table, same mocked "now" values)
    #[test]
    fn parses_rfc850_with_two_digit_year_rule() {
        let now_1 = at(utc(2019, 11, 6, 8, 49, 37));
        let now_2 = at(utc(2020, 11, 6, 8, 49, 37));
        let now_3 = at(utc(2048, 11, 6, 8, 49, 37));
        let table = [
            (
                now_1,
                "Tuesday, 31-Dec-69 08:49:37 GMT",
                utc(2069, 12, 31, 8, 49, 37),
            ),
            (
                now_1,
                "Tuesday, 10-Nov-70 08:49:37 GMT",
                utc(1970, 11, 10, 8, 49, 37),
            ),
            (
                now_1,
                "Sunday, 06-Nov-94 08:49:37 GMT",
                utc(1994, 11, 6, 8, 49, 37),
            ),
            (
                now_2,
                "Wednesday, 31-Dec-70 08:49:37 GMT",
                utc(2070, 12, 31, 8, 49, 37),
            ),
            (
                now_2,
                "Friday, 31-Dec-71 08:49:37 GMT",
                utc(1971, 12, 31, 8, 49, 37),
            ),
            (
                now_3,
                "Sunday, 31-Dec-00 08:49:37 GMT",
                utc(2000, 12, 31, 8, 49, 37),
            ),
            (
                now_3,
                "Friday, 31-Dec-99 08:49:37 GMT",
                utc(1999, 12, 31, 8, 49, 37),
            ),
        ];
        for (now, input, expected) in table {
            assert_eq!(
                parse_http_date_seconds(input, now),
                Some(expected),
                "{input}"
            );
        }
    }

    // ...::test_parsing_asctime, ::test_parsing_year_less_than_70
    #[test]
    fn parses_asctime() {
        let now = at(utc(2024, 1, 1, 0, 0, 0));
        assert_eq!(
            parse_http_date_seconds("Sun Nov  6 08:49:37 1994", now),
            Some(utc(1994, 11, 6, 8, 49, 37))
        );
        assert_eq!(
            parse_http_date_seconds("Sun Nov  6 08:49:37 0037", now),
            Some(utc(2037, 11, 6, 8, 49, 37))
        );
    }

    // ...::test_parsing_asctime_nonascii_digits
    #[test]
    fn rejects_non_ascii_digits_and_garbage() {
        let bad = [
            "Sun Nov  6 08:49:37 １９９４",
            "Sun Nov １２ 08:49:37 1994",
            "",
            "garbage",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 31 Feb 1994 08:49:37 GMT",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "Sun, 06 Nov 1994 23:60:00 GMT",
            "Sun, 06 Nov 1994 23:59:60 GMT",
            "Sun, 00 Nov 1994 08:49:37 GMT",
            " Sun, 06 Nov 1994 08:49:37 GMT",
        ];
        for input in bad {
            assert_eq!(parse_http_date(input), None, "{input:?}");
        }
    }

    #[test]
    fn lenient_where_django_is() {
        // Any word works as the day name, month names are case-insensitive and
        // Python's `$` accepts one trailing newline.
        let now = SystemTime::now();
        let expected = Some(utc(1994, 11, 6, 8, 49, 37));
        assert_eq!(
            parse_http_date_seconds("Xyz, 06 NOV 1994 08:49:37 GMT", now),
            expected
        );
        assert_eq!(
            parse_http_date_seconds("Sun, 06 Nov 1994 08:49:37 GMT\n", now),
            expected
        );
        assert_eq!(
            parse_http_date_seconds("Sun, 29 Feb 2000 00:00:00 GMT", now),
            Some(utc(2000, 2, 29, 0, 0, 0))
        );
        assert_eq!(
            parse_http_date_seconds("Sun, 29 Feb 1900 00:00:00 GMT", now),
            None
        );
        // Year 0000 is "below 100", so it lands in the current century.
        let now_2024 = at(utc(2024, 6, 1, 0, 0, 0));
        assert_eq!(
            parse_http_date_seconds("Sun, 06 Nov 0000 08:49:37 GMT", now_2024),
            Some(utc(2000, 11, 6, 8, 49, 37))
        );
    }

    #[test]
    fn round_trips_pre_epoch_and_far_future() {
        for secs in [-86_400 * 365 * 100, -1, 0, 1, 253_402_300_799] {
            let s = http_date(at(secs));
            assert_eq!(
                parse_http_date_seconds(&s, SystemTime::now()),
                Some(secs),
                "{s}"
            );
        }
    }
}
