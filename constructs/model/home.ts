// The labforge home: `.labforge/` in the current directory, or LABFORGE_HOME. Every runtime that
// keeps state on the user's machine (local processes, the k8s target) keeps one directory per lab
// there, with a state file whose `target` says which runtime owns the lab.
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
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
