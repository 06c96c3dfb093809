// The queue worker (templates/worker/worker.mjs), run by labforge with the same Node binary.
// It has no port: it is ready when RabbitMQ shows it as a consumer of the `jobs` queue.
import { existsSync } from 'node:fs';
import { ExternalError } from '../model/errors.js';
import { templatePath } from '../model/paths.js';
import type { RunAs } from './home.js';
import { isAlive, stopProcess, type ProcessRecord } from './proc.js';
import { lastLines, makeOwnedDir, serviceEnv, spawnService, throwIfAborted } from './spawn.js';
import { cleanupMayFail, reportedElsewhere } from '../model/quiet.js';

export interface WorkerProps {
  /** Component id, used in messages. @default 'worker' */
  readonly id?: string;
  /** Its working directory inside the lab (created here, 0700). */
  readonly dir: string;
  readonly logFile: string;
  /** amqp://learner:PW@127.0.0.1:PORT/lab (travels in the environment, never in argv). */
  readonly amqpUrl: string;
  /** postgres://learner:PW@127.0.0.1:PORT/lab */
  readonly databaseUrl: string;
  /** Shown in every log line. @default `${id}-1` */
  readonly instance?: string;
}

export function workerPath(): string {
  return templatePath('worker', 'worker.mjs');
}

function label(p: WorkerProps): string {
  return `${p.id ?? 'worker'} (worker)`;
}

export function startWorker(p: WorkerProps, runAs: RunAs): ProcessRecord {
  const worker = workerPath();
  if (!existsSync(worker)) {
    throw new ExternalError(`the queue worker is missing: ${worker}`, 'reinstall labforge (the file ships in templates/worker/)');
  }
  makeOwnedDir(p.dir, runAs);
  return spawnService({
    command: process.execPath,
    args: [worker],
    cwd: p.dir,
    logFile: p.logFile,
    env: serviceEnv(runAs, {
      NODE_ENV: 'production',
      AMQP_URL: p.amqpUrl,
      DATABASE_URL: p.databaseUrl,
      INSTANCE_NAME: p.instance ?? `${p.id ?? 'worker'}-1`,
    }),
    runAs,
  });
}

/** Consumers RabbitMQ counts on `jobs` (a passive declare: it never creates the queue). */
async function consumersOnJobs(amqpUrl: string): Promise<number> {
  const amqp = await import('amqplib');
  const conn = await amqp.connect(amqpUrl, { timeout: 1000 });
  conn.on('error', reportedElsewhere);
  try {
    const channel = await conn.createChannel();
    channel.on('error', reportedElsewhere); // a 404 (queue not declared yet) closes the channel
    return (await channel.checkQueue('jobs')).consumerCount;
  } finally {
    await conn.close().catch(cleanupMayFail);
  }
}

/** Polls until the worker consumes `jobs`, or fails with its log's last lines. */
export async function waitWorkerReady(p: WorkerProps, record: ProcessRecord, signal?: AbortSignal, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    throwIfAborted(signal);
    if ((await consumersOnJobs(p.amqpUrl).catch(() => 0)) > 0) return;
    if (!isAlive(record)) throw new ExternalError(`${label(p)} exited while starting: ${lastLines(p.logFile, 4)}`, `see ${p.logFile}`);
    if (Date.now() > deadline) throw new ExternalError(`${label(p)} not consuming 'jobs' after ${timeoutMs} ms`, `see ${p.logFile}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** SIGTERM: the worker stops consuming, finishes what it holds, exits 0 within 2 s. */
export function stopWorker(record: ProcessRecord): Promise<number[]> {
  return stopProcess(record, 'SIGTERM', 2500);
}
