// The checks' tools: one SQL query on the lab database, one HTTP request to the learner's app,
// each bounded in time, and their failures turned into a CheckResult rather than a crash.
import type { Redis } from 'ioredis';
import pg from 'pg';
import { driverOf } from '../local/drivers/index.js';
import { fail, type CheckContext, type CheckResult } from './types.js';
import { reportedElsewhere } from '../model/quiet.js';

/** Runs `work` with a connected client of the lab database (the learner role). */
export async function withDb<T>(ctx: CheckContext, work: (db: pg.Client) => Promise<T>): Promise<T> {
  const db = new pg.Client({ connectionString: ctx.postgresUrl, connectionTimeoutMillis: 3000, statement_timeout: 5000 });
  await db.connect();
  try {
    return await work(db);
  } finally {
    await db.end();
  }
}

export interface HttpReply {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  readonly json: unknown;
}

/** One request to the learner's app; `path` is relative to `--app-url`. */
export async function request(
  ctx: CheckContext,
  method: string,
  path: string,
  init: { body?: string; headers?: Record<string, string> } = {},
): Promise<HttpReply> {
  const response = await fetch(new URL(path, ctx.appUrl), {
    method,
    body: init.body,
    headers: init.headers,
    redirect: 'manual',
    signal: AbortSignal.timeout(3000),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** A check whose tool failed (the app is not running, the database refused): a fail with that reason. */
export async function guarded(run: () => Promise<CheckResult>, hint: string): Promise<CheckResult> {
  try {
    return await run();
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    const message = cause === 'ECONNREFUSED' ? 'nothing answers there (connection refused)' : (error as Error).message;
    return fail(message, hint);
  }
}

/** Runs `work` with a client of the lab's Redis (its password from the lab's secrets), closed after. */
export async function withRedis<T>(ctx: CheckContext, work: (redis: Redis) => Promise<T>): Promise<T> {
  const cache = ctx.components.find((c) => c.kind === 'redis');
  const url = cache && driverOf(cache).secretUrl?.(cache, ctx.secrets);
  if (!cache || !url) throw new Error(`lab '${ctx.lab}' has no Redis`);
  const { Redis } = await import('ioredis');
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 3000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  redis.on('error', reportedElsewhere);
  try {
    await redis.connect();
    return await work(redis);
  } finally {
    redis.disconnect();
  }
}

/** Calls `attempt` every `everyMs` until it returns a value or `timeoutMs` has passed (then undefined). */
export async function poll<T>(timeoutMs: number, attempt: () => Promise<T | undefined>, everyMs = 100): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await attempt();
    if (value !== undefined || Date.now() >= deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
