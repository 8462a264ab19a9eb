//! Header-level validation of produced batches (Kafka's `ProduceRequest.validateRecords`,
//! `UnifiedLog.analyzeAndValidateRecords` and `LogValidator.validateBatch`), without decoding
//! individual records.

use bytes::{Bytes, BytesMut};

use crate::error::{Error, RecordErrors};
use crate::log::batch::{self, BatchHeader, Compression, HEADER_LEN, LOG_OVERHEAD};
use crate::log::batch_rewrite::{self, BatchSpec};
use crate::log::compression::Levels;
use crate::log::config::{CompressionType, LogConfig};
use crate::log::records::{self, RecordIter, RecordsError, MIN_RECORD_SIZE};

/// Who is appending: clients are held to every rule; the broker's own coordinators may write
/// control batches and skip the timestamp checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppendOrigin {
    Client,
    Coordinator,
}

/// A batch that passed validation, possibly rewritten (LogAppendTime).
#[derive(Clone, Debug)]
pub struct ValidBatch {
    pub bytes: Bytes,
    pub record_count: i32,
    pub last_offset_delta: i32,
    pub max_timestamp: i64,
    /// Set when the topic uses LogAppendTime: the time stamped into the batch.
    pub log_append_time: Option<i64>,
}

/// `ProduceRequest.validateRecords`, which `KafkaApis` runs before the log sees the batch
/// (its failures are answered without the partition's log start offset): one v2 batch that
/// the batch iterator can frame, not zstd below Produce v7, nothing after it. Returns the
/// batch's size.
pub fn check_produce_records(
    records: &Bytes,
    produce_version: i16,
    topic_partition: &str,
) -> Result<usize, Error> {
    // ByteBufferLogInputStream: a frame shorter than the log overhead, or a batch that runs past
    // the buffer, ends iteration; an implausibly small batch length is corruption.
    let first = first_batch(records, produce_version)?;
    let h = BatchHeader::new(&records[..first]).ok_or_else(|| corrupt_header(topic_partition))?;
    // `ByteBufferLogInputStream.nextBatch`: a magic above the current one is corruption.
    if !(0..=2).contains(&h.magic()) {
        return Err(Error::CorruptMessage(format!(
            "Invalid magic found in record: {}",
            h.magic()
        )));
    }
    if h.magic() != 2 {
        return Err(Error::InvalidRecord(format!(
            "Produce requests with version {produce_version} are only allowed to contain record batches with magic version 2"
        )));
    }
    if produce_version < 7 && h.compression() == Some(Compression::Zstd) {
        return Err(Error::UnsupportedCompressionType(format!(
            "Produce requests with version {produce_version} are not allowed to use ZStandard compression"
        )));
    }
    if first < records.len() {
        return Err(Error::InvalidRecord(format!(
            "Produce requests with version {produce_version} are only allowed to contain exactly one record batch per partition"
        )));
    }
    Ok(first)
}

fn corrupt_header(topic_partition: &str) -> Error {
    Error::CorruptMessage(format!(
        "Record is corrupt in topic partition {topic_partition}."
    ))
}

