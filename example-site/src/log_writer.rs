//! The request log's writer: non-blocking and bounded, with no allocation per line.
//!
//! A line is appended to one shared buffer under a lock (the lock is held for the copy only)
//! and a thread writes the buffer out, whatever has gathered in 10 ms or up to 64 KiB, in one
//! `write`. `tracing-appender`'s `non_blocking`, used before, copied each line into a new
//! `Vec` and sent it through a channel: an allocation, a free and the channel's hand-off per
//! line, three lines per request on the default stack (`docs/performance.md`).
//!
//! Not lossy: when the thread falls [`LIMIT`] bytes behind (a slow disk or pipe), a request
//! that logs waits for it rather than a line being dropped. What is left is written when the
//! [`LogGuard`] is dropped, after graceful shutdown.

use std::io::{self, Write};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;

use tracing_subscriber::fmt::MakeWriter;

/// How far the writing thread may fall behind, in bytes, before requests wait for it.
pub const LIMIT: usize = 4 << 20;

/// A batch this large is written at once.
const BATCH: usize = 64 << 10;

/// How long a batch waits for more lines before it is written.
const LINGER: std::time::Duration = std::time::Duration::from_millis(10);

/// Where the log's lines go: a [`MakeWriter`] for `tracing_subscriber::fmt`.
#[derive(Clone, Debug)]
pub struct LogWriter {
    shared: Arc<Shared>,
}

