// Checks of expert-streams: the learner's order events on orders.events, consumed to the end by
// their consumer group in another region (committed offsets, through the Kafka admin API); a CQRS
// read model that holds exactly the orders of the stream; the read model's lag under load; and
// the broker drill (a broker killed and restarted, leadership moved, the cluster whole again).
import { isAlive, type ProcessRecord } from '../local/proc.js';
import { regionAddress } from '../model/shard.js';
import { describeKafka, kafkaClient } from '../../health/kafka.js';
import { guarded, withDb } from './probe.js';
import { fail, pass, type Check, type CheckContext } from './types.js';
import { kafkaBootstrap, kafkaOf, linkDelayMs, measurement, readWorkdirJson, tableExists } from './expert-tools.js';
import { cleanupMayFail } from '../model/quiet.js';

export const ORDERS_TOPIC = 'orders.events';
export const ORDERS_GROUP = 'orders-read-model';
const READ_MODEL = 'order_read_model';
/** "Under load": the read model's lag is measured over at least this many events. */
export const LOAD_EVENTS = 1000;
const KAFKA_HINT = 'Kafka did not answer: `labforge health <lab>` (and `labforge up <lab>` restarts a broker that is down)';

const options = (ctx: CheckContext) => ({
  clientId: 'labforge-check',
  bootstrapBrokers: kafkaBootstrap(ctx),
  timeout: 5000,
  retries: 1 as const,
  connectTimeout: 3000,
});

/** First and next offsets of every partition of the topic. */
async function offsetsOf(ctx: CheckContext, topic: string): Promise<{ partition: number; start: bigint; end: bigint }[]> {
  const { Admin } = await kafkaClient();
  const admin = new Admin(options(ctx));
  try {
    const md = await admin.metadata({ topics: [topic], forceUpdate: true });
    const partitions = md.topics.get(topic)!.partitions.map((_, i) => i);
    const at = async (timestamp: bigint) =>
      (await admin.listOffsets({ topics: [{ name: topic, partitions: partitions.map((p) => ({ partitionIndex: p, timestamp })) }] }))[0]!
        .partitions;
    const [start, end] = await Promise.all([at(-2n), at(-1n)]);
    return partitions.map((p) => ({
      partition: p,
      start: start.find((x) => x.partitionIndex === p)!.offset,
      end: end.find((x) => x.partitionIndex === p)!.offset,
    }));
  } finally {
    await admin.close().catch(cleanupMayFail);
  }
}

const total = (offsets: { start: bigint; end: bigint }[]) => offsets.reduce((n, o) => n + Number(o.end - o.start), 0);

/** Most events the read-model check reads (it keeps their order ids in memory). */
const MAX_READ = 5_000_000;

/** Visits every event value on the topic, read from each partition's leader without joining a group; returns the count. */
async function readTopic(ctx: CheckContext, topic: string, visit: (value: string) => void): Promise<number> {
  const { Consumer, stringDeserializers } = await kafkaClient();
  const bootstrap = kafkaBootstrap(ctx);
  const view = await describeKafka(bootstrap, [topic], 5000);
  const topicId = view.topicIds.get(topic)!;
  const offsets = await offsetsOf(ctx, topic);
  if (total(offsets) > MAX_READ) throw new Error(`${topic} holds ${total(offsets)} events, more than the ${MAX_READ} this check reads`);
  const consumer = new Consumer({ ...options(ctx), groupId: `labforge-check-${Date.now()}`, deserializers: stringDeserializers });
  let count = 0;
  try {
    for (const p of view.partitions) {
      const { start, end } = offsets.find((o) => o.partition === p.partition)!;
      for (let next = start; next < end;) {
        const res = await consumer.fetch({
          node: p.leader,
          maxWaitTime: 100,
          topics: [
            {
              topicId,
              partitions: [
                { partition: p.partition, currentLeaderEpoch: -1, fetchOffset: next, lastFetchedEpoch: -1, partitionMaxBytes: 1024 * 1024 },
              ],
            },
          ],
        });
        const part = res.responses.find((t) => t.topicId === topicId)?.partitions.find((x) => x.partitionIndex === p.partition);
        if (!part || part.errorCode !== 0)
          throw new Error(`fetch of ${topic}/${p.partition}@${next} failed (error code ${part?.errorCode ?? 'none'})`);
        const before = next;
        for (const batch of part.records ?? []) {
          // A control batch (a transaction's commit or abort marker) holds no event.
          if ((batch.attributes & 0x20) !== 0) {
            const after = batch.firstOffset + BigInt(batch.lastOffsetDelta) + 1n;
            if (after > next) next = after;
            continue;
          }
          for (const r of batch.records) {
            const offset = batch.firstOffset + BigInt(r.offsetDelta);
            if (offset < next || offset >= end) continue;
            visit(r.value?.toString('utf8') ?? '');
            count++;
            next = offset + 1n;
          }
        }
        if (next === before) throw new Error(`fetch of ${topic}/${p.partition}@${next} returned nothing before offset ${end}`);
      }
    }
  } finally {
    await consumer.close().catch(cleanupMayFail);
  }
  return count;
}

