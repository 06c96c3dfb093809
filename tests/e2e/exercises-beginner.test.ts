// The beginner exercises, checked for real: the lab up, `check` fails every check with a hint
// (nothing done yet, no app running), then the reference solutions (tests/e2e/solutions) are
// applied, and `check` passes every check. So each check can fail and can pass.
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHECKS } from '../../constructs/exercises/index.js';
import { getLab } from '../../labs/index.js';
import { assertPrerequisites, cleanup, cli, freePort, json, makeHome, uniqueName, type CheckRun } from './helpers.js';
import { solveSql, startApp } from './solutions/beginner.js';

const { parent, home } = makeHome('ex-beginner');
const name = uniqueName('exb');

describe('beginner exercises: check fails first, passes after the reference solutions', () => {
  let app: Server | undefined;
  afterAll(async () => {
    await new Promise((resolve) => (app ? app.close(resolve) : resolve(undefined)));
    await cleanup(parent, home);
  });
  beforeAll(() => assertPrerequisites(false));

  let appUrl = '';
  const allChecks = Object.values(CHECKS.beginner)
    .flat()
    .map((c) => c.id);

  it('every beginner exercise has at least one check', () => {
    for (const e of getLab('beginner').exercises) expect(CHECKS.beginner[e.id]?.length ?? 0, e.id).toBeGreaterThan(0);
  });

  it('before any work, every check fails with a hint (exit 1)', async () => {
    expect((await cli(['up', 'beginner', '--name', name], { home })).code).toBe(0);
    appUrl = `http://127.0.0.1:${await freePort()}`;
    const r = await cli(['check', name, '--app-url', appUrl, '--json'], { home });
    expect(r.code, r.stderr).toBe(1);
    const runs = json(r).checks as CheckRun[];
    expect(runs.map((c) => c.check)).toEqual(allChecks);
    for (const c of runs) {
      expect(c.ok, c.check).toBe(false);
      expect(c.hint, c.check).toBeTruthy();
    }
    expect(runs.find((c) => c.check === 'beginner-web-server/hello')!.detail).toContain('connection refused');
  });

  it('after the reference solutions every check passes (exit 0); one exercise can be checked alone', async () => {
    const { urls } = json<{ urls: Record<string, string> }>(await cli(['secrets', name, '--json'], { home }));
    await solveSql(urls.db!);
    app = await startApp(urls.db!, Number(new URL(appUrl).port));
    const r = await cli(['check', name, '--app-url', appUrl, '--json'], { home });
    const runs = json(r).checks as CheckRun[];
    expect(runs.filter((c) => !c.ok).map((c) => `${c.check}: ${c.detail}`)).toEqual([]);
    expect(r.code).toBe(0);
    const one = await cli(['check', name, 'beginner-sql-crud'], { home });
    expect(one.code, one.stdout).toBe(0);
    expect(one.stdout).toMatch(/PASS {2}an index on orders\(customer_id\) that the plan uses/);
    expect(one.stdout).toContain('4/4 checks pass');
  });

  it('the guide shows the real address, every skill with its exercises, and the check commands', async () => {
    const status = json(await cli(['status', name, '--json'], { home }));
    const r = await cli(['guide', name], { home });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`127.0.0.1:${status.components[0].port}`);
    for (const skill of getLab('beginner').skills) expect(r.stdout).toContain(skill);
    expect(r.stdout).toContain(`labforge check ${name} beginner-api-db`);
    expect(r.stdout).not.toContain('{{');
  });

  it('bad input: an unknown exercise and a bad --app-url give one line and exit 2', async () => {
    const unknown = await cli(['check', name, 'nope'], { home });
    expect([unknown.code, unknown.stderr.trim()]).toEqual([
      2,
      `labforge: unknown exercise 'nope' for the beginner lab (valid: ${getLab('beginner')
        .exercises.map((e) => e.id)
        .join(', ')})`,
    ]);
    const bad = await cli(['check', name, '--app-url', 'not a url'], { home });
    expect(bad.code).toBe(2);
  });
});
