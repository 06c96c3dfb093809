// A local HAProxy in front of the lab's API instances: round robin on 127.0.0.1, fast HTTP health
// checks, run in the foreground (so the pid is ours), config and logs inside the lab.
import { chownSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExternalError, ValidationError } from '../model/errors.js';
import { templatePath } from '../model/paths.js';
import { requireBinary } from './binaries.js';
import type { RunAs } from './home.js';
import { isListening } from './ports.js';
import { PortInUseError } from './ports.js';
import { isAlive, stopProcess, type ProcessRecord } from './proc.js';
import { lastLines, makeOwnedDir, serviceEnv, spawnService, throwIfAborted } from './spawn.js';

export interface HaproxyBackend {
  /** Server name in HAProxy's config and logs, e.g. `api-1` (letters, digits, `.`, `_`, `-`). */
  readonly name: string;
  readonly host: string;
  readonly port: number;
}

export interface HaproxyProps {
  /** Component id, used in messages. @default 'lb' */
  readonly id?: string;
  /** Its own directory inside the lab (created here, 0700): holds haproxy.cfg. */
  readonly dir: string;
  /** Where HAProxy's stdout (its access log) and stderr go. */
  readonly logFile: string;
  /** A loopback address: 127.0.0.1, or 127.0.(r+1).1 for region r. */
  readonly host: string;
  /** Listening port of the frontend, free, chosen by the caller. */
  readonly port: number;
  /** The API instances, at least one. */
  readonly backends: readonly HaproxyBackend[];
  /** Stats page on 127.0.0.1:<port>/. @default off */
  readonly statsPort?: number;
}

function label(p: HaproxyProps): string {
  return `${p.id ?? 'lb'} (haproxy)`;
}

const validPort = (port: number) => Number.isInteger(port) && port > 0 && port < 65536;

/** Early, named checks: a wrong prop fails before anything is written or started. */
export function validateHaproxy(p: HaproxyProps): void {
  const where = label(p);
  if (p.backends.length === 0) throw new ValidationError(`${where}: backends must not be empty`);
  if (!validPort(p.port)) throw new ValidationError(`${where}: port must be 1-65535, got ${p.port}`);
  if (!/^127\.\d+\.\d+\.\d+$/.test(p.host)) throw new ValidationError(`${where}: host must be a loopback address, got ${p.host}`);
  if (p.statsPort !== undefined && !validPort(p.statsPort))
    throw new ValidationError(`${where}: statsPort must be 1-65535, got ${p.statsPort}`);
  const seen = new Set<string>();
  for (const b of p.backends) {
    if (!/^[\w.-]{1,64}$/.test(b.name)) throw new ValidationError(`${where}: backend name '${b.name}' must match [A-Za-z0-9_.-]{1,64}`);
    if (seen.has(b.name)) throw new ValidationError(`${where}: backend name '${b.name}' is used twice`);
    seen.add(b.name);
    if (!validPort(b.port)) throw new ValidationError(`${where}: backend ${b.name} port must be 1-65535, got ${b.port}`);
    if (!/^127\.\d+\.\d+\.\d+$/.test(b.host)) throw new ValidationError(`${where}: backend ${b.name} must be on loopback, got ${b.host}`);
  }
}

/** haproxy.cfg from templates/haproxy/haproxy.cfg.tpl. */
export function renderHaproxyConfig(p: HaproxyProps): string {
  validateHaproxy(p);
  const servers = p.backends.map((b) => `    server ${b.name} ${b.host}:${b.port} check`).join('\n');
  const stats = p.statsPort
    ? ['listen stats', `    bind ${p.host}:${p.statsPort}`, '    stats enable', '    stats uri /', '    stats refresh 5s', ''].join('\n')
    : '# stats page: off (set statsPort to enable it on 127.0.0.1)\n';
  return readFileSync(templatePath('haproxy', 'haproxy.cfg.tpl'), 'utf8')
    .replaceAll('{{HOST}}', p.host)
    .replaceAll('{{PORT}}', String(p.port))
    .replace('{{SERVERS}}', servers)
    .replace('{{STATS}}', stats);
}

export function writeHaproxyConfig(p: HaproxyProps, runAs: RunAs): string {
  const config = renderHaproxyConfig(p);
  makeOwnedDir(p.dir, runAs);
  const file = join(p.dir, 'haproxy.cfg');
  writeFileSync(file, config, { mode: 0o600 });
  if (runAs.mode === 'service-user') chownSync(file, runAs.uid, runAs.gid);
  return file;
}

/** Writes the config and starts HAProxy in the foreground (`-db`: no daemon, whatever the config). */
export function startHaproxy(p: HaproxyProps, runAs: RunAs): ProcessRecord {
  const haproxy = requireBinary('haproxy');
  const config = writeHaproxyConfig(p, runAs);
  return spawnService({ command: haproxy, args: ['-db', '-f', config], cwd: p.dir, logFile: p.logFile, env: serviceEnv(runAs), runAs });
}

/** Polls until the frontend accepts connections, or fails with the log's last lines. */
export async function waitHaproxyReady(p: HaproxyProps, record: ProcessRecord, signal?: AbortSignal, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    throwIfAborted(signal);
    if (await isListening(p.port, p.host, 200)) return;
    if (!isAlive(record)) {
      const log = lastLines(p.logFile, 4);
      if (/cannot bind socket|Address already in use/i.test(log)) {
        throw new PortInUseError(`${label(p)}: port ${p.host}:${p.port} is already in use`, `see ${p.logFile}`);
      }
      throw new ExternalError(`${label(p)} exited while starting: ${log}`, `see ${p.logFile}`);
    }
    if (Date.now() > deadline)
      throw new ExternalError(`${label(p)} not listening on ${p.host}:${p.port} after ${timeoutMs} ms`, `see ${p.logFile}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** SIGTERM stops HAProxy at once (SIGUSR1 would drain); returns pids still alive. */
export function stopHaproxy(record: ProcessRecord): Promise<number[]> {
  return stopProcess(record, 'SIGTERM', 1000);
}
