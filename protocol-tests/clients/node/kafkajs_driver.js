'use strict'
// Drives kafkajs for protocol-tests/clients/test_kafkajs.py.
//
// Usage: node kafkajs_driver.js <command>   with a JSON spec on stdin.
// Prints exactly one JSON document on stdout; kafkajs' own log lines go to stderr.
// Exit code 0 when the command did what it was asked, 1 otherwise (the JSON then has "error").
//
// Bytes (keys, values, header values) travel as base64 strings; null stays null.
//
// Commands:
//   produce  {brokers, topic, compression, acks, idempotent, batches: [[msg, ...], ...]}
//            msg = {partition, key, value, headers: [[name, value], ...], timestamp}
//            Each batch is one producer.send() call.  -> {results: [[{partition, baseOffset, errorCode}]]}
//   consume  {brokers, topic, partitions: [..], expected: {partition: count}, timeoutMs}
//            Reads each partition from offset 0 with plain Fetch requests sent through kafkajs'
//            own connection and decoding code (kafkajs' Consumer always joins a consumer group,
//            which Klamm does not implement yet).      -> {messages: [{partition, offset, key, value, headers, timestamp}]}
//   admin    {brokers, op, ...}  op = createTopics {topics: [{topic, numPartitions}]}
//                                   | listTopics | fetchTopicMetadata {topics} | fetchTopicOffsets {topic}
//   produce-invalid {brokers, topic}  Expects the produce to fail.   -> {errorName, errorMessage, errorType}
//   transactions {brokers, topic, transactionalId, transactions: [{commit, messages: [{partition, value}],
//            offsets: {group, partitions: [{partition, offset}]} (optional)}]}   -> {ok}

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1'

const { Kafka, logLevel, Partitioners } = require('kafkajs')
const { registerCodecs, COMPRESSION } = require('./codecs')

registerCodecs()

const stderrLogCreator = () => ({ namespace, level, label, log }) => {
  const { message, ...extra } = log
  process.stderr.write(`[kafkajs ${label} ${namespace}] ${message} ${JSON.stringify(extra)}\n`)
}

function client(spec) {
  return new Kafka({
    clientId: 'klamm-kafkajs-test',
    brokers: spec.brokers,
    // spec.ssl = {ca, cert, key} (PEM file paths): an SSL listener, the server verified.
    ssl: spec.ssl ? {
      ca: [require('fs').readFileSync(spec.ssl.ca)],
      ...(spec.ssl.cert ? { cert: require('fs').readFileSync(spec.ssl.cert) } : {}),
      ...(spec.ssl.key ? { key: require('fs').readFileSync(spec.ssl.key) } : {}),
      rejectUnauthorized: true,
    } : undefined,
    // spec.sasl = {mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512', username, password}.
    sasl: spec.sasl || undefined,
    connectionTimeout: 5000,
    requestTimeout: 30000,
    retry: { retries: spec.retries === undefined ? 5 : spec.retries, initialRetryTime: 100, maxRetryTime: 2000 },
    logLevel: logLevel.WARN,
    logCreator: stderrLogCreator,
  })
}

const b64 = v => (v === null || v === undefined ? null : Buffer.from(v, 'base64'))
const toB64 = v => (v === null || v === undefined ? null : Buffer.from(v).toString('base64'))

// kafkajs takes headers as an object; repeated names become arrays. The test side only generates
// header lists whose repeated names are adjacent, so the round trip keeps their order.
function headersObject(pairs) {
  const obj = {}
  for (const [name, value] of pairs || []) {
    const v = b64(value)
    if (Object.prototype.hasOwnProperty.call(obj, name)) {
      obj[name] = Array.isArray(obj[name]) ? obj[name].concat([v]) : [obj[name], v]
    } else {
      obj[name] = v
    }
  }
  return obj
}

function headersPairs(obj) {
  const pairs = []
  for (const name of Object.keys(obj || {})) {
    const v = obj[name]
    if (Array.isArray(v)) v.forEach(x => pairs.push([name, toB64(x)]))
    else pairs.push([name, toB64(v)])
  }
  return pairs
}

async function produce(spec) {
  const kafka = client(spec)
  const producer = kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    idempotent: !!spec.idempotent,
    maxInFlightRequests: spec.idempotent ? 1 : undefined,
    allowAutoTopicCreation: true,
  })
  await producer.connect()
  try {
    const results = []
    for (const batch of spec.batches) {
      const messages = batch.map(m => ({
        partition: m.partition,
        key: b64(m.key),
        value: b64(m.value),
        headers: headersObject(m.headers),
        timestamp: m.timestamp === null || m.timestamp === undefined ? undefined : String(m.timestamp),
      }))
      const meta = await producer.send({
        topic: spec.topic,
        messages,
        acks: spec.acks === undefined ? -1 : spec.acks,
        timeout: 30000,
        compression: COMPRESSION[spec.compression || 'none'],
      })
      results.push(
        (meta || []).map(r => ({ partition: r.partition, baseOffset: r.baseOffset, errorCode: r.errorCode }))
      )
    }
    return { results }
  } finally {
    await producer.disconnect()
  }
}

function createClusterOf(kafka) {
  const sym = Object.getOwnPropertySymbols(kafka).find(s => s.description === 'private:Kafka:createCluster')
  if (!sym) throw new Error('kafkajs internals changed: no private:Kafka:createCluster')
  return kafka[sym]({ allowAutoTopicCreation: false, isolationLevel: 1 })
}

