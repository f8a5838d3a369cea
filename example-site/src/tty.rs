//! A password prompt on the controlling terminal with echo off (Python's `getpass`).

use std::io::{BufRead, BufReader, Write};

use rustix::termios::{tcgetattr, tcsetattr, LocalModes, OptionalActions};

/// Reads a line from `/dev/tty` after writing `prompt` there, without echoing it. `None` when
/// there is no terminal to talk to (the caller then falls back to standard input, as
/// `getpass` does); `Some(None)` at end of input.
pub fn read_hidden(prompt: &str) -> Option<Option<String>> {
    let tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .ok()?;
    let saved = tcgetattr(&tty).ok()?;
    let mut quiet = saved.clone();
    quiet.local_modes.remove(LocalModes::ECHO);
    quiet.local_modes.insert(LocalModes::ECHONL);
    let mut writer = &tty;
    let _ = writer.write_all(prompt.as_bytes());
    let _ = writer.flush();
    tcsetattr(&tty, OptionalActions::Flush, &quiet).ok()?;
    let mut line = String::new();
    let read = BufReader::new(&tty).read_line(&mut line);
    // Echo back on whatever happened.
    let _ = tcsetattr(&tty, OptionalActions::Flush, &saved);
    match read {
        Ok(0) | Err(_) => Some(None),
        Ok(_) => Some(Some(line.trim_end_matches(['\n', '\r']).to_owned())),
    }
}
