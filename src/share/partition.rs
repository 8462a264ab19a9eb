//! One share partition (Kafka's `SharePartition`, KIP-932): the records of one topic partition
//! that one share group has in flight, between the share-partition start offset (SPSO, every
//! record before it is acknowledged or archived) and the end offset (SPEO, the next offset to be
//! read from the log for the first time).
//!
//! Each in-flight record is AVAILABLE, ACQUIRED (by one member, until its acquisition lock
//! expires), ACKNOWLEDGED or ARCHIVED. A fetch acquires available records (again, with the
//! delivery count raised) before new ones from the log, whole batches at a time; an
//! acknowledgement ACCEPTs (ACKNOWLEDGED), RELEASEs (AVAILABLE again) or REJECTs (ARCHIVED) the
//! records a member holds; a record delivered `group.share.delivery.count.limit` times is archived
//! instead of being made available again. The SPSO moves past every leading record in a terminal
//! state.
//!
//! The state machine does no I/O: the log is read through a closure, and what changed comes back
//! as [`StateBatch`]es for the persister (`__share_group_state`). The window is a `VecDeque` of
//! fixed-size slots indexed by `offset - start`, bounded by `group.share.partition.max.record.locks`,
//! so acquiring and acknowledging allocate nothing per record.

use std::collections::VecDeque;
use std::sync::Arc;

use crate::error::Error;
use crate::log::batch::Batches;

/// `RecordState` ids as Kafka persists them (`ShareSnapshotValue.StateBatches.DeliveryState`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i8)]
pub enum RecordState {
    Available = 0,
    Acquired = 1,
    Acknowledged = 2,
    Archived = 4,
}

impl RecordState {
    pub fn from_id(id: i8) -> Option<RecordState> {
        Some(match id {
            0 => RecordState::Available,
            1 => RecordState::Acquired,
            2 => RecordState::Acknowledged,
            4 => RecordState::Archived,
            _ => return None,
        })
    }

    fn is_terminal(self) -> bool {
        matches!(self, RecordState::Acknowledged | RecordState::Archived)
    }
}

/// `AcknowledgeType` (KIP-932): 0 is a gap in the offsets the client saw (a compacted-away or
/// control record), archived as REJECT is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AcknowledgeType {
    Gap,
    Accept,
    Release,
    Reject,
}

impl AcknowledgeType {
    pub fn from_id(id: i8) -> Option<AcknowledgeType> {
        Some(match id {
            0 => AcknowledgeType::Gap,
            1 => AcknowledgeType::Accept,
            2 => AcknowledgeType::Release,
            3 => AcknowledgeType::Reject,
            _ => return None,
        })
    }
}

/// A run of offsets with one state and delivery count (Kafka's `PersisterStateBatch`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StateBatch {
    pub first_offset: i64,
    pub last_offset: i64,
    pub state: RecordState,
    pub delivery_count: i16,
}

/// A range of offsets handed to a member by one fetch (`ShareFetchResponse.AcquiredRecords`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AcquiredRange {
    pub first_offset: i64,
    pub last_offset: i64,
    pub delivery_count: i16,
}

/// The limits a share partition works under, resolved per group at each operation.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// `share.record.lock.duration.ms` (group) or `group.share.record.lock.duration.ms`.
    pub lock_duration_ms: i64,
    /// `group.share.delivery.count.limit`.
    pub delivery_limit: i16,
    /// `group.share.partition.max.record.locks`: most records in flight (SPSO..SPEO).
    pub max_in_flight: usize,
}

#[derive(Clone, Debug)]
struct Slot {
    state: RecordState,
    delivery_count: i16,
    owner: Option<Arc<str>>,
    deadline_ms: i64,
}

impl Slot {
    const FRESH: Slot = Slot {
        state: RecordState::Available,
        delivery_count: 0,
        owner: None,
        deadline_ms: 0,
    };
}

