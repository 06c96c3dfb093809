// Kafka: cluster metadata (every partition of the lab topics has a leader and a full ISR), then a
// round trip: a unique message produced with acks=all to each partition of the health topic and
// fetched back from its leader. The client (@platformatic/kafka) is imported lazily.
import { randomBytes } from 'node:crypto';
import { withRetry, type ProbeResult, type RetryPolicy } from './probe.js';
import { cleanupMayFail } from '../constructs/model/quiet.js';

/** Topic the round trip writes to, so learners' topics never see probe messages. */
export const KAFKA_HEALTH_TOPIC = 'labforge.health';

export interface KafkaEndpoint {
  /** `host:port` of brokers to bootstrap from (any one reachable is enough). */
  readonly bootstrap: readonly string[];
  /** Topics whose partitions must all have a leader and a full ISR. */
  readonly topics: readonly string[];
  /** Replication factor each partition must have. @default the replica count in the metadata */
  readonly replicationFactor?: number;
  /** Where the round trip goes; also checked like `topics`. @default KAFKA_HEALTH_TOPIC */
  readonly healthTopic?: string;
}

export interface KafkaPartitionState {
  readonly topic: string;
  readonly partition: number;
  /** Broker id of the leader; -1 when there is none. */
  readonly leader: number;
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
}

export interface KafkaClusterView {
  readonly clusterId: string;
  /** Ids of the live (unfenced) brokers. */
  readonly brokers: readonly number[];
  readonly controllerId: number;
  readonly partitions: readonly KafkaPartitionState[];
  /** Topic ids (fetch requests name topics by id). */
  readonly topicIds: ReadonlyMap<string, string>;
}

/**
 * `healthy`: every partition led, every ISR full, round trip done. `degraded`: every partition
 * led and the round trip done, but some ISR is short (a broker is down: writes still succeed with
 * min.insync.replicas 2, one more failure would stop them). `down`: anything less.
 */
export type KafkaHealth = 'healthy' | 'degraded' | 'down';

export interface KafkaProbeResult extends ProbeResult {
  readonly status: KafkaHealth;
  /** The last metadata seen; absent when no broker answered. */
  readonly view?: KafkaClusterView;
}

type Client = typeof import('@platformatic/kafka');
let client: Promise<Client> | undefined;
/** The Kafka client, loaded on first use (≈ 0.5–0.8 s), so the CLI starts fast. */
export function kafkaClient(): Promise<Client> {
  client ??= import('@platformatic/kafka');
  return client;
}

function baseOptions(bootstrap: readonly string[], timeoutMs: number) {
  // One short-lived client per attempt and no retries inside it: withRetry owns retrying.
  return {
    clientId: 'labforge-health',
    bootstrapBrokers: [...bootstrap],
    timeout: timeoutMs,
    retries: 0 as const,
    connectTimeout: timeoutMs,
  };
}

/** Metadata of the given topics as one broker sees it (a real request, never cached). */
export async function describeKafka(bootstrap: readonly string[], topics: readonly string[], timeoutMs = 2000): Promise<KafkaClusterView> {
  const { Admin } = await kafkaClient();
  const admin = new Admin(baseOptions(bootstrap, timeoutMs));
  try {
    const md = await admin.metadata({ topics: [...topics], forceUpdate: true });
    const partitions: KafkaPartitionState[] = [];
    const topicIds = new Map<string, string>();
    for (const topic of topics) {
      const t = md.topics.get(topic);
      if (!t) throw new Error(`topic ${topic} does not exist`);
      topicIds.set(topic, t.id);
      t.partitions.forEach((p, partition) => partitions.push({ topic, partition, leader: p.leader, replicas: p.replicas, isr: p.isr }));
    }
    return { clusterId: md.id, brokers: [...md.brokers.keys()].sort((a, b) => a - b), controllerId: md.controllerId, partitions, topicIds };
  } finally {
    await admin.close().catch(cleanupMayFail);
  }
}

const label = (p: KafkaPartitionState) => `${p.topic}/${p.partition}`;

/** Partitions without a leader, and partitions whose ISR is short of `rf` (or of their replicas). */
export function assessPartitions(
  view: KafkaClusterView,
  rf?: number,
): { leaderless: KafkaPartitionState[]; underReplicated: KafkaPartitionState[] } {
  const live = new Set(view.brokers);
  return {
    leaderless: view.partitions.filter((p) => p.leader < 0 || !live.has(p.leader)),
    underReplicated: view.partitions.filter((p) => p.isr.length < (rf ?? p.replicas.length) || p.replicas.length < (rf ?? 0)),
  };
}

