// Reference solutions of the expert exercises (kept in tests, not shipped to learners): what a
// learner runs against the lab (SQL on the right shard, Kafka produce/consume with a group, an
// https gateway) and the files they write in their working directory. The chaos drills are run by
// the test through the CLI. Everything here reads the lab from `up --json` as a learner would.
import { execFileSync } from 'node:child_process';
import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer, type Server } from 'node:https';
import { join } from 'node:path';
import {
  Consumer,
  MessagesStreamFallbackModes,
  MessagesStreamModes,
  Producer,
  stringDeserializers,
  stringSerializers,
  type Message,
} from '@platformatic/kafka';
import pg from 'pg';
import { shardFor } from '../../../constructs/model/shard.js';
import { cleanupMayFail, reportedElsewhere } from '../../../constructs/model/quiet.js';

interface Endpoint {
  id: string;
  kind: string;
  host: string;
  port: number;
  ports: { name: string; host: string; port: number }[];
}

/** The lab as `up --json` and `secrets --json` describe it; roles from the health check names. */
export interface ExpertLab {
  readonly components: Endpoint[];
  readonly servers: { id: string; shard: number; role: 'primary' | 'replica'; region: number }[];
  readonly password: string;
  readonly jwtSecret: string;
  readonly latencyMs: number;
}

export function expertLab(
  up: { components: Endpoint[]; health: { name: string }[] },
  secrets: { postgres: { password: string }; api: { jwtSecret: string } },
  latencyMs: number,
): ExpertLab {
  const servers = up.health.flatMap((h) => {
    const m = /^(db-s\d+-r\d+) \(shard (\d+) (primary|replica), region (\d+)\)$/.exec(h.name);
    return m ? [{ id: m[1]!, shard: Number(m[2]), role: m[3] as 'primary' | 'replica', region: Number(m[4]) }] : [];
  });
  return { components: up.components, servers, password: secrets.postgres.password, jwtSecret: secrets.api.jwtSecret, latencyMs };
}

const byId = (lab: ExpertLab, id: string) => lab.components.find((c) => c.id === id)!;
const serverOf = (lab: ExpertLab, shard: number, role: 'primary' | 'replica') =>
  lab.servers.find((s) => s.shard === shard && s.role === role)!;
const url = (lab: ExpertLab, e: { host: string; port: number }) =>
  `postgres://learner:${encodeURIComponent(lab.password)}@${e.host}:${e.port}/lab`;
export const shard0Primary = (lab: ExpertLab) => url(lab, byId(lab, serverOf(lab, 0, 'primary').id));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function withClient<T>(connectionString: string, work: (db: pg.Client) => Promise<T>): Promise<T> {
  const db = new pg.Client({ connectionString });
  db.on('error', reportedElsewhere);
  await db.connect();
  try {
    return await work(db);
  } finally {
    await db.end();
  }
}

