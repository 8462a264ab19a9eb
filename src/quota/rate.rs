//! The two measurements Kafka's quotas use, reimplemented from their documented behaviour:
//! `Rate` over a `WindowedSum` (`SampledStat`: byte-rate and request-time quotas) and
//! `TokenBucket` (KIP-599: controller mutations). Both keep a fixed number of samples, so
//! recording never allocates once a sensor has filled its ring.

/// `quota.window.num` samples of `quota.window.size.seconds` each (`MetricConfig`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WindowConfig {
    pub samples: i64,
    pub window_ms: i64,
}

#[derive(Clone, Copy, Debug)]
struct Sample {
    value: f64,
    start_ms: i64,
    last_event_ms: i64,
}

impl Sample {
    fn new(now: i64) -> Sample {
        Sample {
            value: 0.0,
            start_ms: now,
            last_event_ms: now,
        }
    }
}

/// Kafka's `Rate` of a `WindowedSum`: the sum of the retained samples divided by the elapsed
/// window, where the window is never taken as shorter than `samples - 1` full windows (so a
/// client's first bytes are not measured over a few milliseconds).
#[derive(Debug, Default)]
pub struct SampledRate {
    samples: Vec<Sample>,
    current: usize,
}

impl SampledRate {
    /// `SampledStat.record`: adds to the current sample, starting the next one when the
    /// current has been open a whole window (the ring keeps `samples + 1` slots, one for the
    /// sample overlapping the window's start).
    pub fn record(&mut self, cfg: &WindowConfig, value: f64, now: i64) {
        if self.samples.is_empty() {
            self.samples.push(Sample::new(now));
            self.current = 0;
        }
        if now - self.samples[self.current].start_ms >= cfg.window_ms {
            let slots = (cfg.samples + 1).max(1) as usize;
            self.current = (self.current + 1) % slots;
            if self.current >= self.samples.len() {
                self.samples.push(Sample::new(now));
            } else {
                self.samples[self.current] = Sample::new(now);
            }
        }
        let s = &mut self.samples[self.current];
        s.value += value;
        s.last_event_ms = now;
    }

    /// `SampledStat.purgeObsoleteSamples`: samples without an event in the monitored window
    /// are reset.
    fn purge(&mut self, cfg: &WindowConfig, now: i64) {
        let expire = cfg.samples * cfg.window_ms;
        for s in &mut self.samples {
            if now - s.last_event_ms >= expire {
                *s = Sample::new(now);
            }
        }
    }

    /// `Rate.windowSize`, in milliseconds.
    pub fn window_ms(&mut self, cfg: &WindowConfig, now: i64) -> i64 {
        self.purge(cfg, now);
        let oldest = self.samples.iter().map(|s| s.start_ms).min().unwrap_or(now);
        let mut total = now - oldest;
        let full = total / cfg.window_ms.max(1);
        let min_full = cfg.samples - 1;
        if full < min_full {
            total += (min_full - full) * cfg.window_ms;
        }
        total.max(1)
    }

    /// `Rate.measure`: units per second.
    pub fn measure(&mut self, cfg: &WindowConfig, now: i64) -> f64 {
        self.purge(cfg, now);
        let sum: f64 = self.samples.iter().map(|s| s.value).sum();
        sum / (self.window_ms(cfg, now) as f64 / 1000.0)
    }

    /// Records `value` and returns Kafka's throttle time (`QuotaUtils.throttleTime`) when the
    /// measured rate is above `bound`: the delay X that brings O back to T over the window W,
    /// O·W/(W+X) = T, so X = (O−T)/T·W.
    pub fn record_and_throttle(
        &mut self,
        cfg: &WindowConfig,
        bound: f64,
        value: f64,
        now: i64,
    ) -> i64 {
        self.record(cfg, value, now);
        let observed = self.measure(cfg, now);
        if observed <= bound {
            return 0;
        }
        let window = self.window_ms(cfg, now) as f64;
        ((observed - bound) / bound * window).round() as i64
    }
}

/// Kafka's `TokenBucket` (KIP-599): `samples × window × quota` tokens at most, refilled at
/// `quota` per second; a recording takes tokens and may drive the bucket negative.
#[derive(Debug, Default)]
pub struct TokenBucket {
    tokens: f64,
    /// `None` until first used: a new bucket starts full (Kafka's starts at time 0, so its first
    /// refill fills it).
    last_update_ms: Option<i64>,
}

