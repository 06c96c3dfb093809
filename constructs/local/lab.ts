// The local target: `up`, `down`, `status`, `health` of a lab as real processes on 127.0.0.1.
// No daemon runs between commands: the state file records every process labforge started
// (pid + start time), and each command re-reads it and checks the processes themselves.
import { existsSync, mkdirSync, readdirSync, rmSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { probeApi, probePostgres, probeRedis, QUICK, type ProbeResult, type RetryPolicy } from '../../health/index.js';
import { ExternalError, UsageError } from '../model/errors.js';
import type { LabSpec, Level } from '../model/types.js';
import { componentsOf } from '../model/validate.js';
import { startApi, uploadsDir } from './api.js';
import { LOCAL_LEVELS, requireBinary } from './binaries.js';
import {
  STATE_VERSION,
  assertHomeUsable,
  ensureHome,
  existingLab,
  generatePassword,
  labLayout,
  listLabNames,
  readSecrets,
  readState,
  writeSecrets,
  writeState,
  type ComponentState,
  type LabLayout,
  type LabSecrets,
  type LabState,
  type RunAs,
} from './home.js';
import { allowTraversal, assertReachable, resolveRunAs } from './identity.js';
import { acquireLock } from './lock.js';
import { canBind, isListening, LOOPBACK, pickFreePort } from './ports.js';
import * as pgServer from './postgres.js';
import { isAlive, ownedProcesses, stopProcess, type ProcessRecord } from './proc.js';
import { startRedis, writeRedisConfig } from './redis.js';
import { InterruptedError, lastLines, makeOwnedDir, throwIfAborted } from './spawn.js';

export { InterruptedError } from './spawn.js';

export type Progress = (line: string) => void;

/** How a learner reaches one component (never with the password in it). */
export interface ComponentView {
  readonly id: string;
  readonly kind: ComponentState['kind'];
  readonly host: string;
  readonly port: number;
  readonly url: string;
  readonly user?: string;
  readonly database?: string;
  readonly pid?: number;
  readonly state: 'running' | 'exited' | 'not started' | 'port taken by another program';
}

export interface UpResult {
  readonly name: string;
  readonly level: Level;
  readonly dir: string;
  readonly runAs: RunAs;
  /** The lab did not exist before this `up`. */
  readonly created: boolean;
  /** Everything already ran: nothing was started. */
  readonly alreadyUp: boolean;
  readonly components: ComponentView[];
  readonly health: ProbeResult[];
  readonly seconds: number;
}

export interface HealthReport {
  readonly lab: string;
  readonly ok: boolean;
  readonly checks: ProbeResult[];
}

export interface TeardownReceipt {
  readonly lab: string;
  readonly ok: boolean;
  readonly processes: { component: string; pid: number; gone: boolean; left: number[] }[];
  readonly ports: { component: string; port: number; free: boolean }[];
  readonly directories: { path: string; removed: boolean }[];
  /** One line per thing left behind; empty when `ok`. */
  readonly leftovers: string[];
  readonly seconds: number;
}

const KIND_LABEL: Record<ComponentState['kind'], string> = { postgres: 'postgres', redis: 'redis', api: 'api' };
const SEEDS: Partial<Record<Level, string>> = { beginner: 'beginner-seed.sql' };
/** Health after a start: the servers just became ready, allow a few quick retries. */
const AFTER_START: RetryPolicy = { attempts: 40, timeoutMs: 3000, initialDelayMs: 10, maxDelayMs: 200, deadlineMs: 10_000 };

function elapsed(since: number): string {
  return `${((performance.now() - since) / 1000).toFixed(2)}s`;
}

function urlOf(c: ComponentState): string {
  if (c.kind === 'postgres') return `postgres://${c.user}@${c.host}:${c.port}/${c.database}`;
  if (c.kind === 'redis') return `redis://${c.host}:${c.port}`;
  return `http://${c.host}:${c.port}`;
}

/** The local components of a LabSpec, with free ports and directories inside the lab. */
async function planComponents(lab: LabSpec, layout: LabLayout, avoid: Set<number>): Promise<ComponentState[]> {
  const port = async () => {
    const p = await pickFreePort(avoid);
    avoid.add(p);
    return p;
  };
  const planned: ComponentState[] = [];
  const base = (id: string, kind: ComponentState['kind'], dataDir: string) => ({
    id,
    kind,
    host: LOOPBACK,
    dataDir,
    logFile: join(layout.logs, `${id}.log`),
  });
  for (const db of componentsOf(lab, 'postgres')) {
    planned.push({ ...base(db.id, 'postgres', join(layout.dir, db.id, 'data')), port: await port(), database: db.database, user: db.user });
  }
  for (const cache of componentsOf(lab, 'redis')) planned.push({ ...base(cache.id, 'redis', join(layout.dir, cache.id)), port: await port() });
  for (const svc of componentsOf(lab, 'service')) {
    if (svc.program !== 'api') continue;
    planned.push({ ...base(svc.id, 'api', join(layout.dir, svc.id)), port: await port() });
  }
  return planned;
}

function newSecrets(state: LabState): LabSecrets {
  const db = state.components.find((c) => c.kind === 'postgres');
  const hasRedis = state.components.some((c) => c.kind === 'redis');
  const hasApi = state.components.some((c) => c.kind === 'api');
  return {
    postgres: { user: db?.user ?? 'learner', password: generatePassword() },
    ...(hasRedis ? { redis: { password: generatePassword() } } : {}),
    ...(hasApi
      ? { api: { jwtSecret: generatePassword(32), probeEmail: 'labforge-health@example.com', probePassword: generatePassword(18) } }
      : {}),
  };
}

/** Ports recorded by the other labs of this home, so labs side by side never share one. */
function portsOfOtherLabs(home: string, name: string): Set<number> {
  const ports = new Set<number>();
  for (const other of listLabNames(home)) {
    if (other === name) continue;
    try {
      for (const c of readState(labLayout(home, other))?.components ?? []) ports.add(c.port);
    } catch {
      /* unreadable state: ignore */
    }
  }
  return ports;
}

/** The lab's servers need these binaries; missing ones fail before anything is created. */
function requireBinaries(lab: LabSpec): void {
  const kinds = new Set(lab.components.map((c) => c.kind));
  requireBinary('postgres');
  requireBinary('initdb');
  if (kinds.has('redis')) requireBinary('redis-server');
}

class Context {
  constructor(
    readonly layout: LabLayout,
    readonly state: LabState,
    readonly secrets: LabSecrets,
    readonly runAs: RunAs,
    /** The lab did not exist before this run: ports may still be changed. */
    readonly fresh: boolean,
    readonly signal: AbortSignal | undefined,
  ) {}

  /** Where the time went, per component, for the progress line. */
  readonly phases = new Map<string, string[]>();

  phase(id: string, what: string): void {
    this.phases.set(id, [...(this.phases.get(id) ?? []), what]);
  }

  save(): void {
    writeState(this.layout, this.state);
  }
}

function foreignPortError(ctx: Context, c: ComponentState): ExternalError {
  return new ExternalError(
    `lab '${ctx.state.name}': ${c.id} (${KIND_LABEL[c.kind]}) cannot start: ${c.host}:${c.port} is taken by another program (not started by this lab)`,
    `stop that program, or run \`labforge down ${ctx.state.name}\` and \`labforge up\` again to get new ports`,
  );
}

/** Before a start: the recorded port must be free. A new lab simply moves to another port. */
async function claimPort(ctx: Context, c: ComponentState): Promise<void> {
  if (!(await isListening(c.port, c.host))) return;
  if (!ctx.fresh) throw foreignPortError(ctx, c);
  c.port = await pickFreePort(new Set([...portsOfOtherLabs(ctx.layout.home, ctx.state.name), ...ctx.state.components.map((o) => o.port)]));
  ctx.save();
}

/** Waits until a started process accepts TCP connections, or fails with its log. */
async function waitListening(ctx: Context, c: ComponentState, record: ProcessRecord, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    throwIfAborted(ctx.signal);
    if (!isAlive(record)) {
      const log = lastLines(c.logFile, 4);
      if (/Address already in use|EADDRINUSE/.test(log)) {
        throw new pgServer.PortInUseError(`${c.id} (${c.kind}): port ${c.host}:${c.port} is already in use`, `see ${c.logFile}`);
      }
      throw new ExternalError(`${c.id} (${c.kind}) exited while starting: ${log}`, `see ${c.logFile}`);
    }
    if (await isListening(c.port, c.host, 200)) return;
    if (Date.now() > deadline) throw new ExternalError(`${c.id} (${c.kind}) not listening after ${timeoutMs} ms`, `see ${c.logFile}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Starts `start` once; on a new lab, a port lost to a race is replaced and tried again. */
async function startWithPortRetry(ctx: Context, c: ComponentState, start: () => Promise<void>): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    await claimPort(ctx, c);
    try {
      return await start();
    } catch (error) {
      if (!(error instanceof pgServer.PortInUseError) || !ctx.fresh || attempt >= 2) {
        if (error instanceof pgServer.PortInUseError && !ctx.fresh) throw foreignPortError(ctx, c);
        throw error;
      }
      c.port = await pickFreePort(new Set(ctx.state.components.map((o) => o.port)));
      ctx.save();
    }
  }
}

type Outcome = 'running' | 'started' | 'restarted';

async function ensurePostgres(ctx: Context, c: ComponentState): Promise<Outcome> {
  if (c.process && isAlive(c.process)) return 'running';
  const adopted = c.seeded ? pgServer.adoptRunning(c, ctx.runAs) : undefined;
  if (adopted) {
    c.process = adopted;
    ctx.save();
    await pgServer.waitReady(c, adopted, ctx.signal);
    return 'running';
  }
  const restart = c.seeded === true && pgServer.hasCluster(c);
  if (restart) {
    await pgServer.clearStale(c);
  } else {
    // Never finished (crash or Ctrl-C during initdb or seeding): start over from initdb.
    if (c.process) await stopProcess(c.process, 'SIGQUIT', 1000);
    const stray = pgServer.adoptRunning(c, ctx.runAs);
    if (stray) await stopProcess(stray, 'SIGQUIT', 1000);
    c.process = undefined;
    c.seeded = false;
    ctx.save();
    makeOwnedDir(join(c.dataDir, '..'), ctx.runAs, 0o755);
    const t = performance.now();
    await pgServer.initCluster(c, ctx.runAs, ctx.signal);
    ctx.phases.set(c.id, [`initdb ${elapsed(t)}`]);
    c.initialized = true;
    ctx.save();
  }
  await startWithPortRetry(ctx, c, async () => {
    const record = pgServer.startServer(c, ctx.runAs);
    c.process = record;
    ctx.save();
    const t = performance.now();
    await pgServer.waitReady(c, record, ctx.signal);
    ctx.phase(c.id, `ready ${elapsed(t)}`);
  });
  if (!c.seeded) {
    const t = performance.now();
    await pgServer.seed(c, ctx.runAs, ctx.secrets.postgres.password, SEEDS[ctx.state.level]);
    ctx.phase(c.id, `seed ${elapsed(t)}`);
    c.seeded = true;
    ctx.save();
  }
  return restart ? 'restarted' : 'started';
}

async function ensureRedis(ctx: Context, c: ComponentState): Promise<Outcome> {
  if (c.process && isAlive(c.process)) return 'running';
  const restart = c.process !== undefined;
  if (c.process) await stopProcess(c.process, 'SIGKILL', 500);
  makeOwnedDir(c.dataDir, ctx.runAs);
  await startWithPortRetry(ctx, c, async () => {
    const config = writeRedisConfig(c, ctx.runAs, ctx.secrets.redis!.password);
    const record = startRedis(c, ctx.runAs, config);
    c.process = record;
    ctx.save();
    await waitListening(ctx, c, record);
  });
  return restart ? 'restarted' : 'started';
}

async function ensureApi(ctx: Context, c: ComponentState): Promise<Outcome> {
  if (c.process && isAlive(c.process)) return 'running';
  const restart = c.process !== undefined;
  if (c.process) await stopProcess(c.process, 'SIGKILL', 500);
  makeOwnedDir(c.dataDir, ctx.runAs);
  makeOwnedDir(uploadsDir(c), ctx.runAs);
  const db = ctx.state.components.find((o) => o.kind === 'postgres');
  const cache = ctx.state.components.find((o) => o.kind === 'redis');
  if (!db || !cache) throw new ExternalError(`${c.id} (api) needs a postgres and a redis component in lab '${ctx.state.name}'`);
  const pw = ctx.secrets;
  await startWithPortRetry(ctx, c, async () => {
    const record = startApi(c, ctx.runAs, {
      databaseUrl: `postgres://${encodeURIComponent(pw.postgres.user)}:${encodeURIComponent(pw.postgres.password)}@${db.host}:${db.port}/${db.database}`,
      redisUrl: `redis://:${encodeURIComponent(pw.redis!.password)}@${cache.host}:${cache.port}`,
      jwtSecret: pw.api!.jwtSecret,
      instance: `${c.id}-1`,
    });
    c.process = record;
    ctx.save();
    await waitListening(ctx, c, record);
  });
  return restart ? 'restarted' : 'started';
}

