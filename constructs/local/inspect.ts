// Reading a local lab without changing it: health checks, status, secrets. Each command
// re-reads the state file and checks the processes themselves (no daemon to ask).
import { readFileSync, realpathSync } from 'node:fs';
import { QUICK, type ProbeResult, type RetryPolicy } from '../../health/index.js';
import type { Level } from '../model/types.js';
import { driverOf, labelOf } from './drivers/index.js';
import { existingLab, listLabNames, readSecrets, readState, type ComponentState, type LabSecrets, type LabState } from './home.js';
import { inDependencyOrder } from './order.js';
import { isListening } from './ports.js';
import { isAlive, processesIn } from './proc.js';

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
  /** Further addresses a learner opens (RabbitMQ's management UI with `--rabbitmq-management`). */
  readonly links?: { name: string; url: string }[];
}

export interface HealthReport {
  readonly lab: string;
  readonly ok: boolean;
  readonly checks: ProbeResult[];
}

/** True when every process of the component runs. */
export function running(c: ComponentState): boolean {
  return (
    c.process !== undefined &&
    driverOf(c)
      .processes(c)
      .every((p) => isAlive(p.record))
  );
}

async function checkComponent(
  lab: string,
  c: ComponentState,
  secrets: LabSecrets,
  all: readonly ComponentState[],
  policy: RetryPolicy,
): Promise<ProbeResult[]> {
  const partial = driverOf(c).probeWhenPartial === true && c.process !== undefined;
  if (!running(c) && !partial) {
    const taken = c.port > 0 && (await isListening(c.port, c.host));
    const dead = driverOf(c)
      .processes(c)
      .filter((p) => !isAlive(p.record));
    const why = c.process
      ? `not running: ${dead.map((p) => `${p.name === 'server' ? '' : `${p.name} `}pid ${p.record.pid}`).join(', ')} is gone`
      : 'never started';
    const detail = `${why}${taken ? `; ${c.host}:${c.port} is taken by another program` : ''} (\`labforge up\` restarts it)`;
    return [{ name: labelOf(c), ok: false, detail, ms: 0, attempts: 0 }];
  }
  return driverOf(c).probe(c, { lab, secrets, components: all }, policy);
}

/** Every check, each component's after those of what it uses (the job probe needs the API's account). */
export async function checkAll(state: LabState, secrets: LabSecrets, policy: RetryPolicy, assumeRunning = false): Promise<ProbeResult[]> {
  const check = (c: ComponentState) =>
    assumeRunning
      ? driverOf(c).probe(c, { lab: state.name, secrets, components: state.components }, policy)
      : checkComponent(state.name, c, secrets, state.components, policy);
  const settled = await inDependencyOrder(state.components, check);
  return settled.flatMap((s, i) =>
    s.status === 'fulfilled'
      ? s.value
      : [{ name: labelOf(state.components[i]!), ok: false, detail: String((s.reason as Error)?.message ?? s.reason), ms: 0, attempts: 0 }],
  );
}

export async function viewOf(c: ComponentState): Promise<ComponentView> {
  const driver = driverOf(c);
  const alive = running(c);
  const links = driver.links?.(c) ?? [];
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
    ...(links.length > 0 ? { links } : {}),
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
export function labSecrets(
  home: string,
  name: string,
): { secrets: LabSecrets; components: ComponentState[]; urls: Record<string, string> } {
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

/** The real path of a directory (processes report their cwd resolved), or undefined when gone. */
export function realDir(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}
