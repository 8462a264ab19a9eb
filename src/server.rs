//! The accept loop, connection limits, background tasks and graceful shutdown.
//!
//! Shutdown follows mini-redis: a broadcast tells every connection to stop reading, each
//! connection task holds a clone of an mpsc sender, and the server waits until all senders are
//! dropped (every in-flight request answered) before it flushes and closes the logs.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{broadcast, mpsc, watch, Semaphore};
use tracing::{error, info, warn};

use crate::accept::{self, AcceptErrors};
use crate::broker::Broker;
use crate::connection::{self, ConnectionLimits};
use crate::groups::GroupCoordinator;
use crate::http::{self, Health, State};
use crate::log::cleaner::LogCleaner;
use crate::log::LogManager;
use crate::security::listeners;
use crate::security::tls::{self, ListenerTls};
use crate::security::{KafkaPrincipal, Listener};
use crate::settings::Settings;
use crate::transport::Stream;
use crate::txn::TransactionCoordinator;

/// How long shutdown waits for in-flight requests before closing the logs anyway.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs the broker until SIGTERM/SIGINT. Returns once the logs are flushed and closed.
pub async fn run(settings: Arc<Settings>) -> anyhow::Result<()> {
    // Listener settings are checked before anything is opened: a bad one is a start-up error.
    let specs = listeners::configured(&settings)?;
    let mut tls = Vec::with_capacity(specs.len());
    for spec in &specs {
        tls.push(match spec.protocol.uses_tls() {
            true => Some(Arc::new(ListenerTls::new(settings.clone(), &spec.name)?)),
            false => None,
        });
    }
    let started = Instant::now();
    let metrics = crate::metrics::install(&settings);
    crate::metrics::process::mark_start();
    let upkeep = metrics.spawn_upkeep();
    // /health answers 503 while the logs are recovered, so the HTTP endpoint starts first.
    let health = Arc::new(Health::new());
    let http_addr = settings.http_listen()?;
    let http_listener = http::bind(http_addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen for HTTP on {http_addr}: {e}"))?;
    let http_bound = http_listener.local_addr()?;
    // Deliberately not "listening on": tools take the first such line for the Kafka listener.
    println!("klamm http on {http_bound} (/metrics, /health)");
    info!(%http_bound, "serving /metrics and /health");
    let http_task = tokio::spawn(http::serve(http_listener, health.clone()));
    let logs = {
        let s = settings.clone();
        Arc::new(tokio::task::spawn_blocking(move || LogManager::open(s)).await??)
    };
    let groups = {
        let (l, s) = (logs.clone(), settings.clone());
        Arc::new(tokio::task::spawn_blocking(move || GroupCoordinator::load(l, &s)).await??)
    };
    let txn = {
        let (l, g, s) = (logs.clone(), groups.clone(), settings.clone());
        Arc::new(
            tokio::task::spawn_blocking(move || TransactionCoordinator::load(l, g, &s)).await??,
        )
    };
    let share = {
        let (l, s) = (logs.clone(), settings.clone());
        Arc::new(
            tokio::task::spawn_blocking(move || crate::share::ShareManager::load(l, &s)).await??,
        )
    };
    // Transactions a crash left prepared get their markers before any client is served.
    txn.complete_in_doubt().await;
    let mut bound_listeners = Vec::with_capacity(specs.len());
    for spec in &specs {
        let addr = spec
            .bind_address()
            .await
            .map_err(|e| anyhow::anyhow!("listener {}: cannot resolve its host: {e}", spec.name))?;
        let tcp = TcpListener::bind(addr)
            .await
            .map_err(|e| anyhow::anyhow!("listener {}: cannot listen on {addr}: {e}", spec.name))?;
        let bound = tcp.local_addr()?;
        bound_listeners.push((Arc::new(spec.bound(bound)), tcp));
    }
    let Some(first) = bound_listeners.first().map(|(l, _)| l.clone()) else {
        anyhow::bail!("no listener configured");
    };
    let (shutdown_tx, _) = broadcast::channel::<()>(1);
    let (stopping_tx, stopping_rx) = watch::channel(false);
    let broker = Arc::new(Broker::new(
        settings.clone(),
        logs.clone(),
        groups.clone(),
        txn.clone(),
        share,
        bound_listeners.iter().map(|(l, _)| l.clone()).collect(),
        stopping_rx,
    )?);

    let mut background = spawn_background_tasks(&broker, shutdown_tx.subscribe());
    background.extend(tls::spawn_reloader(
        tls.iter().flatten().cloned().collect(),
        Duration::from_millis(settings.i64("ssl.keystore.reload.check.interval.ms").max(0) as u64),
    ));
    background.extend(groups.spawn_timers(&shutdown_tx.subscribe()));
    background.push(txn.spawn_timeout_task(&shutdown_tx.subscribe()));
    health.set_broker(broker.clone());
    crate::metrics::get().set_group_source(broker.groups.clone());
    let cleaner = LogCleaner::start(logs.clone());
    // Healthy from the moment the ready line appears: the listener is already bound.
    health.set(State::Serving);

    // One line per listener (tests binding port 0 find each port here), then the one line
    // tests and scripts wait for, for the first listener: they take it as the Kafka address.
    for (l, _) in &bound_listeners {
        println!(
            "klamm listener {} ({}) on {} (advertised as {}:{})",
            l.name,
            l.protocol.name(),
            l.bind,
            l.advertised_host,
            l.advertised_port
        );
        info!(listener = %l.name, protocol = l.protocol.name(), bound = %l.bind,
            advertised = %format!("{}:{}", l.advertised_host, l.advertised_port), "listening");
    }
    println!(
        "klamm listening on {} (advertised as {}:{})",
        first.bind, first.advertised_host, first.advertised_port
    );
    info!(
        bound = %first.bind,
        advertised = %format!("{}:{}", first.advertised_host, first.advertised_port),
        cluster_id = %broker.meta.cluster_id,
        startup_ms = started.elapsed().as_millis() as u64,
        "serving"
    );

    let limits = ConnectionLimits {
        max_request_bytes: settings.i32("socket.request.max.bytes").max(0) as usize,
        idle_timeout: Duration::from_millis(
            settings
                .i64("connections.max.idle.ms")
                .clamp(1, i64::MAX / 2) as u64,
        ),
        queue: Arc::new(Semaphore::new(
            settings.i32("queued.max.requests").max(1) as usize
        )),
    };
    let max_connections = Arc::new(Semaphore::new(
        (settings.i32("max.connections").max(1) as usize).min(Semaphore::MAX_PERMITS),
    ));
    let per_ip_limit = settings.i32("max.connections.per.ip").max(0) as usize;
    let per_ip: PerIp = Arc::default();
    let (done_tx, mut done_rx) = mpsc::channel::<()>(1);
    let shared = Arc::new(AcceptShared {
        broker: broker.clone(),
        limits,
        max_connections,
        per_ip_limit,
        per_ip,
        shutdown: shutdown_tx.clone(),
        done: done_tx.clone(),
    });
    let acceptors: Vec<_> = bound_listeners
        .into_iter()
        .zip(tls)
        .map(|((listener, tcp), tls)| {
            tokio::spawn(accept_loop(
                listener,
                tls,
                tcp,
                shared.clone(),
                stopping_tx.subscribe(),
            ))
        })
        .collect();
    drop(shared);
    shutdown_signal().await;

    info!("shutting down: no new connections; finishing in-flight requests");
    health.set(State::ShuttingDown);
    // The accept loops stop and close their listeners.
    let _ = stopping_tx.send(true);
    for a in acceptors {
        let _ = a.await;
    }
    // Parked JoinGroup/SyncGroup requests are answered now, so draining does not wait for them.
    groups.shutdown();
    let _ = shutdown_tx.send(());
    drop(done_tx);
    if tokio::time::timeout(DRAIN_TIMEOUT, done_rx.recv())
        .await
        .is_err()
    {
        warn!("in-flight requests did not finish within {DRAIN_TIMEOUT:?}");
    }
    for task in background {
        task.abort();
    }
    // The cleaner abandons a cleaning in progress (its `.cleaned` files go) and stops.
    tokio::task::spawn_blocking(move || cleaner.shutdown()).await?;
    let closing = logs.clone();
    tokio::task::spawn_blocking(move || closing.shutdown()).await??;
    http_task.abort();
    if let Some(u) = upkeep {
        u.abort();
    }
    info!("shutdown complete");
    Ok(())
}

/// What every listener's accept loop shares: one connection limit, one per-IP count, one
/// shutdown (Kafka's `ConnectionQuotas` span all listeners).
struct AcceptShared {
    broker: Arc<Broker>,
    limits: ConnectionLimits,
    max_connections: Arc<Semaphore>,
    per_ip_limit: usize,
    per_ip: PerIp,
    shutdown: broadcast::Sender<()>,
    done: mpsc::Sender<()>,
}

/// Accepts connections on one listener until `stopping` turns true.
async fn accept_loop(
    listener: Arc<Listener>,
    tls: Option<Arc<ListenerTls>>,
    tcp: TcpListener,
    shared: Arc<AcceptShared>,
    mut stopping: watch::Receiver<bool>,
) {
    let mut accept_errors = AcceptErrors::new("kafka");
    let stop = async move {
        let _ = stopping.wait_for(|s| *s).await;
    };
    tokio::pin!(stop);
    loop {
        let permit = tokio::select! {
            _ = &mut stop => break,
            p = shared.max_connections.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let (stream, peer) = tokio::select! {
            _ = &mut stop => break,
            r = tcp.accept() => match r {
                Ok(x) => {
                    accept_errors.succeeded();
                    x
                }
                Err(e) => {
                    crate::metrics::get().topics.connection_refused(accept::reason(&e));
                    let pause = accept_errors.failed(&e, Instant::now());
                    drop(permit);
                    tokio::select! {
                        _ = &mut stop => break,
                        _ = tokio::time::sleep(pause) => continue,
                    }
                }
            },
        };
        let Some(ip_slot) = IpSlot::admit(&shared.per_ip, peer.ip(), shared.per_ip_limit) else {
            crate::metrics::get()
                .topics
                .connection_refused("max_connections_per_ip");
            warn!(%peer, listener = %listener.name, "closing connection: max.connections.per.ip reached");
            drop(stream);
            continue;
        };
        let task = ConnTask {
            broker: shared.broker.clone(),
            listener: listener.clone(),
            tls: tls.clone(),
            limits: shared.limits.clone(),
            shutdown: shared.shutdown.subscribe(),
            ip_slot,
            done: shared.done.clone(),
        };
        tokio::spawn(async move {
            task.run(stream, peer).await;
            drop(permit);
        });
    }
}

/// Everything one connection task owns. Its per-connection resources (the per-IP slot, the
/// active-connections gauge, the shutdown sender) are released by `Drop`, so a panic that
/// unwinds the task releases them too.
struct ConnTask {
    broker: Arc<Broker>,
    listener: Arc<Listener>,
    /// The listener's TLS, for SSL and SASL_SSL listeners.
    tls: Option<Arc<ListenerTls>>,
    limits: ConnectionLimits,
    shutdown: broadcast::Receiver<()>,
    ip_slot: IpSlot,
    /// Dropped when the connection ends; shutdown waits for every clone to go.
    done: mpsc::Sender<()>,
}

impl ConnTask {
    async fn run(self, stream: TcpStream, peer: SocketAddr) {
        tracing::debug!(%peer, "connection opened");
        let _open = OpenConnection::new();
        let ConnTask {
            broker,
            listener,
            tls,
            limits,
            shutdown,
            ip_slot,
            done,
        } = self;
        let (stream, principal) = match tls {
            None => (Stream::Plain(stream), KafkaPrincipal::anonymous()),
            Some(tls) => match tls.accept(stream).await {
                Ok((s, principal)) => {
                    tracing::debug!(%peer, listener = %listener.name, %principal, "TLS handshake done");
                    (Stream::Tls(Box::new(s)), principal)
                }
                Err(e) => {
                    metrics::counter!(tls::HANDSHAKE_FAILURES,
                        "listener" => listener.name.clone(), "reason" => e.reason())
                    .increment(1);
                    warn!(%peer, listener = %listener.name, reason = e.reason(),
                        "closing connection: {e}");
                    return;
                }
            },
        };
        connection::serve(stream, peer, broker, listener, principal, limits, shutdown).await;
        drop(ip_slot);
        drop(done);
    }
}

/// Counts a connection in `klamm_connections_active` for as long as it lives.
struct OpenConnection;

impl OpenConnection {
    fn new() -> OpenConnection {
        crate::metrics::get().topics.connection_opened();
        OpenConnection
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        crate::metrics::get().topics.connection_closed();
    }
}

type PerIp = Arc<Mutex<HashMap<IpAddr, usize>>>;

/// One connection's place in the `max.connections.per.ip` count (Kafka's
/// `ConnectionQuotas.inc`/`dec`); dropping it gives the place back, however the connection ends.
struct IpSlot {
    per_ip: PerIp,
    ip: IpAddr,
}

impl IpSlot {
    /// Takes a slot for `ip`, or `None` if it already has `limit` connections.
    fn admit(per_ip: &PerIp, ip: IpAddr, limit: usize) -> Option<IpSlot> {
        // The map holds plain counters updated in one step, so a poisoned lock still holds
        // consistent state.
        let mut m = per_ip.lock().unwrap_or_else(|e| e.into_inner());
        let n = m.entry(ip).or_insert(0);
        if *n >= limit {
            if *n == 0 {
                m.remove(&ip);
            }
            return None;
        }
        *n += 1;
        Some(IpSlot {
            per_ip: per_ip.clone(),
            ip,
        })
    }
}

impl Drop for IpSlot {
    fn drop(&mut self) {
        let mut m = self.per_ip.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = m.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                m.remove(&self.ip);
            }
        }
    }
}

