// Domain events on Kafka (the expert lab): with KAFKA_BROKERS and KAFKA_TOPIC, every write
// publishes one JSON event keyed by the user's email, so one user's events stay in order on one
// partition. Without them every call is a no-op. The client is loaded on first use.
import { randomUUID } from 'node:crypto';
import { withTimeout } from './timeout.mjs';

const TIMEOUT_MS = 3000;
/**
 * Retries cover a broker failover: a killed broker is fenced after 3 s (broker.session.timeout.ms),
 * then its partitions get new leaders; 16 retries 300 ms apart span that window.
 */
const RETRIES = 16;
const RETRY_DELAY_MS = 300;

/**
 * @param {{ brokers?: string[], topic?: string, instance: string, tls?: boolean }} config
 * @returns {{ enabled: boolean, publish(type: string, key: string, data: object): Promise<string>, close(): Promise<void> }}
 */
export function createEvents({ brokers, topic, instance, tls = false }) {
  if (!brokers || !topic) {
    return { enabled: false, publish: async () => 'off', close: async () => {} };
  }
  /** @type {Promise<any> | null} */
  let producer = null;
  const open = () => {
    producer ??= import('@platformatic/kafka').then(
      ({ Producer, stringSerializers }) =>
        new Producer({
          clientId: instance,
          bootstrapBrokers: brokers,
          serializers: stringSerializers,
          timeout: TIMEOUT_MS,
          retries: RETRIES,
          retryDelay: RETRY_DELAY_MS,
          // The system CAs: MSK's certificates are publicly trusted.
          ...(tls ? { tls: {} } : {}),
        }),
    );
    return producer;
  };
  return {
    enabled: true,
    /**
     * Publishes one event and resolves with `topic/partition@offset` once every in-sync replica
     * has it (acks=-1 is given on send(): the client ignores it in the constructor).
     */
    async publish(type, key, data) {
      const event = { id: randomUUID(), type, at: new Date().toISOString(), source: instance, key, data };
      const send = async () => {
        const p = await open();
        const sent = await p.send({ acks: -1, messages: [{ topic, key, value: JSON.stringify(event) }] });
        const o = sent.offsets?.[0];
        return o ? `${topic}/${o.partition}@${o.offset}` : topic;
      };
      return withTimeout(send(), 10_000, 'kafka publish');
    },
    async close() {
      if (producer) await (await producer).close().catch(() => {});
    },
  };
}
