// The expert exercises, checked for real on one expert lab (2 regions, 4 PostgreSQL servers, 3
// Kafka brokers): `check` fails every check with a hint (nothing done, no gateway), then the
// drills run through the CLI (kill-primary, kill-broker + up, partition + heal) and the reference
// solutions (tests/e2e/solutions/expert.ts) are applied, and `check` passes every check.
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHECKS } from '../../constructs/exercises/index.js';
import { getLab } from '../../labs/index.js';
import { assertPrerequisites, cleanup, cli, freePort, json, makeHome, uniqueName, type CheckRun } from './helpers.js';
import {
  expertLab,
  makeCertificate,
  measureLatency,
  solvePii,
  solveRouting,
  solveStreams,
  startGateway,
  writeDocs,
  writePartition,
  writePlanReview,
} from './solutions/expert.js';

const { parent, home } = makeHome('ex-expert');
const name = uniqueName('exx');
const workdir = mkdtempSync(join(tmpdir(), 'lf-e2e-ex-expert-work-'));
const timings: Record<string, number> = {};

async function timed<T>(what: string, work: () => Promise<T>): Promise<T> {
  const t = performance.now();
  try {
    return await work();
  } finally {
    timings[what] = Math.round(performance.now() - t);
  }
}

async function ok(args: string[], timeoutMs = 60_000) {
  const r = await cli(args, { home, timeoutMs });
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r;
}

describe('expert exercises: check fails first, passes after the drills and the reference solutions', () => {
  let gateway: Server | undefined;
  // Registered before the lab exists: whatever fails, nothing is left running.
  afterAll(async () => {
    await new Promise((resolve) => (gateway ? gateway.close(resolve) : resolve(undefined)));
    await cleanup(parent, home);
    rmSync(workdir, { recursive: true, force: true });
    console.log(`expert exercises e2e (ms): ${JSON.stringify(timings)}`);
  });

  let appUrl = '';
  const allChecks = Object.values(CHECKS.expert)
    .flat()
    .map((c) => c.id);
  const check = (...extra: string[]) =>
    cli(['check', name, ...extra, '--app-url', appUrl, '--workdir', workdir], { home, timeoutMs: 60_000 });

  beforeAll(async () => {
    assertPrerequisites(false);
    await timed('up', () => ok(['up', 'expert', '--name', name], 120_000));
    appUrl = `https://127.0.0.1:${await freePort()}`;
  }, 150_000);

  it('every expert exercise has at least one check', () => {
    for (const e of getLab('expert').exercises) expect(CHECKS.expert[e.id]?.length ?? 0, e.id).toBeGreaterThan(0);
  });

  it('before any work, every check fails with a hint (exit 1)', async () => {
    const r = await timed('checkFail', () => check('--json'));
    expect(r.code, r.stderr).toBe(1);
    const runs = json(r).checks as CheckRun[];
    expect(runs.map((c) => c.check)).toEqual(allChecks);
    for (const c of runs) {
      expect(c.ok, `${c.check}: ${c.detail}`).toBe(false);
      expect(c.hint, c.check).toBeTruthy();
    }
    expect(runs.find((c) => c.check === 'expert-fault-tolerance/failover')!.detail).toMatch(/timeline 1/);
    expect(runs.find((c) => c.check === 'expert-streams/broker-drill')!.detail).toMatch(/no broker was restarted/);
  }, 60_000);

  it('after the drills and the reference solutions every check passes (exit 0); one exercise can be checked alone', async () => {
    // The drills, through the CLI as a learner runs them.
    await timed('drills', async () => {
      const failover = json(await ok(['chaos', name, 'kill-primary', '0', '--json']));
      expect(failover.did.join('\n')).toMatch(/promoted db-s0-r1/);
      await ok(['chaos', name, 'kill-broker', '2']);
    });
    // `up` rebuilds shard 0's replica from its new primary and restarts broker 2.
    const up = json(await timed('upAfterDrills', () => ok(['up', 'expert', '--name', name, '--json'], 120_000)));
    expect(up.health.filter((h: { ok: boolean }) => !h.ok)).toEqual([]);
    await timed('partition', async () => {
      await ok(['chaos', name, 'partition', '1']);
      await ok(['chaos', name, 'heal']);
    });
    const secrets = json(await ok(['secrets', name, '--json']));
    const status = json(await ok(['status', name, '--json']));
    const lab = expertLab(up, secrets, status.latencyMs);
    expect(lab.servers.find((s) => s.id === 'db-s0-r1')?.role).toBe('primary');

    await timed('solutions', async () => {
      await solveRouting(lab);
      writePartition(lab, workdir, 1);
      await measureLatency(lab, workdir);
      await solvePii(lab, workdir);
      gateway = await startGateway(lab, makeCertificate(workdir), Number(new URL(appUrl).port));
      writeDocs(workdir);
      await Promise.all([
        solveStreams(lab, workdir),
        ok(['synth', 'expert', '--target', 'aws', '--out', join(workdir, 'iac/before')]).then(() =>
          ok([
            'synth',
            'expert',
            '--target',
            'aws',
            '--regions',
            'us-east-1,eu-west-1,ap-southeast-1',
            '--out',
            join(workdir, 'iac/after'),
          ]),
        ),
      ]);
      writePlanReview(workdir);
    });

    const r = await timed('checkPass', () => check('--json'));
    const runs = json(r).checks as CheckRun[];
    expect(runs.filter((c) => !c.ok).map((c) => `${c.check}: ${c.detail}`)).toEqual([]);
    expect(runs.map((c) => c.check)).toEqual(allChecks);
    expect(r.code).toBe(0);

    const one = await timed('checkOne', () => check('expert-fault-tolerance'));
    expect(one.code, one.stdout).toBe(0);
    expect(one.stdout).toMatch(/PASS {2}a shard went through a failover/);
    expect(one.stdout).toContain('shard 0: db-s0-r1 promoted (timeline 2, region 1)');
    expect(one.stdout).toContain('4/4 checks pass');
  }, 240_000);

  it('the guide names every expert skill, the exercise key and the check commands', async () => {
    const r = await cli(['guide', name], { home });
    expect(r.code, r.stderr).toBe(0);
    for (const skill of getLab('expert').skills) expect(r.stdout).toContain(skill);
    expect(r.stdout).toContain('`exercise-key`');
    for (const e of getLab('expert').exercises) expect(r.stdout).toContain(`labforge check ${name} ${e.id}`);
    expect(r.stdout).not.toContain('{{');
  });
});
