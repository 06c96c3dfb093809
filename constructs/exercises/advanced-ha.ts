// Checks of advanced-ha-scaling: the failover drill the learner ran, read from HAProxy's own log
// (an instance went DOWN, requests kept succeeding, it came back UP), every instance answering
// through HAProxy now; and RBAC on the learner's app: POST /admin/requeue for admins only.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { getInstance } from '../../health/balancer.js';
import { driverOf } from '../local/drivers/index.js';
import { instanceName } from '../local/drivers/context.js';
import { APP_HINT, DEAD, browse, component, dropUsers, labToken, makeUser, publish, withAmqp } from './advanced-tools.js';
import { guarded, poll, request, withDb } from './probe.js';
import { fail, pass, type Check, type CheckResult } from './types.js';
import { cleanupMayFail } from '../model/quiet.js';

interface Outage {
  server: string;
  requests: number;
  failed: number;
  back: boolean;
}

/**
 * The outages in an HAProxy log, in order: from `Server api/api-2 is DOWN, reason: Layer4 ...` (the
 * instance stopped answering: refused or timed out) to `... is UP`, with the requests logged
 * meanwhile (httplog lines: `client [date] frontend backend/server timers STATUS ...`). A DOWN for
 * a Layer7 reason is an instance answering 503 while it starts (every `up` logs those): not a drill.
 */
export function outagesInLog(text: string): Outage[] {
  const outages: Outage[] = [];
  const open = new Map<string, Outage>();
  for (const line of text.split('\n')) {
    const state = /Server [^/\s]+\/(\S+?),? is (DOWN|UP)\b/.exec(line);
    if (state) {
      const [, server, to] = state as unknown as [string, string, string];
      if (to === 'DOWN' && !open.has(server) && /reason: Layer4/.test(line)) {
        const outage = { server, requests: 0, failed: 0, back: false };
        open.set(server, outage);
        outages.push(outage);
      } else if (to === 'UP' && open.has(server)) {
        open.get(server)!.back = true;
        open.delete(server);
      }
      continue;
    }
    const served = /^\S+:\d+ \[[^\]]+\] \S+ \S+\/\S+ \S+ (-?\d+) /.exec(line);
    if (served) {
      for (const outage of open.values()) {
        outage.requests++;
        if (Number(served[1]) >= 500 || Number(served[1]) < 0) outage.failed++;
      }
    }
  }
  return outages;
}

const FAILOVER_HINT =
  'kill one API instance (its pid: `labforge status <lab>`), send requests through the load balancer while it is out, then `labforge up <lab>` starts it again';

const failover: Check = {
  id: 'advanced-ha-scaling/failover',
  title: 'an API instance was stopped: HAProxy took it out, requests kept succeeding, it came back; every instance answers through HAProxy',
  run: (ctx) =>
    guarded(async () => {
      const lb = component(ctx, 'haproxy');
      let log: string;
      try {
        log = readFileSync(lb.logFile, 'utf8');
      } catch (error) {
        return fail(
          `cannot read the load balancer's log ${lb.logFile}: ${(error as Error).message}`,
          'run the check as the user that started the lab',
        );
      }
      const outages = outagesInLog(log);
      const drilled = outages.find((o) => o.back && o.requests > 0 && o.failed === 0);
      if (!drilled) {
        const last = outages.at(-1);
        if (!last)
          return fail(
            'no API instance has been stopped yet (HAProxy logged no server DOWN for a refused or timed-out check)',
            FAILOVER_HINT,
          );
        if (!last.back)
          return fail(
            `${last.server} is still out (DOWN, not UP again)`,
            'bring it back: `labforge up <lab>` restarts what is not running',
          );
        if (last.requests === 0)
          return fail(
            `${last.server} was out, but no request went through the load balancer meanwhile`,
            'stop it again and send requests while it is out (curl -si <lb>/health | grep -i x-instance)',
          );
        return fail(
          `${last.failed} of ${last.requests} request(s) failed while ${last.server} was out`,
          'HAProxy retries a refused connection on another instance: are the others healthy?',
        );
      }
      const names = ctx.components.filter((c) => c.kind === 'api').map(instanceName);
      const seen = new Set<string>();
      for (let n = 0; n < names.length * 4 && seen.size < names.length; n++) {
        const { status, instance } = await getInstance(`${driverOf(lb).url(lb)}/health`, 2000);
        if (status === 200 && instance) seen.add(instance);
      }
      const missing = names.filter((name) => !seen.has(name));
      if (missing.length > 0)
        return fail(
          `through HAProxy ${missing.join(', ')} did not answer (seen: ${[...seen].join(', ') || 'none'})`,
          'bring every instance back: `labforge up <lab>`, then `labforge health <lab>`',
        );
      return pass(
        `${drilled.server} was out: ${drilled.requests} request(s) meanwhile, none failed; now ${names.join(', ')} all answer through ${driverOf(lb).url(lb)}`,
      );
    }, 'the load balancer did not answer: `labforge health <lab>`'),
};