function ensure(ctx: Context, c: ComponentState): Promise<Outcome> {
  if (c.kind === 'postgres') return ensurePostgres(ctx, c);
  if (c.kind === 'redis') return ensureRedis(ctx, c);
  return ensureApi(ctx, c);
}

/** The health check of one component through its endpoint (host, port, credentials). */
function probe(c: ComponentState, secrets: LabSecrets, policy: RetryPolicy): Promise<ProbeResult> {
  const name = `${c.id} (${KIND_LABEL[c.kind]})`;
  if (c.kind === 'postgres') {
    return probePostgres(name, { host: c.host, port: c.port, database: c.database!, user: c.user!, password: secrets.postgres.password }, policy);
  }
  if (c.kind === 'redis') return probeRedis(name, { host: c.host, port: c.port, password: secrets.redis!.password }, policy);
  return probeApi(name, { baseUrl: urlOf(c), probeEmail: secrets.api!.probeEmail, probePassword: secrets.api!.probePassword }, policy);
}

async function checkComponent(c: ComponentState, secrets: LabSecrets, policy: RetryPolicy): Promise<ProbeResult> {
  if (!c.process || !isAlive(c.process)) {
    const taken = await isListening(c.port, c.host);
    const why = c.process ? `not running: pid ${c.process.pid} is gone` : 'never started';
    return {
      name: `${c.id} (${KIND_LABEL[c.kind]})`,
      ok: false,
      detail: `${why}${taken ? `; ${c.host}:${c.port} is taken by another program` : ''} (\`labforge up\` restarts it)`,
      ms: 0,
      attempts: 0,
    };
  }
  return probe(c, secrets, policy);
}

