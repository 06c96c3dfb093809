// The advanced lab's building blocks against real servers: PostgreSQL, RabbitMQ (own epmd), three
// API instances publishing jobs, the queue worker, HAProxy in front. Started with the local
// runtime's functions (not the CLI, which has no local advanced lab yet), in a throwaway dir.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeAmqp } from '../../health/amqp.js';
import { getInstance, probeBalancer } from '../../health/balancer.js';
import { probeJobs } from '../../health/jobs.js';
import { apiServerPath } from '../../constructs/local/api.js';
import { findBinary } from '../../constructs/local/binaries.js';
import { startHaproxy, stopHaproxy, waitHaproxyReady, type HaproxyProps } from '../../constructs/local/haproxy.js';
import { generatePassword, type ComponentState } from '../../constructs/local/home.js';
import { resolveRunAs } from '../../constructs/local/identity.js';
import { isListening, LOOPBACK, pickFreePort } from '../../constructs/local/ports.js';
import * as pgServer from '../../constructs/local/postgres.js';
import { isAlive, ownedProcesses, stopProcess, type ProcessRecord } from '../../constructs/local/proc.js';
import { amqpUrl, startRabbitMq, stopRabbitMq, waitRabbitMqReady, type RabbitMqProcesses, type RabbitMqProps } from '../../constructs/local/rabbitmq.js';
import { makeOwnedDir, serviceEnv, spawnService } from '../../constructs/local/spawn.js';
import { startWorker, stopWorker, waitWorkerReady } from '../../constructs/local/worker.js';
import { portBindable } from './helpers.js';

const INSTALL = 'install with: apt-get install -y rabbitmq-server haproxy';
const API_COUNT = 3;
const runAs = resolveRunAs();
const root = mkdtempSync(join(tmpdir(), 'lf-e2e-advanced-'));
chmodSync(root, 0o755); // the servers run as the `labforge` user when the test runs as root
const logs = join(root, 'logs');
const secrets = { pg: generatePassword(), mq: generatePassword(), jwt: generatePassword(32) };
const timings: Record<string, number> = {};

let db: ComponentState;
let mq: RabbitMqProps;
let lb: HaproxyProps;
let dbUrl = '';
let mqProcs: RabbitMqProcesses | undefined;
let pgRecord: ProcessRecord | undefined;
let workerRecord: ProcessRecord | undefined;
let lbRecord: ProcessRecord | undefined;
const apis: { name: string; port: number; record?: ProcessRecord }[] = [];
const allPorts = (): number[] => [db.port, mq.port, mq.distPort, mq.epmdPort, lb.port, ...apis.map((a) => a.port)];
const allRecords = (): ProcessRecord[] =>
  [pgRecord, mqProcs?.node, mqProcs?.epmd, workerRecord, lbRecord, ...apis.map((a) => a.record)].filter((r): r is ProcessRecord => r !== undefined);

/** Stops everything this test started (idempotent); returns the pids still alive. */
async function stopAll(): Promise<number[]> {
  const left: number[] = [];
  if (lbRecord) left.push(...(await stopHaproxy(lbRecord)));
  if (workerRecord) left.push(...(await stopWorker(workerRecord)));
  await Promise.all(apis.map(async (a) => a.record && left.push(...(await stopProcess(a.record, 'SIGTERM', 2500)))));
  if (mqProcs) left.push(...(await stopRabbitMq(mqProcs)));
  if (pgRecord) left.push(...(await stopProcess(pgRecord, 'SIGQUIT', 1500)));
  return left;
}

async function sql<T = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: dbUrl });
  client.on('error', () => {});
  await client.connect();
  try {
    return (await client.query(text, params)).rows as T[];
  } finally {
    await client.end();
  }
}

async function until<T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms (logs: ${logs})`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function http(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(`http://${LOOPBACK}:${lb.port}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}

function startApi(name: string, port: number): ProcessRecord {
  const dir = join(root, name);
  makeOwnedDir(dir, runAs);
  return spawnService({
    command: process.execPath,
    args: [apiServerPath()],
    cwd: dir,
    logFile: join(logs, `${name}.log`),
    env: serviceEnv(runAs, {
      NODE_ENV: 'production',
      LABFORGE_API_HOST: LOOPBACK,
      LABFORGE_API_PORT: String(port),
      DATABASE_URL: dbUrl,
      JWT_SECRET: secrets.jwt,
      INSTANCE_NAME: name,
      AMQP_URL: amqpUrl(mq),
    }),
    runAs,
  });
}

async function waitListening(name: string, port: number, record: ProcessRecord): Promise<void> {
  await until(`${name} listening on ${port}`, 15_000, async () => {
    if (!isAlive(record)) throw new Error(`${name} exited while starting; see ${join(logs, `${name}.log`)}`);
    return (await isListening(port, LOOPBACK, 200)) ? true : undefined;
  });
}

