//! Idempotent-producer state per partition (Kafka's `ProducerStateManager`).
//!
//! For each producer id the partition remembers its epoch and the metadata of its last five
//! batches, so a retried batch gets its original offsets back and a gap in sequence numbers is
//! refused with OUT_OF_ORDER_SEQUENCE_NUMBER. The state is checkpointed in Kafka's `.snapshot`
//! format (ProducerSnapshot v1) and rebuilt at start-up from the newest snapshot plus the batch
//! headers after it.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::log::batch::{self, BatchHeader};
use crate::log::segment::{file_name, offset_from_file_name};

/// `ProducerStateEntry.NUM_BATCHES_TO_RETAIN`
pub const NUM_BATCHES_TO_RETAIN: usize = 5;

/// `RecordBatch.NO_PRODUCER_EPOCH`
const NO_PRODUCER_EPOCH: i16 = -1;

/// Metadata of one appended batch (`BatchMetadata`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchMetadata {
    pub first_seq: i32,
    pub last_seq: i32,
    pub first_offset: i64,
    pub last_offset: i64,
    pub timestamp: i64,
}

/// One producer's state (`ProducerStateEntry`).
#[derive(Clone, Debug)]
pub struct ProducerEntry {
    pub epoch: i16,
    pub batches: VecDeque<BatchMetadata>,
    pub last_timestamp: i64,
    pub coordinator_epoch: i32,
    /// First offset of the producer's open transaction, if one is open.
    pub current_txn_first_offset: Option<i64>,
}

impl ProducerEntry {
    fn last_seq(&self) -> i32 {
        self.batches
            .back()
            .map(|b| b.last_seq)
            .unwrap_or(batch::NO_SEQUENCE)
    }
}

/// The outcome of checking a batch against the producer state.
#[derive(Debug, PartialEq, Eq)]
pub enum SequenceCheck {
    /// Not an idempotent batch, or next in sequence: append it.
    Append,
    /// A retry of a batch already in the log: answer with its original offsets.
    Duplicate(BatchMetadata),
}

/// All producers of one partition.
#[derive(Default, Debug)]
pub struct ProducerStateManager {
    producers: HashMap<i64, ProducerEntry>,
    /// Open transactions by first offset (Kafka's `ongoingTxns`): the smallest key is the
    /// first unstable offset, which bounds the last stable offset.
    ongoing: BTreeMap<i64, i64>,
}

impl ProducerStateManager {
    pub fn new() -> ProducerStateManager {
        ProducerStateManager::default()
    }

    pub fn get(&self, producer_id: i64) -> Option<&ProducerEntry> {
        self.producers.get(&producer_id)
    }

    pub fn len(&self) -> usize {
        self.producers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.producers.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&i64, &ProducerEntry)> {
        self.producers.iter()
    }

    /// The first offset of the oldest open transaction (`firstUnstableOffset`).
    pub fn first_unstable_offset(&self) -> Option<i64> {
        self.ongoing.keys().next().copied()
    }

