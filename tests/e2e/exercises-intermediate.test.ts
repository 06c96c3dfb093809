// The intermediate exercises, checked for real: the lab up, `check` fails every check with a hint
// (nothing done yet, no app, an empty workdir), the unchanged starter API passes only what it
// already does, then the reference solutions (tests/e2e/solutions) are applied and `check` passes
// every check, leaving no account, row, key or file of its own behind.
import type { Server } from 'node:http';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHECKS } from '../../constructs/exercises/index.js';
import { getLab } from '../../labs/index.js';
import { assertPrerequisites, cleanup, cli, freePort, json, makeHome, uniqueName, type CheckRun } from './helpers.js';
import { solveSql, solveWorkdir, startApp } from './solutions/intermediate.js';

const { parent, home } = makeHome('ex-intermediate');
const name = uniqueName('exi');
const workdir = join(parent, 'work');

const checkRuns = async (args: string[]) => {
  const r = await cli(['check', name, ...args, '--json'], { home, timeoutMs: 120_000 });
  return { code: r.code, runs: json(r).checks as CheckRun[] };
};

describe('intermediate exercises: check fails first, passes after the reference solutions', () => {
  let app: Server | undefined;
  afterAll(async () => {
    await new Promise((resolve) => (app ? app.close(resolve) : resolve(undefined)));
    await cleanup(parent, home);
  });
  beforeAll(() => assertPrerequisites(true));

  let appUrl = '';
  const allChecks = Object.values(CHECKS.intermediate)
    .flat()
    .map((c) => c.id);

  it('every intermediate exercise has at least one check', () => {
    for (const e of getLab('intermediate').exercises) expect(CHECKS.intermediate[e.id]?.length ?? 0, e.id).toBeGreaterThan(0);
  });

  it('before any work, every check fails with a hint (exit 1)', async () => {
    const up = await cli(['up', 'intermediate', '--name', name], { home, timeoutMs: 120_000 });
    expect(up.code, up.stderr).toBe(0);
    mkdirSync(workdir);
    appUrl = `http://127.0.0.1:${await freePort()}`;
    const { code, runs } = await checkRuns(['--app-url', appUrl, '--workdir', workdir]);
    expect(code).toBe(1);
    expect(runs.map((c) => c.check)).toEqual(allChecks);
    for (const c of runs) {
      expect(c.ok, `${c.check}: ${c.detail}`).toBe(false);
      expect(c.hint, c.check).toBeTruthy();
    }
    const detail = (id: string) => runs.find((c) => c.check === id)!.detail;
    expect(detail('intermediate-user-api/jwt')).toContain('connection refused');
    expect(detail('intermediate-schema/tags')).toContain('there is no table tags nor note_tags');
    expect(detail('intermediate-external/payment-client')).toContain('.env does not exist');
    expect(detail('intermediate-git-ci/repo')).toContain('is not a Git repository');
  });

  it('the unchanged starter API passes only what it already does: register, login, /me', async () => {
    const status = json(await cli(['status', name, '--json'], { home }));
    const starter = status.components.find((c: { kind: string }) => c.kind === 'api').url as string;
    const { code, runs } = await checkRuns(['--app-url', starter, '--workdir', workdir]);
    expect(code).toBe(1);
    expect(runs.filter((c) => c.ok).map((c) => c.check)).toEqual(['intermediate-user-api/jwt']);
    expect(runs.find((c) => c.check === 'intermediate-user-api/admin')!.detail).toContain('GET /users without a token answered 404');
  });

  it('after the reference solutions every check passes (exit 0), one exercise alone too, and nothing of the checks is left', async () => {
    const { urls } = json<{ urls: Record<string, string> }>(await cli(['secrets', name, '--json'], { home }));
    const paymentUrl = `http://127.0.0.1:${await freePort()}`;
    const webhookSecret = 'whsec-labforge-reference-0123456789';
    await solveSql(urls.db!);
    solveWorkdir(workdir, { paymentUrl, webhookSecret });
    app = await startApp({
      databaseUrl: urls.db!,
      redisUrl: urls.cache!,
      port: Number(new URL(appUrl).port),
      workdir,
      paymentUrl,
      webhookSecret,
    });

    const started = performance.now();
    const all = await checkRuns(['--app-url', appUrl, '--workdir', workdir]);
    const ms = performance.now() - started;
    expect(all.runs.filter((c) => !c.ok).map((c) => `${c.check}: ${c.detail}`)).toEqual([]);
    expect(all.code).toBe(0);
    console.log(`intermediate: ${all.runs.length} checks pass in ${(ms / 1000).toFixed(1)} s`);

    const one = await cli(['check', name, 'intermediate-middleware', '--app-url', appUrl, '--workdir', workdir], { home });
    expect(one.code, one.stdout).toBe(0);
    expect(one.stdout).toMatch(/PASS {2}POST \/auth\/login: 429 with Retry-After/);
    expect(one.stdout).toContain(
      `${CHECKS.intermediate['intermediate-middleware']!.length}/${CHECKS.intermediate['intermediate-middleware']!.length} checks pass`,
    );

    // The checks made accounts, notes, tags, keys and an upload: none of it is left.
    const db = new pg.Client({ connectionString: urls.db });
    await db.connect();
    const left = await db.query(`SELECT (SELECT count(*) FROM users WHERE email LIKE 'labforge-check-%')::int AS users,
      (SELECT count(*) FROM tags)::int AS tags, (SELECT count(*) FROM note_tags)::int AS links, (SELECT count(*) FROM notes WHERE title = 'labforge check')::int AS notes`);
    await db.end();
    expect(left.rows[0]).toEqual({ users: 0, tags: 0, links: 0, notes: 0 });
    const redis = new Redis(urls.cache!, { lazyConnect: true, retryStrategy: () => null });
    await redis.connect();
    const keys = await redis.keys('*labforge-check*');
    redis.disconnect();
    expect(keys).toEqual([]);
    expect(readdirSync(join(workdir, 'uploads'))).toEqual([]);
  });

  it('the guide lists every intermediate skill and the check of each exercise', async () => {
    const r = await cli(['guide', name], { home });
    expect(r.code, r.stderr).toBe(0);
    for (const skill of getLab('intermediate').skills) expect(r.stdout).toContain(skill);
    for (const e of getLab('intermediate').exercises) expect(r.stdout).toContain(`Checked by \`labforge check ${name} ${e.id}\``);
    expect(r.stdout).toContain('PAYMENT_WEBHOOK_SECRET');
    expect(r.stdout).not.toContain('{{');
  });
});