describe('advanced lab blocks: RabbitMQ + worker + 3 APIs behind HAProxy', () => {
  // Teardown first: whatever fails below, nothing is left running.
  afterAll(async () => {
    await stopAll();
    rmSync(root, { recursive: true, force: true });
    console.log(`advanced e2e timings (ms): ${JSON.stringify(timings)}`);
  });

  beforeAll(async () => {
    for (const name of ['rabbitmq-server', 'epmd', 'haproxy']) {
      if (!findBinary(name)) throw new Error(`${name} not found; ${INSTALL}`);
    }
    const t0 = performance.now();
    mkdirSync(logs, { mode: 0o755 });
    const used = new Set<number>();
    const port = async () => {
      const p = await pickFreePort(used);
      used.add(p);
      return p;
    };
    db = { id: 'db', kind: 'postgres', host: LOOPBACK, port: await port(), dataDir: join(root, 'db', 'data'), logFile: join(logs, 'db.log'), database: 'lab', user: 'learner' };
    dbUrl = `postgres://learner:${encodeURIComponent(secrets.pg)}@${LOOPBACK}:${db.port}/lab`;
    mq = { lab: `e2e-${process.pid}`, dir: join(root, 'mq'), logFile: join(logs, 'mq.log'), host: LOOPBACK, port: await port(), distPort: await port(), epmdPort: await port(), password: secrets.mq };
    for (let n = 1; n <= API_COUNT; n++) apis.push({ name: `api-${n}`, port: await port() });
    lb = { dir: join(root, 'lb'), logFile: join(logs, 'lb.log'), host: LOOPBACK, port: await port(), backends: apis.map((a) => ({ name: a.name, host: LOOPBACK, port: a.port })) };

    const startPostgres = async () => {
      const t = performance.now();
      makeOwnedDir(join(root, 'db'), runAs, 0o755);
      await pgServer.initCluster(db, runAs);
      pgRecord = pgServer.startServer(db, runAs);
      await pgServer.waitReady(db, pgRecord);
      await pgServer.seed(db, runAs, secrets.pg);
      timings.postgres = Math.round(performance.now() - t);
    };
    const startMq = async () => {
      const t = performance.now();
      mqProcs = await startRabbitMq(mq, runAs);
      await waitRabbitMqReady(mq, mqProcs);
      timings.rabbitmq = Math.round(performance.now() - t);
    };
    await Promise.all([startPostgres(), startMq()]);

    let t = performance.now();
    for (const a of apis) a.record = startApi(a.name, a.port);
    await Promise.all(apis.map((a) => waitListening(a.name, a.port, a.record!)));
    timings.apis = Math.round(performance.now() - t);

    t = performance.now();
    const workerProps = { dir: join(root, 'worker'), logFile: join(logs, 'worker.log'), amqpUrl: amqpUrl(mq), databaseUrl: dbUrl };
    workerRecord = startWorker(workerProps, runAs);
    lbRecord = startHaproxy(lb, runAs);
    await Promise.all([waitWorkerReady(workerProps, workerRecord).then(() => (timings.worker = Math.round(performance.now() - t))), waitHaproxyReady(lb, lbRecord)]);
    timings.haproxy = Math.round(performance.now() - t);
    timings.stack = Math.round(performance.now() - t0);
  });

  it('AMQP round trip as the learner on vhost lab', async () => {
    const result = await probeAmqp('mq', { host: LOOPBACK, port: mq.port, user: 'learner', password: secrets.mq });
    expect(result).toMatchObject({ ok: true });
  });

  it('learner cannot use vhost /, guest cannot log in', async () => {
    const amqp = await import('amqplib');
    const base = `amqp://learner:${encodeURIComponent(secrets.mq)}@${LOOPBACK}:${mq.port}`;
    // amqplib 0.10 drops the server's reason on connection.open: the broker's log says it.
    await expect(amqp.connect(`${base}/%2F`, { timeout: 2000 })).rejects.toThrow(/ConnectionOpenOk|NOT_ALLOWED/);
    await expect(amqp.connect(`amqp://guest:guest@${LOOPBACK}:${mq.port}/lab`, { timeout: 2000 })).rejects.toThrow(/ACCESS_REFUSED/);
    await expect(amqp.connect(`amqp://guest:guest@${LOOPBACK}:${mq.port}/%2F`, { timeout: 2000 })).rejects.toThrow(/ACCESS_REFUSED/);
    const log = await until('refusals in the broker log', 2000, async () => {
      const text = readFileSync(mq.logFile, 'utf8');
      return /vhost \/ not found/.test(text) && /login refused: user 'guest'/.test(text) ? text : undefined;
    });
    expect(log).not.toMatch(/user 'guest' authenticated/);
  });

  it('through HAProxy, all three instances answer', async () => {
    const result = await probeBalancer('lb', { baseUrl: `http://${LOOPBACK}:${lb.port}`, instances: apis.map((a) => a.name) });
    expect(result).toMatchObject({ ok: true });
    const health = await http('GET', '/health');
    expect(health.body.checks).toEqual({ postgres: 'ok', rabbitmq: 'ok' });
    // HAProxy's access log goes to stdout, i.e. the lab's log file.
    expect(readFileSync(lb.logFile, 'utf8')).toMatch(/api api\/api-\d .* 200 /);
  });

  it('register publishes a welcome email that the worker writes; POST /jobs is followed to done', async () => {
    const email = `ada-${process.pid}@example.com`;
    const registered = await http('POST', '/auth/register', { email, password: 'correct horse' });
    expect(registered.status).toBe(201);
    const jobId = registered.headers.get('x-job-id');
    expect(jobId).toMatch(/^[0-9a-f-]{36}$/);
    const row = await until('welcome email row', 10_000, async () => (await sql('SELECT user_id, email, job_id FROM emails_sent WHERE job_id = $1', [jobId]))[0]);
    expect(row).toEqual({ user_id: String(registered.body.id), email, job_id: jobId });
    const probe = await probeJobs('jobs', { baseUrl: `http://${LOOPBACK}:${lb.port}`, email, password: 'correct horse' });
    expect(probe).toMatchObject({ ok: true });
  });

  it('a job with "fail": true lands in jobs.dead after 3 attempts', async () => {
    const email = `fail-${process.pid}@example.com`;
    await http('POST', '/auth/register', { email, password: 'correct horse' });
    const { body: login } = await http('POST', '/auth/login', { email, password: 'correct horse' });
    const queued = await http('POST', '/jobs', { fail: true }, login.token);
    expect(queued.status).toBe(202);
    const amqp = await import('amqplib');
    const conn = await amqp.connect(amqpUrl(mq));
    try {
      const channel = await conn.createChannel();
      const dead = await until('job in jobs.dead', 15_000, async () => {
        const message = await channel.get('jobs.dead', { noAck: true });
        return message && message.properties.messageId === queued.body.jobId ? message : undefined;
      });
      expect(dead.properties.headers?.['x-attempts']).toBe(3);
      expect(JSON.parse(dead.content.toString())).toMatchObject({ type: 'welcome-email', fail: true });
    } finally {
      await conn.close();
    }
    const state = await http('GET', `/jobs/${queued.body.jobId}`, undefined, login.token);
    expect(state).toMatchObject({ status: 202, body: { status: 'pending' } });
    const lines = readFileSync(join(logs, 'worker.log'), 'utf8').split('\n').filter((l) => l.includes(queued.body.jobId));
    expect(lines).toHaveLength(3);
  });

  it('an API instance stopped: within 2 s every request through HAProxy succeeds, on the others', async () => {
    const stopped = apis[1]!;
    const t0 = performance.now();
    await stopProcess(stopped.record!, 'SIGTERM', 2500);
    const results: { at: number; status: number; instance?: string }[] = [];
    while (performance.now() - t0 < 3000) {
      const r = await getInstance(`http://${LOOPBACK}:${lb.port}/health`, 2000).catch(() => ({ status: 0, instance: undefined }));
      results.push({ at: performance.now() - t0, ...r });
    }
    const late = results.filter((r) => r.at > 2000);
    expect(late.length).toBeGreaterThan(10);
    expect(late.filter((r) => r.status !== 200 || r.instance === stopped.name)).toEqual([]);
    timings.failoverErrors = results.filter((r) => r.status !== 200).length;
    expect(new Set(late.map((r) => r.instance))).toEqual(new Set(apis.filter((a) => a !== stopped).map((a) => a.name)));
    expect(readFileSync(lb.logFile, 'utf8')).toMatch(new RegExp(`Server api/${stopped.name} is DOWN`));
  });

  it('stopping everything leaves no process, no listening port, a removable dir', async () => {
    const records = allRecords();
    const t = performance.now();
    expect(await stopAll()).toEqual([]);
    timings.stop = Math.round(performance.now() - t);
    for (const r of records) expect({ pid: r.pid, cmd: r.command[0], left: ownedProcesses(r) }).toEqual({ pid: r.pid, cmd: r.command[0], left: [] });
    // Independent of the records: nothing runs from inside the test's directory.
    const inside = readdirSync('/proc')
      .filter((e) => /^\d+$/.test(e))
      .filter((pid) => {
        try {
          return readlinkSync(`/proc/${pid}/cwd`).startsWith(root) || readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(root);
        } catch {
          return false;
        }
      });
    expect(inside).toEqual([]);
    for (const port of allPorts()) {
      expect({ port, listening: await isListening(port, LOOPBACK, 300), bindable: await portBindable(port) }).toEqual({ port, listening: false, bindable: true });
    }
    rmSync(root, { recursive: true });
    expect(existsSync(root)).toBe(false);
  });
});
