//! Member leave: how long the partitions of a consumer that leaves its group
//! take to be consumed again by the others, with the classic protocol
//! (cooperative-sticky, JoinGroup/SyncGroup) and with KIP-848
//! (`group.protocol=consumer`, assignments computed by the broker), and
//! whether the members that stay stop consuming meanwhile.
//!
//! Each run: a 6-partition topic gets a record on every partition every 2 ms
//! from a producer thread; three consumers, one thread each, consume it. Once
//! every member consumes, one of them closes (`LeaveGroup`, or a heartbeat with
//! epoch -1). The window runs from the close until each partition it owned
//! has had a record consumed by one of the other two. The latency columns are,
//! over those partitions, the time until each was consumed again (max: all of
//! them); the progress line adds the longest pause of the members that stay,
//! while the partitions moved and, for comparison, before.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _, Result};
use rdkafka::consumer::{BaseConsumer, Consumer as _};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer as _};
use rdkafka::topic_partition_list::TopicPartitionListElem;
use rdkafka::Message as _;

use crate::client::{base_config, unique_name};
use crate::report::percentile;
use crate::scenario::{Env, LatencyMs, Sample, Scenario};

const PARTITIONS: i32 = 6;
const MEMBERS: usize = 3;
/// Heartbeat interval of the classic members; the broker the bench starts gives KIP-848
/// members the same (`group.consumer.heartbeat.interval.ms`), so both protocols learn of the
/// leave equally fast.
pub const HEARTBEAT_MS: u32 = 1000;

/// Which rebalance protocol the group uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    ClassicCooperative,
    Consumer,
}

pub struct MemberLeave {
    name: &'static str,
    protocol: Protocol,
    topic: Option<String>,
}

impl MemberLeave {
    pub fn new(name: &'static str, protocol: Protocol) -> Self {
        Self {
            name,
            protocol,
            topic: None,
        }
    }
}

/// What one member's thread saw: arrival time of every record, by partition.
#[derive(Default)]
struct Seen {
    arrivals: Vec<(Instant, i32)>,
    assignment: BTreeSet<i32>,
}

impl Scenario for MemberLeave {
    fn name(&self) -> &'static str {
        self.name
    }

    fn description(&self) -> String {
        let how = match self.protocol {
            Protocol::ClassicCooperative => "classic protocol, cooperative-sticky",
            Protocol::Consumer => "KIP-848 group.protocol=consumer, broker-side uniform assignor",
        };
        format!(
            "{MEMBERS} consumers on a {PARTITIONS}-partition topic fed every 2 ms ({how}); one \
             leaves: time until each of its partitions is consumed by another member"
        )
    }

    fn prepare(&mut self, env: &Env<'_>) -> Result<()> {
        let topic = unique_name(self.name);
        env.admin.create_topic(&topic, PARTITIONS)?;
        self.topic = Some(topic);
        Ok(())
    }

    fn run(&mut self, env: &Env<'_>) -> Result<Sample> {
        let topic = self.topic.clone().ok_or_else(|| anyhow!("not prepared"))?;
        let group = unique_name(self.name);
        let stop_all = Arc::new(AtomicBool::new(false));

        // The feed: one record per partition every 2 ms.
        let producer: BaseProducer = base_config(env.bootstrap)
            .set("linger.ms", "0")
            .create()
            .context("creating producer")?;
        let feed = {
            let stop = stop_all.clone();
            let topic = topic.clone();
            thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    for p in 0..PARTITIONS {
                        let _ = producer.send(
                            BaseRecord::<(), [u8]>::to(&topic)
                                .partition(p)
                                .payload(&[0u8; 16]),
                        );
                    }
                    producer.poll(Duration::ZERO);
                    thread::sleep(Duration::from_millis(2));
                }
                let _ = producer.flush(Duration::from_secs(5));
            })
        };

        let seen: Vec<Arc<Mutex<Seen>>> = (0..MEMBERS).map(|_| Arc::default()).collect();
        let stops: Vec<Arc<AtomicBool>> = (0..MEMBERS).map(|_| Arc::default()).collect();
        let mut threads = Vec::new();
        for i in 0..MEMBERS {
            let mut config = base_config(env.bootstrap);
            config
                .set("group.id", &group)
                .set("enable.auto.commit", "true")
                .set("auto.commit.interval.ms", "100")
                .set("auto.offset.reset", "latest")
                .set("fetch.wait.max.ms", "50");
            match self.protocol {
                Protocol::ClassicCooperative => {
                    config
                        .set("partition.assignment.strategy", "cooperative-sticky")
                        .set("heartbeat.interval.ms", HEARTBEAT_MS.to_string())
                        .set("session.timeout.ms", "10000");
                }
                Protocol::Consumer => {
                    config.set("group.protocol", "consumer");
                }
            }
            let consumer: BaseConsumer = config.create().context("creating consumer")?;
            consumer.subscribe(&[&topic]).context("subscribe")?;
            let (seen, stop, stop_all) = (seen[i].clone(), stops[i].clone(), stop_all.clone());
            threads.push(thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) && !stop_all.load(Ordering::Relaxed) {
                    let msg = consumer.poll(Duration::from_millis(10));
                    let now = Instant::now();
                    let assignment: BTreeSet<i32> = consumer
                        .assignment()
                        .map(|a| {
                            a.elements()
                                .iter()
                                .map(TopicPartitionListElem::partition)
                                .collect()
                        })
                        .unwrap_or_default();
                    let mut s = seen.lock().unwrap_or_else(PoisonError::into_inner);
                    s.assignment = assignment;
                    if let Some(Ok(m)) = msg {
                        s.arrivals.push((now, m.partition()));
                    }
                }
                // Leaves the group (LeaveGroup, or ConsumerGroupHeartbeat with epoch -1).
                drop(consumer);
            }));
        }

        let result = Self::measure(env, &seen, &stops);
        stop_all.store(true, Ordering::Relaxed);
        for t in threads {
            let _ = t.join();
        }
        let _ = feed.join();
        result
    }

    fn cleanup(&mut self, env: &Env<'_>) {
        if let Some(topic) = self.topic.take() {
            env.admin.delete_topic(&topic);
        }
    }
}

