// RabbitMQ as an optional job queue. Without AMQP_URL every call is a no-op (`enabled: false`).
// Jobs are published persistent on a confirm channel: `publish` resolves once the broker has the
// job, so a 202 means "queued", not "maybe queued". The worker (templates/worker) does the jobs.
import { randomUUID } from 'node:crypto';
import { JOBS, declareTopology } from '../../worker/topology.mjs';
import { withTimeout } from './timeout.mjs';

const TIMEOUT_MS = 2000;

/**
 * @param {string | undefined} url
 * @returns {{ enabled: boolean, publish(job: Record<string, unknown>): Promise<string>,
 *   ping(): Promise<void>, close(): Promise<void> }}
 */
export function createJobs(url) {
  if (!url) {
    return {
      enabled: false,
      publish: async () => {
        throw new Error('jobs are disabled (no AMQP_URL)');
      },
      ping: async () => {},
      close: async () => {},
    };
  }

  /** @type {Promise<{ connection: import('amqplib').Connection, channel: import('amqplib').ConfirmChannel }> | null} */
  let opening = null;
  let closing = false;

  // One connection and one confirm channel, opened on first use and reopened after a failure.
  const open = () => {
    opening ??= (async () => {
      // Loaded here: an API without AMQP_URL never loads the AMQP client.
      const { default: amqp } = await import('amqplib');
      const connection = await amqp.connect(url, { timeout: TIMEOUT_MS });
      const forget = () => (opening = null);
      connection.on('error', (err) => console.error(`rabbitmq: ${err.message}`));
      connection.on('close', forget);
      try {
        const channel = await connection.createConfirmChannel();
        channel.on('error', (err) => console.error(`rabbitmq channel: ${err.message}`));
        channel.on('close', () => {
          forget();
          if (!closing) connection.close().catch(() => {});
        });
        await declareTopology(channel);
        return { connection, channel };
      } catch (err) {
        connection.close().catch(() => {});
        throw err;
      }
    })().catch((err) => {
      opening = null;
      throw err;
    });
    return opening;
  };

  return {
    enabled: true,
    /** Publishes a job to `jobs`; resolves with its id once the broker confirmed it. */
    async publish(job) {
      const jobId = randomUUID();
      const body = Buffer.from(JSON.stringify({ ...job, jobId }));
      const send = async () => {
        const { channel } = await open();
        await new Promise((resolve, reject) =>
          channel.sendToQueue(
            JOBS,
            body,
            { persistent: true, messageId: jobId, contentType: 'application/json', type: String(job.type) },
            (err) => (err ? reject(err) : resolve(undefined)),
          ),
        );
      };
      await withTimeout(send(), TIMEOUT_MS, 'rabbitmq publish');
      return jobId;
    },
    /** Rejects when RabbitMQ cannot be reached or the jobs queue is gone (used by /health). */
    async ping() {
      await withTimeout(
        open().then(({ channel }) => channel.checkQueue(JOBS)),
        1000,
        'rabbitmq checkQueue',
      );
    },
    async close() {
      closing = true;
      const current = opening;
      opening = null;
      if (current) await current.then(({ connection }) => connection.close()).catch(() => {});
    },
  };
}
