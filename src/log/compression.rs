//! Compressing a records section with a batch codec (pure-Rust encoders), the inverse of
//! [`crate::log::records::decompress`]. Used where the broker writes batches itself: topics
//! whose `compression.type` names a codec (Kafka's `LogValidator` re-encodes such batches) and
//! the log cleaner re-writing a batch it filtered.
//!
//! Framing follows what Kafka's own broker writes, so every client reads it: gzip members, LZ4
//! frames with independent 64 KiB blocks and no checksums (`KafkaLZ4BlockOutputStream`), snappy
//! in xerial's block framing (`SnappyOutputStream`, which the Java client requires and every other
//! client accepts), and standard zstd frames. Levels: gzip honours `compression.gzip.level`; the
//! pure-Rust lz4 and zstd encoders have one level each (lz4_flex's fast mode, ruzstd's
//! "fastest", about zstd level 1), so `compression.lz4.level` and `compression.zstd.level` are
//! validated and reported but do not change the output.

use std::io::Write;

use crate::log::batch::Compression;
use crate::log::records::RecordsError;

/// Uncompressed bytes per xerial snappy block (Kafka uses 32 KiB).
const SNAPPY_BLOCK: usize = 32 * 1024;
const XERIAL_HEADER: [u8; 16] = [
    0x82, b'S', b'N', b'A', b'P', b'P', b'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1,
];

/// Codec levels (the topic's `compression.*.level` configs).
#[derive(Clone, Copy, Debug)]
pub struct Levels {
    pub gzip: i32,
    pub lz4: i32,
    pub zstd: i32,
}

impl Default for Levels {
    fn default() -> Self {
        Levels {
            gzip: -1,
            lz4: 9,
            zstd: 3,
        }
    }
}

/// Compresses `data` with `codec`. A failure is an error, never an empty or partial output: a
/// caller that wrapped one in a batch header with a valid CRC would store a batch that claims
/// records it does not hold.
pub fn compress(codec: Compression, levels: Levels, data: &[u8]) -> Result<Vec<u8>, RecordsError> {
    let fail = |e: &dyn std::fmt::Display| RecordsError::Compress {
        codec: codec.name(),
        reason: e.to_string(),
    };
    match codec {
        Compression::None => Ok(data.to_vec()),
        Compression::Gzip => {
            let level = if levels.gzip < 0 {
                flate2::Compression::default()
            } else {
                flate2::Compression::new(levels.gzip.clamp(0, 9) as u32)
            };
            let mut enc =
                flate2::write::GzEncoder::new(Vec::with_capacity(data.len() / 2 + 64), level);
            enc.write_all(data).map_err(|e| fail(&e))?;
            enc.finish().map_err(|e| fail(&e))
        }
        Compression::Snappy => {
            let mut out = Vec::with_capacity(data.len() / 2 + 64);
            out.extend_from_slice(&XERIAL_HEADER);
            let mut enc = snap::raw::Encoder::new();
            for chunk in data.chunks(SNAPPY_BLOCK) {
                let block = enc.compress_vec(chunk).map_err(|e| fail(&e))?;
                out.extend_from_slice(&(block.len() as u32).to_be_bytes());
                out.extend_from_slice(&block);
            }
            Ok(out)
        }
        Compression::Lz4 => {
            let info = lz4_flex::frame::FrameInfo::new()
                .block_size(lz4_flex::frame::BlockSize::Max64KB)
                .block_mode(lz4_flex::frame::BlockMode::Independent);
            let mut enc = lz4_flex::frame::FrameEncoder::with_frame_info(
                info,
                Vec::with_capacity(data.len() / 2 + 64),
            );
            enc.write_all(data).map_err(|e| fail(&e))?;
            enc.finish().map_err(|e| fail(&e))
        }
        Compression::Zstd => Ok(ruzstd::encoding::compress_to_vec(
            data,
            ruzstd::encoding::CompressionLevel::Fastest,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::records::decompress;

    #[test]
    fn every_codec_roundtrips() {
        let data = b"kafka records compress well when they repeat, kafka records ".repeat(3000);
        for codec in [
            Compression::None,
            Compression::Gzip,
            Compression::Snappy,
            Compression::Lz4,
            Compression::Zstd,
        ] {
            let c = compress(codec, Levels::default(), &data).unwrap();
            if codec != Compression::None {
                assert!(c.len() < data.len() / 4, "{codec:?} {}", c.len());
            }
            assert_eq!(
                decompress(codec, &c, data.len()).unwrap(),
                data,
                "{codec:?}"
            );
        }
        assert_eq!(
            decompress(
                Compression::Gzip,
                &compress(
                    Compression::Gzip,
                    Levels {
                        gzip: 9,
                        ..Default::default()
                    },
                    &data
                )
                .unwrap(),
                data.len()
            )
            .unwrap(),
            data
        );
    }
}
