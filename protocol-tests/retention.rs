//! Retention over the wire: the background task (`log.retention.check.interval.ms`, shortened
//! with `--override`) deletes segments past `retention.ms` or beyond `retention.bytes`, the log
//! start offset moves, reads below it answer OFFSET_OUT_OF_RANGE, and it survives a restart.

use std::time::Duration;

use crate::support::*;

fn log_files(broker: &Broker, topic: &str) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(broker.data_dir().join(format!("{topic}-0")))
        .expect("partition dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".log"))
        .collect();
    v.sort();
    v
}

#[test]
fn retention_ms_deletes_expired_segments() {
    let mut broker = Broker::with_overrides(&[("log.retention.check.interval.ms", "100")]);
    let mut c = broker.client();
    let topic = unique_topic("ret-ms");
    let t = create_topic_with(
        &mut c,
        &topic,
        1,
        &[
            ("retention.ms", "60000"),
            ("segment.ms", "100"),
            ("file.delete.delay.ms", "0"),
        ],
    );
    let old = now_ms() - 600_000;
    produce_ok(
        &mut c,
        &t,
        0,
        &[rec("a", "old-0").at(old), rec("b", "old-1").at(old + 1)],
    );
    produce_ok(&mut c, &t, 0, &[rec("c", "old-2").at(old + 2)]);
    // A current batch rolls the segment (its timestamp is 10 minutes after the first one's).
    let fresh = recs("fresh", 2);
    produce_ok(&mut c, &t, 0, &fresh);
    assert!(
        eventually(Duration::from_secs(20), || list_offset(
            &mut c, &topic, 0, -2, 7
        )
        .offset
            == 3),
        "log start offset moved to 3"
    );
    assert_eq!(
        log_files(&broker, &topic),
        vec!["00000000000000000003.log".to_string()]
    );
    let below = fetch(&mut c, &t, 0, 1, 12);
    assert_eq!(below.error_code, code::OFFSET_OUT_OF_RANGE);
    let d = fetch(&mut c, &t, 0, 3, 12);
    assert_eq!(d.log_start_offset, 3);
    assert_records(
        &decode_records(d.records.as_ref().expect("records")),
        &fresh,
        3,
    );
    broker.kill9_and_restart();
    let mut c = broker.client();
    assert_eq!(list_offset(&mut c, &topic, 0, -2, 7).offset, 3);
    assert_eq!(list_offset(&mut c, &topic, 0, -1, 7).offset, 5);
}

#[test]
fn retention_bytes_keeps_at_least_the_limit() {
    let broker = Broker::with_overrides(&[("log.retention.check.interval.ms", "100")]);
    let mut c = broker.client();
    let topic = unique_topic("ret-bytes");
    let mib = 1024 * 1024;
    let t = create_topic_with(
        &mut c,
        &topic,
        1,
        &[
            ("segment.bytes", "1048576"),
            ("retention.bytes", "1048576"),
            ("file.delete.delay.ms", "0"),
        ],
    );
    let value = "v".repeat(300_000);
    for i in 0..12 {
        produce_ok(&mut c, &t, 0, &[rec(&format!("k{i}"), &value)]);
    }
    // 3 batches a segment: 4 segments of ~900 KB; deleting stops while at least 1 MiB stays.
    assert!(eventually(Duration::from_secs(20), || list_offset(
        &mut c, &topic, 0, -2, 7
    )
    .offset
        == 6));
    let size: u64 = log_files(&broker, &topic)
        .iter()
        .map(|f| {
            std::fs::metadata(broker.data_dir().join(format!("{topic}-0")).join(f))
                .expect("file")
                .len()
        })
        .sum();
    assert!(size >= mib && size < 2 * mib, "{size}");
    assert_eq!(fetch(&mut c, &t, 0, 6, 12).error_code, code::NONE);
}

#[test]
fn compacted_topics_are_not_deleted_by_time() {
    let broker = Broker::with_overrides(&[
        ("log.retention.check.interval.ms", "100"),
        ("log.cleaner.enable", "false"),
    ]);
    let mut c = broker.client();
    let topic = unique_topic("ret-compact");
    let t = create_topic_with(
        &mut c,
        &topic,
        1,
        &[
            ("cleanup.policy", "compact"),
            ("retention.ms", "1000"),
            ("segment.ms", "100"),
        ],
    );
    let old = now_ms() - 600_000;
    produce_ok(&mut c, &t, 0, &[rec("a", "old").at(old)]);
    produce_ok(&mut c, &t, 0, &[rec("b", "new")]);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        list_offset(&mut c, &topic, 0, -2, 7).offset,
        0,
        "retention.ms needs cleanup.policy=delete"
    );
}
