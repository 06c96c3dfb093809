// labforge starter API: users, JWT login and notes, on PostgreSQL with an optional Redis cache
// and optional RabbitMQ jobs (AMQP_URL); in the expert lab, sharded PostgreSQL (SHARDS_FILE) and
// domain events on Kafka (KAFKA_BROKERS, KAFKA_TOPIC).
// Entry point: read the config, create the tables, route requests, shut down cleanly.
// Run: LABFORGE_API_PORT=3000 DATABASE_URL=postgres://... JWT_SECRET=... node templates/api/server.mjs
import { createServer } from 'node:http';
import { authenticate } from './lib/auth.mjs';
import { createCache } from './lib/cache.mjs';
import { ConfigError, loadConfig } from './lib/config.mjs';
import { migrate } from './lib/db.mjs';
import { createEvents } from './lib/events.mjs';
import { createJobs } from './lib/jobs.mjs';
import { createDatabase } from './lib/shards.mjs';
import { HttpError, readJson, requestId, sendJson } from './lib/http.mjs';
import { Router } from './lib/router.mjs';
import { addAuthRoutes } from './routes/auth.mjs';
import { addJobRoutes } from './routes/jobs.mjs';
import { addMetaRoutes } from './routes/meta.mjs';
import { addNoteRoutes } from './routes/notes.mjs';
import { addShardRoutes } from './routes/shards.mjs';

const config = readConfigOrExit();
const db = createDatabase(config);
const cache = createCache(config.redisUrl);
const jobs = createJobs(config.amqpUrl);
const events = createEvents({ brokers: config.kafkaBrokers, topic: config.kafkaTopic, instance: config.instance, tls: config.kafkaTls });

const router = new Router();
addMetaRoutes(router, { db, cache, jobs, config });
addAuthRoutes(router, { db, jobs, events, config });
addNoteRoutes(router, { db, cache, events });
if (db.sharded) addShardRoutes(router, { db });
if (jobs.enabled) addJobRoutes(router, { pool: db.forKey(''), jobs });

const server = createServer(handle);
process.once('SIGTERM', () => shutdown('SIGTERM'));
process.once('SIGINT', () => shutdown('SIGINT'));
// SIGHUP: re-read SHARDS_FILE (a failover moved a shard's primary).
process.on('SIGHUP', () => {
  db.reload().then(
    (message) => console.log(`${config.instance} SIGHUP: ${message}`),
    (err) => console.error(`${config.instance} SIGHUP: shard map not reloaded: ${err.message}`),
  );
});

try {
  // Every shard gets the same tables (each holds the users it routes to).
  await Promise.all(db.all().map((pool) => migrate(pool)));
} catch (err) {
  console.error(`api: cannot create the tables in ${db.sharded ? 'every shard' : 'DATABASE_URL'}: ${err.message}`);
  process.exit(1);
}

server.on('error', (err) => {
  console.error(`api: cannot listen on ${config.host}:${config.port}: ${err.message}`);
  process.exit(1);
});
server.listen(config.port, config.host, () => {
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  console.log(`${config.instance} listening on http://${host}:${port}`);
});

/**
 * Every request goes through here: ids and headers, routing, auth, errors, one log line.
 * @param {import('node:http').IncomingMessage} req
 * @param {import('node:http').ServerResponse} res
 */
async function handle(req, res) {
  const started = performance.now();
  const id = requestId(req);
  const path = (req.url ?? '/').split('?')[0];
  res.setHeader('X-Instance', config.instance);
  res.setHeader('X-Request-Id', id);
  res.on('close', () => {
    const ms = (performance.now() - started).toFixed(1);
    console.log(`${req.method} ${path} ${res.statusCode} ${ms}ms`);
  });

  try {
    const url = parseUrl(req.url);
    const found = router.match(req.method, url.pathname);
    if (!found) throw new HttpError(404, `no route for ${req.method} ${url.pathname}`);
    if ('allowed' in found) {
      throw new HttpError(405, `${req.method} not allowed here`, { Allow: found.allowed.join(', ') });
    }
    const { route, params } = found;
    const ctx = {
      req,
      params,
      query: url.searchParams,
      user: route.auth ? authenticate(req, config.jwtSecret) : undefined,
      json: () => readJson(req),
    };
    const { status, body, headers } = await route.handler(ctx);
    sendJson(res, status, body, headers);
  } catch (err) {
    if (res.headersSent) return res.destroy();
    if (err instanceof HttpError) {
      // After a 413 the rest of the body is not worth reading: close the connection.
      const close = err.status === 413 ? { Connection: 'close' } : {};
      sendJson(res, err.status, { error: err.message }, { ...err.headers, ...close });
    } else {
      // The details go to our log, never to the client.
      console.error(`${req.method} ${path} failed (request ${id}):`, err);
      sendJson(res, 500, { error: 'internal server error' });
    }
  }
}

function parseUrl(raw = '/') {
  try {
    return new URL(raw, 'http://localhost');
  } catch {
    throw new HttpError(400, 'invalid request URL');
  }
}

/** Stop accepting, let in-flight requests finish (up to 1 s), close the pools, exit 0. */
async function shutdown(signal) {
  console.log(`${config.instance} received ${signal}, shutting down`);
  setTimeout(() => process.exit(0), 1800).unref(); // never outlive the 2 s budget
  const closed = new Promise((resolve) => server.close(resolve));
  server.closeIdleConnections();
  const force = setTimeout(() => server.closeAllConnections(), 1000);
  await closed;
  clearTimeout(force);
  cache.close();
  await jobs.close();
  await events.close();
  await db.close().catch(() => {});
  process.exit(0);
}

function readConfigOrExit() {
  try {
    return loadConfig(process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(`api: ${err.message}`);
    process.exit(1);
  }
}
