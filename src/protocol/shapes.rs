//! The shape of every request body Klamm decodes: for each message struct of Kafka's request
//! schemas (`clients/src/main/resources/common/message/*Request.json`), the wire type of each
//! field with the versions in which it is present, the flexible versions (which end every struct
//! with tagged fields) and the known tagged fields.
//!
//! [`super::bounds`] walks a frame along these shapes before the protocol crate decodes it, so
//! that every length and element count is checked against the bytes that remain, as Kafka's
//! generated readers do. The shapes follow field for field what the `kafka-protocol` crate
//! (0.18) decodes, which is what matters here: `bounds::tests` checks that the walk and the
//! crate consume exactly the same bytes for every served API and version, for real client
//! frames and for mutated ones.
//!
//! Version sets are bit masks: bit `v` is set when the field is present in version `v`.

use super::bounds::{Field, Shape, Tag, Ty};

pub mod produce {
    use super::*;

    pub static PRODUCE_REQUEST: Shape = Shape {
        name: "ProduceRequest",
        versions: 0x3ff8,
        flexible: 0x3e00,
        fields: &[
            Field(0x3e00, Ty::CompactStr), // transactional_id
            Field(0x1ff, Ty::Str),         // transactional_id
            Field(0x3fff, Ty::Fixed(2)),   // acks
            Field(0x3fff, Ty::Fixed(4)),   // timeout_ms
            Field(0x3e00, Ty::CompactArray(&Ty::Struct(&TOPIC_PRODUCE_DATA))), // topic_data
            Field(0x1ff, Ty::Array(&Ty::Struct(&TOPIC_PRODUCE_DATA))), // topic_data
        ],
        tags: &[],
    };

    pub static TOPIC_PRODUCE_DATA: Shape = Shape {
        name: "TopicProduceData",
        versions: 0x3ff8,
        flexible: 0x3e00,
        fields: &[
            Field(0x1e00, Ty::CompactStr), // name
            Field(0x1ff, Ty::Str),         // name
            Field(0x2000, Ty::Fixed(16)),  // topic_id
            Field(
                0x3e00,
                Ty::CompactArray(&Ty::Struct(&PARTITION_PRODUCE_DATA)),
            ), // partition_data
            Field(0x1ff, Ty::Array(&Ty::Struct(&PARTITION_PRODUCE_DATA))), // partition_data
        ],
        tags: &[],
    };

    pub static PARTITION_PRODUCE_DATA: Shape = Shape {
        name: "PartitionProduceData",
        versions: 0x3ff8,
        flexible: 0x3e00,
        fields: &[
            Field(0x3fff, Ty::Fixed(4)),     // index
            Field(0x3e00, Ty::CompactBytes), // records
            Field(0x1ff, Ty::Bytes),         // records
        ],
        tags: &[],
    };
}

pub mod fetch {
    use super::*;

    pub static FETCH_REQUEST: Shape = Shape {
        name: "FetchRequest",
        versions: 0x7fff0,
        flexible: 0x7f000,
        fields: &[
            Field(0x7fff, Ty::Fixed(4)),                                 // replica_id
            Field(0x7ffff, Ty::Fixed(4)),                                // max_wait_ms
            Field(0x7ffff, Ty::Fixed(4)),                                // min_bytes
            Field(0x7ffff, Ty::Fixed(4)),                                // max_bytes
            Field(0x7ffff, Ty::Fixed(1)),                                // isolation_level
            Field(0x7ff80, Ty::Fixed(4)),                                // session_id
            Field(0x7ff80, Ty::Fixed(4)),                                // session_epoch
            Field(0x7f000, Ty::CompactArray(&Ty::Struct(&FETCH_TOPIC))), // topics
            Field(0xfff, Ty::Array(&Ty::Struct(&FETCH_TOPIC))),          // topics
            Field(0x7f000, Ty::CompactArray(&Ty::Struct(&FORGOTTEN_TOPIC))), // forgotten_topics_data
            Field(0xf80, Ty::Array(&Ty::Struct(&FORGOTTEN_TOPIC))), // forgotten_topics_data
            Field(0x7f000, Ty::CompactStr),                         // rack_id
            Field(0x800, Ty::Str),                                  // rack_id
        ],
        tags: &[
            Tag(0, 0x7f000, Ty::CompactStr),
            Tag(1, 0x78000, Ty::Struct(&REPLICA_STATE)),
        ],
    };

    pub static FETCH_TOPIC: Shape = Shape {
        name: "FetchTopic",
        versions: 0x7fff0,
        flexible: 0x7f000,
        fields: &[
            Field(0x1000, Ty::CompactStr), // topic
            Field(0xfff, Ty::Str),         // topic
            Field(0x7e000, Ty::Fixed(16)), // topic_id
            Field(0x7f000, Ty::CompactArray(&Ty::Struct(&FETCH_PARTITION))), // partitions
            Field(0xfff, Ty::Array(&Ty::Struct(&FETCH_PARTITION))), // partitions
        ],
        tags: &[],
    };

    pub static FORGOTTEN_TOPIC: Shape = Shape {
        name: "ForgottenTopic",
        versions: 0x7fff0,
        flexible: 0x7f000,
        fields: &[
            Field(0x1000, Ty::CompactStr),                   // topic
            Field(0xf80, Ty::Str),                           // topic
            Field(0x7e000, Ty::Fixed(16)),                   // topic_id
            Field(0x7f000, Ty::CompactArray(&Ty::Fixed(4))), // partitions
            Field(0xf80, Ty::Array(&Ty::Fixed(4))),          // partitions
        ],
        tags: &[],
    };

    pub static REPLICA_STATE: Shape = Shape {
        name: "ReplicaState",
        versions: 0x7fff0,
        flexible: 0x7f000,
        fields: &[
            Field(0x78000, Ty::Fixed(4)), // replica_id
            Field(0x78000, Ty::Fixed(8)), // replica_epoch
        ],
        tags: &[],
    };

    pub static FETCH_PARTITION: Shape = Shape {
        name: "FetchPartition",
        versions: 0x7fff0,
        flexible: 0x7f000,
        fields: &[
            Field(0x7ffff, Ty::Fixed(4)), // partition
            Field(0x7fe00, Ty::Fixed(4)), // current_leader_epoch
            Field(0x7ffff, Ty::Fixed(8)), // fetch_offset
            Field(0x7f000, Ty::Fixed(4)), // last_fetched_epoch
            Field(0x7ffe0, Ty::Fixed(8)), // log_start_offset
            Field(0x7ffff, Ty::Fixed(4)), // partition_max_bytes
        ],
        tags: &[
            Tag(0, 0x60000, Ty::Fixed(16)),
            Tag(1, 0x40000, Ty::Fixed(8)),
        ],
    };
}

pub mod list_offsets {
    use super::*;

    pub static LIST_OFFSETS_REQUEST: Shape = Shape {
        name: "ListOffsetsRequest",
        versions: 0x7fe,
        flexible: 0x7c0,
        fields: &[
            Field(0x7ff, Ty::Fixed(4)), // replica_id
            Field(0x7fc, Ty::Fixed(1)), // isolation_level
            Field(0x7c0, Ty::CompactArray(&Ty::Struct(&LIST_OFFSETS_TOPIC))), // topics
            Field(0x3f, Ty::Array(&Ty::Struct(&LIST_OFFSETS_TOPIC))), // topics
            Field(0x400, Ty::Fixed(4)), // timeout_ms
        ],
        tags: &[],
    };

    pub static LIST_OFFSETS_TOPIC: Shape = Shape {
        name: "ListOffsetsTopic",
        versions: 0x7fe,
        flexible: 0x7c0,
        fields: &[
            Field(0x7c0, Ty::CompactStr), // name
            Field(0x3f, Ty::Str),         // name
            Field(
                0x7c0,
                Ty::CompactArray(&Ty::Struct(&LIST_OFFSETS_PARTITION)),
            ), // partitions
            Field(0x3f, Ty::Array(&Ty::Struct(&LIST_OFFSETS_PARTITION))), // partitions
        ],
        tags: &[],
    };

    pub static LIST_OFFSETS_PARTITION: Shape = Shape {
        name: "ListOffsetsPartition",
        versions: 0x7fe,
        flexible: 0x7c0,
        fields: &[
            Field(0x7ff, Ty::Fixed(4)), // partition_index
            Field(0x7f0, Ty::Fixed(4)), // current_leader_epoch
            Field(0x7ff, Ty::Fixed(8)), // timestamp
        ],
        tags: &[],
    };
}

pub mod metadata {
    use super::*;

    pub static METADATA_REQUEST: Shape = Shape {
        name: "MetadataRequest",
        versions: 0x3fff,
        flexible: 0x3e00,
        fields: &[
            Field(
                0x3e00,
                Ty::CompactArray(&Ty::Struct(&METADATA_REQUEST_TOPIC)),
            ), // topics
            Field(0x1ff, Ty::Array(&Ty::Struct(&METADATA_REQUEST_TOPIC))), // topics
            Field(0x3ff0, Ty::Fixed(1)), // allow_auto_topic_creation
            Field(0x700, Ty::Fixed(1)),  // include_cluster_authorized_operations
            Field(0x3f00, Ty::Fixed(1)), // include_topic_authorized_operations
        ],
        tags: &[],
    };

