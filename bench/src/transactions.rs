//! Transactional producer throughput (KIP-98): the same records as the
//! idempotent `acks=all` scenarios, sent in transactions of a fixed size, each
//! `begin_transaction` .. `commit_transaction`. The difference to the
//! idempotent figure is the cost of `AddPartitionsToTxn`, `EndTxn` and the commit
//! markers per transaction.

use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer as _};

use crate::client::{enqueue, payload, unique_name, DeliveryErrors};
use crate::produce::{throughput_config, Acks};
use crate::scenario::{default_records, Env, Sample, Scenario};

/// Produce throughput in transactions of `txn_records` records.
pub struct TxnProduce {
    name: &'static str,
    payload_len: usize,
    txn_records: u64,
}

impl TxnProduce {
    pub fn new(name: &'static str, payload_len: usize, txn_records: u64) -> Self {
        Self {
            name,
            payload_len,
            txn_records,
        }
    }
}

impl Scenario for TxnProduce {
    fn name(&self) -> &'static str {
        self.name
    }

    fn description(&self) -> String {
        format!(
            "produce {} B records in transactions of {} records (transactional.id, acks=all), linger.ms=5, 1 partition, 1 producer",
            self.payload_len, self.txn_records
        )
    }

    fn run(&mut self, env: &Env<'_>) -> Result<Sample> {
        let topic = unique_name(self.name);
        env.admin.create_topic(&topic, 1)?;
        let records = env
            .settings
            .records
            .unwrap_or_else(|| default_records(self.payload_len));
        let timeout = env.settings.run_timeout;
        let mut config = throughput_config(env.bootstrap, Acks::All, timeout);
        config
            .set("transactional.id", unique_name("bench-txn"))
            // Delivery reports wake the flush below; with error-only reports it would sleep
            // out its poll interval once per transaction.
            .set("delivery.report.only.error", "false")
            // librdkafka requires message.timeout.ms (the run timeout) <= transaction.timeout.ms;
            // the broker allows up to transaction.max.timeout.ms (15 min).
            .set(
                "transaction.timeout.ms",
                timeout.as_millis().clamp(1000, 900_000).to_string(),
            );
        let producer: BaseProducer<DeliveryErrors> = config
            .create_with_context(DeliveryErrors::default())
            .context("creating transactional producer")?;
        producer
            .init_transactions(Duration::from_secs(30))
            .context("init_transactions")?;
        let value = payload(self.payload_len);
        let window = env.start_window();
        let deadline = Instant::now() + timeout;
        let mut sent = 0u64;
        while sent < records {
            producer.begin_transaction().context("begin_transaction")?;
            let n = self.txn_records.min(records - sent);
            for _ in 0..n {
                let record = BaseRecord::<(), [u8]>::to(&topic).payload(&value);
                if !enqueue(&producer, record, Some(deadline))? {
                    bail!("timed out after {timeout:?} with {sent} records committed");
                }
            }
            // A zero-timeout flush only tells librdkafka to send without lingering (its own
            // wait inside a flush or commit sleeps in 100 ms steps for an event-mode producer);
            // the delivery reports are then served here.
            let _ = producer.flush(Duration::ZERO);
            while producer.in_flight_count() > 0 {
                producer.poll(Duration::from_millis(1));
                if Instant::now() > deadline {
                    bail!("timed out after {timeout:?} flushing a transaction");
                }
            }
            producer
                .commit_transaction(deadline.saturating_duration_since(Instant::now()))
                .context("commit_transaction")?;
            sent += n;
        }
        producer.context().check()?;
        let measured = window.finish(env.probe);
        drop(producer);
        env.admin.delete_topic(&topic);
        Ok(Sample::new(
            records,
            records * self.payload_len as u64,
            measured,
        ))
    }
}
