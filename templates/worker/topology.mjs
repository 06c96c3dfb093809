// The job queues, declared the same way by every program that touches them (the worker and the
// API), so whichever starts first creates them and neither can disagree on their arguments.
//
//   jobs ──(worker nacks)──> jobs.retry ──(after RETRY_DELAY_MS)──> jobs      attempts 1..3
//   jobs ──(worker, after the last attempt)──> jobs.dead                      kept for a human

export const JOBS = 'jobs';
export const RETRY = 'jobs.retry';
export const DEAD = 'jobs.dead';
export const MAX_ATTEMPTS = 3;
/** Changing it changes the queue's arguments: delete jobs.retry first (or RabbitMQ refuses). */
export const RETRY_DELAY_MS = 1000;

/**
 * Idempotent: asserting a queue that exists with the same arguments is a no-op.
 * @param {import('amqplib').Channel} channel
 */
export async function declareTopology(channel) {
  // A message the worker rejects (nack, no requeue) is dead-lettered to jobs.retry ...
  await channel.assertQueue(JOBS, { durable: true, deadLetterExchange: '', deadLetterRoutingKey: RETRY });
  // ... waits there RETRY_DELAY_MS, then is dead-lettered back to jobs (no consumer on jobs.retry).
  await channel.assertQueue(RETRY, {
    durable: true,
    messageTtl: RETRY_DELAY_MS,
    deadLetterExchange: '',
    deadLetterRoutingKey: JOBS,
  });
  await channel.assertQueue(DEAD, { durable: true });
}

/**
 * How many times this message was already rejected from `jobs`: RabbitMQ counts it in the
 * x-death header (one entry per queue and reason).
 * @param {import('amqplib').ConsumeMessage} message
 */
export function failedAttempts(message) {
  const deaths = /** @type {Array<{ queue: string, reason: string, count: number }>} */ (message.properties.headers?.['x-death'] ?? []);
  const rejected = deaths.find((death) => death.queue === JOBS && death.reason === 'rejected');
  return rejected ? Number(rejected.count) : 0;
}