/// Validates the records of one partition in a Produce request (v3+: exactly one batch).
pub fn validate(
    records: &Bytes,
    produce_version: i16,
    config: &LogConfig,
    origin: AppendOrigin,
    now_ms: i64,
    topic_partition: &str,
) -> Result<ValidBatch, Error> {
    let first = check_produce_records(records, produce_version, topic_partition)?;
    let h = BatchHeader::new(&records[..first]).ok_or_else(|| corrupt_header(topic_partition))?;
    // `CompressionType.forId` throws IllegalArgumentException: UNKNOWN_SERVER_ERROR.
    let compression = h.compression().ok_or_else(|| {
        Error::Internal(format!(
            "Unknown compression type id {} in topic partition {topic_partition}",
            h.attributes() & 0x07
        ))
    })?;
    if origin == AppendOrigin::Client && h.base_offset() != 0 {
        return Err(Error::InvalidRecord(format!(
            "The baseOffset of the record batch in the append to {topic_partition} should be 0, but it is {}",
            h.base_offset()
        )));
    }
    let size = h.size();
    if size > config.max_message_bytes.max(0) as usize {
        return Err(Error::MessageTooLarge(format!(
            "The record batch size in the append to {topic_partition} is {size} bytes which exceeds the maximum configured value of {}.",
            config.max_message_bytes
        )));
    }
    if !batch::crc_is_valid(&records[..size]) {
        return Err(Error::CorruptMessage(format!(
            "Record is corrupt (stored crc = {}) in topic partition {topic_partition}.",
            h.crc()
        )));
    }
    let count_from_offsets = h.last_offset_delta() as i64 + 1;
    if count_from_offsets <= 0 {
        return Err(Error::InvalidRecord(format!(
            "Batch has an invalid offset range: [0, {}] in partition {topic_partition}",
            h.last_offset_delta()
        )));
    }
    let count = h.record_count();
    if count <= 0 {
        return Err(Error::InvalidRecord(format!(
            "Invalid reported count for record batch: {count} in partition {topic_partition}"
        )));
    }
    if count_from_offsets != count as i64 {
        return Err(Error::InvalidRecord(format!(
            "Inconsistent batch offset range [0, {}] and count of records {count} in partition {topic_partition}",
            h.last_offset_delta()
        )));
    }
    if origin == AppendOrigin::Client {
        if h.is_control() {
            return Err(Error::InvalidRecord(format!(
                "Clients are not allowed to write control records in partition {topic_partition}"
            )));
        }
        if h.has_producer_id() && h.base_sequence() < 0 {
            return Err(Error::InvalidRecord(format!(
                "Invalid sequence number {} in record batch with producerId {} in partition {topic_partition}",
                h.base_sequence(),
                h.producer_id()
            )));
        }
    }
    if h.is_transactional() && !h.has_producer_id() {
        return Err(Error::InvalidRecord(format!(
            "Transactional record batch without a producer id in partition {topic_partition}"
        )));
    }

    // LogValidator walks every record of every produced batch (decompressing it when needed),
    // so nothing stored is malformed: a batch whose records do not match its header would
    // break every later reader of the partition.
    let body = &records[HEADER_LEN..size];
    let checks = RecordChecks {
        keys: config.cleanup_compact && origin == AppendOrigin::Client,
        timestamps: (!config.log_append_time && origin == AppendOrigin::Client)
            .then_some((config, now_ms)),
        tp: topic_partition,
    };
    let target = target_codec(config.compression, compression);
    let rebuilt = if compression == Compression::None {
        checked_records(body, &h, compression, target, config, &checks)?
    } else {
        let bound = records::decompressed_bound(size);
        if (count as usize).saturating_mul(MIN_RECORD_SIZE) > bound {
            return Err(premature_eof(topic_partition));
        }
        with_scratch(|scratch| {
            records::decompress_into(compression, body, bound, scratch).map_err(|e| {
                Error::CorruptMessage(format!("{e} in topic partition {topic_partition}"))
            })?;
            checked_records(scratch, &h, compression, target, config, &checks)
        })?
    };
    let bytes = rebuilt.map_or_else(|| records.clone(), Bytes::from);
    if config.log_append_time {
        return Ok(stamp_log_append_time(&bytes, now_ms));
    }
    Ok(ValidBatch {
        bytes,
        record_count: count,
        last_offset_delta: h.last_offset_delta(),
        max_timestamp: h.max_timestamp(),
        log_append_time: None,
    })
}

/// The codec stored batches end up with (Kafka's `BrokerCompressionType.targetCompression`):
/// `producer` keeps the batch's own codec.
fn target_codec(configured: CompressionType, source: Compression) -> Compression {
    match configured {
        CompressionType::Producer => source,
        CompressionType::Uncompressed => Compression::None,
        CompressionType::Codec(c) => c,
    }
}

