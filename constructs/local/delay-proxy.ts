// A link between two local "regions": templates/proxy/delay-proxy.mjs run as a supervised
// service, adding a fixed one-way delay to every chunk (netem is not in this kernel). It can be
// partitioned (SIGUSR1) and healed (SIGUSR2); signals go only to the recorded process.
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { ExternalError, ValidationError } from '../model/errors.js';
import { templatePath } from '../model/paths.js';
import type { RunAs } from './home.js';
import { isListening } from './ports.js';
import { isAlive, stopProcess, type ProcessRecord } from './proc.js';
import { lastLines, makeOwnedDir, serviceEnv, spawnService, throwIfAborted } from './spawn.js';

export interface DelayProxyProps {
  /** Component id, used in messages, e.g. `link-s0`. @default 'proxy' */
  readonly id?: string;
  /** Its own directory inside the lab (created here, 0700): its working dir and state file. */
  readonly dir: string;
  /** Where its stdout/stderr go (one line per start, partition, heal, stop). */
  readonly logFile: string;
  /** Loopback address it listens on, usually in the region of the side that connects. */
  readonly listenHost: string;
  readonly listenPort: number;
  /** Loopback address and port it forwards to. */
  readonly targetHost: string;
  readonly targetPort: number;
  /** Local address of forwarded connections, what the target sees as source. @default listenHost */
  readonly sourceHost?: string;
  /** One-way delay added in each direction, in ms (a round trip gains twice this). @default 40 */
  readonly delayMs?: number;
}

export type LinkState = 'open' | 'partitioned';

/** What the proxy writes into its state file on start and on every change. */
export interface DelayProxyState {
  readonly state: LinkState;
  /** ISO-8601 instant of the last change. */
  readonly since: string;
  readonly pid: number;
  readonly delayMs: number;
  /** Connections being forwarded when the state was written. */
  readonly connections: number;
  /** Connections accepted since start. */
  readonly accepted: number;
}

export function delayProxyPath(): string {
  return templatePath('proxy', 'delay-proxy.mjs');
}

export function delayProxyStateFile(p: DelayProxyProps): string {
  return join(p.dir, 'state.json');
}

function label(p: DelayProxyProps): string {
  return `${p.id ?? 'proxy'} (delay proxy ${p.listenHost}:${p.listenPort} -> ${p.targetHost}:${p.targetPort})`;
}

const LOOPBACK_ADDRESS = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const validPort = (port: number) => Number.isInteger(port) && port > 0 && port < 65536;

/** Early, named checks: loopback addresses only, real ports, a sane delay. */
export function validateDelayProxy(p: DelayProxyProps): void {
  const where = label(p);
  for (const [name, host] of [
    ['listenHost', p.listenHost],
    ['targetHost', p.targetHost],
    ['sourceHost', p.sourceHost ?? p.listenHost],
  ] as const) {
    const m = LOOPBACK_ADDRESS.exec(host);
    if (!m || m.slice(1).some((o) => Number(o) > 255))
      throw new ValidationError(`${where}: ${name} must be a 127.x.y.z loopback address, got '${host}'`);
  }
  if (!validPort(p.listenPort)) throw new ValidationError(`${where}: listenPort must be 1-65535, got ${p.listenPort}`);
  if (!validPort(p.targetPort)) throw new ValidationError(`${where}: targetPort must be 1-65535, got ${p.targetPort}`);
  const delay = p.delayMs ?? 40;
  if (!Number.isFinite(delay) || delay < 0 || delay > 10_000) throw new ValidationError(`${where}: delayMs must be 0-10000, got ${delay}`);
}

/** A port that can be bound on `host` right now (ports.ts's pickFreePort covers 127.0.0.1 only). */
export async function pickFreePortOn(host: string, avoid: ReadonlySet<number> = new Set()): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.unref();
      server.once('error', reject);
      server.listen({ host, port: 0, exclusive: true }, () => {
        const address = server.address();
        const chosen = typeof address === 'object' && address ? address.port : 0;
        server.close(() => resolve(chosen));
      });
    });
    if (port > 0 && port < 55536 && !avoid.has(port)) return port;
  }
  throw new ExternalError(`no free port found on ${host}`);
}

