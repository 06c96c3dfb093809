// labforge queue worker: consumes jobs from RabbitMQ (queue `jobs` on the lab's vhost) and does
// them on PostgreSQL. Failed jobs are retried through jobs.retry and end in jobs.dead.
// Run: AMQP_URL=amqp://learner:PW@127.0.0.1:5672/lab DATABASE_URL=postgres://... node templates/worker/worker.mjs
// Optional: HEARTBEAT_FILE, rewritten every 10 s while consuming (a liveness signal).
import { writeFileSync } from 'node:fs';
import amqp from 'amqplib';
import pg from 'pg';
import { DEAD, JOBS, MAX_ATTEMPTS, RETRY_DELAY_MS, declareTopology, failedAttempts } from './topology.mjs';

const PREFETCH = 10;
const SCHEMA = `
  CREATE TABLE IF NOT EXISTS emails_sent (
    id bigserial PRIMARY KEY,
    user_id bigint NOT NULL,
    email text NOT NULL,
    job_id text UNIQUE NOT NULL,
    sent_at timestamptz NOT NULL DEFAULT now()
  );
`;

/** A job that can never succeed (bad JSON, unknown type): straight to jobs.dead, no retries. */
class PermanentError extends Error {}
const config = readConfigOrExit(process.env);
const log = (line) => console.log(`${config.instance} ${line}`);

const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 4, connectionTimeoutMillis: 2000 });
pool.on('error', (err) => console.error(`${config.instance} postgres: idle client error: ${err.message}`));

let stopping = false;
let inFlight = 0;
/** @type {import('amqplib').Connection | undefined} */
let connection;
/** @type {import('amqplib').ConfirmChannel | undefined} */
let channel;
let consumerTag = '';
process.once('SIGTERM', () => void shutdown('SIGTERM'));
process.once('SIGINT', () => void shutdown('SIGINT'));

await step('create the table emails_sent in DATABASE_URL', () => migrate(pool));
connection = await step('connect to AMQP_URL', () => amqp.connect(config.amqpUrl, { timeout: 5000 }));
connection.on('error', (err) => console.error(`${config.instance} rabbitmq: ${err.message}`));
connection.on('close', () => {
  if (stopping) return;
  // Unacked jobs go back to the queue; whoever supervises the worker restarts it.
  console.error(`${config.instance} rabbitmq connection closed; exiting so that a supervisor restarts me`);
  process.exit(1);
});
// A confirm channel: a job moved to jobs.dead is confirmed by the broker before the original is acked.
channel = await connection.createConfirmChannel();
await declareTopology(channel);
await channel.prefetch(PREFETCH);
({ consumerTag } = await channel.consume(JOBS, (message) => void handle(message)));
log(`consuming ${JOBS} (prefetch ${PREFETCH}, ${MAX_ATTEMPTS} attempts, retry after ${RETRY_DELAY_MS} ms, then ${DEAD})`);
// A worker serves no port: on Kubernetes its liveness probe checks that this file stays fresh.
if (config.heartbeatFile) {
  const beat = () => writeFileSync(config.heartbeatFile, `${new Date().toISOString()}\n`);
  beat();
  setInterval(beat, 10_000).unref();
}

/** @param {import('amqplib').ConsumeMessage | null} message */
async function handle(message) {
  if (!message) return; // the broker cancelled the consumer (queue deleted)
  inFlight++;
  const started = performance.now();
  const attempt = failedAttempts(message) + 1;
  let id = message.properties.messageId ?? '-';
  let type = '?';
  try {
    const job = parseJob(message.content);
    id = job.jobId ?? id;
    type = job.type;
    await perform(job, id);
    channel?.ack(message); // only after the row is committed
    log(`job ${id} ${type} done (attempt ${attempt}/${MAX_ATTEMPTS}) ${ms(started)}`);
  } catch (err) {
    const last = attempt >= MAX_ATTEMPTS || err instanceof PermanentError;
    try {
      if (last) {
        await toDeadLetters(message, err, attempt);
        channel?.ack(message);
        log(`job ${id} ${type} FAILED (attempt ${attempt}/${MAX_ATTEMPTS}): ${err.message}; moved to ${DEAD} ${ms(started)}`);
      } else {
        channel?.nack(message, false, false); // dead-lettered to jobs.retry, back in jobs after the delay
        log(`job ${id} ${type} failed (attempt ${attempt}/${MAX_ATTEMPTS}): ${err.message}; retry in ${RETRY_DELAY_MS} ms`);
      }
    } catch (moveErr) {
      // Channel gone: the broker redelivers the job after we reconnect (at least once).
      console.error(`${config.instance} job ${id}: could not ack/nack: ${moveErr.message}`);
    }
  } finally {
    inFlight--;
  }
}

