//! Server-side assignors (KIP-848): `uniform` (Kafka's `UniformAssignor`, the default) and
//! `range` (Kafka's `RangeAssignor`), chosen by `group.consumer.assignors` and the members'
//! `ServerAssignor`. They compute a group's target assignment from the members' subscriptions
//! and their previous target; reconciliation then moves each member towards it.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use uuid::Uuid;

use crate::groups::modern::member::{partition_count, Assignment};

/// `UniformAssignor.UNIFORM_ASSIGNOR_NAME`.
pub const UNIFORM: &str = "uniform";
/// `RangeAssignor.RANGE_ASSIGNOR_NAME`.
pub const RANGE: &str = "range";

/// What the assignor knows of a member (Kafka's `MemberSubscriptionAndAssignmentImpl`).
#[derive(Clone, Debug)]
pub struct MemberSpec {
    pub member_id: String,
    pub instance_id: Option<String>,
    /// Ids of the existing topics the member subscribes to.
    pub topics: BTreeSet<Uuid>,
    /// The member's current target assignment.
    pub assignment: Assignment,
}

/// The group as the assignor sees it (Kafka's `GroupSpec` with a `SubscribedTopicDescriber`).
#[derive(Clone, Debug, Default)]
pub struct GroupSpec {
    pub members: Vec<MemberSpec>,
    /// Partition count of every subscribed topic.
    pub partitions: HashMap<Uuid, i32>,
}

impl GroupSpec {
    /// Every member subscribes to the same topics (Kafka's `SubscriptionType.HOMOGENEOUS`).
    pub fn is_homogeneous(&self) -> bool {
        self.members.windows(2).all(|w| w[0].topics == w[1].topics)
    }

    fn num_partitions(&self, topic: &Uuid) -> i32 {
        self.partitions.get(topic).copied().unwrap_or(0)
    }
}

/// Runs assignor `name` (an unknown name falls back to uniform). Every member gets an entry.
pub fn assign(name: &str, spec: &GroupSpec) -> BTreeMap<String, Assignment> {
    if spec.members.is_empty() {
        return BTreeMap::new();
    }
    match name {
        RANGE => range(spec),
        _ if spec.is_homogeneous() => uniform_homogeneous(spec),
        _ => uniform_heterogeneous(spec),
    }
}