/** Starts the proxy detached, as the run-as user, with its settings in its environment. */
export function startDelayProxy(p: DelayProxyProps, runAs: RunAs): ProcessRecord {
  validateDelayProxy(p);
  const script = delayProxyPath();
  if (!existsSync(script))
    throw new ExternalError(`the delay proxy is missing: ${script}`, 'reinstall labforge (the file ships in templates/proxy/)');
  makeOwnedDir(p.dir, runAs);
  return spawnService({
    command: process.execPath,
    args: [script],
    cwd: p.dir,
    logFile: p.logFile,
    env: serviceEnv(runAs, {
      LISTEN_HOST: p.listenHost,
      LISTEN_PORT: String(p.listenPort),
      TARGET_HOST: p.targetHost,
      TARGET_PORT: String(p.targetPort),
      SOURCE_HOST: p.sourceHost ?? p.listenHost,
      DELAY_MS: String(p.delayMs ?? 40),
      STATE_FILE: delayProxyStateFile(p),
    }),
    runAs,
  });
}

/** The state the proxy last wrote, or undefined before it first wrote one. */
export function readDelayProxyState(p: DelayProxyProps): DelayProxyState | undefined {
  try {
    return JSON.parse(readFileSync(delayProxyStateFile(p), 'utf8')) as DelayProxyState;
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitForState(
  p: DelayProxyProps,
  record: ProcessRecord,
  want: LinkState,
  what: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<DelayProxyState> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    throwIfAborted(signal);
    const st = readDelayProxyState(p);
    if (st && st.pid === record.pid && st.state === want) return st;
    if (!isAlive(record)) throw new ExternalError(`${label(p)} exited while ${what}: ${lastLines(p.logFile, 3)}`, `see ${p.logFile}`);
    if (Date.now() > deadline) throw new ExternalError(`${label(p)}: not ${want} ${timeoutMs} ms after ${what}`, `see ${p.logFile}`);
    await sleep(10);
  }
}

/** Polls until the proxy wrote its state and accepts connections, or fails with its log. */
export async function waitDelayProxyReady(
  p: DelayProxyProps,
  record: ProcessRecord,
  signal?: AbortSignal,
  timeoutMs = 5000,
): Promise<void> {
  const started = Date.now();
  await waitForState(p, record, 'open', 'starting', timeoutMs, signal);
  while (!(await isListening(p.listenPort, p.listenHost))) {
    if (Date.now() - started > timeoutMs)
      throw new ExternalError(`${label(p)}: wrote its state but does not accept connections`, `see ${p.logFile}`);
    await sleep(10);
  }
}

function signalRecorded(p: DelayProxyProps, record: ProcessRecord, sig: NodeJS.Signals): void {
  // Only the very process that was started (pid, start time and boot id all match).
  if (!isAlive(record)) throw new ExternalError(`${label(p)} is not running (pid ${record.pid} is gone or reused)`, `see ${p.logFile}`);
  process.kill(record.pid, sig);
}

/** Cuts the link: every connection is reset, new ones too, until `healDelayProxy`. */
export async function partitionDelayProxy(p: DelayProxyProps, record: ProcessRecord, timeoutMs = 2000): Promise<DelayProxyState> {
  signalRecorded(p, record, 'SIGUSR1');
  return waitForState(p, record, 'partitioned', 'SIGUSR1 (partition)', timeoutMs);
}

/** Restores the link after `partitionDelayProxy`. */
export async function healDelayProxy(p: DelayProxyProps, record: ProcessRecord, timeoutMs = 2000): Promise<DelayProxyState> {
  signalRecorded(p, record, 'SIGUSR2');
  return waitForState(p, record, 'open', 'SIGUSR2 (heal)', timeoutMs);
}

/** SIGTERM (it exits at once), SIGKILL after 1.5 s; returns pids still alive. */
export function stopDelayProxy(record: ProcessRecord): Promise<number[]> {
  return stopProcess(record, 'SIGTERM', 1500);
}
