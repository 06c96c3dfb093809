// The advanced exercises, checked for real: the advanced lab up (PostgreSQL, Redis, RabbitMQ,
// three APIs behind HAProxy, the worker), `check` fails every check with a hint (nothing done, no
// app, an empty workdir), then the reference solutions (tests/e2e/solutions/advanced.ts) are
// applied and `check` passes every check. So each check can fail and can pass.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerfileGaps, workflowVerdict } from '../../constructs/exercises/advanced-cicd.js';
import { outagesInLog } from '../../constructs/exercises/advanced-ha.js';
import { CHECKS } from '../../constructs/exercises/index.js';
import { findBinary } from '../../constructs/local/binaries.js';
import { getLab } from '../../labs/index.js';
import { assertPrerequisites, cleanup, cli, freePort, json, makeHome, uniqueName, type CheckRun } from './helpers.js';
import {
  SOLUTION_FILES,
  drillFailover,
  solveIndex,
  solveJobs,
  startApp,
  startAuditConsumer,
  writeCicd,
  type LabUrls,
} from './solutions/advanced.js';
import { cleanupMayFail } from '../../constructs/model/quiet.js';

const { parent, home } = makeHome('ex-advanced');
const name = uniqueName('exa');

describe('advanced exercises: check fails first, passes after the reference solutions', () => {
  const closers: (() => Promise<void>)[] = [];
  // Teardown first: the learner's app and consumer, then every lab of this home.
  afterAll(async () => {
    for (const close of closers.reverse()) await close().catch(cleanupMayFail);
    await cleanup(parent, home);
  });
  beforeAll(() => {
    assertPrerequisites(true);
    for (const bin of ['rabbitmq-server', 'epmd', 'haproxy']) {
      if (!findBinary(bin)) throw new Error(`${bin} not found; install with: apt-get install -y rabbitmq-server haproxy`);
    }
  });

  const allChecks = Object.values(CHECKS.advanced)
    .flat()
    .map((c) => c.id);
  const workdir = join(parent, 'work');
  let appUrl = '';
  let up: any;

  it('every advanced exercise has at least one check, and the file checks tell a gated pipeline from an ungated one', async () => {
    for (const e of getLab('advanced').exercises) expect(CHECKS.advanced[e.id]?.length ?? 0, e.id).toBeGreaterThan(0);
    expect(dockerfileGaps(SOLUTION_FILES.DOCKERFILE)).toEqual([]);
    expect(dockerfileGaps('FROM node\nCMD ["node", "server.mjs"]\n')).toEqual([
      'a pinned base image (node: give a version tag or digest, not latest)',
      'a USER (the API must not run as root)',
      'EXPOSE of the API port',
    ]);
    expect((await workflowVerdict('ci.yml', SOLUTION_FILES.WORKFLOW)).ok).toBe(true);
    const ungated = await workflowVerdict('ci.yml', SOLUTION_FILES.WORKFLOW.replace('    needs: test\n', ''));
    expect([ungated.ok, ungated.detail]).toEqual([false, expect.stringContaining('needs: test (deploy only after the tests passed)')]);
    const always = await workflowVerdict('ci.yml', SOLUTION_FILES.WORKFLOW.replace("if: github.ref == 'refs/heads/main'", 'if: always()'));
    expect(always.detail).toContain('no if: always()');
    const log = [
      'Server api/api-1 is DOWN, reason: Layer7 wrong status, code: 503',
      'Server api/api-1 is UP, reason: Layer7 check passed',
      'Server api/api-2 is DOWN, reason: Layer4 connection problem',
      '127.0.0.1:1 [01/Jan/2026:00:00:00.000] api api/api-1 0/0/0/1/1 200 99 - - ---- 1/1/0/0/0 0/0 "GET /health HTTP/1.1"',
      'Server api/api-2 is UP, reason: Layer7 check passed',
    ];
    expect(outagesInLog(log.join('\n'))).toEqual([{ server: 'api-2', requests: 1, failed: 0, back: true }]);
  });

  it('before any work, every check fails with a hint (exit 1)', { timeout: 120_000 }, async () => {
    const started = await cli(['up', 'advanced', '--name', name, '--json'], { home, timeoutMs: 90_000 });
    expect(started.code, started.stderr).toBe(0);
    up = json(started);
    appUrl = `http://127.0.0.1:${await freePort()}`;
    mkdirSync(workdir);
    const t = performance.now();
    const r = await cli(['check', name, '--app-url', appUrl, '--workdir', workdir, '--json'], { home });
    console.log(`advanced check, nothing done: ${Math.round(performance.now() - t)} ms`);
    expect(r.code, r.stderr).toBe(1);
    const runs = json(r).checks as CheckRun[];
    expect(runs.map((c) => c.check)).toEqual(allChecks);
    for (const c of runs) {
      expect(c.ok, `${c.check}: ${c.detail}`).toBe(false);
      expect(c.hint, c.check).toBeTruthy();
    }
    const detail = (id: string) => runs.find((c) => c.check === id)!.detail;
    expect(detail('advanced-caching/cache-aside')).toContain('connection refused');
    expect(detail('advanced-async-services/second-consumer')).toBe('there is no exchange events on the lab vhost');
    expect(detail('advanced-ha-scaling/failover')).toContain('no API instance has been stopped yet');
  });

  it('after the reference solutions every check passes (exit 0); one exercise can be checked alone', { timeout: 120_000 }, async () => {
    const secrets = json(await cli(['secrets', name, '--json'], { home }));
    const urls: LabUrls = {
      db: secrets.urls.db,
      cache: secrets.urls.cache,
      mq: secrets.urls.mq,
      lb: up.entryPoint,
      jwtSecret: secrets.api.jwtSecret,
    };
    const t = performance.now();
    await solveJobs(urls);
    const consumer = await startAuditConsumer(urls);
    closers.push(() => consumer.close());
    await solveIndex(urls);
    const app = await startApp(urls, Number(new URL(appUrl).port));
    closers.push(() => app.close());
    const api2 = up.components.find((c: { id: string }) => c.id === 'api-2');
    await drillFailover({
      pid: api2.pid,
      server: 'api-2',
      lb: urls.lb,
      lbLog: join(home, name, 'logs', 'lb.log'),
      heal: async () => {
        const healed = await cli(['up', 'advanced', '--name', name], { home, timeoutMs: 60_000 });
        expect(healed.code, healed.stderr).toBe(0);
      },
    });
    writeCicd(workdir);
    console.log(`advanced reference solutions applied: ${Math.round(performance.now() - t)} ms`);

    const t2 = performance.now();
    const r = await cli(['check', name, '--app-url', appUrl, '--workdir', workdir, '--json'], { home });
    console.log(`advanced check, all done: ${Math.round(performance.now() - t2)} ms`);
    const runs = json(r).checks as CheckRun[];
    expect(runs.filter((c) => !c.ok).map((c) => `${c.check}: ${c.detail}`)).toEqual([]);
    expect(runs.map((c) => c.check)).toEqual(allChecks);
    expect(r.code).toBe(0);

    // The checks clean up what they create: no check user, event or dead letter is left.
    const again = await cli(['check', name, 'advanced-async-services', '--workdir', workdir], { home });
    expect(again.code, again.stdout).toBe(0);
    expect(again.stdout).toMatch(/PASS {2}a failing job of yours \(@exercise\.test\) was tried 3 times and waits in jobs\.dead/);
    expect(again.stdout).toContain('3/3 checks pass');
    const pg = (await import('pg')).default;
    const db = new pg.Client({ connectionString: urls.db });
    await db.connect();
    try {
      const left = await db.query(
        `SELECT (SELECT count(*)::int FROM users WHERE email LIKE 'labforge-check-%') AS users, (SELECT count(*)::int FROM audit_log) AS events, (SELECT count(*)::int FROM emails_sent WHERE job_id LIKE 'labforge-check-%') AS emails`,
      );
      expect(left.rows[0]).toEqual({ users: 0, events: 0, emails: 0 });
    } finally {
      await db.end();
    }
    const amqp = await import('amqplib');
    const conn = await amqp.connect(urls.mq);
    try {
      const channel = await conn.createChannel();
      expect((await channel.checkQueue('audit')).messageCount).toBe(0);
      const dead = await channel.checkQueue('jobs.dead');
      const emails: string[] = [];
      for (let n = 0; n < dead.messageCount; n++) {
        const m = await channel.get('jobs.dead', { noAck: false });
        if (m) emails.push(JSON.parse(m.content.toString('utf8')).email);
      }
      // Only the learner's failed job: the RBAC check's own dead letter is gone.
      expect(emails).toEqual([expect.stringMatching(/^learner-.*@exercise\.test$/)]);
    } finally {
      await conn.close();
    }
  });

  it('the guide has every advanced skill, the check commands, and no placeholder left', async () => {
    const r = await cli(['guide', name], { home });
    expect(r.code, r.stderr).toBe(0);
    for (const skill of getLab('advanced').skills) expect(r.stdout).toContain(skill);
    for (const e of getLab('advanced').exercises) expect(r.stdout).toContain(`labforge check ${name} ${e.id}`);
    expect(r.stdout).toContain(up.entryPoint.replace('http://', ''));
    expect(r.stdout).not.toContain('{{');
  });
});