/// Validates the records of `section` (the batch's, decompressed) and, when the stored batch
/// must differ from the one sent (another codec, or compressed with wrong inner offsets),
/// returns the batch to store instead.
fn checked_records(
    section: &[u8],
    h: &BatchHeader<'_>,
    compression: Compression,
    target: Compression,
    config: &LogConfig,
    checks: &RecordChecks<'_>,
) -> Result<Option<Vec<u8>>, Error> {
    let tp = checks.tp;
    let sequential = walk_records(section, h, checks)?;
    // Kafka rebuilds a compressed batch whose inner offsets are not 0, 1, 2, ... (older clients
    // wrote them wrong) instead of refusing it; uncompressed batches keep their records as sent.
    let renumber = compression != Compression::None && !sequential;
    if target == compression && !renumber {
        return Ok(None);
    }
    let levels = Levels {
        gzip: config.gzip_level,
        lz4: config.lz4_level,
        zstd: config.zstd_level,
    };
    let renumbered;
    let section = if renumber {
        renumbered =
            renumber_offsets(section, h.record_count()).map_err(|e| record_error(e, tp))?;
        &renumbered[..]
    } else {
        section
    };
    // A failed re-encode is an error answer, never a batch without its records; the broker's
    // own encoder failing is no fault of the client's (Kafka: UNKNOWN_SERVER_ERROR).
    let rebuilt = batch_rewrite::build(&BatchSpec::of(h), target, levels, section)
        .map_err(|e| Error::Internal(format!("{e} in topic partition {tp}")))?;
    if rebuilt.len() > config.max_message_bytes.max(0) as usize {
        return Err(Error::MessageTooLarge(format!(
            "The record batch size in the append to {tp} is {} bytes which exceeds the maximum configured value of {}.",
            rebuilt.len(),
            config.max_message_bytes
        )));
    }
    Ok(Some(rebuilt))
}

/// A scratch buffer kept above this many bytes after a batch is given back to the allocator.
const SCRATCH_KEEP: usize = 4 << 20;

thread_local! {
    /// One decompression buffer per thread, reused batch after batch: allocating and faulting
    /// in fresh pages for each batch cost more than decompressing it (measured with lz4).
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Runs `f` with this thread's scratch buffer (a fresh one if it is in use).
fn with_scratch<R>(f: impl FnOnce(&mut Vec<u8>) -> R) -> R {
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buf) => {
            let r = f(&mut buf);
            if buf.capacity() > SCRATCH_KEEP {
                *buf = Vec::new();
            } else {
                buf.clear();
            }
            r
        }
        Err(_) => f(&mut Vec::new()),
    })
}

/// What [`walk_records`] checks besides framing.
struct RecordChecks<'a> {
    /// `LogValidator.validateKey`: a compacted topic refuses records without a key.
    keys: bool,
    /// `LogValidator.validateTimestamp` of each record, for CreateTime topics.
    timestamps: Option<(&'a LogConfig, i64)>,
    tp: &'a str,
}

/// Walks the records of a (decompressed) records section as `LogValidator` iterates a batch
/// (`DefaultRecordBatch.RecordIterator` over `DefaultRecord.readFrom`): every record framed
/// inside the section, exactly the header's record count of them, and no bytes left after the
/// last. Framing errors are Kafka's `InvalidRecordException` (INVALID_RECORD). Returns whether
/// the offset deltas run 0, 1, 2, ... Allocates nothing.
fn walk_records(
    section: &[u8],
    h: &BatchHeader<'_>,
    checks: &RecordChecks<'_>,
) -> Result<bool, Error> {
    let count = h.record_count();
    let tp = checks.tp;
    if (count.max(0) as usize).saturating_mul(MIN_RECORD_SIZE) > section.len() {
        return Err(premature_eof(tp));
    }
    let mut iter = RecordIter::new(section, count);
    let mut index: i32 = 0;
    let mut sequential = true;
    // `LogValidator.validateRecord` of every record: the batch fails if any does, with each
    // bad record's index (KIP-467). A key error hides the same record's timestamp error.
    let mut refused = RecordErrors {
        invalid_timestamp: false,
        errors: Vec::new(),
    };
    for r in iter.by_ref() {
        let r = r.map_err(|e| record_error(e, tp))?;
        sequential &= r.offset_delta == index;
        if checks.keys && r.key.is_none() {
            refused.errors.push((
                index,
                format!(
                    "Compacted topic cannot accept message without key in topic partition {tp}"
                ),
            ));
        } else if let Some((config, now_ms)) = checks.timestamps {
            let ts = h.base_timestamp().wrapping_add(r.timestamp_delta);
            let offset = h.base_offset().wrapping_add(i64::from(r.offset_delta));
            if let Some(message) = timestamp_error(ts, offset, now_ms, config) {
                refused.invalid_timestamp = true;
                refused.errors.push((index, message));
            }
        }
        index += 1;
    }
    if index != count {
        return Err(premature_eof(tp));
    }
    if iter.consumed() != section.len() {
        return Err(Error::InvalidRecord(format!(
            "Incorrect declared batch size, records still remaining in file in topic partition {tp}"
        )));
    }
    if !refused.errors.is_empty() {
        return Err(Error::RecordErrors(refused));
    }
    Ok(sequential)
}

