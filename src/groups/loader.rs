//! Start-up replay of one `__consumer_offsets` partition into its shard (Kafka's
//! `CoordinatorLoaderImpl`): every batch from the log start to the log end, record by record, in
//! log order; a later record of a key replaces an earlier one and a tombstone removes it, so any
//! log the compactor may leave (older values gone, tombstones kept or dropped after
//! `delete.retention.ms`) rebuilds the same state. Transaction markers settle pending
//! transactional offsets. Records of types this coordinator does not know are skipped.

use tracing::{info, warn};

use crate::error::Error;
use crate::groups::records::CoordinatorRecord;
use crate::groups::shard::ShardState;
use crate::log::batch::{BatchHeader, Batches, NO_PRODUCER_ID};
use crate::log::records::{records_section, RecordIter};
use crate::log::Partition;

/// What a load read.
#[derive(Debug, Default, Clone, Copy)]
pub struct LoadStats {
    pub batches: u64,
    pub records: u64,
    pub skipped: u64,
}

/// Replays `partition` into `shard`, reading `buffer_size` bytes at a time.
pub fn load(
    shard: &mut ShardState,
    partition: &Partition,
    buffer_size: usize,
) -> Result<LoadStats, Error> {
    let mut stats = LoadStats::default();
    let mut next = partition.log_start_offset();
    let end = partition.log_end_offset();
    while next < end {
        let data = partition.read(next, buffer_size, true)?;
        let bytes = data.records.read_to_bytes()?;
        let mut progressed = false;
        for (at, h) in Batches::new(&bytes) {
            let batch = &bytes[at..at + h.size()];
            if h.last_offset() < next {
                continue;
            }
            replay_batch(shard, batch, &h, next, &mut stats);
            next = h.last_offset() + 1;
            progressed = true;
        }
        if !progressed {
            warn!(partition = %partition.name(), offset = next, "no complete batch to replay; stopping the load here");
            break;
        }
    }
    if stats.records > 0 {
        info!(partition = %partition.name(), batches = stats.batches, records = stats.records,
            groups = shard.groups.len(), "loaded group coordinator state");
    }
    Ok(stats)
}

fn replay_batch(
    shard: &mut ShardState,
    batch: &[u8],
    h: &BatchHeader<'_>,
    from: i64,
    stats: &mut LoadStats,
) {
    stats.batches += 1;
    let producer_id = if h.is_transactional() {
        h.producer_id()
    } else {
        NO_PRODUCER_ID
    };
    let section = match records_section(batch) {
        Ok(s) => s,
        Err(e) => {
            warn!(
                offset = h.base_offset(),
                "skipping an unreadable batch of __consumer_offsets: {e}"
            );
            stats.skipped += h.record_count().max(0) as u64;
            return;
        }
    };
    for r in RecordIter::new(&section, h.record_count()) {
        let r = match r {
            Ok(r) => r,
            Err(e) => {
                warn!(
                    offset = h.base_offset(),
                    "skipping the rest of a malformed batch: {e}"
                );
                stats.skipped += 1;
                return;
            }
        };
        let offset = h.base_offset() + r.offset_delta as i64;
        if offset < from {
            continue;
        }
        if h.is_control() {
            // Control record key: version int16, type int16 (0 abort, 1 commit).
            if let Some(key) = r.key.filter(|k| k.len() >= 4) {
                let kind = i16::from_be_bytes([key[2], key[3]]);
                shard
                    .offsets
                    .replay_end_transaction(h.producer_id(), kind == 1);
            }
            continue;
        }
        let Some(key) = r.key else {
            stats.skipped += 1;
            continue;
        };
        match CoordinatorRecord::decode(key, r.value) {
            Ok(Some(record)) => {
                shard.replay(offset, producer_id, &record);
                stats.records += 1;
            }
            Ok(None) => stats.skipped += 1,
            Err(e) => {
                warn!(
                    offset,
                    "skipping an undecodable record of __consumer_offsets: {e}"
                );
                stats.skipped += 1;
            }
        }
    }
}
