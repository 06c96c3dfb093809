// Checks of the advanced exercises. Services that talk through a queue (here): jobs the learner
// queued through the load balancer and what the worker made of them, read from PostgreSQL and
// RabbitMQ (the learner's login on the lab vhost; the management API is off by default), and the
// learner's own consumer of a new event type. The other exercises: advanced-caching.ts,
// advanced-ha.ts (load balancing, RBAC), advanced-cicd.ts (files in --workdir).
import { CACHING_CHECKS } from './advanced-caching.js';
import { CICD_CHECKS } from './advanced-cicd.js';
import { HA_CHECKS } from './advanced-ha.js';
import { DEAD, exchangeExists, marker, noTable, publish, queueInfo, browse, whileJobsQueued, withAmqp } from './advanced-tools.js';
import { guarded, poll, withDb } from './probe.js';
import { fail, pass, type Check } from './types.js';
import { cleanupMayFail } from '../model/quiet.js';

/** The address domain the guide gives the learner's own accounts: their rows are told apart by it. */

/** A header or JSON field for a message: its text, or `?` when it is missing or not a scalar. */
const text = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : '?');

export const EXERCISE_DOMAIN = '@exercise.test';
/** The second consumer's names (labs/advanced.ts, advanced-async-services). */
export const EVENTS_EXCHANGE = 'events';
export const AUDIT_QUEUE = 'audit';
export const AUDIT_KEY = 'audit.recorded';

const LAB_HINT = 'the lab did not answer: `labforge health <lab>`';

interface Sent {
  email: string;
  n: number;
}