/// `DefaultRecordBatch.RecordIterator`: the records ran out before the declared count.
fn premature_eof(tp: &str) -> Error {
    Error::InvalidRecord(format!(
        "Incorrect declared batch size, premature EOF reached in topic partition {tp}"
    ))
}

/// A record that does not parse is Kafka's `InvalidRecordException` (INVALID_RECORD); a
/// compressed stream that does not decompress is CORRUPT_MESSAGE.
fn record_error(e: RecordsError, tp: &str) -> Error {
    if e.is_record_framing() {
        Error::InvalidRecord(format!(
            "Found invalid record structure ({e}) in topic partition {tp}"
        ))
    } else {
        Error::CorruptMessage(format!("{e} in topic partition {tp}"))
    }
}

/// The records of `section` with offset deltas 0, 1, 2, ... and everything else copied
/// verbatim (Kafka's `buildRecordsAndAssignOffsets` for a compressed batch with wrong inner
/// offsets).
fn renumber_offsets(section: &[u8], count: i32) -> Result<Vec<u8>, RecordsError> {
    let mut out = Vec::with_capacity(section.len() + section.len() / 8);
    for (index, r) in RecordIter::new(section, count).enumerate() {
        let raw = r?.raw;
        let mut p = 0;
        records::read_varint(raw, &mut p)?;
        let body_start = p;
        p += 1;
        records::read_varlong(raw, &mut p)?;
        let delta_start = p;
        records::read_varint(raw, &mut p)?;
        let mut delta = Vec::with_capacity(5);
        records::write_varlong(&mut delta, index as i64);
        let body_len = raw.len() - body_start - (p - delta_start) + delta.len();
        records::write_varlong(&mut out, body_len as i64);
        out.extend_from_slice(&raw[body_start..delta_start]);
        out.extend_from_slice(&delta);
        out.extend_from_slice(&raw[p..]);
    }
    Ok(out)
}

/// Size of the first batch, applying the framing rules of `ByteBufferLogInputStream.nextBatch`.
fn first_batch(records: &Bytes, produce_version: i16) -> Result<usize, Error> {
    let none = || {
        Error::InvalidRecord(format!(
            "Produce requests with version {produce_version} must have at least one record batch per partition"
        ))
    };
    if records.len() < LOG_OVERHEAD {
        return Err(none());
    }
    let len = i32::from_be_bytes([records[8], records[9], records[10], records[11]]);
    if len < batch::MIN_BATCH_LENGTH {
        return Err(Error::CorruptMessage(format!(
            "Record size {len} is less than the minimum record overhead ({})",
            batch::MIN_BATCH_LENGTH
        )));
    }
    let size = LOG_OVERHEAD + len as usize;
    if size > records.len() {
        return Err(none());
    }
    if size < HEADER_LEN {
        return Err(Error::CorruptMessage(
            "Record batch is shorter than the v2 batch header".to_string(),
        ));
    }
    Ok(size)
}

/// `LogValidator.validateTimestamp` for CreateTime topics (KIP-937 bounds): the message of a
/// record whose timestamp is out of range, `None` when it is in range or absent.
fn timestamp_error(ts: i64, offset: i64, now: i64, config: &LogConfig) -> Option<String> {
    if ts == batch::NO_TIMESTAMP {
        return None;
    }
    let too_old = now.saturating_sub(ts) > config.timestamp_before_max_ms;
    let too_new = ts.saturating_sub(now) > config.timestamp_after_max_ms;
    (too_old || too_new).then(|| {
        format!(
            "Timestamp {ts} of message with offset {offset} is out of range. The timestamp should be within [{}, {}]",
            now.saturating_sub(config.timestamp_before_max_ms),
            now.saturating_add(config.timestamp_after_max_ms)
        )
    })
}

