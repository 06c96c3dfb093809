// The local target: `up`, `down`, `status`, `health` of a lab as real processes on loopback.
// No daemon runs between commands: the state file records every process labforge started
// (pid + start time), and each command re-reads it and checks the processes themselves.
// What a component kind needs lives in its driver (drivers/); this file only orchestrates.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { QUICK, type ProbeResult, type RetryPolicy } from '../../health/index.js';
import { DEFAULT_TTL, expiryAfter } from '../model/deployment.js';
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
import { checkAll, running, viewOf, type ComponentView } from './inspect.js';
import { LOOPBACK, pickFreePort } from './ports.js';
import { InterruptedError } from './spawn.js';
import { removeHomeIfEmpty, removeLab } from './teardown.js';

export { InterruptedError } from './spawn.js';
export {
  healthLab,
  labNames,
  labRssBytes,
  labSecrets,
  statusLab,
  type ComponentView,
  type HealthReport,
  type LabStatus,
} from './inspect.js';
import { noProgress } from '../model/quiet.js';
export { downLab } from './teardown.js';

export type Progress = (line: string) => void;
export type { TeardownReceipt } from './receipt.js';

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

/** Health after a start: the servers just became ready, allow a few quick retries. */
const AFTER_START: RetryPolicy = { attempts: 40, timeoutMs: 3000, initialDelayMs: 10, maxDelayMs: 200, deadlineMs: 10_000 };

/** Every port of every component, by number (labs side by side never share one). */
function portsOf(state: LabState): number[] {
  return state.components.flatMap((c) =>
    driverOf(c)
      .ports(c)
      .map((p) => p.port),
  );
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
async function planComponents(
  lab: LabSpec,
  layout: LabLayout,
  avoid: Set<number>,
  settings: Pick<PlanContext, 'regions' | 'latencyMs' | 'rabbitmqManagement'>,
): Promise<ComponentState[]> {
  const p: PlanContext = {
    lab,
    layout,
    ...settings,
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

export interface UpOptions {
  readonly name: string;
  readonly lab: LabSpec;
  readonly home: string;
  readonly signal?: AbortSignal;
  readonly progress?: Progress;
  /** Expert: loopback regions (2..3) and the links' one-way delay in ms; only for a new lab. @default 2, 40 */
  readonly regions?: number;
  readonly latencyMs?: number;
  /**
   * Labs with RabbitMQ: run its management plugin on an extra free port (`management`), the
   * learner tagged `management`. Recorded at the first `up`; a later `up` keeps it. @default off
   */
  readonly rabbitmqManagement?: boolean;
  /**
   * When `reap` may remove the lab (ISO-8601 UTC). Recorded at the first `up`; a later `up`
   * that gives one moves it. @default 4 hours after the first `up` (DEFAULT_TTL)
   */
  readonly expiresAt?: string;
  /**
   * Ports already promised to labs being created at the same time in this process (a workshop
   * starts several at once): new picks avoid them and are added to the set. @default none
   */
  readonly reservedPorts?: Set<number>;
}

/** The lab's RabbitMQ runs its management plugin (recorded as the extra port `management`). */
function hasManagement(state: LabState): boolean {
  return state.components.some((c) => c.kind === 'rabbitmq' && c.extraPorts?.management !== undefined);
}

/**
 * Brings a lab up, or repairs it: starts what is not running, each component as soon as what it
 * uses is ready (a killed server is restarted on its data; a half-made lab is rebuilt), then
 * proves every component healthy.
 */
export async function upLab(options: UpOptions): Promise<UpResult> {
  const started = performance.now();
  const { name, lab, home, signal } = options;
  const progress = options.progress ?? noProgress;
  if (!LOCAL_LEVELS.includes(lab.level)) {
    throw new UsageError(
      `local ${lab.level} labs come in a later version of labforge (local targets today: ${LOCAL_LEVELS.join(', ')}); nothing was created`,
    );
  }
  if (options.rabbitmqManagement && DRIVERS.rabbitmq.select(lab).length === 0) {
    throw new UsageError(`--rabbitmq-management applies to a lab with RabbitMQ, not to ${lab.level}; nothing was created`);
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
      throw new UsageError(
        `lab '${name}' exists with ${state.regions ?? 1} region(s), not ${options.regions}; run \`labforge down ${name}\` first to change it`,
      );
    }
    if (state && options.latencyMs !== undefined && options.latencyMs !== (state.latencyMs ?? 0)) {
      throw new UsageError(
        `lab '${name}' exists with ${state.latencyMs ?? 0} ms links, not ${options.latencyMs}; run \`labforge down ${name}\` first to change it`,
      );
    }
    if (state && options.rabbitmqManagement !== undefined && options.rabbitmqManagement !== hasManagement(state)) {
      throw new UsageError(
        `lab '${name}' exists with RabbitMQ management ${hasManagement(state) ? 'on' : 'off'}; run \`labforge down ${name}\` first to change it`,
      );
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
      const rabbitmqManagement = options.rabbitmqManagement ?? false;
      // One set for every lab planned at once, so two new labs never pick the same port.
      const avoid = options.reservedPorts ?? new Set<number>();
      for (const port of portsOfOtherLabs(home, name)) avoid.add(port);
      const components = await planComponents(lab, layout, avoid, { regions, latencyMs, rabbitmqManagement });
      state = {
        version: STATE_VERSION,
        name,
        level: lab.level,
        target: 'local',
        createdAt: now,
        updatedAt: now,
        expiresAt: options.expiresAt ?? expiryAfter(DEFAULT_TTL),
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
      if (options.expiresAt !== undefined && options.expiresAt !== state.expiresAt) {
        state.expiresAt = options.expiresAt;
        writeState(layout, state);
      }
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
          progress(
            `  ${labelOf(comp).padEnd(18)} ${outcome.padEnd(9)} ${where}  pid ${comp.process?.pid}  ${elapsed(t)}${phases ? ` (${phases.join(', ')})` : ''}`,
          );
        } catch (error) {
          failure ??= error;
          failFast.abort();
          throw error;
        }
      },
      { needSuccess: true, waitFor: (comp, all) => dependenciesOf(comp, all).filter((d) => !(driverOf(comp).lazy ?? []).includes(d.kind)) },
    );
    if (signal?.aborted) throw new InterruptedError();
    if (settled.some((s) => s.status === 'rejected'))
      throw failure ?? (settled.find((s) => s.status === 'rejected') as PromiseRejectedResult).reason;
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