async function viewOf(c: ComponentState): Promise<ComponentView> {
  const alive = c.process !== undefined && isAlive(c.process);
  const state: ComponentView['state'] = alive
    ? 'running'
    : (await isListening(c.port, c.host))
      ? 'port taken by another program'
      : c.process
        ? 'exited'
        : 'not started';
  return { id: c.id, kind: c.kind, host: c.host, port: c.port, url: urlOf(c), user: c.user, database: c.database, pid: c.process?.pid, state };
}

export interface UpOptions {
  readonly name: string;
  readonly lab: LabSpec;
  readonly home: string;
  readonly signal?: AbortSignal;
  readonly progress?: Progress;
}

/**
 * Brings a lab up, or repairs it: starts what is not running (a killed server is restarted on
 * its data; a half-made lab is rebuilt), then proves every component healthy.
 */
export async function upLab(options: UpOptions): Promise<UpResult> {
  const started = performance.now();
  const { name, lab, home, signal } = options;
  const progress = options.progress ?? (() => {});
  if (!LOCAL_LEVELS.includes(lab.level)) {
    throw new UsageError(
      `local ${lab.level} labs come in a later version of labforge (local targets today: ${LOCAL_LEVELS.join(', ')}); nothing was created`,
    );
  }
  requireBinaries(lab);
  assertHomeUsable(home);
  const runAs = resolveRunAs();
  const layout = labLayout(home, name);
  assertReachable(home, runAs);
  ensureHome(home);
  allowTraversal(home, runAs);
  const lock = acquireLock(layout.lockFile, name, 'up');
  let ctx: Context | undefined;
  let fresh = false;
  const touched: ComponentState[] = [];
  try {
    let state = readState(layout);
    if (state && state.level !== lab.level) {
      throw new UsageError(`lab '${name}' exists as a ${state.level} lab; choose another --name or run \`labforge down ${name}\` first`);
    }
    let secrets: LabSecrets;
    if (!state) {
      fresh = true;
      // A directory without a state file is what a crash before the first state write leaves.
      rmSync(layout.dir, { recursive: true, force: true });
      mkdirSync(layout.dir, { mode: 0o755 });
      mkdirSync(layout.logs, { mode: 0o755 });
      const now = new Date().toISOString();
      state = {
        version: STATE_VERSION,
        name,
        level: lab.level,
        target: 'local',
        createdAt: now,
        updatedAt: now,
        runAs,
        components: await planComponents(lab, layout, portsOfOtherLabs(home, name)),
      };
      secrets = newSecrets(state);
      writeSecrets(layout, secrets);
      writeState(layout, state);
      progress(`creating lab '${name}' (${lab.level}) in ${layout.dir}, servers run as ${runAs.user}`);
    } else {
      secrets = readSecrets(layout);
    }
    ctx = new Context(layout, state, secrets, runAs, fresh, signal);
    const c = ctx;
    const allAlive = state.components.every((comp) => comp.process && isAlive(comp.process));
    if (allAlive) {
      const health = await Promise.all(state.components.map((comp) => probe(comp, secrets, QUICK)));
      for (const h of health) progress(`  ${h.name.padEnd(16)} ${h.ok ? 'running' : 'UNHEALTHY'}  ${h.ms} ms`);
      return finish(c, started, false, true, health);
    }
    // Data stores first (in parallel), then what depends on them.
    const report = async (comp: ComponentState) => {
      const t = performance.now();
      touched.push(comp);
      const outcome = await ensure(c, comp);
      const phases = c.phases.get(comp.id);
      progress(
        `  ${`${comp.id} (${KIND_LABEL[comp.kind]})`.padEnd(16)} ${outcome.padEnd(9)} ${comp.host}:${comp.port}  pid ${comp.process?.pid}  ${elapsed(t)}${phases ? ` (${phases.join(', ')})` : ''}`,
      );
    };
    await Promise.all(state.components.filter((comp) => comp.kind !== 'api').map(report));
    for (const comp of state.components.filter((x) => x.kind === 'api')) await report(comp);
    throwIfAborted(signal);
    const health = await Promise.all(state.components.map((comp) => probe(comp, secrets, { ...AFTER_START, signal })));
    throwIfAborted(signal);
    return finish(c, started, fresh, false, health);
  } catch (error) {
    const interrupted = error instanceof InterruptedError || signal?.aborted === true;
    if (fresh) {
      // A lab that did not exist before leaves nothing behind when its first `up` fails.
      if (ctx) await removeLab(layout, ctx.state);
      else rmSync(layout.dir, { recursive: true, force: true });
      lock.release();
      removeHomeIfEmpty(home);
    } else if (ctx && interrupted) {
      // An existing lab: stop what this run started; the state file stays for `down`.
      for (const comp of touched) if (comp.process) await stopProcess(comp.process, comp.kind === 'postgres' ? 'SIGQUIT' : 'SIGTERM', 1000);
      ctx.save();
    }
    if (interrupted) {
      throw new InterruptedError(
        fresh
          ? `interrupted: stopped what was started and removed lab '${name}'; nothing is left`
          : `interrupted: stopped what this run started; lab '${name}' keeps its state (\`labforge down ${name}\` removes it)`,
      );
    }
    throw error;
  } finally {
    lock.release();
  }
}

