//! Klamm: a single-node broker that speaks the Apache Kafka wire protocol and stores data in
//! Kafka's on-disk log format.
//!
//! A request travels `server` (accept) -> `connection` (framing, ordering) -> `protocol`
//! (decode) -> `handlers` (one module per API) -> `log` (partitions and segments), and its
//! response back the same way. `versions` is the table of what is served.

pub mod accept;
pub mod broker;
pub mod cli;
pub mod cluster;
pub mod configs;
pub mod connection;
pub mod error;
pub mod error_names;
pub mod groups;
pub mod handlers;
pub mod http;
pub mod log;
pub mod metrics;
pub mod protocol;
pub mod quota;
pub mod security;
pub mod send;
pub mod server;
pub mod settings;
pub mod share;
pub mod transport;
pub mod txn;
pub mod versions;
