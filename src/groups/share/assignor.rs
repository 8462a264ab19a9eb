//! Kafka's `SimpleAssignor` (the only share-group assignor, `group.share.assignors=simple`):
//! a partition may go to several members, so every member gets work even when there are more
//! members than partitions. For members with the same subscription (the homogeneous case), as
//! Kafka 4.1's `SimpleHomogeneousAssignmentBuilder`: each member first gets the partition its id
//! hashes to (`abs(hashCode(memberId)) % partitions`), keeps its current partitions up to its
//! share (`ceil(partitions / members)`), and the partitions nobody has are dealt round-robin to
//! the members still at or below their share. Members subscribing to different topics are
//! assigned per topic the same way among that topic's subscribers.

use std::collections::{BTreeMap, BTreeSet};

use uuid::Uuid;

use crate::groups::java_string_hash;

/// A member as the assignor sees it.
pub struct AssignorMember<'a> {
    pub member_id: &'a str,
    pub current: &'a BTreeMap<Uuid, Vec<i32>>,
    /// Subscribed topics that exist, with their partition counts.
    pub topics: Vec<(Uuid, i32)>,
}

fn abs_mod(h: i32, n: usize) -> usize {
    let h = if h == i32::MIN { 0 } else { h.abs() };
    (h as usize) % n.max(1)
}

/// The target assignment of every member.
pub fn assign(members: &[AssignorMember<'_>]) -> BTreeMap<String, BTreeMap<Uuid, Vec<i32>>> {
    let mut out: BTreeMap<String, BTreeSet<(Uuid, i32)>> = members
        .iter()
        .map(|m| (m.member_id.to_string(), BTreeSet::new()))
        .collect();
    // Group members by identical subscription; each set is assigned as a homogeneous group.
    let mut by_subscription: BTreeMap<Vec<(Uuid, i32)>, Vec<&AssignorMember<'_>>> = BTreeMap::new();
    for m in members {
        let mut topics = m.topics.clone();
        topics.sort();
        by_subscription.entry(topics).or_default().push(m);
    }
    for (topics, group) in by_subscription {
        let partitions: Vec<(Uuid, i32)> = topics
            .iter()
            .flat_map(|(id, n)| (0..*n).map(move |p| (*id, p)))
            .collect();
        if partitions.is_empty() {
            continue;
        }
        let desired = partitions.len().div_ceil(group.len());
        let mut hashed: BTreeSet<(Uuid, i32)> = BTreeSet::new();
        for m in &group {
            let p = partitions[abs_mod(java_string_hash(m.member_id), partitions.len())];
            hashed.insert(p);
            out.entry(m.member_id.to_string()).or_default().insert(p);
        }
        // Stickiness: current partitions the hash step did not hand out, up to the share.
        for m in &group {
            for (id, ps) in m.current {
                for p in ps {
                    let tp = (*id, *p);
                    if !partitions.contains(&tp) || hashed.contains(&tp) {
                        continue;
                    }
                    let mine = out.entry(m.member_id.to_string()).or_default();
                    if mine.len() < desired {
                        mine.insert(tp);
                    }
                }
            }
        }
        let assigned: BTreeSet<(Uuid, i32)> = group
            .iter()
            .flat_map(|m| out[m.member_id].iter().copied())
            .collect();
        let mut rotation: Vec<&str> = group.iter().map(|m| m.member_id).collect();
        let mut i = 0usize;
        for tp in partitions.iter().filter(|tp| !assigned.contains(tp)) {
            while !rotation.is_empty() {
                let idx = i % rotation.len();
                let m = rotation[idx];
                let mine = out.entry(m.to_string()).or_default();
                if mine.len() <= desired {
                    mine.insert(*tp);
                    i = idx + 1;
                    break;
                }
                rotation.remove(idx);
            }
        }
    }
    out.into_iter()
        .map(|(m, tps)| {
            let mut by_topic: BTreeMap<Uuid, Vec<i32>> = BTreeMap::new();
            for (id, p) in tps {
                by_topic.entry(id).or_default().push(p);
            }
            (m, by_topic)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_partition_goes_to_every_member_and_many_are_spread() {
        let t = Uuid::from_bytes([1; 16]);
        let empty = BTreeMap::new();
        let ms: Vec<AssignorMember<'_>> = ["a", "b", "c"]
            .iter()
            .map(|id| AssignorMember {
                member_id: id,
                current: &empty,
                topics: vec![(t, 1)],
            })
            .collect();
        let a = assign(&ms);
        for m in ["a", "b", "c"] {
            assert_eq!(a[m][&t], vec![0]);
        }
        let ms: Vec<AssignorMember<'_>> = ["a", "b"]
            .iter()
            .map(|id| AssignorMember {
                member_id: id,
                current: &empty,
                topics: vec![(t, 8)],
            })
            .collect();
        let a = assign(&ms);
        let all: BTreeSet<i32> = a.values().flat_map(|m| m[&t].iter().copied()).collect();
        assert_eq!(all.len(), 8);
        for m in a.values() {
            assert!((3..=5).contains(&m[&t].len()), "{a:?}");
        }
    }
}
