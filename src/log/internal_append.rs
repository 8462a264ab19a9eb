//! Appends of the broker's own records (coordinator state: `__consumer_offsets`,
//! `__share_group_state`; share-group dead-letter copies): built as one uncompressed batch, validated as Kafka's coordinator
//! appends are (`AppendOrigin.COORDINATOR`), appended, and a rolled segment flushed in the
//! background. The caller decides from [`AppendInfo::needs_flush`] and its flush policy whether
//! to wait for an fsync before it answers.

use std::sync::Arc;

use bytes::Bytes;
use tracing::warn;

use crate::error::Result;
use crate::log::batch_builder::{self, HeaderedRecord, Producer, SimpleRecord};
use crate::log::partition::AppendInfo;
use crate::log::validator::{self, AppendOrigin};
use crate::log::Partition;

/// Appends `records` as one batch written by `producer` at `now`.
pub fn append_records(
    partition: &Arc<Partition>,
    records: &[SimpleRecord],
    now: i64,
    producer: Producer,
) -> Result<AppendInfo> {
    append_batch(partition, batch_builder::build(records, now, producer), now)
}

/// Appends records with headers as one batch (the share-group dead-letter copies).
pub fn append_headered(
    partition: &Arc<Partition>,
    records: &[HeaderedRecord],
    now: i64,
) -> Result<AppendInfo> {
    append_batch(
        partition,
        batch_builder::build_headered(records, now, Producer::NONE),
        now,
    )
}

fn append_batch(partition: &Arc<Partition>, batch: Vec<u8>, now: i64) -> Result<AppendInfo> {
    let bytes = Bytes::from(batch);
    let config = partition.config();
    let batch = validator::validate(
        &bytes,
        i16::MAX,
        &config,
        AppendOrigin::Coordinator,
        now,
        &partition.name(),
    )?;
    let info = partition.append(&batch, AppendOrigin::Coordinator)?;
    if let Some(rolled) = info.rolled_at {
        let p = partition.clone();
        tokio::spawn(async move {
            if let Err(e) = p.flush_to(rolled).await {
                warn!(partition = %p.name(), "flush after roll failed: {e}");
            }
        });
    }
    Ok(info)
}
