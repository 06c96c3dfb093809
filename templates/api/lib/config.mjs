// All environment variables are read here, once, and validated before anything starts.

/** A missing or invalid setting; server.mjs prints the message and exits 1. */
export class ConfigError extends Error {
  name = 'ConfigError';
}

/**
 * @param {NodeJS.ProcessEnv} env
 * @returns {{ host: string, port: number, databaseUrl: string, redisUrl: string | undefined,
 *   jwtSecret: string, instance: string, uploadsDir: string | undefined,
 *   amqpUrl: string | undefined, shards: string[] | undefined, shardsFile: string | undefined,
 *   kafkaBrokers: string[] | undefined, kafkaTopic: string | undefined, kafkaTls: boolean }}
 */
export function loadConfig(env) {
  const shards = env.SHARDS ? shardList(env.SHARDS) : undefined;
  const shardsFile = env.SHARDS_FILE || undefined; // {"shards": [...]}, re-read on SIGHUP
  const sharded = shards !== undefined || shardsFile !== undefined;
  return {
    host: env.LABFORGE_API_HOST || '127.0.0.1',
    port: port(required(env, 'LABFORGE_API_PORT', 'the TCP port to listen on')),
    // Sharded (expert): SHARDS or SHARDS_FILE replace DATABASE_URL.
    databaseUrl: sharded ? env.DATABASE_URL || undefined : required(env, 'DATABASE_URL', 'e.g. postgres://learner:PW@127.0.0.1:5432/lab'),
    shards,
    shardsFile,
    redisUrl: env.REDIS_URL || undefined, // absent: caching off, /health skips redis
    jwtSecret: required(env, 'JWT_SECRET', 'the HMAC key that signs login tokens'),
    instance: env.INSTANCE_NAME || 'api-1',
    uploadsDir: env.UPLOADS_DIR || undefined, // for the upload exercise
    amqpUrl: env.AMQP_URL || undefined, // absent: no /jobs routes, no jobs published, /health skips rabbitmq
    // Both present: a domain event per write (expert); absent: no events.
    kafkaBrokers: env.KAFKA_BROKERS
      ? env.KAFKA_BROKERS.split(',')
          .map((b) => b.trim())
          .filter(Boolean)
      : undefined,
    kafkaTopic: env.KAFKA_TOPIC || undefined,
    // Managed Kafka (MSK) listens with TLS only; the local and in-cluster brokers in plaintext.
    kafkaTls: env.KAFKA_TLS === 'true',
  };
}

function shardList(value) {
  let list;
  try {
    list = JSON.parse(value);
  } catch {
    throw new ConfigError('SHARDS must be a JSON list of postgres URLs, in shard order');
  }
  if (!Array.isArray(list) || list.length === 0 || !list.every((u) => typeof u === 'string')) {
    throw new ConfigError('SHARDS must be a non-empty JSON list of postgres URLs, in shard order');
  }
  return list;
}

function required(env, name, hint) {
  const value = env[name];
  if (!value) throw new ConfigError(`${name} is required (${hint})`);
  return value;
}

function port(value) {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) {
    throw new ConfigError(`LABFORGE_API_PORT must be a port number 0-65535, got "${value}"`);
  }
  return n;
}