    /// Open transactions as `(first offset, producer id)`, oldest first.
    pub fn ongoing_transactions(&self) -> impl Iterator<Item = (i64, i64)> + '_ {
        self.ongoing.iter().map(|(o, p)| (*o, *p))
    }

    /// Checks a transaction marker's epoch (`ProducerAppendInfo.appendEndTxnMarker`): a marker
    /// from an older epoch than the producer's is refused with INVALID_PRODUCER_EPOCH.
    pub fn check_marker(&self, producer_id: i64, epoch: i16) -> Result<(), Error> {
        match self.producers.get(&producer_id) {
            Some(e) if epoch < e.epoch => Err(Error::InvalidProducerEpoch(format!(
                "Epoch of transaction marker for producer {producer_id} is {epoch}, which is smaller than the last seen epoch {}",
                e.epoch
            ))),
            _ => Ok(()),
        }
    }

    /// Checks a marker's coordinator epoch (`ProducerAppendInfo.checkCoordinatorEpoch`): a
    /// marker from a coordinator epoch older than the last marker's is refused with
    /// TRANSACTION_COORDINATOR_FENCED (a zombie coordinator, or an admin abort with a stale
    /// epoch).
    pub fn check_coordinator_epoch(
        &self,
        producer_id: i64,
        coordinator_epoch: i32,
    ) -> Result<(), Error> {
        match self.producers.get(&producer_id) {
            Some(e) if e.coordinator_epoch > coordinator_epoch => {
                Err(Error::TransactionCoordinatorFenced(format!(
                    "Invalid coordinator epoch for producerId {producer_id}: {coordinator_epoch} (zombie), {} (current)",
                    e.coordinator_epoch
                )))
            }
            _ => Ok(()),
        }
    }

    /// Records the coordinator epoch of a marker just appended (`appendEndTxnMarker` sets the
    /// entry's `coordinatorEpoch`; DescribeProducers reports it).
    pub fn set_coordinator_epoch(&mut self, producer_id: i64, coordinator_epoch: i32) {
        if let Some(e) = self.producers.get_mut(&producer_id) {
            e.coordinator_epoch = coordinator_epoch;
        }
    }

    /// Checks a client batch before it is appended (Kafka's duplicate check in
    /// `UnifiedLog.analyzeAndValidateProducerState`, then `ProducerAppendInfo.checkProducerEpoch`
    /// and `checkSequence`).
    pub fn check(&self, h: &BatchHeader<'_>) -> Result<SequenceCheck, Error> {
        if !h.has_producer_id() {
            return Ok(SequenceCheck::Append);
        }
        let pid = h.producer_id();
        let epoch = h.producer_epoch();
        let first_seq = h.base_sequence();
        let Some(entry) = self.producers.get(&pid) else {
            // Unknown producer (new, or its state was removed by retention): any sequence is
            // accepted, as Kafka does since KIP-360.
            return Ok(SequenceCheck::Append);
        };
        if epoch == entry.epoch {
            let last_seq = h.last_sequence();
            if let Some(dup) = entry
                .batches
                .iter()
                .find(|b| b.first_seq == first_seq && b.last_seq == last_seq)
            {
                return Ok(SequenceCheck::Duplicate(*dup));
            }
        }
        if epoch < entry.epoch {
            return Err(Error::InvalidProducerEpoch(format!(
                "Epoch of producer {pid} at offset {} is {epoch}, which is smaller than the last seen epoch {}",
                h.base_offset(),
                entry.epoch
            )));
        }
        if epoch > entry.epoch {
            if first_seq != 0 && entry.epoch != NO_PRODUCER_EPOCH {
                return Err(Error::OutOfOrderSequence(format!(
                    "Invalid sequence number for new epoch of producer {pid}: {epoch} (request epoch), {first_seq} (seq. number), {} (current producer epoch)",
                    entry.epoch
                )));
            }
            return Ok(SequenceCheck::Append);
        }
        let last = entry.last_seq();
        if last != batch::NO_SEQUENCE && !in_sequence(last, first_seq) {
            return Err(Error::OutOfOrderSequence(format!(
                "Out of order sequence number for producer {pid}: {first_seq} (incoming seq. number), {last} (current end sequence number)"
            )));
        }
        Ok(SequenceCheck::Append)
    }

    /// Records a batch that is now in the log at `[first_offset, last_offset]`. For a control
    /// batch (a transaction marker) returns the first offset of the transaction it ended, if
    /// the producer had one open in this partition.
    pub fn update(
        &mut self,
        h: &BatchHeader<'_>,
        first_offset: i64,
        last_offset: i64,
    ) -> Option<i64> {
        if !h.has_producer_id() {
            return None;
        }
        let entry = self
            .producers
            .entry(h.producer_id())
            .or_insert_with(|| ProducerEntry {
                epoch: h.producer_epoch(),
                batches: VecDeque::new(),
                last_timestamp: h.max_timestamp(),
                coordinator_epoch: -1,
                current_txn_first_offset: None,
            });
        if h.producer_epoch() != entry.epoch {
            entry.epoch = h.producer_epoch();
            entry.batches.clear();
        }
        entry.last_timestamp = h.max_timestamp();
        if h.base_sequence() != batch::NO_SEQUENCE && !h.is_control() {
            if entry.batches.len() == NUM_BATCHES_TO_RETAIN {
                entry.batches.pop_front();
            }
            entry.batches.push_back(BatchMetadata {
                first_seq: h.base_sequence(),
                last_seq: h.last_sequence(),
                first_offset,
                last_offset,
                timestamp: h.max_timestamp(),
            });
        }
        if h.is_transactional() && !h.is_control() && entry.current_txn_first_offset.is_none() {
            entry.current_txn_first_offset = Some(first_offset);
            self.ongoing.insert(first_offset, h.producer_id());
        }
        if h.is_control() {
            let ended = entry.current_txn_first_offset.take();
            if let Some(first) = ended {
                self.ongoing.remove(&first);
            }
            return ended;
        }
        None
    }

    /// Rebuild hook: a batch read back from the log during recovery.
    pub fn replay(&mut self, h: &BatchHeader<'_>) -> Option<i64> {
        self.update(h, h.base_offset(), h.last_offset())
    }

    /// Forgets producers idle for longer than `producer.id.expiration.ms`.
    pub fn remove_expired(&mut self, now_ms: i64, expiration_ms: i64) {
        self.producers.retain(|_, e| {
            e.current_txn_first_offset.is_some() || now_ms - e.last_timestamp < expiration_ms
        });
    }

    /// Writes `<offset>.snapshot` in Kafka's ProducerSnapshot v1 format; fsyncs it when `sync`.
    ///
    /// A segment roll passes `sync = false`, as Kafka's `UnifiedLog.roll` calls
    /// `ProducerStateManager.takeSnapshot(sync = false)`: the roll runs under the partition
    /// lock, and the fsync is left to the rolled segment's flush ([`sync_snapshots`]), which
    /// runs before the recovery point passes the snapshot's offset (Kafka's
    /// `flushProducerStateSnapshot`). A torn unsynced snapshot fails its CRC at start-up and
    /// the older one is used, so it costs replay, never correctness.
    pub fn write_snapshot(&self, dir: &Path, offset: i64, sync: bool) -> io::Result<PathBuf> {
        let mut buf = Vec::with_capacity(10 + self.producers.len() * 46);
        buf.extend_from_slice(&1i16.to_be_bytes());
        buf.extend_from_slice(&0u32.to_be_bytes());
        buf.extend_from_slice(&(self.producers.len() as i32).to_be_bytes());
        let mut ids: Vec<&i64> = self.producers.keys().collect();
        ids.sort();
        for pid in ids {
            let e = &self.producers[pid];
            let last = e.batches.back();
            buf.extend_from_slice(&pid.to_be_bytes());
            buf.extend_from_slice(&e.epoch.to_be_bytes());
            buf.extend_from_slice(&last.map(|b| b.last_seq).unwrap_or(-1).to_be_bytes());
            buf.extend_from_slice(&last.map(|b| b.last_offset).unwrap_or(-1).to_be_bytes());
            let delta = last
                .map(|b| (b.last_offset - b.first_offset) as i32)
                .unwrap_or(0);
            buf.extend_from_slice(&delta.to_be_bytes());
            buf.extend_from_slice(&e.last_timestamp.to_be_bytes());
            buf.extend_from_slice(&e.coordinator_epoch.to_be_bytes());
            buf.extend_from_slice(&e.current_txn_first_offset.unwrap_or(-1).to_be_bytes());
        }
        let crc = crc32c::crc32c(&buf[6..]);
        buf[2..6].copy_from_slice(&crc.to_be_bytes());
        let path = dir.join(file_name(offset, ".snapshot"));
        let tmp = dir.join(file_name(offset, ".snapshot.tmp"));
        {
            use std::io::Write;
            let mut f = fs::File::create(&tmp)?;
            f.write_all(&buf)?;
            if sync {
                f.sync_all()?;
            }
        }
        fs::rename(&tmp, &path)?;
        Ok(path)
    }

    /// Reads a snapshot file; `None` if it is corrupt (the caller falls back to an older one).
    pub fn read_snapshot(path: &Path) -> Option<ProducerStateManager> {
        let buf = fs::read(path).ok()?;
        if buf.len() < 10 || i16::from_be_bytes([buf[0], buf[1]]) != 1 {
            return None;
        }
        let crc = u32::from_be_bytes([buf[2], buf[3], buf[4], buf[5]]);
        if crc != crc32c::crc32c(&buf[6..]) {
            return None;
        }
        let count = i32::from_be_bytes([buf[6], buf[7], buf[8], buf[9]]);
        let mut pos = 10usize;
        let mut producers = HashMap::new();
        for _ in 0..count.max(0) {
            let e = buf.get(pos..pos + 46)?;
            let i64_at = |at: usize| {
                let mut a = [0u8; 8];
                a.copy_from_slice(&e[at..at + 8]);
                i64::from_be_bytes(a)
            };
            let i32_at = |at: usize| i32::from_be_bytes([e[at], e[at + 1], e[at + 2], e[at + 3]]);
            let pid = i64_at(0);
            let epoch = i16::from_be_bytes([e[8], e[9]]);
            let last_seq = i32_at(10);
            let last_offset = i64_at(14);
            let delta = i32_at(22);
            let timestamp = i64_at(26);
            let coordinator_epoch = i32_at(34);
            let txn_first = i64_at(38);
            let mut batches = VecDeque::new();
            if last_offset >= 0 {
                batches.push_back(BatchMetadata {
                    first_seq: decrement_sequence(last_seq, delta),
                    last_seq,
                    first_offset: last_offset - delta as i64,
                    last_offset,
                    timestamp,
                });
            }
            producers.insert(
                pid,
                ProducerEntry {
                    epoch,
                    batches,
                    last_timestamp: timestamp,
                    coordinator_epoch,
                    current_txn_first_offset: (txn_first >= 0).then_some(txn_first),
                },
            );
            pos += 46;
        }
        let ongoing = producers
            .iter()
            .filter_map(|(pid, e)| e.current_txn_first_offset.map(|o| (o, *pid)))
            .collect();
        Some(ProducerStateManager { producers, ongoing })
    }

    /// The newest readable snapshot at or below `max_offset`, as `(offset, state)`.
    pub fn load_latest(dir: &Path, max_offset: i64) -> Option<(i64, ProducerStateManager)> {
        let mut snapshots = list_snapshots(dir);
        snapshots.sort_by_key(|(o, _)| std::cmp::Reverse(*o));
        snapshots
            .into_iter()
            .filter(|(o, _)| *o <= max_offset)
            .find_map(|(o, p)| Self::read_snapshot(&p).map(|s| (o, s)))
    }
}

