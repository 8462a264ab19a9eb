//! Zero-copy encoding of Fetch responses.
//!
//! The records of a fetch are regions of segment files; copying them into a response buffer
//! would cost a read and a copy per byte. Instead the response is assembled as chunks: the
//! protocol fields encoded by `kafka-protocol` as usual, and each partition's records as a
//! [`FileSlice`] that the connection sends with `sendfile`.
//!
//! No field is encoded by hand: each level (response, topic, partition) is encoded by the crate
//! with its child collection (or the records) left empty, and the children are spliced in at the
//! position where the crate wrote the empty marker. The position is found by encoding twice
//! with a different marker and comparing, so the splice stays correct for every version and
//! tagged field the crate supports. A unit test checks the result byte for byte against the
//! crate's own encoding of the same response.

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::fetch_response::{FetchableTopicResponse, PartitionData};
use kafka_protocol::messages::{ApiKey, FetchResponse, ResponseHeader};
use kafka_protocol::protocol::Encodable;

use crate::send::{Chunk, FileSlice, ResponseSend};

/// Builds the chunks of a response frame.
struct Assembler {
    chunks: Vec<Chunk>,
    buf: BytesMut,
}

impl Assembler {
    fn put(&mut self, b: &[u8]) {
        self.buf.put_slice(b);
    }

    fn file(&mut self, slice: &FileSlice) {
        if slice.len == 0 {
            return;
        }
        if !self.buf.is_empty() {
            self.chunks.push(Chunk::Bytes(self.buf.split().freeze()));
        }
        self.chunks.push(Chunk::File(slice.clone()));
    }

    fn finish(mut self) -> ResponseSend {
        if !self.buf.is_empty() {
            self.chunks.push(Chunk::Bytes(self.buf.split().freeze()));
        }
        ResponseSend {
            chunks: self.chunks,
        }
    }
}

fn put_uvarint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8 & 0x7f) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// An array or bytes length marker: unsigned varint of `n + 1` in flexible versions, int32 `n`
/// otherwise.
fn length_marker(flexible: bool, n: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(5);
    if flexible {
        put_uvarint(&mut out, n as u64 + 1);
    } else {
        out.extend_from_slice(&(n as i32).to_be_bytes());
    }
    out
}

/// Given two encodings that differ only in one marker of `marker_len` bytes (whose first
/// differing byte is `diff_at` bytes into the marker), returns `(head, tail)` of `a` around it.
fn split_at_marker(
    a: &[u8],
    b: &[u8],
    marker_len: usize,
    diff_at: usize,
) -> anyhow::Result<(Bytes, Bytes)> {
    let first_diff = a
        .iter()
        .zip(b.iter())
        .position(|(x, y)| x != y)
        .ok_or_else(|| anyhow::anyhow!("fetch response splice: no marker found"))?;
    let pos = first_diff
        .checked_sub(diff_at)
        .ok_or_else(|| anyhow::anyhow!("fetch response splice: marker before the start"))?;
    if pos + marker_len > a.len() {
        anyhow::bail!("fetch response splice: marker past the end");
    }
    Ok((
        Bytes::copy_from_slice(&a[..pos]),
        Bytes::copy_from_slice(&a[pos + marker_len..]),
    ))
}

fn encode_struct<T: Encodable>(v: &T, version: i16) -> anyhow::Result<BytesMut> {
    let mut b = BytesMut::with_capacity(v.compute_size(version)?);
    v.encode(&mut b, version)?;
    Ok(b)
}

