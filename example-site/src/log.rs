//! The site's log line format: the lines of `tracing_subscriber::fmt`'s default format without
//! colours, written for less work per line.
//!
//! The request log writes three lines per request on the default stack (the seed's logging
//! middleware's two and the server's), and the default formatter spent about 7 000
//! instructions on each (callgrind, `docs/performance.md`): the timestamp written field by
//! field with padding, the control-character escaping char by char, the styling machinery
//! even with colours off. [`LogFormat`] writes the same bytes: the timestamp's date and time
//! to the second are formatted once per second per thread, field values are escaped only when
//! they hold a character that needs it, and nothing is styled. Spans (the request id of
//! `RequestIdMiddleware`) are written as the default format writes them.

use std::cell::RefCell;
use std::fmt::{self, Write as _};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

/// Formats events as `tracing_subscriber::fmt`'s default (`Full`) format does with ANSI
/// colours off: `2026-12-03T16:32:54.492354Z  INFO span{a=1}: target: message k=v`.
#[derive(Clone, Copy, Debug, Default)]
pub struct LogFormat;

impl<S, N> FormatEvent<S, N> for LogFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        write_timestamp(&mut writer, std::time::SystemTime::now())?;
        writer.write_str(match *meta.level() {
            Level::TRACE => "TRACE ",
            Level::DEBUG => "DEBUG ",
            Level::INFO => " INFO ",
            Level::WARN => " WARN ",
            Level::ERROR => "ERROR ",
        })?;
        if let Some(scope) = ctx.event_scope() {
            let mut seen = false;
            for span in scope.from_root() {
                writer.write_str(span.metadata().name())?;
                seen = true;
                let ext = span.extensions();
                if let Some(fields) = ext.get::<FormattedFields<N>>() {
                    if !fields.is_empty() {
                        write!(writer, "{{{fields}}}")?;
                    }
                }
                writer.write_char(':')?;
            }
            if seen {
                writer.write_char(' ')?;
            }
        }
        writer.write_str(meta.target())?;
        writer.write_str(": ")?;
        let mut visitor = FieldWriter {
            out: &mut writer,
            empty: true,
            result: Ok(()),
        };
        event.record(&mut visitor);
        visitor.result?;
        writer.write_char('\n')
    }
}

thread_local! {
    /// The second last formatted on this thread, and its `YYYY-MM-DDTHH:MM:SS.` text.
    static SECOND: RefCell<(u64, String)> = const { RefCell::new((u64::MAX, String::new())) };
}

