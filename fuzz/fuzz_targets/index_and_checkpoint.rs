//! Offset and time index files and checkpoint files of arbitrary bytes: loading them never
//! panics and never allocates from a count written in the file.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use klamm::log::checkpoint;
use klamm::log::index::{OffsetIndex, TimeIndex};
use libfuzzer_sys::fuzz_target;

fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("klamm-fuzz-files-{}", std::process::id()));
        std::fs::create_dir_all(&d).expect("fuzz dir");
        d
    })
}

fuzz_target!(|data: &[u8]| {
    let d = dir();
    let index = d.join("00000000000000000000.index");
    std::fs::write(&index, data).expect("write index");
    if let Some(i) = OffsetIndex::load(index.clone(), 0, 10 * 1024 * 1024) {
        let _ = i.lookup(i64::MAX);
        let _ = i.lookup(0);
    }
    let time = d.join("00000000000000000000.timeindex");
    std::fs::write(&time, data).expect("write time index");
    if let Some(t) = TimeIndex::load(time, 0, 10 * 1024 * 1024) {
        let _ = t.lookup(i64::MAX);
        let _ = t.lookup(0);
    }
    std::fs::write(d.join(checkpoint::RECOVERY_POINT), data).expect("write checkpoint");
    let _ = checkpoint::read(d, checkpoint::RECOVERY_POINT);
});