    pub static METADATA_REQUEST_TOPIC: Shape = Shape {
        name: "MetadataRequestTopic",
        versions: 0x3fff,
        flexible: 0x3e00,
        fields: &[
            Field(0x3c00, Ty::Fixed(16)),  // topic_id
            Field(0x3e00, Ty::CompactStr), // name
            Field(0x1ff, Ty::Str),         // name
        ],
        tags: &[],
    };
}

pub mod offset_commit {
    use super::*;

    pub static OFFSET_COMMIT_REQUEST: Shape = Shape {
        name: "OffsetCommitRequest",
        versions: 0x3fc,
        flexible: 0x300,
        fields: &[
            Field(0x300, Ty::CompactStr), // group_id
            Field(0xff, Ty::Str),         // group_id
            Field(0x3ff, Ty::Fixed(4)),   // generation_id_or_member_epoch
            Field(0x300, Ty::CompactStr), // member_id
            Field(0xff, Ty::Str),         // member_id
            Field(0x300, Ty::CompactStr), // group_instance_id
            Field(0x80, Ty::Str),         // group_instance_id
            Field(0x1f, Ty::Fixed(8)),    // retention_time_ms
            Field(
                0x300,
                Ty::CompactArray(&Ty::Struct(&OFFSET_COMMIT_REQUEST_TOPIC)),
            ), // topics
            Field(0xff, Ty::Array(&Ty::Struct(&OFFSET_COMMIT_REQUEST_TOPIC))), // topics
        ],
        tags: &[],
    };

    pub static OFFSET_COMMIT_REQUEST_TOPIC: Shape = Shape {
        name: "OffsetCommitRequestTopic",
        versions: 0x3fc,
        flexible: 0x300,
        fields: &[
            Field(0x300, Ty::CompactStr), // name
            Field(0xff, Ty::Str),         // name
            Field(
                0x300,
                Ty::CompactArray(&Ty::Struct(&OFFSET_COMMIT_REQUEST_PARTITION)),
            ), // partitions
            Field(
                0xff,
                Ty::Array(&Ty::Struct(&OFFSET_COMMIT_REQUEST_PARTITION)),
            ), // partitions
        ],
        tags: &[],
    };

    pub static OFFSET_COMMIT_REQUEST_PARTITION: Shape = Shape {
        name: "OffsetCommitRequestPartition",
        versions: 0x3fc,
        flexible: 0x300,
        fields: &[
            Field(0x3ff, Ty::Fixed(4)),   // partition_index
            Field(0x3ff, Ty::Fixed(8)),   // committed_offset
            Field(0x3c0, Ty::Fixed(4)),   // committed_leader_epoch
            Field(0x300, Ty::CompactStr), // committed_metadata
            Field(0xff, Ty::Str),         // committed_metadata
        ],
        tags: &[],
    };
}

pub mod offset_fetch {
    use super::*;

    pub static OFFSET_FETCH_REQUEST: Shape = Shape {
        name: "OffsetFetchRequest",
        versions: 0x3fe,
        flexible: 0x3c0,
        fields: &[
            Field(0xc0, Ty::CompactStr), // group_id
            Field(0x3f, Ty::Str),        // group_id
            Field(
                0xc0,
                Ty::CompactArray(&Ty::Struct(&OFFSET_FETCH_REQUEST_TOPIC)),
            ), // topics
            Field(0x3f, Ty::Array(&Ty::Struct(&OFFSET_FETCH_REQUEST_TOPIC))), // topics
            Field(
                0x300,
                Ty::CompactArray(&Ty::Struct(&OFFSET_FETCH_REQUEST_GROUP)),
            ), // groups
            Field(0x380, Ty::Fixed(1)),  // require_stable
        ],
        tags: &[],
    };

    pub static OFFSET_FETCH_REQUEST_TOPIC: Shape = Shape {
        name: "OffsetFetchRequestTopic",
        versions: 0x3fe,
        flexible: 0x3c0,
        fields: &[
            Field(0xc0, Ty::CompactStr),                  // name
            Field(0x3f, Ty::Str),                         // name
            Field(0xc0, Ty::CompactArray(&Ty::Fixed(4))), // partition_indexes
            Field(0x3f, Ty::Array(&Ty::Fixed(4))),        // partition_indexes
        ],
        tags: &[],
    };

    pub static OFFSET_FETCH_REQUEST_GROUP: Shape = Shape {
        name: "OffsetFetchRequestGroup",
        versions: 0x3fe,
        flexible: 0x3c0,
        fields: &[
            Field(0x300, Ty::CompactStr), // group_id
            Field(0x200, Ty::CompactStr), // member_id
            Field(0x200, Ty::Fixed(4)),   // member_epoch
            Field(
                0x300,
                Ty::CompactArray(&Ty::Struct(&OFFSET_FETCH_REQUEST_TOPICS)),
            ), // topics
        ],
        tags: &[],
    };

    pub static OFFSET_FETCH_REQUEST_TOPICS: Shape = Shape {
        name: "OffsetFetchRequestTopics",
        versions: 0x3fe,
        flexible: 0x3c0,
        fields: &[
            Field(0x300, Ty::CompactStr),                  // name
            Field(0x300, Ty::CompactArray(&Ty::Fixed(4))), // partition_indexes
        ],
        tags: &[],
    };
}

pub mod find_coordinator {
    use super::*;

    pub static FIND_COORDINATOR_REQUEST: Shape = Shape {
        name: "FindCoordinatorRequest",
        versions: 0x7f,
        flexible: 0x78,
        fields: &[
            Field(0x8, Ty::CompactStr),                     // key
            Field(0x7, Ty::Str),                            // key
            Field(0x7e, Ty::Fixed(1)),                      // key_type
            Field(0x70, Ty::CompactArray(&Ty::CompactStr)), // coordinator_keys
        ],
        tags: &[],
    };
}

pub mod join_group {
    use super::*;

    pub static JOIN_GROUP_REQUEST: Shape = Shape {
        name: "JoinGroupRequest",
        versions: 0x3ff,
        flexible: 0x3c0,
        fields: &[
            Field(0x3c0, Ty::CompactStr), // group_id
            Field(0x3f, Ty::Str),         // group_id
            Field(0x3ff, Ty::Fixed(4)),   // session_timeout_ms
            Field(0x3fe, Ty::Fixed(4)),   // rebalance_timeout_ms
            Field(0x3c0, Ty::CompactStr), // member_id
            Field(0x3f, Ty::Str),         // member_id
            Field(0x3c0, Ty::CompactStr), // group_instance_id
            Field(0x20, Ty::Str),         // group_instance_id
            Field(0x3c0, Ty::CompactStr), // protocol_type
            Field(0x3f, Ty::Str),         // protocol_type
            Field(
                0x3c0,
                Ty::CompactArray(&Ty::Struct(&JOIN_GROUP_REQUEST_PROTOCOL)),
            ), // protocols
            Field(0x3f, Ty::Array(&Ty::Struct(&JOIN_GROUP_REQUEST_PROTOCOL))), // protocols
            Field(0x300, Ty::CompactStr), // reason
        ],
        tags: &[],
    };

    pub static JOIN_GROUP_REQUEST_PROTOCOL: Shape = Shape {
        name: "JoinGroupRequestProtocol",
        versions: 0x3ff,
        flexible: 0x3c0,
        fields: &[
            Field(0x3c0, Ty::CompactStr),   // name
            Field(0x3f, Ty::Str),           // name
            Field(0x3c0, Ty::CompactBytes), // metadata
            Field(0x3f, Ty::Bytes),         // metadata
        ],
        tags: &[],
    };
}

pub mod heartbeat {
    use super::*;

    pub static HEARTBEAT_REQUEST: Shape = Shape {
        name: "HeartbeatRequest",
        versions: 0x1f,
        flexible: 0x10,
        fields: &[
            Field(0x10, Ty::CompactStr), // group_id
            Field(0xf, Ty::Str),         // group_id
            Field(0x1f, Ty::Fixed(4)),   // generation_id
            Field(0x10, Ty::CompactStr), // member_id
            Field(0xf, Ty::Str),         // member_id
            Field(0x10, Ty::CompactStr), // group_instance_id
            Field(0x8, Ty::Str),         // group_instance_id
        ],
        tags: &[],
    };
}

pub mod leave_group {
    use super::*;

    pub static LEAVE_GROUP_REQUEST: Shape = Shape {
        name: "LeaveGroupRequest",
        versions: 0x3f,
        flexible: 0x30,
        fields: &[
            Field(0x30, Ty::CompactStr),                                  // group_id
            Field(0xf, Ty::Str),                                          // group_id
            Field(0x7, Ty::Str),                                          // member_id
            Field(0x30, Ty::CompactArray(&Ty::Struct(&MEMBER_IDENTITY))), // members
            Field(0x8, Ty::Array(&Ty::Struct(&MEMBER_IDENTITY))),         // members
        ],
        tags: &[],
    };

