//! One scratch directory per fuzzing process, for the targets that parse files.

use std::path::PathBuf;
use std::sync::OnceLock;

/// `$TMPDIR/klamm-fuzz-<what>-<pid>`, created on first use and reused for every input.
pub fn scratch_dir(what: &str) -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("klamm-fuzz-{what}-{}", std::process::id()));
        std::fs::create_dir_all(&d).expect("fuzz dir");
        d
    })
}