/// What a log read returned: whole batches from the requested offset, the offset reads must
/// stop before (the high watermark, or the last stable offset for read_committed), and, for
/// read_committed, the aborted transactions `(producer id, first offset)` overlapping it.
pub struct LogRead {
    pub bytes: bytes::Bytes,
    pub upper: i64,
    pub aborted: Vec<(i64, i64)>,
}

/// What one acquisition handed out: the batches (whole, as stored) and the acquired ranges.
#[derive(Debug, Default)]
pub struct Acquisition {
    pub records: Vec<bytes::Bytes>,
    pub ranges: Vec<AcquiredRange>,
    pub count: usize,
}

/// Why a record went to the dead-letter topic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeadLetterReason {
    /// A consumer REJECTed it.
    Rejected,
    /// It reached `group.share.delivery.count.limit` (released, or its lock expired).
    DeliveryLimit,
}

impl DeadLetterReason {
    pub fn name(self) -> &'static str {
        match self {
            DeadLetterReason::Rejected => "REJECTED",
            DeadLetterReason::DeliveryLimit => "DELIVERY_COUNT_LIMIT",
        }
    }
}

/// A record archived for a reason that sends it to the dead-letter topic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeadLetter {
    pub offset: i64,
    pub delivery_count: i16,
    pub reason: DeadLetterReason,
}

/// Counters the metrics report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Events {
    pub lock_expiries: u64,
    pub redeliveries: u64,
    pub archived: u64,
    /// Archived records copied to the group's dead-letter topic.
    pub dead_lettered: u64,
}

/// One share partition's in-flight state.
#[derive(Debug)]
pub struct SharePartition {
    /// SPSO.
    start: i64,
    /// Offsets `start..start + window.len()`; SPEO is the end.
    window: VecDeque<Slot>,
    /// The state epoch of the persisted state (bumped when offsets are altered).
    pub state_epoch: i32,
    /// The start offset the last state write carried (-1 before the first): what
    /// DescribeShareGroupOffsets reports, as Kafka reports the share coordinator's value.
    pub persisted_start: i64,
    /// Events since the share partition was loaded.
    pub events: Events,
    /// When the group has a dead-letter topic: the records archived by REJECT or at the
    /// delivery limit by the current operation, for the manager to copy (`None`: not tracked).
    pub dead_letters: Option<Vec<DeadLetter>>,
}

impl SharePartition {
    /// A share partition starting at `start`, with persisted in-flight state (batches at or
    /// after `start`, any order): offsets between them that have no state are available.
    pub fn new(start: i64, state_epoch: i32, batches: &[StateBatch]) -> SharePartition {
        let mut p = SharePartition {
            start,
            window: VecDeque::new(),
            state_epoch,
            persisted_start: -1,
            events: Events::default(),
            dead_letters: None,
        };
        let end = batches
            .iter()
            .map(|b| b.last_offset + 1)
            .max()
            .unwrap_or(start)
            .max(start);
        p.window.resize((end - start) as usize, Slot::FRESH);
        for b in batches {
            for o in b.first_offset.max(start)..=b.last_offset {
                let s = &mut p.window[(o - start) as usize];
                // Records acquired when the state was written are available again.
                s.state = match b.state {
                    RecordState::Acquired => RecordState::Available,
                    st => st,
                };
                s.delivery_count = b.delivery_count;
            }
        }
        p.advance_start();
        p
    }

    pub fn start_offset(&self) -> i64 {
        self.start
    }

    pub fn end_offset(&self) -> i64 {
        self.start + self.window.len() as i64
    }

    /// Records in flight that are acquired right now.
    pub fn acquired_count(&self) -> usize {
        self.window
            .iter()
            .filter(|s| s.state == RecordState::Acquired)
            .count()
    }

    /// Records between the SPSO and `log_end` not yet acknowledged or archived (KIP-1226's
    /// share lag: the records still to be delivered and the ones in flight).
    pub fn lag(&self, log_end: i64) -> i64 {
        let terminal = self.window.iter().filter(|s| s.state.is_terminal()).count() as i64;
        (log_end - self.start - terminal).max(0)
    }