    pub static MEMBER_IDENTITY: Shape = Shape {
        name: "MemberIdentity",
        versions: 0x3f,
        flexible: 0x30,
        fields: &[
            Field(0x30, Ty::CompactStr), // member_id
            Field(0x8, Ty::Str),         // member_id
            Field(0x30, Ty::CompactStr), // group_instance_id
            Field(0x8, Ty::Str),         // group_instance_id
            Field(0x20, Ty::CompactStr), // reason
        ],
        tags: &[],
    };
}

pub mod sync_group {
    use super::*;

    pub static SYNC_GROUP_REQUEST: Shape = Shape {
        name: "SyncGroupRequest",
        versions: 0x3f,
        flexible: 0x30,
        fields: &[
            Field(0x30, Ty::CompactStr), // group_id
            Field(0xf, Ty::Str),         // group_id
            Field(0x3f, Ty::Fixed(4)),   // generation_id
            Field(0x30, Ty::CompactStr), // member_id
            Field(0xf, Ty::Str),         // member_id
            Field(0x30, Ty::CompactStr), // group_instance_id
            Field(0x8, Ty::Str),         // group_instance_id
            Field(0x20, Ty::CompactStr), // protocol_type
            Field(0x20, Ty::CompactStr), // protocol_name
            Field(
                0x30,
                Ty::CompactArray(&Ty::Struct(&SYNC_GROUP_REQUEST_ASSIGNMENT)),
            ), // assignments
            Field(0xf, Ty::Array(&Ty::Struct(&SYNC_GROUP_REQUEST_ASSIGNMENT))), // assignments
        ],
        tags: &[],
    };

    pub static SYNC_GROUP_REQUEST_ASSIGNMENT: Shape = Shape {
        name: "SyncGroupRequestAssignment",
        versions: 0x3f,
        flexible: 0x30,
        fields: &[
            Field(0x30, Ty::CompactStr),   // member_id
            Field(0xf, Ty::Str),           // member_id
            Field(0x30, Ty::CompactBytes), // assignment
            Field(0xf, Ty::Bytes),         // assignment
        ],
        tags: &[],
    };
}

pub mod describe_groups {
    use super::*;

    pub static DESCRIBE_GROUPS_REQUEST: Shape = Shape {
        name: "DescribeGroupsRequest",
        versions: 0x7f,
        flexible: 0x60,
        fields: &[
            Field(0x60, Ty::CompactArray(&Ty::CompactStr)), // groups
            Field(0x1f, Ty::Array(&Ty::Str)),               // groups
            Field(0x78, Ty::Fixed(1)),                      // include_authorized_operations
        ],
        tags: &[],
    };
}

pub mod list_groups {
    use super::*;

    pub static LIST_GROUPS_REQUEST: Shape = Shape {
        name: "ListGroupsRequest",
        versions: 0x3f,
        flexible: 0x38,
        fields: &[
            Field(0x30, Ty::CompactArray(&Ty::CompactStr)), // states_filter
            Field(0x20, Ty::CompactArray(&Ty::CompactStr)), // types_filter
        ],
        tags: &[],
    };
}

pub mod api_versions {
    use super::*;

    pub static API_VERSIONS_REQUEST: Shape = Shape {
        name: "ApiVersionsRequest",
        versions: 0x1f,
        flexible: 0x18,
        fields: &[
            Field(0x18, Ty::CompactStr), // client_software_name
            Field(0x18, Ty::CompactStr), // client_software_version
        ],
        tags: &[],
    };
}

pub mod create_topics {
    use super::*;

    pub static CREATE_TOPICS_REQUEST: Shape = Shape {
        name: "CreateTopicsRequest",
        versions: 0xfc,
        flexible: 0xe0,
        fields: &[
            Field(0xe0, Ty::CompactArray(&Ty::Struct(&CREATABLE_TOPIC))), // topics
            Field(0x1f, Ty::Array(&Ty::Struct(&CREATABLE_TOPIC))),        // topics
            Field(0xff, Ty::Fixed(4)),                                    // timeout_ms
            Field(0xff, Ty::Fixed(1)),                                    // validate_only
        ],
        tags: &[],
    };

    pub static CREATABLE_TOPIC: Shape = Shape {
        name: "CreatableTopic",
        versions: 0xfc,
        flexible: 0xe0,
        fields: &[
            Field(0xe0, Ty::CompactStr), // name
            Field(0x1f, Ty::Str),        // name
            Field(0xff, Ty::Fixed(4)),   // num_partitions
            Field(0xff, Ty::Fixed(2)),   // replication_factor
            Field(
                0xe0,
                Ty::CompactArray(&Ty::Struct(&CREATABLE_REPLICA_ASSIGNMENT)),
            ), // assignments
            Field(0x1f, Ty::Array(&Ty::Struct(&CREATABLE_REPLICA_ASSIGNMENT))), // assignments
            Field(0xe0, Ty::CompactArray(&Ty::Struct(&CREATABLE_TOPIC_CONFIG))), // configs
            Field(0x1f, Ty::Array(&Ty::Struct(&CREATABLE_TOPIC_CONFIG))), // configs
        ],
        tags: &[],
    };

    pub static CREATABLE_REPLICA_ASSIGNMENT: Shape = Shape {
        name: "CreatableReplicaAssignment",
        versions: 0xfc,
        flexible: 0xe0,
        fields: &[
            Field(0xff, Ty::Fixed(4)),                    // partition_index
            Field(0xe0, Ty::CompactArray(&Ty::Fixed(4))), // broker_ids
            Field(0x1f, Ty::Array(&Ty::Fixed(4))),        // broker_ids
        ],
        tags: &[],
    };

    pub static CREATABLE_TOPIC_CONFIG: Shape = Shape {
        name: "CreatableTopicConfig",
        versions: 0xfc,
        flexible: 0xe0,
        fields: &[
            Field(0xe0, Ty::CompactStr), // name
            Field(0x1f, Ty::Str),        // name
            Field(0xe0, Ty::CompactStr), // value
            Field(0x1f, Ty::Str),        // value
        ],
        tags: &[],
    };
}

pub mod delete_topics {
    use super::*;

    pub static DELETE_TOPICS_REQUEST: Shape = Shape {
        name: "DeleteTopicsRequest",
        versions: 0x7e,
        flexible: 0x70,
        fields: &[
            Field(0x40, Ty::CompactArray(&Ty::Struct(&DELETE_TOPIC_STATE))), // topics
            Field(0x30, Ty::CompactArray(&Ty::CompactStr)),                  // topic_names
            Field(0xf, Ty::Array(&Ty::Str)),                                 // topic_names
            Field(0x7f, Ty::Fixed(4)),                                       // timeout_ms
        ],
        tags: &[],
    };

    pub static DELETE_TOPIC_STATE: Shape = Shape {
        name: "DeleteTopicState",
        versions: 0x7e,
        flexible: 0x70,
        fields: &[
            Field(0x40, Ty::CompactStr), // name
            Field(0x40, Ty::Fixed(16)),  // topic_id
        ],
        tags: &[],
    };
}

pub mod delete_records {
    use super::*;

    pub static DELETE_RECORDS_REQUEST: Shape = Shape {
        name: "DeleteRecordsRequest",
        versions: 0x7,
        flexible: 0x4,
        fields: &[
            Field(0x4, Ty::CompactArray(&Ty::Struct(&DELETE_RECORDS_TOPIC))), // topics
            Field(0x3, Ty::Array(&Ty::Struct(&DELETE_RECORDS_TOPIC))),        // topics
            Field(0x7, Ty::Fixed(4)),                                         // timeout_ms
        ],
        tags: &[],
    };

    pub static DELETE_RECORDS_TOPIC: Shape = Shape {
        name: "DeleteRecordsTopic",
        versions: 0x7,
        flexible: 0x4,
        fields: &[
            Field(0x4, Ty::CompactStr), // name
            Field(0x3, Ty::Str),        // name
            Field(
                0x4,
                Ty::CompactArray(&Ty::Struct(&DELETE_RECORDS_PARTITION)),
            ), // partitions
            Field(0x3, Ty::Array(&Ty::Struct(&DELETE_RECORDS_PARTITION))), // partitions
        ],
        tags: &[],
    };

    pub static DELETE_RECORDS_PARTITION: Shape = Shape {
        name: "DeleteRecordsPartition",
        versions: 0x7,
        flexible: 0x4,
        fields: &[
            Field(0x7, Ty::Fixed(4)), // partition_index
            Field(0x7, Ty::Fixed(8)), // offset
        ],
        tags: &[],
    };
}

pub mod init_producer_id {
    use super::*;

    pub static INIT_PRODUCER_ID_REQUEST: Shape = Shape {
        name: "InitProducerIdRequest",
        versions: 0x3f,
        flexible: 0x3c,
        fields: &[
            Field(0x3c, Ty::CompactStr), // transactional_id
            Field(0x3, Ty::Str),         // transactional_id
            Field(0x3f, Ty::Fixed(4)),   // transaction_timeout_ms
            Field(0x38, Ty::Fixed(8)),   // producer_id
            Field(0x38, Ty::Fixed(2)),   // producer_epoch
        ],
        tags: &[],
    };
}

