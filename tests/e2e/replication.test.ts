// The Expert lab's data tier against real servers: two loopback "regions" (127.0.1.1, 127.0.2.1),
// two shard primaries (shard s in region s), each streaming to a replica in the other region
// through a 40 ms delay proxy. Built with the local runtime's functions, in a throwaway dir.
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { measureLag, probePrimary, probeReplica, type ReplicaEndpoints } from '../../health/replication.js';
import type { PostgresEndpoint } from '../../health/postgres.js';
import { requireBinary } from '../../constructs/local/binaries.js';
import * as link from '../../constructs/local/delay-proxy.js';
import { generatePassword, type ComponentState } from '../../constructs/local/home.js';
import { resolveRunAs } from '../../constructs/local/identity.js';
import { canBind, isListening } from '../../constructs/local/ports.js';
import { initCluster, seed, startServer, waitReady } from '../../constructs/local/postgres.js';
import { isAlive, ownedProcesses, stopProcess, type ProcessRecord } from '../../constructs/local/proc.js';
import {
  configureReplicationPrimary,
  createReplica,
  createSlot,
  ensureReplicator,
  promoteReplica,
} from '../../constructs/local/replica.js';
import { makeOwnedDir } from '../../constructs/local/spawn.js';
import { regionAddress, regionRange, shardFor, shardPlacement } from '../../constructs/model/shard.js';
import { reportedElsewhere } from '../../constructs/model/quiet.js';

const SHARDS = 2;
const REGIONS = 2;
const DELAY_MS = 40;
const runAs = resolveRunAs();
const root = mkdtempSync(join(tmpdir(), 'lf-e2e-expert-'));
chmodSync(root, 0o755); // the servers run as the `labforge` user when the test runs as root
const logs = join(root, 'logs');
const secrets = { learner: generatePassword(), replicator: generatePassword() };
const timings: Record<string, number> = {};

interface Shard {
  readonly shard: number;
  readonly slot: string;
  primary: ComponentState;
  replica: ComponentState;
  link: link.DelayProxyProps;
  primaryRec?: ProcessRecord;
  replicaRec?: ProcessRecord;
  linkRec?: ProcessRecord;
}
const shards: Shard[] = [];
const records = (): ProcessRecord[] =>
  shards.flatMap((s) => [s.primaryRec, s.replicaRec, s.linkRec]).filter((r): r is ProcessRecord => !!r);

async function stopAll(): Promise<number[]> {
  const left: number[] = [];
  for (const s of shards) if (s.linkRec) left.push(...(await link.stopDelayProxy(s.linkRec)));
  for (const r of shards.flatMap((s) => [s.replicaRec, s.primaryRec])) if (r) left.push(...(await stopProcess(r, 'SIGQUIT', 1500)));
  return left;
}

const endpoint = (c: ComponentState): PostgresEndpoint => ({
  host: c.host,
  port: c.port,
  database: 'lab',
  user: 'learner',
  password: secrets.learner,
});
const pair = (s: Shard): ReplicaEndpoints => ({
  primary: endpoint(s.primary),
  replica: endpoint(s.replica),
  slot: s.slot,
  maxLagSeconds: 2,
});

async function sql<T = Record<string, unknown>>(c: ComponentState, text: string, params: unknown[] = []): Promise<T[]> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ ...endpoint(c), connectionTimeoutMillis: 3000 });
  client.on('error', reportedElsewhere);
  await client.connect();
  try {
    return (await client.query(text, params)).rows as T[];
  } finally {
    await client.end();
  }
}