    /// Moves the SPSO (AlterShareGroupOffsets, or the log start passing it): everything in
    /// flight is forgotten.
    pub fn reset_to(&mut self, offset: i64) {
        self.start = offset;
        self.window.clear();
    }

    /// The log's start offset moved past the SPSO (retention, DeleteRecords): records below it
    /// are gone and leave the window (Kafka's `updateCacheAndOffsets`).
    pub fn on_log_start(&mut self, log_start: i64) {
        if log_start <= self.start {
            return;
        }
        let drop = ((log_start - self.start) as usize).min(self.window.len());
        self.window.drain(..drop);
        self.start = log_start;
    }

    /// Releases every lock that expired by `now`: the record is available again, or archived
    /// when it reached the delivery limit. Returns whether any record became available.
    pub fn expire_locks(&mut self, now: i64, limits: &Limits) -> bool {
        let mut freed = false;
        let mut archived = false;
        for (i, s) in self.window.iter_mut().enumerate() {
            if s.state == RecordState::Acquired && s.deadline_ms <= now {
                s.owner = None;
                self.events.lock_expiries += 1;
                if s.delivery_count >= limits.delivery_limit {
                    s.state = RecordState::Archived;
                    self.events.archived += 1;
                    archived = true;
                    if let Some(d) = self.dead_letters.as_mut() {
                        d.push(DeadLetter {
                            offset: self.start + i as i64,
                            delivery_count: s.delivery_count,
                            reason: DeadLetterReason::DeliveryLimit,
                        });
                    }
                } else {
                    s.state = RecordState::Available;
                    freed = true;
                }
            }
        }
        if archived {
            self.advance_start();
        }
        freed
    }

    /// The earliest acquisition-lock deadline, to wake a parked fetch when a lock expires.
    pub fn next_deadline(&self) -> Option<i64> {
        self.window
            .iter()
            .filter(|s| s.state == RecordState::Acquired)
            .map(|s| s.deadline_ms)
            .min()
    }

    /// The offset a fetch reads from: the first available record, or the SPEO.
    fn first_fetchable(&self) -> i64 {
        self.window
            .iter()
            .position(|s| s.state == RecordState::Available)
            .map_or(self.end_offset(), |i| self.start + i as i64)
    }

    /// True when a fetch could acquire something without reading past the log end `log_end`.
    pub fn has_fetchable(&self, upper: i64, limits: &Limits) -> bool {
        let first = self.first_fetchable();
        first < self.end_offset() || (first < upper && self.window.len() < limits.max_in_flight)
    }