pub mod offset_for_leader_epoch {
    use super::*;

    pub static OFFSET_FOR_LEADER_EPOCH_REQUEST: Shape = Shape {
        name: "OffsetForLeaderEpochRequest",
        versions: 0x1c,
        flexible: 0x10,
        fields: &[
            Field(0x18, Ty::Fixed(4)), // replica_id
            Field(
                0x10,
                Ty::CompactArray(&Ty::Struct(&OFFSET_FOR_LEADER_TOPIC)),
            ), // topics
            Field(0xf, Ty::Array(&Ty::Struct(&OFFSET_FOR_LEADER_TOPIC))), // topics
        ],
        tags: &[],
    };

    pub static OFFSET_FOR_LEADER_TOPIC: Shape = Shape {
        name: "OffsetForLeaderTopic",
        versions: 0x1c,
        flexible: 0x10,
        fields: &[
            Field(0x10, Ty::CompactStr), // topic
            Field(0xf, Ty::Str),         // topic
            Field(
                0x10,
                Ty::CompactArray(&Ty::Struct(&OFFSET_FOR_LEADER_PARTITION)),
            ), // partitions
            Field(0xf, Ty::Array(&Ty::Struct(&OFFSET_FOR_LEADER_PARTITION))), // partitions
        ],
        tags: &[],
    };

    pub static OFFSET_FOR_LEADER_PARTITION: Shape = Shape {
        name: "OffsetForLeaderPartition",
        versions: 0x1c,
        flexible: 0x10,
        fields: &[
            Field(0x1f, Ty::Fixed(4)), // partition
            Field(0x1f, Ty::Fixed(4)), // current_leader_epoch
            Field(0x1f, Ty::Fixed(4)), // leader_epoch
        ],
        tags: &[],
    };
}

pub mod add_partitions_to_txn {
    use super::*;

    pub static ADD_PARTITIONS_TO_TXN_REQUEST: Shape = Shape {
        name: "AddPartitionsToTxnRequest",
        versions: 0x3f,
        flexible: 0x38,
        fields: &[
            Field(
                0x30,
                Ty::CompactArray(&Ty::Struct(&ADD_PARTITIONS_TO_TXN_TRANSACTION)),
            ), // transactions
            Field(0x8, Ty::CompactStr), // v3_and_below_transactional_id
            Field(0x7, Ty::Str),        // v3_and_below_transactional_id
            Field(0xf, Ty::Fixed(8)),   // v3_and_below_producer_id
            Field(0xf, Ty::Fixed(2)),   // v3_and_below_producer_epoch
            Field(
                0x8,
                Ty::CompactArray(&Ty::Struct(&ADD_PARTITIONS_TO_TXN_TOPIC)),
            ), // v3_and_below_topics
            Field(0x7, Ty::Array(&Ty::Struct(&ADD_PARTITIONS_TO_TXN_TOPIC))), // v3_and_below_topics
        ],
        tags: &[],
    };

    pub static ADD_PARTITIONS_TO_TXN_TRANSACTION: Shape = Shape {
        name: "AddPartitionsToTxnTransaction",
        versions: 0x3f,
        flexible: 0x38,
        fields: &[
            Field(0x30, Ty::CompactStr), // transactional_id
            Field(0x30, Ty::Fixed(8)),   // producer_id
            Field(0x30, Ty::Fixed(2)),   // producer_epoch
            Field(0x30, Ty::Fixed(1)),   // verify_only
            Field(
                0x30,
                Ty::CompactArray(&Ty::Struct(&ADD_PARTITIONS_TO_TXN_TOPIC)),
            ), // topics
        ],
        tags: &[],
    };

    pub static ADD_PARTITIONS_TO_TXN_TOPIC: Shape = Shape {
        name: "AddPartitionsToTxnTopic",
        versions: 0x3f,
        flexible: 0x38,
        fields: &[
            Field(0x38, Ty::CompactStr),                  // name
            Field(0x7, Ty::Str),                          // name
            Field(0x38, Ty::CompactArray(&Ty::Fixed(4))), // partitions
            Field(0x7, Ty::Array(&Ty::Fixed(4))),         // partitions
        ],
        tags: &[],
    };
}

pub mod add_offsets_to_txn {
    use super::*;

    pub static ADD_OFFSETS_TO_TXN_REQUEST: Shape = Shape {
        name: "AddOffsetsToTxnRequest",
        versions: 0x1f,
        flexible: 0x18,
        fields: &[
            Field(0x18, Ty::CompactStr), // transactional_id
            Field(0x7, Ty::Str),         // transactional_id
            Field(0x1f, Ty::Fixed(8)),   // producer_id
            Field(0x1f, Ty::Fixed(2)),   // producer_epoch
            Field(0x18, Ty::CompactStr), // group_id
            Field(0x7, Ty::Str),         // group_id
        ],
        tags: &[],
    };
}

pub mod end_txn {
    use super::*;

    pub static END_TXN_REQUEST: Shape = Shape {
        name: "EndTxnRequest",
        versions: 0x3f,
        flexible: 0x38,
        fields: &[
            Field(0x38, Ty::CompactStr), // transactional_id
            Field(0x7, Ty::Str),         // transactional_id
            Field(0x3f, Ty::Fixed(8)),   // producer_id
            Field(0x3f, Ty::Fixed(2)),   // producer_epoch
            Field(0x3f, Ty::Fixed(1)),   // committed
        ],
        tags: &[],
    };
}

pub mod write_txn_markers {
    use super::*;

    pub static WRITE_TXN_MARKERS_REQUEST: Shape = Shape {
        name: "WriteTxnMarkersRequest",
        versions: 0x2,
        flexible: 0x2,
        fields: &[
            Field(0x2, Ty::CompactArray(&Ty::Struct(&WRITABLE_TXN_MARKER))), // markers
        ],
        tags: &[],
    };

    pub static WRITABLE_TXN_MARKER: Shape = Shape {
        name: "WritableTxnMarker",
        versions: 0x2,
        flexible: 0x2,
        fields: &[
            Field(0x2, Ty::Fixed(8)), // producer_id
            Field(0x2, Ty::Fixed(2)), // producer_epoch
            Field(0x2, Ty::Fixed(1)), // transaction_result
            Field(
                0x2,
                Ty::CompactArray(&Ty::Struct(&WRITABLE_TXN_MARKER_TOPIC)),
            ), // topics
            Field(0x2, Ty::Fixed(4)), // coordinator_epoch
        ],
        tags: &[],
    };

    pub static WRITABLE_TXN_MARKER_TOPIC: Shape = Shape {
        name: "WritableTxnMarkerTopic",
        versions: 0x2,
        flexible: 0x2,
        fields: &[
            Field(0x2, Ty::CompactStr),                  // name
            Field(0x2, Ty::CompactArray(&Ty::Fixed(4))), // partition_indexes
        ],
        tags: &[],
    };
}

pub mod txn_offset_commit {
    use super::*;

    pub static TXN_OFFSET_COMMIT_REQUEST: Shape = Shape {
        name: "TxnOffsetCommitRequest",
        versions: 0x3f,
        flexible: 0x38,
        fields: &[
            Field(0x38, Ty::CompactStr), // transactional_id
            Field(0x7, Ty::Str),         // transactional_id
            Field(0x38, Ty::CompactStr), // group_id
            Field(0x7, Ty::Str),         // group_id
            Field(0x3f, Ty::Fixed(8)),   // producer_id
            Field(0x3f, Ty::Fixed(2)),   // producer_epoch
            Field(0x38, Ty::Fixed(4)),   // generation_id
            Field(0x38, Ty::CompactStr), // member_id
            Field(0x38, Ty::CompactStr), // group_instance_id
            Field(
                0x38,
                Ty::CompactArray(&Ty::Struct(&TXN_OFFSET_COMMIT_REQUEST_TOPIC)),
            ), // topics
            Field(
                0x7,
                Ty::Array(&Ty::Struct(&TXN_OFFSET_COMMIT_REQUEST_TOPIC)),
            ), // topics
        ],
        tags: &[],
    };

    pub static TXN_OFFSET_COMMIT_REQUEST_TOPIC: Shape = Shape {
        name: "TxnOffsetCommitRequestTopic",
        versions: 0x3f,
        flexible: 0x38,
        fields: &[
            Field(0x38, Ty::CompactStr), // name
            Field(0x7, Ty::Str),         // name
            Field(
                0x38,
                Ty::CompactArray(&Ty::Struct(&TXN_OFFSET_COMMIT_REQUEST_PARTITION)),
            ), // partitions
            Field(
                0x7,
                Ty::Array(&Ty::Struct(&TXN_OFFSET_COMMIT_REQUEST_PARTITION)),
            ), // partitions
        ],
        tags: &[],
    };

