// Cross-region event flow: an event produced (acks=all) in one region must be consumed by the
// consumer group of another region, which records every event it consumes as a JSON line in its
// seen-file. Real round trip: Kafka, the inter-region links and the consumer all take part.
import { randomUUID } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { kafkaClient } from './kafka.js';
import { withRetry, type ProbeResult, type RetryPolicy } from './probe.js';
import { cleanupMayFail } from '../constructs/model/quiet.js';

export interface EventFlowEndpoint {
  /** Brokers of the producing region (`host:port`). */
  readonly bootstrap: readonly string[];
  readonly topic: string;
  /** The consumer's seen-file (one JSON object per line, with the event's `id`). */
  readonly seenFile: string;
  /** How long the consumer may take to record the event. @default 5000 */
  readonly consumeTimeoutMs?: number;
  /** Where the producer is and where the consumer is, for the detail: `region 0 -> region 1`. */
  readonly path?: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** True when `id` appears in the seen-file after byte `from`. */
function seenAfter(file: string, from: number, id: string): boolean {
  try {
    return readFileSync(file, 'utf8').slice(from).includes(`"id":"${id}"`);
  } catch {
    return false;
  }
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/** Produces one `labforge.probe` event and waits until the consumer recorded it. */
export function probeEventFlow(name: string, e: EventFlowEndpoint, policy: RetryPolicy = {}): Promise<ProbeResult> {
  const wait = e.consumeTimeoutMs ?? 5000;
  return withRetry(name, { ...policy, timeoutMs: Math.max(policy.timeoutMs ?? 2000, wait + 3000) }, async () => {
    const { Producer, stringSerializers } = await kafkaClient();
    const id = randomUUID();
    const from = sizeOf(e.seenFile);
    const producer = new Producer({
      clientId: 'labforge-health',
      bootstrapBrokers: [...e.bootstrap],
      serializers: stringSerializers,
      timeout: 2000,
      retries: 0,
    });
    const started = performance.now();
    try {
      const event = {
        id,
        type: 'labforge.probe',
        at: new Date().toISOString(),
        source: 'labforge health',
        key: 'labforge-health',
        data: {},
      };
      await producer.send({ acks: -1, messages: [{ topic: e.topic, key: 'labforge-health', value: JSON.stringify(event) }] });
    } finally {
      await producer.close().catch(cleanupMayFail);
    }
    const produced = performance.now();
    const deadline = produced + wait;
    while (!seenAfter(e.seenFile, from, id)) {
      if (performance.now() > deadline)
        throw new Error(
          `event ${id} produced to ${e.topic} but not consumed within ${wait} ms${e.path ? ` (${e.path})` : ''}: is the consumer's region cut off?`,
        );
      await sleep(25);
    }
    const ms = (t: number) => Math.round(t);
    return `event produced (acks=all) in ${ms(produced - started)} ms and consumed ${ms(performance.now() - produced)} ms later${e.path ? ` (${e.path})` : ''}`;
  });
}
