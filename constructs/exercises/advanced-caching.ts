// Checks of advanced-caching: the learner's app (--app-url) serves a user's summary cache-aside
// from the lab's Redis and drops it on a write; the heaviest query of that summary has an index.
// Each check makes its own user (and rows) in the lab database and removes them after.
import { APP_HINT, DB_HINT, dropUsers, keyspaceHits, makeUser, marker, noTable, type CheckUser } from './advanced-tools.js';
import { guarded, request, withDb, withRedis, type HttpReply } from './probe.js';
import { fail, pass, type Check, type CheckResult } from './types.js';
import { cleanupMayFail } from '../model/quiet.js';

interface Summary {
  notes: number;
  emailsSent: number;
}

/** GET /users/:id/summary: the counts and the X-Cache header, or why the reply is not one. */
async function summary(
  ctx: Parameters<Check['run']>[0],
  user: CheckUser,
): Promise<{ reply: HttpReply; cache: string; counts?: Summary; problem?: string }> {
  const reply = await request(ctx, 'GET', `/users/${user.id}/summary`);
  const cache = (reply.headers.get('x-cache') ?? '').toUpperCase();
  const body = reply.json as Partial<Summary> | undefined;
  if (reply.status !== 200) return { reply, cache, problem: `GET /users/${user.id}/summary answered ${reply.status}` };
  if (typeof body?.notes !== 'number' || typeof body.emailsSent !== 'number')
    return {
      reply,
      cache,
      problem: `GET /users/${user.id}/summary answered ${reply.text.slice(0, 80)}, without numbers notes and emailsSent`,
    };
  return { reply, cache, counts: { notes: body.notes, emailsSent: body.emailsSent } };
}

const SUMMARY_HINT =
  "serve GET /users/:id/summary with JSON {id, email, notes, emailsSent}: the user's note count and SELECT count(*) FROM emails_sent WHERE user_id = $1";

/** What the summary of `user` must say now, counted in the database. */
async function expected(db: import('pg').Client, user: CheckUser): Promise<Summary> {
  const { rows } = await db.query<Summary>(
    `SELECT (SELECT count(*)::int FROM notes WHERE user_id = $1) AS notes, (SELECT count(*)::int FROM emails_sent WHERE user_id = $1) AS "emailsSent"`,
    [user.id],
  );
  return rows[0]!;
}

/**
 * Runs `work` with a new user of the check's with `notes` notes and `emails` emails_sent rows
 * (the table may already hold rows of that user id: the learner fills it for the index step).
 */
async function withCheckUser(
  ctx: Parameters<Check['run']>[0],
  notes: number,
  emails: number,
  work: (user: CheckUser, db: { addNote: () => Promise<void>; expected: () => Promise<Summary> }) => Promise<CheckResult>,
): Promise<CheckResult> {
  const jobIds = Array.from({ length: emails }, () => `labforge-check-${marker()}`);
  return withDb(ctx, async (db) => {
    const user = await makeUser(db);
    try {
      const addNote = async () => void (await db.query(`INSERT INTO notes (user_id, title) VALUES ($1, 'labforge check note')`, [user.id]));
      for (let i = 0; i < notes; i++) await addNote();
      for (const jobId of jobIds)
        await db.query('INSERT INTO emails_sent (user_id, email, job_id) VALUES ($1, $2, $3)', [user.id, user.email, jobId]);
      return await work(user, { addNote, expected: () => expected(db, user) });
    } finally {
      await dropUsers(db, [user], jobIds).catch(cleanupMayFail);
    }
  });
}

const cacheAside: Check = {
  id: 'advanced-caching/cache-aside',
  title: "GET /users/:id/summary is cache-aside in the lab's Redis: X-Cache MISS, then HIT served from Redis",
  run: (ctx) =>
    guarded(
      () =>
        withRedis(ctx, (redis) =>
          withCheckUser(ctx, 1, 1, async (user, { addNote, expected }) => {
            const want = await expected();
            const first = await summary(ctx, user);
            if (first.problem) return fail(first.problem, SUMMARY_HINT);
            if (first.counts!.notes !== want.notes || first.counts!.emailsSent !== want.emailsSent)
              return fail(
                `a user with ${want.notes} note(s) and ${want.emailsSent} emails_sent row(s) got ${first.reply.text.slice(0, 120)}`,
                SUMMARY_HINT,
              );
            if (first.cache !== 'MISS')
              return fail(
                `the first read of a new user answered X-Cache: ${first.cache || '(none)'}`,
                'on a cache miss read PostgreSQL, store the summary in Redis with a TTL, answer X-Cache: MISS',
              );
            const before = await keyspaceHits(redis);
            const second = await summary(ctx, user);
            const hits = (await keyspaceHits(redis)) - before;
            if (second.problem) return fail(second.problem, SUMMARY_HINT);
            if (second.cache !== 'HIT')
              return fail(
                `the second read answered X-Cache: ${second.cache || '(none)'}`,
                'read Redis first: when the summary is there answer it with X-Cache: HIT',
              );
            if (hits < 1)
              return fail(
                "the HIT read no key of the lab's Redis (keyspace_hits did not grow)",
                "cache in the lab's Redis (`labforge secrets <lab>` has its URL), not in memory",
              );
            // Changed behind the app's back: a cache keeps answering what it stored.
            await addNote();
            const third = await summary(ctx, user);
            if (third.problem) return fail(third.problem, SUMMARY_HINT);
            if (third.cache === 'HIT' && third.counts!.notes !== want.notes)
              return fail(
                "a HIT answered the database's new count: it was not served from the cache",
                'on X-Cache: HIT answer what Redis holds, without querying PostgreSQL',
              );
            if (third.cache !== 'HIT')
              return fail(
                `a read right after the HIT answered X-Cache: ${third.cache || '(none)'}`,
                'keep the cached summary for its TTL (a minute, say)',
              );
            return pass(`MISS then HIT (Redis keyspace hits +${hits}); the HIT is the cached summary, not a fresh query`);
          }),
        ),
      APP_HINT,
    ),
};

