//! Kafka's `ClientQuotaManager` for one quota type: which quota applies to a (user, client-id)
//! pair (the default callback's eight-level precedence), the sensor that measures the pair's
//! rate against it, and the throttle time once the rate is above it.
//!
//! The hot path is one relaxed atomic load when no quota of this type was ever configured, and
//! otherwise a read-locked two-level map lookup (user, then client-id: no allocation) that
//! caches the resolved sensor per pair. AlterClientQuotas rebuilds the overrides, updates the
//! bounds of the existing sensors (so their history is kept, as Kafka keeps its metrics), and
//! clears the cache.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use super::entity::{ClientQuotaEntity, QuotaType, CLIENT_ID, USER};
use super::rate::{SampledRate, TokenBucket, WindowConfig};
use super::store::QuotaMap;

/// Bits of Kafka's `QuotaTypes`: which entity levels have (ever) had a quota.
const CLIENT_ID_ENABLED: u8 = 1;
const USER_ENABLED: u8 = 2;
const USER_CLIENT_ID_ENABLED: u8 = 4;

/// Cached pairs beyond this are dropped and resolved again (a client cycling through client
/// ids cannot grow the cache without bound).
const MAX_CACHED_PAIRS: usize = 100_000;

/// `KafkaQuotaEntity`: a user level and a client-id level, each absent, the default or named.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Level {
    user: Option<Option<String>>,
    client_id: Option<Option<String>>,
}

impl Level {
    fn new(user: Option<Option<&str>>, client_id: Option<Option<&str>>) -> Level {
        Level {
            user: user.map(|u| u.map(str::to_string)),
            client_id: client_id.map(|c| c.map(str::to_string)),
        }
    }
}

/// What a sensor measures with.
#[derive(Debug)]
enum Stat {
    Rate(SampledRate),
    Bucket(TokenBucket),
}

#[derive(Debug)]
struct SensorState {
    bound: f64,
    stat: Stat,
}

/// One quota sensor: the metric tags Kafka gives it (the user and client-id of the level the
/// quota was found at, empty where the level has none), its bound and its measurement.
pub struct Sensor {
    pub user_tag: String,
    pub client_tag: String,
    config: WindowConfig,
    state: Mutex<SensorState>,
    /// Milliseconds of throttle applied because of this sensor
    /// (`klamm_quota_throttle_time_seconds_total`).
    throttle_ms: AtomicU64,
}

impl Sensor {
    fn lock(&self) -> std::sync::MutexGuard<'_, SensorState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn bound(&self) -> f64 {
        self.lock().bound
    }

    /// `ClientQuotaManager.recordAndGetThrottleTimeMs` for a rate sensor.
    pub fn record_and_throttle(&self, value: f64, now: i64) -> i64 {
        let mut st = self.lock();
        let bound = st.bound;
        match &mut st.stat {
            Stat::Rate(r) => r.record_and_throttle(&self.config, bound, value, now),
            Stat::Bucket(b) => {
                // The permissive controller-mutation quota: record, then check.
                b.record(&self.config, bound, value, now);
                b.throttle_ms(&self.config, bound, now)
            }
        }
    }

    /// Records without a quota check (`recordNoThrottle`, and `unrecordQuotaSensor` with a
    /// negative value).
    pub fn record(&self, value: f64, now: i64) {
        let mut st = self.lock();
        let bound = st.bound;
        match &mut st.stat {
            Stat::Rate(r) => r.record(&self.config, value, now),
            Stat::Bucket(b) => b.record(&self.config, bound, value, now),
        }
    }

    /// `StrictControllerMutationQuota.record`: refuses (with the throttle time) when the bucket
    /// is already negative, otherwise takes the permits, even if that drives it negative.
    pub fn try_take(&self, permits: f64, now: i64) -> Result<(), i64> {
        let mut st = self.lock();
        let bound = st.bound;
        match &mut st.stat {
            Stat::Bucket(b) => {
                let throttle = b.throttle_ms(&self.config, bound, now);
                if throttle > 0 {
                    return Err(throttle);
                }
                b.record(&self.config, bound, permits, now);
                Ok(())
            }
            Stat::Rate(r) => {
                r.record(&self.config, permits, now);
                Ok(())
            }
        }
    }

    /// The time left until a token bucket is back at zero (0 for rates).
    pub fn bucket_throttle(&self, now: i64) -> i64 {
        let mut st = self.lock();
        let bound = st.bound;
        match &mut st.stat {
            Stat::Bucket(b) => b.throttle_ms(&self.config, bound, now),
            Stat::Rate(_) => 0,
        }
    }

    /// Counts a throttle applied because of this sensor.
    pub fn count_throttle(&self, ms: i64) {
        self.throttle_ms
            .fetch_add(ms.max(0) as u64, Ordering::Relaxed);
    }

    pub fn throttle_ms_total(&self) -> u64 {
        self.throttle_ms.load(Ordering::Relaxed)
    }

    /// The measured rate now (units per second; tokens left for a bucket), for `/metrics`.
    pub fn observed(&self, now: i64) -> f64 {
        let mut st = self.lock();
        let bound = st.bound;
        match &mut st.stat {
            Stat::Rate(r) => r.measure(&self.config, now),
            Stat::Bucket(b) => b.measure(&self.config, bound, now),
        }
    }
}

