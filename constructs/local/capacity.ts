// Can this machine hold N local labs of a level? Checked before anything starts, from the memory
// and ports one lab of each level takes (measured by `npm run bench`: RSS after `up`, with room
// for the servers' growth while learners work).
import { freemem } from 'node:os';
import { UsageError } from '../model/errors.js';
import type { Level } from '../model/types.js';

export interface LocalFootprint {
  /** Resident memory of one lab while in use, MiB (bench: RSS after up, plus about 30%). */
  readonly memoryMiB: number;
  /** Loopback ports one lab listens on. */
  readonly ports: number;
}

export const LOCAL_FOOTPRINT: Readonly<Record<Level, LocalFootprint>> = {
  beginner: { memoryMiB: 80, ports: 1 },
  intermediate: { memoryMiB: 250, ports: 3 },
  advanced: { memoryMiB: 900, ports: 12 },
  expert: { memoryMiB: 2400, ports: 40 },
};

/** Ports labs pick from: the kernel's free ports below 55536 (Redis cluster buses add 10000). */
const PICKABLE_PORTS = 55_535 - 1024;
/** Memory left to the rest of the machine. */
const HEADROOM = 0.8;

export interface Capacity {
  /** Bytes the labs may use: free memory (or the cgroup limit, if lower). */
  readonly memoryBytes: number;
  /** Ports already taken by labs of this home. */
  readonly portsInUse: number;
}

export function machineCapacity(portsInUse: number): Capacity {
  // A container's cgroup limit, when there is one (0 or undefined otherwise).
  const limit = process.constrainedMemory?.() ?? 0;
  const free = freemem();
  return { memoryBytes: limit > 0 ? Math.min(free, limit) : free, portsInUse };
}

/** Throws a one-line error naming how many participants fit when `count` labs of `level` do not. */
export function checkLocalCapacity(level: Level, count: number, capacity: Capacity): void {
  const one = LOCAL_FOOTPRINT[level];
  const usable = capacity.memoryBytes * HEADROOM;
  const byMemory = Math.floor(usable / (one.memoryMiB * 2 ** 20));
  const byPorts = Math.floor((PICKABLE_PORTS - capacity.portsInUse) / one.ports);
  const fits = Math.min(byMemory, byPorts);
  if (count <= fits) return;
  const gib = (bytes: number) => (bytes / 2 ** 30).toFixed(1);
  const need = count * one.memoryMiB * 2 ** 20;
  const why =
    byMemory < byPorts
      ? `${count} local ${level} labs need about ${gib(need)} GiB of memory and ${gib(usable)} GiB is free to use`
      : `${count} local ${level} labs need ${count * one.ports} ports`;
  throw new UsageError(
    `--participants ${count} does not fit on this machine: ${why}; at most ${fits} here (or use --target pulumi); nothing was created`,
  );
}
