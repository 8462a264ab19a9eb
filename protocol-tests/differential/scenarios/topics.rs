//! Topic admin: CreateTopics, DeleteTopics, CreatePartitions and Metadata with valid and invalid
//! input at every version both brokers serve.

use kafka_protocol::messages::*;

use super::super::Ctx;
use super::Scenario;
use crate::support::requests::{creatable, name};

pub const SCENARIOS: &[Scenario] = &[
    ("topics/create_valid_and_invalid", create_valid_and_invalid),
    (
        "topics/metadata_unknown_and_auto_create",
        metadata_unknown_and_auto_create,
    ),
];

/// CreateTopics with a good topic, an existing one, bad names, bad partition counts, bad
/// configs and validate_only, at every version.
fn create_valid_and_invalid(ctx: &mut Ctx) {
    super::create_topic(ctx, "dt-create-existing", 2, &[]);
    ctx.each_version("create", |v| {
        let mut topics = vec![
            creatable(
                &format!("dt-create-new-v{v}"),
                3,
                &[("cleanup.policy", "compact")],
            ),
            creatable("dt-create-existing", 1, &[]),
            creatable("bad/name", 1, &[]),
            creatable("", 1, &[]),
            creatable(&"x".repeat(250), 1, &[]),
            creatable(&format!("dt-create-zero-v{v}"), 0, &[]),
            creatable(
                &format!("dt-create-badcfg-v{v}"),
                1,
                &[("retention.ms", "soon")],
            ),
            creatable(
                &format!("dt-create-unknowncfg-v{v}"),
                1,
                &[("no.such.config", "1")],
            ),
            creatable(&format!("dt-create-rf-v{v}"), 1, &[]).with_replication_factor(3),
        ];
        topics.push(creatable(&format!("dt-create-validate-v{v}"), 2, &[]));
        CreateTopicsRequest::default()
            .with_topics(topics)
            .with_timeout_ms(30_000)
            .with_validate_only(false)
    });
    ctx.each_version("validate_only", |v| {
        CreateTopicsRequest::default()
            .with_topics(vec![
                creatable(
                    &format!("dt-create-vo-v{v}"),
                    2,
                    &[("retention.ms", "1000")],
                ),
                creatable("dt-create-existing", 1, &[]),
            ])
            .with_timeout_ms(30_000)
            .with_validate_only(true)
    });
}

/// Metadata for an unknown topic with and without auto-creation, and for all topics.
fn metadata_unknown_and_auto_create(ctx: &mut Ctx) {
    ctx.each_version("unknown", |v| {
        MetadataRequest::default()
            .with_topics(Some(vec![metadata_request::MetadataRequestTopic::default(
            )
            .with_name(Some(name("dt-md-unknown")))]))
            .with_allow_auto_topic_creation(false)
            .with_include_topic_authorized_operations(v >= 8)
    });
}