#[derive(Default)]
struct State {
    enabled_levels: u8,
    overrides: HashMap<Level, f64>,
    sensors: HashMap<(String, String), Arc<Sensor>>,
    /// user → client-id → the sensor that applies (None: no quota applies to the pair).
    cache: HashMap<Arc<str>, HashMap<String, Option<Arc<Sensor>>>>,
    cached_pairs: usize,
}

/// One quota type's manager.
pub struct ClientQuotaManager {
    quota_type: QuotaType,
    config: WindowConfig,
    /// Kafka's `quotasEnabled`: set once any quota of this type has been configured, and kept
    /// until restart.
    enabled: AtomicBool,
    state: RwLock<State>,
}

impl ClientQuotaManager {
    pub fn new(quota_type: QuotaType, config: WindowConfig) -> ClientQuotaManager {
        ClientQuotaManager {
            quota_type,
            config,
            enabled: AtomicBool::new(false),
            state: RwLock::new(State::default()),
        }
    }

    pub fn quota_type(&self) -> QuotaType {
        self.quota_type
    }

    pub fn config(&self) -> WindowConfig {
        self.config
    }

    /// True once a quota of this type has been configured (`quotasEnabled`).
    pub fn enabled(&self) -> bool {
        self.enabled.load(Ordering::Relaxed)
    }

    /// Replaces the overrides with this type's values in `quotas` (user and client-id entities;
    /// ip entities are connection quotas).
    pub fn update(&self, quotas: &QuotaMap) {
        let key = self.quota_type.key();
        let mut st = self.state.write().unwrap_or_else(|e| e.into_inner());
        st.overrides.clear();
        for (entity, values) in quotas {
            let Some(&value) = values.get(key) else {
                continue;
            };
            if entity.get(super::entity::IP).is_some() {
                continue;
            }
            let level = level_of(entity);
            st.enabled_levels |= match (&level.user, &level.client_id) {
                (Some(_), Some(_)) => USER_CLIENT_ID_ENABLED,
                (Some(_), None) => USER_ENABLED,
                _ => CLIENT_ID_ENABLED,
            };
            st.overrides.insert(level, value);
        }
        if st.enabled_levels != 0 {
            self.enabled.store(true, Ordering::Relaxed);
        }
        // Kafka's `updateQuotaMetricConfigs`: existing sensors take their new bound; a sensor
        // whose tags no longer have a quota stops being used.
        let st = &mut *st;
        let overrides = &st.overrides;
        st.sensors
            .retain(|(u, c), sensor| match quota_limit(overrides, u, c) {
                Some(bound) => {
                    sensor.lock().bound = bound;
                    true
                }
                None => false,
            });
        st.cache.clear();
        st.cached_pairs = 0;
    }

