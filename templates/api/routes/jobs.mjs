// POST /jobs, GET /jobs/:id: queue work for the worker (templates/worker) and follow it.
// Registered only when AMQP_URL is set.
import { HttpError } from '../lib/http.mjs';

const JOB_TYPES = ['welcome-email'];

/**
 * @param {import('../lib/router.mjs').Router} router
 * @param {{ pool: import('pg').Pool, jobs: ReturnType<typeof import('../lib/jobs.mjs').createJobs> }} deps
 */
export function addJobRoutes(router, { pool, jobs }) {
  const auth = true;

  router.add('POST', '/jobs', { summary: 'queue a job {type?: "welcome-email", fail?: true}', auth }, async (ctx) => {
    const input = await ctx.json();
    const type = input.type ?? 'welcome-email';
    if (!JOB_TYPES.includes(type)) throw new HttpError(400, `type must be one of: ${JOB_TYPES.join(', ')}`);
    if (input.fail !== undefined && typeof input.fail !== 'boolean') throw new HttpError(400, 'fail must be a boolean');
    const job = { type, userId: ctx.user.id, email: ctx.user.email, ...(input.fail ? { fail: true } : {}) };
    let jobId;
    try {
      jobId = await jobs.publish(job);
    } catch (err) {
      console.error(`POST /jobs: publish failed: ${err.message}`);
      throw new HttpError(503, 'job queue unavailable, try again later', { 'Retry-After': '1' });
    }
    return { status: 202, body: { jobId }, headers: { Location: `/jobs/${jobId}` } };
  });

  router.add('GET', '/jobs/:id', { summary: 'a job of yours: 200 done, 202 pending', auth }, async (ctx) => {
    const jobId = ctx.params.id;
    if (!/^[\w-]{1,64}$/.test(jobId)) throw new HttpError(404, 'job not found');
    let rows = [];
    try {
      ({ rows } = await pool.query('SELECT sent_at FROM emails_sent WHERE job_id = $1 AND user_id = $2', [jobId, ctx.user.id]));
    } catch (err) {
      if (err.code !== '42P01') throw err; // undefined_table: no worker has started yet
    }
    if (rows[0]) return { status: 200, body: { jobId, status: 'done', sentAt: rows[0].sent_at } };
    // Not done (yet): queued, being retried, or in jobs.dead; this API cannot tell which.
    return { status: 202, body: { jobId, status: 'pending' } };
  });
}
