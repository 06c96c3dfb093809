// One `up` or `down` of a lab at a time: an O_EXCL lock file holding the holder's pid, start time
// and boot id. A lock whose holder is gone (crash, kill -9, reboot) is stale and taken over.
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { ExternalError } from '../model/errors.js';
import { bootId, isAlive, procStat, type ProcessRecord } from './proc.js';

interface LockContent {
  readonly pid: number;
  readonly startTime: number;
  readonly bootId: string;
  readonly command: string;
  readonly since: string;
}

export interface LabLock {
  release(): void;
}

function holder(path: string): LockContent | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as LockContent;
  } catch {
    // Unreadable or half-written (the writer died between open and write): treat as stale.
    return undefined;
  }
}

/** Takes the lock of lab `name` for `command` (`up`, `down`) or fails with who holds it. */
export function acquireLock(path: string, name: string, command: string): LabLock {
  const self = procStat(process.pid);
  const content: LockContent = {
    pid: process.pid,
    startTime: self?.startTime ?? 0,
    bootId: bootId(),
    command,
    since: new Date().toISOString(),
  };
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx', 0o644);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const current = holder(path);
      if (current) {
        const record: ProcessRecord = { ...current, command: [current.command], uid: 0, startedAt: current.since };
        if (isAlive(record)) {
          throw new ExternalError(
            `lab '${name}' is busy: \`labforge ${current.command}\` (pid ${current.pid}) has held its lock since ${current.since}`,
            'wait for it to finish, then run the command again',
          );
        }
      }
      // Stale: the holder is gone. Remove and retry (another process may win the race: fine).
      try {
        unlinkSync(path);
      } catch {
        /* someone else removed it first */
      }
      continue;
    }
    writeSync(fd, JSON.stringify(content));
    closeSync(fd);
    return {
      release: () => {
        const current = holder(path);
        if (current && current.pid === process.pid && current.startTime === content.startTime) {
          try {
            unlinkSync(path);
          } catch {
            /* already gone */
          }
        }
      },
    };
  }
  throw new ExternalError(`could not take the lock of lab '${name}' (${path})`, 'run the command again');
}
