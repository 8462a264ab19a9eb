'use strict'
// One kafkajs consumer-group member, for protocol-tests/clients/test_groups_clients.py.
//
// Usage: node kafkajs_group_member.js '<json spec>'
//   spec: {bootstrap, group, topics, session_timeout_ms, heartbeat_ms, rebalance_timeout_ms, client_id}
// Same line protocol as group_member.py:
//   stdout: {"event":"assignment","partitions":[[topic,p],...]} | {"event":"record",topic,partition,offset,value}
//           | {"event":"committed","offsets":[[topic,p,offset],...]} | {"event":"error","error"} | {"event":"closed"}
//   stdin:  {"cmd":"commit","offsets":[[topic,p,offset],...]} | {"cmd":"close"}
// kafkajs logs go to stderr.

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1'

const readline = require('readline')
const { Kafka, logLevel } = require('kafkajs')

const spec = JSON.parse(process.argv[2])
const emit = o => process.stdout.write(JSON.stringify(o) + '\n')

const kafka = new Kafka({
  clientId: spec.client_id || 'klamm-group-test',
  brokers: [spec.bootstrap],
  connectionTimeout: 5000,
  requestTimeout: 30000,
  retry: { retries: 10, initialRetryTime: 100, maxRetryTime: 1000 },
  logLevel: logLevel.WARN,
  logCreator: () => ({ namespace, label, log }) => {
    const { message, ...extra } = log
    process.stderr.write(`[kafkajs ${label} ${namespace}] ${message} ${JSON.stringify(extra)}\n`)
  },
})

const consumer = kafka.consumer({
  groupId: spec.group,
  sessionTimeout: spec.session_timeout_ms,
  heartbeatInterval: spec.heartbeat_ms,
  rebalanceTimeout: spec.rebalance_timeout_ms,
  maxWaitTimeInMs: 100,
  retry: { retries: 10, initialRetryTime: 100, maxRetryTime: 1000 },
})

consumer.on(consumer.events.REBALANCING, () => emit({ event: 'assignment', partitions: [] }))
consumer.on(consumer.events.GROUP_JOIN, e => {
  const partitions = []
  for (const [topic, ps] of Object.entries(e.payload.memberAssignment || {})) {
    for (const p of ps) partitions.push([topic, p])
  }
  partitions.sort((a, b) => (a[0] === b[0] ? a[1] - b[1] : a[0] < b[0] ? -1 : 1))
  emit({ event: 'assignment', partitions })
})
consumer.on(consumer.events.CRASH, e => emit({ event: 'error', error: `crash: ${e.payload.error}` }))

let closing = false
async function close() {
  if (closing) return
  closing = true
  try {
    await consumer.disconnect()
  } finally {
    emit({ event: 'closed' })
    process.exit(0)
  }
}

async function main() {
  await consumer.connect()
  await consumer.subscribe({ topics: spec.topics, fromBeginning: true })
  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ topic, partition, message }) => {
      emit({
        event: 'record',
        topic,
        partition,
        offset: Number(message.offset),
        value: message.value ? message.value.toString('utf8') : '',
      })
    },
  })
  const rl = readline.createInterface({ input: process.stdin })
  rl.on('line', async line => {
    if (!line.trim()) return
    const cmd = JSON.parse(line)
    if (cmd.cmd === 'close') return close()
    if (cmd.cmd === 'commit') {
      try {
        await consumer.commitOffsets(
          cmd.offsets.map(([topic, partition, offset]) => ({ topic, partition, offset: String(offset) }))
        )
        emit({ event: 'committed', offsets: cmd.offsets })
      } catch (e) {
        emit({ event: 'error', error: `commit: ${e}` })
      }
    }
  })
  rl.on('close', close)
}

main().catch(e => {
  emit({ event: 'error', error: `fatal: ${e}` })
  process.exit(1)
})