const group: Check = {
  id: 'expert-streams/cross-region-group',
  title: `consumer group ${ORDERS_GROUP} committed every event of ${ORDERS_TOPIC}; its members (if running) connect from another region than Kafka's`,
  run: (ctx) =>
    guarded(async () => {
      const offsets = await offsetsOf(ctx, ORDERS_TOPIC);
      const events = total(offsets);
      if (events === 0)
        return fail(
          `${ORDERS_TOPIC} holds no events`,
          `publish order events (JSON with an orderId) to ${ORDERS_TOPIC} from region ${kafkaOf(ctx).region ?? 0}`,
        );
      const { Admin } = await kafkaClient();
      const admin = new Admin(options(ctx));
      try {
        const [committed] = await admin.listConsumerGroupOffsets({
          groups: [{ groupId: ORDERS_GROUP, topics: [{ name: ORDERS_TOPIC, partitionIndexes: offsets.map((o) => o.partition) }] }],
        });
        const parts = committed?.topics.find((t) => t.name === ORDERS_TOPIC)?.partitions ?? [];
        const behind = offsets.filter(
          (o) => o.end > o.start && (parts.find((p) => p.partitionIndex === o.partition)?.committedOffset ?? -1n) < o.end,
        );
        if (parts.every((p) => p.committedOffset < 0n))
          return fail(
            `group ${ORDERS_GROUP} has committed nothing on ${ORDERS_TOPIC} (${events} events there)`,
            `consume ${ORDERS_TOPIC} with groupId ${ORDERS_GROUP} in region 1 (bootstrap: region 1's links to the brokers, \`labforge status\`) and commit the offsets`,
          );
        if (behind.length > 0) {
          const lag = behind.map(
            (o) =>
              `${ORDERS_TOPIC}/${o.partition}: committed ${parts.find((p) => p.partitionIndex === o.partition)?.committedOffset ?? 'nothing'} of ${o.end}`,
          );
          return fail(
            `group ${ORDERS_GROUP} is behind: ${lag.join(', ')}`,
            'let the consumer read to the end and commit (or wait: it may still be catching up)',
          );
        }
        const described = (await admin.describeGroups({ groups: [ORDERS_GROUP] })).get(ORDERS_GROUP);
        const members = [...(described?.members.values() ?? [])];
        const kafkaRegion = kafkaOf(ctx).region ?? 0;
        const remote = new Set(
          Array.from({ length: 1 + Math.max(0, ...ctx.components.map((c) => c.region ?? 0)) }, (_, r) => r)
            .filter((r) => r !== kafkaRegion)
            .map((r) => regionAddress(r)),
        );
        const local = members.filter((m) => !remote.has(m.clientHost.replace(/^\//, '')));
        if (local.length > 0)
          return fail(
            `members of ${ORDERS_GROUP} connect from ${[...new Set(local.map((m) => m.clientHost))].join(', ')}, not through another region's links`,
            `bootstrap the consumer from region 1's Kafka links (they connect from ${[...remote].join(', ')})`,
          );
        const where =
          members.length > 0
            ? `; ${members.length} member(s) connected from ${[...new Set(members.map((m) => m.clientHost.replace(/^\//, '')))].join(', ')}`
            : ' (no member running now)';
        return pass(`group ${ORDERS_GROUP} committed all ${events} events of ${ORDERS_TOPIC} over ${offsets.length} partitions${where}`);
      } finally {
        await admin.close().catch(cleanupMayFail);
      }
    }, KAFKA_HINT),
};

const readModel: Check = {
  id: 'expert-streams/read-model',
  title: `read model ${READ_MODEL}: exactly one row per orderId of ${ORDERS_TOPIC}`,
  run: (ctx) =>
    guarded(async () => {
      const create = `CREATE TABLE ${READ_MODEL} (order_id text PRIMARY KEY, ...) on shard 0's primary, filled by your consumer`;
      const rows = await withDb(ctx, async (db) =>
        (await tableExists(db, READ_MODEL))
          ? (await db.query<{ id: string }>(`SELECT order_id::text AS id FROM ${READ_MODEL}`)).rows.map((r) => r.id)
          : undefined,
      );
      if (rows === undefined) return fail(`there is no table ${READ_MODEL} on shard 0's primary`, create);
      const orders = new Set<string>();
      let unusable = 0;
      const events = await readTopic(ctx, ORDERS_TOPIC, (v) => {
        try {
          const id = (JSON.parse(v) as { orderId?: unknown }).orderId;
          if (typeof id === 'string' || typeof id === 'number') orders.add(String(id));
          else unusable++;
        } catch {
          unusable++;
        }
      });
      if (events === 0) return fail(`${ORDERS_TOPIC} holds no events`, `publish order events (JSON with an orderId) to ${ORDERS_TOPIC}`);
      if (unusable > 0)
        return fail(
          `${unusable} of ${events} events on ${ORDERS_TOPIC} are not JSON with an orderId`,
          'publish JSON objects with an orderId (string or number)',
        );
      const have = new Set(rows);
      const missing = [...orders].filter((o) => !have.has(o));
      const extra = rows.filter((r) => !orders.has(r));
      if (missing.length > 0 || extra.length > 0 || rows.length !== have.size) {
        const sample = (xs: string[]) => (xs.length === 0 ? '' : ` (${xs.slice(0, 3).join(', ')}${xs.length > 3 ? ', ...' : ''})`);
        return fail(
          `${READ_MODEL} has ${rows.length} rows for ${orders.size} orders: ${missing.length} missing${sample(missing)}, ${extra.length} not in the stream${sample(extra)}`,
          'upsert one row per orderId from every event (idempotent: a replayed event must not add a row)',
        );
      }
      return pass(`${READ_MODEL}: ${rows.length} rows = the ${orders.size} orders of the ${events} events on ${ORDERS_TOPIC}`);
    }, KAFKA_HINT),
};

const lag: Check = {
  id: 'expert-streams/lag',
  title: `stream-lag.json: read-model lag over at least ${LOAD_EVENTS} events, p50 and p99 consistent with the cross-region delay`,
  run: (ctx) =>
    guarded(async () => {
      const file = readWorkdirJson(ctx, 'stream-lag.json');
      if ('problem' in file)
        return fail(
          file.problem,
          'measure, per event, from when it was produced to when its row was written, and write {"events": n, "p50Ms": ..., "p99Ms": ...}',
        );
      const d = linkDelayMs(ctx);
      const events = measurement(file.value.events);
      const p50 = measurement(file.value.p50Ms);
      const p99 = measurement(file.value.p99Ms);
      const available = total(await offsetsOf(ctx, ORDERS_TOPIC));
      const gaps: string[] = [];
      if (events === undefined || events < LOAD_EVENTS || events > available)
        gaps.push(
          `events is ${JSON.stringify(file.value.events)}; it must be ${LOAD_EVENTS} or more, and at most the ${available} events on ${ORDERS_TOPIC}`,
        );
      // The consumer is in another region: every event crosses a link (d ms) before it is read.
      if (p50 === undefined || p50 < d * 0.9)
        gaps.push(
          `p50Ms is ${JSON.stringify(file.value.p50Ms)}; an event crosses a ${d} ms link to reach a consumer in region 1, so p50 is at least ${Math.floor(d * 0.9)}`,
        );
      if (p99 === undefined || (p50 !== undefined && p99 < p50) || p99 > 60_000)
        gaps.push(`p99Ms is ${JSON.stringify(file.value.p99Ms)}; it must be at least p50 and at most 60000`);
      if (gaps.length > 0)
        return fail(
          gaps.join('\n'),
          `publish at least ${LOAD_EVENTS} events while your consumer (region 1) runs, and record the produced-to-written time of each`,
        );
      return pass(`${events} events: p50 ${p50} ms, p99 ${p99} ms (links add ${d} ms each way)`);
    }, KAFKA_HINT),
};

const drill: Check = {
  id: 'expert-streams/broker-drill',
  title: `a broker was killed and restarted: leadership of ${ORDERS_TOPIC} moved, and all 3 brokers are back with every ISR full`,
  run: (ctx) =>
    guarded(async () => {
      const kafka = kafkaOf(ctx);
      const brokers: { name: string; record?: ProcessRecord }[] = [
        { name: 'broker-1', record: kafka.process },
        ...Object.entries(kafka.helpers ?? {})
          .filter(([n]) => n.startsWith('broker-'))
          .map(([name, record]) => ({ name, record })),
      ];
      const down = brokers.filter((b) => !b.record || !isAlive(b.record));
      if (down.length > 0) return fail(`${down.map((b) => b.name).join(', ')} not running`, '`labforge up <lab>` restarts a killed broker');
      const started = brokers.map((b) => ({ name: b.name, at: Date.parse(b.record!.startedAt) }));
      const first = Math.min(...started.map((s) => s.at));
      // The brokers of a lab start together (within a second); one that started later was restarted.
      const restarted = started.filter((s) => s.at - first > 3000);
      if (restarted.length === 0)
        return fail(
          'no broker was restarted on its own: all of them started together',
          'run `labforge chaos <lab> kill-broker 2`, keep producing and consuming, then `labforge up <lab>`',
        );
      const { Admin } = await kafkaClient();
      const admin = new Admin(options(ctx));
      try {
        const md = await admin.metadata({ topics: [ORDERS_TOPIC], forceUpdate: true });
        const parts = md.topics.get(ORDERS_TOPIC)!.partitions;
        const short = parts
          .map((p, i) => ({ ...p, i }))
          .filter((p) => p.isr.length < p.replicas.length || p.replicas.length < 3 || p.leader < 0);
        if (md.brokers.size < 3 || short.length > 0)
          return fail(
            `the cluster is not whole yet: ${md.brokers.size} live brokers, ISR short on ${short.map((p) => `${ORDERS_TOPIC}/${p.i}`).join(', ') || 'none'}`,
            'a restarted broker catches up in seconds: check again, or `labforge health <lab>`',
          );
        const moved = parts.map((p, i) => ({ i, epoch: p.leaderEpoch })).filter((p) => p.epoch > 0);
        if (moved.length === 0)
          return fail(
            `no partition of ${ORDERS_TOPIC} changed leader (every leader epoch is 0)`,
            `kill a broker that leads a partition of ${ORDERS_TOPIC} (any of the 3 leads one) while the lab runs`,
          );
        return pass(
          `${restarted.map((r) => r.name).join(', ')} restarted ${Math.round((restarted[0]!.at - first) / 1000)} s after the others; leadership moved on ${moved.map((p) => `${ORDERS_TOPIC}/${p.i} (epoch ${p.epoch})`).join(', ')}; 3 brokers, every ISR full`,
        );
      } finally {
        await admin.close().catch(cleanupMayFail);
      }
    }, KAFKA_HINT),
};

export const STREAMS_CHECKS: readonly Check[] = [group, readModel, lag, drill];