async function finish(ctx: Context, started: number, created: boolean, alreadyUp: boolean, health: ProbeResult[]): Promise<UpResult> {
  const failed = health.filter((h) => !h.ok);
  if (failed.length > 0 && !alreadyUp) {
    throw new ExternalError(
      `lab '${ctx.state.name}' started but is not healthy: ${failed.map((f) => `${f.name}: ${f.detail}`).join('; ')}`,
      `logs: ${ctx.layout.logs}`,
    );
  }
  return {
    name: ctx.state.name,
    level: ctx.state.level,
    dir: ctx.layout.dir,
    runAs: ctx.runAs,
    created,
    alreadyUp,
    components: await Promise.all(ctx.state.components.map(viewOf)),
    health,
    seconds: Number(((performance.now() - started) / 1000).toFixed(2)),
  };
}

/** Every health check of a lab, now. */
export async function healthLab(home: string, name: string, policy: RetryPolicy = QUICK): Promise<HealthReport> {
  const layout = existingLab(home, name);
  const state = readState(layout)!;
  const secrets = readSecrets(layout);
  const checks = await Promise.all(state.components.map((c) => checkComponent(c, secrets, policy)));
  return { lab: name, ok: checks.every((c) => c.ok), checks };
}

export interface LabStatus {
  readonly name: string;
  readonly level: Level;
  readonly dir: string;
  readonly runAs: string;
  readonly components: ComponentView[];
}

