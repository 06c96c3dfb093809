// The advanced checks' tools: the lab's RabbitMQ (the learner on the lab vhost), Redis and
// HAProxy found in ctx.components, tokens signed like the lab API's, rows a check owns, and
// bounded polling for what the worker does asynchronously.
import { createHmac, randomBytes } from 'node:crypto';
import type { ChannelModel, ConfirmChannel } from 'amqplib';
import type pg from 'pg';
import { driverOf } from '../local/drivers/index.js';
import type { ComponentState, ComponentKindLocal } from '../local/home.js';
import type { CheckContext } from './types.js';
import { cleanupMayFail, reportedElsewhere } from '../model/quiet.js';

export const DB_HINT = 'the lab database did not answer: `labforge health <lab>`';
export const MQ_HINT = 'RabbitMQ did not answer as the learner on the lab vhost: `labforge health <lab>`';
export const APP_HINT = 'start your app so it listens on the --app-url (default http://127.0.0.1:8080), then check again';

/** The queues of templates/worker/topology.mjs. */
export const JOBS = 'jobs';
export const RETRY = 'jobs.retry';
export const DEAD = 'jobs.dead';

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A short random marker for names a check creates (and removes). */
export const marker = () => randomBytes(4).toString('hex');

/** The lab's component of that kind, or an error naming what is missing. */
export function component(ctx: CheckContext, kind: ComponentKindLocal): ComponentState {
  const found = ctx.components.find((c) => c.kind === kind);
  if (!found) throw new Error(`lab '${ctx.lab}' has no ${kind} component`);
  return found;
}

/** Runs `work` on a connection to the lab's RabbitMQ as the learner (vhost `lab`), closed after. */
export async function withAmqp<T>(ctx: CheckContext, work: (conn: ChannelModel) => Promise<T>): Promise<T> {
  const amqp = await import('amqplib');
  const mq = component(ctx, 'rabbitmq');
  const conn = await amqp.connect(driverOf(mq).secretUrl!(mq, ctx.secrets), { timeout: 3000 });
  conn.on('error', reportedElsewhere);
  try {
    return await work(conn);
  } finally {
    await conn.close().catch(cleanupMayFail);
  }
}

export interface QueueInfo {
  readonly messages: number;
  readonly consumers: number;
}

/** A passive declare (amqplib checkQueue) on its own channel: a missing queue closes only that channel. */
export async function queueInfo(conn: ChannelModel, queue: string): Promise<QueueInfo | undefined> {
  const channel = await conn.createChannel();
  channel.on('error', reportedElsewhere);
  try {
    const q = await channel.checkQueue(queue);
    return { messages: q.messageCount, consumers: q.consumerCount };
  } catch (error) {
    if (/NOT_FOUND/.test((error as Error).message)) return undefined;
    throw error;
  } finally {
    await channel.close().catch(cleanupMayFail);
  }
}

export async function exchangeExists(conn: ChannelModel, exchange: string): Promise<boolean> {
  const channel = await conn.createChannel();
  channel.on('error', reportedElsewhere);
  try {
    await channel.checkExchange(exchange);
    return true;
  } catch (error) {
    if (/NOT_FOUND/.test((error as Error).message)) return false;
    throw error;
  } finally {
    await channel.close().catch(cleanupMayFail);
  }
}

export interface QueuedMessage {
  readonly messageId?: string;
  readonly headers: Record<string, unknown>;
  /** The body parsed as JSON, or undefined. */
  readonly body: Record<string, unknown> | undefined;
}

/**
 * Reads up to `limit` messages of `queue` without consuming them: each is fetched unacked and
 * returned to the queue when the channel closes. Those for which `take` says true are acked
 * (removed) instead: how a check takes back what it put there.
 */
export async function browse(
  conn: ChannelModel,
  queue: string,
  options: { limit?: number; take?: (m: QueuedMessage) => boolean } = {},
): Promise<QueuedMessage[]> {
  const channel = await conn.createChannel();
  channel.on('error', reportedElsewhere);
  const seen: QueuedMessage[] = [];
  try {
    const { messageCount } = await channel.checkQueue(queue);
    for (let n = 0; n < Math.min(messageCount, options.limit ?? 1000); n++) {
      const message = await channel.get(queue, { noAck: false });
      if (!message) break;
      let body: Record<string, unknown> | undefined;
      try {
        const parsed: unknown = JSON.parse(message.content.toString('utf8'));
        body = parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : undefined;
      } catch {
        body = undefined;
      }
      const view: QueuedMessage = {
        messageId: message.properties.messageId as string | undefined,
        headers: message.properties.headers ?? {},
        body,
      };
      seen.push(view);
      if (options.take?.(view)) channel.ack(message);
    }
    return seen;
  } finally {
    await channel.close().catch(cleanupMayFail); // every message not acked goes back to the queue
  }
}

