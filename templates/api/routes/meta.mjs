// GET / (an index of the endpoints) and GET /health.
import { withTimeout } from '../lib/timeout.mjs';

/**
 * @param {import('../lib/router.mjs').Router} router
 * @param {{ db: ReturnType<typeof import('../lib/shards.mjs').createDatabase>, cache: { enabled: boolean, ping(): Promise<void> },
 *   jobs?: { enabled: boolean, ping(): Promise<void> }, config: { instance: string } }} deps
 */
export function addMetaRoutes(router, { db, cache, jobs, config }) {
  router.add('GET', '/', { summary: 'this index' }, async () => ({
    status: 200,
    body: {
      name: 'labforge starter API',
      instance: config.instance,
      auth: 'send "Authorization: Bearer <token>" from POST /auth/login where auth is true',
      endpoints: router.routes.map(({ method, path, summary, auth }) => ({ method, path, summary, auth })),
    },
  }));

  router.add('GET', '/health', { summary: 'postgres (every shard) and redis checks (503 when nothing works)' }, async () => {
    /** @type {Record<string, string>} */
    const checks = {};
    if (db.sharded) {
      const results = await Promise.all(
        db.all().map((pool, i) => check(() => pool.query('SELECT 1'), `shard ${i} (${db.primaryOf(i)}) SELECT 1`)),
      );
      results.forEach((result, i) => (checks[`shard${i}`] = result));
    } else {
      checks.postgres = await check(() => db.forKey('').query('SELECT 1'), 'postgres SELECT 1');
    }
    if (cache.enabled) checks.redis = await check(() => cache.ping(), 'redis PING');
    if (jobs?.enabled) checks.rabbitmq = await check(() => jobs.ping(), 'rabbitmq checkQueue');
    const results = Object.values(checks);
    const healthy = results.every((result) => result === 'ok');
    // Sharded: an instance that still reaches some shard keeps serving those keys (200, "degraded");
    // the load balancer keeps it. Not sharded: any failure is a 503, as before.
    const serving = healthy || (db.sharded && results.some((result) => result === 'ok'));
    return {
      status: serving ? 200 : 503,
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