    /// The sensor that applies to `user` and `client_id`, if a quota of this type does.
    pub fn sensor(&self, user: &Arc<str>, client_id: &str) -> Option<Arc<Sensor>> {
        if !self.enabled() {
            return None;
        }
        {
            let st = self.state.read().unwrap_or_else(|e| e.into_inner());
            if let Some(hit) = st.cache.get(user).and_then(|m| m.get(client_id)) {
                return hit.clone();
            }
        }
        let mut st = self.state.write().unwrap_or_else(|e| e.into_inner());
        let (user_tag, client_tag) = metric_tags(st.enabled_levels, &st.overrides, user, client_id);
        let sensor = match quota_limit(&st.overrides, &user_tag, &client_tag) {
            None => None,
            Some(bound) => {
                let key = (user_tag, client_tag);
                if let Some(s) = st.sensors.get(&key) {
                    Some(s.clone())
                } else {
                    let s = Arc::new(self.new_sensor(&key.0, &key.1, bound));
                    st.sensors.insert(key, s.clone());
                    Some(s)
                }
            }
        };
        if st.cached_pairs >= MAX_CACHED_PAIRS {
            st.cache.clear();
            st.cached_pairs = 0;
        }
        st.cached_pairs += 1;
        st.cache
            .entry(user.clone())
            .or_default()
            .insert(client_id.to_string(), sensor.clone());
        sensor
    }

    fn new_sensor(&self, user_tag: &str, client_tag: &str, bound: f64) -> Sensor {
        let stat = match self.quota_type {
            QuotaType::ControllerMutation => Stat::Bucket(TokenBucket::default()),
            _ => Stat::Rate(SampledRate::default()),
        };
        Sensor {
            user_tag: user_tag.to_string(),
            client_tag: client_tag.to_string(),
            config: self.config,
            state: Mutex::new(SensorState { bound, stat }),
            throttle_ms: AtomicU64::new(0),
        }
    }

    /// Every live sensor (for `/metrics`).
    pub fn sensors(&self) -> Vec<Arc<Sensor>> {
        let st = self.state.read().unwrap_or_else(|e| e.into_inner());
        st.sensors.values().cloned().collect()
    }

    /// `getMaxValueInQuotaWindow`: the most that can be recorded at once without a guaranteed
    /// throttle, quota × (samples − 1) × window (bounds a Fetch's `max_bytes`).
    pub fn max_value_in_window(&self, user: &Arc<str>, client_id: &str) -> Option<f64> {
        let sensor = self.sensor(user, client_id)?;
        Some(
            sensor.bound()
                * (self.config.samples - 1) as f64
                * (self.config.window_ms as f64 / 1000.0),
        )
    }
}

fn level_of(entity: &ClientQuotaEntity) -> Level {
    Level {
        user: entity.get(USER).cloned(),
        client_id: entity.get(CLIENT_ID).cloned(),
    }
}

/// `DefaultQuotaCallback.quotaMetricTags`: the (user, client-id) tags of the level whose quota
/// applies, walking Kafka's precedence from `/config/users/<user>/clients/<client-id>` down to
/// `/config/clients/<default>`.
fn metric_tags(
    enabled: u8,
    overrides: &HashMap<Level, f64>,
    user: &str,
    client_id: &str,
) -> (String, String) {
    let both = || (user.to_string(), client_id.to_string());
    match enabled {
        0 | CLIENT_ID_ENABLED => (String::new(), client_id.to_string()),
        USER_ENABLED => (user.to_string(), String::new()),
        USER_CLIENT_ID_ENABLED => both(),
        _ => {
            let has = |u: Option<Option<&str>>, c: Option<Option<&str>>| {
                overrides.contains_key(&Level::new(u, c))
            };
            let (u, c) = (Some(Some(user)), Some(Some(client_id)));
            if has(u, c) || has(u, Some(None)) {
                both()
            } else if has(u, None) {
                (user.to_string(), String::new())
            } else if has(Some(None), c) || has(Some(None), Some(None)) {
                both()
            } else if has(Some(None), None) {
                (user.to_string(), String::new())
            } else {
                (String::new(), client_id.to_string())
            }
        }
    }
}

