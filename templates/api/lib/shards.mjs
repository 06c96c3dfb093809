// The database of the API: one pool (DATABASE_URL), or, in the expert lab, one pool per shard.
// Sharded mode (SHARDS or SHARDS_FILE): every user's rows (account and notes) live on ONE shard,
// chosen from the user's email by the rule below. SHARDS_FILE is re-read on SIGHUP, so a failover
// (`labforge chaos <lab> kill-primary <shard>`) repoints the API without a restart.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createPool } from './db.mjs';

/**
 * The routing rule, identical to constructs/model/shard.ts (a unit test checks they agree):
 * the first 4 bytes of md5(UTF-8 key), read as an unsigned big-endian integer, mod the shard count.
 * In SQL: SELECT ('x' || substr(md5('ada@example.com'), 1, 8))::bit(32)::bigint % 2;
 * @param {string} key
 * @param {number} shards
 */
export function shardFor(key, shards) {
  return createHash('md5').update(key, 'utf8').digest().readUInt32BE(0) % shards;
}

/** host:port of a connection URL (never its password). */
export function endpointOf(url) {
  const u = new URL(url);
  return `${u.hostname}:${u.port || 5432}`;
}

/**
 * @param {{ databaseUrl?: string, shards?: string[], shardsFile?: string }} config
 */
export function createDatabase(config) {
  if (!config.shards && !config.shardsFile) {
    const pool = createPool(/** @type {string} */ (config.databaseUrl));
    return {
      sharded: false,
      count: 1,
      /** The pool that holds `key`'s rows: the only one. */
      forKey: (_key) => pool,
      shardOf: (_key) => 0,
      primaryOf: (_shard) => endpointOf(/** @type {string} */ (config.databaseUrl)),
      all: () => [pool],
      reload: async () => 'not sharded: nothing to reload',
      close: () => pool.end(),
    };
  }
  const load = () => {
    const urls = config.shardsFile ? JSON.parse(readFileSync(config.shardsFile, 'utf8')).shards : config.shards;
    if (!Array.isArray(urls) || urls.length === 0 || !urls.every((u) => typeof u === 'string')) {
      throw new Error(`the shard map must be a non-empty list of postgres URLs${config.shardsFile ? ` (${config.shardsFile})` : ''}`);
    }
    return urls;
  };
  let urls = load();
  let pools = urls.map(createPool);
  return {
    sharded: true,
    get count() {
      return pools.length;
    },
    forKey: (key) => pools[shardFor(key, pools.length)],
    shardOf: (key) => shardFor(key, pools.length),
    primaryOf: (shard) => endpointOf(urls[shard]),
    all: () => pools,
    /** Re-reads SHARDS_FILE: new pools for the new map, the old ones drained. Same shard count only. */
    async reload() {
      const next = load();
      if (next.length !== pools.length)
        throw new Error(`the shard map has ${next.length} shards, not ${pools.length}: resharding needs a restart and a data move`);
      const old = pools;
      urls = next;
      pools = next.map(createPool);
      await Promise.all(old.map((p) => p.end().catch(() => {})));
      return `shard map reloaded: ${urls.map((u, i) => `shard ${i} -> ${endpointOf(u)}`).join(', ')}`;
    },
    close: () => Promise.all(pools.map((p) => p.end())),
  };
}
