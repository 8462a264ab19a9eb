//! Bounded cleaner I/O (Kafka's `Throttler` with `log.cleaner.io.max.bytes.per.second`): the
//! cleaner reports the bytes it reads and writes; when the rate over the last check period is
//! above the limit, or a burst within a period has used up that period's budget, it sleeps long
//! enough to bring it back down.

use std::time::{Duration, Instant};

/// How often the observed rate is compared with the limit.
const CHECK_PERIOD: Duration = Duration::from_millis(100);

pub struct Throttler {
    bytes_per_second: f64,
    period_start: Instant,
    observed: f64,
}

impl Throttler {
    pub fn new(bytes_per_second: f64) -> Throttler {
        Throttler {
            bytes_per_second,
            period_start: Instant::now(),
            observed: 0.0,
        }
    }

    /// Accounts for `bytes`; returns how long to sleep to respect the limit (zero when within it).
    pub fn account(&mut self, bytes: usize) -> Duration {
        if !(self.bytes_per_second.is_finite() && self.bytes_per_second > 0.0) {
            return Duration::ZERO;
        }
        self.observed += bytes as f64;
        let elapsed = self.period_start.elapsed();
        let wanted = Duration::from_secs_f64(self.observed / self.bytes_per_second);
        // Within a period, a burst may use that period's budget and no more: a cleaning that
        // reads a whole segment from the page cache in a few milliseconds is still held to the
        // rate (checking only at the end of a period would let any sub-period burst through).
        if elapsed < CHECK_PERIOD && wanted <= CHECK_PERIOD {
            return Duration::ZERO;
        }
        self.period_start = Instant::now();
        self.observed = 0.0;
        wanted.saturating_sub(elapsed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asks_for_a_pause_above_the_rate() {
        let mut t = Throttler::new(1000.0);
        std::thread::sleep(CHECK_PERIOD);
        let pause = t.account(1000);
        assert!(
            pause > Duration::from_millis(800) && pause <= Duration::from_secs(1),
            "{pause:?}"
        );
        // A burst above one period's budget is held back at once, not only after the period.
        let mut t = Throttler::new(1000.0);
        assert!(t.account(50).is_zero());
        let pause = t.account(5000);
        assert!(
            pause > Duration::from_millis(4500) && pause <= Duration::from_millis(5050),
            "{pause:?}"
        );
        let mut unlimited = Throttler::new(f64::MAX);
        assert_eq!(unlimited.account(usize::MAX), Duration::ZERO);
    }
}