const invalidate: Check = {
  id: 'advanced-caching/invalidate',
  title: 'POST /users/:id/notes drops the cached summary: the next read is not stale',
  run: (ctx) =>
    guarded(
      () =>
        withCheckUser(ctx, 0, 0, async (user, { expected }) => {
          const first = await summary(ctx, user);
          const cached = await summary(ctx, user);
          const problem = first.problem ?? cached.problem;
          if (problem) return fail(problem, SUMMARY_HINT);
          if (cached.cache !== 'HIT')
            return fail(
              `the summary is not cached (second read: X-Cache ${cached.cache || '(none)'}), so nothing is invalidated yet`,
              'do advanced-caching/cache-aside first',
            );
          const write = await request(ctx, 'POST', `/users/${user.id}/notes`, {
            body: JSON.stringify({ title: 'labforge check: a new note' }),
            headers: { 'content-type': 'application/json' },
          });
          if (write.status !== 201)
            return fail(`POST /users/${user.id}/notes answered ${write.status}`, 'insert the note ({title}) for that user, answer 201');
          const want = await expected();
          const after = await summary(ctx, user);
          if (after.problem) return fail(after.problem, SUMMARY_HINT);
          if (want.notes !== 1)
            return fail(
              `POST /users/${user.id}/notes answered 201, but the user has ${want.notes} notes in the database`,
              'insert exactly one note per POST',
            );
          if (after.counts!.notes !== 1)
            return fail(
              `stale read: after POST /users/${user.id}/notes the summary still says ${after.counts!.notes} notes (X-Cache: ${after.cache || '(none)'})`,
              'after the write commits, DEL the cached summary of that user (or write the new one)',
            );
          return pass(`after the write the summary says 1 note, as the database does (X-Cache: ${after.cache || '(none)'}): no stale read`);
        }),
      APP_HINT,
    ),
};

const index: Check = {
  id: 'advanced-caching/index',
  title: 'the heaviest query of the summary, the emails_sent count per user, is served by an index on emails_sent(user_id)',
  run: (ctx) =>
    guarded(
      () =>
        withDb(ctx, async (db) => {
          let idx: { name: string }[];
          try {
            idx = (
              await db.query<{ name: string }>(
                `SELECT i.relname AS name FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
                 WHERE x.indrelid = 'public.emails_sent'::regclass AND x.indisvalid
                   AND (SELECT attname FROM pg_attribute WHERE attrelid = x.indrelid AND attnum = x.indkey[0]) = 'user_id'`,
              )
            ).rows;
          } catch (error) {
            if (noTable(error))
              return fail('there is no table emails_sent (the worker creates it)', 'is the worker running? `labforge health <lab>`');
            throw error;
          }
          if (idx.length === 0)
            return fail(
              'no index starts with emails_sent.user_id',
              'EXPLAIN ANALYZE SELECT count(*) FROM emails_sent WHERE user_id = 1; then CREATE INDEX ON emails_sent (user_id) and compare',
            );
          // However few rows the table holds, forbid the sequential scan to see that the index serves the query.
          await db.query('BEGIN');
          let plan: string;
          try {
            await db.query('SET LOCAL enable_seqscan = off');
            plan = (await db.query('EXPLAIN SELECT count(*) FROM emails_sent WHERE user_id = 1')).rows
              .map((r: Record<string, string>) => r['QUERY PLAN'])
              .join('\n');
          } finally {
            await db.query('ROLLBACK');
          }
          const used = idx.find((i) => plan.includes(i.name));
          if (!used)
            return fail(
              `the plan does not use ${idx[0]!.name}:\n${plan}`,
              'ANALYZE emails_sent; the index must be valid and start with user_id',
            );
          return pass(`${used.name} serves SELECT count(*) FROM emails_sent WHERE user_id = ... (${plan.split('\n')[0]!.trim()})`);
        }),
      DB_HINT,
    ),
};

export const CACHING_CHECKS: readonly Check[] = [cacheAside, invalidate, index];
