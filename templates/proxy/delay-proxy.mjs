#!/usr/bin/env node
// A TCP proxy that adds latency, standing in for a link between two "regions" (netem is not
// available). No dependencies; run by labforge as a supervised service.
//
//   LISTEN_HOST, LISTEN_PORT   where it accepts connections (loopback)
//   TARGET_HOST, TARGET_PORT   where it forwards them
//   SOURCE_HOST                local address of the forwarded connections @default LISTEN_HOST
//                              (the target then sees the proxy's region as the source)
//   DELAY_MS                   one-way delay added to every chunk, each direction @default 40
//   STATE_FILE                 receives {"state":"open"|"partitioned",...} on every change
//
// Every chunk is queued with its due time and written when due, by a timer per connection and
// direction: order is kept, the event loop never sleeps. SIGUSR1 partitions the link (every
// connection is reset, new ones are reset at once), SIGUSR2 heals it, SIGTERM/SIGINT exit 0.
import { renameSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';

const env = process.env;
const listenHost = env.LISTEN_HOST ?? '127.0.0.1';
const listenPort = Number(env.LISTEN_PORT);
const targetHost = env.TARGET_HOST ?? '127.0.0.1';
const targetPort = Number(env.TARGET_PORT);
const sourceHost = env.SOURCE_HOST || listenHost;
const delayMs = Number(env.DELAY_MS ?? 40);
const stateFile = env.STATE_FILE;

const log = (message) => process.stdout.write(`${new Date().toISOString()} delay-proxy[${process.pid}] ${message}\n`);

for (const [name, value] of [
  ['LISTEN_PORT', listenPort],
  ['TARGET_PORT', targetPort],
]) {
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    log(`${name} must be a port number, got '${env[name] ?? ''}'`);
    process.exit(2);
  }
}
if (!Number.isFinite(delayMs) || delayMs < 0) {
  log(`DELAY_MS must be >= 0, got '${env.DELAY_MS}'`);
  process.exit(2);
}

let state = 'open';
let since = new Date().toISOString();
let accepted = 0;
const connections = new Set();

function writeState() {
  if (!stateFile) return;
  const body = JSON.stringify({ state, since, pid: process.pid, delayMs, connections: connections.size, accepted });
  const tmp = `${stateFile}.${process.pid}.tmp`;
  writeFileSync(tmp, `${body}\n`, { mode: 0o644 });
  renameSync(tmp, stateFile);
}

/** Bytes queued per direction before reading pauses, and the level at which it resumes. */
const QUEUE_HIGH = 8 * 1024 * 1024;
const QUEUE_LOW = 2 * 1024 * 1024;

/**
 * One direction of one connection: chunks wait in a FIFO until due. `end` is queued too, so a
 * half-close arrives after the data sent before it.
 */
function pipeDelayed(from, to) {
  const queue = [];
  let timer;
  let queued = 0; // bytes waiting in `queue`
  let waitingDrain = false; // `to` buffers too much
  let queueFull = false; // `queue` holds too much (a fast sender over a slow link)
  const throttle = () => (waitingDrain || queueFull ? from.pause() : from.resume());
  const deliver = (item) => {
    if (to.destroyed) return;
    if (item.end) return void to.end();
    if (!to.write(item.chunk) && !waitingDrain) {
      waitingDrain = true;
      throttle();
      to.once('drain', () => ((waitingDrain = false), throttle()));
    }
  };
  const flush = () => {
    timer = undefined;
    const now = performance.now();
    while (queue.length > 0 && queue[0].due <= now) {
      const item = queue.shift();
      queued -= item.chunk?.length ?? 0;
      deliver(item);
    }
    if (queueFull && queued < QUEUE_LOW) {
      queueFull = false;
      throttle();
    }
    if (queue.length > 0) timer = setTimeout(flush, Math.max(0, queue[0].due - now));
  };
  const push = (item) => {
    // No delay and nothing waiting: straight through (a 0 ms timer would still cost ~1 ms).
    if (delayMs === 0 && queue.length === 0) return deliver(item);
    queue.push({ ...item, due: performance.now() + delayMs });
    queued += item.chunk?.length ?? 0;
    if (!queueFull && queued > QUEUE_HIGH) {
      queueFull = true;
      throttle();
    }
    timer ??= setTimeout(flush, delayMs);
  };
  from.on('data', (chunk) => push({ chunk }));
  from.on('end', () => push({ end: true }));
  return () => {
    clearTimeout(timer);
    queue.length = 0;
  };
}

/** Closes with a TCP RST (what a broken link looks like to both ends), else plainly. */
function reset(socket) {
  try {
    socket.resetAndDestroy();
  } catch {
    socket.destroy();
  }
}

const server = createServer({ allowHalfOpen: true }, (client) => {
  client.on('error', () => {});
  if (state !== 'open') return reset(client);
  accepted++;
  const upstream = createConnection({ host: targetHost, port: targetPort, localAddress: sourceHost, allowHalfOpen: true });
  upstream.on('error', () => {});
  const conn = { client, upstream };
  connections.add(conn);
  const stops = [pipeDelayed(client, upstream), pipeDelayed(upstream, client)];
  let closed = 0;
  const onClose = () => {
    // One side is gone (a clean close has already queued its `end`): give the other side's queue
    // time to deliver what was sent before, then drop it.
    if (++closed === 1) {
      setTimeout(() => (client.destroy(), upstream.destroy()), delayMs + 250).unref();
      return;
    }
    for (const stop of stops) stop();
    connections.delete(conn);
  };
  client.on('close', onClose);
  upstream.on('close', onClose);
  conn.kill = () => {
    for (const stop of stops) stop();
    reset(client);
    reset(upstream);
  };
});
server.on('error', (error) => {
  log(`cannot listen on ${listenHost}:${listenPort}: ${error.code ?? error.message}`);
  process.exit(1);
});

process.on('SIGUSR1', () => {
  if (state === 'partitioned') return;
  state = 'partitioned';
  since = new Date().toISOString();
  const count = connections.size;
  for (const conn of connections) conn.kill?.();
  connections.clear();
  writeState();
  log(`partitioned: reset ${count} connection(s); new connections are reset`);
});
process.on('SIGUSR2', () => {
  if (state === 'open') return;
  state = 'open';
  since = new Date().toISOString();
  writeState();
  log('healed: forwarding again');
});
for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    log(`${sig}: closing ${connections.size} connection(s) and exiting`);
    server.close();
    for (const conn of connections) conn.kill?.();
    process.exit(0);
  });
}

server.listen({ host: listenHost, port: listenPort, exclusive: true }, () => {
  writeState();
  log(`listening on ${listenHost}:${listenPort} -> ${targetHost}:${targetPort} from ${sourceHost}, ${delayMs} ms each way`);
});
