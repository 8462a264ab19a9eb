//! A segment file of arbitrary bytes, opened with recovery as after a crash: the scan keeps a
//! prefix of valid batches, truncates the rest and rebuilds the indexes; it never panics, and
//! what it keeps is whole batches that a second open accepts unchanged.
#![no_main]

mod scratch_dir;

use klamm::log::segment::{file_name, LogSegment, SegmentLimits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let d = scratch_dir::scratch_dir("segment");
    for suffix in [".log", ".index", ".timeindex", ".txnindex"] {
        let _ = std::fs::remove_file(d.join(file_name(0, suffix)));
    }
    std::fs::write(d.join(file_name(0, ".log")), data).expect("write segment");
    let limits = SegmentLimits {
        index_interval_bytes: 4096,
        max_index_bytes: 10 * 1024 * 1024,
    };
    let Ok((seg, scan)) = LogSegment::open(d, 0, limits, true, &mut |_| {}) else {
        return;
    };
    assert!(scan.valid_bytes <= data.len() as u64);
    let kept = seg.size();
    drop(seg);
    let (again, rescan) =
        LogSegment::open(d, 0, limits, true, &mut |_| {}).expect("reopen a recovered segment");
    assert_eq!(again.size(), kept);
    assert_eq!(rescan.invalid_bytes, 0);
});