export async function statusLab(home: string, name: string): Promise<LabStatus> {
  const layout = existingLab(home, name);
  const state = readState(layout)!;
  return { name, level: state.level, dir: layout.dir, runAs: state.runAs.user, components: await Promise.all(state.components.map(viewOf)) };
}

export function labNames(home: string): string[] {
  return listLabNames(home);
}

/** The lab's generated credentials (for `labforge secrets`). */
export function labSecrets(home: string, name: string): { secrets: LabSecrets; components: ComponentState[] } {
  const layout = existingLab(home, name);
  return { secrets: readSecrets(layout), components: readState(layout)!.components };
}

/** Stops every recorded process (newest first) and removes the lab's directory. */
async function removeLab(layout: LabLayout, state: LabState): Promise<Map<string, number[]>> {
  const left = new Map<string, number[]>();
  const stop = async (c: ComponentState) => {
    const records: ProcessRecord[] = c.process ? [c.process] : [];
    // A postmaster that runs without being recorded (CLI killed right after spawning it).
    if (c.kind === 'postgres') {
      const stray = pgServer.adoptRunning(c, state.runAs);
      if (stray && !records.some((r) => r.pid === stray.pid)) records.push(stray);
    }
    for (const record of records) {
      // Postgres: immediate shutdown (SIGQUIT), the data is deleted next anyway.
      const pids = await stopProcess(record, c.kind === 'postgres' ? 'SIGQUIT' : 'SIGTERM', 1500);
      if (pids.length > 0) left.set(c.id, pids);
    }
  };
  const api = state.components.filter((c) => c.kind === 'api');
  await Promise.all(api.map(stop));
  await Promise.all(state.components.filter((c) => c.kind !== 'api').map(stop));
  rmSync(layout.dir, { recursive: true, force: true, maxRetries: 3 });
  return left;
}

