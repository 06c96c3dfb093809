// The local target: `up`, `down`, `status`, `health` of a lab as real processes on loopback.
// No daemon runs between commands: the state file records every process labforge started
// (pid + start time), and each command re-reads it and checks the processes themselves.
// What a component kind needs lives in its driver (drivers/); this file only orchestrates.
import { mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { QUICK, type ProbeResult, type RetryPolicy } from '../../health/index.js';
import { ExternalError, UsageError } from '../model/errors.js';
import { regionAddress } from '../model/shard.js';
import type { LabSpec, Level } from '../model/types.js';
import { LOCAL_LEVELS, requireBinary } from './binaries.js';
import { DRIVERS, driverOf, labelOf, RunContext, type PlanContext } from './drivers/index.js';
import { elapsed } from './drivers/context.js';
import { LATENCY_MS, LOCAL_REGIONS } from './expert.js';
import {
  STATE_VERSION,
  assertHomeUsable,
  ensureHome,
  existingLab,
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
import { dependenciesOf, inDependencyOrder } from './order.js';
import { isListening, LOOPBACK, pickFreePort } from './ports.js';
import { verifyGone, type TeardownReceipt } from './receipt.js';
import { isAlive, processesIn } from './proc.js';
import { InterruptedError } from './spawn.js';

export { InterruptedError } from './spawn.js';

export type Progress = (line: string) => void;
export type { TeardownReceipt } from './receipt.js';

/** How a learner reaches one component (never with the password in it). */
export interface ComponentView {
  readonly id: string;
  readonly kind: ComponentState['kind'];
  readonly host: string;
  /** 0: listens nowhere (the worker). */
  readonly port: number;
  readonly url: string;
  readonly user?: string;
  readonly database?: string;
  /** The main process. */
  readonly pid?: number;
  readonly state: 'running' | 'exited' | 'not started' | 'port taken by another program';
  /** Every process of the component, main first (RabbitMQ: its node, then its epmd). */
  readonly processes: { name: string; pid: number; alive: boolean }[];
  /** Every host:port it listens on. */
  readonly ports: { name: string; host: string; port: number }[];
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
  /** The learner's entry point: the load balancer, else the API. */
  readonly entryPoint?: string;
  readonly components: ComponentView[];
  readonly health: ProbeResult[];
  readonly seconds: number;
}

export interface HealthReport {
  readonly lab: string;
  readonly ok: boolean;
  readonly checks: ProbeResult[];
}


/** Health after a start: the servers just became ready, allow a few quick retries. */
const AFTER_START: RetryPolicy = { attempts: 40, timeoutMs: 3000, initialDelayMs: 10, maxDelayMs: 200, deadlineMs: 10_000 };

/** Every port of every component, by number (labs side by side never share one). */
function portsOf(state: LabState): number[] {
  return state.components.flatMap((c) => driverOf(c).ports(c).map((p) => p.port));
}

/** Ports recorded by the other labs of this home. */
function portsOfOtherLabs(home: string, name: string): Set<number> {
  const ports = new Set<number>();
  for (const other of listLabNames(home)) {
    if (other === name) continue;
    try {
      const state = readState(labLayout(home, other));
      if (state) for (const p of portsOf(state)) ports.add(p);
    } catch {
      /* unreadable state: ignore */
    }
  }
  return ports;
}

/** The local components of a LabSpec, driver by driver, with free ports and directories inside the lab. */
async function planComponents(lab: LabSpec, layout: LabLayout, avoid: Set<number>, regions: number, latencyMs: number): Promise<ComponentState[]> {
  const p: PlanContext = {
    lab,
    layout,
    regions,
    latencyMs,
    async port(host) {
      const port = await pickFreePort(avoid, host);
      avoid.add(port);
      return port;
    },
    host: (region) => (region === undefined ? LOOPBACK : regionAddress(region)),
    logFile: (id) => join(layout.logs, `${id}.log`),
    dir: (id) => join(layout.dir, id),
  };
  const planned: ComponentState[] = [];
  for (const driver of Object.values(DRIVERS)) for (const spec of driver.select(lab)) planned.push(...(await driver.plan(p, spec)));
  return planned;
}

function newSecrets(state: LabState): LabSecrets {
  let secrets: Partial<LabSecrets> = {};
  for (const driver of Object.values(DRIVERS)) {
    const mine = state.components.filter((c) => c.kind === driver.kind);
    if (mine.length > 0 && driver.secrets) secrets = { ...secrets, ...driver.secrets(mine) };
  }
  return secrets as LabSecrets;
}

/** The lab's servers need these binaries; missing ones fail before anything is created. */
function requireBinaries(lab: LabSpec): void {
  for (const driver of Object.values(DRIVERS)) if (driver.select(lab).length > 0) for (const name of driver.binaries) requireBinary(name);
}

/** True when every process of the component runs. */
function running(c: ComponentState): boolean {
  return c.process !== undefined && driverOf(c).processes(c).every((p) => isAlive(p.record));
}

async function checkComponent(c: ComponentState, secrets: LabSecrets, all: readonly ComponentState[], policy: RetryPolicy): Promise<ProbeResult[]> {
  const partial = driverOf(c).probeWhenPartial === true && c.process !== undefined;
  if (!running(c) && !partial) {
    const taken = c.port > 0 && (await isListening(c.port, c.host));
    const dead = driverOf(c).processes(c).filter((p) => !isAlive(p.record));
    const why = c.process ? `not running: ${dead.map((p) => `${p.name === 'server' ? '' : `${p.name} `}pid ${p.record.pid}`).join(', ')} is gone` : 'never started';
    const detail = `${why}${taken ? `; ${c.host}:${c.port} is taken by another program` : ''} (\`labforge up\` restarts it)`;
    return [{ name: labelOf(c), ok: false, detail, ms: 0, attempts: 0 }];
  }
  return driverOf(c).probe(c, { secrets, components: all }, policy);
}

/** Every check, each component's after those of what it uses (the job probe needs the API's account). */
async function checkAll(state: LabState, secrets: LabSecrets, policy: RetryPolicy, assumeRunning = false): Promise<ProbeResult[]> {
  const check = (c: ComponentState) =>
    assumeRunning ? driverOf(c).probe(c, { secrets, components: state.components }, policy) : checkComponent(c, secrets, state.components, policy);
  const settled = await inDependencyOrder(state.components, check);
  return settled.flatMap((s, i) =>
    s.status === 'fulfilled' ? s.value : [{ name: labelOf(state.components[i]!), ok: false, detail: String((s.reason as Error)?.message ?? s.reason), ms: 0, attempts: 0 }],
  );
}

async function viewOf(c: ComponentState): Promise<ComponentView> {
  const driver = driverOf(c);
  const alive = running(c);
  const state: ComponentView['state'] = alive
    ? 'running'
    : c.port > 0 && (await isListening(c.port, c.host))
      ? 'port taken by another program'
      : c.process
        ? 'exited'
        : 'not started';
  return {
    id: c.id,
    kind: c.kind,
    host: c.host,
    port: c.port,
    url: driver.url(c),
    user: c.user,
    database: c.database,
    pid: c.process?.pid,
    state,
    processes: driver.processes(c).map((p) => ({ name: p.name, pid: p.record.pid, alive: isAlive(p.record) })),
    ports: driver.ports(c).map((p) => ({ ...p })),
  };
}

export interface UpOptions {
  readonly name: string;
  readonly lab: LabSpec;
  readonly home: string;
  readonly signal?: AbortSignal;
  readonly progress?: Progress;
  /** Expert: loopback regions (2..3) and the links' one-way delay in ms; only for a new lab. @default 2, 40 */
  readonly regions?: number;
  readonly latencyMs?: number;
}

/**
 * Brings a lab up, or repairs it: starts what is not running, each component as soon as what it
 * uses is ready (a killed server is restarted on its data; a half-made lab is rebuilt), then
 * proves every component healthy.
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
  let ctx: RunContext | undefined;
  let fresh = false;
  const touched: ComponentState[] = [];
  // A failing component stops the others that are still starting (and Ctrl-C stops them all).
  const failFast = new AbortController();
  const runSignal = signal ? AbortSignal.any([signal, failFast.signal]) : failFast.signal;
  try {
    let state = readState(layout);
    if (state && state.level !== lab.level) {
      throw new UsageError(`lab '${name}' exists as a ${state.level} lab; choose another --name or run \`labforge down ${name}\` first`);
    }
    if (state && options.regions !== undefined && options.regions !== (state.regions ?? 1)) {
      throw new UsageError(`lab '${name}' exists with ${state.regions ?? 1} region(s), not ${options.regions}; run \`labforge down ${name}\` first to change it`);
    }
    if (state && options.latencyMs !== undefined && options.latencyMs !== (state.latencyMs ?? 0)) {
      throw new UsageError(`lab '${name}' exists with ${state.latencyMs ?? 0} ms links, not ${options.latencyMs}; run \`labforge down ${name}\` first to change it`);
    }
    let secrets: LabSecrets;
    if (!state) {
      fresh = true;
      // A directory without a state file is what a crash before the first state write leaves.
      rmSync(layout.dir, { recursive: true, force: true });
      mkdirSync(layout.dir, { mode: 0o755 });
      mkdirSync(layout.logs, { mode: 0o755 });
      const now = new Date().toISOString();
      const multi = lab.regions.min >= 2;
      const regions = multi ? (options.regions ?? LOCAL_REGIONS.default) : 1;
      const latencyMs = multi ? (options.latencyMs ?? LATENCY_MS.default) : 0;
      const components = await planComponents(lab, layout, portsOfOtherLabs(home, name), regions, latencyMs);
      state = {
        version: STATE_VERSION,
        name,
        level: lab.level,
        target: 'local',
        createdAt: now,
        updatedAt: now,
        runAs,
        ...(multi ? { regions, latencyMs } : {}),
        components,
      };
      secrets = newSecrets(state);
      writeSecrets(layout, secrets);
      writeState(layout, state);
      progress(`creating lab '${name}' (${lab.level}) in ${layout.dir}, servers run as ${runAs.user}`);
    } else {
      secrets = readSecrets(layout);
    }
    const c = new RunContext(layout, state, secrets, runAs, fresh, runSignal, () => portsOfOtherLabs(home, name));
    ctx = c;
    if (state.components.every(running)) {
      const health = await checkAll(state, secrets, QUICK, true);
      for (const h of health) progress(`  ${h.name.padEnd(18)} ${h.ok ? 'running' : 'UNHEALTHY'}  ${h.ms} ms`);
      return finish(c, started, false, true, health);
    }
    let failure: unknown;
    const settled = await inDependencyOrder(
      state.components,
      async (comp) => {
        const t = performance.now();
        touched.push(comp);
        try {
          const outcome = await driverOf(comp).ensure(c, comp);
          const phases = c.phases.get(comp.id);
          const where = comp.port > 0 ? `${comp.host}:${comp.port}` : '-';
          progress(`  ${labelOf(comp).padEnd(18)} ${outcome.padEnd(9)} ${where}  pid ${comp.process?.pid}  ${elapsed(t)}${phases ? ` (${phases.join(', ')})` : ''}`);
        } catch (error) {
          failure ??= error;
          failFast.abort();
          throw error;
        }
      },
      { needSuccess: true, waitFor: (comp, all) => dependenciesOf(comp, all).filter((d) => !(driverOf(comp).lazy ?? []).includes(d.kind)) },
    );
    if (signal?.aborted) throw new InterruptedError();
    if (settled.some((s) => s.status === 'rejected')) throw failure ?? (settled.find((s) => s.status === 'rejected') as PromiseRejectedResult).reason;
    const health = await checkAll(state, secrets, { ...AFTER_START, signal }, true);
    if (signal?.aborted) throw new InterruptedError();
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
      await Promise.all(touched.map((comp) => driverOf(comp).stop(comp, runAs)));
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

async function finish(ctx: RunContext, started: number, created: boolean, alreadyUp: boolean, health: ProbeResult[]): Promise<UpResult> {
  const failed = health.filter((h) => !h.ok);
  if (failed.length > 0 && !alreadyUp) {
    throw new ExternalError(
      `lab '${ctx.state.name}' started but is not healthy: ${failed.map((f) => `${f.name}: ${f.detail}`).join('; ')}`,
      `logs: ${ctx.layout.logs}`,
    );
  }
  const components = await Promise.all(ctx.state.components.map(viewOf));
  const entry = components.find((c) => c.kind === 'haproxy') ?? components.find((c) => c.kind === 'api');
  return {
    name: ctx.state.name,
    level: ctx.state.level,
    dir: ctx.layout.dir,
    runAs: ctx.runAs,
    created,
    alreadyUp,
    entryPoint: entry?.url,
    components,
    health,
    seconds: Number(((performance.now() - started) / 1000).toFixed(2)),
  };
}

/** Every health check of a lab, now. */
export async function healthLab(home: string, name: string, policy: RetryPolicy = QUICK): Promise<HealthReport> {
  const layout = existingLab(home, name);
  const state = readState(layout)!;
  const checks = await checkAll(state, readSecrets(layout), policy);
  return { lab: name, ok: checks.every((c) => c.ok), checks };
}

export interface LabStatus {
  readonly name: string;
  readonly level: Level;
  readonly dir: string;
  readonly runAs: string;
  /** Expert: regions and the links' one-way delay. */
  readonly regions?: number;
  readonly latencyMs?: number;
  /** Resident memory of every process working in the lab's directory now (servers, their children), in bytes. */
  readonly rssBytes: number;
  readonly components: ComponentView[];
}

/** Sum of VmRSS of the processes working inside `dir` (every server of a lab has its cwd there). */
export function labRssBytes(dir: string): number {
  const real = realDir(dir);
  if (!real) return 0;
  let total = 0;
  for (const p of processesIn(real)) {
    try {
      const kb = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${p.pid}/status`, 'utf8'))?.[1];
      total += Number(kb ?? 0) * 1024;
    } catch {
      /* gone meanwhile */
    }
  }
  return total;
}

export async function statusLab(home: string, name: string): Promise<LabStatus> {
  const layout = existingLab(home, name);
  const state = readState(layout)!;
  return {
    name,
    level: state.level,
    dir: layout.dir,
    runAs: state.runAs.user,
    ...(state.regions ? { regions: state.regions, latencyMs: state.latencyMs } : {}),
    rssBytes: labRssBytes(layout.dir),
    components: await Promise.all(state.components.map(viewOf)),
  };
}

export function labNames(home: string): string[] {
  return listLabNames(home);
}

/** The lab's generated credentials and the connection URLs that carry them (for `labforge secrets`). */
export function labSecrets(home: string, name: string): { secrets: LabSecrets; components: ComponentState[]; urls: Record<string, string> } {
  const layout = existingLab(home, name);
  const secrets = readSecrets(layout);
  const components = readState(layout)!.components;
  const urls: Record<string, string> = {};
  for (const c of components) {
    const secretUrl = driverOf(c).secretUrl;
    if (secretUrl) urls[c.id] = secretUrl(c, secrets);
  }
  return { secrets, components, urls };
}

/**
 * Stops every recorded process, all at once: the data is deleted next, so stopping dependents
 * first would protect nothing and cost the sum of the shutdowns (measured: 1.7 s against 1.1 s
 * for the advanced lab). Then kills whatever still works inside the lab's directory and removes it.
 */
async function removeLab(layout: LabLayout, state: LabState): Promise<void> {
  await Promise.all(state.components.map((c) => driverOf(c).stop(c, state.runAs)));
  const dir = realDir(layout.dir);
  // Never recorded (the CLI was killed between a spawn and the state write): still the lab's.
  for (let round = 0; dir && round < 100; round++) {
    const strays = processesIn(dir);
    if (strays.length === 0) break;
    for (const stray of strays) {
      try {
        process.kill(stray.pid, 'SIGKILL');
      } catch {
        /* gone meanwhile */
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  rmSync(layout.dir, { recursive: true, force: true, maxRetries: 3 });
}

function realDir(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

/** Stops a lab, removes its data, then proves nothing is left (processes, ports, directories). */
export async function downLab(home: string, name: string): Promise<TeardownReceipt> {
  const started = performance.now();
  const layout = existingLab(home, name);
  const dir = realDir(layout.dir) ?? layout.dir;
  const lock = acquireLock(layout.lockFile, name, 'down');
  let state: LabState;
  try {
    state = readState(layout)!;
    await removeLab(layout, state);
  } finally {
    lock.release();
  }
  removeHomeIfEmpty(home);
  return verifyGone(name, layout, dir, state, started);
}

/** Leaves no empty home behind either (only when nothing else is in it). */
function removeHomeIfEmpty(home: string): void {
  try {
    if (readdirSync(home).length === 0) rmdirSync(home);
  } catch {
    /* not empty or already gone */
  }
}
