#!/usr/bin/env node
// labforge event consumer (expert lab): a Kafka consumer group in another region than the one
// that wrote the events. Every event it consumes becomes one JSON line in SEEN_FILE: a tiny read
// model, and the proof (for `labforge health`) that events cross regions.
//
//   KAFKA_BROKERS   host:port,... to bootstrap from (the links of this consumer's region)
//   KAFKA_TOPICS    topics to consume, comma-separated
//   GROUP_ID        consumer group id; a new group starts at the earliest offset
//   SEEN_FILE       where consumed events are appended, one JSON object per line
//   STATE_FILE      {"state":"consuming"|"reconnecting", ...}, rewritten on every change
//   INSTANCE_NAME   client id and log prefix @default consumer-1
//
// A lost connection (a killed broker, a partitioned link) ends the stream: the consumer closes,
// waits 500 ms and joins the group again, resuming from the committed offsets. SIGTERM/SIGINT exit 0.
import { appendFileSync, renameSync, writeFileSync } from 'node:fs';
import { Consumer, MessagesStreamFallbackModes, MessagesStreamModes, stringDeserializers } from '@platformatic/kafka';

const env = process.env;
const brokers = (env.KAFKA_BROKERS ?? '')
  .split(',')
  .map((b) => b.trim())
  .filter(Boolean);
const topics = (env.KAFKA_TOPICS ?? '')
  .split(',')
  .map((t) => t.trim())
  .filter(Boolean);
const groupId = env.GROUP_ID ?? '';
const seenFile = env.SEEN_FILE ?? '';
const stateFile = env.STATE_FILE;
const instance = env.INSTANCE_NAME || 'consumer-1';

const log = (message) => process.stdout.write(`${new Date().toISOString()} ${instance} ${message}\n`);
for (const [name, ok] of [
  ['KAFKA_BROKERS', brokers.length > 0],
  ['KAFKA_TOPICS', topics.length > 0],
  ['GROUP_ID', groupId],
  ['SEEN_FILE', seenFile],
]) {
  if (!ok) {
    log(`${name} is required`);
    process.exit(2);
  }
}

let consumed = 0;
let stopping = false;
/** @type {Consumer | undefined} */
let consumer;

function writeState(state, detail = '') {
  if (!stateFile) return;
  const tmp = `${stateFile}.${process.pid}.tmp`;
  writeFileSync(
    tmp,
    `${JSON.stringify({ state, detail, pid: process.pid, since: new Date().toISOString(), consumed, groupId, topics })}\n`,
  );
  renameSync(tmp, stateFile);
}

async function consumeOnce() {
  consumer = new Consumer({
    clientId: instance,
    groupId,
    bootstrapBrokers: brokers,
    deserializers: stringDeserializers,
    timeout: 3000,
    retries: 2,
    retryDelay: 250,
    // Fast failure detection for a lab: a consumer that vanished leaves the group after 6 s.
    sessionTimeout: 6000,
    rebalanceTimeout: 6000,
    heartbeatInterval: 500,
  });
  const stream = await consumer.consume({
    topics,
    mode: MessagesStreamModes.COMMITTED,
    fallbackMode: MessagesStreamFallbackModes.EARLIEST,
    autocommit: 200,
    maxWaitTime: 200,
  });
  writeState('consuming');
  log(`consuming ${topics.join(', ')} as group ${groupId} from ${brokers.join(', ')}`);
  for await (const message of stream) {
    let event;
    try {
      event = JSON.parse(message.value ?? 'null');
    } catch {
      event = { unparsable: String(message.value).slice(0, 200) };
    }
    const line = {
      topic: message.topic,
      partition: message.partition,
      offset: String(message.offset),
      key: message.key,
      id: event?.id,
      type: event?.type,
      event,
      seenAt: new Date().toISOString(),
    };
    appendFileSync(seenFile, `${JSON.stringify(line)}\n`);
    consumed++;
  }
}

async function main() {
  writeState('starting');
  while (!stopping) {
    try {
      await consumeOnce();
      if (stopping) break;
      log('stream ended; joining again');
    } catch (err) {
      if (stopping) break;
      log(`consumer error: ${err?.message ?? err}; joining again in 500 ms`);
      writeState('reconnecting', String(err?.message ?? err).slice(0, 200));
    }
    await consumer?.close(true).catch(() => {});
    consumer = undefined;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    stopping = true;
    log(`${sig}: leaving the group and exiting`);
    setTimeout(() => process.exit(0), 1000).unref();
    (consumer?.close(true) ?? Promise.resolve()).catch(() => {}).finally(() => process.exit(0));
  });
}
process.on('unhandledRejection', (err) => log(`unhandled: ${err?.message ?? err}`));

await main();