/// `DefaultQuotaCallback.quotaLimit`: the quota for a sensor's tags.
fn quota_limit(overrides: &HashMap<Level, f64>, user: &str, client_id: &str) -> Option<f64> {
    let get = |u: Option<Option<&str>>, c: Option<Option<&str>>| {
        overrides.get(&Level::new(u, c)).copied()
    };
    if !user.is_empty() && !client_id.is_empty() {
        let (u, c) = (Some(Some(user)), Some(Some(client_id)));
        get(u, c)
            .or_else(|| get(u, Some(None)))
            .or_else(|| get(Some(None), c))
            .or_else(|| get(Some(None), Some(None)))
    } else if !user.is_empty() {
        get(Some(Some(user)), None).or_else(|| get(Some(None), None))
    } else if !client_id.is_empty() {
        get(None, Some(Some(client_id))).or_else(|| get(None, Some(None)))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quota::entity::PRODUCER_BYTE_RATE;
    use std::collections::BTreeMap;

    /// A (user, client-id) level and its quota.
    type TestLevel<'a> = (Option<Option<&'a str>>, Option<Option<&'a str>>, f64);

    fn quotas(levels: &[TestLevel<'_>]) -> QuotaMap {
        let mut m = QuotaMap::new();
        for (u, c, v) in levels {
            let mut pairs = Vec::new();
            if let Some(u) = u {
                pairs.push((USER, *u));
            }
            if let Some(c) = c {
                pairs.push((CLIENT_ID, *c));
            }
            let mut values = BTreeMap::new();
            values.insert(PRODUCER_BYTE_RATE.to_string(), *v);
            m.insert(ClientQuotaEntity::from_pairs(pairs), values);
        }
        m
    }

    fn bound(m: &ClientQuotaManager, user: &str, client: &str) -> Option<f64> {
        m.sensor(&Arc::from(user), client).map(|s| s.bound())
    }

    #[test]
    fn precedence_is_kafkas_eight_levels() {
        let cfg = WindowConfig {
            samples: 11,
            window_ms: 1000,
        };
        let m = ClientQuotaManager::new(QuotaType::Produce, cfg);
        assert_eq!(bound(&m, "alice", "app"), None);
        let all = [
            (Some(Some("alice")), Some(Some("app")), 1.0),
            (Some(Some("alice")), Some(None), 2.0),
            (Some(Some("alice")), None, 3.0),
            (Some(None), Some(Some("app")), 4.0),
            (Some(None), Some(None), 5.0),
            (Some(None), None, 6.0),
            (None, Some(Some("app")), 7.0),
            (None, Some(None), 8.0),
        ];
        for i in 0..all.len() {
            m.update(&quotas(&all[i..]));
            assert_eq!(bound(&m, "alice", "app"), Some(all[i].2), "level {}", i + 1);
        }
        m.update(&QuotaMap::new());
        assert_eq!(bound(&m, "alice", "app"), None);
    }

    #[test]
    fn a_user_quota_is_shared_by_the_users_clients() {
        let cfg = WindowConfig {
            samples: 11,
            window_ms: 1000,
        };
        let m = ClientQuotaManager::new(QuotaType::Produce, cfg);
        m.update(&quotas(&[(Some(Some("alice")), None, 100.0)]));
        let a = m.sensor(&Arc::from("alice"), "one").unwrap();
        let b = m.sensor(&Arc::from("alice"), "two").unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!((a.user_tag.as_str(), a.client_tag.as_str()), ("alice", ""));
        assert!(m.sensor(&Arc::from("bob"), "one").is_none());
    }
}
