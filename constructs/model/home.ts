// The labforge home: `.labforge/` in the current directory, or LABFORGE_HOME. Every runtime that
// keeps state on the user's machine (local processes, the k8s target) keeps one directory per lab
// there, with a state file whose `target` says which runtime owns the lab.
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, readdirSync, renameSync, rmdirSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UsageError } from './errors.js';
import type { Target } from './types.js';

/** The directory holding every lab's state; from LABFORGE_HOME, else ./.labforge. */
export function labforgeHome(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  const fromEnv = env.LABFORGE_HOME?.trim();
  return fromEnv ? resolve(cwd, fromEnv) : join(cwd, '.labforge');
}

/** A password that is safe in URLs and config files: 24 random bytes, base64url. */
export function generatePassword(bytes = 24): string {
  return randomBytes(bytes).toString('base64url');
}

/** Writes a file atomically: a temporary file in the same directory, fsync, then rename. */
export function writeFileAtomic(path: string, content: string, mode = 0o644): void {
  const tmp = join(dirname(path), `.${Date.now()}-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'wx', mode);
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** Which runtime owns the lab `name` under `home`: its state file says; undefined when there is none. */
export function labTarget(home: string, name: string): Target | undefined {
  try {
    const state = JSON.parse(readFileSync(join(home, name, 'state.json'), 'utf8')) as { target?: Target };
    return state.target ?? 'local';
  } catch {
    return undefined;
  }
}

/** What every target's state file says about its lab: enough to list and reap labs of any target. */
export interface LabRecord {
  readonly name: string;
  readonly level: string;
  readonly target: Target;
  readonly createdAt: string;
  /** When `reap` may remove the lab; undefined for labs made before labforge recorded expiry. */
  readonly expiresAt?: string;
}

/** Every lab under `home` (a directory with a readable state file), by name. */
export function labRecords(home: string): LabRecord[] {
  if (!existsSync(home)) return [];
  const records: LabRecord[] = [];
  for (const entry of readdirSync(home, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    try {
      const state = JSON.parse(readFileSync(join(home, entry.name, 'state.json'), 'utf8')) as Partial<LabRecord>;
      records.push({
        name: entry.name,
        level: String(state.level),
        target: state.target ?? 'local',
        createdAt: String(state.createdAt),
        expiresAt: state.expiresAt,
      });
    } catch {
      /* no state file (not a lab), or one being written: skip */
    }
  }
  return records.sort((a, b) => a.name.localeCompare(b.name));
}

/** The names of the labs under `home` that `target`'s runtime owns. */
export function labsOfTarget(home: string, target: Target): string[] {
  return labRecords(home)
    .filter((r) => r.target === target)
    .map((r) => r.name);
}

/** True when the lab's expiry is at or before `now`. */
export function isExpired(record: LabRecord, now = new Date()): boolean {
  return record.expiresAt !== undefined && Date.parse(record.expiresAt) <= now.getTime();
}

/** Removes the labforge home once its last lab is gone. */
export function removeHomeIfEmpty(home: string): void {
  try {
    if (readdirSync(home).length === 0) rmdirSync(home);
  } catch {
    /* not empty, or already gone */
  }
}

/**
 * The state a cloud `up` may continue from: none, or the same target's lab of the same level;
 * another target's or another level's lab of that name is refused before anything runs.
 */
export function existingCloudLab<S extends { level: string }>(
  home: string,
  name: string,
  level: string,
  target: Target,
  read: () => S,
): S | undefined {
  const owner = labTarget(home, name);
  const refuse = (what: string) =>
    new UsageError(`lab '${name}' exists as a ${what} lab; choose another --name or run \`labforge down ${name}\` first`);
  if (owner !== undefined && owner !== target) throw refuse(owner);
  const existing = owner === target ? read() : undefined;
  if (existing && existing.level !== level) throw refuse(existing.level);
  return existing;
}