/// Rewrites the batch for a LogAppendTime topic: timestamp type bit and maxTimestamp set to
/// `now`, CRC recomputed (Kafka's `MutableRecordBatch.setMaxTimestamp`).
fn stamp_log_append_time(records: &Bytes, now: i64) -> ValidBatch {
    let h = BatchHeader::new(records).expect("validated header");
    let mut b = BytesMut::from(&records[..]);
    let attributes = h.attributes() | 0x08;
    b[batch::ATTRIBUTES..batch::ATTRIBUTES + 2].copy_from_slice(&attributes.to_be_bytes());
    b[batch::MAX_TIMESTAMP..batch::MAX_TIMESTAMP + 8].copy_from_slice(&now.to_be_bytes());
    let crc = batch::compute_crc(&b);
    b[batch::CRC..batch::CRC + 4].copy_from_slice(&crc.to_be_bytes());
    ValidBatch {
        bytes: b.freeze(),
        record_count: h.record_count(),
        last_offset_delta: h.last_offset_delta(),
        max_timestamp: now,
        log_append_time: Some(now),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::batch::test_support::batch;
    use crate::settings::Settings;
    use std::collections::BTreeMap;

    fn cfg() -> LogConfig {
        LogConfig::new(&Settings::defaults(), &BTreeMap::new())
    }

    fn check(b: Vec<u8>) -> Result<ValidBatch, Error> {
        validate(
            &Bytes::from(b),
            9,
            &cfg(),
            AppendOrigin::Client,
            1_000_000,
            "t-0",
        )
    }

    #[test]
    fn accepts_a_good_batch() {
        let v = check(batch(&[b"a", b"b"], 1_000_000, -1, -1, -1)).unwrap();
        assert_eq!(v.record_count, 2);
        assert_eq!(v.last_offset_delta, 1);
    }

    #[test]
    fn rejects_with_kafka_codes() {
        let good = batch(&[b"a"], 1_000_000, -1, -1, -1);
        let mut bad_crc = good.clone();
        let n = bad_crc.len() - 1;
        bad_crc[n] ^= 1;
        assert_eq!(check(bad_crc).unwrap_err().code(), 2);
        let mut two = good.clone();
        two.extend_from_slice(&good);
        assert_eq!(check(two).unwrap_err().code(), 87);
        assert_eq!(
            check(good[..good.len() - 3].to_vec()).unwrap_err().code(),
            87
        );
        let mut magic1 = good.clone();
        magic1[batch::MAGIC] = 1;
        assert_eq!(check(magic1).unwrap_err().code(), 87);
        let mut tiny = good.clone();
        tiny[8..12].copy_from_slice(&5i32.to_be_bytes());
        assert_eq!(check(tiny).unwrap_err().code(), 2);
        let future = batch(&[b"a"], 1_000_000 + 3_600_001, -1, -1, -1);
        assert_eq!(check(future).unwrap_err().code(), 32);
        let mut offset = good.clone();
        offset[0..8].copy_from_slice(&5i64.to_be_bytes());
        assert_eq!(check(offset).unwrap_err().code(), 87);
        let bad_seq = batch(&[b"a"], 1_000_000, 5, 0, -1);
        assert_eq!(check(bad_seq).unwrap_err().code(), 87);
        let mut small = cfg();
        small.max_message_bytes = 10;
        let r = validate(
            &Bytes::from(good),
            9,
            &small,
            AppendOrigin::Client,
            1_000_000,
            "t-0",
        );
        assert_eq!(r.unwrap_err().code(), 10);
    }

    #[test]
    fn compacted_topics_need_keys_and_codecs_are_enforced() {
        let mut c = cfg();
        c.cleanup_compact = true;
        let keyed = Bytes::from(batch(&[b"a"], 1_000_000, -1, -1, -1));
        assert!(validate(&keyed, 9, &c, AppendOrigin::Client, 1_000_000, "t-0").is_ok());
        let mut keyless = batch(&[b"a"], 1_000_000, -1, -1, -1);
        // The test batch's first record is `len, attrs, ts, off, keyLen=2 "k0"`: make the key null.
        let key_at = HEADER_LEN + 4;
        assert_eq!(keyless[key_at], 4, "zigzag 2");
        keyless[key_at] = 1; // -1: null key
        keyless.remove(key_at + 1);
        keyless.remove(key_at + 1);
        keyless[HEADER_LEN] -= 4; // record length (zigzag) shrinks by 2
        let len = (keyless.len() - LOG_OVERHEAD) as i32;
        keyless[8..12].copy_from_slice(&len.to_be_bytes());
        let crc = batch::compute_crc(&keyless);
        keyless[batch::CRC..batch::CRC + 4].copy_from_slice(&crc.to_be_bytes());
        let e = validate(
            &Bytes::from(keyless),
            9,
            &c,
            AppendOrigin::Client,
            1_000_000,
            "t-0",
        )
        .unwrap_err();
        assert_eq!(e.code(), 87, "{e}");

        let mut z = cfg();
        z.compression = CompressionType::Codec(Compression::Gzip);
        let v = validate(&keyed, 9, &z, AppendOrigin::Client, 1_000_000, "t-0").unwrap();
        let h = BatchHeader::new(&v.bytes).unwrap();
        assert_eq!(h.compression(), Some(Compression::Gzip));
        assert!(batch::crc_is_valid(&v.bytes));
        assert_eq!(v.record_count, 1);
    }

    #[test]
    fn log_append_time_rewrites_and_recomputes_crc() {
        let mut c = cfg();
        c.log_append_time = true;
        let b = Bytes::from(batch(&[b"a"], 5, -1, -1, -1));
        let v = validate(&b, 9, &c, AppendOrigin::Client, 777, "t-0").unwrap();
        let h = BatchHeader::new(&v.bytes).unwrap();
        assert!(h.is_log_append_time());
        assert_eq!(h.max_timestamp(), 777);
        assert!(batch::crc_is_valid(&v.bytes));
        assert_eq!(v.log_append_time, Some(777));
    }

    /// `(offset delta, timestamp delta, value)` records, framed as `DefaultRecord` writes them
    /// (key `k`, no headers).
    fn section(records: &[(i64, i64, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (offset_delta, ts_delta, value) in records {
            let mut body = vec![0u8];
            records::write_varlong(&mut body, *ts_delta);
            records::write_varlong(&mut body, *offset_delta);
            records::write_varlong(&mut body, 1);
            body.push(b'k');
            records::write_varlong(&mut body, value.len() as i64);
            body.extend_from_slice(value);
            body.push(0);
            records::write_varlong(&mut out, body.len() as i64);
            out.extend_from_slice(&body);
        }
        out
    }

    /// A batch with a valid CRC around `records`, declaring `count` records.
    fn built(records: &[u8], count: i32, codec: Compression) -> Vec<u8> {
        let spec = BatchSpec {
            base_offset: 0,
            partition_leader_epoch: -1,
            attributes: 0,
            last_offset_delta: count.wrapping_sub(1),
            base_timestamp: 1_000_000,
            max_timestamp: 1_000_000,
            producer_id: -1,
            producer_epoch: -1,
            base_sequence: -1,
            record_count: count,
        };
        batch_rewrite::build(&spec, codec, Levels::default(), records).unwrap()
    }

    const CODECS: [Compression; 5] = [
        Compression::None,
        Compression::Gzip,
        Compression::Snappy,
        Compression::Lz4,
        Compression::Zstd,
    ];

    #[test]
    fn a_batch_declaring_more_records_than_it_holds_is_invalid_record() {
        // The stored poison pill: 2^31-1 records declared, one there, CRC valid.
        let one = section(&[(0, 0, b"v")]);
        for codec in CODECS {
            let e = check(built(&one, i32::MAX, codec)).unwrap_err();
            assert_eq!(e.code(), 87, "{codec:?}: {e}");
            let two = section(&[(0, 0, b"v"), (1, 0, b"w")]);
            let e = check(built(&two, 3, codec)).unwrap_err();
            assert_eq!(e.code(), 87, "{codec:?}: {e}");
            // Fewer declared than there: bytes remain after the last record.
            let e = check(built(&two, 1, codec)).unwrap_err();
            assert_eq!(e.code(), 87, "{codec:?}: {e}");
            let mut trailing = one.clone();
            trailing.push(0);
            let e = check(built(&trailing, 1, codec)).unwrap_err();
            assert_eq!(e.code(), 87, "{codec:?}: {e}");
            let v = check(built(&two, 2, codec)).unwrap();
            assert_eq!((v.record_count, v.last_offset_delta), (2, 1));
        }
    }

    #[test]
    fn malformed_records_are_invalid_record() {
        let good = section(&[(0, 0, b"value")]);
        // The record's length claims one byte more than the batch holds.
        let mut long = good.clone();
        long[0] += 2;
        // A value length running past the record's end.
        let mut value = good.clone();
        let at = good.len() - 7;
        assert_eq!(value[at], 10, "zigzag 5");
        value[at] = 12;
        // Header count 1 with no header.
        let mut headers = good.clone();
        *headers.last_mut().unwrap() = 2;
        for bad in [long, value, headers] {
            for codec in CODECS {
                let e = check(built(&bad, 1, codec)).unwrap_err();
                assert_eq!(e.code(), 87, "{codec:?}: {e}");
            }
        }
    }

    #[test]
    fn each_record_timestamp_is_checked() {
        // Header timestamps in range, the second record's an hour and a bit ahead.
        let s = section(&[(0, 0, b"a"), (1, 3_600_001, b"b")]);
        for codec in CODECS {
            let e = check(built(&s, 2, codec)).unwrap_err();
            assert_eq!(e.code(), 32, "{codec:?}: {e}");
        }
        let mut c = cfg();
        c.log_append_time = true;
        let b = Bytes::from(built(&s, 2, Compression::None));
        assert!(validate(&b, 9, &c, AppendOrigin::Client, 1_000_000, "t-0").is_ok());
    }

    #[test]
    fn corrupt_and_oversized_compressed_batches_are_corrupt_message() {
        for codec in &CODECS[1..] {
            let mut b = built(&section(&[(0, 0, b"v")]), 1, Compression::None);
            b.truncate(HEADER_LEN);
            b.extend_from_slice(b"not a compressed stream at all");
            let attributes = codec.id();
            b[batch::ATTRIBUTES..batch::ATTRIBUTES + 2].copy_from_slice(&attributes.to_be_bytes());
            let len = (b.len() - LOG_OVERHEAD) as i32;
            b[8..12].copy_from_slice(&len.to_be_bytes());
            let crc = batch::compute_crc(&b);
            b[batch::CRC..batch::CRC + 4].copy_from_slice(&crc.to_be_bytes());
            let e = check(b).unwrap_err();
            assert_eq!(e.code(), 2, "{codec:?}: {e}");
        }
        // One record of 32 MiB of zeros: a few KiB compressed, over the 16 MiB bound.
        let zeros = vec![0u8; 32 << 20];
        let big = section(&[(0, 0, &zeros)]);
        for codec in [Compression::Gzip, Compression::Lz4, Compression::Zstd] {
            let b = built(&big, 1, codec);
            assert!(b.len() < 1 << 20, "{codec:?} {}", b.len());
            let e = check(b).unwrap_err();
            assert_eq!(e.code(), 2, "{codec:?}: {e}");
        }
    }

    #[test]
    fn compressed_batches_with_wrong_inner_offsets_are_renumbered() {
        // Kafka rebuilds such a batch (older clients wrote inner offsets wrong).
        let s = section(&[(5, 0, b"a"), (200, 0, b"b"), (7, 0, b"c")]);
        let v = check(built(&s, 3, Compression::Lz4)).unwrap();
        let h = BatchHeader::new(&v.bytes).unwrap();
        assert_eq!(h.compression(), Some(Compression::Lz4));
        assert!(batch::crc_is_valid(&v.bytes));
        let stored = records::records_section(&v.bytes).unwrap();
        let recs: Vec<_> = RecordIter::new(&stored, 3)
            .map(|r| r.unwrap())
            .map(|r| (r.offset_delta, r.value.unwrap().to_vec()))
            .collect();
        assert_eq!(
            recs,
            vec![(0, b"a".to_vec()), (1, b"b".to_vec()), (2, b"c".to_vec())]
        );
        // Uncompressed batches keep their records as sent, as Kafka's in-place path does.
        let b = Bytes::from(built(&s, 3, Compression::None));
        let v = validate(&b, 9, &cfg(), AppendOrigin::Client, 1_000_000, "t-0").unwrap();
        assert_eq!(v.bytes, b);
    }
}
