//! A request frame (size prefix removed) as a client could send it: decoding never panics or
//! aborts, and whenever the bounds walk lets a frame through and the protocol crate decodes
//! it, both consumed exactly the same bytes (the walk follows the crate field for field).
#![no_main]

use bytes::{Buf, Bytes};
use kafka_protocol::messages::{ApiKey, RequestHeader, RequestKind};
use kafka_protocol::protocol::Decodable;
use klamm::protocol::bounds;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let frame = Bytes::copy_from_slice(data);
    let _ = klamm::protocol::decode(frame.clone());
    if data.len() < 4 {
        return;
    }
    let Ok(key) = ApiKey::try_from(i16::from_be_bytes([data[0], data[1]])) else {
        return;
    };
    let version = i16::from_be_bytes([data[2], data[3]]);
    // The removed versions (klamm::protocol::legacy) have no shape; decode() above covers them.
    let Some(range) = klamm::versions::answered_range(klamm::versions::Compat::Kafka41, key) else {
        return;
    };
    let min = if key == ApiKey::Produce {
        klamm::versions::PRODUCE_MIN_ACCEPTED
    } else {
        range.min
    };
    if version < min || version > range.max {
        return;
    }
    let hv = key.request_header_version(version);
    let Some(shape) = bounds::request_shape(key) else {
        panic!("{key:?} has no shape");
    };
    let Ok(walked) = bounds::check(bounds::header_shape(), hv, data)
        .and_then(|h| bounds::check(shape, version, &data[h..]).map(|b| h + b))
    else {
        return;
    };
    let mut buf = frame.clone();
    if RequestHeader::decode(&mut buf, hv).is_ok()
        && RequestKind::decode(key, &mut buf, version).is_ok()
    {
        assert_eq!(walked, data.len() - buf.remaining(), "{key:?} v{version}");
    }
});
