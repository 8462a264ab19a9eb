'use strict'
// Drives kafkajs' admin client for protocol-tests/clients/test_admin_kafkajs.py.
//
// Usage: node kafkajs_admin.js   with a JSON spec on stdin: {brokers, ops: [{op, ...args}, ...]}.
// Runs the ops in order on one admin connection and prints one JSON document on stdout:
// {results: [...]} with, per op, either {ok: <kafkajs result>} or {error: {name, type, message}}.
//
// ops: createTopics {topics, validateOnly} | describeConfigs {resources, includeSynonyms}
//      | alterConfigs {resources, validateOnly} | createPartitions {topicPartitions, validateOnly}
//      | deleteTopicRecords {topic, partitions} | deleteTopics {topics}
//      | fetchTopicOffsets {topic} | fetchTopicMetadata {topics} | listTopics
// Resource types may be given by name ("TOPIC", "BROKER").

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1'

const { Kafka, logLevel, ConfigResourceTypes } = require('kafkajs')

function client(spec) {
  return new Kafka({
    clientId: 'klamm-kafkajs-admin-test',
    brokers: spec.brokers,
    connectionTimeout: 5000,
    requestTimeout: 30000,
    retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1000 },
    logLevel: logLevel.NOTHING,
  })
}

function resources(list) {
  return list.map(r => ({ ...r, type: typeof r.type === 'string' ? ConfigResourceTypes[r.type] : r.type }))
}

async function run(a, op) {
  switch (op.op) {
    case 'createTopics':
      return a.createTopics({ topics: op.topics, validateOnly: !!op.validateOnly, waitForLeaders: !op.validateOnly, timeout: 10000 })
    case 'describeConfigs':
      return a.describeConfigs({ resources: resources(op.resources), includeSynonyms: !!op.includeSynonyms })
    case 'alterConfigs':
      return a.alterConfigs({ resources: resources(op.resources), validateOnly: !!op.validateOnly })
    case 'createPartitions':
      return a.createPartitions({ topicPartitions: op.topicPartitions, validateOnly: !!op.validateOnly })
    case 'deleteTopicRecords':
      // kafkajs looks the leaders up in its metadata cache: load the topic first.
      await a.fetchTopicMetadata({ topics: [op.topic] })
      return a.deleteTopicRecords({ topic: op.topic, partitions: op.partitions })
    case 'deleteTopics':
      return a.deleteTopics({ topics: op.topics, timeout: 10000 })
    case 'fetchTopicOffsets':
      return a.fetchTopicOffsets(op.topic)
    case 'fetchTopicMetadata':
      return a.fetchTopicMetadata({ topics: op.topics })
    case 'listTopics':
      return a.listTopics()
    default:
      throw new Error(`unknown op ${op.op}`)
  }
}

async function main() {
  const chunks = []
  for await (const c of process.stdin) chunks.push(c)
  const spec = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}')
  const a = client(spec).admin()
  await a.connect()
  const results = []
  try {
    for (const op of spec.ops) {
      try {
        const ok = await run(a, op)
        results.push({ ok: ok === undefined ? null : ok })
      } catch (e) {
        const inner = e && e.originalError ? e.originalError : e
        results.push({
          error: {
            name: e && e.name,
            type: (inner && inner.type) || (e && e.type) || null,
            message: String(e && e.message),
            nested: (e && Array.isArray(e.errors) ? e.errors : []).map(x => ({ name: x.name, type: x.type || null, message: x.message })),
          },
        })
      }
    }
  } finally {
    await a.disconnect()
  }
  process.stdout.write(JSON.stringify({ results }) + '\n')
}

main().then(
  () => process.exit(0),
  e => {
    process.stdout.write(JSON.stringify({ error: String(e && e.stack ? e.stack : e) }) + '\n')
    process.exit(1)
  }
)
