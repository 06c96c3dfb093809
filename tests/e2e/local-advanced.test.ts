// Advanced lab, local target, through the built CLI against real servers: PostgreSQL, Redis,
// RabbitMQ (own epmd), three API instances behind HAProxy, the queue worker. One lab for the
// whole file: up -> every check -> the learner's path through the load balancer -> broker
// security and the dead-letter path -> kill -9 of an instance (failover, health names it, a
// taken port is refused, up heals) -> down with proof -> Ctrl-C while RabbitMQ boots.
import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findBinary } from '../../constructs/local/binaries.js';
import { getInstance } from '../../health/balancer.js';
import { amqpDeclare, assertStockClients, curlGet, psqlSelect, redisCliPing } from './stock-clients.js';
import {
  assertPrerequisites,
  cleanup,
  cli,
  json,
  makeHome,
  occupy,
  pidAlive,
  portAccepts,
  portBindable,
  startCli,
  uniqueName,
} from './helpers.js';
import { reportedElsewhere } from '../../constructs/model/quiet.js';

const { parent, home } = makeHome('advanced');
const name = uniqueName('adv');
const labDir = join(home, name);
const API_IDS = ['api-1', 'api-2', 'api-3'];

interface View {
  id: string;
  kind: string;
  host: string;
  port: number;
  url: string;
  pid?: number;
  state: string;
  processes: { name: string; pid: number; alive: boolean }[];
  ports: { name: string; host: string; port: number }[];
}

/** Processes whose working directory or command line is inside `dir`: independent of any state file. */
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

async function until<T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
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
  const client = new pg.Client({ connectionString: url });
  client.on('error', reportedElsewhere);
  await client.connect();
  try {
    return (await client.query(text, params)).rows as T[];
  } finally {
    await client.end();
  }
}

/** Every host:port of every component is closed and bindable. */
async function assertPortsFree(components: readonly View[]): Promise<void> {
  for (const c of components) {
    for (const p of c.ports) {
      const seen = { component: c.id, port: p.name, accepts: await portAccepts(p.port), bindable: await portBindable(p.port) };
      expect(seen).toEqual({ component: c.id, port: p.name, accepts: false, bindable: true });
    }
  }
}

