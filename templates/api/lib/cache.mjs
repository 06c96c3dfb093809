// Redis as an optional read-through cache. Without REDIS_URL every call is a no-op.
// Redis is never allowed to break a request: cache errors are logged and treated as misses.
import { Redis } from 'ioredis';
import { withTimeout } from './timeout.mjs';

const TIMEOUT_MS = 1000;

/**
 * @param {string | undefined} url
 * @returns {{ enabled: boolean, get(key: string): Promise<any>, set(key: string, value: unknown,
 *   ttlSeconds: number): Promise<void>, del(key: string): Promise<void>, ping(): Promise<void>,
 *   close(): void }}
 */
export function createCache(url) {
  if (!url) {
    return {
      enabled: false,
      get: async () => null,
      set: async () => {},
      del: async () => {},
      ping: async () => {},
      close: () => {},
    };
  }

  const redis = new Redis(url, {
    lazyConnect: true, // connect on the first command, so start-up never waits for Redis
    maxRetriesPerRequest: 1, // fail fast while Redis is down instead of queueing forever
    connectTimeout: TIMEOUT_MS,
  });
  let lastError = '';
  redis.on('error', (err) => {
    if (err.message !== lastError) console.error(`redis: ${err.message}`); // once per distinct error
    lastError = err.message;
  });
  redis.on('ready', () => (lastError = ''));

  // While Redis is known to be down ("reconnecting"), skip it at once rather than make every
  // request wait for a timeout. "wait" is the lazy state before the first command.
  const run = async (what, command) => {
    if (redis.status !== 'ready' && redis.status !== 'wait') return null;
    return withTimeout(command(), TIMEOUT_MS, `redis ${what}`).catch((err) => {
      console.error(`redis: ${what} failed: ${err.message}`);
      return null;
    });
  };

  return {
    enabled: true,
    async get(key) {
      const text = await run('GET', () => redis.get(key));
      try {
        return text === null ? null : JSON.parse(text);
      } catch {
        return null; // not written by us: treat as a miss, the next SET replaces it
      }
    },
    async set(key, value, ttlSeconds) {
      await run('SET', () => redis.set(key, JSON.stringify(value), 'EX', ttlSeconds));
    },
    async del(key) {
      await run('DEL', () => redis.del(key));
    },
    /** Rejects when Redis does not answer PONG within the timeout (used by /health). */
    async ping() {
      await withTimeout(redis.ping(), TIMEOUT_MS, 'redis PING');
    },
    close: () => redis.disconnect(),
  };
}
