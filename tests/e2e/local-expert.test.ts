// The expert lab through the built CLI, on real servers: two loopback regions, two shards with
// cross-region streaming replicas, a 3-broker KRaft cluster, links with 40 ms each way, an API
// pair and HAProxy per region, a consumer group in region 1. One lab for the whole file: up and
// healthy, routing and events across regions, then the failure drill in order (partition + heal,
// kill-broker + up, kill-primary + writes + up), then down and independent proof nothing is left.
import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertStockClients, curlGet, kcatBrokers, psqlSelect } from './stock-clients.js';
import { shardFor } from '../../constructs/model/shard.js';
import { assertPrerequisites, cleanup, cli, json, makeHome, pidAlive, uniqueName } from './helpers.js';
import { reportedElsewhere } from '../../constructs/model/quiet.js';

const { parent, home } = makeHome('expert');
const name = uniqueName('exp');
const labDir = join(home, name);
const timings: Record<string, number> = {};

interface View {
  id: string;
  kind: string;
  host: string;
  port: number;
  url: string;
  pid?: number;
  processes: { name: string; pid: number; alive: boolean }[];
  ports: { name: string; host: string; port: number }[];
}
let components: View[] = [];
let password = '';
const byId = (id: string) => components.find((c) => c.id === id)!;
const lb = (region: number) => `http://${byId(`lb-r${region}`).host}:${byId(`lb-r${region}`).port}`;
const dbUrl = (id: string) => `postgres://learner:${encodeURIComponent(password)}@${byId(id).host}:${byId(id).port}/lab`;

/** Non-zombie processes whose working directory or command line is inside `dir`. */
function processesInside(dir: string): string[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .flatMap((pid) => {
      try {
        const inside = readlinkSync(`/proc/${pid}/cwd`).startsWith(dir) || readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir);
        return inside ? [`${pid} ${readFileSync(`/proc/${pid}/comm`, 'utf8').trim()}`] : [];
      } catch {
        return [];
      }
    });
}

/** host:port pairs listening (state 0A) on the lab's region addresses, from /proc/net/tcp. */
function listeningOnRegions(): string[] {
  const hex = (a: string) =>
    a
      .split('.')
      .reverse()
      .map((o) => Number(o).toString(16).toUpperCase().padStart(2, '0'))
      .join('');
  const regions = new Map([
    ['127.0.1.1', hex('127.0.1.1')],
    ['127.0.2.1', hex('127.0.2.1')],
  ]);
  return readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .slice(1)
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f[3] === '0A')
    .flatMap((f) => {
      const [addr, port] = (f[1] ?? '').split(':');
      const host = [...regions].find(([, h]) => h === addr)?.[0];
      return host ? [`${host}:${parseInt(port!, 16)}`] : [];
    });
}

