//! Transactions at the partition level: last stable offset, markers, the aborted-transaction
//! index and read_committed reads, across a restart.

use super::*;
use crate::log::batch::Batches;
use crate::log::batch_builder::{self, Producer, SimpleRecord};
use crate::log::validator;
use crate::settings::Settings;
use bytes::Bytes;

fn cfg() -> Arc<LogConfig> {
    Arc::new(LogConfig::new(&Settings::defaults(), &BTreeMap::new()))
}

fn open(dir: &Path, recovery: Recovery) -> Partition {
    Partition::open("t".into(), Uuid::nil(), 0, dir, cfg(), recovery, None).unwrap()
}

fn txn_batch(pid: i64, seq: i32, n: usize) -> ValidBatch {
    let recs: Vec<SimpleRecord> = (0..n)
        .map(|i| SimpleRecord {
            key: None,
            value: Some(format!("v{i}").into_bytes()),
        })
        .collect();
    let b = Bytes::from(batch_builder::build(
        &recs,
        1000,
        Producer {
            id: pid,
            epoch: 0,
            base_sequence: seq,
            transactional: true,
        },
    ));
    validator::validate(&b, 9, &cfg(), AppendOrigin::Client, 1000, "t-0").unwrap()
}

fn read_committed_len(p: &Partition, offset: i64) -> usize {
    p.read_isolated(offset, 1 << 20, true, true)
        .unwrap()
        .records
        .len
}

#[test]
fn lso_markers_and_aborted_index_survive_restart() {
    let dir = tempfile::tempdir().unwrap();
    let p = open(dir.path(), Recovery::Clean);
    p.append(&txn_batch(7, 0, 2), AppendOrigin::Client).unwrap(); // 0-1
    p.append(&txn_batch(8, 0, 3), AppendOrigin::Client).unwrap(); // 2-4
    assert_eq!(p.last_stable_offset(), 0);
    assert_eq!(p.high_watermark(), 5);
    assert_eq!(read_committed_len(&p, 0), 0, "nothing is decided yet");
    assert!(p.read(0, 1 << 20, true).unwrap().records.len > 0);

    // Commit 7: the LSO moves to 8's first offset.
    let c = p.append_txn_marker(7, 0, 0, true, 2000).unwrap();
    assert_eq!(c.base_offset, 5);
    assert_eq!(p.last_stable_offset(), 2);
    let d = p
        .read_isolated(0, 1 << 20, true, true)
        .unwrap()
        .records
        .read_to_bytes()
        .unwrap();
    assert_eq!(Batches::new(&d).count(), 1, "only the batch below the LSO");

    // A marker from an older epoch is refused.
    p.append(&txn_batch(9, 0, 1), AppendOrigin::Client).unwrap(); // 6
    assert_eq!(
        p.append_txn_marker(8, -1, 0, false, 2000)
            .unwrap_err()
            .code(),
        47
    );
    // Abort 8: indexed, LSO moves to 9's first offset.
    let a = p.append_txn_marker(8, 0, 0, false, 2000).unwrap();
    assert_eq!(a.base_offset, 7);
    assert_eq!(p.last_stable_offset(), 6);
    let aborted = p.aborted_transactions(0, 100);
    assert_eq!(aborted.len(), 1);
    assert_eq!(
        (
            aborted[0].producer_id,
            aborted[0].first_offset,
            aborted[0].last_offset
        ),
        (8, 2, 7)
    );
    assert!(p.aborted_transactions(8, 100).is_empty());
    assert!(p.aborted_transactions(0, 2).is_empty());
    assert_eq!(p.ongoing_transactions(), vec![(6, 9)]);

    // Crash (no clean close) and recover: the open transaction and the index come back.
    drop(p);
    let p = open(dir.path(), Recovery::From(0));
    assert_eq!(p.last_stable_offset(), 6);
    assert_eq!(p.aborted_transactions(0, 100).len(), 1);
    assert_eq!(p.ongoing_transactions(), vec![(6, 9)]);
    p.append_txn_marker(9, 0, 0, true, 3000).unwrap();
    assert_eq!(p.last_stable_offset(), 9);

    // Without the index file, the restart rebuilds the entry from the marker.
    p.close().unwrap();
    let pdir = p.dir().to_path_buf();
    drop(p);
    std::fs::remove_file(txn_index::path(&pdir, 0)).unwrap();
    for (_, snap) in producer_state::list_snapshots(&pdir) {
        std::fs::remove_file(snap).unwrap();
    }
    let p = open(dir.path(), Recovery::Clean);
    assert_eq!(p.aborted_transactions(0, 100).len(), 1);
    assert_eq!(p.last_stable_offset(), p.high_watermark());
    assert!(p.ongoing_transactions().is_empty());
}

/// A marker's coordinator epoch becomes the producer's (`appendEndTxnMarker`), an older one is
/// TRANSACTION_COORDINATOR_FENCED (`checkCoordinatorEpoch`), and both hold after a crash that
/// leaves no producer snapshot: recovery reads the epoch back from the marker in the log.
#[test]
fn marker_coordinator_epoch_is_kept_and_fences_across_recovery() {
    let dir = tempfile::tempdir().unwrap();
    let p = open(dir.path(), Recovery::Clean);
    let coordinator_epoch =
        |p: &Partition| p.with_producers(|ps| ps.get(7).map(|e| e.coordinator_epoch));
    p.append(&txn_batch(7, 0, 2), AppendOrigin::Client).unwrap();
    assert_eq!(coordinator_epoch(&p), Some(-1));
    p.append_txn_marker(7, 0, 3, false, 2000).unwrap();
    assert_eq!(coordinator_epoch(&p), Some(3));
    assert_eq!(
        p.append_txn_marker(7, 0, 2, false, 2000)
            .unwrap_err()
            .code(),
        52
    );

    let pdir = p.dir().to_path_buf();
    drop(p);
    for (_, snap) in producer_state::list_snapshots(&pdir) {
        std::fs::remove_file(snap).unwrap();
    }
    let p = open(dir.path(), Recovery::From(0));
    assert_eq!(coordinator_epoch(&p), Some(3));
    assert_eq!(
        p.append_txn_marker(7, 0, 2, false, 2000)
            .unwrap_err()
            .code(),
        52
    );
    p.append_txn_marker(7, 0, 3, true, 2000).unwrap();
}
