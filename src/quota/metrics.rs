//! Quota series on `/metrics`, read from the live sensors at scrape time (nothing on the hot
//! path): `klamm_quota_throttle_time_seconds_total` (throttle applied, per quota type and
//! sensor) and `klamm_quota_observed_rate` (the measured rate: bytes/s for produce and fetch,
//! percent of a thread for request, tokens left for controller_mutation). Only entities that
//! have a quota have a sensor, so the cardinality is bounded by the configured quotas and the
//! clients they cover.

use std::fmt::Write;

use super::{now_ms, Quotas};

pub const THROTTLE_TIME: &str = "klamm_quota_throttle_time_seconds_total";
pub const OBSERVED_RATE: &str = "klamm_quota_observed_rate";
pub const QUOTA_BOUND: &str = "klamm_quota_limit";

/// Prometheus label value escaping.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Appends the quota families (nothing when no sensor exists).
pub fn render(quotas: &Quotas, out: &mut String) {
    let now = now_ms();
    let mut throttle = String::new();
    let mut observed = String::new();
    let mut bound = String::new();
    for m in quotas.managers() {
        let t = m.quota_type().label();
        for s in m.sensors() {
            let labels = format!(
                "quota_type=\"{t}\",user=\"{}\",client_id=\"{}\"",
                escape(&s.user_tag),
                escape(&s.client_tag)
            );
            let _ = writeln!(
                throttle,
                "{THROTTLE_TIME}{{{labels}}} {}",
                s.throttle_ms_total() as f64 / 1000.0
            );
            let _ = writeln!(observed, "{OBSERVED_RATE}{{{labels}}} {}", s.observed(now));
            let _ = writeln!(bound, "{QUOTA_BOUND}{{{labels}}} {}", s.bound());
        }
    }
    if throttle.is_empty() {
        return;
    }
    let _ = write!(
        out,
        "# HELP {THROTTLE_TIME} Time clients were throttled (muted) for exceeding a client quota.\n# TYPE {THROTTLE_TIME} counter\n{throttle}\n\
         # HELP {OBSERVED_RATE} Rate measured against the quota (bytes/s; request: percent of a thread; controller_mutation: tokens left).\n# TYPE {OBSERVED_RATE} gauge\n{observed}\n\
         # HELP {QUOTA_BOUND} The client quota that applies to the sensor.\n# TYPE {QUOTA_BOUND} gauge\n{bound}\n"
    );
}
