//! The topics a consumer group can subscribe to, as the coordinator sees them (Kafka's
//! `TopicsImage` in the group coordinator's `MetadataImage`): names, ids and partition counts,
//! taken from the log manager and rebuilt only when its topic set changed.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use uuid::Uuid;

use crate::log::LogManager;

/// One topic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicMetadata {
    pub id: Uuid,
    pub name: Arc<str>,
    pub num_partitions: i32,
}

/// An immutable view of the broker's topics.
#[derive(Debug, Default)]
pub struct TopicsImage {
    /// The log manager's topic-set version this image was built from.
    pub version: u64,
    by_name: BTreeMap<Arc<str>, TopicMetadata>,
    by_id: HashMap<Uuid, Arc<str>>,
}

impl TopicsImage {
    pub fn from_logs(logs: &LogManager) -> TopicsImage {
        let version = logs.topics_version();
        let topics = logs.topics().into_iter().map(|t| TopicMetadata {
            id: t.id,
            name: t.name.clone(),
            num_partitions: t.partitions.len() as i32,
        });
        TopicsImage::new(version, topics)
    }

    pub fn new(version: u64, topics: impl IntoIterator<Item = TopicMetadata>) -> TopicsImage {
        let mut image = TopicsImage {
            version,
            ..TopicsImage::default()
        };
        for t in topics {
            image.by_id.insert(t.id, t.name.clone());
            image.by_name.insert(t.name.clone(), t);
        }
        image
    }

    pub fn topic(&self, name: &str) -> Option<&TopicMetadata> {
        self.by_name.get(name)
    }

    pub fn topic_by_id(&self, id: &Uuid) -> Option<&TopicMetadata> {
        self.by_id.get(id).and_then(|n| self.by_name.get(n))
    }

    pub fn name(&self, id: &Uuid) -> Option<&str> {
        self.by_id.get(id).map(|n| &**n)
    }

    /// Every topic, by name.
    pub fn topics(&self) -> impl Iterator<Item = &TopicMetadata> {
        self.by_name.values()
    }

    /// Kafka 4.1's per-topic hash input (KIP-1101) is the topic's id, name, partition count
    /// and racks; a single node has no racks. The value is FNV-1a over those fields: stable
    /// across restarts (the topic id is persisted), which is all the group needs from it, as
    /// a mismatch only triggers a rebalance.
    pub fn topic_hash(&self, name: &str) -> u64 {
        let Some(t) = self.topic(name) else {
            return 0;
        };
        let mut h = Fnv::default();
        h.write(&[0]); // format version
        h.write(t.id.as_bytes());
        h.write(t.name.as_bytes());
        h.write(&t.num_partitions.to_be_bytes());
        h.finish()
    }

    /// The group's metadata hash over the topics it subscribes to (Kafka's `computeGroupHash`):
    /// topics that do not exist are left out, so creating one changes the hash; 0 for none.
    pub fn group_hash<'a>(&self, topics: impl IntoIterator<Item = &'a str>) -> i64 {
        let mut hashes: Vec<(&str, u64)> = topics
            .into_iter()
            .map(|t| (t, self.topic_hash(t)))
            .filter(|(_, h)| *h != 0)
            .collect();
        if hashes.is_empty() {
            return 0;
        }
        hashes.sort_unstable();
        hashes.dedup();
        let mut h = Fnv::default();
        for (_, th) in hashes {
            h.write(&th.to_be_bytes());
        }
        h.finish() as i64
    }
}

/// 64-bit FNV-1a.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= *b as u64;
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topic(name: &str, id: u128, n: i32) -> TopicMetadata {
        TopicMetadata {
            id: Uuid::from_u128(id),
            name: name.into(),
            num_partitions: n,
        }
    }

    #[test]
    fn group_hash_follows_topics_and_partition_counts() {
        let a = TopicsImage::new(1, [topic("a", 1, 3), topic("b", 2, 1)]);
        let h = a.group_hash(["a", "b"]);
        assert_ne!(h, 0);
        assert_eq!(h, a.group_hash(["b", "a", "a"]));
        assert_eq!(a.group_hash(["missing"]), 0);
        assert_eq!(a.group_hash(["a", "missing"]), a.group_hash(["a"]));
        let more = TopicsImage::new(2, [topic("a", 1, 4), topic("b", 2, 1)]);
        assert_ne!(more.group_hash(["a", "b"]), h);
        let recreated = TopicsImage::new(3, [topic("a", 9, 3), topic("b", 2, 1)]);
        assert_ne!(recreated.group_hash(["a", "b"]), h);
        assert_eq!(a.name(&Uuid::from_u128(2)), Some("b"));
    }
}
