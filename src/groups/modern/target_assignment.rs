//! Computing a group's new target assignment (Kafka's `TargetAssignmentBuilder`): the members'
//! subscriptions resolved to topic ids, their previous targets, the assignor's result, and the
//! records for what changed: one `ConsumerGroupTargetAssignmentMember` per member whose target
//! moved, then the `ConsumerGroupTargetAssignmentMetadata` with the new epoch.

use std::collections::BTreeSet;

use crate::groups::modern::assignor::{self, GroupSpec, MemberSpec};
use crate::groups::modern::group::ConsumerGroup;
use crate::groups::modern::topics::TopicsImage;
use crate::groups::records::consumer::ConsumerRecord;

/// The records of the target assignment for `epoch`, computed with assignor `assignor_name`.
pub fn build(
    group: &ConsumerGroup,
    epoch: i32,
    assignor_name: &str,
    image: &TopicsImage,
) -> Vec<ConsumerRecord> {
    let mut spec = GroupSpec::default();
    for m in group.members() {
        let topics: BTreeSet<uuid::Uuid> = group
            .member_topics(m)
            .iter()
            .filter_map(|name| image.topic(name))
            .map(|t| {
                spec.partitions.insert(t.id, t.num_partitions);
                t.id
            })
            .collect();
        spec.members.push(MemberSpec {
            member_id: m.member_id.clone(),
            instance_id: m.subscription.instance_id.clone(),
            topics,
            assignment: group.target_assignment(&m.member_id),
        });
    }
    let result = assignor::assign(assignor_name, &spec);
    let mut records = Vec::new();
    for m in &spec.members {
        let new = result.get(&m.member_id).cloned().unwrap_or_default();
        if group.target_assignments().get(&m.member_id) != Some(&new) {
            records.push(ConsumerRecord::TargetAssignmentMember {
                group: group.group_id.clone(),
                member: m.member_id.clone(),
                value: Some(new),
            });
        }
    }
    records.push(ConsumerRecord::TargetAssignmentMetadata {
        group: group.group_id.clone(),
        value: Some(epoch),
    });
    records
}
