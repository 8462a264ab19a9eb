//! `__transaction_state` records (Kafka's `TransactionLog` with the `TransactionLogKey` and
//! `TransactionLogValue` schemas): key `version i16 (0), transactionalId string`; value
//! `version i16` then, for v0, `producerId i64, producerEpoch i16, transactionTimeoutMs i32,
//! transactionStatus i8, transactionPartitions [topic string, partitionIds [i32]] (nullable),
//! lastUpdateTimestampMs i64, startTimestampMs i64`. v1 is the same in flexible encoding with
//! tagged fields (`PreviousProducerId` tag 0, `NextProducerId` tag 1, `ClientTransactionVersion`
//! tag 2). Klamm finalizes `transaction.version` 1, under which Kafka writes v1
//! (`TransactionVersion.transactionLogValueVersion`), so v1 is written; v0 records of earlier
//! Klamm versions are still read. A null value is a tombstone: the transactional id expired.

use crate::groups::codec::{CodecError, Reader, Writer};
use crate::log::batch_builder::SimpleRecord;
use crate::txn::metadata::{TransactionMetadata, TxnState};

const KEY_VERSION: i16 = 0;

fn key(transactional_id: &str) -> Vec<u8> {
    let mut k = Writer::new();
    k.i16(KEY_VERSION);
    k.string(transactional_id);
    k.into_vec()
}

/// The tombstone that removes an expired transactional id (a null value, as Kafka's
/// `removeExpiredTransactionalIds` writes).
pub fn tombstone(transactional_id: &str) -> SimpleRecord {
    SimpleRecord {
        key: Some(key(transactional_id)),
        value: None,
    }
}

/// The `TransactionLogValue` version written: 1, the flexible one, as Kafka writes under
/// `transaction.version` 1 (what Klamm finalizes, see `versions::features`).
const VALUE_VERSION: i16 = 1;

/// `PreviousProducerId`'s tag in v1 (default -1, written only when set, as Kafka's generated
/// serializer writes tagged fields that differ from their default).
const TAG_PREVIOUS_PRODUCER_ID: u32 = 0;

/// Encodes the record holding `m`'s current state (v1).
pub fn encode(m: &TransactionMetadata) -> SimpleRecord {
    let mut v = Writer::new();
    v.i16(VALUE_VERSION);
    v.i64(m.producer_id);
    v.i16(m.producer_epoch);
    v.i32(m.txn_timeout_ms);
    v.buf.push(m.state.id() as u8);
    if m.state == TxnState::Empty {
        // Kafka writes null partitions for an Empty transaction (compact null: 0).
        v.uvarint(0);
    } else {
        let by_topic = m.partitions_by_topic();
        v.compact_array_len(by_topic.len());
        for (topic, parts) in by_topic {
            v.compact_string(&topic);
            v.compact_array_len(parts.len());
            for p in parts {
                v.i32(p);
            }
            v.tagged_fields(&[]);
        }
    }
    v.i64(m.txn_last_update_timestamp);
    v.i64(m.txn_start_timestamp);
    if m.previous_producer_id == -1 {
        v.tagged_fields(&[]);
    } else {
        v.tagged_fields(&[(
            TAG_PREVIOUS_PRODUCER_ID,
            m.previous_producer_id.to_be_bytes().to_vec(),
        )]);
    }
    SimpleRecord {
        key: Some(key(&m.transactional_id)),
        value: Some(v.into_vec()),
    }
}

/// Decodes a record: `(transactional id, Some(state))`, or `None` state for a tombstone.
/// Keys of other versions are not transaction records (`Ok(None)`).
pub fn decode(
    key: &[u8],
    value: Option<&[u8]>,
) -> Result<Option<(String, Option<TransactionMetadata>)>, CodecError> {
    let mut k = Reader::new(key);
    if k.i16()? != KEY_VERSION {
        return Ok(None);
    }
    let tid = k.string()?;
    let Some(value) = value else {
        return Ok(Some((tid, None)));
    };
    let mut r = Reader::new(value);
    let version = r.i16()?;
    if !(0..=1).contains(&version) {
        return Err(CodecError::Invalid("unknown TransactionLogValue version"));
    }
    let flexible = version >= 1;
    let producer_id = r.i64()?;
    let producer_epoch = r.i16()?;
    let txn_timeout_ms = r.i32()?;
    let state =
        TxnState::from_id(r.i8()?).ok_or(CodecError::Invalid("unknown transaction status"))?;
    let mut partitions = std::collections::BTreeSet::new();
    let topics = if flexible {
        r.compact_array_len()?
    } else {
        r.array_len()?
    };
    for _ in 0..topics {
        let topic = if flexible {
            r.compact_string()?
        } else {
            r.string()?
        };
        let n = if flexible {
            r.compact_array_len()?
        } else {
            r.array_len()?
        };
        for _ in 0..n {
            partitions.insert((topic.clone(), r.i32()?));
        }
        if flexible {
            r.skip_tagged_fields()?;
        }
    }
    let last_update = r.i64()?;
    let start = r.i64()?;
    let mut previous_producer_id = -1;
    if flexible {
        let n = r.uvarint()?;
        for _ in 0..n {
            let tag = r.uvarint()?;
            let size = r.uvarint()? as usize;
            let bytes = r.raw(size, "tagged field")?;
            if tag == TAG_PREVIOUS_PRODUCER_ID {
                let b: [u8; 8] = bytes
                    .try_into()
                    .map_err(|_| CodecError::Invalid("PreviousProducerId is not an int64"))?;
                previous_producer_id = i64::from_be_bytes(b);
            }
        }
    }
    Ok(Some((
        tid.clone(),
        Some(TransactionMetadata {
            transactional_id: tid,
            producer_id,
            previous_producer_id,
            producer_epoch,
            last_producer_epoch: -1,
            txn_timeout_ms,
            state,
            partitions,
            txn_start_timestamp: start,
            txn_last_update_timestamp: last_update,
        }),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip() {
        let mut m = TransactionMetadata::new("my-txn", 4000, 60000, 123);
        m.producer_epoch = 3;
        m.state = TxnState::Ongoing;
        m.partitions.insert(("a".into(), 1));
        m.partitions.insert(("a".into(), 0));
        m.partitions.insert(("b".into(), 2));
        m.txn_start_timestamp = 100;
        let r = encode(&m);
        let (tid, got) = decode(r.key.as_deref().unwrap(), r.value.as_deref())
            .unwrap()
            .unwrap();
        assert_eq!(tid, "my-txn");
        assert_eq!(got.unwrap(), m);
        // Empty writes null partitions, and a tombstone decodes as None.
        m.state = TxnState::Empty;
        m.partitions.clear();
        let r = encode(&m);
        let v = r.value.unwrap();
        assert_eq!(&v[0..2], &1i16.to_be_bytes());
        assert_eq!(v[2 + 8 + 2 + 4 + 1], 0, "compact null partitions");
        // PreviousProducerId survives as tag 0.
        m.previous_producer_id = 77;
        let r2 = encode(&m);
        let (_, got) = decode(r2.key.as_deref().unwrap(), r2.value.as_deref())
            .unwrap()
            .unwrap();
        assert_eq!(got.unwrap().previous_producer_id, 77);
        m.previous_producer_id = -1;
        let (_, none) = decode(r.key.as_deref().unwrap(), None).unwrap().unwrap();
        assert!(none.is_none());
        let t = tombstone("my-txn");
        assert_eq!(t.key, r.key);
        assert_eq!(
            decode(t.key.as_deref().unwrap(), t.value.as_deref()).unwrap(),
            Some(("my-txn".to_string(), None))
        );
    }
}
