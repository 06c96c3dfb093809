// Fault cases of the local target: a killed server, a port taken by a foreign program, Ctrl-C in
// the middle of `up` (intermediate, and a long expert `up` with a dozen servers and Kafka's JVMs
// running), two concurrent `up`s, unknown labs, an unusable LABFORGE_HOME.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertNothingLeft,
  assertPrerequisites,
  cleanup,
  cli,
  json,
  listeningAddresses,
  makeHome,
  occupy,
  pidAlive,
  portAccepts,
  portBindable,
  processesInside,
  startCli,
  uniqueName,
  type StatusComponent,
} from './helpers.js';

const { parent, home } = makeHome('faults');

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function recorded(name: string): { components: { id: string; port: number; process?: { pid: number } }[] } | undefined {
  try {
    return JSON.parse(readFileSync(join(home, name, 'state.json'), 'utf8'));
  } catch {
    return undefined;
  }
}

describe('local target fault cases', () => {
  afterAll(() => cleanup(parent, home));
  beforeAll(() => assertPrerequisites(true));

  it('kill -9 of PostgreSQL: health fails naming it, a foreign program on its port is reported, up heals it', async () => {
    const name = uniqueName('kill');
    const up = await cli(['up', 'beginner', '--name', name, '--json'], { home });
    expect(up.code, up.stderr).toBe(0);
    const db = json(up).components[0] as StatusComponent;
    process.kill(db.pid!, 'SIGKILL');
    await waitFor('postmaster gone', () => (pidAlive(db.pid!) ? undefined : true));

    const health = await cli(['health', name], { home });
    expect(health.code).toBe(1);
    expect(health.stderr).toMatch(new RegExp(`lab '${name}': db \\(postgres\\) failed: not running: pid ${db.pid} is gone`));

    // A foreign program takes the recorded port: up refuses clearly, health and status say so.
    const foreign = await occupy(db.port);
    try {
      const blocked = await cli(['up', 'beginner', '--name', name], { home });
      expect(blocked.code).toBe(1);
      expect(blocked.stderr.split('\n')[0]).toBe(
        `labforge: lab '${name}': db (postgres) cannot start: 127.0.0.1:${db.port} is taken by another program (not started by this lab)`,
      );
      expect((await cli(['health', name], { home })).stderr).toContain(`127.0.0.1:${db.port} is taken by another program`);
      expect(json(await cli(['status', name, '--json'], { home })).components[0].state).toBe('port taken by another program');
    } finally {
      await foreign.close();
    }

    const healed = await cli(['up', 'beginner', '--name', name, '--json'], { home });
    expect(healed.code, healed.stderr).toBe(0);
    expect(healed.stderr).toMatch(/db \(postgres\)\s+restarted/);
    const after = json(healed).components[0];
    expect(after.port).toBe(db.port);
    expect(after.pid).not.toBe(db.pid);
    expect((await cli(['health', name], { home })).code).toBe(0);
    // The data survived the crash: the seeded rows are still there.
    const secrets = json(await cli(['secrets', name, '--json'], { home }));
    const client = new pg.Client({ connectionString: secrets.urls.db });
    await client.connect();
    expect((await client.query('SELECT count(*)::int AS n FROM customers')).rows[0].n).toBeGreaterThan(0);
    await client.end();

    const down = await cli(['down', name], { home });
    expect(down.code, down.stderr).toBe(0);
    await assertNothingLeft(expect, [after], join(home, name));
  });

  it('labs of different names run side by side on distinct ports', async () => {
    const [a, b] = [uniqueName('side'), uniqueName('side')];
    const [upA, upB] = await Promise.all([
      cli(['up', 'beginner', '--name', a, '--json'], { home }),
      cli(['up', 'beginner', '--name', b, '--json'], { home }),
    ]);
    expect(upA.code, upA.stderr).toBe(0);
    expect(upB.code, upB.stderr).toBe(0);
    expect(json(upA).components[0].port).not.toBe(json(upB).components[0].port);
    const status = json(await cli(['status', '--json'], { home }));
    expect(status.map((l: { name: string }) => l.name)).toEqual(expect.arrayContaining([a, b]));
    expect((await cli(['down', a], { home })).code).toBe(0);
    // b is untouched by a's down.
    expect((await cli(['health', b], { home })).code).toBe(0);
    expect((await cli(['down', b], { home })).code).toBe(0);
  });

  for (const moment of ['while initdb runs', 'after PostgreSQL started'] as const) {
    it(`Ctrl-C ${moment} stops what was started and leaves nothing`, async () => {
      const name = uniqueName('int');
      const run = startCli(['up', 'intermediate', '--name', name], { home });
      // Redis starts first (during initdb); the postmaster is recorded once it is spawned.
      const which = moment === 'while initdb runs' ? 'cache' : 'db';
      const state = await waitFor(`${which} recorded`, () => {
        const s = recorded(name);
        return s?.components.find((c) => c.id === which)?.process ? s : undefined;
      });
      run.child.kill('SIGINT');
      const result = await run.done;
      expect(result.code, result.stderr).toBe(130);
      expect(result.stderr).toContain(`interrupted: stopped what was started and removed lab '${name}'; nothing is left`);
      const seen = recorded(name) ?? state;
      const components = seen.components.map((c) => ({
        id: c.id,
        kind: '',
        host: '127.0.0.1',
        port: c.port,
        pid: c.process?.pid,
        state: '',
      }));
      await assertNothingLeft(expect, components, join(home, name));
      expect(existsSync(join(home, `${name}.lock`))).toBe(false);
      // Nothing for down to do: the lab is unknown now.
      expect((await cli(['down', name], { home })).code).toBe(2);
    });
  }

  it('Ctrl-C during a long expert up (replicas or Kafka starting): exit 130, one line, no process, no listener on any lab address, no directory', async () => {
    const name = uniqueName('expint');
    const labDir = join(home, name);
    const t0 = performance.now();
    const run = startCli(['up', 'expert', '--name', name], { home, timeoutMs: 40_000 });
    let stderr = '';
    run.child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    // Progress prints a line when a server is ready: a replica needs its primary and a link
    // first, and Kafka's brokers were spawned at the start, so several servers run by then.
    const trigger = /\((shard \d+ replica, region \d+|kafka)\)\s+started/;
    await waitFor('a replica or Kafka started', () => (trigger.test(stderr) ? true : undefined), 30_000);
    interface Recorded {
      components: {
        id: string;
        host: string;
        port: number;
        extraPorts?: Record<string, number>;
        process?: { pid: number };
        helpers?: Record<string, { pid: number }>;
      }[];
    }
    // Every host:port is planned before the first spawn; pids as each server is spawned.
    const state = recorded(name) as Recorded;
    const startedLines = stderr.split('\n').filter((l) => /\)\s+started\s/.test(l));
    const sigint = performance.now();
    run.child.kill('SIGINT');
    const result = await run.done;
    const timing = {
      toSigint: Math.round(sigint - t0),
      sigintToExit: Math.round(performance.now() - sigint),
      startedBefore: startedLines.length,
    };
    console.log(`expert Ctrl-C (ms): ${JSON.stringify(timing)}`);
    expect(startedLines.length, stderr).toBeGreaterThanOrEqual(4);
    // Kafka's three JVMs were spawned (recorded) by then: the cleanup has to stop them too.
    const kafka = state.components.find((c) => c.id === 'events')!;
    expect([kafka.process, kafka.helpers?.['broker-2'], kafka.helpers?.['broker-3']].every((p) => p !== undefined)).toBe(true);
    expect(result.code, result.stderr).toBe(130);
    expect(result.stderr.split('\n').filter((l) => l.startsWith('labforge:'))).toEqual([
      `labforge: interrupted: stopped what was started and removed lab '${name}'; nothing is left`,
    ]);
    const pids = state.components
      .flatMap((c) => [c.process?.pid, ...Object.values(c.helpers ?? {}).map((h) => h.pid)])
      .filter((p): p is number => p !== undefined);
    expect(pids.length).toBeGreaterThanOrEqual(startedLines.length);
    for (const pid of pids) expect({ pid, alive: pidAlive(pid) }).toEqual({ pid, alive: false });
    expect(processesInside(labDir)).toEqual([]);
    const addresses = state.components.flatMap((c) =>
      [c.port, ...Object.values(c.extraPorts ?? {})].filter((p) => p > 0).map((p) => ({ host: c.host, port: p })),
    );
    expect(new Set(addresses.map((a) => a.host))).toEqual(new Set(['127.0.1.1', '127.0.2.1']));
    const listening = new Set(listeningAddresses());
    expect(addresses.map((a) => `${a.host}:${a.port}`).filter((a) => listening.has(a))).toEqual([]);
    for (const { host, port } of addresses) {
      expect({ host, port, accepts: await portAccepts(port, host), bindable: await portBindable(port, host) }).toEqual({
        host,
        port,
        accepts: false,
        bindable: true,
      });
    }
    expect(existsSync(labDir)).toBe(false);
    expect(existsSync(join(home, `${name}.lock`))).toBe(false);
  }, 45_000);

  it('a second concurrent up of the same lab gets the lock message (exit 1)', async () => {
    const name = uniqueName('lock');
    const first = startCli(['up', 'beginner', '--name', name], { home });
    await waitFor('lock file', () => (existsSync(join(home, `${name}.lock`)) ? true : undefined));
    const second = await cli(['up', 'beginner', '--name', name], { home });
    expect(second.code).toBe(1);
    expect(second.stderr.split('\n')[0]).toMatch(
      new RegExp(`^labforge: lab '${name}' is busy: \`labforge up\` \\(pid \\d+\\) has held its lock since `),
    );
    expect((await first.done).code).toBe(0);
    expect((await cli(['down', name], { home })).code).toBe(0);
  });

  it('a stale lock (holder gone) is taken over', async () => {
    const name = uniqueName('stale');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(home, { recursive: true });
    writeFileSync(
      join(home, `${name}.lock`),
      JSON.stringify({ pid: 999999, startTime: 1, bootId: 'old-boot', command: 'up', since: '2020-01-01T00:00:00Z' }),
    );
    const up = await cli(['up', 'beginner', '--name', name], { home });
    expect(up.code, up.stderr).toBe(0);
    expect((await cli(['down', name], { home })).code).toBe(0);
  });

  it('an unknown lab name for down, health, status and secrets: one line naming it and the known labs, exit 2', async () => {
    const name = uniqueName('known');
    expect((await cli(['up', 'beginner', '--name', name], { home })).code).toBe(0);
    try {
      for (const command of ['down', 'health', 'status', 'secrets']) {
        const result = await cli([command, 'no-such-lab'], { home });
        expect(result.code, command).toBe(2);
        expect(result.stderr.trim().split('\n')).toHaveLength(1);
        expect(result.stderr).toContain(`unknown lab 'no-such-lab'`);
        expect(result.stderr).toContain(name);
      }
    } finally {
      expect((await cli(['down', name], { home })).code).toBe(0);
    }
  });

  it('an unusable LABFORGE_HOME (a path under a file) fails with one clear line and creates nothing', async () => {
    const file = join(parent, 'a-file');
    writeFileSync(file, 'not a directory\n');
    const bad = join(file, 'labs');
    const result = await cli(['up', 'beginner', '--name', 'x'], { home: bad, cwd: parent });
    expect([1, 2]).toContain(result.code);
    expect(result.stderr.split('\n')[0]).toBe(`labforge: cannot use ${bad} as the labforge home: ${file} is a file, not a directory`);
    expect(readFileSync(file, 'utf8')).toBe('not a directory\n');
  });

  it('up expert with a bad --regions, up --regions on a level without regions, and an unknown --target fail with one line, exit 2, nothing created', async () => {
    const emptyHome = join(parent, 'untouched');
    const expert = await cli(['up', 'expert', '--regions', '4'], { home: emptyHome });
    expect(expert.code).toBe(2);
    expect(expert.stderr.trim()).toBe("labforge: --regions must be an integer from 2 to 3 for a local lab, got '4'");
    const beginner = await cli(['up', 'beginner', '--regions', '2'], { home: emptyHome });
    expect(beginner.code).toBe(2);
    expect(beginner.stderr.trim()).toBe('labforge: --regions applies to the expert lab only (it has regions), not to beginner');
    const target = await cli(['up', 'beginner', '--target', 'gcp'], { home: emptyHome });
    expect(target.code).toBe(2);
    expect(target.stderr.trim()).toBe("labforge: unknown target 'gcp' (valid: local, aws, k8s, pulumi)");
    expect(existsSync(emptyHome)).toBe(false);
  });
});

