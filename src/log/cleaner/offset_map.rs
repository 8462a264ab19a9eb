//! The cleaner's key map (Kafka's `SkimpyOffsetMap`): a fixed-size open-addressing table from a
//! 128-bit hash of a record key to the latest offset seen for it. Memory is bounded by
//! `log.cleaner.dedupe.buffer.size` (24 bytes a slot, as Kafka's 16-byte hash plus 8-byte
//! offset), and the table is sized to the range being cleaned so a small log does not touch the
//! whole budget. A hash collision between two different keys would make the older key's record
//! look superseded; with 128-bit hashes (xxh3, Kafka uses MD5) that is negligible.

/// Bytes one slot takes: hash (16) + offset (8).
pub const BYTES_PER_ENTRY: usize = 24;

const EMPTY: i64 = -1;

pub struct OffsetMap {
    hashes: Vec<u128>,
    offsets: Vec<i64>,
    entries: usize,
    max_entries: usize,
    latest_offset: i64,
}

impl OffsetMap {
    /// A map with `slots` slots that accepts up to `slots * load_factor` keys.
    pub fn new(slots: usize, load_factor: f64) -> OffsetMap {
        let slots = slots.max(2);
        let max_entries = ((slots as f64 * load_factor.clamp(0.01, 0.99)) as usize).max(1);
        OffsetMap {
            hashes: vec![0; slots],
            offsets: vec![EMPTY; slots],
            entries: 0,
            max_entries,
            latest_offset: -1,
        }
    }

    pub fn hash(key: &[u8]) -> u128 {
        twox_hash::XxHash3_128::oneshot(key)
    }

    /// True when no more keys fit.
    pub fn is_full(&self) -> bool {
        self.entries >= self.max_entries
    }

    pub fn len(&self) -> usize {
        self.entries
    }

    pub fn is_empty(&self) -> bool {
        self.entries == 0
    }

    fn slot(&self, hash: u128) -> usize {
        let n = self.hashes.len();
        let mut i = (hash as u64 as usize) % n;
        loop {
            if self.offsets[i] == EMPTY || self.hashes[i] == hash {
                return i;
            }
            i += 1;
            if i == n {
                i = 0;
            }
        }
    }

    /// Records `offset` as the latest for the key with this hash. The caller checks
    /// [`OffsetMap::is_full`] first; a full table still accepts updates of existing keys.
    pub fn put(&mut self, hash: u128, offset: i64) {
        let i = self.slot(hash);
        if self.offsets[i] == EMPTY {
            if self.entries + 1 >= self.hashes.len() {
                return; // never fill the last slot: lookups must find an empty one
            }
            self.entries += 1;
            self.hashes[i] = hash;
        }
        self.offsets[i] = offset;
        if offset > self.latest_offset {
            self.latest_offset = offset;
        }
    }

    /// The latest offset recorded for the key, or -1.
    pub fn get(&self, hash: u128) -> i64 {
        let i = self.slot(hash);
        if self.offsets[i] == EMPTY {
            -1
        } else {
            self.offsets[i]
        }
    }

    /// The highest offset the map covers (records above it were not indexed).
    pub fn latest_offset(&self) -> i64 {
        self.latest_offset
    }

    pub fn update_latest_offset(&mut self, offset: i64) {
        if offset > self.latest_offset {
            self.latest_offset = offset;
        }
    }

    /// Fraction of slots used.
    pub fn utilization(&self) -> f64 {
        self.entries as f64 / self.hashes.len() as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_latest_offset_per_key_and_stops_when_full() {
        let mut m = OffsetMap::new(10, 0.5);
        m.put(OffsetMap::hash(b"a"), 1);
        m.put(OffsetMap::hash(b"b"), 2);
        m.put(OffsetMap::hash(b"a"), 7);
        assert_eq!(m.get(OffsetMap::hash(b"a")), 7);
        assert_eq!(m.get(OffsetMap::hash(b"b")), 2);
        assert_eq!(m.get(OffsetMap::hash(b"zz")), -1);
        assert_eq!(m.len(), 2);
        assert_eq!(m.latest_offset(), 7);
        for k in 0..3u8 {
            m.put(OffsetMap::hash(&[k, 9]), 10 + k as i64);
        }
        assert!(m.is_full());
        for k in 0..200u32 {
            m.put(OffsetMap::hash(&k.to_be_bytes()), 100);
        }
        assert!(m.len() < 10, "a slot always stays empty");
    }
}
