//! Consumer-group scenarios: how many offset commits the group coordinator
//! acknowledges per second for one client, and how long a group of members
//! joining at once takes to be fully assigned.

use std::thread;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _, Result};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer as _};
use rdkafka::{Offset, TopicPartitionList};

use crate::client::{base_config, unique_name};
use crate::report::percentile;
use crate::scenario::{Env, LatencyMs, Sample, Scenario};

/// Default number of commits per run.
const DEFAULT_COMMITS: u64 = 200_000;

/// `OffsetCommit` throughput from one consumer: asynchronous commits of one
/// partition's offset, each its own `OffsetCommit` request, pipelined by
/// librdkafka on the coordinator connection, then one synchronous commit.
/// The broker answers a connection's requests in order, so when the
/// synchronous commit returns every earlier one has been acknowledged;
/// librdkafka reports manual async commit results only to a
/// `offset_commit_cb`, which rdkafka's event-based consumer does not set.
/// Afterwards the committed offset is read back and must be the last one.
pub struct OffsetCommits {
    topic: Option<String>,
}

impl OffsetCommits {
    pub fn new() -> Self {
        Self { topic: None }
    }
}

impl Scenario for OffsetCommits {
    fn name(&self) -> &'static str {
        "offset-commit"
    }

    fn description(&self) -> String {
        "OffsetCommit requests acknowledged per second for one librdkafka consumer \
         (simple consumer, async commits of 1 partition, closed by a sync commit)"
            .to_string()
    }

    fn prepare(&mut self, env: &Env<'_>) -> Result<()> {
        let topic = unique_name(self.name());
        env.admin.create_topic(&topic, 1)?;
        self.topic = Some(topic);
        Ok(())
    }

    fn run(&mut self, env: &Env<'_>) -> Result<Sample> {
        let topic = self.topic.clone().ok_or_else(|| anyhow!("not prepared"))?;
        let commits = env.settings.records.unwrap_or(DEFAULT_COMMITS);
        let mut config = base_config(env.bootstrap);
        config
            .set("group.id", unique_name("commits"))
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false");
        let consumer: BaseConsumer = config.create().context("creating consumer")?;
        let offsets = |offset: u64| -> Result<TopicPartitionList> {
            let mut tpl = TopicPartitionList::new();
            tpl.add_partition_offset(&topic, 0, Offset::Offset(i64::try_from(offset)?))?;
            Ok(tpl)
        };
        // Untimed: find the coordinator (and create __consumer_offsets) first.
        consumer
            .commit(&offsets(0)?, CommitMode::Sync)
            .context("first commit")?;
        let window = env.start_window();
        for i in 1..commits {
            consumer
                .commit(&offsets(i)?, CommitMode::Async)
                .context("async commit")?;
            if i % 1024 == 0 {
                consumer.poll(Duration::ZERO);
            }
        }
        consumer
            .commit(&offsets(commits)?, CommitMode::Sync)
            .context("closing sync commit")?;
        let measured = window.finish(env.probe);
        let committed = consumer
            .committed_offsets(offsets(0)?, Duration::from_secs(10))
            .context("reading the committed offset back")?;
        let got = committed.find_partition(&topic, 0).map(|p| p.offset());
        if got != Some(Offset::Offset(i64::try_from(commits)?)) {
            bail!("committed offset is {got:?} after committing {commits}");
        }
        Ok(Sample::new(commits, 0, measured))
    }

    fn cleanup(&mut self, env: &Env<'_>) {
        if let Some(topic) = self.topic.take() {
            env.admin.delete_topic(&topic);
        }
    }
}

/// Rebalance time: `members` consumers subscribe to a `members`-partition
/// topic at once; measured from the first subscribe until every member holds
/// a non-empty assignment. The latency columns give, over the members, when
/// each received the assignment it holds at that moment (max = the group is
/// stable). With the broker's default `group.initial.rebalance.delay.ms`
/// (3000) the expected figure is that delay plus a few milliseconds.
pub struct Rebalance {
    name: &'static str,
    members: usize,
    topic: Option<String>,
}

impl Rebalance {
    pub fn new(name: &'static str, members: usize) -> Self {
        Self {
            name,
            members,
            topic: None,
        }
    }
}

impl Scenario for Rebalance {
    fn name(&self) -> &'static str {
        self.name
    }

    fn description(&self) -> String {
        format!(
            "{n} librdkafka consumers subscribe at once to a {n}-partition topic (range assignor); \
             time until all {n} hold an assignment",
            n = self.members
        )
    }

    fn prepare(&mut self, env: &Env<'_>) -> Result<()> {
        let topic = unique_name(self.name);
        env.admin
            .create_topic(&topic, i32::try_from(self.members).unwrap_or(i32::MAX))?;
        self.topic = Some(topic);
        Ok(())
    }

    fn run(&mut self, env: &Env<'_>) -> Result<Sample> {
        let topic = self.topic.clone().ok_or_else(|| anyhow!("not prepared"))?;
        let group = unique_name("rebalance");
        let consumers = (0..self.members)
            .map(|_| {
                let mut config = base_config(env.bootstrap);
                config
                    .set("group.id", &group)
                    .set("enable.auto.commit", "false")
                    .set("partition.assignment.strategy", "range")
                    .set("heartbeat.interval.ms", "1000");
                config.create::<BaseConsumer>().context("creating consumer")
            })
            .collect::<Result<Vec<_>>>()?;
        for c in &consumers {
            c.client()
                .fetch_metadata(Some(&topic), Duration::from_secs(10))
                .context("consumer metadata")?;
        }
        let deadline = Instant::now() + env.settings.run_timeout;
        let window = env.start_window();
        let start = Instant::now();
        for c in &consumers {
            c.subscribe(&[&topic]).context("subscribe")?;
        }
        let mut assigned_at: Vec<Option<Duration>> = vec![None; consumers.len()];
        loop {
            for (i, c) in consumers.iter().enumerate() {
                // Polling serves the rebalance callbacks, which apply the assignment.
                if let Some(Err(e)) = c.poll(Duration::ZERO) {
                    log::debug!("consumer {i}: {e}");
                }
                let holds = c.assignment().is_ok_and(|a| a.count() > 0);
                match (holds, assigned_at[i]) {
                    (true, None) => assigned_at[i] = Some(start.elapsed()),
                    (false, Some(_)) => assigned_at[i] = None,
                    _ => {}
                }
            }
            if assigned_at.iter().all(Option::is_some) {
                break;
            }
            if Instant::now() > deadline {
                let n = assigned_at.iter().filter(|a| a.is_some()).count();
                bail!("timed out with {n} of {} members assigned", consumers.len());
            }
            thread::sleep(Duration::from_millis(1));
        }
        let measured = window.finish(env.probe);
        let mut micros: Vec<u64> = assigned_at
            .iter()
            .map(|d| d.map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX)))
            .collect();
        micros.sort_unstable();
        let ms = |q| percentile(&micros, q).map_or(0.0, |us| us as f64 / 1000.0);
        let mut sample = Sample::new(consumers.len() as u64, 0, measured);
        sample.latency_ms = Some(LatencyMs {
            p50: ms(0.50),
            p99: ms(0.99),
            p999: ms(0.999),
            max: ms(1.0),
        });
        drop(consumers);
        Ok(sample)
    }

    fn cleanup(&mut self, env: &Env<'_>) {
        if let Some(topic) = self.topic.take() {
            env.admin.delete_topic(&topic);
        }
    }
}