describe('local target: a home the servers cannot reach', () => {
  const { parent: outer } = makeHome('private');
  afterAll(() => cleanup(outer, join(outer, 'private', 'home')));

  it('as root, a home under a 0700 directory fails before anything is created, naming the directory and the fix', async () => {
    const { chmodSync, mkdirSync, readdirSync } = await import('node:fs');
    const privateDir = join(outer, 'private');
    mkdirSync(privateDir, { mode: 0o700 });
    chmodSync(privateDir, 0o700);
    const result = await cli(['up', 'beginner', '--name', 'p'], { home: join(privateDir, 'home'), cwd: outer });
    if (process.getuid?.() === 0) {
      // Servers run as `labforge`, which cannot enter a root-only directory.
      expect(result.code).toBe(1);
      expect(result.stderr.split('\n')[0]).toBe(
        `labforge: the servers run as user 'labforge', which cannot enter ${privateDir} (mode 700), a parent of ${privateDir}/home`,
      );
      expect(readdirSync(privateDir)).toEqual([]);
    } else {
      // A normal user owns the directory and runs the servers itself: this just works.
      expect(result.code, result.stderr).toBe(0);
      expect((await cli(['down', 'p'], { home: join(privateDir, 'home'), cwd: outer })).code).toBe(0);
    }
  });
});
