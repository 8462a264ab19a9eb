//! DescribeLogDirs (key 35), v1-4: the one data directory, its partitions with their sizes, and
//! (v4) the file system's total and usable bytes (Kafka's `ReplicaManager.describeLogDirs`).

use std::collections::BTreeMap;

use kafka_protocol::messages::describe_log_dirs_response::{
    DescribeLogDirsPartition, DescribeLogDirsResult, DescribeLogDirsTopic,
};
use kafka_protocol::messages::{DescribeLogDirsRequest, DescribeLogDirsResponse};

use super::authz::{self, AclOperation};
use super::{sb, topic_name, RequestContext};

pub fn handle(ctx: &RequestContext, req: DescribeLogDirsRequest) -> DescribeLogDirsResponse {
    let logs = &ctx.broker.logs;
    // DESCRIBE on the cluster, else no log dirs (and CLUSTER_AUTHORIZATION_FAILED from v3).
    if !authz::cluster(ctx, AclOperation::Describe) {
        let mut resp = DescribeLogDirsResponse::default();
        if ctx.version >= 3 {
            resp.error_code = crate::error::Error::ClusterAuthorizationFailed.code();
        }
        return resp;
    }
    // Requested partitions per topic; None: everything.
    let wanted: Option<BTreeMap<String, Vec<i32>>> = req.topics.as_ref().map(|ts| {
        let mut m: BTreeMap<String, Vec<i32>> = BTreeMap::new();
        for t in ts {
            m.entry(t.topic.to_string())
                .or_default()
                .extend(t.partitions.iter().copied());
        }
        m
    });
    let mut topics = Vec::new();
    for t in logs.topics() {
        let want = match &wanted {
            None => None,
            Some(m) => match m.get(&*t.name) {
                Some(p) => Some(p),
                None => continue,
            },
        };
        let partitions: Vec<DescribeLogDirsPartition> = t
            .partitions
            .iter()
            .filter(|p| want.is_none_or(|w| w.contains(&p.index)))
            .map(|p| {
                DescribeLogDirsPartition::default()
                    .with_partition_index(p.index)
                    .with_partition_size(p.size_bytes() as i64)
                    .with_offset_lag(0)
                    .with_is_future_key(false)
            })
            .collect();
        if !partitions.is_empty() {
            topics.push(
                DescribeLogDirsTopic::default()
                    .with_name(topic_name(&t.name))
                    .with_partitions(partitions),
            );
        }
    }
    let dir = logs.data_dir();
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let mut result = DescribeLogDirsResult::default()
        .with_error_code(0)
        .with_log_dir(sb(&dir.to_string_lossy()))
        .with_topics(topics);
    if ctx.version >= 4 {
        let (total, usable) = match rustix::fs::statvfs(&dir) {
            Ok(s) => (
                (s.f_blocks.saturating_mul(s.f_frsize)) as i64,
                (s.f_bavail.saturating_mul(s.f_frsize)) as i64,
            ),
            Err(_) => (-1, -1),
        };
        result.total_bytes = total;
        result.usable_bytes = usable;
    }
    let mut resp = DescribeLogDirsResponse::default().with_results(vec![result]);
    if ctx.version >= 3 {
        resp.error_code = 0;
    }
    resp
}
