//! Kafka's offset checkpoint files (`OffsetCheckpointFile`): `recovery-point-offset-checkpoint`,
//! `log-start-offset-checkpoint` and `replication-offset-checkpoint` in the data directory.
//!
//! ```text
//! 0                 <- version
//! 2                 <- entries
//! topic 0 1234
//! other-topic 3 99
//! ```

use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::Path;

use crate::cluster::write_atomically;

pub const RECOVERY_POINT: &str = "recovery-point-offset-checkpoint";
pub const LOG_START_OFFSET: &str = "log-start-offset-checkpoint";
pub const REPLICATION_OFFSET: &str = "replication-offset-checkpoint";

/// `(topic, partition) -> offset`
pub type Offsets = HashMap<(String, i32), i64>;

/// Reads a checkpoint file; a missing or malformed file reads as empty (its data is then
/// recovered from the log, the safe direction).
pub fn read(dir: &Path, name: &str) -> Offsets {
    let Ok(text) = fs::read_to_string(dir.join(name)) else {
        return Offsets::new();
    };
    let mut lines = text.lines();
    if lines.next().map(str::trim) != Some("0") {
        return Offsets::new();
    }
    let Some(count) = lines.next().and_then(|l| l.trim().parse::<usize>().ok()) else {
        return Offsets::new();
    };
    let mut out = Offsets::with_capacity(count);
    for line in lines.take(count) {
        let mut parts = line.split_whitespace();
        let (Some(t), Some(p), Some(o), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Offsets::new();
        };
        match (p.parse::<i32>(), o.parse::<i64>()) {
            (Ok(p), Ok(o)) => {
                out.insert((t.to_string(), p), o);
            }
            _ => return Offsets::new(),
        }
    }
    if out.len() != count {
        return Offsets::new();
    }
    out
}

/// Writes a checkpoint file atomically.
pub fn write(dir: &Path, name: &str, entries: &[(String, i32, i64)]) -> io::Result<()> {
    let mut s = format!("0\n{}\n", entries.len());
    for (t, p, o) in entries {
        s.push_str(&format!("{t} {p} {o}\n"));
    }
    write_atomically(&dir.join(name), s.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            RECOVERY_POINT,
            &[("a".into(), 0, 5), ("b-c".into(), 2, 7)],
        )
        .unwrap();
        let m = read(dir.path(), RECOVERY_POINT);
        assert_eq!(m.get(&("a".to_string(), 0)), Some(&5));
        assert_eq!(m.get(&("b-c".to_string(), 2)), Some(&7));
        assert!(read(dir.path(), LOG_START_OFFSET).is_empty());
    }
}
