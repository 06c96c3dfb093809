// Starting programs as the lab's run-as user: services detached (own process group, output to a
// log file, surviving the CLI), tools (initdb) attached and awaited.
import { spawn } from 'node:child_process';
import { chownSync, closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { ExternalError } from '../model/errors.js';
import type { RunAs } from './home.js';
import { recordProcess, type ProcessRecord } from './proc.js';
import { reportedElsewhere } from '../model/quiet.js';

/** Thrown when Ctrl-C (or SIGTERM) stopped `up` part way. */
export class InterruptedError extends Error {
  override readonly name = 'InterruptedError';
  constructor(message = 'interrupted') {
    super(message);
  }
}

export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new InterruptedError();
}

/** A small, explicit environment: servers must not inherit the caller's secrets or settings. */
export function serviceEnv(runAs: RunAs, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    LANG: 'C.UTF-8',
    HOME: '/nonexistent',
    USER: runAs.user,
    LOGNAME: runAs.user,
    ...extra,
  };
}

function identity(runAs: RunAs): { uid?: number; gid?: number } {
  return runAs.mode === 'service-user' ? { uid: runAs.uid, gid: runAs.gid } : {};
}

/** mkdir (mode as given) and, when the servers run as the service user, hand it over. */
export function makeOwnedDir(path: string, runAs: RunAs, mode = 0o700): void {
  mkdirSync(path, { recursive: true, mode });
  if (runAs.mode === 'service-user') chownSync(path, runAs.uid, runAs.gid);
}

export function lastLines(file: string, count = 5): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-count).join(' | ');
  } catch {
    return '';
  }
}

export interface ServiceSpawn {
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly logFile: string;
  readonly env: Record<string, string>;
  readonly runAs: RunAs;
}

/** Starts a service detached: its own process group, stdout/stderr appended to its log file. */
export function spawnService(s: ServiceSpawn): ProcessRecord {
  const log = openSync(s.logFile, 'a', 0o640);
  try {
    const child = spawn(s.command, [...s.args], {
      cwd: s.cwd,
      env: s.env,
      detached: true,
      stdio: ['ignore', log, log],
      ...identity(s.runAs),
    });
    if (child.pid === undefined) throw new ExternalError(`could not start ${s.command}`, `see ${s.logFile}`);
    child.on('error', reportedElsewhere);
    child.unref();
    return recordProcess(child.pid, [s.command, ...s.args], s.runAs.uid, s.cwd);
  } finally {
    closeSync(log);
  }
}

/** Runs a tool to completion as the run-as user; a failure carries the end of its output. */
export function runTool(command: string, args: readonly string[], runAs: RunAs, cwd: string, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...args], {
      cwd,
      env: serviceEnv(runAs),
      stdio: ['ignore', 'pipe', 'pipe'],
      ...identity(runAs),
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const onAbort = () => child.kill('SIGTERM');
    signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (error) => reject(new ExternalError(`could not run ${command}: ${error.message}`)));
    child.on('close', (code, sig) => {
      signal?.removeEventListener('abort', onAbort);
      if (signal?.aborted) return reject(new InterruptedError());
      if (code === 0) return resolve();
      const tail = output.trim().split('\n').slice(-3).join(' | ');
      reject(new ExternalError(`${command} failed (${sig ?? `exit ${code}`}): ${tail}`));
    });
  });
}
