//! The controller mutation quota of one CreateTopics, CreatePartitions or DeleteTopics request
//! (KIP-599, Kafka's `ControllerMutationQuota`): every partition created or deleted takes a
//! token. From CreateTopics v6, CreatePartitions v3 and DeleteTopics v5 the quota is strict: a
//! topic asked for while the bucket is negative fails with THROTTLING_QUOTA_EXCEEDED. Older
//! versions cannot carry that error, so they are permissive: the mutation goes ahead and the
//! client is throttled instead.

use std::sync::Arc;

use super::manager::Sensor;
use super::now_ms;
use crate::error::Error;
use crate::handlers::RequestContext;

/// `CreateTopicsRequest` version from which the quota is strict.
pub const CREATE_TOPICS_STRICT_SINCE: i16 = 6;
/// `CreatePartitionsRequest` version from which the quota is strict.
pub const CREATE_PARTITIONS_STRICT_SINCE: i16 = 3;
/// `DeleteTopicsRequest` version from which the quota is strict.
pub const DELETE_TOPICS_STRICT_SINCE: i16 = 5;

/// One request's view of its (user, client-id)'s controller mutation quota.
pub struct MutationQuota {
    sensor: Option<Arc<Sensor>>,
    strict: bool,
    last_throttle_ms: i64,
    recorded_at: i64,
}

impl MutationQuota {
    /// `ControllerMutationQuotaManager.newQuotaFor`: unbounded when no quota applies.
    pub fn for_request(ctx: &RequestContext, strict_since: i16) -> MutationQuota {
        let quotas = &ctx.broker.quotas;
        let sensor = if quotas.any_enabled() {
            quotas.controller_mutation.sensor(
                &ctx.session.principal.name,
                ctx.client_id.as_deref().unwrap_or(""),
            )
        } else {
            None
        };
        MutationQuota {
            sensor,
            strict: ctx.version >= strict_since,
            last_throttle_ms: 0,
            recorded_at: 0,
        }
    }

    /// True when a quota applies (callers then validate before recording, as Kafka's controller
    /// checks a topic before it charges the quota).
    pub fn is_bounded(&self) -> bool {
        self.sensor.is_some()
    }

    /// Charges `partitions` mutations; `Err(THROTTLING_QUOTA_EXCEEDED)` under a strict quota
    /// whose bucket is already negative.
    pub fn record(&mut self, partitions: u64) -> Result<(), Error> {
        let Some(sensor) = &self.sensor else {
            return Ok(());
        };
        let now = now_ms();
        let permits = partitions as f64;
        if self.strict {
            if let Err(throttle) = sensor.try_take(permits, now) {
                self.last_throttle_ms = throttle;
                self.recorded_at = now;
                return Err(Error::ThrottlingQuotaExceeded);
            }
        } else {
            let throttle = sensor.record_and_throttle(permits, now);
            if throttle > 0 {
                self.last_throttle_ms = throttle;
                self.recorded_at = now;
            }
        }
        Ok(())
    }

    /// `AbstractControllerMutationQuota.throttleTime`: the recorded throttle less the time
    /// since it was recorded. The response carries it and the connection is muted for it.
    pub fn throttle_time_ms(&self) -> i32 {
        if self.last_throttle_ms == 0 {
            return 0;
        }
        let elapsed = now_ms() - self.recorded_at;
        (self.last_throttle_ms - elapsed).clamp(0, i64::from(i32::MAX)) as i32
    }
}
