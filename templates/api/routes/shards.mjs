// GET /shards/:key (sharded mode only): where a key lives, for the routing exercise.
import { shardFor } from '../lib/shards.mjs';

/**
 * @param {import('../lib/router.mjs').Router} router
 * @param {{ db: ReturnType<typeof import('../lib/shards.mjs').createDatabase> }} deps
 */
export function addShardRoutes(router, { db }) {
  router.add('GET', '/shards/:key', { summary: 'the shard of a key (an email) and its primary host:port' }, async (ctx) => {
    const key = decodeURIComponent(ctx.params.key);
    const shard = shardFor(key, db.count);
    return {
      status: 200,
      body: { key, shard, shards: db.count, primary: db.primaryOf(shard), rule: 'md5(key)[0..4] as uint32 mod shards' },
    };
  });
}
