//! DeleteTopics v0 (Kafka 3.9's `DeleteTopicsRequest.json`, removed in 4.0 by KIP-896): v1's
//! layout (`[topic_names] timeout_ms`), and a response without v1's throttle time.

use kafka_protocol::messages::{DeleteTopicsRequest, DeleteTopicsResponse};

use super::wire::{ReadError, Reader, Writer};

pub fn decode_request(r: &mut Reader) -> Result<DeleteTopicsRequest, ReadError> {
    let topic_names = r.array(|r| r.string().map(Into::into))?;
    Ok(DeleteTopicsRequest::default()
        .with_topic_names(topic_names)
        .with_timeout_ms(r.i32()?))
}

pub fn encode_response(w: &mut Writer, resp: &DeleteTopicsResponse) -> anyhow::Result<()> {
    w.array(&resp.responses, |w, t| {
        // Names are nullable only from v6 (topic ids); a v0 request always names its topics.
        w.string(t.name.as_deref().map_or("", |n| n.as_str()))?;
        w.i16(t.error_code);
        Ok(())
    })
}