async function consume(spec) {
  const kafka = client(spec)
  const cluster = createClusterOf(kafka)
  await cluster.connect()
  try {
    await cluster.addTargetTopic(spec.topic)
    const deadline = Date.now() + (spec.timeoutMs || 30000)
    const next = {}
    const out = []
    const counts = {}
    for (const p of spec.partitions) {
      next[p] = 0n
      counts[p] = 0
    }
    const expected = spec.expected
    for (const p of spec.partitions) {
      if (!expected || expected[p] === undefined) throw new Error(`consume: no expected count for partition ${p}`)
    }
    const done = p => counts[p] >= expected[p]
    while (!spec.partitions.every(done)) {
      if (Date.now() > deadline) {
        throw new Error(`timed out; got ${JSON.stringify(counts)} of ${JSON.stringify(expected)}`)
      }
      const pending = spec.partitions.filter(p => !done(p))
      const byLeader = cluster.findLeaderForPartitions(spec.topic, pending)
      for (const nodeId of Object.keys(byLeader)) {
        const broker = await cluster.findBroker({ nodeId })
        const response = await broker.fetch({
          replicaId: -1,
          isolationLevel: 1,
          maxWaitTime: 200,
          minBytes: 1,
          maxBytes: 10485760,
          topics: [
            {
              topic: spec.topic,
              partitions: byLeader[nodeId].map(p => ({
                partition: p,
                fetchOffset: next[p].toString(),
                maxBytes: 2097152,
              })),
            },
          ],
        })
        for (const t of response.responses) {
          for (const part of t.partitions) {
            if (part.errorCode !== 0) throw new Error(`fetch error code ${part.errorCode} on ${t.topicName}-${part.partition}`)
            for (const m of part.messages) {
              if (m.isControlRecord) continue
              const off = BigInt(m.offset)
              // Like kafkajs' own consumer: skip records before the fetch offset (a broker may
              // return a whole batch that starts earlier).
              if (off < next[part.partition]) continue
              out.push({
                partition: part.partition,
                offset: Number(off),
                key: toB64(m.key),
                value: toB64(m.value),
                headers: headersPairs(m.headers),
                timestamp: Number(m.timestamp),
              })
              next[part.partition] = off + 1n
              counts[part.partition] += 1
            }
          }
        }
      }
    }
    return { messages: out }
  } finally {
    await cluster.disconnect()
  }
}

async function admin(spec) {
  const kafka = client(spec)
  const a = kafka.admin()
  await a.connect()
  try {
    switch (spec.op) {
      case 'createTopics':
        return {
          created: await a.createTopics({
            topics: spec.topics.map(t => ({ topic: t.topic, numPartitions: t.numPartitions, replicationFactor: 1 })),
            waitForLeaders: true,
            timeout: 10000,
          }),
        }
      case 'listTopics':
        return { topics: await a.listTopics() }
      case 'fetchTopicMetadata':
        return await a.fetchTopicMetadata({ topics: spec.topics })
      case 'fetchTopicOffsets':
        return { offsets: await a.fetchTopicOffsets(spec.topic) }
      default:
        throw new Error(`unknown admin op ${spec.op}`)
    }
  } finally {
    await a.disconnect()
  }
}

async function produceInvalid(spec) {
  const kafka = client({ ...spec, retries: 1 })
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner })
  await producer.connect()
  try {
    await producer.send({ topic: spec.topic, messages: [{ value: 'x' }], acks: -1, timeout: 5000 })
    return { produced: true }
  } catch (e) {
    return { errorName: e.name, errorMessage: e.message, errorType: e.type || null }
  } finally {
    await producer.disconnect()
  }
}

// Runs kafkajs transactions in order; each commits or aborts, optionally with sendOffsets.
async function transactions(spec) {
  const kafka = client(spec)
  const producer = kafka.producer({
    transactionalId: spec.transactionalId,
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  })
  await producer.connect()
  try {
    for (const t of spec.transactions) {
      const txn = await producer.transaction()
      await txn.send({
        topic: spec.topic,
        acks: -1,
        messages: t.messages.map(m => ({ partition: m.partition, value: b64(m.value) })),
      })
      if (t.offsets) {
        await txn.sendOffsets({
          consumerGroupId: t.offsets.group,
          topics: [{ topic: spec.topic, partitions: t.offsets.partitions.map(p => ({ partition: p.partition, offset: String(p.offset) })) }],
        })
      }
      if (t.commit) await txn.commit()
      else await txn.abort()
    }
    return { ok: true }
  } finally {
    await producer.disconnect()
  }
}

async function readStdin() {
  const chunks = []
  for await (const c of process.stdin) chunks.push(c)
  return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}')
}

async function main() {
  const cmd = process.argv[2]
  const spec = await readStdin()
  const commands = { produce, consume, admin, 'produce-invalid': produceInvalid, transactions }
  if (!commands[cmd]) throw new Error(`unknown command ${cmd}`)
  const result = await commands[cmd](spec)
  await writeOut(JSON.stringify(result) + '\n')
}

// stdout is a pipe: wait until the (possibly large) output is flushed before exiting.
function writeOut(text) {
  return new Promise(resolve => process.stdout.write(text, resolve))
}

main().then(
  () => process.exit(0),
  async e => {
    const nested = (e && Array.isArray(e.errors) ? e.errors : []).map(x => ({ name: x.name, type: x.type || null, message: x.message }))
    await writeOut(
      JSON.stringify({
        error: String(e && e.stack ? e.stack : e) + (nested.length ? ' ' + JSON.stringify(nested) : ''),
        errorName: e && e.name,
        errorType: (e && e.type) || null,
        errors: nested,
      }) + '\n'
    )
    process.exit(1)
  }
)
