// GET / (an index of the endpoints) and GET /health.
import { withTimeout } from '../lib/timeout.mjs';

/**
 * @param {import('../lib/router.mjs').Router} router
 * @param {{ pool: import('pg').Pool, cache: { enabled: boolean, ping(): Promise<void> },
 *   jobs?: { enabled: boolean, ping(): Promise<void> }, config: { instance: string } }} deps
 */
export function addMetaRoutes(router, { pool, cache, jobs, config }) {
  router.add('GET', '/', { summary: 'this index' }, async () => ({
    status: 200,
    body: {
      name: 'labforge starter API',
      instance: config.instance,
      auth: 'send "Authorization: Bearer <token>" from POST /auth/login where auth is true',
      endpoints: router.routes.map(({ method, path, summary, auth }) => ({ method, path, summary, auth })),
    },
  }));

  router.add('GET', '/health', { summary: 'postgres and redis checks (503 when one fails)' }, async () => {
    const checks = { postgres: await check(() => pool.query('SELECT 1'), 'postgres SELECT 1') };
    if (cache.enabled) checks.redis = await check(() => cache.ping(), 'redis PING');
    if (jobs?.enabled) checks.rabbitmq = await check(() => jobs.ping(), 'rabbitmq checkQueue');
    const healthy = Object.values(checks).every((result) => result === 'ok');
    return {
      status: healthy ? 200 : 503,
      body: { status: healthy ? 'ok' : 'degraded', instance: config.instance, checks },
    };
  });
}

/** "ok", or the failure's message. */
async function check(probe, what) {
  try {
    await withTimeout(probe(), 1000, what);
    return 'ok';
  } catch (err) {
    return err.message || String(err);
  }
}