/** Stops a lab, removes its data, then proves nothing is left (processes, ports, directories). */
export async function downLab(home: string, name: string): Promise<TeardownReceipt> {
  const started = performance.now();
  const layout = existingLab(home, name);
  const lock = acquireLock(layout.lockFile, name, 'down');
  let state: LabState;
  try {
    state = readState(layout)!;
    await removeLab(layout, state);
  } finally {
    lock.release();
  }
  removeHomeIfEmpty(home);
  return verifyGone(name, layout, state, started);
}

/** Leaves no empty home behind either (only when nothing else is in it). */
function removeHomeIfEmpty(home: string): void {
  try {
    if (readdirSync(home).length === 0) rmdirSync(home);
  } catch {
    /* not empty or already gone */
  }
}

async function verifyGone(name: string, layout: LabLayout, state: LabState, started: number): Promise<TeardownReceipt> {
  const processes = state.components
    .filter((c) => c.process)
    .map((c) => {
      const left = ownedProcesses(c.process!);
      return { component: c.id, pid: c.process!.pid, gone: left.length === 0 && !isAlive(c.process!), left };
    });
  const ports = await Promise.all(
    state.components.map(async (c) => ({
      component: c.id,
      port: c.port,
      free: !(await isListening(c.port, c.host, 300)) && (await canBind(c.port, c.host)),
    })),
  );
  const directories = [layout.dir].map((path) => ({ path, removed: !existsSync(path) }));
  const leftovers = [
    ...processes.filter((p) => !p.gone).map((p) => `process of ${p.component} still running (pid ${[p.pid, ...p.left].filter((v, i, a) => a.indexOf(v) === i).join(', ')})`),
    ...ports.filter((p) => !p.free).map((p) => `port ${LOOPBACK}:${p.port} (${p.component}) still in use`),
    ...directories.filter((d) => !d.removed).map((d) => `directory ${d.path} still exists`),
  ];
  return {
    lab: name,
    ok: leftovers.length === 0,
    processes,
    ports,
    directories,
    leftovers,
    seconds: Number(((performance.now() - started) / 1000).toFixed(2)),
  };
}
