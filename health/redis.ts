// Redis: authenticate, PING, SET and GET a key (with a TTL, so nothing piles up).
import { randomBytes } from 'node:crypto';
import { withRetry, type ProbeResult, type RetryPolicy } from './probe.js';
import { reportedElsewhere } from '../constructs/model/quiet.js';

export interface RedisEndpoint {
  readonly host: string;
  readonly port: number;
  readonly password: string;
  /** ACL user. @default the default user */
  readonly username?: string;
}

export async function probeRedis(name: string, endpoint: RedisEndpoint, policy: RetryPolicy = {}): Promise<ProbeResult> {
  const { Redis } = await import('ioredis');
  return withRetry(name, policy, async (timeoutMs, abandon) => {
    const client = new Redis({
      host: endpoint.host,
      port: endpoint.port,
      username: endpoint.username,
      password: endpoint.password,
      lazyConnect: true,
      connectTimeout: timeoutMs,
      // One connection per attempt; withRetry owns retrying, so ioredis must not reconnect forever.
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
    });
    client.on('error', reportedElsewhere);
    abandon.addEventListener('abort', () => client.disconnect(), { once: true });
    try {
      await client.connect();
      const pong = await client.ping();
      if (pong !== 'PONG') throw new Error(`PING answered ${JSON.stringify(pong)}`);
      const key = `labforge:health:${randomBytes(4).toString('hex')}`;
      const value = randomBytes(8).toString('hex');
      await client.set(key, value, 'EX', 10);
      const read = await client.get(key);
      await client.del(key);
      if (read !== value) throw new Error(`GET returned ${String(read)}, expected what SET wrote`);
      return `PING, SET/GET with auth on ${endpoint.host}:${endpoint.port}`;
    } finally {
      client.disconnect();
    }
  });
}
