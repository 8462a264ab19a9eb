//! Dead-letter copies of share-group records (beyond Kafka 4.1; Kafka 4.4 adds them as
//! KIP-1191): when a share group has `errors.deadletterqueue.topic.name`, a record a consumer
//! REJECTs, or one archived at `group.share.delivery.count.limit`, is copied to that topic with
//! headers naming where it came from. The copy is written while the share partition is locked,
//! right after the state change, so the dead-letter topic holds the records in the order they
//! were archived. A failed copy is logged; the record stays archived (it is never redelivered).

use std::sync::Arc;

use tracing::warn;

use crate::error::{Error, Result};
use crate::log::batch::Batches;
use crate::log::batch_builder::{Header, HeaderedRecord};
use crate::log::internal_append::append_headered;
use crate::log::records::{read_varlong, records_section, RecordIter, RecordView};
use crate::log::{LogManager, Partition};
use crate::share::partition::DeadLetter;

/// The headers a dead-letter copy carries (strings, as the KIP-1191 draft names its context).
pub const HEADER_TOPIC: &str = "__dlq.errors.topic";
pub const HEADER_PARTITION: &str = "__dlq.errors.partition";
pub const HEADER_OFFSET: &str = "__dlq.errors.offset";
pub const HEADER_GROUP: &str = "__dlq.errors.group.id";
pub const HEADER_DELIVERY_COUNT: &str = "__dlq.errors.delivery.count";
pub const HEADER_REASON: &str = "__dlq.errors.reason";

/// A group's dead-letter settings.
#[derive(Clone, Debug)]
pub struct DeadLetterConfig {
    pub topic: String,
    /// `errors.deadletterqueue.copy.record.enable`: the record's key, value and headers too.
    pub copy_record: bool,
}

/// Copies `letters` of `source` to the group's dead-letter topic, created with the broker's
/// defaults if missing (as `auto.create.topics.enable` allows). Same partition number modulo
/// the dead-letter topic's partitions, so one source partition's copies stay in order.
pub fn copy(
    logs: &LogManager,
    source: &Partition,
    group: &str,
    letters: &[DeadLetter],
    config: &DeadLetterConfig,
    now: i64,
) -> Result<()> {
    if config.topic == *source.topic {
        return Err(Error::InvalidConfig(
            "a topic cannot be its own dead-letter topic".into(),
        ));
    }
    let topic = logs.get_or_auto_create(&config.topic)?;
    let n = topic.partitions.len().max(1);
    let target: Arc<Partition> = topic
        .partition((source.index as usize % n) as i32)
        .cloned()
        .ok_or(Error::UnknownTopicOrPartition)?;
    let mut out = Vec::with_capacity(letters.len());
    for l in letters {
        let mut rec = HeaderedRecord::default();
        if config.copy_record {
            match read_record(source, l.offset) {
                Ok(Some(r)) => rec = r,
                Ok(None) => {}
                Err(e) => warn!(group, partition = %source.name(), offset = l.offset,
                    "cannot read a dead-letter record: {e}"),
            }
        }
        let ctx: [(&str, String); 6] = [
            (HEADER_TOPIC, source.topic.to_string()),
            (HEADER_PARTITION, source.index.to_string()),
            (HEADER_OFFSET, l.offset.to_string()),
            (HEADER_GROUP, group.to_string()),
            (HEADER_DELIVERY_COUNT, l.delivery_count.to_string()),
            (HEADER_REASON, l.reason.name().to_string()),
        ];
        for (k, v) in ctx {
            rec.headers
                .push((k.as_bytes().to_vec(), Some(v.into_bytes())));
        }
        out.push(rec);
    }
    append_headered(&target, &out, now)?;
    Ok(())
}

/// The record at `offset` of `log` (key, value, headers), if it is still there.
fn read_record(log: &Partition, offset: i64) -> Result<Option<HeaderedRecord>> {
    let data = log.read(offset, 1 << 20, true)?;
    let bytes = data.records.read_to_bytes()?;
    for (at, h) in Batches::new(&bytes) {
        if h.last_offset() < offset || h.base_offset() > offset {
            continue;
        }
        if h.is_control() {
            return Ok(None);
        }
        let section = records_section(&bytes[at..at + h.size()])
            .map_err(|e| Error::CorruptMessage(e.to_string()))?;
        for r in RecordIter::new(&section, h.record_count()) {
            let r = r.map_err(|e| Error::CorruptMessage(e.to_string()))?;
            if h.base_offset() + r.offset_delta as i64 == offset {
                return Ok(Some(HeaderedRecord {
                    key: r.key.map(<[u8]>::to_vec),
                    value: r.value.map(<[u8]>::to_vec),
                    headers: headers(&r)?,
                }));
            }
        }
        return Ok(None);
    }
    Ok(None)
}

/// A record's headers: count entries of key length, key, value length (-1: null), value.
fn headers(r: &RecordView<'_>) -> Result<Vec<Header>> {
    let bad = |_| Error::CorruptMessage("malformed record header".into());
    let b = r.headers;
    let mut pos = 0usize;
    let mut out = Vec::new();
    for _ in 0..r.header_count.max(0) {
        let klen = read_varlong(b, &mut pos).map_err(bad)?;
        let kend = pos
            .checked_add(
                usize::try_from(klen).map_err(|_| Error::CorruptMessage("header key".into()))?,
            )
            .filter(|e| *e <= b.len())
            .ok_or_else(|| Error::CorruptMessage("header key".into()))?;
        let key = b[pos..kend].to_vec();
        pos = kend;
        let vlen = read_varlong(b, &mut pos).map_err(bad)?;
        let value = if vlen < 0 {
            None
        } else {
            let vend = pos
                .checked_add(vlen as usize)
                .filter(|e| *e <= b.len())
                .ok_or_else(|| Error::CorruptMessage("header value".into()))?;
            let v = b[pos..vend].to_vec();
            pos = vend;
            Some(v)
        };
        out.push((key, value));
    }
    Ok(out)
}