/** @param {Buffer} content */
function parseJob(content) {
  let job;
  try {
    job = JSON.parse(content.toString('utf8'));
  } catch {
    throw new PermanentError('body is not JSON');
  }
  if (!job || typeof job !== 'object') throw new PermanentError('body is not a JSON object');
  if (job.type !== 'welcome-email') throw new PermanentError(`unknown job type ${JSON.stringify(job.type)}`);
  if (!Number.isSafeInteger(job.userId) || typeof job.email !== 'string') {
    throw new PermanentError('welcome-email needs {userId: integer, email: string}');
  }
  return job;
}

/** "Sends" the welcome email: one row per job id, so a redelivered job is not sent twice. */
async function perform(job, id) {
  if (job.fail === true) throw new Error('job asked to fail ("fail": true)');
  await pool.query('INSERT INTO emails_sent (user_id, email, job_id) VALUES ($1, $2, $3) ON CONFLICT (job_id) DO NOTHING', [
    job.userId,
    job.email,
    id,
  ]);
}

/** @param {import('amqplib').ConsumeMessage} message */
function toDeadLetters(message, err, attempt) {
  const headers = { ...message.properties.headers, 'x-last-error': String(err.message), 'x-attempts': attempt };
  return new Promise((resolve, reject) =>
    channel?.sendToQueue(DEAD, message.content, { ...message.properties, headers, persistent: true }, (confirmErr) =>
      confirmErr ? reject(confirmErr) : resolve(undefined),
    ),
  );
}

/** Idempotent, one worker at a time (concurrent CREATE TABLE IF NOT EXISTS can collide). */
async function migrate(db) {
  const client = await db.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [4242_0002]);
    await client.query(SCHEMA);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

/** Stop taking jobs, let the ones in hand finish (up to 1.5 s), close everything, exit 0. */
async function shutdown(signal) {
  if (stopping) return;
  stopping = true;
  log(`received ${signal}, shutting down`);
  setTimeout(() => process.exit(0), 1800).unref(); // never outlive a 2 s stop budget
  try {
    if (consumerTag) await channel?.cancel(consumerTag);
  } catch {
    /* not consuming yet, or the channel is gone */
  }
  const deadline = Date.now() + 1500;
  while (inFlight > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  await connection?.close().catch(() => {}); // unacked jobs return to the queue
  await pool.end().catch(() => {});
  process.exit(0);
}

async function step(what, fn) {
  try {
    return await fn();
  } catch (err) {
    console.error(`${config.instance}: cannot ${what}: ${err.message}`);
    process.exit(1);
  }
}

function ms(started) {
  return `${(performance.now() - started).toFixed(1)}ms`;
}

function readConfigOrExit(env) {
  const missing = ['AMQP_URL', 'DATABASE_URL'].filter((name) => !env[name]);
  if (missing.length > 0) {
    console.error(`worker: ${missing.join(' and ')} required (e.g. amqp://learner:PW@127.0.0.1:5672/lab, postgres://...)`);
    process.exit(1);
  }
  return {
    amqpUrl: env.AMQP_URL,
    databaseUrl: env.DATABASE_URL,
    instance: env.INSTANCE_NAME || 'worker-1',
    heartbeatFile: env.HEARTBEAT_FILE || undefined,
  };
}
