//! The transaction index (`<base offset>.txnindex`, Kafka's `TransactionIndex`): one entry per
//! aborted transaction whose ABORT marker lies in the segment, so a read_committed fetch can
//! tell the consumer which producers' records to drop without the broker decoding anything.
//!
//! Entry (34 bytes, big-endian): `version i16 (0), producerId i64, firstOffset i64,
//! lastOffset i64 (the marker), lastStableOffset i64`.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::log::segment::{file_name, offset_from_file_name};

/// `TransactionIndex`'s entry size.
pub const ENTRY_SIZE: usize = 34;
const VERSION: i16 = 0;

/// An aborted transaction of one producer (`AbortedTxn`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AbortedTxn {
    pub producer_id: i64,
    pub first_offset: i64,
    /// Offset of the ABORT marker.
    pub last_offset: i64,
    /// The partition's last stable offset once this transaction ended.
    pub last_stable_offset: i64,
}

impl AbortedTxn {
    pub fn encode(&self) -> [u8; ENTRY_SIZE] {
        let mut b = [0u8; ENTRY_SIZE];
        b[0..2].copy_from_slice(&VERSION.to_be_bytes());
        b[2..10].copy_from_slice(&self.producer_id.to_be_bytes());
        b[10..18].copy_from_slice(&self.first_offset.to_be_bytes());
        b[18..26].copy_from_slice(&self.last_offset.to_be_bytes());
        b[26..34].copy_from_slice(&self.last_stable_offset.to_be_bytes());
        b
    }

    pub fn decode(b: &[u8]) -> Option<AbortedTxn> {
        if b.len() < ENTRY_SIZE || i16::from_be_bytes([b[0], b[1]]) != VERSION {
            return None;
        }
        let at = |i: usize| {
            let mut a = [0u8; 8];
            a.copy_from_slice(&b[i..i + 8]);
            i64::from_be_bytes(a)
        };
        Some(AbortedTxn {
            producer_id: at(2),
            first_offset: at(10),
            last_offset: at(18),
            last_stable_offset: at(26),
        })
    }
}

/// Path of a segment's transaction index.
pub fn path(dir: &Path, segment_base: i64) -> PathBuf {
    dir.join(file_name(segment_base, ".txnindex"))
}

/// Appends one entry to the segment's index (created on first use, as Kafka does).
pub fn append(dir: &Path, segment_base: i64, entry: &AbortedTxn) -> io::Result<()> {
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path(dir, segment_base))?;
    f.write_all(&entry.encode())
}

/// Rewrites a segment's index with exactly `entries` (or removes it when there are none).
pub fn rewrite(dir: &Path, segment_base: i64, entries: &[AbortedTxn]) -> io::Result<()> {
    let p = path(dir, segment_base);
    if entries.is_empty() {
        return match fs::remove_file(&p) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        };
    }
    let mut buf = Vec::with_capacity(entries.len() * ENTRY_SIZE);
    for e in entries {
        buf.extend_from_slice(&e.encode());
    }
    crate::cluster::write_atomically(&p, &buf)
}

/// Every entry of every `.txnindex` file in a partition directory, as `(segment base, entry)`.
/// A torn trailing entry is ignored (the index is rebuilt from the log where it matters).
pub fn read_all(dir: &Path) -> Vec<(i64, AbortedTxn)> {
    let Ok(rd) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in rd.filter_map(|e| e.ok()) {
        let name = e.file_name().to_string_lossy().to_string();
        if !name.ends_with(".txnindex") {
            continue;
        }
        let Some(base) = offset_from_file_name(&name) else {
            continue;
        };
        let Ok(bytes) = fs::read(e.path()) else {
            continue;
        };
        for chunk in bytes.chunks_exact(ENTRY_SIZE) {
            if let Some(a) = AbortedTxn::decode(chunk) {
                out.push((base, a));
            }
        }
    }
    out
}

/// Removes the `.txnindex` files of segments below `first_base` (deleted by retention).
pub fn delete_below(dir: &Path, first_base: i64) {
    let Ok(rd) = fs::read_dir(dir) else {
        return;
    };
    for e in rd.filter_map(|e| e.ok()) {
        let name = e.file_name().to_string_lossy().to_string();
        if name.ends_with(".txnindex")
            && offset_from_file_name(&name).is_some_and(|b| b < first_base)
        {
            let _ = fs::remove_file(e.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn append_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let a = AbortedTxn {
            producer_id: 5,
            first_offset: 10,
            last_offset: 20,
            last_stable_offset: 21,
        };
        append(dir.path(), 0, &a).unwrap();
        append(
            dir.path(),
            0,
            &AbortedTxn {
                producer_id: 6,
                ..a
            },
        )
        .unwrap();
        append(dir.path(), 100, &a).unwrap();
        let mut all = read_all(dir.path());
        all.sort_by_key(|(b, e)| (*b, e.producer_id));
        assert_eq!(all.len(), 3);
        assert_eq!(all[0], (0, a));
        assert_eq!(fs::metadata(path(dir.path(), 0)).unwrap().len(), 68);
        delete_below(dir.path(), 100);
        assert_eq!(read_all(dir.path()).len(), 1);
    }
}