    /// Acquires up to about `max_records` records for `member` (whole batches: the last batch
    /// may take it past the count, as Kafka's batch-granular acquisition does), reading the log
    /// through `read(offset)`. Control batches and, for read_committed, aborted transactions'
    /// records are archived as they are passed, never delivered.
    pub fn acquire(
        &mut self,
        member: &Arc<str>,
        max_records: usize,
        now: i64,
        limits: &Limits,
        read: impl FnOnce(i64) -> Result<LogRead, Error>,
    ) -> Result<Acquisition, Error> {
        let mut out = Acquisition::default();
        let from = self.first_fetchable();
        if from >= self.end_offset() && self.window.len() >= limits.max_in_flight {
            return Ok(out);
        }
        let data = read(from)?;
        let bytes = data.bytes;
        let mut aborted = data.aborted;
        aborted.sort_by_key(|a| a.1);
        let mut next_aborted = 0usize;
        let mut aborting: Vec<i64> = Vec::new();
        let mut archived_any = false;
        for (at, h) in Batches::new(&bytes) {
            if out.count >= max_records.max(1) {
                break;
            }
            let base = h.base_offset();
            let last = h.last_offset();
            if last < from || base >= data.upper {
                if base >= data.upper {
                    break;
                }
                continue;
            }
            while next_aborted < aborted.len() && aborted[next_aborted].1 <= last {
                aborting.push(aborted[next_aborted].0);
                next_aborted += 1;
            }
            let is_aborted =
                h.is_transactional() && !h.is_control() && aborting.contains(&h.producer_id());
            if h.is_control() {
                aborting.retain(|p| *p != h.producer_id());
            }
            let skip = h.is_control() || is_aborted;
            let mut acquired_here = false;
            let lo = base.max(from).max(self.start);
            for o in lo..=last {
                let end = self.end_offset();
                if o > end {
                    break;
                }
                if o == end {
                    if self.window.len() >= limits.max_in_flight {
                        break;
                    }
                    self.window.push_back(Slot::FRESH);
                }
                let idx = (o - self.start) as usize;
                let s = &mut self.window[idx];
                if s.state != RecordState::Available {
                    continue;
                }
                if skip {
                    s.state = RecordState::Archived;
                    archived_any = true;
                    continue;
                }
                s.state = RecordState::Acquired;
                s.delivery_count = s.delivery_count.saturating_add(1);
                if s.delivery_count > 1 {
                    self.events.redeliveries += 1;
                }
                s.owner = Some(member.clone());
                s.deadline_ms = now + limits.lock_duration_ms;
                let dc = s.delivery_count;
                out.count += 1;
                acquired_here = true;
                match out.ranges.last_mut() {
                    Some(r) if r.last_offset + 1 == o && r.delivery_count == dc => {
                        r.last_offset = o
                    }
                    _ => out.ranges.push(AcquiredRange {
                        first_offset: o,
                        last_offset: o,
                        delivery_count: dc,
                    }),
                }
            }
            if acquired_here {
                out.records.push(bytes.slice(at..at + h.size()));
            }
        }
        if archived_any {
            self.advance_start();
        }
        Ok(out)
    }

    /// Applies one member's acknowledgements, all or nothing: every offset must be acquired
    /// by `member` (INVALID_RECORD_STATE otherwise), and each batch's types must be one type or
    /// one per offset (INVALID_REQUEST otherwise). Returns the changed runs for the persister.
    pub fn acknowledge(
        &mut self,
        member: &str,
        batches: &[(i64, i64, Vec<i8>)],
        limits: &Limits,
    ) -> Result<Vec<StateBatch>, Error> {
        // The batch checks of Kafka's `KafkaApis.validateAcknowledgementBatches`, which answers
        // INVALID_REQUEST with no message (an empty message here, left out of the answer).
        for (first, last, types) in batches {
            if first > last {
                return Err(Error::InvalidRequest(String::new()));
            }
            // i128: a client's offsets must not overflow the count.
            let n = (*last as i128 - *first as i128 + 1) as u64;
            if types.is_empty() || (types.len() != 1 && types.len() as u64 != n) {
                return Err(Error::InvalidRequest(String::new()));
            }
            if types.iter().any(|t| AcknowledgeType::from_id(*t).is_none()) {
                return Err(Error::InvalidRequest(String::new()));
            }
            // Kafka's `SharePartition.acknowledge`: a batch wholly before the start offset is
            // already acknowledged or archived and skipped; with nothing in flight any other
            // batch is INVALID_RECORD_STATE; one reaching past the acquired records is
            // INVALID_REQUEST; the part before the start offset is ignored.
            if *last < self.start {
                continue;
            }
            if self.window.is_empty() {
                return Err(Error::InvalidRecordState(
                    "Batch record not found. The request batch offsets are not found in the cache."
                        .to_string(),
                ));
            }
            if *first >= self.end_offset() {
                // `SharePartition.acknowledge`'s wording.
                return Err(Error::InvalidRequest(
                    "Batch record not found. The first offset in request is past acquired records."
                        .to_string(),
                ));
            }
            if *last >= self.end_offset() {
                return Err(Error::InvalidRequest(
                    "Batch record not found. The last offset in request is past acquired records."
                        .to_string(),
                ));
            }
            for o in (*first).max(self.start)..=*last {
                let s = &self.window[(o - self.start) as usize];
                // `SharePartition.acknowledgePerOffsetBatchRecords`' wording (Klamm keeps a
                // state per offset, as Kafka does once a batch is acknowledged in parts).
                if s.state != RecordState::Acquired {
                    return Err(Error::InvalidRecordState(
                        "The batch cannot be acknowledged. The offset is not acquired.".to_string(),
                    ));
                }
                if s.owner.as_deref() != Some(member) {
                    return Err(Error::InvalidRecordState(
                        "Member is not the owner of offset".to_string(),
                    ));
                }
            }
        }
        let mut changed: Vec<StateBatch> = Vec::new();
        for (first, last, types) in batches {
            for o in (*first).max(self.start)..=*last {
                let t = if types.len() == 1 {
                    types[0]
                } else {
                    types[(o - first) as usize]
                };
                let t = AcknowledgeType::from_id(t).unwrap_or(AcknowledgeType::Reject);
                let s = &mut self.window[(o - self.start) as usize];
                s.owner = None;
                let dead = match t {
                    AcknowledgeType::Reject => Some(DeadLetterReason::Rejected),
                    AcknowledgeType::Release if s.delivery_count >= limits.delivery_limit => {
                        Some(DeadLetterReason::DeliveryLimit)
                    }
                    _ => None,
                };
                s.state = match t {
                    AcknowledgeType::Accept => RecordState::Acknowledged,
                    AcknowledgeType::Release if dead.is_none() => RecordState::Available,
                    _ => {
                        self.events.archived += 1;
                        RecordState::Archived
                    }
                };
                if let (Some(reason), Some(d)) = (dead, self.dead_letters.as_mut()) {
                    d.push(DeadLetter {
                        offset: o,
                        delivery_count: s.delivery_count,
                        reason,
                    });
                }
                push_run(&mut changed, o, s.state, s.delivery_count);
            }
        }
        self.advance_start();
        Ok(changed)
    }