async function until<T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined> | T | undefined, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const value = await fn();
      if (value !== undefined) return value;
    } catch (error) {
      last = (error as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (last: ${last})` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

async function call(base: string, method: string, path: string, body?: unknown, token?: string) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json', connection: 'close', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

async function sql<T = Record<string, unknown>>(url: string, text: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  client.on('error', reportedElsewhere);
  await client.connect();
  try {
    return (await client.query(text, params)).rows as T[];
  } finally {
    await client.end();
  }
}

/** An email that routes to `shard` (of 2), unique to this run. */
function emailFor(shard: number, tag: string): string {
  for (let i = 0; ; i++) {
    const email = `${tag}-${i}-${name}@example.com`;
    if (shardFor(email, 2) === shard) return email;
  }
}

/** Registers and logs in through `base`; returns the token. */
async function login(base: string, email: string): Promise<string> {
  const credentials = { email, password: 'expert-pass-1' };
  const reg = await call(base, 'POST', '/auth/register', credentials);
  expect([201, 409], JSON.stringify(reg.body)).toContain(reg.status);
  const res = await call(base, 'POST', '/auth/login', credentials);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.token as string;
}

const seen = () => {
  try {
    return readFileSync(join(labDir, 'consumer-r1', 'seen.jsonl'), 'utf8');
  } catch {
    return '';
  }
};

async function health(): Promise<{ code: number; checks: { name: string; ok: boolean; detail: string }[] }> {
  const res = await cli(['health', name, '--json'], { home, timeoutMs: 60_000 });
  return { code: res.code, checks: json(res).checks };
}

describe('local expert lab', () => {
  // Registered before the lab exists: whatever fails, nothing is left running.
  afterAll(async () => {
    await cleanup(parent, home);
    console.log(`expert e2e (ms): ${JSON.stringify(timings)}`);
  });

  beforeAll(async () => {
    assertPrerequisites(false);
    const t = performance.now();
    const up = await cli(['up', 'expert', '--name', name, '--json'], { home, timeoutMs: 90_000 });
    timings.upToHealthy = Math.round(performance.now() - t);
    expect(up.code, up.stderr).toBe(0);
    components = json(up).components;
    const failed = json(up).health.filter((h: { ok: boolean }) => !h.ok);
    expect(failed).toEqual([]);
    const secrets = await cli(['secrets', name, '--json'], { home });
    password = json(secrets).postgres.password;
    const status = json(await cli(['status', name, '--json'], { home }));
    timings.rssMiB = Math.round(status.rssBytes / 1048576);
  }, 120_000);

  it('comes up healthy within 30 s with every check passing, in two regions, within 3 GiB', async () => {
    expect(timings.upToHealthy).toBeLessThanOrEqual(30_000);
    expect(timings.rssMiB).toBeLessThanOrEqual(3 * 1024);
    const kinds = components.reduce<Record<string, number>>((n, c) => ({ ...n, [c.kind]: (n[c.kind] ?? 0) + 1 }), {});
    expect(kinds).toEqual({ shard: 4, kafka: 1, proxy: 7, api: 4, consumer: 1, haproxy: 2 });
    for (const c of components) if (c.port > 0) expect(['127.0.1.1', '127.0.2.1']).toContain(c.host);
    const h = await health();
    expect(h.checks.filter((c) => !c.ok)).toEqual([]);
    expect(h.code).toBe(0);
  });

  it('the Kafka bootstrap, shard URLs and entry points `up` prints work verbatim in kcat -b, psql and curl', async () => {
    assertStockClients('kcat', 'psql', 'curl');
    // `up` of a lab that is up only prints its connection table again.
    const printed = await cli(['up', 'expert', '--name', name], { home, timeoutMs: 60_000 });
    const kafka = components.find((c) => c.kind === 'kafka')!;
    expect(printed.stdout).toMatch(new RegExp(`^\\S+\\s+kafka\\s+.*\\s${kafka.url.replaceAll('.', '\\.')}$`, 'm'));
    expect(kcatBrokers(kafka.url)).toEqual([1, 2, 3]);
    const secretsText = (await cli(['secrets', name], { home })).stdout;
    const shardUrl = /^db-s0-r0 url:\s+(\S+)$/m.exec(secretsText)?.[1];
    expect(shardUrl, secretsText).toBeDefined();
    expect(psqlSelect(shardUrl!)).toBe('learner@lab');
    expect(JSON.parse(curlGet(`${lb(1)}/health`))).toMatchObject({ status: 'ok' });
  });

  it("routes a key of shard 1 written in region 0 to shard 1's primary (region 1); it reaches the replica in region 0", async () => {
    const email = emailFor(1, 'route');
    const token = await login(lb(0), email);
    const where = await call(lb(0), 'GET', `/shards/${encodeURIComponent(email)}`);
    expect(where.body).toMatchObject({ shard: 1, shards: 2 });
    const title = `routed-${Date.now()}`;
    const created = await call(lb(0), 'POST', '/notes', { title }, token);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.headers.get('x-event')).toMatch(/^users\.events\/\d+@\d+$/);
    const q = 'SELECT n.title FROM notes n JOIN users u ON u.id = n.user_id WHERE u.email = $1';
    expect(await sql(dbUrl('db-s1-r1'), q, [email])).toEqual([{ title }]);
    expect(await sql(dbUrl('db-s0-r0'), q, [email])).toEqual([]);
    await until('note on the replica of shard 1 (db-s1-r0)', 5000, async () =>
      (await sql(dbUrl('db-s1-r0'), q, [email])).length === 1 ? true : undefined,
    );
    // Read back through the other region.
    const token1 = await login(lb(1), email);
    const list = await call(lb(1), 'GET', '/notes', undefined, token1);
    expect(list.body.items.map((n: { title: string }) => n.title)).toEqual([title]);
  });

  it('an event published in region 0 is consumed by the consumer group in region 1', async () => {
    const email = emailFor(0, 'event');
    const token = await login(lb(0), email);
    const title = `event-${Date.now()}`;
    const created = await call(lb(0), 'POST', '/notes', { title }, token);
    expect(created.status).toBe(201);
    const line = await until('note.created consumed in region 1', 10_000, () =>
      seen()
        .split('\n')
        .find((l) => l.includes(`"title":"${title}"`)),
    );
    expect(JSON.parse(line)).toMatchObject({
      topic: 'users.events',
      key: email,
      type: 'note.created',
      event: { source: expect.stringMatching(/^api-r0-\d$/) },
    });
  });

  it('partition 1: health exits 1 naming the cut links and the disconnected replica; heal restores it', async () => {
    const cut = await cli(['chaos', name, 'partition', '1'], { home });
    expect(cut.code, cut.stderr).toBe(0);
    expect(cut.stdout).toMatch(/cut 7 links touching region 1/);
    expect(cut.stdout).toMatch(/What to observe now/);
    const h = await health();
    expect(h.code).toBe(1);
    const failed = h.checks.filter((c) => !c.ok);
    expect(
      failed
        .filter((c) => /^link-/.test(c.name))
        .map((c) => c.name)
        .sort(),
    ).toEqual(
      components
        .filter((c) => c.kind === 'proxy')
        .map((c) => `${c.id} (link)`)
        .sort(),
    );
    for (const c of failed.filter((x) => /^link-/.test(x.name))) expect(c.detail).toMatch(/^CUT since/);
    expect(failed.find((c) => c.name.startsWith('db-s0-r1'))?.detail).toMatch(/disconnected/);
    expect(failed.find((c) => c.name.startsWith('consumer-r1'))?.detail).toMatch(/not consumed within/);
    // Region 0 still writes a key of its own shard.
    const token = await login(lb(0), emailFor(0, 'during-cut'));
    expect((await call(lb(0), 'POST', '/notes', { title: 'during the cut' }, token)).status).toBe(201);

    const t = performance.now();
    const healed = await cli(['chaos', name, 'heal'], { home });
    expect(healed.code, healed.stderr).toBe(0);
    expect(healed.stdout).toMatch(/healed 7 links/);
    await until('health passes after heal', 30_000, async () => ((await health()).code === 0 ? true : undefined), 500);
    timings.healToHealthy = Math.round(performance.now() - t);
  }, 90_000);

  it('kill-broker 2: a note written afterwards is published and consumed; up restarts the broker', async () => {
    const killed = await cli(['chaos', name, 'kill-broker', '2'], { home });
    expect(killed.code, killed.stderr).toBe(0);
    const broker2 = byId('events').processes.find((p) => p.name === 'broker-2')!;
    await until('broker 2 gone', 5000, () => (pidAlive(broker2.pid) ? undefined : true));
    // Written in region 1: published through region 1's links, consumed in region 1.
    const email = emailFor(1, 'broker');
    const token = await login(lb(1), email);
    const title = `after-kill-${Date.now()}`;
    const created = await call(lb(1), 'POST', '/notes', { title }, token);
    expect(created.status).toBe(201);
    expect(created.headers.get('x-event')).toMatch(/^users\.events\/\d+@\d+$/);
    // The group's coordinator may have been broker 2: finding a new one takes the consumer up to
    // its session timeout, longer on a loaded machine (a CI run once took more than 15 s).
    // Two CI runs of this session took longer than 30 s (never reproduced by hand: 1-7 s): wait
    // up to 60 s, and on a miss show what the consumer logged, to find where it waits.
    await until('event consumed with broker 2 dead', 60_000, () => (seen().includes(`"title":"${title}"`) ? true : undefined)).catch(
      (error: Error) => {
        const log = (() => {
          try {
            return readFileSync(join(labDir, 'logs', 'consumer-r1.log'), 'utf8')
              .split('\n')
              .slice(-20)
              .join('\n');
          } catch {
            return '(no consumer log)';
          }
        })();
        throw new Error(`${error.message}; consumer-r1 log:\n${log}`);
      },
    );
    const h = await health();
    expect(h.checks.find((c) => c.name === 'events (kafka)')?.detail).toMatch(/broker-2 .*gone/);

    const t = performance.now();
    const up = await cli(['up', 'expert', '--name', name, '--json'], { home, timeoutMs: 90_000 });
    timings.brokerRestart = Math.round(performance.now() - t);
    expect(up.code, up.stderr).toBe(0);
    expect(up.stderr).toMatch(/events \(kafka\)\s+restarted/);
    components = json(up).components;
  }, 150_000);

  it('kill-primary 0: the replica in region 1 is promoted and shard 0 keys are written through both regions; up rebuilds a replica', async () => {
    const old = byId('db-s0-r0');
    const killed = await cli(['chaos', name, 'kill-primary', '0', '--json'], { home });
    expect(killed.code, killed.stderr).toBe(0);
    const report = json(killed);
    expect(report.did.join('\n')).toMatch(/promoted db-s0-r1 in region 1/);
    expect(report.did.filter((l: string) => l.startsWith('repointed api-'))).toHaveLength(4);
    expect(report.observe.join('\n')).toMatch(/has NO replica now/);
    expect(pidAlive(old.pid!)).toBe(false);
    for (const region of [0, 1]) {
      const email = emailFor(0, `failover-r${region}`);
      const token = await login(lb(region), email);
      const title = `after-failover-r${region}`;
      const created = await call(lb(region), 'POST', '/notes', { title }, token);
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const rows = await sql(dbUrl('db-s0-r1'), 'SELECT n.title FROM notes n JOIN users u ON u.id = n.user_id WHERE u.email = $1', [email]);
      expect(rows).toEqual([{ title }]);
    }
    const h = await health();
    expect(h.code).toBe(1);
    expect(h.checks.find((c) => c.name.startsWith('db-s0-r0'))?.name).toBe('db-s0-r0 (shard 0 replica, region 0)');

    const t = performance.now();
    const up = await cli(['up', 'expert', '--name', name, '--json'], { home, timeoutMs: 90_000 });
    timings.replicaRebuild = Math.round(performance.now() - t);
    expect(up.code, up.stderr).toBe(0);
    expect(json(up).health.filter((x: { ok: boolean }) => !x.ok)).toEqual([]);
    components = json(up).components;
  }, 90_000);

  it('down removes everything fast: no process (java included), nothing listening on the region addresses, no directory', async () => {
    const ports = components.flatMap((c) => c.ports.map((p) => `${p.host}:${p.port}`));
    expect(ports.length).toBeGreaterThan(20);
    const t = performance.now();
    const down = await cli(['down', name, '--json'], { home });
    timings.down = Math.round(performance.now() - t);
    expect(down.code, down.stderr).toBe(0);
    const receipt = json(down);
    expect(receipt.leftovers).toEqual([]);
    expect(receipt.seconds).toBeLessThanOrEqual(4);
    timings.downReceipt = Math.round(receipt.seconds * 1000);
    expect(processesInside(labDir)).toEqual([]);
    for (const c of components)
      for (const p of c.processes)
        expect({ id: c.id, process: p.name, alive: pidAlive(p.pid) }).toEqual({ id: c.id, process: p.name, alive: false });
    const listening = listeningOnRegions();
    expect(ports.filter((p) => listening.includes(p))).toEqual([]);
    expect(existsSync(labDir)).toBe(false);
  });
});

describe('local expert lab: bad input', () => {
  const bad = makeHome('expert-bad');
  afterAll(() => cleanup(bad.parent, bad.home));

  it.each([
    [['--regions', '5'], "--regions must be an integer from 2 to 3 for a local lab, got '5'"],
    [['--latency-ms', '-1'], "--latency-ms must be an integer from 0 to 1000, got '-1'"],
    [['--latency-ms', '1001'], "--latency-ms must be an integer from 0 to 1000, got '1001'"],
  ])('up expert %j exits 2 with one line and creates nothing', async (args, message) => {
    const res = await cli(['up', 'expert', ...args], { home: bad.home });
    expect(res.code).toBe(2);
    expect(res.stderr.trim()).toBe(`labforge: ${message}`);
    expect(existsSync(bad.home)).toBe(false);
  });
});