    pub static TXN_OFFSET_COMMIT_REQUEST_PARTITION: Shape = Shape {
        name: "TxnOffsetCommitRequestPartition",
        versions: 0x3f,
        flexible: 0x38,
        fields: &[
            Field(0x3f, Ty::Fixed(4)),   // partition_index
            Field(0x3f, Ty::Fixed(8)),   // committed_offset
            Field(0x3c, Ty::Fixed(4)),   // committed_leader_epoch
            Field(0x38, Ty::CompactStr), // committed_metadata
            Field(0x7, Ty::Str),         // committed_metadata
        ],
        tags: &[],
    };
}

pub mod describe_configs {
    use super::*;

    pub static DESCRIBE_CONFIGS_REQUEST: Shape = Shape {
        name: "DescribeConfigsRequest",
        versions: 0x1e,
        flexible: 0x10,
        fields: &[
            Field(
                0x10,
                Ty::CompactArray(&Ty::Struct(&DESCRIBE_CONFIGS_RESOURCE)),
            ), // resources
            Field(0xf, Ty::Array(&Ty::Struct(&DESCRIBE_CONFIGS_RESOURCE))), // resources
            Field(0x1f, Ty::Fixed(1)),                                      // include_synonyms
            Field(0x18, Ty::Fixed(1)),                                      // include_documentation
        ],
        tags: &[],
    };

    pub static DESCRIBE_CONFIGS_RESOURCE: Shape = Shape {
        name: "DescribeConfigsResource",
        versions: 0x1e,
        flexible: 0x10,
        fields: &[
            Field(0x1f, Ty::Fixed(1)),                      // resource_type
            Field(0x10, Ty::CompactStr),                    // resource_name
            Field(0xf, Ty::Str),                            // resource_name
            Field(0x10, Ty::CompactArray(&Ty::CompactStr)), // configuration_keys
            Field(0xf, Ty::Array(&Ty::Str)),                // configuration_keys
        ],
        tags: &[],
    };
}

pub mod alter_configs {
    use super::*;

    pub static ALTER_CONFIGS_REQUEST: Shape = Shape {
        name: "AlterConfigsRequest",
        versions: 0x7,
        flexible: 0x4,
        fields: &[
            Field(0x4, Ty::CompactArray(&Ty::Struct(&ALTER_CONFIGS_RESOURCE))), // resources
            Field(0x3, Ty::Array(&Ty::Struct(&ALTER_CONFIGS_RESOURCE))),        // resources
            Field(0x7, Ty::Fixed(1)),                                           // validate_only
        ],
        tags: &[],
    };

    pub static ALTER_CONFIGS_RESOURCE: Shape = Shape {
        name: "AlterConfigsResource",
        versions: 0x7,
        flexible: 0x4,
        fields: &[
            Field(0x7, Ty::Fixed(1)),   // resource_type
            Field(0x4, Ty::CompactStr), // resource_name
            Field(0x3, Ty::Str),        // resource_name
            Field(0x4, Ty::CompactArray(&Ty::Struct(&ALTERABLE_CONFIG))), // configs
            Field(0x3, Ty::Array(&Ty::Struct(&ALTERABLE_CONFIG))), // configs
        ],
        tags: &[],
    };

    pub static ALTERABLE_CONFIG: Shape = Shape {
        name: "AlterableConfig",
        versions: 0x7,
        flexible: 0x4,
        fields: &[
            Field(0x4, Ty::CompactStr), // name
            Field(0x3, Ty::Str),        // name
            Field(0x4, Ty::CompactStr), // value
            Field(0x3, Ty::Str),        // value
        ],
        tags: &[],
    };
}

pub mod describe_log_dirs {
    use super::*;

    pub static DESCRIBE_LOG_DIRS_REQUEST: Shape = Shape {
        name: "DescribeLogDirsRequest",
        versions: 0x1e,
        flexible: 0x1c,
        fields: &[
            Field(
                0x1c,
                Ty::CompactArray(&Ty::Struct(&DESCRIBABLE_LOG_DIR_TOPIC)),
            ), // topics
            Field(0x3, Ty::Array(&Ty::Struct(&DESCRIBABLE_LOG_DIR_TOPIC))), // topics
        ],
        tags: &[],
    };

    pub static DESCRIBABLE_LOG_DIR_TOPIC: Shape = Shape {
        name: "DescribableLogDirTopic",
        versions: 0x1e,
        flexible: 0x1c,
        fields: &[
            Field(0x1c, Ty::CompactStr),                  // topic
            Field(0x3, Ty::Str),                          // topic
            Field(0x1c, Ty::CompactArray(&Ty::Fixed(4))), // partitions
            Field(0x3, Ty::Array(&Ty::Fixed(4))),         // partitions
        ],
        tags: &[],
    };
}

pub mod create_partitions {
    use super::*;

    pub static CREATE_PARTITIONS_REQUEST: Shape = Shape {
        name: "CreatePartitionsRequest",
        versions: 0xf,
        flexible: 0xc,
        fields: &[
            Field(0xc, Ty::CompactArray(&Ty::Struct(&CREATE_PARTITIONS_TOPIC))), // topics
            Field(0x3, Ty::Array(&Ty::Struct(&CREATE_PARTITIONS_TOPIC))),        // topics
            Field(0xf, Ty::Fixed(4)),                                            // timeout_ms
            Field(0xf, Ty::Fixed(1)),                                            // validate_only
        ],
        tags: &[],
    };

    pub static CREATE_PARTITIONS_TOPIC: Shape = Shape {
        name: "CreatePartitionsTopic",
        versions: 0xf,
        flexible: 0xc,
        fields: &[
            Field(0xc, Ty::CompactStr), // name
            Field(0x3, Ty::Str),        // name
            Field(0xf, Ty::Fixed(4)),   // count
            Field(
                0xc,
                Ty::CompactArray(&Ty::Struct(&CREATE_PARTITIONS_ASSIGNMENT)),
            ), // assignments
            Field(0x3, Ty::Array(&Ty::Struct(&CREATE_PARTITIONS_ASSIGNMENT))), // assignments
        ],
        tags: &[],
    };

    pub static CREATE_PARTITIONS_ASSIGNMENT: Shape = Shape {
        name: "CreatePartitionsAssignment",
        versions: 0xf,
        flexible: 0xc,
        fields: &[
            Field(0xc, Ty::CompactArray(&Ty::Fixed(4))), // broker_ids
            Field(0x3, Ty::Array(&Ty::Fixed(4))),        // broker_ids
        ],
        tags: &[],
    };
}

pub mod delete_groups {
    use super::*;

    pub static DELETE_GROUPS_REQUEST: Shape = Shape {
        name: "DeleteGroupsRequest",
        versions: 0x7,
        flexible: 0x4,
        fields: &[
            Field(0x4, Ty::CompactArray(&Ty::CompactStr)), // groups_names
            Field(0x3, Ty::Array(&Ty::Str)),               // groups_names
        ],
        tags: &[],
    };
}

pub mod elect_leaders {
    use super::*;

    pub static ELECT_LEADERS_REQUEST: Shape = Shape {
        name: "ElectLeadersRequest",
        versions: 0x7,
        flexible: 0x4,
        fields: &[
            Field(0x6, Ty::Fixed(1)), // election_type
            Field(0x4, Ty::CompactArray(&Ty::Struct(&TOPIC_PARTITIONS))), // topic_partitions
            Field(0x3, Ty::Array(&Ty::Struct(&TOPIC_PARTITIONS))), // topic_partitions
            Field(0x7, Ty::Fixed(4)), // timeout_ms
        ],
        tags: &[],
    };

    pub static TOPIC_PARTITIONS: Shape = Shape {
        name: "TopicPartitions",
        versions: 0x7,
        flexible: 0x4,
        fields: &[
            Field(0x4, Ty::CompactStr),                  // topic
            Field(0x3, Ty::Str),                         // topic
            Field(0x4, Ty::CompactArray(&Ty::Fixed(4))), // partitions
            Field(0x3, Ty::Array(&Ty::Fixed(4))),        // partitions
        ],
        tags: &[],
    };
}

pub mod incremental_alter_configs {
    use super::*;

    pub static INCREMENTAL_ALTER_CONFIGS_REQUEST: Shape = Shape {
        name: "IncrementalAlterConfigsRequest",
        versions: 0x3,
        flexible: 0x2,
        fields: &[
            Field(0x2, Ty::CompactArray(&Ty::Struct(&ALTER_CONFIGS_RESOURCE))), // resources
            Field(0x1, Ty::Array(&Ty::Struct(&ALTER_CONFIGS_RESOURCE))),        // resources
            Field(0x3, Ty::Fixed(1)),                                           // validate_only
        ],
        tags: &[],
    };

    pub static ALTER_CONFIGS_RESOURCE: Shape = Shape {
        name: "AlterConfigsResource",
        versions: 0x3,
        flexible: 0x2,
        fields: &[
            Field(0x3, Ty::Fixed(1)),   // resource_type
            Field(0x2, Ty::CompactStr), // resource_name
            Field(0x1, Ty::Str),        // resource_name
            Field(0x2, Ty::CompactArray(&Ty::Struct(&ALTERABLE_CONFIG))), // configs
            Field(0x1, Ty::Array(&Ty::Struct(&ALTERABLE_CONFIG))), // configs
        ],
        tags: &[],
    };

