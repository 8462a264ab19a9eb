//! The records of one produce partition as a client could send them, validated as Produce
//! validates them before appending: with every codec and the topic's compression.type either
//! matching or forcing a re-encode, and with a compacted topic (keys checked). Never panics,
//! and a batch that passes is one whole batch with a valid CRC.
#![no_main]

use std::collections::BTreeMap;
use std::sync::OnceLock;

use bytes::Bytes;
use klamm::log::config::LogConfig;
use klamm::log::validator::{validate, AppendOrigin};
use klamm::settings::Settings;
use libfuzzer_sys::fuzz_target;

fn configs() -> &'static [LogConfig] {
    static CONFIGS: OnceLock<Vec<LogConfig>> = OnceLock::new();
    CONFIGS.get_or_init(|| {
        let s = Settings::defaults();
        let with = |pairs: &[(&str, &str)]| {
            let o: BTreeMap<String, String> = pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            LogConfig::new(&s, &o)
        };
        vec![
            with(&[]),
            with(&[("compression.type", "gzip")]),
            with(&[("compression.type", "uncompressed")]),
            with(&[("cleanup.policy", "compact")]),
        ]
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let config = &configs()[usize::from(which) % configs().len()];
    // Fix the batch length and the CRC up, so mutations reach the record validation behind
    // them instead of stopping at a CRC mismatch (the CRC check itself is reached through
    // inputs shorter than a header, and through the length of the first byte's choice).
    let mut bytes = rest.to_vec();
    if bytes.len() >= 61 && which & 0x80 == 0 {
        let len = (bytes.len() - 12) as i32;
        bytes[8..12].copy_from_slice(&len.to_be_bytes());
        let crc = crc32c::crc32c(&bytes[21..]);
        bytes[17..21].copy_from_slice(&crc.to_be_bytes());
    }
    let records = Bytes::from(bytes);
    if let Ok(valid) = validate(&records, 9, config, AppendOrigin::Client, 1_000_000, "t-0") {
        assert!(klamm::log::batch::crc_is_valid(&valid.bytes));
    }
});
