// The starter REST API (templates/api/server.mjs), run by labforge with the same Node binary.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ExternalError } from '../model/errors.js';
import { templatePath } from '../model/paths.js';
import type { ComponentState, RunAs } from './home.js';
import type { ProcessRecord } from './proc.js';
import { serviceEnv, spawnService } from './spawn.js';

export function apiServerPath(): string {
  return templatePath('api', 'server.mjs');
}

export interface ApiWiring {
  /** The one database; absent when `shardsFile` is given. */
  readonly databaseUrl?: string;
  /** Expert: a file holding {"shards": [url, ...]} in shard order, re-read on SIGHUP. @default not sharded */
  readonly shardsFile?: string;
  /** Expert: brokers (host:port) and topic of the domain events. @default no events */
  readonly kafkaBrokers?: readonly string[];
  readonly kafkaTopic?: string;
  /** Cache for GET /notes/:id. @default none (X-Cache: OFF) */
  readonly redisUrl?: string;
  /** RabbitMQ: POST /jobs and a welcome-email job on register. @default none (no /jobs routes) */
  readonly amqpUrl?: string;
  readonly jwtSecret: string;
  /** Sent as X-Instance: `<component id>-<n>`, e.g. api-2. */
  readonly instance: string;
}

export function uploadsDir(c: ComponentState): string {
  return join(c.dataDir, 'uploads');
}

export function startApi(c: ComponentState, runAs: RunAs, wiring: ApiWiring): ProcessRecord {
  const server = apiServerPath();
  if (!existsSync(server)) {
    throw new ExternalError(`the starter API is missing: ${server}`, 'reinstall labforge (the file ships in templates/api/)');
  }
  return spawnService({
    command: process.execPath,
    args: [server],
    cwd: c.dataDir,
    logFile: c.logFile,
    // Secrets travel in the environment: /proc/<pid>/environ is readable only by its owner.
    env: serviceEnv(runAs, {
      NODE_ENV: 'production',
      LABFORGE_API_HOST: c.host,
      LABFORGE_API_PORT: String(c.port),
      ...(wiring.databaseUrl ? { DATABASE_URL: wiring.databaseUrl } : {}),
      ...(wiring.shardsFile ? { SHARDS_FILE: wiring.shardsFile } : {}),
      ...(wiring.kafkaBrokers && wiring.kafkaTopic ? { KAFKA_BROKERS: wiring.kafkaBrokers.join(','), KAFKA_TOPIC: wiring.kafkaTopic } : {}),
      ...(wiring.redisUrl ? { REDIS_URL: wiring.redisUrl } : {}),
      ...(wiring.amqpUrl ? { AMQP_URL: wiring.amqpUrl } : {}),
      JWT_SECRET: wiring.jwtSecret,
      INSTANCE_NAME: wiring.instance,
      UPLOADS_DIR: uploadsDir(c),
    }),
    runAs,
  });
}
