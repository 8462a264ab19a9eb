//! Appends of the broker's own records (coordinator state: `__consumer_offsets`,
//! `__share_group_state`): built as one uncompressed batch, validated as Kafka's coordinator
//! appends are (`AppendOrigin.COORDINATOR`), appended, and a rolled segment flushed in the
//! background. The caller decides from [`AppendInfo::needs_flush`] and its flush policy whether
//! to wait for an fsync before it answers.

use std::sync::Arc;

use bytes::Bytes;
use tracing::warn;

use crate::error::Result;
use crate::log::batch_builder::{self, Producer, SimpleRecord};
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
    let bytes = Bytes::from(batch_builder::build(records, now, producer));
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
