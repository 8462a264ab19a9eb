//! DescribeLogDirs v0 (Kafka 3.9's `DescribeLogDirsRequest.json`, removed in 4.0 by KIP-896):
//! the same layout as v1, which differs only in how the broker throttled (KIP-219: v1 clients
//! wait out the throttle time themselves). The response, like v1's, has no top-level error code
//! (v3+) and no total or usable bytes (v4+).

use kafka_protocol::messages::describe_log_dirs_request::DescribableLogDirTopic;
use kafka_protocol::messages::{DescribeLogDirsRequest, DescribeLogDirsResponse};

use super::wire::{ReadError, Reader, Writer};

pub fn decode_request(r: &mut Reader) -> Result<DescribeLogDirsRequest, ReadError> {
    let topics = r.nullable_array(|r| {
        let topic = r.string()?;
        let partitions = r.array(|r| r.i32())?;
        Ok(DescribableLogDirTopic::default()
            .with_topic(topic.into())
            .with_partitions(partitions))
    })?;
    Ok(DescribeLogDirsRequest::default().with_topics(topics))
}

pub fn encode_response(w: &mut Writer, resp: &DescribeLogDirsResponse) -> anyhow::Result<()> {
    w.i32(resp.throttle_time_ms);
    w.array(&resp.results, |w, res| {
        w.i16(res.error_code);
        w.string(&res.log_dir)?;
        w.array(&res.topics, |w, t| {
            w.string(&t.name)?;
            w.array(&t.partitions, |w, p| {
                w.i32(p.partition_index);
                w.i64(p.partition_size);
                w.i64(p.offset_lag);
                w.bool(p.is_future_key);
                Ok(())
            })
        })
    })
}
