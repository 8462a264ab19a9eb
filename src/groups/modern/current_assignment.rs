//! Reconciliation of one member towards its target assignment (Kafka's
//! `CurrentAssignmentBuilder`): partitions leave a member before anyone else gets them, and the
//! member moves to the new epoch only once it has acknowledged (by no longer reporting them in
//! `TopicPartitions`) every partition it had to give up.
//!
//! - Stable at an older epoch: compute the next assignment.
//! - UnrevokedPartitions: wait until the owned partitions no longer include any pending
//!   revocation, then compute the next assignment.
//! - UnreleasedPartitions: compute again; partitions still owned elsewhere stay out.
//!
//! The next assignment keeps what the member has and the target still wants; the rest is
//! revoked (the member stays at its epoch while it revokes); target partitions that are free
//! are added and the member moves to the target epoch; target partitions another member still
//! owns are held back (UnreleasedPartitions) until that member lets go.

use std::collections::BTreeSet;

use uuid::Uuid;

use crate::error::Error;
use crate::groups::modern::member::{Assignment, ConsumerGroupMember, MemberState};

/// The owned partitions a heartbeat reported (`TopicPartitions`), `None` when not sent.
pub type Owned<'a> = Option<&'a [(Uuid, Vec<i32>)]>;

pub struct CurrentAssignmentBuilder<'a> {
    pub member: &'a ConsumerGroupMember,
    pub target_epoch: i32,
    pub target: &'a Assignment,
    /// The epoch of the partition's current owner, -1 when free.
    pub partition_epoch: &'a dyn Fn(&Uuid, i32) -> i32,
    pub owned: Owned<'a>,
    /// Ids of the topics the member subscribes to; partitions of others are revoked.
    pub subscribed: &'a BTreeSet<Uuid>,
    /// The member's subscription changed in this heartbeat: drop unsubscribed topics now
    /// (Kafka 4.1's `enforceSubscriptionConsistency`).
    pub subscription_changed: bool,
}