/// Kafka's `RangeAssignor`: per topic, its subscribers (static members first, by instance id,
/// then the others by member id) get consecutive ranges, the first `partitions % members` one
/// partition more. With equal partition counts the topics are co-partitioned.
fn range(spec: &GroupSpec) -> BTreeMap<String, Assignment> {
    let mut members: Vec<&MemberSpec> = spec.members.iter().collect();
    members.sort_by(|a, b| match (&a.instance_id, &b.instance_id) {
        (Some(x), Some(y)) => x.cmp(y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.member_id.cmp(&b.member_id),
    });
    let mut subscribers: BTreeMap<Uuid, usize> = BTreeMap::new();
    for m in &members {
        for t in &m.topics {
            *subscribers.entry(*t).or_default() += 1;
        }
    }
    // Per topic: (next range start, min quota, members still owed an extra partition).
    let mut cursor: HashMap<Uuid, (i32, i32, i32)> = subscribers
        .iter()
        .map(|(t, n)| {
            let partitions = spec.num_partitions(t);
            let n = *n as i32;
            (*t, (0, partitions / n, partitions % n))
        })
        .collect();
    let mut out = BTreeMap::new();
    for m in members {
        let mut a = Assignment::new();
        for t in &m.topics {
            let Some((next, min, extra)) = cursor.get_mut(t) else {
                continue;
            };
            let mut quota = *min;
            if *extra > 0 {
                quota += 1;
                *extra -= 1;
            }
            let end = (*next + quota).min(spec.num_partitions(t));
            if *next < end {
                a.insert(*t, (*next..end).collect());
            }
            *next = end;
        }
        out.insert(m.member_id.clone(), a);
    }
    out
}

/// Kafka's `UniformHomogeneousAssignmentBuilder`: every member gets `total / members`
/// partitions, some one more; members keep what they had up to their quota and only the
/// surplus and the unowned partitions move. Members that already hold more get the extra slots
/// first, so a balanced group does not reshuffle.
fn uniform_homogeneous(spec: &GroupSpec) -> BTreeMap<String, Assignment> {
    let topics = &spec.members[0].topics;
    let total: i32 = topics.iter().map(|t| spec.num_partitions(t)).sum();
    let n = spec.members.len() as i32;
    let min_quota = total / n;
    let mut extra = total % n;

    let mut order: Vec<&MemberSpec> = spec.members.iter().collect();
    order.sort_by(|a, b| {
        owned_in(b, topics, spec)
            .cmp(&owned_in(a, topics, spec))
            .then_with(|| a.member_id.cmp(&b.member_id))
    });
    let mut taken: BTreeSet<(Uuid, i32)> = BTreeSet::new();
    let mut out: BTreeMap<String, Assignment> = BTreeMap::new();
    let mut unfilled: Vec<(String, i32)> = Vec::new();
    for m in order {
        let mut quota = min_quota;
        if extra > 0 {
            quota += 1;
            extra -= 1;
        }
        let mut kept = Assignment::new();
        for (t, partitions) in &m.assignment {
            if !topics.contains(t) {
                continue;
            }
            for p in partitions {
                if quota == 0 {
                    break;
                }
                if *p < spec.num_partitions(t) && taken.insert((*t, *p)) {
                    kept.entry(*t).or_default().insert(*p);
                    quota -= 1;
                }
            }
        }
        if quota > 0 {
            unfilled.push((m.member_id.clone(), quota));
        }
        out.insert(m.member_id.clone(), kept);
    }
    let mut free = topics
        .iter()
        .flat_map(|t| (0..spec.num_partitions(t)).map(move |p| (*t, p)));
    for (member, mut quota) in unfilled {
        let a = out.entry(member).or_default();
        while quota > 0 {
            let Some((t, p)) = free.by_ref().find(|tp| !taken.contains(tp)) else {
                break;
            };
            a.entry(t).or_default().insert(p);
            quota -= 1;
        }
    }
    out
}

fn owned_in(m: &MemberSpec, topics: &BTreeSet<Uuid>, spec: &GroupSpec) -> usize {
    m.assignment
        .iter()
        .filter(|(t, _)| topics.contains(t))
        .map(|(t, ps)| ps.iter().filter(|p| **p < spec.num_partitions(t)).count())
        .sum()
}

/// Kafka's `UniformHeterogeneousAssignmentBuilder`, in spirit: members keep the partitions of
/// topics they still subscribe to, unowned partitions (topics with the fewest subscribers
/// first) go to the least loaded subscriber, then partitions move from a member to a less
/// loaded subscriber of their topic while that narrows the gap by more than one.
fn uniform_heterogeneous(spec: &GroupSpec) -> BTreeMap<String, Assignment> {
    let ids: Vec<&str> = spec.members.iter().map(|m| m.member_id.as_str()).collect();
    let mut subscribers: BTreeMap<Uuid, Vec<usize>> = BTreeMap::new();
    for (i, m) in spec.members.iter().enumerate() {
        for t in &m.topics {
            subscribers.entry(*t).or_default().push(i);
        }
    }
    let mut owner: HashMap<(Uuid, i32), usize> = HashMap::new();
    let mut load = vec![0usize; spec.members.len()];
    for (i, m) in spec.members.iter().enumerate() {
        for (t, partitions) in &m.assignment {
            if !m.topics.contains(t) {
                continue;
            }
            for p in partitions {
                if *p < spec.num_partitions(t) && !owner.contains_key(&(*t, *p)) {
                    owner.insert((*t, *p), i);
                    load[i] += 1;
                }
            }
        }
    }
    let least_loaded = |candidates: &[usize], load: &[usize]| -> usize {
        *candidates
            .iter()
            .min_by(|a, b| {
                load[**a]
                    .cmp(&load[**b])
                    .then_with(|| ids[**a].cmp(ids[**b]))
            })
            .unwrap_or(&candidates[0])
    };
    let mut topics: Vec<(&Uuid, &Vec<usize>)> = subscribers.iter().collect();
    topics.sort_by_key(|(t, s)| (s.len(), **t));
    for (t, subs) in &topics {
        for p in 0..spec.num_partitions(t) {
            if owner.contains_key(&(**t, p)) {
                continue;
            }
            let i = least_loaded(subs, &load);
            owner.insert((**t, p), i);
            load[i] += 1;
        }
    }
    // Balance: each move lowers the sum of squared loads, so this ends.
    loop {
        let mut moved = false;
        let mut owned: Vec<((Uuid, i32), usize)> = owner.iter().map(|(k, v)| (*k, *v)).collect();
        owned.sort_by(|a, b| load[b.1].cmp(&load[a.1]).then_with(|| a.0.cmp(&b.0)));
        for (tp, from) in owned {
            if owner.get(&tp) != Some(&from) {
                continue;
            }
            let subs = &subscribers[&tp.0];
            let to = least_loaded(subs, &load);
            if load[to] + 1 < load[from] {
                owner.insert(tp, to);
                load[from] -= 1;
                load[to] += 1;
                moved = true;
            }
        }
        if !moved {
            break;
        }
    }
    let mut out: BTreeMap<String, Assignment> = ids
        .iter()
        .map(|id| (id.to_string(), Assignment::new()))
        .collect();
    for ((t, p), i) in owner {
        if let Some(a) = out.get_mut(ids[i]) {
            a.entry(t).or_default().insert(p);
        }
    }
    out
}

/// Sizes of each member's assignment (tests, logs).
pub fn sizes(a: &BTreeMap<String, Assignment>) -> Vec<usize> {
    a.values().map(partition_count).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn member(id: &str, topics: &[u128], assignment: Assignment) -> MemberSpec {
        MemberSpec {
            member_id: id.into(),
            instance_id: None,
            topics: topics.iter().map(|x| t(*x)).collect(),
            assignment,
        }
    }

    fn spec(members: Vec<MemberSpec>, partitions: &[(u128, i32)]) -> GroupSpec {
        GroupSpec {
            members,
            partitions: partitions.iter().map(|(x, n)| (t(*x), *n)).collect(),
        }
    }

    fn check_disjoint_and_complete(a: &BTreeMap<String, Assignment>, partitions: &[(u128, i32)]) {
        let mut seen = BTreeSet::new();
        for asg in a.values() {
            for (topic, ps) in asg {
                for p in ps {
                    assert!(
                        seen.insert((*topic, *p)),
                        "{topic}-{p} assigned twice: {a:?}"
                    );
                }
            }
        }
        let all: usize = partitions.iter().map(|(_, n)| *n as usize).sum();
        assert_eq!(seen.len(), all, "{a:?}");
    }

    #[test]
    fn uniform_spreads_evenly_and_is_sticky() {
        let parts = [(1, 6)];
        let s = spec(
            vec![
                member("a", &[1], Assignment::new()),
                member("b", &[1], Assignment::new()),
                member("c", &[1], Assignment::new()),
            ],
            &parts,
        );
        let first = assign(UNIFORM, &s);
        check_disjoint_and_complete(&first, &parts);
        assert_eq!(sizes(&first), vec![2, 2, 2]);
        // "c" leaves: "a" and "b" keep theirs and split c's two.
        let s = spec(
            vec![
                member("a", &[1], first["a"].clone()),
                member("b", &[1], first["b"].clone()),
            ],
            &parts,
        );
        let second = assign(UNIFORM, &s);
        check_disjoint_and_complete(&second, &parts);
        assert_eq!(sizes(&second), vec![3, 3]);
        assert!(first["a"][&t(1)].is_subset(&second["a"][&t(1)]));
        assert!(first["b"][&t(1)].is_subset(&second["b"][&t(1)]));
        // A fourth member joins a 3-member group: only one partition each moves at most.
        let s = spec(
            vec![
                member("a", &[1], first["a"].clone()),
                member("b", &[1], first["b"].clone()),
                member("c", &[1], first["c"].clone()),
                member("d", &[1], Assignment::new()),
            ],
            &parts,
        );
        let third = assign(UNIFORM, &s);
        check_disjoint_and_complete(&third, &parts);
        let mut sz = sizes(&third);
        sz.sort();
        assert_eq!(sz, vec![1, 1, 2, 2]);
    }

    #[test]
    fn uniform_heterogeneous_respects_subscriptions() {
        let parts = [(1, 4), (2, 2)];
        let s = spec(
            vec![
                member("a", &[1, 2], Assignment::new()),
                member("b", &[1], Assignment::new()),
                member("c", &[2], Assignment::new()),
            ],
            &parts,
        );
        let a = assign(UNIFORM, &s);
        check_disjoint_and_complete(&a, &parts);
        assert!(!a["b"].contains_key(&t(2)));
        assert!(!a["c"].contains_key(&t(1)));
        let mut sz = sizes(&a);
        sz.sort();
        assert_eq!(sz, vec![2, 2, 2]);
    }

    #[test]
    fn range_matches_kafka() {
        let parts = [(1, 3), (2, 3)];
        let s = spec(
            vec![
                member("m1", &[1, 2], Assignment::new()),
                member("m2", &[1, 2], Assignment::new()),
            ],
            &parts,
        );
        let a = assign(RANGE, &s);
        assert_eq!(a["m1"][&t(1)], [0, 1].into());
        assert_eq!(a["m1"][&t(2)], [0, 1].into());
        assert_eq!(a["m2"][&t(1)], [2].into());
        assert_eq!(a["m2"][&t(2)], [2].into());
        // Static members first.
        let mut s2 = s.clone();
        s2.members[1].instance_id = Some("i".into());
        let a = assign(RANGE, &s2);
        assert_eq!(a["m2"][&t(1)], [0, 1].into());
    }

    #[test]
    fn partitions_of_shrunk_or_unsubscribed_topics_are_dropped() {
        let parts = [(1, 2)];
        let s = spec(
            vec![member(
                "a",
                &[1],
                [(t(1), [0, 1, 5].into()), (t(9), [0].into())].into(),
            )],
            &parts,
        );
        let a = assign(UNIFORM, &s);
        assert_eq!(a["a"], [(t(1), [0, 1].into())].into());
    }
}
