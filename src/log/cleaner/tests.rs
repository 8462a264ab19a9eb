//! Cleaner scenarios on a real partition directory.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use bytes::Bytes;
use uuid::Uuid;

use super::clean::{Cleaner, CleanerLimits};
use super::*;
use crate::log::batch::{BatchHeader, Batches, Compression};
use crate::log::batch_rewrite::{self, BatchSpec, DELETE_HORIZON_MASK};
use crate::log::compression::Levels;
use crate::log::config::LogConfig;
use crate::log::partition::Recovery;
use crate::log::records::{records_section, write_varlong, RecordIter};
use crate::log::validator::{self, AppendOrigin};
use crate::settings::Settings;

type Rec<'a> = (&'a [u8], Option<&'a [u8]>);

/// A batch of keyed records (value None = tombstone), with headers `h: x` repeated twice.
pub fn keyed_batch(recs: &[Rec<'_>], ts: i64, codec: Compression) -> Vec<u8> {
    let mut records = Vec::new();
    for (i, (k, v)) in recs.iter().enumerate() {
        let mut body = vec![0u8];
        write_varlong(&mut body, i as i64);
        write_varlong(&mut body, i as i64);
        write_varlong(&mut body, k.len() as i64);
        body.extend_from_slice(k);
        match v {
            Some(v) => {
                write_varlong(&mut body, v.len() as i64);
                body.extend_from_slice(v);
            }
            None => write_varlong(&mut body, -1),
        }
        write_varlong(&mut body, 2);
        for _ in 0..2 {
            write_varlong(&mut body, 1);
            body.push(b'h');
            write_varlong(&mut body, 1);
            body.push(b'x');
        }
        write_varlong(&mut records, body.len() as i64);
        records.extend_from_slice(&body);
    }
    let spec = BatchSpec {
        base_offset: 0,
        partition_leader_epoch: -1,
        attributes: 0,
        last_offset_delta: recs.len() as i32 - 1,
        base_timestamp: ts,
        max_timestamp: ts + recs.len() as i64 - 1,
        producer_id: -1,
        producer_epoch: -1,
        base_sequence: -1,
        record_count: recs.len() as i32,
    };
    batch_rewrite::build(&spec, codec, Levels::default(), &records).unwrap()
}

fn compacted(dir: &Path) -> Arc<Partition> {
    let mut o = BTreeMap::new();
    o.insert("cleanup.policy".to_string(), "compact".to_string());
    let mut c = LogConfig::new(&Settings::defaults(), &o);
    c.segment_bytes = 400;
    c.file_delete_delay_ms = 0;
    c.delete_retention_ms = 1000;
    Arc::new(
        Partition::open(
            "t".into(),
            Uuid::nil(),
            0,
            dir,
            Arc::new(c),
            Recovery::Clean,
            None,
        )
        .unwrap(),
    )
}

fn produce(p: &Partition, recs: &[Rec<'_>], codec: Compression) {
    let now = crate::broker::now_ms();
    let b = Bytes::from(keyed_batch(recs, now, codec));
    let v = validator::validate(&b, 9, &p.config(), AppendOrigin::Client, now, "t-0").unwrap();
    p.append(&v, AppendOrigin::Client).unwrap();
}

/// Calls `f` with every batch of the log in order (CRC checked) and the offset read up to.
fn for_each_batch(p: &Partition, mut f: impl FnMut(&BatchHeader<'_>, &[u8], i64)) {
    let mut next = p.log_start_offset();
    while next < p.log_end_offset() {
        let d = p
            .read(next, 1 << 20, true)
            .unwrap()
            .records
            .read_to_bytes()
            .unwrap();
        if d.is_empty() {
            break;
        }
        for (at, h) in Batches::new(&d) {
            let batch = &d[at..at + h.size()];
            assert!(crate::log::batch::crc_is_valid(batch));
            f(&h, batch, next);
            next = h.last_offset() + 1;
        }
    }
}

/// Every record in the log: (offset, key, value).
fn read_all(p: &Partition) -> Vec<(i64, Vec<u8>, Option<Vec<u8>>)> {
    let mut out = Vec::new();
    for_each_batch(p, |h, batch, next| {
        if h.is_control() {
            // Transaction markers are not records.
            return;
        }
        let s = records_section(batch).unwrap();
        for r in RecordIter::new(&s, h.record_count()) {
            let r = r.unwrap();
            let off = h.base_offset() + r.offset_delta as i64;
            if off >= next {
                out.push((off, r.key.unwrap().to_vec(), r.value.map(<[u8]>::to_vec)));
                assert_eq!(r.header_count, 2, "headers kept verbatim");
            }
        }
    });
    out
}

fn limits() -> CleanerLimits {
    CleanerLimits {
        dedupe_buffer_bytes: 1 << 20,
        load_factor: 0.9,
        io_buffer_bytes: 4096,
        max_io_bytes_per_second: f64::MAX,
    }
}

fn clean(p: &Arc<Partition>, first_dirty: i64, now: i64) -> i64 {
    let (segs, _, end) = p.segment_snapshot();
    let (range, _) = cleanable(&segs, first_dirty, end, &p.config(), now).unwrap();
    let stop = AtomicBool::new(false);
    Cleaner::new(p, &limits(), &stop)
        .clean(&range, now)
        .unwrap()
        .end_offset
}

/// `n` bytes that do not compress.
fn noise(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| ((i * 31 + seed as usize * 7) % 251) as u8)
        .collect()
}

fn fill(p: &Partition, codec: Compression) {
    // Offsets 0..: k1=v1, k2=v1, k1=v2, k3=v1, k2=tombstone, k1=v3, k4=v1 ... rolled often.
    produce(p, &[(b"k1", Some(b"v1")), (b"k2", Some(b"v1"))], codec);
    produce(
        p,
        &[(b"k1", Some(b"v2")), (b"k3", Some(&noise(150, 1)))],
        codec,
    );
    produce(p, &[(b"k2", None)], codec);
    produce(p, &[(b"k1", Some(&noise(200, 2)))], codec);
    produce(p, &[(b"k4", Some(b"v1")), (b"k3", Some(b"v2"))], codec);
    produce(p, &[(b"k5", Some(&noise(300, 3)))], codec);
}

#[test]
fn keeps_latest_value_per_key_with_offsets_and_tombstone_horizon() {
    for codec in [Compression::None, Compression::Zstd, Compression::Snappy] {
        let dir = tempfile::tempdir().unwrap();
        let p = compacted(dir.path());
        fill(&p, codec);
        let (ss, _, _) = p.segment_snapshot();
        assert!(
            p.segment_count() >= 4,
            "{:?}",
            ss.iter()
                .map(|s| (s.base_offset, s.size))
                .collect::<Vec<_>>()
        );
        let now = crate::broker::now_ms();
        let end = clean(&p, 0, now);
        assert!(end >= 7, "end {end}");
        let got = read_all(&p);
        let keys: Vec<(i64, &[u8])> = got.iter().map(|(o, k, _)| (*o, k.as_slice())).collect();
        // k2's tombstone (offset 4) stays until its delete horizon; superseded records are gone.
        assert_eq!(
            keys,
            vec![
                (4, &b"k2"[..]),
                (5, b"k1"),
                (6, b"k4"),
                (7, b"k3"),
                (8, b"k5")
            ],
            "{codec:?}"
        );
        assert_eq!(got[0].2, None);
        // The tombstone's batch now carries a delete horizon.
        let d = p
            .read(4, 1 << 20, true)
            .unwrap()
            .records
            .read_to_bytes()
            .unwrap();
        let h = BatchHeader::new(&d).unwrap();
        assert!(h.attributes() & DELETE_HORIZON_MASK != 0);
        assert_eq!(h.base_timestamp(), now + 1000);

        // Past the horizon the tombstone goes.
        produce(&p, &[(b"k6", Some(&noise(300, 4)))], codec);
        clean(&p, end, now + 2000);
        let keys: Vec<i64> = read_all(&p).iter().map(|(o, _, _)| *o).collect();
        assert_eq!(keys, vec![5, 6, 7, 8, 9], "{codec:?}");
        // Everything survives a restart.
        drop(p);
        let p = compacted(dir.path());
        let keys: Vec<i64> = read_all(&p).iter().map(|(o, _, _)| *o).collect();
        assert_eq!(keys, vec![5, 6, 7, 8, 9]);
        assert_eq!(p.log_end_offset(), 10);
    }
}

#[test]
fn small_map_cleans_in_steps() {
    let dir = tempfile::tempdir().unwrap();
    let p = compacted(dir.path());
    for i in 0..40u32 {
        let k = format!("key{}", i % 10);
        produce(&p, &[(k.as_bytes(), Some(&[3u8; 60]))], Compression::None);
    }
    let tiny = CleanerLimits {
        dedupe_buffer_bytes: 24 * 8,
        ..limits()
    };
    let stop = AtomicBool::new(false);
    let mut first_dirty = 0;
    for _ in 0..20 {
        let (segs, _, end) = p.segment_snapshot();
        let (range, _) = cleanable(
            &segs,
            first_dirty,
            end,
            &p.config(),
            crate::broker::now_ms(),
        )
        .unwrap();
        if range.first_uncleanable_offset <= first_dirty {
            break;
        }
        first_dirty = Cleaner::new(&p, &tiny, &stop)
            .clean(&range, crate::broker::now_ms())
            .unwrap()
            .end_offset;
    }
    let got = read_all(&p);
    let mut latest: BTreeMap<Vec<u8>, i64> = BTreeMap::new();
    for (o, k, _) in &got {
        assert!(
            latest.insert(k.clone(), *o).is_none(),
            "key {:?} twice",
            String::from_utf8_lossy(k)
        );
    }
    assert!(got.len() <= 12, "{}", got.len());
}

#[test]
fn interrupted_swap_is_completed_and_cleaned_files_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let p = compacted(dir.path());
    fill(&p, Compression::None);
    let before = read_all(&p);
    let pdir = p.dir().to_path_buf();
    drop(p);
    // A crash while writing: a stray .cleaned segment is ignored and removed.
    std::fs::write(pdir.join("00000000000000000000.log.cleaned"), b"partial").unwrap();
    let p = compacted(dir.path());
    assert!(!pdir.join("00000000000000000000.log.cleaned").exists());
    assert_eq!(read_all(&p), before);
    // A crash after the rename to .swap: the swap replaces the segments it covers.
    let (segs, _, _) = p.segment_snapshot();
    let first_two = segs[..2].to_vec();
    let mut cleaned = crate::log::segment::LogSegment::create_with_suffix(
        &pdir,
        0,
        crate::log::partition::segment_limits(&p.config()),
        ".swap",
    )
    .unwrap();
    // Copy the first two segments' batches into the swap unchanged.
    for s in &first_two {
        let mut buf = vec![0u8; s.size as usize];
        std::os::unix::fs::FileExt::read_exact_at(&*s.file, &mut buf, 0).unwrap();
        for (at, h) in Batches::new(&buf) {
            let b = &buf[at..at + h.size()];
            cleaned
                .append(&b[..16], &b[16..], h.last_offset(), h.max_timestamp())
                .unwrap();
        }
    }
    cleaned.flush().unwrap();
    drop(cleaned);
    drop(p);
    let p = compacted(dir.path());
    assert!(!pdir.join("00000000000000000000.log.swap").exists());
    assert!(!pdir
        .join(crate::log::segment::file_name(
            first_two[1].base_offset,
            ".log"
        ))
        .exists());
    assert_eq!(read_all(&p), before);
}

/// A transactional batch of keyed records for producer `pid`.
fn txn_batch(recs: &[Rec<'_>], pid: i64, seq: i32) -> Vec<u8> {
    let plain = keyed_batch(recs, crate::broker::now_ms(), Compression::None);
    let h = BatchHeader::new(&plain).unwrap();
    let spec = BatchSpec {
        attributes: 0x10,
        producer_id: pid,
        producer_epoch: 0,
        base_sequence: seq,
        ..BatchSpec::of(&h)
    };
    let section = records_section(&plain).unwrap();
    batch_rewrite::build(&spec, Compression::None, Levels::default(), &section).unwrap()
}

#[test]
fn aborted_records_are_removed_and_never_shadow_committed_ones() {
    let dir = tempfile::tempdir().unwrap();
    let p = compacted(dir.path());
    let now = crate::broker::now_ms();
    let append_txn = |recs: &[Rec<'_>], pid: i64, seq: i32| {
        let b = Bytes::from(txn_batch(recs, pid, seq));
        let v = validator::validate(&b, 9, &p.config(), AppendOrigin::Client, now, "t-0").unwrap();
        p.append(&v, AppendOrigin::Client).unwrap();
    };
    append_txn(&[(b"k", Some(b"committed"))], 7, 0);
    p.append_txn_marker(7, 0, 0, true, now).unwrap();
    append_txn(&[(b"k", Some(b"aborted")), (b"j", Some(b"aborted"))], 8, 0);
    p.append_txn_marker(8, 0, 0, false, now).unwrap();
    // An open transaction stays out of the cleaner's reach.
    append_txn(&[(b"k", Some(b"open"))], 9, 0);
    for i in 0..6 {
        produce(
            &p,
            &[(b"filler", Some(format!("{i:0>200}").as_bytes()))],
            Compression::None,
        );
    }
    let lso = p.last_stable_offset();
    let (segs, _, _) = p.segment_snapshot();
    // The background cleaner bounds the range by the last stable offset (see `mod.rs`).
    let (range, _) = cleanable(&segs, 0, lso, &p.config(), now).unwrap();
    let stop = AtomicBool::new(false);
    Cleaner::new(&p, &limits(), &stop)
        .clean(&range, now)
        .unwrap();
    let all = read_all(&p);
    let values: Vec<(Vec<u8>, Option<Vec<u8>>)> = all
        .iter()
        .filter(|(_, k, _)| k.as_slice() != b"filler")
        .map(|(_, k, v)| (k.clone(), v.clone()))
        .collect();
    assert_eq!(
        values,
        vec![
            (b"k".to_vec(), Some(b"committed".to_vec())),
            (b"k".to_vec(), Some(b"open".to_vec())),
        ],
        "the aborted records are gone, the committed one stays, the open one is not touched"
    );
    assert_eq!(p.last_stable_offset(), lso);
    // The markers stay, so read_committed consumers still get the aborted list right.
    assert_eq!(p.aborted_transactions(0, i64::MAX).len(), 1);
}

/// The control batches in the log: (offset, control type, delete horizon stamped).
fn markers(p: &Partition) -> Vec<(i64, i16, bool)> {
    let mut out = Vec::new();
    for_each_batch(p, |h, batch, next| {
        if h.is_control() && h.base_offset() >= next {
            let kind = crate::log::control::control_type(batch).unwrap();
            out.push((
                h.base_offset(),
                kind,
                h.attributes() & DELETE_HORIZON_MASK != 0,
            ));
        }
    });
    out
}

#[test]
fn markers_of_transactions_without_batches_are_stamped_then_removed() {
    use crate::log::control::{ABORT, COMMIT};
    let dir = tempfile::tempdir().unwrap();
    let p = compacted(dir.path());
    let now = crate::broker::now_ms();
    let append_txn = |p: &Partition, recs: &[Rec<'_>], pid: i64, seq: i32| {
        let b = Bytes::from(txn_batch(recs, pid, seq));
        let v = validator::validate(&b, 9, &p.config(), AppendOrigin::Client, now, "t-0").unwrap();
        p.append(&v, AppendOrigin::Client).unwrap();
    };
    // Producer 7 commits k=a1 (0, marker 1), then k=a2 (2, marker 3); producer 8 aborts j=x
    // (4, marker 5), then commits j=y (6, marker 7).
    append_txn(&p, &[(b"k", Some(b"a1"))], 7, 0);
    p.append_txn_marker(7, 0, 0, true, now).unwrap();
    append_txn(&p, &[(b"k", Some(b"a2"))], 7, 1);
    p.append_txn_marker(7, 0, 0, true, now).unwrap();
    append_txn(&p, &[(b"j", Some(b"x"))], 8, 0);
    p.append_txn_marker(8, 0, 0, false, now).unwrap();
    append_txn(&p, &[(b"j", Some(b"y"))], 8, 1);
    p.append_txn_marker(8, 0, 0, true, now).unwrap();
    for i in 0..6 {
        produce(
            &p,
            &[(b"filler", Some(format!("{i:0>200}").as_bytes()))],
            Compression::None,
        );
    }
    let all = [
        (1, COMMIT, false),
        (3, COMMIT, false),
        (5, ABORT, false),
        (7, COMMIT, false),
    ];
    assert_eq!(markers(&p), all);
    assert_eq!(p.aborted_transactions(0, i64::MAX).len(), 1);
    let values = |p: &Partition| -> Vec<(i64, Vec<u8>)> {
        read_all(p)
            .into_iter()
            .filter(|(_, k, _)| k.as_slice() != b"filler")
            .map(|(o, _, v)| (o, v.unwrap()))
            .collect()
    };

    // First clean: the shadowed and the aborted batches go; their markers stay this time.
    clean(&p, 0, now);
    assert_eq!(values(&p), vec![(2, b"a2".to_vec()), (6, b"y".to_vec())]);
    assert_eq!(markers(&p), all);
    assert_eq!(p.aborted_transactions(0, i64::MAX).len(), 1);

    // Second clean: the markers of transactions with no batch left get a delete horizon, and
    // the emptied aborted transaction leaves the index.
    clean(&p, 0, now);
    assert_eq!(
        markers(&p),
        [
            (1, COMMIT, true),
            (3, COMMIT, false),
            (5, ABORT, true),
            (7, COMMIT, false)
        ]
    );
    assert!(p.aborted_transactions(0, i64::MAX).is_empty());
    assert_eq!(values(&p), vec![(2, b"a2".to_vec()), (6, b"y".to_vec())]);

    // Before the horizon (delete.retention.ms = 1 s) they stay; after it they go.
    clean(&p, 0, now + 500);
    assert_eq!(markers(&p).len(), 4);
    clean(&p, 0, now + 2_000);
    assert_eq!(markers(&p), [(3, COMMIT, false), (7, COMMIT, false)]);
    assert_eq!(values(&p), vec![(2, b"a2".to_vec()), (6, b"y".to_vec())]);
    let lso = p.last_stable_offset();
    assert_eq!(lso, p.log_end_offset());

    // A restart reads the same index and producer state back.
    drop(p);
    let p = compacted(dir.path());
    assert!(p.aborted_transactions(0, i64::MAX).is_empty());
    assert_eq!(p.last_stable_offset(), lso);
    assert_eq!(markers(&p), [(3, COMMIT, false), (7, COMMIT, false)]);
}

/// A batch whose header and CRC are valid but whose second record is cut off ("truncated
/// varint"), appended as produce did before it validated records.
fn append_malformed(p: &Partition, codec: Compression) -> Vec<u8> {
    let now = crate::broker::now_ms();
    let plain = keyed_batch(
        &[(b"k2", Some(b"v2")), (b"k9", Some(b"x"))],
        now,
        Compression::None,
    );
    let h = BatchHeader::new(&plain).unwrap();
    let section = records_section(&plain).unwrap();
    let first = RecordIter::new(&section, 2).next().unwrap().unwrap().raw;
    let mut records = first.to_vec();
    records.push(0x80);
    let bytes =
        batch_rewrite::build(&BatchSpec::of(&h), codec, Levels::default(), &records).unwrap();
    let v = validator::ValidBatch {
        record_count: 2,
        last_offset_delta: 1,
        max_timestamp: h.max_timestamp(),
        log_append_time: None,
        bytes: Bytes::from(bytes.clone()),
    };
    p.append(&v, AppendOrigin::Client).unwrap();
    bytes
}

#[test]
fn a_malformed_batch_is_kept_unchanged_and_cleaning_goes_on() {
    for codec in [Compression::None, Compression::Zstd] {
        let dir = tempfile::tempdir().unwrap();
        let p = compacted(dir.path());
        produce(&p, &[(b"k1", Some(b"v1")), (b"k2", Some(b"v1"))], codec);
        produce(&p, &[(b"k1", Some(&noise(200, 1)))], codec);
        let malformed = append_malformed(&p, codec); // offsets 3..=4
        produce(&p, &[(b"k1", Some(&noise(300, 2)))], codec);
        produce(&p, &[(b"k3", Some(&noise(300, 3)))], codec);
        let now = crate::broker::now_ms();
        let mut first_dirty = 0;
        for round in 0..2 {
            // Each round succeeds; before, the first failed with "truncated varint" and the
            // partition was skipped until a restart.
            first_dirty = clean(&p, first_dirty, now);
            assert!(first_dirty >= 6, "{codec:?} round {round}: {first_dirty}");
            produce(&p, &[(b"k4", Some(&noise(300, 4)))], codec);
        }
        let mut kept = Vec::new();
        let mut malformed_seen = 0;
        for_each_batch(&p, |h, batch, _| {
            if h.base_offset() == 3 {
                assert_eq!(
                    &batch[16..],
                    &malformed[16..],
                    "{codec:?}: copied unchanged"
                );
                malformed_seen += 1;
                return;
            }
            let s = records_section(batch).unwrap();
            for r in RecordIter::new(&s, h.record_count()) {
                let r = r.unwrap();
                kept.push((
                    h.base_offset() + r.offset_delta as i64,
                    r.key.unwrap().to_vec(),
                ));
            }
        });
        assert_eq!(malformed_seen, 1);
        // k1's older values are gone; k2@1 stays: the malformed batch shadows no key.
        let keys: Vec<(i64, &[u8])> = kept.iter().map(|(o, k)| (*o, k.as_slice())).collect();
        assert_eq!(
            &keys[..3],
            &[(1, &b"k2"[..]), (5, b"k1"), (6, b"k3")],
            "{codec:?}"
        );
    }
}