    pub static ALTERABLE_CONFIG: Shape = Shape {
        name: "AlterableConfig",
        versions: 0x3,
        flexible: 0x2,
        fields: &[
            Field(0x2, Ty::CompactStr), // name
            Field(0x1, Ty::Str),        // name
            Field(0x3, Ty::Fixed(1)),   // config_operation
            Field(0x2, Ty::CompactStr), // value
            Field(0x1, Ty::Str),        // value
        ],
        tags: &[],
    };
}

pub mod list_partition_reassignments {
    use super::*;

    pub static LIST_PARTITION_REASSIGNMENTS_REQUEST: Shape = Shape {
        name: "ListPartitionReassignmentsRequest",
        versions: 0x1,
        flexible: 0x1,
        fields: &[
            Field(0x1, Ty::Fixed(4)), // timeout_ms
            Field(
                0x1,
                Ty::CompactArray(&Ty::Struct(&LIST_PARTITION_REASSIGNMENTS_TOPICS)),
            ), // topics
        ],
        tags: &[],
    };

    pub static LIST_PARTITION_REASSIGNMENTS_TOPICS: Shape = Shape {
        name: "ListPartitionReassignmentsTopics",
        versions: 0x1,
        flexible: 0x1,
        fields: &[
            Field(0x1, Ty::CompactStr),                  // name
            Field(0x1, Ty::CompactArray(&Ty::Fixed(4))), // partition_indexes
        ],
        tags: &[],
    };
}

pub mod offset_delete {
    use super::*;

    pub static OFFSET_DELETE_REQUEST: Shape = Shape {
        name: "OffsetDeleteRequest",
        versions: 0x1,
        flexible: 0x0,
        fields: &[
            Field(0x1, Ty::Str),                                              // group_id
            Field(0x1, Ty::Array(&Ty::Struct(&OFFSET_DELETE_REQUEST_TOPIC))), // topics
        ],
        tags: &[],
    };

    pub static OFFSET_DELETE_REQUEST_TOPIC: Shape = Shape {
        name: "OffsetDeleteRequestTopic",
        versions: 0x1,
        flexible: 0x0,
        fields: &[
            Field(0x1, Ty::Str), // name
            Field(
                0x1,
                Ty::Array(&Ty::Struct(&OFFSET_DELETE_REQUEST_PARTITION)),
            ), // partitions
        ],
        tags: &[],
    };

    pub static OFFSET_DELETE_REQUEST_PARTITION: Shape = Shape {
        name: "OffsetDeleteRequestPartition",
        versions: 0x1,
        flexible: 0x0,
        fields: &[
            Field(0x1, Ty::Fixed(4)), // partition_index
        ],
        tags: &[],
    };
}

pub mod describe_user_scram_credentials {
    use super::*;

    pub static DESCRIBE_USER_SCRAM_CREDENTIALS_REQUEST: Shape = Shape {
        name: "DescribeUserScramCredentialsRequest",
        versions: 0x1,
        flexible: 0x1,
        fields: &[
            Field(0x1, Ty::CompactArray(&Ty::Struct(&USER_NAME))), // users
        ],
        tags: &[],
    };

    pub static USER_NAME: Shape = Shape {
        name: "UserName",
        versions: 0x1,
        flexible: 0x1,
        fields: &[
            Field(0x1, Ty::CompactStr), // name
        ],
        tags: &[],
    };
}

pub mod alter_user_scram_credentials {
    use super::*;

    pub static ALTER_USER_SCRAM_CREDENTIALS_REQUEST: Shape = Shape {
        name: "AlterUserScramCredentialsRequest",
        versions: 0x1,
        flexible: 0x1,
        fields: &[
            Field(
                0x1,
                Ty::CompactArray(&Ty::Struct(&SCRAM_CREDENTIAL_DELETION)),
            ), // deletions
            Field(
                0x1,
                Ty::CompactArray(&Ty::Struct(&SCRAM_CREDENTIAL_UPSERTION)),
            ), // upsertions
        ],
        tags: &[],
    };

    pub static SCRAM_CREDENTIAL_DELETION: Shape = Shape {
        name: "ScramCredentialDeletion",
        versions: 0x1,
        flexible: 0x1,
        fields: &[
            Field(0x1, Ty::CompactStr), // name
            Field(0x1, Ty::Fixed(1)),   // mechanism
        ],
        tags: &[],
    };

    pub static SCRAM_CREDENTIAL_UPSERTION: Shape = Shape {
        name: "ScramCredentialUpsertion",
        versions: 0x1,
        flexible: 0x1,
        fields: &[
            Field(0x1, Ty::CompactStr),   // name
            Field(0x1, Ty::Fixed(1)),     // mechanism
            Field(0x1, Ty::Fixed(4)),     // iterations
            Field(0x1, Ty::CompactBytes), // salt
            Field(0x1, Ty::CompactBytes), // salted_password
        ],
        tags: &[],
    };
}

pub mod describe_client_quotas {
    use super::*;

    pub static DESCRIBE_CLIENT_QUOTAS_REQUEST: Shape = Shape {
        name: "DescribeClientQuotasRequest",
        versions: 0x3,
        flexible: 0x2,
        fields: &[
            Field(0x2, Ty::CompactArray(&Ty::Struct(&COMPONENT_DATA))), // components
            Field(0x1, Ty::Array(&Ty::Struct(&COMPONENT_DATA))),        // components
            Field(0x3, Ty::Fixed(1)),                                   // strict
        ],
        tags: &[],
    };

    pub static COMPONENT_DATA: Shape = Shape {
        name: "ComponentData",
        versions: 0x3,
        flexible: 0x2,
        fields: &[
            Field(0x2, Ty::CompactStr), // entity_type
            Field(0x1, Ty::Str),        // entity_type
            Field(0x3, Ty::Fixed(1)),   // match_type
            Field(0x2, Ty::CompactStr), // match
            Field(0x1, Ty::Str),        // match
        ],
        tags: &[],
    };
}

pub mod alter_client_quotas {
    use super::*;

    pub static ALTER_CLIENT_QUOTAS_REQUEST: Shape = Shape {
        name: "AlterClientQuotasRequest",
        versions: 0x3,
        flexible: 0x2,
        fields: &[
            Field(0x2, Ty::CompactArray(&Ty::Struct(&ENTRY_DATA))), // entries
            Field(0x1, Ty::Array(&Ty::Struct(&ENTRY_DATA))),        // entries
            Field(0x3, Ty::Fixed(1)),                               // validate_only
        ],
        tags: &[],
    };

    pub static ENTRY_DATA: Shape = Shape {
        name: "EntryData",
        versions: 0x3,
        flexible: 0x2,
        fields: &[
            Field(0x2, Ty::CompactArray(&Ty::Struct(&ENTITY_DATA))), // entity
            Field(0x1, Ty::Array(&Ty::Struct(&ENTITY_DATA))),        // entity
            Field(0x2, Ty::CompactArray(&Ty::Struct(&OP_DATA))),     // ops
            Field(0x1, Ty::Array(&Ty::Struct(&OP_DATA))),            // ops
        ],
        tags: &[],
    };

    pub static ENTITY_DATA: Shape = Shape {
        name: "EntityData",
        versions: 0x3,
        flexible: 0x2,
        fields: &[
            Field(0x2, Ty::CompactStr), // entity_type
            Field(0x1, Ty::Str),        // entity_type
            Field(0x2, Ty::CompactStr), // entity_name
            Field(0x1, Ty::Str),        // entity_name
        ],
        tags: &[],
    };

    pub static OP_DATA: Shape = Shape {
        name: "OpData",
        versions: 0x3,
        flexible: 0x2,
        fields: &[
            Field(0x2, Ty::CompactStr), // key
            Field(0x1, Ty::Str),        // key
            Field(0x3, Ty::Fixed(8)),   // value
            Field(0x3, Ty::Fixed(1)),   // remove
        ],
        tags: &[],
    };
}

pub mod describe_cluster {
    use super::*;

    pub static DESCRIBE_CLUSTER_REQUEST: Shape = Shape {
        name: "DescribeClusterRequest",
        versions: 0x7,
        flexible: 0x7,
        fields: &[
            Field(0x7, Ty::Fixed(1)), // include_cluster_authorized_operations
            Field(0x6, Ty::Fixed(1)), // endpoint_type
            Field(0x4, Ty::Fixed(1)), // include_fenced_brokers
        ],
        tags: &[],
    };
}

pub mod describe_producers {
    use super::*;

    pub static DESCRIBE_PRODUCERS_REQUEST: Shape = Shape {
        name: "DescribeProducersRequest",
        versions: 0x1,
        flexible: 0x1,
        fields: &[
            Field(0x1, Ty::CompactArray(&Ty::Struct(&TOPIC_REQUEST))), // topics
        ],
        tags: &[],
    };

