// RabbitMQ: log in as the learner on the lab's vhost, publish a message to a temporary exclusive
// queue and consume it back: login, permissions, routing and delivery in one round trip.
import { randomBytes } from 'node:crypto';
import { withRetry, type ProbeResult, type RetryPolicy } from './probe.js';
import { amqpUrl } from '../constructs/model/urls.js';
import { cleanupMayFail, reportedElsewhere } from '../constructs/model/quiet.js';

export interface AmqpEndpoint {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /** @default 'lab' */
  readonly vhost?: string;
}

export function amqpEndpointUrl(e: AmqpEndpoint): string {
  return amqpUrl({ ...e, vhost: e.vhost ?? 'lab' });
}

export async function probeAmqp(name: string, endpoint: AmqpEndpoint, policy: RetryPolicy = {}): Promise<ProbeResult> {
  // Loaded here, not at the top: `labforge --help` should not pay for the AMQP client.
  const amqp = await import('amqplib');
  return withRetry(name, policy, async (timeoutMs, abandon) => {
    const conn = await amqp.connect(amqpEndpointUrl(endpoint), { timeout: timeoutMs });
    conn.on('error', reportedElsewhere);
    abandon.addEventListener('abort', () => void conn.close().catch(cleanupMayFail), { once: true });
    try {
      const channel = await conn.createChannel();
      // Server-named, exclusive, auto-deleted: gone with this connection, whatever happens.
      const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true, durable: false });
      const marker = randomBytes(8).toString('hex');
      const received = new Promise<string>((resolve) => {
        void channel.consume(queue, (message) => message && resolve(message.content.toString('utf8')), { noAck: true });
      });
      channel.sendToQueue(queue, Buffer.from(marker));
      const body = await received;
      if (body !== marker) throw new Error(`consumed ${JSON.stringify(body.slice(0, 40))}, expected what was published`);
      return `publish + consume on an exclusive queue as ${endpoint.user} on ${endpoint.host}:${endpoint.port}/${endpoint.vhost ?? 'lab'}`;
    } finally {
      await conn.close().catch(cleanupMayFail);
    }
  });
}