describe('local advanced lab', () => {
  // Teardown first (terratest style): whatever fails below, every lab of this home goes away.
  afterAll(() => cleanup(parent, home));
  beforeAll(() => {
    assertPrerequisites(true);
    for (const bin of ['rabbitmq-server', 'epmd', 'haproxy']) {
      if (!findBinary(bin)) throw new Error(`${bin} not found; install with: apt-get install -y rabbitmq-server haproxy`);
    }
  });

  let components: View[] = [];
  let lb = '';
  let secrets: any;
  const timings: Record<string, number> = {};
  const byId = (id: string) => components.find((c) => c.id === id)!;

  it('up starts every server, each as soon as what it uses is ready, and every health check passes', async () => {
    const t = performance.now();
    const result = await cli(['up', 'advanced', '--name', name, '--json'], { home, timeoutMs: 60_000 });
    timings.up = Math.round(performance.now() - t);
    expect(result.code, result.stderr).toBe(0);
    const up = json(result);
    expect(up.health.map((h: { name: string; ok: boolean }) => [h.name, h.ok])).toEqual([
      ['db (postgres)', true],
      ['cache (redis)', true],
      ['mq (rabbitmq)', true],
      ['api-1 (api)', true],
      ['api-2 (api)', true],
      ['api-3 (api)', true],
      ['worker (worker)', true],
      ['lb (haproxy)', true],
    ]);
    const detail = (n: string) => up.health.find((h: { name: string }) => h.name === n).detail as string;
    expect(detail('mq (rabbitmq)')).toMatch(/publish \+ consume .* as learner .*\/lab$/);
    expect(detail('lb (haproxy)')).toMatch(/all 3 backends answered/);
    expect(detail('worker (worker)')).toMatch(/^job [0-9a-f-]{36} done by the worker/);
    components = up.components;
    lb = up.entryPoint;
    expect(lb).toBe(byId('lb').url);
    // Every server has its own port; RabbitMQ adds its distribution and epmd ports.
    const ports = components.flatMap((c) => c.ports.map((p) => p.port));
    expect(new Set(ports).size).toBe(ports.length);
    expect(byId('mq').ports.map((p) => p.name)).toEqual(['port', 'dist', 'epmd']);
    expect(up.seconds).toBeLessThanOrEqual(20);
    secrets = json(await cli(['secrets', name, '--json'], { home }));
    expect(result.stdout).not.toContain(secrets.rabbitmq.password);
    expect(result.stdout).not.toContain(secrets.postgres.password);
  });

  it('health passes; status lists every component and process (epmd too) with a live pid', async () => {
    const health = await cli(['health', name], { home });
    expect(health.code, health.stderr).toBe(0);
    const status = json(await cli(['status', name, '--json'], { home }));
    expect(status.components.map((c: View) => c.id)).toEqual(['db', 'cache', 'mq', ...API_IDS, 'worker', 'lb']);
    for (const c of status.components as View[]) {
      expect({ id: c.id, state: c.state, alive: pidAlive(c.pid!) }).toEqual({ id: c.id, state: 'running', alive: true });
      for (const p of c.processes)
        expect({ id: c.id, process: p.name, alive: pidAlive(p.pid) }).toEqual({ id: c.id, process: p.name, alive: true });
    }
    expect(status.components.find((c: View) => c.id === 'mq').processes.map((p: { name: string }) => p.name)).toEqual(['server', 'epmd']);
    const text = await cli(['status', name], { home });
    expect(text.stdout).toMatch(/mq\s+rabbitmq\s+epmd\s+\d+\s+127\.0\.0\.1:\d+\s+running/);
  });

  it('every URL that `secrets` and `up` print works verbatim in the stock client (psql, redis-cli -u, amqp-tools, curl)', async () => {
    assertStockClients('psql', 'redis-cli', 'amqp-declare-queue', 'curl');
    const printed = await cli(['secrets', name], { home });
    // `<component> url:  <URL>` lines, exactly as a learner copies them.
    const urls = Object.fromEntries([...printed.stdout.matchAll(/^(\S+) url:\s+(\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
    expect(Object.keys(urls).sort()).toEqual(['cache', 'db', 'mq']);
    expect(psqlSelect(urls.db!)).toBe('learner@lab');
    expect(redisCliPing(urls.cache!)).toBe('PONG');
    expect(amqpDeclare(urls.mq!, `url-check-${name}`)).toBe(`url-check-${name}`);
    // What `up` prints (no password in it): psql asks for the password, here from PGPASSWORD.
    expect(psqlSelect(byId('db').url, secrets.postgres.password)).toBe('learner@lab');
    expect(JSON.parse(curlGet(`${byId('lb').url}/health`))).toMatchObject({ status: 'ok' });
  });

  it('through the load balancer: register (a welcome email row appears), login, a note; every instance answers', async () => {
    const user = { email: `${name}@example.com`, password: 'correct horse battery' };
    const registered = await call(lb, 'POST', '/auth/register', user);
    expect(registered.status).toBe(201);
    const jobId = registered.headers.get('x-job-id');
    expect(jobId).toMatch(/^[0-9a-f-]{36}$/);
    const login = await call(lb, 'POST', '/auth/login', user);
    expect(login.status).toBe(200);
    const note = await call(lb, 'POST', '/notes', { title: 'through the balancer' }, login.body.token);
    expect(note.status).toBe(201);
    // The worker wrote the welcome email; read as the learner with the generated password.
    const row = await until(
      'welcome email row',
      10_000,
      async () => (await sql(secrets.urls.db, 'SELECT user_id, email FROM emails_sent WHERE job_id = $1', [jobId]))[0],
    );
    expect(row).toEqual({ user_id: String(registered.body.id), email: user.email });
    const seen = new Set<string>();
    for (let i = 0; i < 9; i++) seen.add((await getInstance(`${lb}/health`, 2000)).instance ?? '?');
    expect([...seen].sort()).toEqual(API_IDS);
  });

  it('RabbitMQ: no guest, no `/` vhost; a failing job is retried 3 times, then dead-lettered', async () => {
    const amqp = await import('amqplib');
    const { host, port } = byId('mq');
    await expect(amqp.connect(`amqp://guest:guest@${host}:${port}/lab`, { timeout: 2000 })).rejects.toThrow(/ACCESS_REFUSED/);
    await expect(amqp.connect(secrets.urls.mq.replace(/\/lab$/, '/%2F'), { timeout: 2000 })).rejects.toThrow(
      /ConnectionOpenOk|NOT_ALLOWED/,
    );
    // amqplib 0.10 drops the broker's reason on connection.open: the broker's log says it.
    const brokerLog = await until('refusals in the broker log', 3000, () => {
      const text = readFileSync(join(labDir, 'logs', 'mq.log'), 'utf8');
      return /vhost \/ not found/.test(text) && /login refused: user 'guest'/.test(text) ? text : undefined;
    });
    expect(brokerLog).not.toMatch(/user 'guest' authenticated/);
    const user = { email: `fail-${name}@example.com`, password: 'correct horse battery' };
    await call(lb, 'POST', '/auth/register', user);
    const { body: login } = await call(lb, 'POST', '/auth/login', user);
    const queued = await call(lb, 'POST', '/jobs', { fail: true }, login.token);
    expect(queued.status).toBe(202);
    const conn = await amqp.connect(secrets.urls.mq);
    try {
      const channel = await conn.createChannel();
      const dead = await until('job in jobs.dead', 15_000, async () => {
        const message = await channel.get('jobs.dead', { noAck: true });
        return message && message.properties.messageId === queued.body.jobId ? message : undefined;
      });
      expect(dead.properties.headers?.['x-attempts']).toBe(3);
    } finally {
      await conn.close();
    }
    expect((await call(lb, 'GET', `/jobs/${queued.body.jobId}`, undefined, login.token)).body).toMatchObject({ status: 'pending' });
    const attempts = readFileSync(join(labDir, 'logs', 'worker.log'), 'utf8')
      .split('\n')
      .filter((l) => l.includes(queued.body.jobId));
    expect(attempts).toHaveLength(3);
  });

  it('kill -9 of api-2: the balancer keeps answering from the others, health names it, a taken port is refused, up heals it', async () => {
    const victim = byId('api-2');
    process.kill(victim.pid!, 'SIGKILL');
    await until('api-2 gone', 5000, () => (pidAlive(victim.pid!) ? undefined : true));
    const t0 = performance.now();
    const replies: { at: number; status: number; instance?: string }[] = [];
    while (performance.now() - t0 < 2500) {
      const r = await getInstance(`${lb}/health`, 2000).catch(() => ({ status: 0, instance: undefined }));
      replies.push({ at: performance.now() - t0, ...r });
    }
    // Refused connections are retried on another instance: not one request fails.
    expect(replies.filter((r) => r.status !== 200)).toEqual([]);
    expect(new Set(replies.map((r) => r.instance))).toEqual(new Set(['api-1', 'api-3']));
    expect(readFileSync(join(labDir, 'logs', 'lb.log'), 'utf8')).toMatch(/Server api\/api-2 is DOWN/);

    const health = await cli(['health', name], { home, timeoutMs: 20_000 });
    expect(health.code, health.stderr).toBe(1);
    expect(health.stderr).toContain(`lab '${name}': api-2 (api) failed: not running: pid ${victim.pid} is gone`);
    expect(health.stderr).not.toMatch(/api-[13] \(api\) failed/);

    const foreign = await occupy(victim.port);
    try {
      const blocked = await cli(['up', 'advanced', '--name', name], { home, timeoutMs: 20_000 });
      expect(blocked.code, blocked.stderr).toBe(1);
      expect(blocked.stderr).toContain(`api-2 (api) cannot start: 127.0.0.1:${victim.port} is taken by another program`);
    } finally {
      await foreign.close();
    }

    const healed = await cli(['up', 'advanced', '--name', name, '--json'], { home, timeoutMs: 30_000 });
    expect(healed.code, healed.stderr).toBe(0);
    expect(healed.stderr).toMatch(/api-2 \(api\)\s+restarted/);
    expect(healed.stderr).not.toMatch(/(db|mq|api-1|api-3|lb) \(\w+\)\s+(re)?started/);
    const after = json(healed).components.find((c: View) => c.id === 'api-2');
    expect({ port: after.port, samePid: after.pid === victim.pid }).toEqual({ port: victim.port, samePid: false });
    expect(json(healed).health.every((h: { ok: boolean }) => h.ok)).toBe(true);
    components = json(healed).components;
  });

  it('down stops everything (epmd included) and the receipt proves every process, host:port and the directory gone', async () => {
    const t = performance.now();
    const down = await cli(['down', name, '--json'], { home });
    timings.down = Math.round(performance.now() - t);
    expect(down.code, down.stderr).toBe(0);
    const receipt = json(down);
    expect(receipt.leftovers).toEqual([]);
    expect(receipt.processes.map((p: { component: string; name: string; gone: boolean }) => `${p.component}/${p.name}/${p.gone}`)).toEqual(
      ['db', 'cache', 'mq', 'mq:epmd', ...API_IDS, 'worker', 'lb'].map((id) => (id === 'mq:epmd' ? 'mq/epmd/true' : `${id}/server/true`)),
    );
    expect(
      receipt.ports
        .filter((p: { component: string }) => p.component === 'mq')
        .map((p: { name: string; free: boolean }) => [p.name, p.free]),
    ).toEqual([
      ['port', true],
      ['dist', true],
      ['epmd', true],
    ]);
    expect(receipt.strays).toEqual([]);
    expect(receipt.seconds).toBeLessThanOrEqual(2);
    await assertPortsFree(components);
    for (const c of components)
      for (const p of c.processes)
        expect({ id: c.id, process: p.name, alive: pidAlive(p.pid) }).toEqual({ id: c.id, process: p.name, alive: false });
    expect(processesInside(labDir)).toEqual([]);
    expect(existsSync(labDir)).toBe(false);
    console.log(`advanced e2e (ms): ${JSON.stringify(timings)}`);
  });

  it('Ctrl-C while RabbitMQ is still starting: everything stopped (beam, epmd, postgres, ...), no port, no directory', async () => {
    const other = uniqueName('advint');
    const run = startCli(['up', 'advanced', '--name', other], { home });
    const statePath = join(home, other, 'state.json');
    interface Recorded {
      components: {
        id: string;
        port: number;
        process?: { pid: number };
        extraPorts?: Record<string, number>;
        helpers?: Record<string, { pid: number }>;
      }[];
    }
    const read = (): Recorded | undefined => {
      try {
        return JSON.parse(readFileSync(statePath, 'utf8'));
      } catch {
        return undefined;
      }
    };
    // The node is recorded right after its spawn; its AMQP listener comes seconds later.
    const state = await until('RabbitMQ node recorded', 20_000, () => read()?.components.find((c) => c.id === 'mq' && c.process) && read());
    const mq = state.components.find((c) => c.id === 'mq')!;
    expect(await portAccepts(mq.port)).toBe(false);
    run.child.kill('SIGINT');
    const result = await run.done;
    expect(result.code, result.stderr).toBe(130);
    expect(result.stderr).toContain(`interrupted: stopped what was started and removed lab '${other}'; nothing is left`);
    const seen = read() ?? state;
    const pids = seen.components
      .flatMap((c) => [c.process?.pid, ...Object.values(c.helpers ?? {}).map((h) => h.pid)])
      .filter((p): p is number => p !== undefined);
    for (const pid of pids) expect({ pid, alive: pidAlive(pid) }).toEqual({ pid, alive: false });
    const ports = seen.components.flatMap((c) => [c.port, ...Object.values(c.extraPorts ?? {})]).filter((p) => p > 0);
    for (const port of ports)
      expect({ port, accepts: await portAccepts(port), bindable: await portBindable(port) }).toEqual({
        port,
        accepts: false,
        bindable: true,
      });
    expect(processesInside(join(home, other))).toEqual([]);
    expect(existsSync(join(home, other))).toBe(false);
  });
});
