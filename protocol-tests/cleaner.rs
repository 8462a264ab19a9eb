//! The log cleaner over the wire: a compacted topic keeps the latest record of each key at its
//! original offset, with tombstones until `delete.retention.ms` has passed, across restarts.

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use kafka_protocol::records::Record;

use crate::support::*;

fn read_all(c: &mut Client, t: &TopicRef) -> Vec<Record> {
    let mut out = Vec::new();
    let mut next = list_offset(c, &t.name, 0, -2, 7).offset;
    loop {
        let d = fetch(c, t, 0, next, 12);
        assert_eq!(d.error_code, code::NONE);
        let recs: Vec<Record> = decode_records(d.records.as_ref().expect("records"))
            .into_iter()
            .filter(|r| r.offset >= next)
            .collect();
        let Some(last) = recs.last() else { return out };
        next = last.offset + 1;
        out.extend(recs);
        if next >= d.high_watermark {
            return out;
        }
    }
}

fn tombstone(key: &str) -> Rec {
    Rec {
        value: None,
        ..rec(key, "")
    }
}

/// key -> (offset, value) of the latest record per key.
fn latest(records: &[Record]) -> BTreeMap<Bytes, (i64, Option<Bytes>)> {
    records
        .iter()
        .map(|r| (r.key.clone().expect("key"), (r.offset, r.value.clone())))
        .collect()
}

#[test]
fn compaction_keeps_latest_per_key_then_drops_tombstones() {
    let mut broker = Broker::with_overrides(&[("log.cleaner.backoff.ms", "50")]);
    let mut c = broker.client();
    let topic = unique_topic("clean");
    let t = create_topic_with(
        &mut c,
        &topic,
        1,
        &[
            ("cleanup.policy", "compact"),
            ("segment.ms", "100"),
            ("min.cleanable.dirty.ratio", "0.01"),
            ("delete.retention.ms", "2000"),
        ],
    );
    for round in 0..4 {
        let batch: Vec<Rec> = (0..10)
            .map(|k| {
                rec(&format!("k{k}"), &format!("r{round}"))
                    .header("h", Some("1"))
                    .header("h", Some("2"))
            })
            .collect();
        produce_ok(&mut c, &t, 0, &batch);
    }
    produce_ok(&mut c, &t, 0, &[tombstone("k0"), tombstone("k1")]);
    let written = read_all(&mut c, &t);
    let expected = latest(&written);
    std::thread::sleep(Duration::from_millis(150));
    produce_ok(&mut c, &t, 0, &[rec("roll", "x")]);

    let compacted = |c: &mut Client| {
        let got = read_all(c, &t);
        let keys: Vec<&Bytes> = got.iter().filter_map(|r| r.key.as_ref()).collect();
        let unique = keys.len() == keys.iter().collect::<std::collections::BTreeSet<_>>().len();
        (unique && got.len() == 11, got)
    };
    assert!(
        eventually(Duration::from_secs(20), || compacted(&mut c).0),
        "compacted to one record per key"
    );
    let got = compacted(&mut c).1;
    for r in &got {
        let key = r.key.clone().expect("key");
        if key.as_ref() != b"roll" {
            assert_eq!(
                expected[&key],
                (r.offset, r.value.clone()),
                "latest record of {key:?} at its offset"
            );
        }
        if r.value.is_some() && key.as_ref() != b"roll" {
            let h: Vec<&str> = r.headers.keys().map(|k| k.as_str()).collect();
            assert!(h.contains(&"h"), "headers kept");
        }
    }
    assert_eq!(
        got.iter().filter(|r| r.value.is_none()).count(),
        2,
        "tombstones kept for now"
    );

    // Past delete.retention.ms, the next cleaning (new dirty data) drops the tombstones.
    std::thread::sleep(Duration::from_millis(2100));
    produce_ok(&mut c, &t, 0, &[rec("roll2", "y")]);
    std::thread::sleep(Duration::from_millis(150));
    produce_ok(&mut c, &t, 0, &[rec("roll3", "z")]);
    assert!(eventually(Duration::from_secs(20), || read_all(&mut c, &t)
        .iter()
        .all(|r| r.value.is_some())));
    let before_restart = read_all(&mut c, &t);
    assert_eq!(before_restart.len(), 11);
    broker.restart();
    let mut c = broker.client();
    let after: Vec<(i64, Option<Bytes>)> = read_all(&mut c, &t)
        .iter()
        .map(|r| (r.offset, r.value.clone()))
        .collect();
    let before: Vec<(i64, Option<Bytes>)> = before_restart
        .iter()
        .map(|r| (r.offset, r.value.clone()))
        .collect();
    assert_eq!(after, before);
}

#[test]
fn keyless_records_are_refused_on_compacted_topics() {
    let broker = Broker::start();
    let mut c = broker.client();
    let topic = unique_topic("clean-nokey");
    let t = create_topic_with(&mut c, &topic, 1, &[("cleanup.policy", "compact")]);
    let keyless = Rec {
        key: None,
        ..rec("", "v")
    };
    let p = produce(&mut c, &t, 0, batch(&[rec("k", "v"), keyless]), 9);
    assert_eq!(p.error_code, code::INVALID_RECORD);
    assert_eq!(
        list_offset(&mut c, &topic, 0, -1, 7).offset,
        0,
        "nothing appended"
    );
}