impl MemberLeave {
    fn measure(
        env: &Env<'_>,
        seen: &[Arc<Mutex<Seen>>],
        stops: &[Arc<AtomicBool>],
    ) -> Result<Sample> {
        let lock = |i: usize| seen[i].lock().unwrap_or_else(PoisonError::into_inner);
        let deadline = Instant::now() + env.settings.run_timeout;
        // Steady state: every partition assigned once, every member consuming.
        loop {
            let assigned: Vec<BTreeSet<i32>> =
                (0..MEMBERS).map(|i| lock(i).assignment.clone()).collect();
            let all: BTreeSet<i32> = assigned.iter().flatten().copied().collect();
            let total: usize = assigned.iter().map(BTreeSet::len).sum();
            let consuming = (0..MEMBERS).all(|i| {
                lock(i)
                    .arrivals
                    .last()
                    .is_some_and(|(t, _)| t.elapsed() < Duration::from_millis(100))
            });
            if all.len() == PARTITIONS as usize
                && total == all.len()
                && consuming
                && assigned.iter().all(|a| !a.is_empty())
            {
                break;
            }
            if Instant::now() > deadline {
                bail!("the group did not settle: {assigned:?}");
            }
            thread::sleep(Duration::from_millis(10));
        }
        // A second of steady consumption, the baseline for pauses, plus a jitter of up to one
        // heartbeat interval: the members' heartbeats are in step with their start, so a leave
        // at a fixed delay would always land at the same point of their heartbeat cycle.
        let steady_from = Instant::now();
        let jitter = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos() % (HEARTBEAT_MS * 1_000_000));
        thread::sleep(Duration::from_secs(1) + Duration::from_nanos(u64::from(jitter)));

        let leaver = MEMBERS - 1;
        let moved = lock(leaver).assignment.clone();
        let window = env.start_window();
        let t0 = Instant::now();
        stops[leaver].store(true, Ordering::Relaxed);
        let mut consumed_again: BTreeMap<i32, Duration> = BTreeMap::new();
        while consumed_again.len() < moved.len() {
            for i in 0..leaver {
                for (t, p) in lock(i).arrivals.iter().rev() {
                    if *t < t0 {
                        break;
                    }
                    if moved.contains(p) {
                        let d = t.duration_since(t0);
                        consumed_again
                            .entry(*p)
                            .and_modify(|e| *e = (*e).min(d))
                            .or_insert(d);
                    }
                }
            }
            if Instant::now() > deadline {
                bail!("partitions {moved:?} of the leaver were not all consumed again: {consumed_again:?}");
            }
            thread::sleep(Duration::from_millis(1));
        }
        let measured = window.finish(env.probe);
        let end = t0 + consumed_again.values().copied().max().unwrap_or_default();

        // Longest pause of the members that stay: before the leave and while partitions moved.
        let pause = |from: Instant, to: Instant| longest_pause(&seen[..leaver], from, to);
        let before = pause(steady_from, t0);
        let during = pause(t0, end.max(t0 + Duration::from_millis(1)));

        let mut micros: Vec<u64> = consumed_again
            .values()
            .map(|d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
            .collect();
        micros.sort_unstable();
        let ms = |q| percentile(&micros, q).map_or(0.0, |us| us as f64 / 1000.0);
        let mut sample = Sample::new(moved.len() as u64, 0, measured);
        sample.latency_ms = Some(LatencyMs {
            p50: ms(0.50),
            p99: ms(0.99),
            p999: ms(0.999),
            max: ms(1.0),
        });
        sample.note = Some(format!(
            "{} partitions moved; longest pause of the staying members {:.0} ms while they moved (steady: {:.0} ms)",
            moved.len(),
            during.as_secs_f64() * 1000.0,
            before.as_secs_f64() * 1000.0
        ));
        Ok(sample)
    }
}

/// The longest time any of `members` went without a record between `from` and `to`.
fn longest_pause(members: &[Arc<Mutex<Seen>>], from: Instant, to: Instant) -> Duration {
    members
        .iter()
        .map(|m| {
            let s = m.lock().unwrap_or_else(PoisonError::into_inner);
            let mut worst = Duration::ZERO;
            let mut last = from;
            for (t, _) in s.arrivals.iter().filter(|(t, _)| *t >= from && *t <= to) {
                worst = worst.max(t.duration_since(last));
                last = *t;
            }
            worst.max(to.saturating_duration_since(last))
        })
        .max()
        .unwrap_or_default()
}