/// Snapshot files in a partition directory: `(offset, path)`.
pub fn list_snapshots(dir: &Path) -> Vec<(i64, PathBuf)> {
    let Ok(rd) = fs::read_dir(dir) else {
        return Vec::new();
    };
    rd.filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            if !name.ends_with(".snapshot") {
                return None;
            }
            offset_from_file_name(&name).map(|o| (o, e.path()))
        })
        .collect()
}

/// fsyncs the snapshots at `offsets` (the base offsets of segments rolled since the last
/// flush, where a roll wrote them unsynced): the blocking half of Kafka's
/// `flushProducerStateSnapshot`. A missing one (never written, or already removed by
/// [`clean_snapshots`]) is skipped; the caller fsyncs the directory for the renames.
pub fn sync_snapshots(dir: &Path, offsets: &[i64]) -> io::Result<()> {
    for &offset in offsets {
        match fs::File::open(dir.join(file_name(offset, ".snapshot"))) {
            Ok(f) => f.sync_all()?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Deletes snapshots other than the newest `keep` ones and any above `max_offset`.
pub fn clean_snapshots(dir: &Path, max_offset: i64, keep: usize) {
    let mut snaps = list_snapshots(dir);
    snaps.sort_by_key(|(o, _)| std::cmp::Reverse(*o));
    let mut kept = 0;
    for (o, p) in snaps {
        if o > max_offset || kept >= keep {
            let _ = fs::remove_file(p);
        } else {
            kept += 1;
        }
    }
}

/// The sequence `delta` before `sequence`, wrapping below 0 to `i32::MAX` like Kafka's
/// sequence numbers.
fn decrement_sequence(sequence: i32, delta: i32) -> i32 {
    let first = sequence as i64 - delta as i64;
    if first < 0 {
        (first + i32::MAX as i64 + 1) as i32
    } else {
        first as i32
    }
}

/// `ProducerStateEntry`'s `inSequence`.
fn in_sequence(last_seq: i32, next_seq: i32) -> bool {
    next_seq == last_seq.wrapping_add(1) || (next_seq == 0 && last_seq == i32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::batch::test_support::batch;

    fn hdr(b: &[u8]) -> BatchHeader<'_> {
        BatchHeader::new(b).unwrap()
    }

    #[test]
    fn duplicates_gaps_and_epochs() {
        let mut s = ProducerStateManager::new();
        let b0 = batch(&[b"a", b"b"], 1, 9, 0, 0);
        assert_eq!(s.check(&hdr(&b0)).unwrap(), SequenceCheck::Append);
        s.update(&hdr(&b0), 100, 101);
        // Retry of the same batch: duplicate with original offsets.
        match s.check(&hdr(&b0)).unwrap() {
            SequenceCheck::Duplicate(m) => assert_eq!((m.first_offset, m.last_offset), (100, 101)),
            other => panic!("{other:?}"),
        }
        // Next in sequence.
        let b1 = batch(&[b"c"], 2, 9, 0, 2);
        assert_eq!(s.check(&hdr(&b1)).unwrap(), SequenceCheck::Append);
        s.update(&hdr(&b1), 102, 102);
        // Gap.
        let gap = batch(&[b"d"], 3, 9, 0, 5);
        assert_eq!(s.check(&hdr(&gap)).unwrap_err().code(), 45);
        // Old epoch.
        let old = batch(&[b"e"], 3, 9, -1, 3);
        let _ = old;
        // New epoch must start at 0.
        let bump_bad = batch(&[b"f"], 3, 9, 1, 7);
        assert_eq!(s.check(&hdr(&bump_bad)).unwrap_err().code(), 45);
        let bump = batch(&[b"f"], 3, 9, 1, 0);
        assert_eq!(s.check(&hdr(&bump)).unwrap(), SequenceCheck::Append);
        s.update(&hdr(&bump), 103, 103);
        let stale = batch(&[b"g"], 3, 9, 0, 3);
        assert_eq!(s.check(&hdr(&stale)).unwrap_err().code(), 47);
    }

    #[test]
    fn keeps_last_five_batches() {
        let mut s = ProducerStateManager::new();
        for i in 0..7 {
            let b = batch(&[b"x"], i, 1, 0, i as i32);
            s.update(&hdr(&b), i, i);
        }
        assert_eq!(s.get(1).unwrap().batches.len(), 5);
        let first = batch(&[b"x"], 0, 1, 0, 0);
        // Too old to be recognised as a duplicate: a sequence error, as in Kafka.
        assert!(s.check(&hdr(&first)).is_err());
        let recent = batch(&[b"x"], 3, 1, 0, 3);
        assert!(matches!(
            s.check(&hdr(&recent)).unwrap(),
            SequenceCheck::Duplicate(_)
        ));
    }

    #[test]
    fn snapshot_roundtrip() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = ProducerStateManager::new();
        let b = batch(&[b"a", b"b", b"c"], 50, 77, 3, 10);
        s.update(&hdr(&b), 200, 202);
        s.write_snapshot(dir.path(), 203, true).unwrap();
        let (off, loaded) = ProducerStateManager::load_latest(dir.path(), 1000).unwrap();
        assert_eq!(off, 203);
        let e = loaded.get(77).unwrap();
        assert_eq!(e.epoch, 3);
        assert_eq!(
            e.batches.back().copied().unwrap(),
            BatchMetadata {
                first_seq: 10,
                last_seq: 12,
                first_offset: 200,
                last_offset: 202,
                timestamp: 52
            }
        );
        assert!(matches!(
            loaded.check(&hdr(&b)).unwrap(),
            SequenceCheck::Duplicate(_)
        ));
        assert!(ProducerStateManager::load_latest(dir.path(), 100).is_none());
    }
}