impl CurrentAssignmentBuilder<'_> {
    pub fn build(&self) -> Result<ConsumerGroupMember, Error> {
        let m = self.member;
        let c = &m.current;
        match c.state {
            MemberState::Stable => {
                if c.member_epoch != self.target_epoch {
                    Ok(self.next_assignment(c.member_epoch))
                } else if self.subscription_changed {
                    Ok(self.drop_unsubscribed(c.member_epoch))
                } else {
                    Ok(m.clone())
                }
            }
            MemberState::UnrevokedPartitions => {
                if self.owns_any(&c.partitions_pending_revocation) {
                    if self.subscription_changed {
                        Ok(self.drop_unsubscribed(c.member_epoch))
                    } else {
                        Ok(m.clone())
                    }
                } else {
                    Ok(self.next_assignment(c.member_epoch))
                }
            }
            MemberState::UnreleasedPartitions => Ok(self.next_assignment(c.member_epoch)),
            MemberState::Unknown => {
                if self.owned.is_none_or(|o| !o.is_empty()) {
                    return Err(Error::FencedMemberEpoch(
                        "The consumer group member is in a unknown state. The member must abandon all its partitions and rejoin."
                            .into(),
                    ));
                }
                Ok(self.next_assignment(self.target_epoch))
            }
        }
    }

    /// Whether the member still reports owning any of `partitions` (not reporting counts as
    /// owning, as in Kafka's `ownsRevokedPartitions`).
    fn owns_any(&self, partitions: &Assignment) -> bool {
        let Some(owned) = self.owned else {
            return true;
        };
        owned.iter().any(|(topic, ps)| {
            partitions
                .get(topic)
                .is_some_and(|pending| ps.iter().any(|p| pending.contains(p)))
        })
    }

    /// Kafka's `updateCurrentAssignment`: partitions of topics the member no longer subscribes
    /// to are revoked at once, without waiting for a new target assignment.
    fn drop_unsubscribed(&self, epoch: i32) -> ConsumerGroupMember {
        let m = self.member;
        let mut assigned = m.current.assigned_partitions.clone();
        let mut pending = m.current.partitions_pending_revocation.clone();
        let gone: Vec<Uuid> = assigned
            .keys()
            .filter(|t| !self.subscribed.contains(t))
            .copied()
            .collect();
        if gone.is_empty() {
            return m.clone();
        }
        for t in gone {
            if let Some(ps) = assigned.remove(&t) {
                pending.entry(t).or_default().extend(ps);
            }
        }
        let mut next = m.clone();
        let previous = next.current.member_epoch;
        next.current.previous_member_epoch = previous;
        next.current.member_epoch = epoch;
        next.current.assigned_partitions = assigned;
        if !pending.is_empty() && self.owns_any(&pending) {
            next.current.state = MemberState::UnrevokedPartitions;
            next.current.partitions_pending_revocation = pending;
        }
        next
    }

    /// Kafka's `computeNextAssignment`.
    fn next_assignment(&self, member_epoch: i32) -> ConsumerGroupMember {
        let m = self.member;
        let current = &m.current.assigned_partitions;
        let own_pending = &m.current.partitions_pending_revocation;
        let mut has_unreleased = false;
        let mut assigned = Assignment::new();
        let mut revoke = Assignment::new();
        let mut to_assign = Assignment::new();
        let topics: BTreeSet<&Uuid> = self.target.keys().chain(current.keys()).collect();
        let empty = BTreeSet::new();
        for topic in topics {
            let target = if self.subscribed.contains(topic) {
                self.target.get(topic).unwrap_or(&empty)
            } else {
                &empty
            };
            let had = current.get(topic).unwrap_or(&empty);
            let keep: BTreeSet<i32> = had.intersection(target).copied().collect();
            let gone: BTreeSet<i32> = had.difference(&keep).copied().collect();
            let mut add = BTreeSet::new();
            for p in target.difference(&keep) {
                let owned_elsewhere = (self.partition_epoch)(topic, *p) != -1
                    && !own_pending.get(topic).is_some_and(|ps| ps.contains(p));
                if owned_elsewhere {
                    has_unreleased = true;
                } else {
                    add.insert(*p);
                }
            }
            if !keep.is_empty() {
                assigned.insert(*topic, keep);
            }
            if !gone.is_empty() {
                revoke.insert(*topic, gone);
            }
            if !add.is_empty() {
                to_assign.insert(*topic, add);
            }
        }
        let mut next = m.clone();
        let set_epoch = |next: &mut ConsumerGroupMember, epoch: i32| {
            next.current.previous_member_epoch = next.current.member_epoch;
            next.current.member_epoch = epoch;
        };
        if !revoke.is_empty() && self.owns_any(&revoke) {
            // Revoke first; the member stays at its epoch until it acknowledges.
            next.current.state = MemberState::UnrevokedPartitions;
            set_epoch(&mut next, member_epoch);
            next.current.assigned_partitions = assigned;
            next.current.partitions_pending_revocation = revoke;
        } else {
            for (t, ps) in to_assign {
                assigned.entry(t).or_default().extend(ps);
            }
            next.current.state = if has_unreleased {
                MemberState::UnreleasedPartitions
            } else {
                MemberState::Stable
            };
            set_epoch(&mut next, self.target_epoch);
            next.current.assigned_partitions = assigned;
            next.current.partitions_pending_revocation = Assignment::new();
        }
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::groups::modern::member::CurrentAssignment;

    fn t() -> Uuid {
        Uuid::from_u128(1)
    }

    fn member(
        epoch: i32,
        state: MemberState,
        assigned: &[i32],
        pending: &[i32],
    ) -> ConsumerGroupMember {
        let mut m = ConsumerGroupMember::new("m");
        let to = |ps: &[i32]| -> Assignment {
            if ps.is_empty() {
                Assignment::new()
            } else {
                [(t(), ps.iter().copied().collect())].into()
            }
        };
        m.current = CurrentAssignment {
            member_epoch: epoch,
            previous_member_epoch: epoch - 1,
            state,
            assigned_partitions: to(assigned),
            partitions_pending_revocation: to(pending),
        };
        m
    }

    fn build(
        m: &ConsumerGroupMember,
        target: &[i32],
        owned: Option<&[i32]>,
        owners: &dyn Fn(&Uuid, i32) -> i32,
    ) -> ConsumerGroupMember {
        let target: Assignment = [(t(), target.iter().copied().collect())].into();
        // No partitions owned is an empty TopicPartitions list, as clients send it.
        let owned_vec: Option<Vec<(Uuid, Vec<i32>)>> = owned.map(|o| {
            if o.is_empty() {
                Vec::new()
            } else {
                vec![(t(), o.to_vec())]
            }
        });
        let subscribed: BTreeSet<Uuid> = [t()].into();
        CurrentAssignmentBuilder {
            member: m,
            target_epoch: 11,
            target: &target,
            partition_epoch: owners,
            owned: owned_vec.as_deref(),
            subscribed: &subscribed,
            subscription_changed: false,
        }
        .build()
        .unwrap()
    }

    #[test]
    fn revoke_before_assign_then_move_to_the_new_epoch() {
        let free = |_: &Uuid, _: i32| -1;
        let m = member(10, MemberState::Stable, &[0, 1, 2], &[]);
        // Target drops 2 and adds 3: revoke 2 first, at epoch 10.
        let r = build(&m, &[0, 1, 3], Some(&[0, 1, 2]), &free);
        assert_eq!(r.current.state, MemberState::UnrevokedPartitions);
        assert_eq!(r.current.member_epoch, 10);
        assert_eq!(r.current.assigned_partitions[&t()], [0, 1].into());
        assert_eq!(r.current.partitions_pending_revocation[&t()], [2].into());
        // Still reporting 2: nothing moves.
        let again = build(&r, &[0, 1, 3], Some(&[0, 1, 2]), &free);
        assert_eq!(again, r);
        // 2 acknowledged: epoch 11 with 3 added.
        let done = build(&r, &[0, 1, 3], Some(&[0, 1]), &free);
        assert_eq!(done.current.state, MemberState::Stable);
        assert_eq!(done.current.member_epoch, 11);
        assert_eq!(done.current.previous_member_epoch, 10);
        assert_eq!(done.current.assigned_partitions[&t()], [0, 1, 3].into());
    }

    #[test]
    fn partitions_owned_elsewhere_wait() {
        let owned_elsewhere = |_: &Uuid, p: i32| if p == 3 { 9 } else { -1 };
        let m = member(10, MemberState::Stable, &[0], &[]);
        let r = build(&m, &[0, 3], Some(&[0]), &owned_elsewhere);
        assert_eq!(r.current.state, MemberState::UnreleasedPartitions);
        assert_eq!(r.current.member_epoch, 11);
        assert_eq!(r.current.assigned_partitions[&t()], [0].into());
        let free = |_: &Uuid, _: i32| -1;
        let r = build(&r, &[0, 3], Some(&[0]), &free);
        assert_eq!(r.current.state, MemberState::Stable);
        assert_eq!(r.current.assigned_partitions[&t()], [0, 3].into());
    }

    #[test]
    fn unknown_state_fences_unless_the_member_owns_nothing() {
        let free = |_: &Uuid, _: i32| -1;
        let m = member(10, MemberState::Unknown, &[0], &[]);
        let target: Assignment = [(t(), [0].into())].into();
        let subscribed: BTreeSet<Uuid> = [t()].into();
        let b = CurrentAssignmentBuilder {
            member: &m,
            target_epoch: 11,
            target: &target,
            partition_epoch: &free,
            owned: None,
            subscribed: &subscribed,
            subscription_changed: false,
        };
        assert_eq!(b.build().unwrap_err().code(), 110);
        let r = build(&m, &[0], Some(&[]), &free);
        assert_eq!(r.current.state, MemberState::Stable);
    }
}