    pub static TOPIC_REQUEST: Shape = Shape {
        name: "TopicRequest",
        versions: 0x1,
        flexible: 0x1,
        fields: &[
            Field(0x1, Ty::CompactStr),                  // name
            Field(0x1, Ty::CompactArray(&Ty::Fixed(4))), // partition_indexes
        ],
        tags: &[],
    };
}

pub mod describe_transactions {
    use super::*;

    pub static DESCRIBE_TRANSACTIONS_REQUEST: Shape = Shape {
        name: "DescribeTransactionsRequest",
        versions: 0x1,
        flexible: 0x1,
        fields: &[
            Field(0x1, Ty::CompactArray(&Ty::CompactStr)), // transactional_ids
        ],
        tags: &[],
    };
}

pub mod list_transactions {
    use super::*;

    pub static LIST_TRANSACTIONS_REQUEST: Shape = Shape {
        name: "ListTransactionsRequest",
        versions: 0x7,
        flexible: 0x7,
        fields: &[
            Field(0x7, Ty::CompactArray(&Ty::CompactStr)), // state_filters
            Field(0x7, Ty::CompactArray(&Ty::Fixed(8))),   // producer_id_filters
            Field(0x6, Ty::Fixed(8)),                      // duration_filter
            Field(0x4, Ty::CompactStr),                    // transactional_id_pattern
        ],
        tags: &[],
    };
}

pub mod consumer_group_heartbeat {
    use super::*;

    pub static CONSUMER_GROUP_HEARTBEAT_REQUEST: Shape = Shape {
        name: "ConsumerGroupHeartbeatRequest",
        versions: 0x3,
        flexible: 0x3,
        fields: &[
            Field(0x3, Ty::CompactStr),                                   // group_id
            Field(0x3, Ty::CompactStr),                                   // member_id
            Field(0x3, Ty::Fixed(4)),                                     // member_epoch
            Field(0x3, Ty::CompactStr),                                   // instance_id
            Field(0x3, Ty::CompactStr),                                   // rack_id
            Field(0x3, Ty::Fixed(4)),                                     // rebalance_timeout_ms
            Field(0x3, Ty::CompactArray(&Ty::CompactStr)),                // subscribed_topic_names
            Field(0x2, Ty::CompactStr),                                   // subscribed_topic_regex
            Field(0x3, Ty::CompactStr),                                   // server_assignor
            Field(0x3, Ty::CompactArray(&Ty::Struct(&TOPIC_PARTITIONS))), // topic_partitions
        ],
        tags: &[],
    };

    pub static TOPIC_PARTITIONS: Shape = Shape {
        name: "TopicPartitions",
        versions: 0x3,
        flexible: 0x3,
        fields: &[
            Field(0x3, Ty::Fixed(16)),                   // topic_id
            Field(0x3, Ty::CompactArray(&Ty::Fixed(4))), // partitions
        ],
        tags: &[],
    };
}

pub mod consumer_group_describe {
    use super::*;

    pub static CONSUMER_GROUP_DESCRIBE_REQUEST: Shape = Shape {
        name: "ConsumerGroupDescribeRequest",
        versions: 0x3,
        flexible: 0x3,
        fields: &[
            Field(0x3, Ty::CompactArray(&Ty::CompactStr)), // group_ids
            Field(0x3, Ty::Fixed(1)),                      // include_authorized_operations
        ],
        tags: &[],
    };
}

pub mod describe_topic_partitions {
    use super::*;

    pub static DESCRIBE_TOPIC_PARTITIONS_REQUEST: Shape = Shape {
        name: "DescribeTopicPartitionsRequest",
        versions: 0x1,
        flexible: 0x1,
        fields: &[
            Field(0x1, Ty::CompactArray(&Ty::Struct(&TOPIC_REQUEST))), // topics
            Field(0x1, Ty::Fixed(4)),                                  // response_partition_limit
            Field(0x1, Ty::OptionStruct(&CURSOR)),                     // cursor
        ],
        tags: &[],
    };

    pub static TOPIC_REQUEST: Shape = Shape {
        name: "TopicRequest",
        versions: 0x1,
        flexible: 0x1,
        fields: &[
            Field(0x1, Ty::CompactStr), // name
        ],
        tags: &[],
    };

    pub static CURSOR: Shape = Shape {
        name: "Cursor",
        versions: 0x1,
        flexible: 0x1,
        fields: &[
            Field(0x1, Ty::CompactStr), // topic_name
            Field(0x1, Ty::Fixed(4)),   // partition_index
        ],
        tags: &[],
    };
}

pub mod sasl_handshake {
    use super::*;

    pub static SASL_HANDSHAKE_REQUEST: Shape = Shape {
        name: "SaslHandshakeRequest",
        versions: 0x3,
        flexible: 0x0,
        fields: &[
            Field(0x3, Ty::Str), // mechanism
        ],
        tags: &[],
    };
}

pub mod describe_acls {
    use super::*;

    pub static DESCRIBE_ACLS_REQUEST: Shape = Shape {
        name: "DescribeAclsRequest",
        versions: 0xe,
        flexible: 0xc,
        fields: &[
            Field(0xf, Ty::Fixed(1)),   // resource_type_filter
            Field(0xc, Ty::CompactStr), // resource_name_filter
            Field(0x3, Ty::Str),        // resource_name_filter
            Field(0xf, Ty::Fixed(1)),   // pattern_type_filter
            Field(0xc, Ty::CompactStr), // principal_filter
            Field(0x3, Ty::Str),        // principal_filter
            Field(0xc, Ty::CompactStr), // host_filter
            Field(0x3, Ty::Str),        // host_filter
            Field(0xf, Ty::Fixed(1)),   // operation
            Field(0xf, Ty::Fixed(1)),   // permission_type
        ],
        tags: &[],
    };
}

pub mod create_acls {
    use super::*;

    pub static CREATE_ACLS_REQUEST: Shape = Shape {
        name: "CreateAclsRequest",
        versions: 0xe,
        flexible: 0xc,
        fields: &[
            Field(0xc, Ty::CompactArray(&Ty::Struct(&ACL_CREATION))), // creations
            Field(0x3, Ty::Array(&Ty::Struct(&ACL_CREATION))),        // creations
        ],
        tags: &[],
    };

    pub static ACL_CREATION: Shape = Shape {
        name: "AclCreation",
        versions: 0xe,
        flexible: 0xc,
        fields: &[
            Field(0xf, Ty::Fixed(1)),   // resource_type
            Field(0xc, Ty::CompactStr), // resource_name
            Field(0x3, Ty::Str),        // resource_name
            Field(0xf, Ty::Fixed(1)),   // resource_pattern_type
            Field(0xc, Ty::CompactStr), // principal
            Field(0x3, Ty::Str),        // principal
            Field(0xc, Ty::CompactStr), // host
            Field(0x3, Ty::Str),        // host
            Field(0xf, Ty::Fixed(1)),   // operation
            Field(0xf, Ty::Fixed(1)),   // permission_type
        ],
        tags: &[],
    };
}

pub mod delete_acls {
    use super::*;

    pub static DELETE_ACLS_REQUEST: Shape = Shape {
        name: "DeleteAclsRequest",
        versions: 0xe,
        flexible: 0xc,
        fields: &[
            Field(0xc, Ty::CompactArray(&Ty::Struct(&DELETE_ACLS_FILTER))), // filters
            Field(0x3, Ty::Array(&Ty::Struct(&DELETE_ACLS_FILTER))),        // filters
        ],
        tags: &[],
    };

    pub static DELETE_ACLS_FILTER: Shape = Shape {
        name: "DeleteAclsFilter",
        versions: 0xe,
        flexible: 0xc,
        fields: &[
            Field(0xf, Ty::Fixed(1)),   // resource_type_filter
            Field(0xc, Ty::CompactStr), // resource_name_filter
            Field(0x3, Ty::Str),        // resource_name_filter
            Field(0xf, Ty::Fixed(1)),   // pattern_type_filter
            Field(0xc, Ty::CompactStr), // principal_filter
            Field(0x3, Ty::Str),        // principal_filter
            Field(0xc, Ty::CompactStr), // host_filter
            Field(0x3, Ty::Str),        // host_filter
            Field(0xf, Ty::Fixed(1)),   // operation
            Field(0xf, Ty::Fixed(1)),   // permission_type
        ],
        tags: &[],
    };
}

pub mod sasl_authenticate {
    use super::*;

    pub static SASL_AUTHENTICATE_REQUEST: Shape = Shape {
        name: "SaslAuthenticateRequest",
        versions: 0x7,
        flexible: 0x4,
        fields: &[
            Field(0x4, Ty::CompactBytes), // auth_bytes
            Field(0x3, Ty::Bytes),        // auth_bytes
        ],
        tags: &[],
    };
}

pub mod request_header {
    use super::*;

