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
const { ZstdCodec } = require('zstd-codec')

function lz4Codec() {
  return {
    async compress(encoder) {
      return Buffer.from(lz4js.compress(new Uint8Array(encoder.buffer)))
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
