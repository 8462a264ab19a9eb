//! Records every request against the quotas of its (user, client-id) and decides its throttle,
//! as Kafka's `KafkaApis` and `RequestHandlerHelper.sendResponseMaybeThrottle` do:
//!
//! - Produce: the request's size against `producer_byte_rate`, after the append; the
//!   `request_percentage` quota does not apply to acks=0.
//! - Fetch: `max_bytes` is first bounded by what the quota window can hold
//!   (`getMaxValueInQuotaWindow`); then the response's record bytes count against
//!   `consumer_byte_rate`. A throttled fetch answers an empty response and its bytes are
//!   unrecorded (`unrecordQuotaSensor`), so the client reads them after the throttle.
//! - CreateTopics / CreatePartitions / DeleteTopics: the handler charges
//!   `controller_mutation_rate` (see [`super::mutation`]) and reports its throttle in the
//!   response's `throttle_time_ms`.
//! - Every API but SASL: the time the handler spent on a thread (the sum of its polls, so a
//!   long-polling fetch's wait is not counted, like Kafka's `requestThreadTimeNanos`) as a
//!   percentage of one second, against `request_percentage`, its throttle capped at one
//!   quota window (`ClientRequestQuotaManager`).
//!
//! The response carries the larger throttle, which is counted against the quota that caused
//! it, and the caller mutes the connection for that long after sending the response (KIP-219).

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kafka_protocol::messages::{ApiKey, FetchResponse, RequestKind};

use super::manager::Sensor;
use super::now_ms;
use super::response::{set_throttle_time_ms, throttle_time_ms};
use crate::handlers::{self, Outcome, RequestContext};

/// `ClientRequestQuotaManager.NanosToPercentagePerSecond`
const NANOS_TO_PERCENTAGE: f64 = 100.0 / 1_000_000_000.0;

/// APIs Kafka handles before or outside `KafkaApis` quota accounting (authentication).
fn exempt(api: ApiKey) -> bool {
    matches!(api, ApiKey::SaslHandshake | ApiKey::SaslAuthenticate)
}

/// Handles one request under its quotas. `throttle` receives how long the connection must stay
/// muted after the response is sent.
pub async fn handle(
    ctx: &RequestContext,
    mut body: RequestKind,
    request_size: usize,
    throttle: &mut Duration,
) -> Outcome {
    let quotas = &ctx.broker.quotas;
    if !quotas.any_enabled() {
        return handlers::handle(ctx, body).await;
    }
    let user = &ctx.session.principal.name;
    let client_id = ctx.client_id.as_deref().unwrap_or("");
    let api = ctx.api_key;
    let mut acks_zero = false;
    match &mut body {
        RequestKind::Produce(p) => acks_zero = p.acks == 0,
        RequestKind::Fetch(f) => {
            if let Some(max) = quotas.fetch.max_value_in_window(user, client_id) {
                let max = max.min(i32::MAX as f64) as i32;
                f.max_bytes = f.max_bytes.min(max);
                f.min_bytes = f.min_bytes.min(f.max_bytes);
            }
        }
        _ => {}
    }
    let request_sensor = if exempt(api) || acks_zero {
        None
    } else {
        quotas.request.sensor(user, client_id)
    };
    let (mut outcome, busy) = if request_sensor.is_some() {
        timed(handlers::handle(ctx, body)).await
    } else {
        (handlers::handle(ctx, body).await, Duration::ZERO)
    };
    let now = now_ms();
    let request_ms = request_sensor.as_ref().map_or(0, |s| {
        let percent = busy.as_nanos() as f64 * NANOS_TO_PERCENTAGE;
        s.record_and_throttle(percent, now)
            .min(quotas.request.config().window_ms)
    });
    let mut fetched = 0usize;
    let (bandwidth_sensor, bandwidth_ms): (Option<Arc<Sensor>>, i64) = match api {
        ApiKey::Produce => match quotas.produce.sensor(user, client_id) {
            Some(s) => {
                let t = s.record_and_throttle(request_size as f64, now);
                (Some(s), t)
            }
            None => (None, 0),
        },
        ApiKey::Fetch => match quotas.fetch.sensor(user, client_id) {
            Some(s) => {
                if let Outcome::RespondFetch(_, records) = &outcome {
                    fetched = records.iter().flatten().map(|r| r.len).sum();
                }
                let t = s.record_and_throttle(fetched as f64, now);
                (Some(s), t)
            }
            None => (None, 0),
        },
        ApiKey::CreateTopics | ApiKey::CreatePartitions | ApiKey::DeleteTopics => {
            let reported = match &outcome {
                Outcome::Respond(r) => throttle_time_ms(r).unwrap_or(0),
                _ => 0,
            };
            if reported > 0 {
                (
                    quotas.controller_mutation.sensor(user, client_id),
                    i64::from(reported),
                )
            } else {
                (None, 0)
            }
        }
        _ => (None, 0),
    };
    let max = request_ms.max(bandwidth_ms);
    if max <= 0 {
        return outcome;
    }
    if api == ApiKey::Fetch {
        if let Some(s) = &bandwidth_sensor {
            s.record(-(fetched as f64), now);
        }
        // `FetchContext.getThrottledResponse`: no partitions, no session.
        outcome = Outcome::RespondFetch(
            Box::new(FetchResponse::default().with_session_id(0)),
            Vec::new(),
        );
    }
    if bandwidth_ms > request_ms {
        if let Some(s) = &bandwidth_sensor {
            s.count_throttle(bandwidth_ms);
        }
    } else if let Some(s) = &request_sensor {
        s.count_throttle(request_ms);
    }
    let ms = max.min(i64::from(i32::MAX)) as i32;
    match &mut outcome {
        Outcome::Respond(r) => set_throttle_time_ms(r, ms),
        Outcome::RespondFetch(r, _) => r.throttle_time_ms = ms,
        Outcome::NoResponse | Outcome::Close => {}
    }
    *throttle = Duration::from_millis(ms as u64);
    outcome
}

/// Runs `fut`, returning its output and the time spent inside its polls.
async fn timed<F: Future>(fut: F) -> (F::Output, Duration) {
    let mut fut = std::pin::pin!(fut);
    let mut busy = Duration::ZERO;
    let out = std::future::poll_fn(|cx| {
        let start = Instant::now();
        let r = fut.as_mut().poll(cx);
        busy += start.elapsed();
        r
    })
    .await;
    (out, busy)
}
