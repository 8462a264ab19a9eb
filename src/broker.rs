//! The broker's shared state, handed to every connection and handler.

use std::sync::Arc;

use tokio::sync::watch;

use crate::cluster::{MetaProperties, ProducerIdManager};
use crate::groups::GroupCoordinator;
use crate::log::LogManager;
use crate::quota::Quotas;
use crate::security::acl::Authorizer;
use crate::security::sasl::SaslServers;
use crate::security::scram::ScramStore;
use crate::security::Listener;
use crate::settings::Settings;
use crate::txn::TransactionCoordinator;

/// Everything a request handler may need.
pub struct Broker {
    pub settings: Arc<Settings>,
    pub logs: Arc<LogManager>,
    pub meta: MetaProperties,
    pub node_id: i32,
    /// Every listener, in `listeners` order. Metadata, FindCoordinator and DescribeCluster
    /// answer with the advertised address of the listener the request came through.
    pub listeners: Vec<Arc<Listener>>,
    pub producer_ids: ProducerIdManager,
    pub scram: ScramStore,
    /// `authorizer.class.name`: ACL checks for every handler (allows everything when unset).
    pub authorizer: Authorizer,
    /// Client quotas (stored, and enforced per request).
    pub quotas: Quotas,
    /// SASL settings of each SASL listener (mechanisms, PLAIN users, OAUTHBEARER validator).
    pub sasl: SaslServers,
    /// Consumer groups and committed offsets.
    pub groups: Arc<GroupCoordinator>,
    /// Transactional producers' state and markers.
    pub txn: Arc<TransactionCoordinator>,
    /// Share partitions and sessions (KIP-932).
    pub share: Arc<crate::share::ShareManager>,
    /// Flips to true when shutdown starts, so long-polling requests return at once.
    pub shutting_down: watch::Receiver<bool>,
    /// `fetch.max.bytes` (read-only in Kafka too), resolved once for the fetch path.
    pub fetch_max_bytes: usize,
    /// `klamm.compat.kafka.version`, resolved once: the request versions served.
    pub compat: crate::versions::Compat,
}

impl Broker {
    pub fn new(
        settings: Arc<Settings>,
        logs: Arc<LogManager>,
        groups: Arc<GroupCoordinator>,
        txn: Arc<TransactionCoordinator>,
        share: Arc<crate::share::ShareManager>,
        listeners: Vec<Arc<Listener>>,
        shutting_down: watch::Receiver<bool>,
    ) -> std::io::Result<Broker> {
        let data_dir = settings.data_dir();
        let meta = MetaProperties::load_or_create(&data_dir, settings.node_id())?;
        // A bad SASL setting stops start-up with its message.
        let sasl = SaslServers::build(&settings, &listeners)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        Ok(Broker {
            node_id: settings.node_id(),
            fetch_max_bytes: settings.i32("fetch.max.bytes").max(1024) as usize,
            compat: crate::versions::Compat::from_setting(
                &settings.string("klamm.compat.kafka.version"),
            ),
            producer_ids: ProducerIdManager::open(&data_dir)?,
            scram: ScramStore::open(&data_dir)?,
            authorizer: Authorizer::from_settings(&settings, &data_dir).map_err(|e| {
                std::io::Error::new(std::io::ErrorKind::InvalidInput, e.to_string())
            })?,
            quotas: Quotas::open(&data_dir, &settings)?,
            sasl,
            settings,
            logs,
            groups,
            txn,
            share,
            meta,
            listeners,
            shutting_down,
        })
    }

    pub fn is_shutting_down(&self) -> bool {
        *self.shutting_down.borrow()
    }
}

/// Milliseconds since the Unix epoch (Kafka timestamps).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