/// Periodic work, each an owned task: the flusher (`flush.ms` via
/// `log.flush.scheduler.interval.ms`), the recovery-point and log-start-offset checkpointers,
/// and retention (`log.retention.check.interval.ms`, Kafka's `LogManager.cleanupLogs`).
fn spawn_background_tasks(
    broker: &Arc<Broker>,
    shutdown: broadcast::Receiver<()>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let mut tasks = Vec::new();
    let s = &broker.settings;
    let flush_every = s.i64("log.flush.scheduler.interval.ms");
    if flush_every > 0 && flush_every < i64::MAX {
        let logs = broker.logs.clone();
        let mut shutdown = shutdown.resubscribe();
        tasks.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(flush_every as u64));
            let mut last_flush: HashMap<(String, i32), Instant> = HashMap::new();
            loop {
                tokio::select! {
                    _ = shutdown.recv() => break,
                    _ = tick.tick() => {}
                }
                for p in logs.all_partitions() {
                    let key = (p.topic.to_string(), p.index);
                    let last = *last_flush.entry(key.clone()).or_insert_with(Instant::now);
                    if p.flush_due(last) {
                        let end = p.log_end_offset();
                        if let Err(e) = p.flush_to(end).await {
                            error!(partition = %p.name(), "scheduled flush failed: {e}");
                        }
                        last_flush.insert(key, Instant::now());
                    }
                }
            }
        }));
    }
    // KIP-932: `__share_group_state` records that later snapshots made redundant go every
    // `share.coordinator.state.topic.prune.interval.ms`, off the runtime threads.
    let prune_every = s
        .i64("share.coordinator.state.topic.prune.interval.ms")
        .max(1);
    {
        let share = broker.share.clone();
        let mut shutdown = shutdown.resubscribe();
        tasks.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(prune_every as u64));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tokio::select! {
                    _ = shutdown.recv() => break,
                    _ = tick.tick() => {}
                }
                let share = share.clone();
                let _ = tokio::task::spawn_blocking(move || share.prune_state()).await;
            }
        }));
    }
    let retention_every = s.i64("log.retention.check.interval.ms").max(1);
    {
        let logs = broker.logs.clone();
        let mut shutdown = shutdown.resubscribe();
        tasks.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(retention_every as u64));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tokio::select! {
                    _ = shutdown.recv() => break,
                    _ = tick.tick() => {}
                }
                let l = logs.clone();
                let deleted =
                    tokio::task::spawn_blocking(move || l.retention_pass(crate::broker::now_ms()))
                        .await
                        .unwrap_or(0);
                if deleted > 0 {
                    metrics::counter!("klamm_log_segments_deleted_total").increment(deleted as u64);
                }
            }
        }));
    }
    let checkpoint_every = s.i64("log.flush.offset.checkpoint.interval.ms");
    if checkpoint_every > 0 {
        let logs = broker.logs.clone();
        let mut shutdown = shutdown.resubscribe();
        tasks.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(checkpoint_every as u64));
            tick.tick().await;
            loop {
                tokio::select! {
                    _ = shutdown.recv() => break,
                    _ = tick.tick() => {}
                }
                let l = logs.clone();
                if let Ok(Err(e)) = tokio::task::spawn_blocking(move || l.write_checkpoints()).await
                {
                    error!("writing offset checkpoints failed: {e}");
                }
            }
        }));
    }
    tasks
}