const asyncServices: Check[] = [
  {
    id: 'advanced-async-services/job-done',
    title: `the worker did your jobs: 2+ emails_sent rows for an account of yours (${EXERCISE_DOMAIN}), from register and POST /jobs`,
    run: (ctx) =>
      guarded(
        () =>
          withAmqp(ctx, (conn) =>
            withDb(ctx, async (db) => {
              // Rows the worker wrote for accounts the API created (the job's user and address match).
              const best = async (): Promise<Sent | undefined> => {
                try {
                  const { rows } = await db.query<Sent>(
                    `SELECT e.email, count(*)::int AS n FROM emails_sent e JOIN users u ON u.id = e.user_id AND u.email = e.email
                     WHERE e.email LIKE $1 GROUP BY e.email ORDER BY n DESC, e.email LIMIT 1`,
                    [`%${EXERCISE_DOMAIN}`],
                  );
                  return rows[0];
                } catch (error) {
                  if (noTable(error)) return undefined;
                  throw error;
                }
              };
              // A job just queued may still be on its way: wait while the queues hold jobs.
              const done = await whileJobsQueued(conn, 5000, async () => {
                const row = await best();
                return row && row.n >= 2 ? row : undefined;
              });
              if (done)
                return pass(`${done.email}: ${done.n} emails_sent rows written by the worker (the welcome email and your POST /jobs)`);
              const some = await best();
              if (!some)
                return fail(
                  `no emails_sent row for an account ending ${EXERCISE_DOMAIN}`,
                  `register an account such as you${EXERCISE_DOMAIN} through the load balancer (POST /auth/register), log in, then POST /jobs with its token`,
                );
              return fail(
                `${some.email}: 1 emails_sent row (the welcome email queued by POST /auth/register)`,
                `log in as ${some.email} and POST /jobs with the token: the worker writes a second row (GET /jobs/:id answers done)`,
              );
            }),
          ),
        LAB_HINT,
      ),
  },
  {
    id: 'advanced-async-services/dead-letter',
    title: `a failing job of yours (${EXERCISE_DOMAIN}) was tried 3 times and waits in ${DEAD}`,
    run: (ctx) =>
      guarded(
        () =>
          withAmqp(ctx, async (conn) => {
            const find = async () => {
              const messages = await browse(conn, DEAD);
              const mine = messages.find(
                (m) => typeof m.body?.email === 'string' && m.body.email.endsWith(EXERCISE_DOMAIN) && Number(m.headers['x-attempts']) >= 3,
              );
              return mine ? { mine, total: messages.length } : undefined;
            };
            // Three attempts take about 2 s (1 s in jobs.retry between them): wait while it is on its way.
            const found = await whileJobsQueued(conn, 8000, find);
            if (found) {
              const { mine, total } = found;
              return pass(
                `job ${mine.messageId ?? text(mine.body?.jobId)} for ${text(mine.body?.email)}: ${text(mine.headers['x-attempts'])} attempts, last error '${text(mine.headers['x-last-error'])}' (${total} message(s) in ${DEAD}, left there)`,
              );
            }
            const total = (await queueInfo(conn, DEAD))?.messages ?? 0;
            return fail(
              total === 0
                ? `${DEAD} is empty`
                : `none of the ${total} message(s) in ${DEAD} is a job of an ${EXERCISE_DOMAIN} account tried 3 times`,
              `POST /jobs {"fail": true} with the token of your ${EXERCISE_DOMAIN} account; after 3 attempts (about 2 s) the worker moves it to ${DEAD}: read it there without taking it out (get, then nack with requeue)`,
            );
          }),
        LAB_HINT,
      ),
  },
  {
    id: 'advanced-async-services/second-consumer',
    title: `your consumer of ${AUDIT_KEY} events: queue ${AUDIT_QUEUE} bound to exchange ${EVENTS_EXCHANGE}, consumed, each event recorded in audit_log`,
    run: (ctx) =>
      guarded(
        () =>
          withAmqp(ctx, async (conn) => {
            if (!(await exchangeExists(conn, EVENTS_EXCHANGE)))
              return fail(
                `there is no exchange ${EVENTS_EXCHANGE} on the lab vhost`,
                `declare a durable topic exchange: channel.assertExchange('${EVENTS_EXCHANGE}', 'topic', { durable: true })`,
              );
            const queue = await queueInfo(conn, AUDIT_QUEUE);
            if (!queue)
              return fail(
                `there is no queue ${AUDIT_QUEUE}`,
                `declare a durable queue ${AUDIT_QUEUE} and bind it to ${EVENTS_EXCHANGE} for 'audit.#'`,
              );
            if (queue.consumers < 1)
              return fail(
                `queue ${AUDIT_QUEUE} has no consumer (${queue.messages} message(s) waiting)`,
                `start your consumer: channel.consume('${AUDIT_QUEUE}', ...)`,
              );
            return withDb(ctx, async (db) => {
              const table = (await db.query<{ t: string | null }>(`SELECT to_regclass('public.audit_log')::text AS t`)).rows[0]?.t;
              if (!table)
                return fail(
                  'there is no table audit_log',
                  'CREATE TABLE audit_log (event_id text PRIMARY KEY, type text NOT NULL, received_at timestamptz NOT NULL DEFAULT now())',
                );
              const id = `labforge-check-${marker()}`;
              try {
                const event = { id, type: AUDIT_KEY, at: new Date().toISOString(), source: 'labforge check', data: {} };
                const { returned } = await publish(conn, EVENTS_EXCHANGE, AUDIT_KEY, event, { messageId: id });
                if (returned)
                  return fail(
                    `an event published to ${EVENTS_EXCHANGE} with routing key ${AUDIT_KEY} reached no queue`,
                    `bind the queue: channel.bindQueue('${AUDIT_QUEUE}', '${EVENTS_EXCHANGE}', 'audit.#')`,
                  );
                const recorded = await poll(5000, async () =>
                  (await db.query('SELECT 1 FROM audit_log WHERE event_id = $1', [id])).rowCount ? true : undefined,
                );
                if (!recorded)
                  return fail(
                    `event ${id} (published to ${EVENTS_EXCHANGE}, key ${AUDIT_KEY}) was not in audit_log within 5 s`,
                    `for each message of ${AUDIT_QUEUE}: INSERT its id into audit_log (event_id), then ack`,
                  );
                return pass(
                  `${EVENTS_EXCHANGE} --${AUDIT_KEY}--> ${AUDIT_QUEUE} (${queue.consumers} consumer(s)): event ${id} recorded in audit_log`,
                );
              } finally {
                await db.query('DELETE FROM audit_log WHERE event_id = $1', [id]).catch(cleanupMayFail);
              }
            });
          }),
        LAB_HINT,
      ),
  },
];

export const ADVANCED_CHECKS: Record<string, readonly Check[]> = {
  'advanced-async-services': asyncServices,
  'advanced-cicd': CICD_CHECKS,
  'advanced-caching': CACHING_CHECKS,
  'advanced-ha-scaling': HA_CHECKS,
};
