//! Storage: Kafka's on-disk log layout, one directory per partition.
//!
//! `manager` knows the topics; `partition` owns a partition's segments, offsets and producer
//! state; `segment` and `index` are the files; `batch` reads batch headers without decoding
//! records and `batch_reader` is the one reader of stored batches; `validator` applies Kafka's
//! produce-time rules; `records` walks individual records for the few consumers that need them.

pub mod batch;
pub mod batch_builder;
pub mod batch_reader;
pub mod batch_rewrite;
pub mod checkpoint;
pub mod cleaner;
pub mod compression;
pub mod config;
pub mod control;
pub mod deletion;
mod file_slice;
pub mod index;
pub mod internal_append;
pub mod manager;
pub mod partition;
pub mod producer_state;
pub mod records;
pub mod segment;
pub mod space;
pub mod txn_index;
pub mod validator;

pub use file_slice::FileSlice;
pub use manager::{LogManager, NewTopic, Topic};
pub use partition::Partition;