/** Publishes one persistent JSON message and waits for the broker's confirm; `returned` when it was unroutable (mandatory). */
export async function publish(
  conn: ChannelModel,
  exchange: string,
  routingKey: string,
  body: object,
  options: { messageId: string; headers?: Record<string, unknown> },
): Promise<{ returned: boolean }> {
  const channel: ConfirmChannel = await conn.createConfirmChannel();
  channel.on('error', reportedElsewhere);
  let returned = false;
  channel.on('return', () => (returned = true)); // basic.return comes before the confirm
  try {
    await new Promise<void>((resolve, reject) =>
      channel.publish(
        exchange,
        routingKey,
        Buffer.from(JSON.stringify(body)),
        { persistent: true, mandatory: true, contentType: 'application/json', messageId: options.messageId, headers: options.headers },
        (err) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve()),
      ),
    );
    return { returned };
  } finally {
    await channel.close().catch(cleanupMayFail);
  }
}

/**
 * Polls `attempt` while the worker may still be busy with jobs: it gives up once `jobs` and
 * `jobs.retry` were seen empty twice in a row (or after `timeoutMs`), so a check never fails
 * because it ran while a job was between attempts, and never waits long when nothing is queued.
 */
export async function whileJobsQueued<T>(
  conn: ChannelModel,
  timeoutMs: number,
  attempt: () => Promise<T | undefined>,
): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  let idle = 0;
  for (;;) {
    const value = await attempt();
    if (value !== undefined || Date.now() >= deadline) return value;
    const queued = ((await queueInfo(conn, JOBS))?.messages ?? 0) + ((await queueInfo(conn, RETRY))?.messages ?? 0);
    idle = queued === 0 ? idle + 1 : 0;
    if (idle >= 2) return undefined;
    await sleep(200);
  }
}

/** Redis's count of reads that found their key (INFO stats keyspace_hits). */
export async function keyspaceHits(redis: import('ioredis').Redis): Promise<number> {
  return Number(/keyspace_hits:(\d+)/.exec(await redis.info('stats'))?.[1] ?? 0);
}

/** A token like the lab API's login gives (HS256 over the lab's JWT secret, 10 minutes); another `secret` forges one. */
export function labToken(
  ctx: CheckContext,
  user: { id: string; email: string; role: string },
  secret = ctx.secrets.api?.jwtSecret,
): string {
  if (!secret) throw new Error(`lab '${ctx.lab}' has no API JWT secret`);
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const iat = Math.floor(Date.now() / 1000);
  const head = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode({ sub: user.id, email: user.email, role: user.role, iat, exp: iat + 600 })}`;
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
}

export interface CheckUser {
  readonly id: string;
  readonly email: string;
  readonly role: string;
}

/** A users row the check owns (email @check.invalid, no usable password); remove with dropUsers. */
export async function makeUser(db: pg.Client, role = 'user'): Promise<CheckUser> {
  const email = `labforge-check-${marker()}@check.invalid`;
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO users (email, password_hash, role) VALUES ($1, 'labforge check: no password', $2) RETURNING id::text`,
    [email, role],
  );
  return { id: rows[0]!.id, email, role };
}

/** Removes the check's users (their notes go with them) and the emails_sent rows of their jobs. */
export async function dropUsers(db: pg.Client, users: readonly CheckUser[], jobIds: readonly string[] = []): Promise<void> {
  if (jobIds.length > 0) await db.query('DELETE FROM emails_sent WHERE job_id = ANY($1)', [jobIds]);
  if (users.length > 0) await db.query('DELETE FROM users WHERE id = ANY($1::bigint[])', [users.map((u) => u.id)]);
}

/** True when `error` is PostgreSQL's undefined_table. */
export const noTable = (error: unknown) => (error as { code?: string }).code === '42P01';
