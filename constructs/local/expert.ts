// The expert lab's local topology, in one place: names of every component, which region each
// lives in, and which links (delay proxies) carry traffic between regions. The drivers plan from
// these rules; `chaos` and the tests read them. See constructs/local/README.md, "Expert topology".
//
//   region r      every server of region r listens on 127.0.(r+1).1
//   shard s       primary db-s<s>-r<p> in region p = s mod R, replica db-s<s>-r<q> in q = (s+1) mod R
//   Kafka         `events`, 3 brokers (KRaft, combined) in region 0, the lab's Kafka home region
//   per region    lb-r<r> (HAProxy) over api-r<r>-1..n
//   consumer      consumer-r1: the consumer group of region 1 (the first region that is not Kafka's)
//   links         every cross-region TCP path goes through a delay proxy that listens in the
//                 CLIENT's region: link-r<r>-<target> (to a shard server of another region) and
//                 link-r<r>-events-<n> (to broker n, for regions other than 0)
import { UsageError } from '../model/errors.js';
import { shardPlacement } from '../model/shard.js';
import type { ComponentState } from './home.js';

/** Regions a local expert lab may have: one /24 of loopback each; 3 keeps it within 3 GiB. */
export const LOCAL_REGIONS = { min: 2, max: 3, default: 2 } as const;
export const LATENCY_MS = { min: 0, max: 1000, default: 40 } as const;
/** Region where the Kafka brokers live (like one MSK cluster in the lab's first region). */
export const KAFKA_REGION = 0;
/** Region of the consumer group: the first one that is not Kafka's, so its events cross a link. */
export const CONSUMER_REGION = 1;
/** Topic the API publishes its domain events to (keyed by the user's email). */
export { EVENTS_TOPIC } from '../model/names.js';
/** Heap per broker: 3 brokers at 256 MiB measured ≈ 190-230 MiB RSS each. */
export const BROKER_HEAP_MB = 256;

export function shardServerId(shard: number, region: number): string {
  return `db-s${shard}-r${region}`;
}

export function linkId(region: number, target: string): string {
  return `link-r${region}-${target}`;
}

export function regionListenerName(region: number): string {
  return `REGION${region}`;
}

/** Options of `up expert`, validated: a bad value is a usage error naming it and the range. */
export function parseRegionCount(value: unknown): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < LOCAL_REGIONS.min || n > LOCAL_REGIONS.max) {
    throw new UsageError(
      `--regions must be an integer from ${LOCAL_REGIONS.min} to ${LOCAL_REGIONS.max} for a local lab, got '${String(value)}'`,
    );
  }
  return n;
}

export function parseLatency(value: unknown): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < LATENCY_MS.min || n > LATENCY_MS.max) {
    throw new UsageError(`--latency-ms must be an integer from ${LATENCY_MS.min} to ${LATENCY_MS.max}, got '${String(value)}'`);
  }
  return n;
}

/** Where shard s's servers are at planning time (a failover changes roles, not regions). */
export function shardServers(
  shards: number,
  regions: number,
): { shard: number; region: number; role: 'primary' | 'replica'; primaryRegion: number }[] {
  return shardPlacement(shards, regions).flatMap((p) => [
    { shard: p.shard, region: p.primaryRegion, role: 'primary' as const, primaryRegion: p.primaryRegion },
    { shard: p.shard, region: p.replicaRegion, role: 'replica' as const, primaryRegion: p.primaryRegion },
  ]);
}

/** The current primary of `shard` (after a failover: the promoted one). */
export function primaryOf(all: readonly ComponentState[], shard: number): ComponentState | undefined {
  return all.find((c) => c.kind === 'shard' && c.shard === shard && c.role === 'primary');
}

/** How a client in `region` reaches `target`: directly in its own region, else through its link. */
export function endpointFrom(
  all: readonly ComponentState[],
  region: number,
  target: ComponentState,
): { host: string; port: number; via?: ComponentState } {
  if (target.region === region) return { host: target.host, port: target.port };
  const link = all.find((c) => c.kind === 'proxy' && c.region === region && c.target === target.id && c.targetNode === undefined);
  if (!link) throw new Error(`no link from region ${region} to ${target.id}`);
  return { host: link.host, port: link.port, via: link };
}

/** Every link touching `region`: listening there, or forwarding to a component there. */
export function linksTouching(all: readonly ComponentState[], region: number): ComponentState[] {
  return all.filter((c) => c.kind === 'proxy' && (c.region === region || all.find((t) => t.id === c.target)?.region === region));
}

/** Kafka bootstrap for clients of `region`: the brokers themselves in Kafka's region, else its links. */
export function kafkaBootstrapFrom(all: readonly ComponentState[], kafka: ComponentState, region: number): string[] {
  const nodes = kafkaNodeCount(kafka);
  if (region === kafka.region) return Array.from({ length: nodes }, (_, i) => `${kafka.host}:${kafkaPort(kafka, 'client', i + 1)}`);
  return all
    .filter((c) => c.kind === 'proxy' && c.region === region && c.target === kafka.id)
    .sort((a, b) => (a.targetNode ?? 0) - (b.targetNode ?? 0))
    .map((c) => `${c.host}:${c.port}`);
}

/** Kafka ports by name: node 1's client port is the component's port; the rest are in extraPorts. */
export function kafkaPort(kafka: ComponentState, what: 'client' | 'controller' | `r${number}`, node: number): number {
  if (what === 'client' && node === 1) return kafka.port;
  const port = kafka.extraPorts?.[`${what}-${node}`];
  if (port === undefined) throw new Error(`${kafka.id}: no ${what} port recorded for node ${node}`);
  return port;
}

export function kafkaNodeCount(kafka: ComponentState): number {
  return 1 + Object.keys(kafka.extraPorts ?? {}).filter((k) => /^client-\d+$/.test(k)).length;
}
