'use strict'
// Compression codecs for kafkajs, built only from pure-JS / WebAssembly packages so that
// `npm ci` never has to compile native code:
//   snappy: kafkajs-snappy (on top of snappyjs; handles raw and xerial-framed snappy)
//   lz4:    lz4js (LZ4 frame format, which is what Kafka's v2 record batches use)
//   zstd:   zstd-codec (zstd compiled to WebAssembly with Emscripten)
// The usual kafkajs-lz4 and @kafkajs/zstd packages depend on native modules (lz4, cppzst)
// that need node-gyp and a download of headers, so they are not used here.

const { CompressionTypes, CompressionCodecs } = require('kafkajs')
const SnappyCodec = require('kafkajs-snappy')
const lz4js = require('lz4js')
const xxh32 = require('lz4js/xxh32.js')
const { ZstdCodec } = require('zstd-codec')

// An LZ4 frame of independent 64 KB blocks, the frame Kafka's brokers read (Lz4BlockInputStream
// refuses "Dependent block stream is unsupported" with UNKNOWN_SERVER_ERROR). lz4js.compress
// writes its frames with the block-independence flag clear, so the frame is assembled here from
// lz4js.compressBlock, each block with a fresh hash table (no match reaches an earlier block).
const LZ4_BLOCK = 64 * 1024
function lz4Frame(src) {
  const parts = []
  const header = Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x60 /* version 01, independent blocks */, 0x40 /* 64 KB */, 0])
  header[6] = (xxh32.hash(0, header, 4, 2) >> 8) & 0xff
  parts.push(header)
  const block = new Uint8Array(lz4js.compressBound(LZ4_BLOCK))
  for (let at = 0; at < src.length; at += LZ4_BLOCK) {
    const chunk = src.subarray(at, Math.min(at + LZ4_BLOCK, src.length))
    const size = lz4js.compressBlock(chunk, block, 0, chunk.length, new Uint32Array(1 << 16))
    const len = Buffer.alloc(4)
    if (size === 0 || size >= chunk.length) {
      len.writeUInt32LE((0x80000000 | chunk.length) >>> 0)
      parts.push(len, Buffer.from(chunk))
    } else {
      len.writeUInt32LE(size)
      parts.push(len, Buffer.from(block.subarray(0, size)))
    }
  }
  parts.push(Buffer.alloc(4)) // end mark
  return Buffer.concat(parts)
}

function lz4Codec() {
  return {
    async compress(encoder) {
      return lz4Frame(new Uint8Array(encoder.buffer))
    },
    async decompress(buffer) {
      return Buffer.from(lz4js.decompress(new Uint8Array(buffer)))
    },
  }
}

let zstdReady = null
function zstd() {
  if (!zstdReady) {
    zstdReady = new Promise(resolve => ZstdCodec.run(z => resolve(new z.Streaming())))
  }
  return zstdReady
}

function zstdCodec() {
  return {
    async compress(encoder) {
      const out = (await zstd()).compress(new Uint8Array(encoder.buffer), 3)
      if (!out) throw new Error('zstd-codec: compression failed')
      return Buffer.from(out)
    },
    async decompress(buffer) {
      // Streaming decompression copes with frames that do not record their content size
      // (librdkafka and the Java client write such frames).
      const out = (await zstd()).decompress(new Uint8Array(buffer))
      if (!out) throw new Error('zstd-codec: decompression failed')
      return Buffer.from(out)
    },
  }
}

function registerCodecs() {
  CompressionCodecs[CompressionTypes.Snappy] = SnappyCodec
  CompressionCodecs[CompressionTypes.LZ4] = lz4Codec
  CompressionCodecs[CompressionTypes.ZSTD] = zstdCodec
}

const COMPRESSION = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
  zstd: CompressionTypes.ZSTD,
}

module.exports = { registerCodecs, COMPRESSION, lz4Codec, zstdCodec }