async function until<T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined>, everyMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = 'condition not met';
  for (;;) {
    const value = await fn().catch((error: Error) => void (last = error.message));
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms, last: ${last} (logs: ${logs})`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

const countOn = async (c: ComponentState, shard: number) =>
  Number((await sql<{ n: string }>(c, 'SELECT count(*) AS n FROM items WHERE shard = $1', [shard]))[0]!.n);

async function buildShard(s: Shard): Promise<void> {
  const t0 = performance.now();
  await initCluster(s.primary, runAs);
  configureReplicationPrimary(s.primary, [regionRange(shardPlacement(SHARDS, REGIONS)[s.shard]!.replicaRegion)]);
  s.primaryRec = startServer(s.primary, runAs);
  await waitReady(s.primary, s.primaryRec);
  await seed(s.primary, runAs, secrets.learner);
  await ensureReplicator(s.primary, runAs, secrets.replicator);
  await createSlot(s.primary, runAs, s.slot);
  await sql(s.primary, 'CREATE TABLE items (key text PRIMARY KEY, shard int NOT NULL, at timestamptz NOT NULL DEFAULT now())');
  s.linkRec = link.startDelayProxy(s.link, runAs);
  await link.waitDelayProxyReady(s.link, s.linkRec);
  const t1 = performance.now();
  s.replicaRec = await createReplica(
    {
      replica: s.replica,
      primary: s.primary,
      via: { host: s.link.listenHost, port: s.link.listenPort },
      slot: s.slot,
      password: secrets.replicator,
    },
    runAs,
  );
  timings[`shard${s.shard}: primary ready`] = Math.round(t1 - t0);
  timings[`shard${s.shard}: replica streaming via ${DELAY_MS} ms link`] = Math.round(performance.now() - t1);
}

afterAll(async () => {
  // Registered before anything starts: a failing test never leaves servers behind.
  await stopAll();
  rmSync(root, { recursive: true, force: true });
  console.log('replication timings (ms):', timings);
});

beforeAll(async () => {
  for (const tool of ['initdb', 'postgres', 'pg_basebackup']) {
    try {
      requireBinary(tool);
    } catch (error) {
      throw new Error(`${(error as Error).message}; ${(error as { hint?: string }).hint ?? ''}`, { cause: error });
    }
  }
  makeOwnedDir(logs, runAs, 0o755);
  for (const p of shardPlacement(SHARDS, REGIONS)) {
    const primaryHost = regionAddress(p.primaryRegion);
    const replicaHost = regionAddress(p.replicaRegion);
    const component = async (role: string, host: string): Promise<ComponentState> => ({
      id: `shard${p.shard}-${role}`,
      kind: 'postgres',
      host,
      port: await link.pickFreePortOn(host),
      dataDir: join(root, `shard${p.shard}-${role}`, 'data'),
      logFile: join(logs, `shard${p.shard}-${role}.log`),
      database: 'lab',
      user: 'learner',
    });
    const primary = await component('primary', primaryHost);
    makeOwnedDir(join(root, primary.id), runAs);
    const replica = await component('replica', replicaHost);
    shards.push({
      shard: p.shard,
      slot: `shard${p.shard}_replica`,
      primary,
      replica,
      link: {
        id: `link-shard${p.shard}`,
        dir: join(root, `link-shard${p.shard}`),
        logFile: join(logs, `link-shard${p.shard}.log`),
        listenHost: replicaHost,
        listenPort: await link.pickFreePortOn(replicaHost),
        targetHost: primaryHost,
        targetPort: primary.port,
        delayMs: DELAY_MS,
      },
    });
  }
  await Promise.all(shards.map(buildShard));
}, 90_000);

describe('expert data tier: sharded PostgreSQL with cross-region streaming replicas', () => {
  it('places shard s in region s with its replica in the other region', () => {
    expect(shards.map((s) => [s.primary.host, s.replica.host, s.link.listenHost])).toEqual([
      ['127.0.1.1', '127.0.2.1', '127.0.2.1'],
      ['127.0.2.1', '127.0.1.1', '127.0.1.1'],
    ]);
  });

  it('routes rows by shardFor to their primaries; they reach the matching replica only', async () => {
    const keys = Array.from({ length: 200 }, (_, i) => `user-${i}`);
    // The rule in SQL (as printed in the lab guide) agrees with shardFor.
    const inSql = await sql<{ s: string }>(shards[0]!.primary, "SELECT (('x' || substr(md5($1), 1, 8))::bit(32)::bigint % 2)::text AS s", [
      'user-42',
    ]);
    expect(Number(inSql[0]!.s)).toBe(shardFor('user-42', SHARDS));
    for (const s of shards) {
      const mine = keys.filter((k) => shardFor(k, SHARDS) === s.shard);
      await sql(s.primary, 'INSERT INTO items (key, shard) SELECT k, $2 FROM unnest($1::text[]) AS k', [mine, s.shard]);
    }
    for (const s of shards) {
      const expected = keys.filter((k) => shardFor(k, SHARDS) === s.shard).length;
      expect(expected).toBeGreaterThan(60);
      await until(`${s.replica.id} has shard ${s.shard}'s ${expected} rows`, 10_000, async () =>
        (await countOn(s.replica, s.shard)) === expected ? true : undefined,
      );
      const total = await sql<{ n: string }>(s.replica, 'SELECT count(*) AS n FROM items');
      expect(Number(total[0]!.n)).toBe(expected); // nothing of the other shard
    }
  });

  it(`feels the ${DELAY_MS} ms link: a committed row shows up on the replica no sooner`, async () => {
    const s = shards[0]!;
    const samples: number[] = [];
    for (let i = 0; i < 3; i++) {
      const key = `probe-${i}-${Date.now()}`;
      await sql(s.primary, 'INSERT INTO items (key, shard) VALUES ($1, 0)', [key]);
      const committed = performance.now();
      await until(
        'row on replica',
        5000,
        async () => ((await sql(s.replica, 'SELECT 1 FROM items WHERE key = $1', [key])).length ? true : undefined),
        2,
      );
      samples.push(performance.now() - committed);
    }
    timings['replication delay samples'] = Math.round(Math.min(...samples));
    // The client's own query round trip adds a few ms; the link alone adds DELAY_MS.
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(DELAY_MS * 0.9);
    expect(Math.max(...samples)).toBeLessThan(1000);
  });

  it('probes pass: primaries answer, replicas in recovery and caught up', async () => {
    for (const s of shards) {
      const primary = await probePrimary(`${s.primary.id}`, endpoint(s.primary), { attempts: 3 });
      expect(primary, primary.detail).toMatchObject({ ok: true });
      const replica = await probeReplica(`${s.replica.id}`, pair(s), { attempts: 20, initialDelayMs: 50 });
      expect(replica, replica.detail).toMatchObject({ ok: true });
      expect(replica.detail).toMatch(/lag \d+ B/);
    }
  });

  it('a partitioned link shows the replica disconnected and behind; healed, it catches up', async () => {
    const s = shards[0]!;
    await link.partitionDelayProxy(s.link, s.linkRec!);
    expect(link.readDelayProxyState(s.link)?.state).toBe('partitioned');
    await until('slot inactive after partition', 5000, async () => ((await measureLag(pair(s))).attached === false ? true : undefined));
    await sql(s.primary, "INSERT INTO items (key, shard) SELECT 'cut-' || g, 0 FROM generate_series(1, 500) g");
    const lag = await measureLag(pair(s));
    expect(lag.bytes).toBeGreaterThan(0);
    const probe = await probeReplica(s.replica.id, pair(s), { attempts: 1 });
    expect(probe.ok).toBe(false);
    expect(probe.detail).toMatch(/disconnected/);
    expect(await countOn(s.replica, 0)).toBeLessThan(await countOn(s.primary, 0));

    const healedAt = performance.now();
    await link.healDelayProxy(s.link, s.linkRec!);
    const expected = await countOn(s.primary, 0);
    await until('replica 0 caught up after heal', 15_000, async () => ((await countOn(s.replica, 0)) === expected ? true : undefined));
    timings['catch-up after heal'] = Math.round(performance.now() - healedAt);
    const after = await probeReplica(s.replica.id, pair(s), { attempts: 20, initialDelayMs: 50 });
    expect(after, after.detail).toMatchObject({ ok: true });
  });

  it('kill -9 of primary 0, then promoting replica 0: it takes writes and keeps shard 0', async () => {
    const s = shards[0]!;
    const rows = await countOn(s.primary, 0);
    await until('replica 0 in sync before the kill', 5000, async () => ((await countOn(s.replica, 0)) === rows ? true : undefined));
    expect(isAlive(s.primaryRec!)).toBe(true);
    process.kill(s.primaryRec!.pid, 'SIGKILL');
    await until('primary 0 gone', 5000, async () => (isAlive(s.primaryRec!) ? undefined : true));
    timings['promote'] = await promoteReplica(s.replica, runAs);
    const probe = await probePrimary('promoted shard0', endpoint(s.replica), { attempts: 3 });
    expect(probe, probe.detail).toMatchObject({ ok: true });
    await sql(s.replica, "INSERT INTO items (key, shard) VALUES ('after-failover', 0)");
    expect(await countOn(s.replica, 0)).toBe(rows + 1);
  });

  it('stops everything: no process, no listener on any used address, the directory removable', async () => {
    const used = shards.flatMap((s): [string, number][] => [
      [s.primary.host, s.primary.port],
      [s.replica.host, s.replica.port],
      [s.link.listenHost, s.link.listenPort],
    ]);
    const recs = records();
    for (const r of recs) expect(r.command.join(' ')).not.toContain(secrets.replicator);
    expect(await stopAll()).toEqual([]);
    for (const file of readdirSync(logs)) {
      const text = readFileSync(join(logs, file), 'utf8');
      expect({ file, leaks: text.includes(secrets.replicator) || text.includes(secrets.learner) }).toEqual({ file, leaks: false });
    }
    for (const r of recs) expect({ pid: r.pid, left: ownedProcesses(r) }).toEqual({ pid: r.pid, left: [] });
    const inRoot = readdirSync('/proc')
      .filter((e) => /^\d+$/.test(e))
      .filter((pid) => {
        try {
          return readlinkSync(`/proc/${pid}/cwd`).startsWith(root);
        } catch {
          return false;
        }
      });
    expect(inRoot).toEqual([]);
    for (const [host, port] of used) {
      expect({ host, port, listening: await isListening(port, host) }).toEqual({ host, port, listening: false });
      expect({ host, port, bindable: await canBind(port, host) }).toEqual({ host, port, bindable: true });
    }
    rmSync(root, { recursive: true, force: true });
    expect(existsSync(root)).toBe(false);
  });
});