/** Produces one unique message per partition of `topic` (acks=all) and fetches each back from its leader. */
async function roundTrip(view: KafkaClusterView, bootstrap: readonly string[], topic: string, timeoutMs: number): Promise<number> {
  const { Producer, Consumer, stringSerializers, stringDeserializers } = await kafkaClient();
  const partitions = view.partitions.filter((p) => p.topic === topic);
  const topicId = view.topicIds.get(topic)!;
  const nonce = randomBytes(6).toString('hex');
  const valueOf = (p: number) => `labforge-health ${nonce} ${topic}/${p} ${new Date().toISOString()}`;
  const values = new Map(partitions.map((p) => [p.partition, valueOf(p.partition)]));
  const producer = new Producer({ ...baseOptions(bootstrap, timeoutMs), serializers: stringSerializers });
  let offsets: Map<number, bigint>;
  try {
    // acks belongs on send(): the client ignores it in the constructor (non-idempotent producers
    // default to acks=1 there), and only acks=all proves the ISR took the write.
    const sent = await producer.send({
      acks: -1,
      messages: partitions.map((p) => ({ topic, partition: p.partition, key: nonce, value: values.get(p.partition)! })),
    });
    offsets = new Map((sent.offsets ?? []).map((o) => [o.partition, o.offset]));
  } finally {
    await producer.close().catch(cleanupMayFail);
  }
  const consumer = new Consumer({
    ...baseOptions(bootstrap, timeoutMs),
    groupId: `labforge-health-${nonce}`,
    deserializers: stringDeserializers,
  });
  try {
    for (const p of partitions) {
      const offset = offsets.get(p.partition);
      if (offset === undefined) throw new Error(`produce to ${label(p)} returned no offset`);
      const res = await consumer.fetch({
        node: p.leader,
        maxWaitTime: 200,
        topics: [
          {
            topicId,
            partitions: [
              { partition: p.partition, currentLeaderEpoch: -1, fetchOffset: offset, lastFetchedEpoch: -1, partitionMaxBytes: 64 * 1024 },
            ],
          },
        ],
      });
      const part = res.responses.find((t) => t.topicId === topicId)?.partitions.find((x) => x.partitionIndex === p.partition);
      if (!part || part.errorCode !== 0)
        throw new Error(`fetch from ${label(p)} on broker ${p.leader} failed (error code ${part?.errorCode ?? 'none'})`);
      const got = (part.records ?? [])
        .flatMap((batch) => batch.records.map((r) => ({ offset: batch.firstOffset + BigInt(r.offsetDelta), value: r.value?.toString() })))
        .find((r) => r.offset === offset);
      if (got?.value !== values.get(p.partition))
        throw new Error(`fetched ${label(p)}@${offset} from broker ${p.leader}, but not the message produced there`);
    }
  } finally {
    await consumer.close().catch(cleanupMayFail);
  }
  return partitions.length;
}

/** Probes a Kafka cluster; see KafkaHealth for what each status means. Never throws. */
export async function probeKafka(name: string, endpoint: KafkaEndpoint, policy: RetryPolicy = {}): Promise<KafkaProbeResult> {
  const healthTopic = endpoint.healthTopic ?? KAFKA_HEALTH_TOPIC;
  const topics = [...new Set([...endpoint.topics, healthTopic])];
  let view: KafkaClusterView | undefined;
  let degraded: string | undefined;
  const result = await withRetry(name, policy, async (timeoutMs) => {
    degraded = undefined;
    view = undefined;
    view = await describeKafka(endpoint.bootstrap, topics, timeoutMs);
    const { leaderless, underReplicated } = assessPartitions(view, endpoint.replicationFactor);
    if (leaderless.length > 0) throw new Error(`no leader for ${leaderless.map(label).join(', ')}`);
    const started = performance.now();
    const count = await roundTrip(view, endpoint.bootstrap, healthTopic, timeoutMs);
    const rt = `produce (acks=all) and fetch on ${count} partitions of ${healthTopic} in ${Math.round(performance.now() - started)} ms`;
    if (underReplicated.length > 0) {
      const short = underReplicated.map((p) => `${label(p)} isr [${p.isr.join(',')}] of [${p.replicas.join(',')}]`);
      degraded = `ISR short on ${underReplicated.length} of ${view.partitions.length} partitions (${short.slice(0, 4).join('; ')}${short.length > 4 ? '; ...' : ''}); ${rt}`;
      throw new Error(degraded);
    }
    return `${view.brokers.length} brokers, ${view.partitions.length} partitions led with full ISR; ${rt}`;
  });
  const status: KafkaHealth = result.ok ? 'healthy' : degraded !== undefined && result.detail === degraded ? 'degraded' : 'down';
  return { ...result, status, view };
}
