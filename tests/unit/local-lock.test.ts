// The per-lab lock: one holder at a time; a holder that is gone leaves a stale lock to take over.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireLock } from '../../constructs/local/lock.js';
import { procStat } from '../../constructs/local/proc.js';

const dir = mkdtempSync(join(tmpdir(), 'lf-lock-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('lab lock', () => {
  it('holds the pid and start time of its holder and refuses a second holder while it lives', () => {
    const path = join(dir, 'a.lock');
    const lock = acquireLock(path, 'a', 'up');
    const content = JSON.parse(readFileSync(path, 'utf8'));
    expect(content).toMatchObject({ pid: process.pid, startTime: procStat(process.pid)!.startTime, command: 'up' });
    expect(() => acquireLock(path, 'a', 'down')).toThrow(/^lab 'a' is busy: `labforge up` \(pid \d+\) has held its lock since /);
    lock.release();
    expect(existsSync(path)).toBe(false);
  });

  it('takes over a lock whose holder is gone (same pid reused: different start time)', () => {
    const path = join(dir, 'b.lock');
    const self = procStat(process.pid)!;
    writeFileSync(path, JSON.stringify({ pid: process.pid, startTime: self.startTime + 1, bootId: 'x', command: 'up', since: 'then' }));
    const lock = acquireLock(path, 'b', 'up');
    expect(JSON.parse(readFileSync(path, 'utf8')).startTime).toBe(self.startTime);
    lock.release();
  });

  it('takes over a half-written (empty) lock file', () => {
    const path = join(dir, 'c.lock');
    writeFileSync(path, '');
    acquireLock(path, 'c', 'down').release();
    expect(existsSync(path)).toBe(false);
  });
});
