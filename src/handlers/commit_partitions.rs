//! The partition bookkeeping OffsetCommit and TxnOffsetCommit share (Kafka's
//! `KafkaApis.handleOffsetCommitRequest` / `handleTxnOffsetCommitRequest` do the same): partitions
//! of unknown topics answer UNKNOWN_TOPIC_OR_PARTITION at once, the rest go to the coordinator,
//! and the answers are put back in request order.

use crate::error::Error;
use crate::groups::offset_manager::CommitPartition;
use crate::log::manager::LogManager;

/// One requested partition; both requests carry these fields.
pub struct Requested<'a> {
    pub partition: i32,
    pub offset: i64,
    pub leader_epoch: i32,
    pub metadata: Option<&'a str>,
}

/// What the handler decided before asking the coordinator: per request partition, in order,
/// `Some(error)` answered here or `None` (sent on), and the partitions sent on.
pub struct Split {
    verdicts: Vec<Vec<Option<Error>>>,
    pub to_commit: Vec<CommitPartition>,
}

/// Splits the request's partitions into those answered here and those for the coordinator.
/// Topics `authorized` refuses (READ, `filterByAuthorized`) answer TOPIC_AUTHORIZATION_FAILED
/// before their existence is looked at.
pub fn split<'a>(
    logs: &LogManager,
    topics: impl IntoIterator<Item = (&'a str, Vec<Requested<'a>>)>,
    authorized: &dyn Fn(&str) -> bool,
) -> Split {
    let mut verdicts = Vec::new();
    let mut to_commit = Vec::new();
    for (name, partitions) in topics {
        if !authorized(name) {
            verdicts.push(
                partitions
                    .iter()
                    .map(|_| Some(Error::topic_denied()))
                    .collect(),
            );
            continue;
        }
        let topic = logs.topic(name);
        verdicts.push(
            partitions
                .into_iter()
                .map(|p| match &topic {
                    Some(topic) if topic.partition(p.partition).is_some() => {
                        to_commit.push(CommitPartition {
                            topic: name.to_string(),
                            partition: p.partition,
                            offset: p.offset,
                            leader_epoch: p.leader_epoch,
                            metadata: p.metadata.map(str::to_string),
                        });
                        None
                    }
                    _ => Some(Error::UnknownTopicOrPartition),
                })
                .collect(),
        );
    }
    Split {
        verdicts,
        to_commit,
    }
}

impl Split {
    /// Each request partition's error, in request order: a request-level error from the
    /// coordinator applies to every partition; otherwise the verdict made here, else the
    /// coordinator's answer for the partition.
    pub fn errors(self, committed: Result<Vec<Option<Error>>, Error>) -> Vec<Vec<Option<Error>>> {
        match committed {
            Err(e) => self
                .verdicts
                .into_iter()
                .map(|t| t.into_iter().map(|_| Some(e.clone())).collect())
                .collect(),
            Ok(answers) => {
                let mut answers = answers.into_iter();
                self.verdicts
                    .into_iter()
                    .map(|t| {
                        t.into_iter()
                            .map(|v| v.or_else(|| answers.next().flatten()))
                            .collect()
                    })
                    .collect()
            }
        }
    }
}
