// Process identity: a record matches only the very process it was taken from.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { bootId, isAlive, ownedProcesses, procStat, recordProcess, stopProcess } from '../../constructs/local/proc.js';

describe('process records', () => {
  it('reads the start time (field 22) of a live process, even with spaces and parentheses in its name', () => {
    const self = procStat(process.pid)!;
    expect(self.pid).toBe(process.pid);
    expect(self.startTime).toBeGreaterThan(0);
    expect(self.state).toMatch(/^[RS]$/);
    expect(procStat(2 ** 22 + 7)).toBeUndefined();
  });

  it('a record with the right pid but another start time (a reused pid) is not alive and owns nothing', () => {
    const real = recordProcess(process.pid, ['node'], process.getuid!());
    expect(isAlive(real)).toBe(true);
    const reused = { ...real, startTime: real.startTime - 1 };
    expect(isAlive(reused)).toBe(false);
    expect(ownedProcesses(reused)).toEqual([]);
    const otherBoot = { ...real, bootId: `${bootId()}-before-reboot` };
    expect(isAlive(otherBoot)).toBe(false);
    expect(ownedProcesses(otherBoot)).toEqual([]);
  });

  it('stopProcess stops a detached process group and escalates to SIGKILL when the first signal is ignored', async () => {
    // A shell that ignores SIGTERM and has a child in its group.
    const child = spawn('sh', ['-c', "trap '' TERM; sleep 30 & wait"], { detached: true, stdio: 'ignore' });
    child.unref();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const record = recordProcess(child.pid!, ['sh'], process.getuid!());
    expect(ownedProcesses(record).length).toBe(2);
    const started = Date.now();
    expect(await stopProcess(record, 'SIGTERM', 200)).toEqual([]);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(isAlive(record)).toBe(false);
  });
});
