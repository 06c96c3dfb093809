// Processes labforge started, identified by (boot id, pid, start time) so that a pid reused by
// another program (or after a reboot) is never mistaken for ours and never signalled.
import { readFileSync, readdirSync, readlinkSync, realpathSync, statSync } from 'node:fs';

/** What the state file keeps about one process labforge started. */
export interface ProcessRecord {
  readonly pid: number;
  /** Field 22 of /proc/<pid>/stat: clock ticks after boot at which the process started. */
  readonly startTime: number;
  /** /proc/sys/kernel/random/boot_id when it was started: another boot means it is gone. */
  readonly bootId: string;
  /** Executable and arguments (secrets never appear here: they travel in files or env). */
  readonly command: readonly string[];
  /** User id the process runs as. */
  readonly uid: number;
  /** ISO-8601 instant it was started. */
  readonly startedAt: string;
  /**
   * Real path of its working directory. Children that leave the process group (PostgreSQL's
   * backends call setsid) are still recognised by it after their parent was killed.
   */
  readonly cwd?: string;
}

export interface ProcStat {
  readonly pid: number;
  readonly state: string;
  readonly ppid: number;
  readonly pgid: number;
  readonly startTime: number;
}

let cachedBootId: string | undefined;

export function bootId(): string {
  cachedBootId ??= readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  return cachedBootId;
}

/** Parses /proc/<pid>/stat; undefined when the process does not exist. */
export function procStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: split after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state), so field n is rest[n - 3].
  return {
    pid,
    state: rest[0] ?? '?',
    ppid: Number(rest[1]),
    pgid: Number(rest[2]),
    startTime: Number(rest[19]),
  };
}

function procUid(pid: number): number | undefined {
  try {
    return statSync(`/proc/${pid}`).uid;
  } catch {
    return undefined;
  }
}

/** A process record for a child that was just spawned (read while it surely exists). */
export function recordProcess(pid: number, command: readonly string[], uid: number, cwd?: string): ProcessRecord {
  const stat = procStat(pid);
  if (!stat) throw new Error(`process ${pid} (${command[0]}) exited right after it was started`);
  return {
    pid,
    startTime: stat.startTime,
    bootId: bootId(),
    command,
    uid,
    startedAt: new Date().toISOString(),
    cwd: cwd && realpathSync(cwd),
  };
}

function procCwd(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return undefined;
  }
}

/** True while the very process that was recorded runs (a zombie counts as gone). */
export function isAlive(record: ProcessRecord): boolean {
  if (record.bootId !== bootId()) return false;
  const stat = procStat(record.pid);
  return stat !== undefined && stat.startTime === record.startTime && stat.state !== 'Z' && stat.state !== 'X';
}

function allPids(): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number);
}

/**
 * Processes labforge may signal for a record: the process itself when it is ours, plus its
 * descendants that outlive it for a moment (Postgres backends after a kill -9 of the postmaster):
 * processes that started no earlier than it, run as the same user, and are either in its process
 * group or work in its (lab-private) directory. A group id cannot be reused while any member
 * lives, and no other program works in a lab's own directory.
 */
export function ownedProcesses(record: ProcessRecord): number[] {
  if (record.bootId !== bootId()) return [];
  const found: number[] = [];
  for (const pid of allPids()) {
    const stat = procStat(pid);
    if (!stat || stat.state === 'Z' || stat.state === 'X') continue;
    if (pid === record.pid) {
      if (stat.startTime === record.startTime) found.push(pid);
      continue;
    }
    if (stat.startTime < record.startTime || procUid(pid) !== record.uid) continue;
    if (stat.pgid === record.pid || (record.cwd !== undefined && procCwd(pid) === record.cwd)) found.push(pid);
  }
  return found;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Stops a recorded process and its group: `first` signal, then SIGKILL after `graceMs`.
 * Returns the pids still alive at the end (empty when everything is gone).
 */
export async function stopProcess(record: ProcessRecord, first: NodeJS.Signals, graceMs = 2000): Promise<number[]> {
  let pids = ownedProcesses(record);
  if (pids.length === 0) return [];
  if (pids.includes(record.pid)) signal(record.pid, first);
  else for (const pid of pids) signal(pid, 'SIGKILL');
  let deadline = Date.now() + graceMs;
  let killed = false;
  for (;;) {
    await sleep(5);
    pids = ownedProcesses(record);
    if (pids.length === 0) return [];
    if (Date.now() > deadline) {
      if (killed) return pids;
      for (const pid of pids) signal(pid, 'SIGKILL');
      killed = true;
      // SIGKILL cannot be ignored; the kernel still needs a moment to tear the processes down.
      deadline = Date.now() + 1000;
    }
  }
}

/**
 * Processes (not zombies) whose working directory is `dir` or inside it, e.g. a lab's directory:
 * every server of a lab works in its own sub-directory, so this finds them independently of the
 * state file (a process spawned but never recorded, a child that left its group).
 */
export function processesIn(dir: string): { pid: number; command: string }[] {
  const found: { pid: number; command: string }[] = [];
  for (const pid of allPids()) {
    if (pid === process.pid) continue;
    const cwd = procCwd(pid)?.replace(/ \(deleted\)$/, '');
    if (!cwd || (cwd !== dir && !cwd.startsWith(`${dir}/`))) continue;
    const stat = procStat(pid);
    if (!stat || stat.state === 'Z' || stat.state === 'X') continue;
    let command = '?';
    try {
      command = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    } catch {
      /* gone meanwhile */
    }
    found.push({ pid, command });
  }
  return found;
}
