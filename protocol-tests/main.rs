//! Black-box protocol tests: every test starts a real `klamm serve` process on an ephemeral
//! port and talks the Kafka wire protocol to it over TCP, at every advertised version.
//!
//! Run with `cargo test --release --test protocol`. One module per capability; the shared
//! harness (broker process, blocking client, record batches) is in `support/`.

mod support;

mod acls;
mod admin;
mod api_versions;
mod checkpoints;
mod cleaner;
mod configs;
mod connections;
mod consumer_groups;
mod describe_cluster;
mod descriptors;
mod disk_full;
mod fetch;
mod framing;
mod group_configs;
mod group_offsets;
mod groups;
mod hostile;
mod init_producer_id;
mod list_offsets;
mod listeners;
mod metadata;
mod produce;
mod quotas;
mod removed_versions;
mod retention;
mod sasl;
mod scram_credentials;
mod share_groups;
mod tls;
mod topics;
mod transactions;
mod wire_captures;
