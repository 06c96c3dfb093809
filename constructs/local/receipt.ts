// The teardown receipt: after `down`, independent proof that nothing of a lab is left.
import { existsSync } from 'node:fs';
import { driverOf } from './drivers/index.js';
import type { LabLayout, LabState } from './home.js';
import { canBind, isListening } from './ports.js';
import { isAlive, ownedProcesses, processesIn } from './proc.js';

export interface TeardownReceipt {
  readonly lab: string;
  readonly ok: boolean;
  readonly processes: { component: string; name: string; pid: number; gone: boolean; left: number[] }[];
  readonly ports: { component: string; name: string; host: string; port: number; free: boolean }[];
  readonly directories: { path: string; removed: boolean }[];
  /** Processes still working inside the lab's directory, recorded or not. */
  readonly strays: { pid: number; command: string }[];
  /** One line per thing left behind; empty when `ok`. */
  readonly leftovers: string[];
  readonly seconds: number;
}

/** Nothing listens on host:port and it can be bound, within a short grace period: a socket can
 * outlive its process by a moment while the kernel releases it (seen with several labs going
 * down at once). */
async function becomesFree(port: number, host: string, graceMs = 2000): Promise<boolean> {
  const deadline = Date.now() + graceMs;
  for (;;) {
    if (!(await isListening(port, host, 300)) && (await canBind(port, host))) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Independent proof: every recorded process gone, every host:port the lab used free, no process in its directory, no directory. */
export async function verifyGone(
  name: string,
  layout: LabLayout,
  realLabDir: string,
  state: LabState,
  started: number,
): Promise<TeardownReceipt> {
  const processes = state.components.flatMap((c) =>
    driverOf(c)
      .processes(c)
      .map(({ name: proc, record }) => {
        const left = ownedProcesses(record);
        return { component: c.id, name: proc, pid: record.pid, gone: left.length === 0 && !isAlive(record), left };
      }),
  );
  const ports = await Promise.all(
    state.components.flatMap((c) =>
      driverOf(c)
        .ports(c)
        .map(async (p) => ({ component: c.id, name: p.name, host: p.host, port: p.port, free: await becomesFree(p.port, p.host) })),
    ),
  );
  const strays = processesIn(realLabDir);
  const directories = [layout.dir].map((path) => ({ path, removed: !existsSync(path) }));
  const leftovers = [
    ...processes
      .filter((p) => !p.gone)
      .map((p) => `process of ${p.component} (${p.name}) still running (pid ${[...new Set([p.pid, ...p.left])].join(', ')})`),
    ...strays.map((s) => `process ${s.pid} (${s.command}) still runs inside ${realLabDir}`),
    ...ports
      .filter((p) => !p.free)
      .map((p) => `port ${p.host}:${p.port} (${p.component}${p.name === 'port' ? '' : ` ${p.name}`}) still in use`),
    ...directories.filter((d) => !d.removed).map((d) => `directory ${d.path} still exists`),
  ];
  return {
    lab: name,
    ok: leftovers.length === 0,
    processes,
    ports,
    directories,
    strays,
    leftovers,
    seconds: Number(((performance.now() - started) / 1000).toFixed(2)),
  };
}
