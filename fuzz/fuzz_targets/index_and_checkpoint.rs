//! Offset and time index files and checkpoint files of arbitrary bytes: loading them never
//! panics and never allocates from a count written in the file.
#![no_main]

mod scratch_dir;

use klamm::log::checkpoint;
use klamm::log::index::{OffsetIndex, TimeIndex};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let d = scratch_dir::scratch_dir("files");
    let index = d.join("00000000000000000000.index");
    std::fs::write(&index, data).expect("write index");
    if let Some(i) = OffsetIndex::load(index.clone(), 0, 64 * 1024) {
        let _ = i.lookup(i64::MAX);
        let _ = i.lookup(0);
    }
    let time = d.join("00000000000000000000.timeindex");
    std::fs::write(&time, data).expect("write time index");
    if let Some(t) = TimeIndex::load(time, 0, 64 * 1024) {
        let _ = t.lookup(i64::MAX);
        let _ = t.lookup(0);
    }
    std::fs::write(d.join(checkpoint::RECOVERY_POINT), data).expect("write checkpoint");
    let _ = checkpoint::read(d, checkpoint::RECOVERY_POINT);
});
