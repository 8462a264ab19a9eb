//! ShareGroupDescribe (KIP-932) of one group on a shard.

use std::collections::BTreeMap;

use uuid::Uuid;

use crate::error::Error;
use crate::groups::shard::ShardState;

/// A described share-group member.
#[derive(Clone, Debug)]
pub struct DescribedShareMember {
    pub member_id: String,
    pub rack_id: Option<String>,
    pub member_epoch: i32,
    pub client_id: String,
    pub client_host: String,
    pub subscribed_topic_names: Vec<String>,
    /// Topic id, name and partitions.
    pub assignment: Vec<(Uuid, String, Vec<i32>)>,
}

/// A described share group, or the error for it (GROUP_ID_NOT_FOUND).
#[derive(Clone, Debug)]
pub struct DescribedShareGroup {
    pub group_id: String,
    pub error: Option<Error>,
    pub state: &'static str,
    pub group_epoch: i32,
    pub assignment_epoch: i32,
    pub members: Vec<DescribedShareMember>,
}

impl ShardState {
    pub fn share_group_describe(&self, gid: &str) -> DescribedShareGroup {
        let g = match self.share_group(gid) {
            Ok(g) => g,
            Err(e) => {
                return DescribedShareGroup {
                    group_id: gid.to_string(),
                    error: Some(e),
                    state: "Dead",
                    group_epoch: 0,
                    assignment_epoch: 0,
                    members: Vec::new(),
                }
            }
        };
        let image = &self.core.topics;
        let names = |a: &BTreeMap<Uuid, Vec<i32>>| {
            a.iter()
                .map(|(id, ps)| {
                    (
                        *id,
                        image.name(id).unwrap_or_default().to_string(),
                        ps.clone(),
                    )
                })
                .collect()
        };
        DescribedShareGroup {
            group_id: gid.to_string(),
            error: None,
            state: g.state().name(),
            group_epoch: g.group_epoch,
            assignment_epoch: g.assignment_epoch,
            members: g
                .members
                .values()
                .map(|m| DescribedShareMember {
                    member_id: m.member_id.clone(),
                    rack_id: m.rack_id.clone(),
                    member_epoch: m.member_epoch,
                    client_id: m.client_id.clone(),
                    client_host: m.client_host.clone(),
                    subscribed_topic_names: m.subscribed_topic_names.clone(),
                    assignment: names(&m.assignment),
                })
                .collect(),
        }
    }
}
