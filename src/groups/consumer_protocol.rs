//! The embedded consumer protocol (`ConsumerProtocolSubscription`), read only as far as the
//! coordinator needs: the subscribed topics of a `consumer` group, for OffsetDelete's
//! GROUP_SUBSCRIBED_TO_TOPIC check and offset expiration (Kafka's
//! `ClassicGroup.computeSubscribedTopics`). Every version starts with the v0 layout
//! `version int16, topics [string], user_data nullable bytes`, so v0 is parsed whatever the
//! version, as Kafka does.

use crate::groups::codec::{CodecError, Reader};

/// `ConsumerProtocol.PROTOCOL_TYPE`.
pub const PROTOCOL_TYPE: &str = "consumer";

/// The topics of a subscription, or an error when the bytes are not a consumer subscription.
pub fn subscribed_topics(subscription: &[u8]) -> Result<Vec<String>, CodecError> {
    let mut r = Reader::new(subscription);
    if r.i16()? < 0 {
        return Err(CodecError::Invalid("consumer protocol version"));
    }
    let n = r.array_len()?;
    if n > r.remaining() {
        return Err(CodecError::Truncated("topics"));
    }
    let mut topics = Vec::with_capacity(n);
    for _ in 0..n {
        topics.push(r.string()?);
    }
    Ok(topics)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::groups::codec::Writer;

    #[test]
    fn reads_topics_of_any_version() {
        for version in [0i16, 1, 3] {
            let mut w = Writer::new();
            w.i16(version);
            w.i32(2);
            w.string("a");
            w.string("b");
            w.i32(-1); // user data
            w.i32(0); // owned partitions (v1+), ignored
            assert_eq!(subscribed_topics(&w.into_vec()).unwrap(), vec!["a", "b"]);
        }
        assert!(subscribed_topics(&[0, 0, 0, 0, 0, 9]).is_err());
        assert!(subscribed_topics(&[0xff, 0xff]).is_err());
    }
}
