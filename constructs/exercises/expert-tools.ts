// What the expert checks share: the lab's topology from its state (shards, primaries, replicas,
// load balancers, links, Kafka), SQL on one shard server, the learner's files in --workdir, and
// bounded polling. Every address and credential comes from the CheckContext.
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import pg from 'pg';
import { driverOf } from '../local/drivers/index.js';
import { kafkaBootstrapFrom, primaryOf } from '../local/expert.js';
import type { ComponentState } from '../local/home.js';
import { shardFor } from '../model/shard.js';
import type { CheckContext } from './types.js';
import { httpUrl } from '../model/urls.js';
import { cleanupMayFail, reportedElsewhere } from '../model/quiet.js';

export const DB_HINT = 'a shard server did not answer: `labforge health <lab>` (and `labforge up <lab>` restarts what is down)';

/** Shard numbers of the lab, in order. */
export function shardNumbers(ctx: CheckContext): number[] {
  return [...new Set(ctx.components.filter((c) => c.kind === 'shard').map((c) => c.shard!))].sort((a, b) => a - b);
}

/** The shard's current primary (after a failover: the promoted server). */
export function currentPrimary(ctx: CheckContext, shard: number): ComponentState {
  const p = primaryOf(ctx.components, shard);
  if (!p) throw new Error(`shard ${shard} has no primary in the lab state`);
  return p;
}

/** Replicas that stream from the shard's current primary now (not one waiting for `up` to rebuild it). */
export function liveReplicas(ctx: CheckContext, shard: number): ComponentState[] {
  const primary = currentPrimary(ctx, shard);
  return ctx.components.filter((c) => c.kind === 'shard' && c.role === 'replica' && c.replicaOf === primary.id && !c.rebuild);
}

/** The shard of `key` under the lab's routing rule (md5 mod the shard count). */
export function shardOfKey(ctx: CheckContext, key: string): number {
  return shardFor(key, shardNumbers(ctx).length);
}

/** Regions of the lab (0 .. n-1). */
export function regionCount(ctx: CheckContext): number {
  return 1 + Math.max(0, ...ctx.components.map((c) => c.region ?? 0));
}

/** The one-way delay every link adds (the lab's `--latency-ms`). */
export function linkDelayMs(ctx: CheckContext): number {
  return Math.max(0, ...ctx.components.filter((c) => c.kind === 'proxy').map((c) => c.delayMs ?? 0));
}

/** `http://host:port` of region `region`'s load balancer. */
export function balancerUrl(ctx: CheckContext, region: number): string {
  const lb = ctx.components.find((c) => c.kind === 'haproxy' && c.region === region);
  if (!lb) throw new Error(`region ${region} has no load balancer in the lab state`);
  return httpUrl({ host: lb.host, port: lb.port });
}

export function kafkaOf(ctx: CheckContext): ComponentState {
  const kafka = ctx.components.find((c) => c.kind === 'kafka');
  if (!kafka) throw new Error('the lab has no Kafka cluster');
  return kafka;
}

/** The brokers' own addresses (the Kafka region: no link in between). */
export function kafkaBootstrap(ctx: CheckContext): string[] {
  const kafka = kafkaOf(ctx);
  return kafkaBootstrapFrom(ctx.components, kafka, kafka.region ?? 0);
}

/** `db-s1-r0 (127.0.1.1:5433)`: how details name a shard server. */
export const where = (c: ComponentState) => `${c.id} (${c.role}, region ${c.region}, ${c.host}:${c.port})`;

/** Runs `work` with a client of one shard server, as the learner role. */
export async function withServer<T>(ctx: CheckContext, server: ComponentState, work: (db: pg.Client) => Promise<T>): Promise<T> {
  const db = new pg.Client({
    connectionString: driverOf(server).secretUrl!(server, ctx.secrets),
    connectionTimeoutMillis: 3000,
    statement_timeout: 5000,
  });
  db.on('error', reportedElsewhere);
  await db.connect();
  try {
    return await work(db);
  } finally {
    await db.end().catch(cleanupMayFail);
  }
}

/** True when `public.<table>` exists on the server the client is connected to. */
export async function tableExists(db: pg.Client, table: string): Promise<boolean> {
  return (await db.query<{ e: boolean }>('SELECT to_regclass($1) IS NOT NULL AS e', [`public.${table}`])).rows[0]!.e;
}

/** A path inside the learner's working directory. */
export function inWorkdir(ctx: CheckContext, ...parts: string[]): string {
  return isAbsolute(ctx.workdir) ? join(ctx.workdir, ...parts) : join(process.cwd(), ctx.workdir, ...parts);
}

/** The text of a workdir file, or undefined when it is not there. */
export function readWorkdir(ctx: CheckContext, rel: string): string | undefined {
  try {
    return readFileSync(inWorkdir(ctx, rel), 'utf8');
  } catch {
    return undefined;
  }
}

/** A workdir JSON file: its value, or why it is not usable (missing, not JSON, not an object). */
export function readWorkdirJson(ctx: CheckContext, rel: string): { value: Record<string, unknown> } | { problem: string } {
  const text = readWorkdir(ctx, rel);
  if (text === undefined) return { problem: `there is no ${rel} in ${inWorkdir(ctx)}` };
  try {
    const value: unknown = JSON.parse(text);
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return { problem: `${rel} is not a JSON object` };
    return { value: value as Record<string, unknown> };
  } catch (error) {
    return { problem: `${rel} is not JSON: ${(error as Error).message}` };
  }
}

/** A finite number >= 0, or undefined. */
export function measurement(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

/** Sorted, comma-separated: for comparing and printing sets. */
export const listOf = (values: Iterable<string | number>) => [...values].map(String).sort().join(', ') || 'none';