    pub static REQUEST_HEADER: Shape = Shape {
        name: "RequestHeader",
        versions: 0x6,
        flexible: 0x4,
        fields: &[
            Field(0x7, Ty::Fixed(2)), // request_api_key
            Field(0x7, Ty::Fixed(2)), // request_api_version
            Field(0x7, Ty::Fixed(4)), // correlation_id
            Field(0x7, Ty::Str),      // client_id
        ],
        tags: &[],
    };
}

// --- KIP-932 share groups: version 1 only (Kafka 4.1's stable share protocol) -----------------

pub mod share_group_heartbeat {
    use super::*;

    pub static SHARE_GROUP_HEARTBEAT_REQUEST: Shape = Shape {
        name: "ShareGroupHeartbeatRequest",
        versions: 0x2,
        flexible: 0x2,
        fields: &[
            Field(0x2, Ty::CompactStr),                    // group_id
            Field(0x2, Ty::CompactStr),                    // member_id
            Field(0x2, Ty::Fixed(4)),                      // member_epoch
            Field(0x2, Ty::CompactStr),                    // rack_id
            Field(0x2, Ty::CompactArray(&Ty::CompactStr)), // subscribed_topic_names
        ],
        tags: &[],
    };
}

pub mod share_group_describe {
    use super::*;

    pub static SHARE_GROUP_DESCRIBE_REQUEST: Shape = Shape {
        name: "ShareGroupDescribeRequest",
        versions: 0x2,
        flexible: 0x2,
        fields: &[
            Field(0x2, Ty::CompactArray(&Ty::CompactStr)), // group_ids
            Field(0x2, Ty::Fixed(1)),                      // include_authorized_operations
        ],
        tags: &[],
    };
}

pub mod share_fetch {
    use super::*;

    pub static SHARE_FETCH_REQUEST: Shape = Shape {
        name: "ShareFetchRequest",
        versions: 0x2,
        flexible: 0x2,
        fields: &[
            Field(0x2, Ty::CompactStr),                                  // group_id
            Field(0x2, Ty::CompactStr),                                  // member_id
            Field(0x2, Ty::Fixed(4)),                                    // share_session_epoch
            Field(0x2, Ty::Fixed(4)),                                    // max_wait_ms
            Field(0x2, Ty::Fixed(4)),                                    // min_bytes
            Field(0x2, Ty::Fixed(4)),                                    // max_bytes
            Field(0x2, Ty::Fixed(4)),                                    // max_records
            Field(0x2, Ty::Fixed(4)),                                    // batch_size
            Field(0x2, Ty::CompactArray(&Ty::Struct(&FETCH_TOPIC))),     // topics
            Field(0x2, Ty::CompactArray(&Ty::Struct(&FORGOTTEN_TOPIC))), // forgotten_topics_data
        ],
        tags: &[],
    };

    pub static FETCH_TOPIC: Shape = Shape {
        name: "FetchTopic",
        versions: 0x2,
        flexible: 0x2,
        fields: &[
            Field(0x2, Ty::Fixed(16)),                                   // topic_id
            Field(0x2, Ty::CompactArray(&Ty::Struct(&FETCH_PARTITION))), // partitions
        ],
        tags: &[],
    };

    pub static FETCH_PARTITION: Shape = Shape {
        name: "FetchPartition",
        versions: 0x2,
        flexible: 0x2,
        fields: &[
            Field(0x2, Ty::Fixed(4)), // partition_index
            Field(0x2, Ty::CompactArray(&Ty::Struct(&ACKNOWLEDGEMENT_BATCH))), // acknowledgement_batches
        ],
        tags: &[],
    };

    pub static ACKNOWLEDGEMENT_BATCH: Shape = Shape {
        name: "AcknowledgementBatch",
        versions: 0x2,
        flexible: 0x2,
        fields: &[
            Field(0x2, Ty::Fixed(8)),                    // first_offset
            Field(0x2, Ty::Fixed(8)),                    // last_offset
            Field(0x2, Ty::CompactArray(&Ty::Fixed(1))), // acknowledge_types
        ],
        tags: &[],
    };

    pub static FORGOTTEN_TOPIC: Shape = Shape {
        name: "ForgottenTopic",
        versions: 0x2,
        flexible: 0x2,
        fields: &[
            Field(0x2, Ty::Fixed(16)),                   // topic_id
            Field(0x2, Ty::CompactArray(&Ty::Fixed(4))), // partitions
        ],
        tags: &[],
    };
}

pub mod share_acknowledge {
    use super::*;

    pub static SHARE_ACKNOWLEDGE_REQUEST: Shape = Shape {
        name: "ShareAcknowledgeRequest",
        versions: 0x2,
        flexible: 0x2,
        fields: &[
            Field(0x2, Ty::CompactStr),                                    // group_id
            Field(0x2, Ty::CompactStr),                                    // member_id
            Field(0x2, Ty::Fixed(4)),                                      // share_session_epoch
            Field(0x2, Ty::CompactArray(&Ty::Struct(&ACKNOWLEDGE_TOPIC))), // topics
        ],
        tags: &[],
    };

    pub static ACKNOWLEDGE_TOPIC: Shape = Shape {
        name: "AcknowledgeTopic",
        versions: 0x2,
        flexible: 0x2,
        fields: &[
            Field(0x2, Ty::Fixed(16)), // topic_id
            Field(0x2, Ty::CompactArray(&Ty::Struct(&ACKNOWLEDGE_PARTITION))), // partitions
        ],
        tags: &[],
    };

    pub static ACKNOWLEDGE_PARTITION: Shape = Shape {
        name: "AcknowledgePartition",
        versions: 0x2,
        flexible: 0x2,
        fields: &[
            Field(0x2, Ty::Fixed(4)), // partition_index
            Field(
                0x2,
                Ty::CompactArray(&Ty::Struct(&super::share_fetch::ACKNOWLEDGEMENT_BATCH)),
            ), // acknowledgement_batches
        ],
        tags: &[],
    };
}

/// DescribeShareGroupOffsets, AlterShareGroupOffsets, DeleteShareGroupOffsets: version 0 only.
pub mod share_group_offsets {
    use super::*;

    pub static DESCRIBE_SHARE_GROUP_OFFSETS_REQUEST: Shape = Shape {
        name: "DescribeShareGroupOffsetsRequest",
        versions: 0x1,
        flexible: 0x1,
        fields: &[
            Field(0x1, Ty::CompactArray(&Ty::Struct(&DESCRIBE_GROUP))), // groups
        ],
        tags: &[],
    };

    pub static DESCRIBE_GROUP: Shape = Shape {
        name: "DescribeShareGroupOffsetsRequestGroup",
        versions: 0x1,
        flexible: 0x1,
        fields: &[
            Field(0x1, Ty::CompactStr),                                 // group_id
            Field(0x1, Ty::CompactArray(&Ty::Struct(&DESCRIBE_TOPIC))), // topics
        ],
        tags: &[],
    };

    pub static DESCRIBE_TOPIC: Shape = Shape {
        name: "DescribeShareGroupOffsetsRequestTopic",
        versions: 0x1,
        flexible: 0x1,
        fields: &[
            Field(0x1, Ty::CompactStr),                  // topic_name
            Field(0x1, Ty::CompactArray(&Ty::Fixed(4))), // partitions
        ],
        tags: &[],
    };

    pub static ALTER_SHARE_GROUP_OFFSETS_REQUEST: Shape = Shape {
        name: "AlterShareGroupOffsetsRequest",
        versions: 0x1,
        flexible: 0x1,
        fields: &[
            Field(0x1, Ty::CompactStr),                              // group_id
            Field(0x1, Ty::CompactArray(&Ty::Struct(&ALTER_TOPIC))), // topics
        ],
        tags: &[],
    };

    pub static ALTER_TOPIC: Shape = Shape {
        name: "AlterShareGroupOffsetsRequestTopic",
        versions: 0x1,
        flexible: 0x1,
        fields: &[
            Field(0x1, Ty::CompactStr),                                  // topic_name
            Field(0x1, Ty::CompactArray(&Ty::Struct(&ALTER_PARTITION))), // partitions
        ],
        tags: &[],
    };

    pub static ALTER_PARTITION: Shape = Shape {
        name: "AlterShareGroupOffsetsRequestPartition",
        versions: 0x1,
        flexible: 0x1,
        fields: &[
            Field(0x1, Ty::Fixed(4)), // partition_index
            Field(0x1, Ty::Fixed(8)), // start_offset
        ],
        tags: &[],
    };

    pub static DELETE_SHARE_GROUP_OFFSETS_REQUEST: Shape = Shape {
        name: "DeleteShareGroupOffsetsRequest",
        versions: 0x1,
        flexible: 0x1,
        fields: &[
            Field(0x1, Ty::CompactStr),                               // group_id
            Field(0x1, Ty::CompactArray(&Ty::Struct(&DELETE_TOPIC))), // topics
        ],
        tags: &[],
    };

    pub static DELETE_TOPIC: Shape = Shape {
        name: "DeleteShareGroupOffsetsRequestTopic",
        versions: 0x1,
        flexible: 0x1,
        fields: &[
            Field(0x1, Ty::CompactStr), // topic_name
        ],
        tags: &[],
    };
}