/// Encodes a Fetch response frame (size prefix and header included). `records[i]` holds the
/// records of the i-th partition in response order; `None` encodes empty records (what Kafka
/// sends for a partition with no data or an error). The `records` fields inside `resp` are
/// ignored.
pub fn encode(
    version: i16,
    correlation_id: i32,
    resp: &FetchResponse,
    records: &[Option<FileSlice>],
) -> anyhow::Result<ResponseSend> {
    let flexible = version >= 12;
    let marker_len = if flexible { 1 } else { 4 };
    // An array count 0 vs 1 differs in the last byte of its marker (int32 BE, or varint 1 vs 2);
    // null vs empty records differ in the first (int32 -1 vs 0, or varint 0 vs 1).
    let array_diff = marker_len - 1;
    let mut asm = Assembler {
        chunks: Vec::new(),
        buf: BytesMut::with_capacity(256),
    };
    asm.buf.put_i32(0); // size, filled in at the end
    let header_version = ApiKey::Fetch.response_header_version(version);
    ResponseHeader::default()
        .with_correlation_id(correlation_id)
        .encode(&mut asm.buf, header_version)?;

    // Response level: everything around the `responses` array.
    let empty = FetchResponse::default()
        .with_throttle_time_ms(resp.throttle_time_ms)
        .with_error_code(resp.error_code)
        .with_session_id(resp.session_id)
        .with_node_endpoints(resp.node_endpoints.clone())
        .with_unknown_tagged_fields(resp.unknown_tagged_fields.clone());
    let mut one = empty.clone();
    one.responses = vec![FetchableTopicResponse::default()];
    let (head, tail) = split_at_marker(
        &encode_struct(&empty, version)?,
        &encode_struct(&one, version)?,
        marker_len,
        array_diff,
    )?;
    asm.put(&head);
    asm.put(&length_marker(flexible, resp.responses.len()));

    let mut index = 0usize;
    for topic in &resp.responses {
        let t_empty = FetchableTopicResponse::default()
            .with_topic(topic.topic.clone())
            .with_topic_id(topic.topic_id)
            .with_unknown_tagged_fields(topic.unknown_tagged_fields.clone());
        let mut t_one = t_empty.clone();
        t_one.partitions = vec![PartitionData::default()];
        let (t_head, t_tail) = split_at_marker(
            &encode_struct(&t_empty, version)?,
            &encode_struct(&t_one, version)?,
            marker_len,
            array_diff,
        )?;
        asm.put(&t_head);
        asm.put(&length_marker(flexible, topic.partitions.len()));
        for p in &topic.partitions {
            let slice = records.get(index).cloned().flatten();
            index += 1;
            let mut p_null = p.clone();
            p_null.records = None;
            let mut p_empty = p_null.clone();
            p_empty.records = Some(Bytes::new());
            let (p_head, p_tail) = split_at_marker(
                &encode_struct(&p_null, version)?,
                &encode_struct(&p_empty, version)?,
                marker_len,
                0,
            )?;
            asm.put(&p_head);
            match slice {
                Some(s) => {
                    asm.put(&length_marker(flexible, s.len));
                    asm.file(&s);
                }
                None => asm.put(&length_marker(flexible, 0)),
            }
            asm.put(&p_tail);
        }
        asm.put(&t_tail);
    }
    asm.put(&tail);

    let mut send = asm.finish();
    let size = (send.len() - 4) as i32;
    if let Some(Chunk::Bytes(first)) = send.chunks.first_mut() {
        let mut b = BytesMut::from(&first[..]);
        b[0..4].copy_from_slice(&size.to_be_bytes());
        *first = b.freeze();
    }
    Ok(send)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::encode_response;
    use kafka_protocol::messages::fetch_response::{
        AbortedTransaction, EpochEndOffset, LeaderIdAndEpoch,
    };
    use kafka_protocol::messages::{BrokerId, ProducerId, ResponseKind, TopicName};
    use kafka_protocol::protocol::StrBytes;
    use std::io::Write;
    use std::sync::Arc;

    fn materialize(send: &ResponseSend) -> Vec<u8> {
        let mut out = Vec::new();
        for c in &send.chunks {
            match c {
                Chunk::Bytes(b) => out.extend_from_slice(b),
                Chunk::File(f) => out.extend_from_slice(&f.read_to_bytes().unwrap()),
            }
        }
        out
    }

    /// Every version, several topics and partitions, null/empty/non-empty records, aborted
    /// transactions, tagged fields: identical bytes to the crate's own encoding.
    #[test]
    fn matches_the_crate_encoding_for_every_version() {
        let mut tmp = tempfile::tempfile().unwrap();
        let data: Vec<u8> = (0..5000u32).map(|i| (i % 253) as u8).collect();
        tmp.write_all(&data).unwrap();
        let file = Arc::new(tmp);
        let slices = [
            Some(FileSlice {
                file: file.clone(),
                position: 0,
                len: 1200,
            }),
            Some(FileSlice {
                file: file.clone(),
                position: 1200,
                len: 0,
            }),
            None,
            Some(FileSlice {
                file: file.clone(),
                position: 2000,
                len: 3000,
            }),
        ];
        for version in 4..=18i16 {
            let mut parts = Vec::new();
            for (i, s) in slices.iter().enumerate() {
                let mut p = PartitionData::default()
                    .with_partition_index(i as i32)
                    .with_error_code(if i == 2 { 1 } else { 0 })
                    .with_high_watermark(100 + i as i64)
                    .with_last_stable_offset(90)
                    .with_records(Some(
                        s.as_ref()
                            .map(|s| s.read_to_bytes().unwrap())
                            .unwrap_or_default(),
                    ));
                if version >= 5 {
                    p.log_start_offset = 7;
                }
                if i == 0 {
                    p.aborted_transactions = Some(vec![AbortedTransaction::default()
                        .with_producer_id(ProducerId(5))
                        .with_first_offset(11)]);
                }
                if version >= 11 {
                    p.preferred_read_replica = BrokerId(-1);
                }
                if version >= 12 && i == 3 {
                    p.diverging_epoch = EpochEndOffset::default().with_epoch(0).with_end_offset(40);
                    p.current_leader = LeaderIdAndEpoch::default()
                        .with_leader_id(BrokerId(0))
                        .with_leader_epoch(0);
                }
                parts.push(p);
            }
            let mut t1 = FetchableTopicResponse::default().with_partitions(parts[..2].to_vec());
            let mut t2 = FetchableTopicResponse::default().with_partitions(parts[2..].to_vec());
            if version >= 13 {
                t1.topic_id = uuid::Uuid::from_u128(7);
                t2.topic_id = uuid::Uuid::from_u128(9);
            } else {
                t1.topic = TopicName(StrBytes::from_static_str("alpha"));
                t2.topic = TopicName(StrBytes::from_static_str("beta.topic"));
            }
            let mut resp = FetchResponse::default().with_responses(vec![t1, t2]);
            if version >= 7 {
                resp.error_code = 0;
                resp.session_id = 0;
            }
            let expected = encode_response(
                ApiKey::Fetch,
                version,
                42,
                &ResponseKind::Fetch(resp.clone()),
            )
            .unwrap();
            let got = encode(version, 42, &resp, &slices).unwrap();
            assert_eq!(materialize(&got), expected.to_vec(), "version {version}");
            assert!(got.chunks.iter().any(|c| matches!(c, Chunk::File(_))));
        }
    }
}
