// What drivers share while `up` runs: the lab's state (saved after every spawn, so a killed CLI
// leaves a state `down` can clean up), port claiming with one retry policy, readiness by TCP.
import { ExternalError } from '../../model/errors.js';
import type { ComponentKindLocal, ComponentState, LabLayout, LabSecrets, LabState, RunAs } from '../home.js';
import { writeState } from '../home.js';
import { isListening, pickFreePort, PortInUseError } from '../ports.js';
import { isAlive, type ProcessRecord } from '../proc.js';
import { lastLines, throwIfAborted } from '../spawn.js';
import type { NamedPort, NamedProcess } from './parts.js';

export function elapsed(since: number): string {
  return `${((performance.now() - since) / 1000).toFixed(2)}s`;
}

/** `db (postgres)`, `api-2 (api)`: how messages and health checks name a component. */
export function labelOf(c: ComponentState): string {
  // Shard servers change roles on a failover: the label says which one it has now.
  if (c.kind === 'shard') return `${c.id} (shard ${c.shard} ${c.role}, region ${c.region})`;
  return `${c.id} (${c.kind})`;
}

/** The instance name an API or worker announces (X-Instance, log lines): `<group>-<n>`. */
export function instanceName(c: ComponentState): string {
  return `${c.group ?? c.id}-${c.instance ?? 1}`;
}

/** The main process only (most kinds). */
export function mainProcesses(c: ComponentState): NamedProcess[] {
  return [
    ...(c.process ? [{ name: 'server', record: c.process }] : []),
    ...Object.entries(c.helpers ?? {}).map(([name, record]) => ({ name, record })),
  ];
}

/** The main port and any extra ports. */
export function allPorts(c: ComponentState): NamedPort[] {
  return [
    ...(c.port > 0 ? [{ name: 'port', host: c.host, port: c.port }] : []),
    ...Object.entries(c.extraPorts ?? {}).map(([name, port]) => ({ name, host: c.host, port })),
  ];
}

export class RunContext {
  /** Where the time went, per component, for the progress line. */
  readonly phases = new Map<string, string[]>();

  constructor(
    readonly layout: LabLayout,
    readonly state: LabState,
    readonly secrets: LabSecrets,
    readonly runAs: RunAs,
    /** The lab did not exist before this run: ports may still be changed. */
    readonly fresh: boolean,
    readonly signal: AbortSignal | undefined,
    /** Ports recorded by the other labs of the home. */
    private readonly otherLabsPorts: () => Set<number>,
  ) {}

  phase(id: string, what: string): void {
    this.phases.set(id, [...(this.phases.get(id) ?? []), what]);
  }

  save(): void {
    writeState(this.layout, this.state);
  }

  /** The component of `kind` that `c` uses (by LabSpec id), e.g. the postgres an API talks to. */
  used(c: ComponentState, kind: ComponentKindLocal): ComponentState | undefined {
    return this.state.components.find((o) => o.kind === kind && (c.uses ?? []).includes(o.group ?? o.id));
  }

  /** Like `used`, but a missing one is a bug in the lab's spec: say which. */
  needs(c: ComponentState, kind: ComponentKindLocal): ComponentState {
    const found = this.used(c, kind);
    if (!found)
      throw new ExternalError(
        `${labelOf(c)} needs a ${kind} component in lab '${this.state.name}' (uses: ${(c.uses ?? []).join(', ') || 'none'})`,
      );
    return found;
  }

  /** A free port on `host` that no lab of this home has recorded. */
  async freePort(host: string): Promise<number> {
    const avoid = this.otherLabsPorts();
    for (const o of this.state.components) for (const p of allPorts(o)) avoid.add(p.port);
    return pickFreePort(avoid, host);
  }
}

function setPort(c: ComponentState, name: string, port: number): void {
  if (name === 'port') c.port = port;
  else c.extraPorts = { ...c.extraPorts, [name]: port };
}

function foreignPortError(ctx: RunContext, c: ComponentState, p: NamedPort): ExternalError {
  return new ExternalError(
    `lab '${ctx.state.name}': ${labelOf(c)} cannot start: ${p.host}:${p.port} is taken by another program (not started by this lab)`,
    `stop that program, or run \`labforge down ${ctx.state.name}\` and \`labforge up\` again to get new ports`,
  );
}

/**
 * Before a start: every recorded port of `c` must be free. A new lab simply moves to other
 * ports; an existing one refuses, because connection strings already handed out would break.
 */
export async function claimPorts(ctx: RunContext, c: ComponentState, force = false): Promise<void> {
  let changed = false;
  for (const p of allPorts(c)) {
    if (!force && !(await isListening(p.port, p.host))) continue;
    if (!ctx.fresh) throw foreignPortError(ctx, c, p);
    setPort(c, p.name, await ctx.freePort(p.host));
    changed = true;
  }
  if (changed) ctx.save();
}

/**
 * Runs `start` once; on a new lab, a port lost to a race (PortInUseError) is replaced and tried
 * again, after `cleanup` stopped what the failed try left running.
 */
export async function startWithPortRetry(
  ctx: RunContext,
  c: ComponentState,
  start: () => Promise<void>,
  cleanup: () => Promise<unknown>,
): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    await claimPorts(ctx, c, attempt > 0);
    try {
      return await start();
    } catch (error) {
      if (!(error instanceof PortInUseError)) throw error;
      if (!ctx.fresh) throw foreignPortError(ctx, c, allPorts(c)[0]!);
      if (attempt >= 2) throw error;
      await cleanup();
    }
  }
}

/** Waits until a started process accepts TCP connections on its port, or fails with its log. */
export async function waitListening(ctx: RunContext, c: ComponentState, record: ProcessRecord, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    throwIfAborted(ctx.signal);
    if (!isAlive(record)) {
      const log = lastLines(c.logFile, 4);
      if (/Address already in use|EADDRINUSE/.test(log))
        throw new PortInUseError(`${labelOf(c)}: port ${c.host}:${c.port} is already in use`, `see ${c.logFile}`);
      throw new ExternalError(`${labelOf(c)} exited while starting: ${log}`, `see ${c.logFile}`);
    }
    if (await isListening(c.port, c.host, 200)) return;
    if (Date.now() > deadline) throw new ExternalError(`${labelOf(c)} not listening after ${timeoutMs} ms`, `see ${c.logFile}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