    /// Makes every record `member` holds available again because its share session closed
    /// (final epoch, disconnect, leave): the delivery does not count, so the delivery count goes
    /// back down and the limit never archives here (Kafka's `releaseAcquiredRecords`, which
    /// transitions with `DeliveryCountOps.DECREASE`). Returns the changed runs.
    pub fn release_member(&mut self, member: &str) -> Vec<StateBatch> {
        let mut changed = Vec::new();
        let start = self.start;
        for (i, s) in self.window.iter_mut().enumerate() {
            if s.state == RecordState::Acquired && s.owner.as_deref() == Some(member) {
                s.owner = None;
                s.state = RecordState::Available;
                s.delivery_count = (s.delivery_count - 1).max(0);
                push_run(&mut changed, start + i as i64, s.state, s.delivery_count);
            }
        }
        changed
    }

    /// The whole in-flight state as runs (a snapshot). An acquired record is written as it was
    /// before this acquisition (available, the delivery count one lower): a lock does not
    /// outlive the broker, and Kafka persists no acquisition, so after a restart the record is
    /// delivered with the count the interrupted delivery would have had.
    pub fn state_batches(&self) -> Vec<StateBatch> {
        let mut out = Vec::new();
        for (i, s) in self.window.iter().enumerate() {
            let (st, count) = match s.state {
                RecordState::Acquired => (RecordState::Available, (s.delivery_count - 1).max(0)),
                st => (st, s.delivery_count),
            };
            if st == RecordState::Available && count == 0 {
                continue;
            }
            push_run(&mut out, self.start + i as i64, st, count);
        }
        out
    }

    /// [`Self::state_batches`] as of an earlier start offset `from`: the records between it and
    /// the current start are in a terminal state (the start only moves past those), written as
    /// acknowledged.
    pub fn state_batches_from(&self, from: i64) -> Vec<StateBatch> {
        let mut out = Vec::new();
        if from < self.start {
            out.push(StateBatch {
                first_offset: from,
                last_offset: self.start - 1,
                state: RecordState::Acknowledged,
                delivery_count: 1,
            });
        }
        out.extend(self.state_batches());
        out
    }