impl TokenBucket {
    fn burst(cfg: &WindowConfig, quota: f64) -> f64 {
        cfg.samples as f64 * (cfg.window_ms as f64 / 1000.0) * quota
    }

    fn refill(&mut self, cfg: &WindowConfig, quota: f64, now: i64) {
        let burst = Self::burst(cfg, quota);
        self.tokens = match self.last_update_ms {
            None => burst,
            Some(last) => burst.min(self.tokens + quota * ((now - last) as f64 / 1000.0)),
        };
        self.last_update_ms = Some(now);
    }

    /// The tokens left (`TokenBucket.measure`).
    pub fn measure(&mut self, cfg: &WindowConfig, quota: f64, now: i64) -> f64 {
        self.refill(cfg, quota, now);
        self.tokens
    }

    /// Takes `value` tokens (`TokenBucket.record`).
    pub fn record(&mut self, cfg: &WindowConfig, quota: f64, value: f64, now: i64) {
        self.refill(cfg, quota, now);
        self.tokens = Self::burst(cfg, quota).min(self.tokens - value);
    }

    /// `ControllerMutationQuotaManager.throttleTimeMs`: how long until the bucket is back at
    /// zero, when it is negative.
    pub fn throttle_ms(&mut self, cfg: &WindowConfig, quota: f64, now: i64) -> i64 {
        let tokens = self.measure(cfg, quota, now);
        if tokens < 0.0 {
            (-tokens / quota * 1000.0).round() as i64
        } else {
            0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CFG: WindowConfig = WindowConfig {
        samples: 11,
        window_ms: 1000,
    };

    #[test]
    fn first_bytes_are_measured_over_ten_windows() {
        let mut r = SampledRate::default();
        r.record(&CFG, 1000.0, 0);
        assert_eq!(r.window_ms(&CFG, 0), 10_000);
        assert!((r.measure(&CFG, 0) - 100.0).abs() < 1e-9);
        assert_eq!(r.window_ms(&CFG, 500), 10_500);
    }

    #[test]
    fn throttle_time_is_kafkas_formula() {
        // 20 000 bytes against 1000 B/s at t=0: O = 2000 B/s over W = 10 s, X = (2000-1000)/1000 * 10 s.
        let mut r = SampledRate::default();
        assert_eq!(r.record_and_throttle(&CFG, 1000.0, 20_000.0, 0), 10_000);
        // Unrecording (a throttled fetch) brings the sum back.
        r.record(&CFG, -20_000.0, 0);
        assert_eq!(r.record_and_throttle(&CFG, 1000.0, 5_000.0, 0), 0);
    }

    /// A client that sends `batch` bytes whenever it is not throttled, and waits out every
    /// throttle, settles at the quota once the window has slid past its start.
    #[test]
    fn a_throttled_client_settles_at_the_quota() {
        let cfg = WindowConfig {
            samples: 3,
            window_ms: 1000,
        };
        let quota = 100_000.0;
        let batch = 16_384.0;
        let mut r = SampledRate::default();
        let mut t = 0i64;
        let mut sent = Vec::new();
        while t < 20_000 {
            let throttle = r.record_and_throttle(&cfg, quota, batch, t);
            sent.push((t, batch));
            t += throttle.max(1);
        }
        let between = |a: i64, b: i64| -> f64 {
            sent.iter()
                .filter(|(x, _)| *x >= a && *x < b)
                .map(|(_, v)| v)
                .sum()
        };
        let rate = between(4_000, 10_000) / 6.0;
        assert!((rate - quota).abs() / quota < 0.1, "{rate}");
    }

    #[test]
    fn token_bucket_starts_full_and_refills() {
        let cfg = WindowConfig {
            samples: 11,
            window_ms: 1000,
        };
        let mut b = TokenBucket::default();
        assert_eq!(b.measure(&cfg, 2.0, 0), 22.0);
        b.record(&cfg, 2.0, 30.0, 0);
        assert_eq!(b.throttle_ms(&cfg, 2.0, 0), 4000);
        assert_eq!(b.throttle_ms(&cfg, 2.0, 1000), 3000);
        assert_eq!(b.throttle_ms(&cfg, 2.0, 4000), 0);
    }
}