/// `2026-12-03T16:32:54.492354Z ` (UTC, microseconds, then a space), as the default format's
/// `SystemTime` timer writes it.
fn write_timestamp(w: &mut Writer<'_>, now: std::time::SystemTime) -> fmt::Result {
    let since = now
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = since.as_secs();
    SECOND.with(|cell| {
        let mut cell = cell.borrow_mut();
        if cell.0 != secs {
            let (y, mo, d) = civil_from_days(secs / 86_400);
            let t = secs % 86_400;
            cell.1.clear();
            let _ = write!(
                cell.1,
                "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}.",
                t / 3600,
                t / 60 % 60,
                t % 60
            );
            cell.0 = secs;
        }
        w.write_str(&cell.1)
    })?;
    let mut micros = [b'0'; 9];
    let mut n = since.subsec_micros();
    for digit in micros[..6].iter_mut().rev() {
        // `n % 10` is a single digit.
        *digit = b'0' + (n % 10) as u8;
        n /= 10;
    }
    micros[6] = b'Z';
    micros[7] = b' ';
    w.write_str(std::str::from_utf8(&micros[..8]).map_err(|_| fmt::Error)?)
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`, for days on or after the epoch).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

/// Writes an event's fields as the default format's `DefaultVisitor`: the message bare, the
/// others as ` name=value` (`Debug`), separated by spaces, `log.` fields left out.
struct FieldWriter<'a, 'w> {
    out: &'a mut Writer<'w>,
    empty: bool,
    result: fmt::Result,
}

impl FieldWriter<'_, '_> {
    /// Writes the separator and the field's name (none for the message); `false` for a field
    /// that is not written.
    fn start(&mut self, field: &Field) -> bool {
        if self.result.is_err() {
            return false;
        }
        let name = field.name();
        if name.starts_with("log.") {
            return false;
        }
        let sep = if self.empty { "" } else { " " };
        self.empty = false;
        self.result = if name == "message" {
            self.out.write_str(sep)
        } else {
            // Three plain writes: `write!` runs the formatting machinery for each field.
            let name = name.strip_prefix("r#").unwrap_or(name);
            self.out
                .write_str(sep)
                .and_then(|()| self.out.write_str(name))
                .and_then(|()| self.out.write_char('='))
        };
        self.result.is_ok()
    }

    /// `value`'s `Debug` text, with the characters the default format escapes escaped.
    fn debug(&mut self, value: &dyn fmt::Debug) {
        self.result = write!(Escaping(self.out), "{value:?}");
    }
}

impl Visit for FieldWriter<'_, '_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if self.start(field) {
            self.debug(value);
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if self.start(field) {
            if field.name() == "message" {
                self.result = Escaping(self.out).write_str(value);
            } else if value
                .bytes()
                .all(|b| matches!(b, b' '..=b'~') && b != b'"' && b != b'\\')
            {
                // `Debug` would escape nothing here: quoted as it is, without its
                // character-by-character walk (a path, on every request).
                self.result = self
                    .out
                    .write_char('"')
                    .and_then(|()| self.out.write_str(value))
                    .and_then(|()| self.out.write_char('"'));
            } else {
                self.debug(&value);
            }
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        if self.start(field) {
            self.result = self.out.write_str(itoa::Buffer::new().format(value));
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        if self.start(field) {
            self.result = self.out.write_str(itoa::Buffer::new().format(value));
        }
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        if self.start(field) {
            self.result = write!(self.out, "{value}");
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        // As the default format: the error's Display, then its sources as `name.sources=[..]`.
        if self.start(field) {
            self.debug(&format_args!("{value}"));
            if let Some(source) = value.source() {
                let name = field.name();
                self.result = self
                    .result
                    .and_then(|()| write!(self.out, " {name}.sources=["))
                    .and_then(|()| {
                        let mut next = Some(source);
                        let mut first = true;
                        while let Some(e) = next {
                            let sep = if first { "" } else { ", " };
                            first = false;
                            write!(Escaping(self.out), "{sep}{e}")?;
                            next = e.source();
                        }
                        self.out.write_char(']')
                    });
            }
        }
    }
}

/// Escapes what the default format escapes in field values (ESC, BEL, BS, FF, DEL and the C1
/// controls), so a value cannot drive the terminal that shows the log; text without them,
/// nearly all of it, is written in one piece.
struct Escaping<'a, 'w>(&'a mut Writer<'w>);

impl fmt::Write for Escaping<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        // C1 controls are U+0080..U+009F, encoded as 0xC2 0x80..0x9F.
        if !s
            .bytes()
            .any(|b| matches!(b, 0x07 | 0x08 | 0x0c | 0x1b | 0x7f | 0xc2))
        {
            return self.0.write_str(s);
        }
        for ch in s.chars() {
            match ch {
                '\x1b' => self.0.write_str("\\x1b")?,
                '\x07' => self.0.write_str("\\x07")?,
                '\x08' => self.0.write_str("\\x08")?,
                '\x0c' => self.0.write_str("\\x0c")?,
                '\x7f' => self.0.write_str("\\x7f")?,
                c if ('\u{80}'..='\u{9f}').contains(&c) => write!(self.0, "\\u{{{:x}}}", c as u32)?,
                c => self.0.write_char(c)?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use tracing_subscriber::fmt::MakeWriter;

    #[derive(Clone, Default)]
    struct Capture(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Capture {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Capture {
        type Writer = Capture;
        fn make_writer(&'a self) -> Capture {
            self.clone()
        }
    }

    #[derive(Debug)]
    struct Outer(Inner);
    #[derive(Debug)]
    struct Inner;
    impl fmt::Display for Outer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("outer failed")
        }
    }
    impl fmt::Display for Inner {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("inner\x1b[31m")
        }
    }
    impl std::error::Error for Outer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }
    impl std::error::Error for Inner {}

    /// Events of every kind the site logs, and some it might.
    fn emit() {
        let path = "/a\x1bb/\u{85}";
        tracing::info!(target: "django.server", method = %"GET", path, status = 200u16, duration_us = 250u64, share = 0.25f64, "{} {} {}", "GET", path, 200);
        // The server's line: fields only.
        tracing::info!(target: "django.server", method = %"GET", path, status = 200u16, duration_us = 250u64);
        let plain = "/plain/it's ~fine";
        tracing::info!(target: "django.server", method = %"POST", path = plain, status = 403u16, duration_us = 12_500u64, offset = -3i64, "{} {} {}", "POST", plain, 403);
        tracing::info!(target: "django.server", path = "a\"quote\\and\tbackslash", "x");
        tracing::warn!(target: "example_site", "Handling request path: {}", "/x\x07");
        let span = tracing::error_span!("request", request_id = %"abc-1");
        let _in = span.enter();
        let inner = tracing::info_span!("inner");
        let _in2 = inner.enter();
        let err = Outer(Inner);
        tracing::error!(
            r#type = "t",
            ok = true,
            n = -3i64,
            error = &err as &(dyn std::error::Error + 'static),
            "failed"
        );
        tracing::debug!(fields.only = 1u64);
    }

    /// Everything but the timestamps' digits, which differ between the two runs.
    fn captured(c: &Capture) -> String {
        let bytes = c.0.lock().unwrap_or_else(|e| e.into_inner()).clone();
        String::from_utf8_lossy(&bytes)
            .lines()
            .map(|l| {
                let (ts, rest) = l.split_at(28);
                assert!(ts.ends_with("Z "), "{l}");
                format!("{}|{rest}", &ts[..4])
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    // The site's lines are the default format's lines, byte for byte (colours off).
    #[test]
    fn log_format_writes_what_the_default_format_writes() {
        let ours = Capture::default();
        let default = Capture::default();
        let sub = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(ours.clone())
            .event_format(LogFormat)
            .finish();
        tracing::subscriber::with_default(sub, emit);
        let sub = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(default.clone())
            .finish();
        tracing::subscriber::with_default(sub, emit);
        let ours = captured(&ours);
        assert_eq!(ours, captured(&default));
        assert!(
            ours.contains("GET /a\\x1bb/\\u{85} 200 method=GET path=\"/a\\u{1b}b/\\u{85}\""),
            "{ours}"
        );
        assert!(ours.contains("request{request_id=abc-1}:inner: "), "{ours}");
    }

    #[test]
    fn timestamps_are_utc_with_microseconds() {
        let at = std::time::UNIX_EPOCH + std::time::Duration::from_micros(1_796_316_774_000_042);
        let mut s = String::new();
        write_timestamp(&mut Writer::new(&mut s), at).unwrap_or_default();
        assert_eq!(s, "2026-12-03T16:52:54.000042Z ");
        let mut s = String::new();
        write_timestamp(
            &mut Writer::new(&mut s),
            std::time::UNIX_EPOCH + std::time::Duration::from_secs(951_782_400),
        )
        .unwrap_or_default();
        assert_eq!(s, "2000-02-29T00:00:00.000000Z ");
    }
}
