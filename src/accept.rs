//! What the accept loops (Kafka listener and HTTP endpoint) do when `accept` fails: name the
//! reason (the Kafka listener counts it in `klamm_connections_refused_total`), log it at most
//! every [`LOG_EVERY`], and back off exponentially so a process out of descriptors does not
//! spin on a listener that stays readable.
//!
//! Kafka's `Acceptor` logs each failed accept and goes on; out of descriptors (EMFILE) every
//! retry fails at once, so without a pause the loop would burn a core and flood the log.

use std::io;
use std::time::{Duration, Instant};

use tracing::warn;

/// The first pause after a failed accept; it doubles per consecutive failure.
const FIRST_BACKOFF: Duration = Duration::from_millis(10);
/// The longest pause between attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(1);
/// At most one log line per this interval while accepts keep failing.
pub const LOG_EVERY: Duration = Duration::from_secs(10);

/// The `reason` label of `klamm_connections_refused_total` for a failed accept.
pub fn reason(e: &io::Error) -> &'static str {
    // errno values on Linux (EMFILE 24, ENFILE 23, ENOBUFS 105, ENOMEM 12).
    match e.raw_os_error() {
        Some(24) => "process_fd_limit",
        Some(23) => "system_fd_limit",
        Some(105) | Some(12) => "no_memory",
        _ => "accept_error",
    }
}

/// Consecutive accept failures on one listener.
pub struct AcceptErrors {
    /// `kafka` or `http`, for the log line.
    listener: &'static str,
    failures: u32,
    last_logged: Option<Instant>,
    suppressed: u64,
}

impl AcceptErrors {
    pub fn new(listener: &'static str) -> AcceptErrors {
        AcceptErrors {
            listener,
            failures: 0,
            last_logged: None,
            suppressed: 0,
        }
    }

    /// Records a failed accept (logged when due) and returns how long to pause.
    pub fn failed(&mut self, e: &io::Error, now: Instant) -> Duration {
        let reason = reason(e);
        if self.should_log(now) {
            let suppressed = std::mem::take(&mut self.suppressed);
            warn!(
                listener = self.listener,
                reason, suppressed, "accept failed, connection refused: {e}"
            );
        }
        let pause = self.backoff();
        self.failures = self.failures.saturating_add(1);
        pause
    }

    /// A connection was accepted: the next failure starts from the first pause again.
    pub fn succeeded(&mut self) {
        self.failures = 0;
    }

    fn should_log(&mut self, now: Instant) -> bool {
        match self.last_logged {
            Some(at) if now.saturating_duration_since(at) < LOG_EVERY => {
                self.suppressed += 1;
                false
            }
            _ => {
                self.last_logged = Some(now);
                true
            }
        }
    }

    fn backoff(&self) -> Duration {
        FIRST_BACKOFF
            .saturating_mul(1u32 << self.failures.min(16))
            .min(MAX_BACKOFF)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn emfile() -> io::Error {
        io::Error::from_raw_os_error(24)
    }

    #[test]
    fn reasons_name_the_limit() {
        assert_eq!(reason(&emfile()), "process_fd_limit");
        assert_eq!(reason(&io::Error::from_raw_os_error(23)), "system_fd_limit");
        assert_eq!(reason(&io::Error::from_raw_os_error(105)), "no_memory");
        assert_eq!(reason(&io::Error::other("x")), "accept_error");
    }

    #[test]
    fn backs_off_exponentially_up_to_a_second_and_resets() {
        let mut a = AcceptErrors::new("test");
        let now = Instant::now();
        let pauses: Vec<u128> = (0..10)
            .map(|_| a.failed(&emfile(), now).as_millis())
            .collect();
        assert_eq!(pauses, [10, 20, 40, 80, 160, 320, 640, 1000, 1000, 1000]);
        a.succeeded();
        assert_eq!(a.failed(&emfile(), now), FIRST_BACKOFF);
    }

    #[test]
    fn logs_at_most_once_per_interval_and_counts_what_it_skipped() {
        let mut a = AcceptErrors::new("test");
        let t0 = Instant::now();
        assert!(a.should_log(t0));
        assert!(!a.should_log(t0 + Duration::from_secs(1)));
        assert!(!a.should_log(t0 + Duration::from_secs(9)));
        assert_eq!(a.suppressed, 2);
        assert!(a.should_log(t0 + LOG_EVERY));
        assert!(!a.should_log(t0 + LOG_EVERY + Duration::from_millis(1)));
    }
}
