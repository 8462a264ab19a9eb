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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use bytes::Bytes;
    use uuid::Uuid;

    use super::*;
    use crate::groups::records::{GroupMetadataValue, OffsetCommitValue};
    use crate::groups::shard::GroupConfig;
    use crate::log::batch::{self, ATTRIBUTES, CRC};
    use crate::log::batch_builder::{build, Producer, SimpleRecord};
    use crate::log::config::LogConfig;
    use crate::log::partition::Recovery;
    use crate::log::validator::{validate, AppendOrigin};
    use crate::settings::Settings;

    fn partition(dir: &std::path::Path) -> Partition {
        let cfg = Arc::new(LogConfig::new(&Settings::defaults(), &BTreeMap::new()));
        Partition::open(
            "__consumer_offsets".into(),
            Uuid::nil(),
            0,
            dir,
            cfg,
            Recovery::Clean,
            None,
        )
        .unwrap()
    }

    fn append(p: &Partition, records: Vec<SimpleRecord>, producer: Producer, control: bool) {
        let mut b = build(&records, 1000, producer);
        if control {
            let attrs = i16::from_be_bytes([b[ATTRIBUTES], b[ATTRIBUTES + 1]]) | 0x20;
            b[ATTRIBUTES..ATTRIBUTES + 2].copy_from_slice(&attrs.to_be_bytes());
            let crc = batch::compute_crc(&b);
            b[CRC..CRC + 4].copy_from_slice(&crc.to_be_bytes());
        }
        let cfg = p.config();
        let v = validate(
            &Bytes::from(b),
            9,
            &cfg,
            AppendOrigin::Coordinator,
            1000,
            "x",
        )
        .unwrap();
        p.append(&v, AppendOrigin::Coordinator).unwrap();
    }

    fn offset(group: &str, partition: i32, offset: i64) -> SimpleRecord {
        CoordinatorRecord::offset_commit(
            group,
            "t",
            partition,
            OffsetCommitValue {
                offset,
                leader_epoch: -1,
                metadata: String::new(),
                commit_timestamp: 1,
                expire_timestamp: -1,
            },
        )
        .encode()
    }

    #[test]
    fn replays_any_order_compaction_leaves() {
        let dir = tempfile::tempdir().unwrap();
        let p = partition(dir.path());
        let empty_consumer_group = GroupMetadataValue {
            protocol_type: "consumer".into(),
            generation: 4,
            protocol: None,
            leader: None,
            current_state_timestamp: 77,
            members: vec![],
        };
        // Offsets first, the group record after (older group records compacted away).
        append(
            &p,
            vec![offset("g", 0, 5), offset("g", 1, 6)],
            Producer::NONE,
            false,
        );
        append(
            &p,
            vec![CoordinatorRecord::group_metadata("g", empty_consumer_group).encode()],
            Producer::NONE,
            false,
        );
        // A deleted offset, a deleted group whose tombstones survived, a record type skipped.
        append(
            &p,
            vec![
                offset("g", 2, 9),
                CoordinatorRecord::offset_tombstone("g", "t", 2).encode(),
            ],
            Producer::NONE,
            false,
        );
        append(
            &p,
            vec![
                offset("gone", 0, 1),
                CoordinatorRecord::offset_tombstone("gone", "t", 0).encode(),
                CoordinatorRecord::group_tombstone("gone").encode(),
            ],
            Producer::NONE,
            false,
        );
        append(
            &p,
            vec![SimpleRecord {
                key: Some(vec![0, 10, 0, 1, b'x']),
                value: Some(vec![0, 0]),
            }],
            Producer::NONE,
            false,
        );
        // A transaction's offsets, then its commit marker; another one aborted.
        let txn = |id| Producer {
            id,
            epoch: 0,
            base_sequence: 0,
            transactional: true,
        };
        append(&p, vec![offset("g", 3, 30)], txn(7), false);
        append(&p, vec![offset("g", 4, 40)], txn(8), false);
        let marker = |kind: i16| SimpleRecord {
            key: Some([0i16.to_be_bytes(), kind.to_be_bytes()].concat()),
            value: Some(vec![0, 0, 0, 0, 0, 0]),
        };
        append(&p, vec![marker(1)], txn(7), true);
        append(&p, vec![marker(0)], txn(8), true);

        let mut st = ShardState::new(
            0,
            Arc::new(GroupConfig::from_settings(&Settings::defaults())),
        );
        let stats = load(&mut st, &p, 100).unwrap();
        assert_eq!(stats.batches, 9);
        assert_eq!(stats.skipped, 1);
        let g = st.classic("g").unwrap().0;
        assert_eq!(
            (
                g.generation_id(),
                g.protocol_type(),
                g.current_state_timestamp()
            ),
            (4, Some("consumer"), Some(77))
        );
        let got: Vec<i64> = st.fetch_offsets("g", &[("t".into(), vec![0, 1, 2, 3, 4])], false)[0]
            .1
            .iter()
            .map(|o| o.offset)
            .collect();
        assert_eq!(got, vec![5, 6, -1, 30, -1]);
        assert!(st.group("gone").is_none());
        assert!(st.offsets.group("gone").is_none());
    }
}