    /// The SPSO moves past every leading acknowledged or archived record.
    fn advance_start(&mut self) {
        while self.window.front().is_some_and(|s| s.state.is_terminal()) {
            self.window.pop_front();
            self.start += 1;
        }
    }
}

fn push_run(out: &mut Vec<StateBatch>, offset: i64, state: RecordState, delivery_count: i16) {
    match out.last_mut() {
        Some(b)
            if b.last_offset + 1 == offset
                && b.state == state
                && b.delivery_count == delivery_count =>
        {
            b.last_offset = offset
        }
        _ => out.push(StateBatch {
            first_offset: offset,
            last_offset: offset,
            state,
            delivery_count,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::batch_builder::{build, Producer, SimpleRecord};

    const LIMITS: Limits = Limits {
        lock_duration_ms: 1000,
        delivery_limit: 3,
        max_in_flight: 100,
    };

    /// A log of `batches` batches of `per` records each, offsets from 0.
    fn log(batches: usize, per: usize) -> bytes::Bytes {
        let mut out = Vec::new();
        for b in 0..batches {
            let recs: Vec<SimpleRecord> = (0..per)
                .map(|i| SimpleRecord {
                    key: None,
                    value: Some(format!("v{}", b * per + i).into_bytes()),
                })
                .collect();
            let mut batch = build(&recs, 0, Producer::NONE);
            batch[..8].copy_from_slice(&((b * per) as i64).to_be_bytes());
            out.extend_from_slice(&batch);
        }
        bytes::Bytes::from(out)
    }

    fn reader(all: &bytes::Bytes, per: usize) -> impl Fn(i64) -> Result<LogRead, Error> + '_ {
        move |from: i64| {
            // Whole batches from the one holding `from`.
            let mut start = 0;
            for (at, h) in Batches::new(all) {
                if h.last_offset() >= from {
                    start = at;
                    break;
                }
            }
            let _ = per;
            Ok(LogRead {
                bytes: all.slice(start..),
                upper: Batches::new(all)
                    .last()
                    .map_or(0, |(_, h)| h.last_offset() + 1),
                aborted: Vec::new(),
            })
        }
    }

    #[test]
    fn members_get_disjoint_batches_and_acks_move_the_start() {
        let all = log(4, 5);
        let mut p = SharePartition::new(0, 0, &[]);
        let a: Arc<str> = Arc::from("a");
        let b: Arc<str> = Arc::from("b");
        let got_a = p.acquire(&a, 5, 0, &LIMITS, reader(&all, 5)).unwrap();
        assert_eq!(
            got_a.ranges,
            vec![AcquiredRange {
                first_offset: 0,
                last_offset: 4,
                delivery_count: 1
            }]
        );
        let got_b = p.acquire(&b, 7, 0, &LIMITS, reader(&all, 5)).unwrap();
        // Whole batches: 5-9 and 10-14.
        assert_eq!(
            got_b.ranges,
            vec![AcquiredRange {
                first_offset: 5,
                last_offset: 14,
                delivery_count: 1
            }]
        );
        assert_eq!(got_b.records.len(), 2);
        // b acks its records before a: the start stays at 0.
        p.acknowledge("b", &[(5, 14, vec![1])], &LIMITS).unwrap();
        assert_eq!(p.start_offset(), 0);
        // a cannot acknowledge b's records, nor records never delivered.
        assert!(matches!(
            p.acknowledge("a", &[(5, 5, vec![1])], &LIMITS),
            Err(Error::InvalidRecordState(_))
        ));
        // Past the acquired records: INVALID_REQUEST, as Kafka answers.
        assert!(matches!(
            p.acknowledge("a", &[(15, 15, vec![1])], &LIMITS),
            Err(Error::InvalidRequest(_))
        ));
        // Release 0-1 and accept 2-4: the start waits at 0 for the released ones.
        let changed = p
            .acknowledge("a", &[(0, 4, vec![2, 2, 1, 1, 1])], &LIMITS)
            .unwrap();
        assert_eq!(changed.len(), 2);
        assert_eq!(p.start_offset(), 0);
        // The released records come back first, with delivery count 2.
        let again = p.acquire(&b, 10, 0, &LIMITS, reader(&all, 5)).unwrap();
        assert_eq!(
            again.ranges[0],
            AcquiredRange {
                first_offset: 0,
                last_offset: 1,
                delivery_count: 2
            }
        );
        assert_eq!(
            again.ranges[1],
            AcquiredRange {
                first_offset: 15,
                last_offset: 19,
                delivery_count: 1
            }
        );
        p.acknowledge("b", &[(0, 1, vec![1]), (15, 19, vec![1])], &LIMITS)
            .unwrap();
        assert_eq!(p.start_offset(), 20);
        assert_eq!(p.lag(20), 0);
        // Acknowledging again below the start offset is skipped, as Kafka skips it.
        assert_eq!(
            p.acknowledge("b", &[(0, 1, vec![1])], &LIMITS).unwrap(),
            vec![]
        );
    }

    #[test]
    fn expired_locks_redeliver_until_the_delivery_limit_archives() {
        let all = log(1, 2);
        let mut p = SharePartition::new(0, 0, &[]);
        let a: Arc<str> = Arc::from("a");
        for round in 1..=3 {
            let got = p
                .acquire(&a, 10, round * 2000, &LIMITS, reader(&all, 2))
                .unwrap();
            assert_eq!(got.ranges[0].delivery_count, round as i16);
            assert!(!p.expire_locks(round * 2000 + 999, &LIMITS));
            p.expire_locks(round * 2000 + 1000, &LIMITS);
        }
        // Third delivery expired: archived, the start moves past them.
        assert_eq!(p.start_offset(), 2);
        assert_eq!(p.events.archived, 2);
        assert_eq!(p.events.lock_expiries, 6);
    }

    #[test]
    fn persisted_state_restores_the_window() {
        let batches = [
            StateBatch {
                first_offset: 12,
                last_offset: 13,
                state: RecordState::Acknowledged,
                delivery_count: 1,
            },
            StateBatch {
                first_offset: 10,
                last_offset: 10,
                state: RecordState::Available,
                delivery_count: 2,
            },
        ];
        let p = SharePartition::new(10, 0, &batches);
        assert_eq!((p.start_offset(), p.end_offset()), (10, 14));
        assert_eq!(
            p.state_batches(),
            vec![
                StateBatch {
                    first_offset: 10,
                    last_offset: 10,
                    state: RecordState::Available,
                    delivery_count: 2
                },
                StateBatch {
                    first_offset: 12,
                    last_offset: 13,
                    state: RecordState::Acknowledged,
                    delivery_count: 1
                },
            ]
        );
        assert_eq!(p.lag(20), 8);
    }

    #[test]
    fn bad_acknowledgements_are_refused_whole() {
        let all = log(1, 3);
        let mut p = SharePartition::new(0, 0, &[]);
        let a: Arc<str> = Arc::from("a");
        p.acquire(&a, 10, 0, &LIMITS, reader(&all, 3)).unwrap();
        assert!(matches!(
            p.acknowledge("a", &[(2, 1, vec![1])], &LIMITS),
            Err(Error::InvalidRequest(_))
        ));
        assert!(matches!(
            p.acknowledge("a", &[(0, 2, vec![1, 1])], &LIMITS),
            Err(Error::InvalidRequest(_))
        ));
        assert!(matches!(
            p.acknowledge("a", &[(0, 2, vec![9])], &LIMITS),
            Err(Error::InvalidRequest(_))
        ));
        // The first batch is fine, the second is not: nothing is applied.
        assert!(p
            .acknowledge("a", &[(0, 0, vec![1]), (1, 5, vec![1])], &LIMITS)
            .is_err());
        assert_eq!(p.acquired_count(), 3);
        let changed = p.release_member("a");
        assert_eq!(
            changed,
            vec![StateBatch {
                first_offset: 0,
                last_offset: 2,
                state: RecordState::Available,
                delivery_count: 0
            }]
        );
    }
}
