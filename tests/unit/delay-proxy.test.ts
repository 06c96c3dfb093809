// The delaying TCP proxy between local "regions", run for real (as the lab's run-as user) in
// front of an in-process echo server: added latency, intact ordered bytes, partition and heal.
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  healDelayProxy,
  partitionDelayProxy,
  pickFreePortOn,
  readDelayProxyState,
  startDelayProxy,
  stopDelayProxy,
  validateDelayProxy,
  waitDelayProxyReady,
  type DelayProxyProps,
} from '../../constructs/local/delay-proxy.js';
import { resolveRunAs } from '../../constructs/local/identity.js';
import { canBind } from '../../constructs/local/ports.js';
import { ownedProcesses, type ProcessRecord } from '../../constructs/local/proc.js';
import { ValidationError } from '../../constructs/model/errors.js';
import { reportedElsewhere } from '../../constructs/model/quiet.js';

const DELAY = 50;
const root = mkdtempSync(join(tmpdir(), 'lf-delay-proxy-'));
chmodSync(root, 0o755); // as root the proxy runs as the `labforge` user
let echo: Server;
let props: DelayProxyProps;
let record: ProcessRecord | undefined;

function connect(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: props.listenHost, port: props.listenPort });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Sends `payload` and resolves with the first `payload.length` bytes that come back. */
function roundTrip(socket: Socket, payload: Buffer, timeoutMs = 5000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let length = 0;
    const timer = setTimeout(
      () => reject(new Error(`no echo of ${payload.length} bytes within ${timeoutMs} ms (got ${length})`)),
      timeoutMs,
    );
    socket.on('data', (chunk: Buffer) => {
      parts.push(chunk);
      length += chunk.length;
      if (length >= payload.length) {
        clearTimeout(timer);
        resolve(Buffer.concat(parts));
      }
    });
    socket.once('close', () => (clearTimeout(timer), reject(new Error(`closed after ${length} bytes`))));
    socket.write(payload);
  });
}

/** What a client sees right after connecting: data, or the connection failing/closing. */
function fateOfNewConnection(): Promise<'echoed' | 'closed'> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: props.listenHost, port: props.listenPort });
    socket.once('error', () => resolve('closed'));
    socket.once('close', () => resolve('closed'));
    socket.once('data', () => (socket.destroy(), resolve('echoed')));
    socket.write('hello?');
    setTimeout(() => (socket.destroy(), resolve('echoed')), 2000).unref();
  });
}

afterAll(async () => {
  if (record) expect(await stopDelayProxy(record)).toEqual([]);
  await new Promise((resolve) => (echo ? echo.close(resolve) : resolve(undefined)));
  rmSync(root, { recursive: true, force: true });
});

beforeAll(async () => {
  echo = createServer((socket) => {
    socket.on('error', reportedElsewhere);
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => echo.listen({ host: '127.0.0.1', port: 0 }, resolve));
  const echoPort = (echo.address() as { port: number }).port;
  const listenHost = '127.0.2.1';
  props = {
    id: 'link-test',
    dir: join(root, 'proxy'),
    logFile: join(root, 'proxy.log'),
    listenHost,
    listenPort: await pickFreePortOn(listenHost),
    targetHost: '127.0.0.1',
    targetPort: echoPort,
    delayMs: DELAY,
  };
  record = startDelayProxy(props, resolveRunAs());
  await waitDelayProxyReady(props, record);
});

describe('delay proxy', () => {
  it('adds the delay in each direction: an echo round trip takes >= 2x delay and stays well bounded', async () => {
    const socket = await connect();
    try {
      const times: number[] = [];
      for (let i = 0; i < 3; i++) {
        const started = performance.now();
        const back = await roundTrip(socket, Buffer.from(`ping ${i}`));
        times.push(performance.now() - started);
        expect(back.toString()).toBe(`ping ${i}`);
        socket.removeAllListeners('data');
        socket.removeAllListeners('close');
      }
      for (const ms of times) {
        expect(ms).toBeGreaterThanOrEqual(2 * DELAY);
        expect(ms).toBeLessThan(400);
      }
    } finally {
      socket.destroy();
    }
  });

  it('delivers 1 MB intact and in order', async () => {
    const payload = randomBytes(1024 * 1024);
    const socket = await connect();
    try {
      const back = await roundTrip(socket, payload, 15_000);
      expect(back.length).toBe(payload.length);
      expect(back.equals(payload)).toBe(true);
    } finally {
      socket.destroy();
    }
  });

  it('partitions on SIGUSR1 (open and new connections are cut) and heals on SIGUSR2', async () => {
    const before = await connect();
    const cut = new Promise<void>((resolve) => before.once('close', () => resolve()));
    before.on('error', reportedElsewhere);
    await roundTrip(before, Buffer.from('warm'));

    const partitioned = await partitionDelayProxy(props, record!);
    expect(partitioned.state).toBe('partitioned');
    await cut; // the open connection was reset
    expect(await fateOfNewConnection()).toBe('closed');
    expect(readDelayProxyState(props)?.state).toBe('partitioned');

    expect((await healDelayProxy(props, record!)).state).toBe('open');
    expect(await fateOfNewConnection()).toBe('echoed');
  });

  it('accepts only loopback addresses', () => {
    expect(() => validateDelayProxy({ ...props, listenHost: '0.0.0.0' })).toThrow(ValidationError);
    expect(() => validateDelayProxy({ ...props, targetHost: '10.0.0.5' })).toThrow(/targetHost must be a 127/);
  });

  it('exits on SIGTERM leaving nothing: no process, the port bindable', async () => {
    expect(await stopDelayProxy(record!)).toEqual([]);
    expect(ownedProcesses(record!)).toEqual([]);
    expect(await canBind(props.listenPort, props.listenHost)).toBe(true);
    record = undefined;
  });
});