/// Writes what is left and stops the writing thread when dropped.
#[derive(Debug)]
pub struct LogGuard {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

#[derive(Debug, Default)]
struct Shared {
    state: Mutex<State>,
    /// The writing thread waits here for lines (or the end).
    lines: Condvar,
    /// Loggers wait here for room, when the thread is [`LIMIT`] behind.
    room: Condvar,
}

#[derive(Debug, Default)]
struct State {
    buffer: Vec<u8>,
    closed: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves the buffer whole: it is only ever appended to
        // or swapped.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Starts the thread that writes the log's lines to `out`.
pub fn spawn<W: Write + Send + 'static>(out: W) -> io::Result<(LogWriter, LogGuard)> {
    let shared = Arc::new(Shared::default());
    let thread = std::thread::Builder::new()
        .name("log-writer".into())
        .spawn({
            let shared = shared.clone();
            move || write_out(&shared, out)
        })?;
    Ok((
        LogWriter {
            shared: shared.clone(),
        },
        LogGuard {
            shared,
            thread: Some(thread),
        },
    ))
}

/// The writing thread: takes what has gathered, writes it in one call, until closed and
/// empty. A failed write (a closed pipe) drops what it held, so that loggers never wait for
/// an output that is gone.
///
/// A batch is written [`LINGER`] after its first line, or as soon as it reaches [`BATCH`]
/// bytes: waking this thread for every line (a futex wake, a context switch and a `write`
/// per line, on the request's core) cost more CPU than formatting the line.
fn write_out<W: Write>(shared: &Shared, mut out: W) {
    let mut batch = Vec::new();
    loop {
        {
            let mut state = shared.lock();
            while !state.closed && state.buffer.len() < BATCH {
                if state.buffer.is_empty() {
                    state = shared
                        .lines
                        .wait(state)
                        .unwrap_or_else(PoisonError::into_inner);
                } else {
                    let (next, waited) = shared
                        .lines
                        .wait_timeout(state, LINGER)
                        .unwrap_or_else(PoisonError::into_inner);
                    state = next;
                    if waited.timed_out() {
                        break;
                    }
                }
            }
            if state.buffer.is_empty() {
                break;
            }
            std::mem::swap(&mut state.buffer, &mut batch);
        }
        shared.room.notify_all();
        let _ = out.write_all(&batch).and_then(|()| out.flush());
        batch.clear();
    }
    let _ = out.flush();
}

impl Drop for LogGuard {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.lines.notify_one();
        // Loggers waiting for room stop waiting once closed. The writing thread notifies
        // them after each batch it takes, but if it is gone (its output panicked), nothing
        // else would.
        self.shared.room.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// One event's writer: `tracing_subscriber::fmt` writes each formatted line with one
/// `write_all`, so lines from different threads never interleave.
#[derive(Debug)]
pub struct LineWriter<'a>(&'a Shared);

impl Write for LineWriter<'_> {
    fn write(&mut self, line: &[u8]) -> io::Result<usize> {
        let mut state = self.0.lock();
        while state.buffer.len() >= LIMIT && !state.closed {
            state = self
                .0
                .room
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        // The thread waits for a batch's first line, and then for the batch to fill or
        // linger: it is woken by those two lines only.
        let before = state.buffer.len();
        state.buffer.extend_from_slice(line);
        let wake = before == 0 || (before < BATCH && state.buffer.len() >= BATCH);
        drop(state);
        if wake {
            self.0.lines.notify_one();
        }
        Ok(line.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for LogWriter {
    type Writer = LineWriter<'a>;

    fn make_writer(&'a self) -> LineWriter<'a> {
        LineWriter(&self.shared)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An output that records every `write` call.
    #[derive(Clone, Default)]
    struct Calls(Arc<Mutex<Vec<Vec<u8>>>>);

    impl Write for Calls {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(buf.to_vec());
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn every_line_is_written_once_whole_and_in_order_by_the_time_the_guard_drops() {
        let out = Calls::default();
        let (writer, guard) = spawn(out.clone()).unwrap_or_else(|e| panic!("{e}"));
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let writer = writer.clone();
                std::thread::spawn(move || {
                    for i in 0..1000 {
                        let line = format!("thread {t} line {i}\n");
                        let _ = writer.make_writer().write_all(line.as_bytes());
                    }
                })
            })
            .collect();
        for t in threads {
            let _ = t.join();
        }
        drop(guard);
        let written: Vec<u8> = out
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .concat();
        let text = String::from_utf8(written).unwrap_or_default();
        for t in 0..4 {
            let own: Vec<&str> = text
                .lines()
                .filter(|l| l.starts_with(&format!("thread {t} ")))
                .collect();
            let expected: Vec<String> = (0..1000).map(|i| format!("thread {t} line {i}")).collect();
            assert_eq!(own, expected);
        }
        assert_eq!(text.lines().count(), 4000);
    }

    /// Runs `scenario` on a thread and fails, rather than hangs, if it takes over a minute.
    fn within_a_minute(what: &str, scenario: impl FnOnce() + Send + 'static) {
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            scenario();
            let _ = done_tx.send(());
        });
        match done_rx.recv_timeout(std::time::Duration::from_secs(60)) {
            Ok(()) => {}
            // The scenario panicked: fail with its message.
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                if let Err(panic) = thread.join() {
                    std::panic::resume_unwind(panic);
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                panic!("{what}: still waiting after a minute, a thread is blocked for good")
            }
        }
    }

    /// An output that holds every write until the gate opens, and sends each held write's
    /// length on `held`.
    struct Gate {
        gate: Arc<(Mutex<bool>, Condvar)>,
        held: std::sync::mpsc::Sender<usize>,
        out: Calls,
    }

    impl Write for Gate {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let _ = self.held.send(buf.len());
            let (open, changed) = &*self.gate;
            let mut open = open.lock().unwrap_or_else(PoisonError::into_inner);
            while !*open {
                open = changed.wait(open).unwrap_or_else(PoisonError::into_inner);
            }
            self.out.write(buf)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// Opens the gate when dropped. Declared after the `LogGuard`, it is dropped first: a
    /// failed assertion must not leave the guard's drop joining a thread held at the gate
    /// for good (how this test once hung instead of failing).
    struct OpenOnDrop(Arc<(Mutex<bool>, Condvar)>);

    impl Drop for OpenOnDrop {
        fn drop(&mut self) {
            *self.0 .0.lock().unwrap_or_else(PoisonError::into_inner) = true;
            self.0 .1.notify_all();
        }
    }

    /// A logger writes a `first` line and then 1 KiB lines, 2 * LIMIT + 1 KiB in all, to an
    /// output that holds its first write: it must wait, and then lose nothing.
    fn stalled_output(first: usize) {
        let gate = Arc::new((Mutex::new(false), Condvar::new()));
        let (held_tx, held_rx) = std::sync::mpsc::channel();
        let out = Calls::default();
        let (writer, guard) = spawn(Gate {
            gate: gate.clone(),
            held: held_tx,
            out: out.clone(),
        })
        .unwrap_or_else(|e| panic!("{e}"));
        let _open = OpenOnDrop(gate.clone());
        let line = vec![b'x'; 1024];
        let lines = (2 * LIMIT - first) / line.len() + 1;
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        let logger = std::thread::spawn({
            let writer = writer.clone();
            let line = line.clone();
            move || {
                let _ = writer.make_writer().write_all(&vec![b'x'; first]);
                for _ in 0..lines {
                    let _ = writer.make_writer().write_all(&line);
                }
                let _ = done_tx.send(());
            }
        });
        // How much the held batch is depends on when the thread ran, up to LIMIT (the buffer
        // never holds more). With it held and the buffer LIMIT full, at least one line is
        // still to go however the batch was cut, so the logger can only be waiting.
        let held = held_rx
            .recv()
            .unwrap_or_else(|e| panic!("the thread wrote nothing: {e}"));
        assert!((first..=LIMIT).contains(&held), "held {held} bytes");
        while writer.shared.lock().buffer.len() < LIMIT {
            std::thread::yield_now();
        }
        assert!(
            done_rx.try_recv().is_err(),
            "the logger finished past the limit"
        );
        assert_eq!(writer.shared.lock().buffer.len(), LIMIT);
        *gate.0.lock().unwrap_or_else(PoisonError::into_inner) = true;
        gate.1.notify_all();
        assert!(done_rx.recv().is_ok());
        let _ = logger.join();
        drop(guard);
        let written: usize = out
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(Vec::len)
            .sum();
        assert_eq!(written, first + lines * line.len());
    }

    // Bounded, not lossy: past LIMIT bytes behind, a logger waits for the output.
    #[test]
    fn a_stalled_output_makes_loggers_wait_past_the_limit_and_loses_nothing() {
        within_a_minute("a stalled output", || stalled_output(1024));
    }

    // The old form of the test logged 2 * LIMIT in all: when the thread, run late, took a
    // whole LIMIT as its first batch, the logger finished without waiting, the assertion
    // failed, and unwinding hung in the guard's join. A first line of LIMIT bytes makes that
    // batch every time.
    #[test]
    fn a_stalled_output_holding_a_whole_limit_still_makes_loggers_wait() {
        within_a_minute("a stalled output holding LIMIT", || stalled_output(LIMIT));
    }

    /// An output that panics, taking the writing thread with it.
    struct Panics;

    impl Write for Panics {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            panic!("the output panicked (on purpose, in a test)")
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn loggers_waiting_for_room_are_let_go_when_the_guard_drops_even_with_the_thread_gone() {
        within_a_minute("a logger waiting on a dead thread", || {
            let (writer, guard) = spawn(Panics).unwrap_or_else(|e| panic!("{e}"));
            let line = vec![b'x'; 1024];
            let (done_tx, done_rx) = std::sync::mpsc::channel();
            let logger = std::thread::spawn({
                let writer = writer.clone();
                move || {
                    // The thread's one batch is at most LIMIT; then LIMIT fills, and a line
                    // is still to go.
                    for _ in 0..2 * LIMIT / line.len() + 1 {
                        let _ = writer.make_writer().write_all(&line);
                    }
                    let _ = done_tx.send(());
                }
            });
            while !guard.thread.as_ref().is_some_and(JoinHandle::is_finished)
                || writer.shared.lock().buffer.len() < LIMIT
            {
                std::thread::yield_now();
            }
            assert!(done_rx.try_recv().is_err());
            drop(guard);
            assert!(done_rx.recv().is_ok());
            let _ = logger.join();
        });
    }
}
