//! Client quotas as Kafka enforces them: the durable quota store behind
//! DescribeClientQuotas/AlterClientQuotas ([`store`]), one `ClientQuotaManager` per quota type
//! ([`manager`]) measuring rates the way Kafka's metrics do ([`rate`]), and the request
//! wrapper that records each request against its quotas and throttles it as KIP-219 says
//! ([`enforce`]): the response leaves at once with `throttle_time_ms`, then the connection is
//! muted for that long.
//!
//! When no quota was ever configured the whole mechanism costs one relaxed atomic load per
//! request.

pub mod enforce;
pub mod entity;
pub mod manager;
pub mod metrics;
pub mod mutation;
pub mod rate;
pub mod response;
pub mod store;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::time::Instant;

use entity::QuotaType;
use manager::ClientQuotaManager;
use rate::WindowConfig;
use store::{AlterResults, Alteration, QuotaStore};

use crate::settings::Settings;

/// The broker's quotas: the store and the four enforcing managers.
pub struct Quotas {
    pub store: QuotaStore,
    pub produce: ClientQuotaManager,
    pub fetch: ClientQuotaManager,
    pub request: ClientQuotaManager,
    pub controller_mutation: ClientQuotaManager,
    any_enabled: AtomicBool,
}

impl Quotas {
    /// Opens the store in `data_dir` and configures the managers from `quota.window.num`,
    /// `quota.window.size.seconds` and their `controller.` counterparts.
    pub fn open(data_dir: &Path, settings: &Settings) -> std::io::Result<Quotas> {
        let client = WindowConfig {
            samples: i64::from(settings.i32("quota.window.num").max(1)),
            window_ms: i64::from(settings.i32("quota.window.size.seconds").max(1)) * 1000,
        };
        let controller = WindowConfig {
            samples: i64::from(settings.i32("controller.quota.window.num").max(1)),
            window_ms: i64::from(settings.i32("controller.quota.window.size.seconds").max(1))
                * 1000,
        };
        let quotas = Quotas {
            store: QuotaStore::open(data_dir)?,
            produce: ClientQuotaManager::new(QuotaType::Produce, client),
            fetch: ClientQuotaManager::new(QuotaType::Fetch, client),
            request: ClientQuotaManager::new(QuotaType::Request, client),
            controller_mutation: ClientQuotaManager::new(QuotaType::ControllerMutation, controller),
            any_enabled: AtomicBool::new(false),
        };
        quotas.refresh();
        Ok(quotas)
    }

    /// The managers, in [`QuotaType::ALL`] order.
    pub fn managers(&self) -> [&ClientQuotaManager; 4] {
        [
            &self.produce,
            &self.fetch,
            &self.request,
            &self.controller_mutation,
        ]
    }

    /// True once any client quota has been configured: until then requests skip quotas
    /// entirely.
    pub fn any_enabled(&self) -> bool {
        self.any_enabled.load(Ordering::Relaxed)
    }

    /// Applies an AlterClientQuotas; accepted changes take effect for the next request.
    pub fn alter(&self, alterations: Vec<Alteration>, validate_only: bool) -> AlterResults {
        let (results, changed) = self.store.alter(alterations, validate_only);
        if changed {
            self.refresh();
        }
        results
    }

    fn refresh(&self) {
        let snapshot = self.store.snapshot();
        for m in self.managers() {
            m.update(&snapshot);
        }
        if self.managers().iter().any(|m| m.enabled()) {
            self.any_enabled.store(true, Ordering::Relaxed);
        }
    }
}

/// Milliseconds on a monotonic clock (quota windows must not jump with the wall clock).
pub fn now_ms() -> i64 {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_millis() as i64
}
