//! Corrupt checkpoint files in the data directory do not stop the broker: an unreadable
//! `recovery-point-offset-checkpoint` means every partition is recovered from its first segment
//! (a torn tail is found and cut even after a clean shutdown), an unreadable
//! `log-start-offset-checkpoint` falls back to the segments' base offsets, each with a warning
//! naming the file; counts in the files (2^64-1, 2^31-1 entries) allocate nothing. The next
//! checkpoint writes readable files again.

use std::fs;
use std::io::Write;

use crate::support::*;

const RECOVERY_POINT: &str = "recovery-point-offset-checkpoint";
const LOG_START_OFFSET: &str = "log-start-offset-checkpoint";

/// Stops the broker cleanly, lets `corrupt` change the data directory, starts it again and
/// checks that both partitions serve all their records and take the next write at the right
/// offset.
fn restart_with(
    broker: &mut Broker,
    produced: &mut [Vec<Rec>; 2],
    t: &TopicRef,
    corrupt: impl FnOnce(&std::path::Path),
) {
    let status = broker.stop();
    assert!(status.is_some_and(|s| s.success()), "clean stop");
    corrupt(&broker.data_dir());
    broker.spawn();
    let mut c = broker.client();
    for (p, records) in produced.iter_mut().enumerate() {
        let p = p as i32;
        assert_eq!(
            list_offset(&mut c, &t.name, p, -2, 7).offset,
            0,
            "log start of {p}"
        );
        assert_eq!(
            list_offset(&mut c, &t.name, p, -1, 7).offset,
            records.len() as i64,
            "log end of {p}"
        );
        let d = fetch(&mut c, t, p, 0, 12);
        assert_eq!(d.error_code, code::NONE);
        assert_records(&decode_records(&d.records.expect("records")), records, 0);
        let next = recs(&format!("after-{}-{p}", records.len()), 2);
        assert_eq!(produce_ok(&mut c, t, p, &next), records.len() as i64);
        records.extend(next);
    }
}

#[test]
fn corrupt_checkpoint_files_fall_back_safely() {
    let mut broker = Broker::start();
    let mut c = broker.client();
    let t = create_topic(&mut c, "cp", 2);
    let mut produced = [recs("p0", 3), recs("p1", 2)];
    for (p, records) in produced.iter().enumerate() {
        produce_ok(&mut c, &t, p as i32, records);
    }
    drop(c);

    // Garbage bytes in the recovery points.
    restart_with(&mut broker, &mut produced, &t, |d| {
        fs::write(d.join(RECOVERY_POINT), [0xde, 0xad, 0xbe, 0xef, 0, 0xff]).unwrap();
    });
    assert!(broker.stderr_tail().contains(RECOVERY_POINT));

    // 2^64-1 recovery points declared, and junk after the last batch of partition 0 that only
    // a recovery of the segment finds (the clean-shutdown marker is not trusted without
    // readable recovery points).
    restart_with(&mut broker, &mut produced, &t, |d| {
        fs::write(
            d.join(RECOVERY_POINT),
            "0\n18446744073709551615\ncp 0 5\ncp 1 4\n",
        )
        .unwrap();
        let mut seg = fs::OpenOptions::new()
            .append(true)
            .open(d.join("cp-0").join("00000000000000000000.log"))
            .unwrap();
        seg.write_all(&[0x5a; 300]).unwrap();
    });

    // 2^31-1 log start offsets declared.
    restart_with(&mut broker, &mut produced, &t, |d| {
        fs::write(d.join(LOG_START_OFFSET), "0\n2147483647\ncp 0 0\n").unwrap();
    });
    assert!(broker.stderr_tail().contains(LOG_START_OFFSET));

    // Every checkpoint file at once, the cleaner's too.
    restart_with(&mut broker, &mut produced, &t, |d| {
        for f in [
            RECOVERY_POINT,
            LOG_START_OFFSET,
            "replication-offset-checkpoint",
            "cleaner-offset-checkpoint",
        ] {
            fs::write(d.join(f), "1\nnot a checkpoint\n").unwrap();
        }
    });

    // A clean stop writes readable files again.
    assert!(broker.stop().is_some_and(|s| s.success()));
    let text = fs::read_to_string(broker.data_dir().join(LOG_START_OFFSET)).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines[2..].sort_unstable();
    assert_eq!(lines, ["0", "2", "cp 0 0", "cp 1 0"]);
    let text = fs::read_to_string(broker.data_dir().join(RECOVERY_POINT)).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines[2..].sort_unstable();
    assert_eq!(lines, ["0", "2", "cp 0 11", "cp 1 10"]);
}