/// Resolves on SIGTERM or SIGINT.
async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            error!("cannot listen for SIGTERM: {e}");
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = term.recv() => info!("received SIGTERM"),
        _ = tokio::signal::ctrl_c() => info!("received SIGINT"),
    }
}

#[cfg(test)]
mod tests {
    use std::panic::AssertUnwindSafe;

    use super::*;

    #[test]
    fn ip_slots_are_released_when_dropped_even_by_a_panic() {
        let per_ip: PerIp = Arc::default();
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let first = IpSlot::admit(&per_ip, ip, 2).unwrap();
        let second = IpSlot::admit(&per_ip, ip, 2).unwrap();
        assert!(
            IpSlot::admit(&per_ip, ip, 2).is_none(),
            "limit of 2 reached"
        );
        assert_eq!(per_ip.lock().unwrap().get(&ip), Some(&2));
        // A connection task that panics unwinds through its slot.
        let unwound = std::panic::catch_unwind(AssertUnwindSafe(move || {
            let _slot = second;
            panic!("handler bug");
        }));
        assert!(unwound.is_err());
        assert_eq!(per_ip.lock().unwrap().get(&ip), Some(&1));
        let third = IpSlot::admit(&per_ip, ip, 2).expect("the panicked slot is free again");
        drop(first);
        drop(third);
        assert!(per_ip.lock().unwrap().is_empty(), "no entry left for {ip}");
    }

    #[test]
    fn a_zero_limit_admits_nobody_and_leaves_no_entry() {
        let per_ip: PerIp = Arc::default();
        let ip: IpAddr = "::1".parse().unwrap();
        assert!(IpSlot::admit(&per_ip, ip, 0).is_none());
        assert!(per_ip.lock().unwrap().is_empty());
    }
}