const REQUEUE = '/admin/requeue';

const rbac: Check = {
  id: 'advanced-ha-scaling/rbac',
  title: `RBAC: POST ${REQUEUE} {jobId} moves a dead letter back to jobs for role admin only (401 without a valid token, 403 for others, 404 unknown job)`,
  run: (ctx) =>
    guarded(async () => {
      const jobId = randomUUID();
      const post = (token?: string, id = jobId) =>
        request(ctx, 'POST', REQUEUE, {
          body: JSON.stringify({ jobId: id }),
          headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        });
      const anonymous = await post();
      if (anonymous.status !== 401)
        return fail(
          `POST ${REQUEUE} without a token answered ${anonymous.status}`,
          'answer 401 without Authorization: Bearer <token of the lab API>',
        );
      const forged = await post(labToken(ctx, { id: '1', email: 'mallory@check.invalid', role: 'admin' }, 'not-the-lab-secret'));
      if (forged.status !== 401)
        return fail(
          `a token claiming role admin but signed with another secret answered ${forged.status}`,
          "verify the token's HS256 signature with the lab's JWT secret (`labforge secrets <lab>`) and answer 401 when it does not match",
        );
      return withAmqp(ctx, (conn) =>
        withDb(ctx, async (db): Promise<CheckResult> => {
          const admin = await makeUser(db, 'admin');
          const user = await makeUser(db, 'user');
          try {
            // A dead letter of the check's own: a welcome email the worker can do once it is back in jobs.
            const job = { type: 'welcome-email', userId: Number(admin.id), email: admin.email, jobId };
            await publish(conn, '', DEAD, job, {
              messageId: jobId,
              headers: { 'x-attempts': 3, 'x-last-error': 'labforge check: requeue me' },
            });
            const asUser = await post(labToken(ctx, user));
            if (asUser.status !== 403)
              return fail(
                `POST ${REQUEUE} with a token of role user answered ${asUser.status}`,
                "answer 403 when the token's role is not admin",
              );
            if (!(await browse(conn, DEAD)).some((m) => m.messageId === jobId))
              return fail(`the 403 still moved job ${jobId} out of ${DEAD}`, 'check the role before touching the queue');
            const unknown = await post(labToken(ctx, admin), randomUUID());
            if (unknown.status !== 404)
              return fail(
                `an admin requeueing a job that is not in ${DEAD} got ${unknown.status}`,
                `answer 404 when no message of ${DEAD} has that jobId (messageId)`,
              );
            const asAdmin = await post(labToken(ctx, admin));
            if (asAdmin.status < 200 || asAdmin.status > 299)
              return fail(
                `POST ${REQUEUE} with a token of role admin answered ${asAdmin.status}`,
                `move the message whose messageId is jobId from ${DEAD} to jobs, answer 200`,
              );
            const done = await poll(10_000, async () =>
              (await db.query('SELECT 1 FROM emails_sent WHERE job_id = $1', [jobId])).rowCount ? true : undefined,
            );
            if (!done) {
              const stayed = (await browse(conn, DEAD)).some((m) => m.messageId === jobId);
              return fail(
                stayed
                  ? `admin got ${asAdmin.status}, but job ${jobId} is still in ${DEAD}`
                  : `admin got ${asAdmin.status}, but the worker did not do job ${jobId} within 10 s`,
                `publish the message to jobs unchanged (body, messageId; drop its x-death header), then ack it in ${DEAD}`,
              );
            }
            return pass(
              `no token and a forged token: 401; role user: 403 (the job stayed in ${DEAD}); unknown job: 404; admin: ${asAdmin.status}, and the worker did the requeued job`,
            );
          } finally {
            await browse(conn, DEAD, { take: (m) => m.messageId === jobId }).catch(cleanupMayFail);
            await dropUsers(db, [admin, user], [jobId]).catch(cleanupMayFail);
          }
        }),
      );
    }, APP_HINT),
};

export const HA_CHECKS: readonly Check[] = [failover, rbac];
