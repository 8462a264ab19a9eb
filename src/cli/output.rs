//! Output of the admin CLI: aligned tables for people, JSON for scripts, and errors that name
//! the Kafka error code and its meaning. Progress goes to stderr so stdout stays parseable.

use std::fmt;
use std::io::Write;
use std::process::ExitCode;

use kafka_protocol::protocol::StrBytes;
use serde_json::Value;

use crate::error_names;

/// Why a CLI command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// A Kafka error code in a response.
    #[error("{context}: {} ({code}): {}{}", error_names::name(*.code), error_names::description(*.code), .message.as_ref().map(|m| format!(" Server message: {m}")).unwrap_or_default())]
    Kafka {
        code: i16,
        context: String,
        message: Option<String>,
    },
    #[error("cannot connect to {0}: {1}")]
    Connect(String, String),
    #[error("{0} is not supported by the broker at {1}")]
    Unsupported(String, String),
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error("protocol error: {0}")]
    Protocol(String),
    #[error("{0}")]
    Usage(String),
    /// Several items failed; each was reported already.
    #[error("{0} of {1} operations failed")]
    Partial(usize, usize),
}

impl CliError {
    /// `Ok` for code 0, else a [`CliError::Kafka`].
    pub fn check(code: i16, message: Option<&StrBytes>, context: &str) -> Result<(), CliError> {
        if code == 0 {
            return Ok(());
        }
        Err(CliError::Kafka {
            code,
            context: context.to_string(),
            message: message
                .map(|m| m.to_string())
                .filter(|m| !m.is_empty() && m != error_names::description(code)),
        })
    }
}

/// Runs a command and turns its result into the process exit code.
pub fn finish(r: Result<(), CliError>) -> ExitCode {
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError::Partial(..)) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// A table printed with aligned columns.
pub struct Table {
    headers: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(headers: &[&'static str]) -> Table {
        Table {
            headers: headers.to_vec(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn print(&self) {
        print!("{self}");
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.len()).collect();
        for r in &self.rows {
            for (i, c) in r.iter().enumerate() {
                if i < widths.len() {
                    widths[i] = widths[i].max(c.chars().count());
                }
            }
        }
        let line = |f: &mut fmt::Formatter<'_>, cells: &mut dyn Iterator<Item = &str>| {
            let cells: Vec<&str> = cells.collect();
            let mut s = String::new();
            for (i, c) in cells.iter().enumerate() {
                if i + 1 == cells.len() {
                    s.push_str(c);
                } else {
                    s.push_str(c);
                    let pad = widths[i] - c.chars().count() + 2;
                    s.extend(std::iter::repeat_n(' ', pad));
                }
            }
            writeln!(f, "{}", s.trim_end())
        };
        line(f, &mut self.headers.iter().copied())?;
        for r in &self.rows {
            line(f, &mut r.iter().map(String::as_str))?;
        }
        Ok(())
    }
}

/// Prints a JSON value on one line.
pub fn print_json(v: &Value) {
    let mut out = std::io::stdout().lock();
    let _ = serde_json::to_writer(&mut out, v);
    let _ = writeln!(out);
}

/// A line of progress on stderr.
pub fn progress(msg: impl fmt::Display) {
    eprintln!("{msg}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align() {
        let mut t = Table::new(&["TOPIC", "PARTITIONS"]);
        t.row(vec!["a".into(), "1".into()]);
        t.row(vec!["longer-name".into(), "12".into()]);
        assert_eq!(
            t.to_string(),
            "TOPIC        PARTITIONS\na            1\nlonger-name  12\n"
        );
    }

    #[test]
    fn kafka_errors_name_code_and_meaning() {
        let e = CliError::check(3, None, "describing topic x").unwrap_err();
        assert_eq!(
            e.to_string(),
            "describing topic x: UNKNOWN_TOPIC_OR_PARTITION (3): This server does not host this topic-partition."
        );
    }
}