/** expert-fault-tolerance step 1: exercise-key on its shard's primary, read back on the replica. */
export async function solveRouting(lab: ExpertLab): Promise<void> {
  const shard = shardFor('exercise-key', 2);
  await withClient(url(lab, byId(lab, serverOf(lab, shard, 'primary').id)), async (db) => {
    await db.query('CREATE TABLE exercise_keys (key text PRIMARY KEY, value text NOT NULL)');
    await db.query("INSERT INTO exercise_keys VALUES ('exercise-key', 'routed by md5 mod 2')");
  });
  await withClient(url(lab, byId(lab, serverOf(lab, shard, 'replica').id)), async (db) => {
    for (
      let i = 0;
      (await db.query("SELECT 1 FROM exercise_keys WHERE key = 'exercise-key'").catch(() => ({ rowCount: 0 }))).rowCount === 0;
      i++
    ) {
      if (i > 100) throw new Error('exercise-key did not reach the replica');
      await sleep(50);
    }
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** expert-fault-tolerance step 4: one query through a link, and a write until the replica shows it. */
export async function measureLatency(lab: ExpertLab, workdir: string): Promise<void> {
  const primary = serverOf(lab, 1, 'primary');
  const replica = serverOf(lab, 1, 'replica');
  const link = byId(lab, `link-r${replica.region}-${primary.id}`);
  const rtts = await withClient(url(lab, link), async (db) => {
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      await db.query('SELECT 1');
      times.push(performance.now() - t);
    }
    return times;
  });
  const lags: number[] = [];
  await withClient(url(lab, byId(lab, primary.id)), (p) =>
    withClient(url(lab, byId(lab, replica.id)), async (r) => {
      await p.query('CREATE TABLE lag_probe (n int PRIMARY KEY)');
      for (let n = 0; n < 3; n++) {
        const t = performance.now();
        await p.query('INSERT INTO lag_probe VALUES ($1)', [n]);
        while ((await r.query('SELECT 1 FROM lag_probe WHERE n = $1', [n]).catch(() => ({ rowCount: 0 }))).rowCount === 0) await sleep(2);
        lags.push(performance.now() - t);
      }
      await p.query('DROP TABLE lag_probe');
    }),
  );
  const round = (x: number) => Math.round(x * 10) / 10;
  writeFileSync(
    join(workdir, 'latency.json'),
    JSON.stringify(
      { injectedDelayMs: lab.latencyMs, crossRegionRttMs: round(median(rtts)), replicationLagMs: round(median(lags)) },
      null,
      2,
    ),
  );
}

/** expert-fault-tolerance step 3: with `region` cut off, which replicas go stale and which writes fail. */
export function writePartition(lab: ExpertLab, workdir: string, region: number): void {
  const regions = 1 + Math.max(...lab.servers.map((s) => s.region));
  const primaries = lab.servers.filter((s) => s.role === 'primary');
  // Every replica streams over a link from its region to its primary's: cut when either end is the region.
  const staleReplicas = lab.servers
    .filter((s) => s.role === 'replica')
    .filter((r) => r.region === region || primaries.find((p) => p.shard === r.shard)!.region === region)
    .map((r) => r.id);
  const unwritable: Record<string, number[]> = {};
  for (let c = 0; c < regions; c++)
    unwritable[c] = primaries
      .filter((p) => p.region !== c && (c === region || p.region === region))
      .map((p) => p.shard)
      .sort();
  writeFileSync(
    join(workdir, 'partition.json'),
    JSON.stringify(
      {
        region,
        staleReplicas,
        unwritable,
        why: 'a replica behind a cut link keeps serving reads that go stale (AP); a write needs its primary, unreachable across the cut (CP for writes)',
      },
      null,
      2,
    ),
  );
}

/** expert-security step 3: AES-256-GCM in the app, key v1, then rotated to v2 (v1 kept). */
export async function solvePii(lab: ExpertLab, workdir: string): Promise<void> {
  const keysDir = join(workdir, 'keys');
  mkdirSync(keysDir, { recursive: true });
  const newKey = (id: string) => {
    const key = randomBytes(32);
    writeFileSync(join(keysDir, `${id}.key`), key.toString('hex'), { mode: 0o600 });
    chmodSync(join(keysDir, `${id}.key`), 0o600);
    return key;
  };
  const encrypt = (text: string, key: Buffer) => {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    return Buffer.concat([iv, cipher.update(text, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  };
  const decrypt = (data: Buffer, key: Buffer) => {
    const d = createDecipheriv('aes-256-gcm', key, data.subarray(0, 12));
    d.setAuthTag(data.subarray(data.length - 16));
    return Buffer.concat([d.update(data.subarray(12, data.length - 16)), d.final()]).toString('utf8');
  };
  const v1 = newKey('v1');
  await withClient(shard0Primary(lab), async (db) => {
    await db.query(
      'CREATE TABLE customer_pii (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL, ssn bytea NOT NULL, key_id text NOT NULL)',
    );
    for (const [email, ssn] of [
      ['ada@example.com', '078-05-1120'],
      ['grace@example.com', '219-09-9999'],
      ['edsger@example.com', '457-55-5462'],
    ]) {
      await db.query("INSERT INTO customer_pii (email, ssn, key_id) VALUES ($1, $2, 'v1')", [email, encrypt(ssn!, v1)]);
    }
    // Rotation: a new key, every row re-encrypted in one transaction, the old key kept for backups.
    const v2 = newKey('v2');
    await db.query('BEGIN');
    for (const row of (await db.query<{ id: string; ssn: Buffer }>("SELECT id, ssn FROM customer_pii WHERE key_id = 'v1' FOR UPDATE"))
      .rows) {
      await db.query("UPDATE customer_pii SET ssn = $1, key_id = 'v2' WHERE id = $2", [encrypt(decrypt(row.ssn, v1), v2), row.id]);
    }
    await db.query('COMMIT');
  });
}

/** A self-signed certificate for 127.0.0.1 in tls/ of the workdir (openssl, as a learner would). */
export function makeCertificate(workdir: string): { cert: string; key: string } {
  const dir = join(workdir, 'tls');
  mkdirSync(dir, { recursive: true });
  const [cert, key] = [join(dir, 'gateway.crt'), join(dir, 'gateway.key')];
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  return { cert: readFileSync(cert, 'utf8'), key: readFileSync(key, 'utf8') };
}

function verifyJwt(token: string, secret: string): { sub: string } | undefined {
  const [header, payload, signature] = token.split('.');
  if (!header || !payload || !signature) return undefined;
  try {
    if (JSON.parse(Buffer.from(header, 'base64url').toString()).alg !== 'HS256') return undefined;
    const want = Buffer.from(createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url'));
    if (want.length !== signature.length || !timingSafeEqual(want, Buffer.from(signature))) return undefined;
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { sub?: unknown; exp?: unknown };
    if (typeof claims.exp !== 'number' || claims.exp <= Date.now() / 1000 || typeof claims.sub !== 'string') return undefined;
    return { sub: claims.sub };
  } catch {
    return undefined;
  }
}

/** expert-security steps 1 and 2: https only, JWT verified, 10 requests per second per `sub`, forwarding to lb-r0. */
export async function startGateway(lab: ExpertLab, tls: { cert: string; key: string }, port: number): Promise<Server> {
  const upstream = byId(lab, 'lb-r0');
  const buckets = new Map<string, { tokens: number; at: number }>();
  const allow = (sub: string) => {
    const now = Date.now();
    const b = buckets.get(sub) ?? { tokens: 10, at: now };
    b.tokens = Math.min(10, b.tokens + ((now - b.at) / 1000) * 10);
    b.at = now;
    buckets.set(sub, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  };
  const server = createServer({ ...tls, minVersion: 'TLSv1.2' }, (req, res) => {
    const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
    const claims = token ? verifyJwt(token, lab.jwtSecret) : undefined;
    if (!claims)
      return void res
        .writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer' })
        .end('{"error":"a valid token is required"}');
    if (!allow(claims.sub))
      return void res
        .writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' })
        .end('{"error":"rate limit: 10 requests per second"}');
    const forward = httpRequest(
      {
        host: upstream.host,
        port: upstream.port,
        path: req.url,
        method: req.method,
        headers: { ...req.headers, host: `${upstream.host}:${upstream.port}` },
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    forward.on('error', () => res.writeHead(502).end());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return server;
}

/**
 * expert-streams steps 1 and 2: group orders-read-model in region 1 (through its links) builds
 * order_read_model on shard 0's primary while 1000 events are produced in region 0.
 */
export async function solveStreams(lab: ExpertLab, workdir: string): Promise<void> {
  const events = byId(lab, 'events');
  const region0 = events.ports.filter((p) => p.name === 'port' || /^client-\d+$/.test(p.name)).map((p) => `${p.host}:${p.port}`);
  const region1 = lab.components.filter((c) => /^link-r1-events-\d+$/.test(c.id)).map((c) => `${c.host}:${c.port}`);
  const N = 1000;
  const db = new pg.Client({ connectionString: shard0Primary(lab) });
  await db.connect();
  await db.query(
    'CREATE TABLE order_read_model (order_id text PRIMARY KEY, total_cents integer NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())',
  );
  const consumer = new Consumer({
    clientId: 'orders-read-model-1',
    groupId: 'orders-read-model',
    bootstrapBrokers: region1,
    deserializers: stringDeserializers,
    sessionTimeout: 6000,
    rebalanceTimeout: 6000,
    heartbeatInterval: 500,
    timeout: 5000,
  });
  const producer = new Producer({ clientId: 'orders-api-r0', bootstrapBrokers: region0, serializers: stringSerializers });
  try {
    const stream = await consumer.consume({
      topics: ['orders.events'],
      mode: MessagesStreamModes.COMMITTED,
      fallbackMode: MessagesStreamFallbackModes.EARLIEST,
      autocommit: false,
      maxWaitTime: 100,
    });
    const produced = (async () => {
      for (let batch = 0; batch < N / 100; batch++) {
        const at = Date.now();
        const messages = Array.from({ length: 100 }, (_, i) => {
          const orderId = `o-${batch * 100 + i}`;
          return {
            topic: 'orders.events',
            key: orderId,
            value: JSON.stringify({ type: 'order.placed', orderId, totalCents: 100 + i, at }),
          };
        });
        await producer.send({ acks: -1, messages });
        await sleep(20);
      }
    })();
    const lags: number[] = [];
    const last = new Map<number, Message<string, string, string, string>>();
    for await (const message of stream) {
      const event = JSON.parse(message.value) as { orderId: string; totalCents: number; at: number };
      await db.query(
        'INSERT INTO order_read_model (order_id, total_cents) VALUES ($1, $2) ON CONFLICT (order_id) DO UPDATE SET total_cents = EXCLUDED.total_cents, updated_at = now()',
        [event.orderId, event.totalCents],
      );
      lags.push(Date.now() - event.at);
      last.set(message.partition, message);
      if (lags.length >= N) break;
    }
    await produced;
    // Offsets committed once the rows are written: a crash before this replays (the upsert is idempotent).
    for (const message of last.values()) await message.commit();
    await stream.close();
    const sorted = lags.sort((a, b) => a - b);
    writeFileSync(
      join(workdir, 'stream-lag.json'),
      JSON.stringify(
        { events: lags.length, p50Ms: sorted[Math.floor(lags.length * 0.5)], p99Ms: sorted[Math.floor(lags.length * 0.99)] },
        null,
        2,
      ),
    );
  } finally {
    await producer.close().catch(cleanupMayFail);
    await consumer.close().catch(cleanupMayFail);
    await db.end();
  }
}

/** expert-leadership steps 1 and 2: the ADR and the review checklist. */
export function writeDocs(workdir: string): void {
  mkdirSync(join(workdir, 'docs', 'adr'), { recursive: true });
  writeFileSync(
    join(workdir, 'docs', 'adr', '0001-sharding.md'),
    `# 1. Shard users by email

## Status

Accepted

## Context

One PostgreSQL primary cannot take the write volume, and users of both regions write.

## Decision

Shard by the user's email: shard = first 4 bytes of md5(email) as uint32, mod 2. Each shard's
primary lives in one region and streams to a replica in the other.

## Consequences

A user's data stays on one shard (no cross-shard joins). Resharding: move to 4 shards by
copying each shard to two new ones (logical replication), then switch the rule to mod 4 with a
dual-read window; md5 mod N moves about half the keys, consistent hashing would move fewer.
`,
  );
  writeFileSync(
    join(workdir, 'docs', 'review-checklist.md'),
    `# Review: PR #42 "notes: add tags"

- [x] Tests: unit tests for the tag parser, an e2e test through both regions
- [x] Migrations: additive (ALTER TABLE notes ADD COLUMN tags text[]), run on every shard
- [ ] Observability: no metric for tag queries yet (asked for one)
- [x] Rollback: the column is nullable, the previous release ignores it

Verdict: request changes
`,
  );
}

/** expert-leadership step 3: what a reviewer writes after diffing iac/before and iac/after. */
export function writePlanReview(workdir: string): void {
  const addresses = (dir: string) =>
    new Set(
      readdirSync(join(workdir, dir, 'stacks')).flatMap((stack) => {
        const tf = JSON.parse(readFileSync(join(workdir, dir, 'stacks', stack, 'cdk.tf.json'), 'utf8')) as {
          resource?: Record<string, Record<string, unknown>>;
        };
        return Object.entries(tf.resource ?? {}).flatMap(([type, byName]) => Object.keys(byName).map((name) => `${type}.${name}`));
      }),
    );
  const [before, after] = [addresses('iac/before'), addresses('iac/after')];
  const added = [...after].filter((a) => !before.has(a)).sort();
  const removed = [...before].filter((a) => !after.has(a)).sort();
  writeFileSync(
    join(workdir, 'docs', 'plan-review.md'),
    `# Plan review: a third region (ap-southeast-1)\n\n${added.length} added, ${removed.length} removed.\n\n## Added\n\n${added.map((a) => `- ${a}`).join('\n')}\n\n## Removed\n\n${removed.map((a) => `- ${a}`).join('\n') || '- none'}\n`,
  );
}
