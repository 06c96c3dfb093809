// End-to-end helpers: run the BUILT CLI as a child process (as users run it), in a throwaway
// LABFORGE_HOME, against real servers; independent checks that a lab left nothing behind.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { reportedElsewhere } from '../../constructs/model/quiet.js';

export const ROOT = join(import.meta.dirname, '../..');
export const BIN = join(ROOT, 'bin/labforge.js');
export const IS_ROOT = process.getuid?.() === 0;
/** Unprivileged user the normal-user path runs as (created when missing, root only). */
export const TEST_USER = 'lftest';

export const INSTALL_HINT = 'install with: apt-get install -y postgresql redis-server';

/** Fails (never skips) when the servers or the build are missing, saying what to do. */
export function assertPrerequisites(needRedis: boolean): void {
  if (!existsSync(join(ROOT, 'dist/labforge.mjs'))) throw new Error('dist/ is missing: run `npm run build` (npm test does it)');
  const pgRoot = '/usr/lib/postgresql';
  const majors = existsSync(pgRoot) ? readdirSync(pgRoot) : [];
  const havePg = majors.some((m) => existsSync(join(pgRoot, m, 'bin/initdb')) && existsSync(join(pgRoot, m, 'bin/postgres')));
  if (!havePg) throw new Error(`PostgreSQL server binaries (initdb, postgres) not found under ${pgRoot}; ${INSTALL_HINT}`);
  if (needRedis) {
    try {
      execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    } catch {
      throw new Error(`redis-server not found on PATH; ${INSTALL_HINT}`);
    }
  }
}

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  readonly home: string;
  /** Run as this unprivileged user through runuser (the normal-user path). */
  readonly user?: string;
  readonly timeoutMs?: number;
  /** Working directory. @default the directory that holds `home` */
  readonly cwd?: string;
  /** Extra environment variables. */
  readonly env?: Readonly<Record<string, string>>;
}

/** Starts the built CLI; returns the child so a test can signal it. */
export function startCli(args: readonly string[], options: RunOptions): { child: ChildProcess; done: Promise<CliResult> } {
  const base = [BIN, ...args];
  const [command, argv] = options.user
    ? ['runuser', ['-u', options.user, '--', 'env', `LABFORGE_HOME=${options.home}`, process.execPath, ...base]]
    : [process.execPath, base];
  const child = spawn(command, argv, {
    cwd: options.cwd ?? dirname(options.home),
    env: { ...process.env, ...options.env, LABFORGE_HOME: options.home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
  const done = new Promise<CliResult>((resolve) =>
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr });
    }),
  );
  return { child, done };
}

export function cli(args: readonly string[], options: RunOptions): Promise<CliResult> {
  return startCli(args, options).done;
}

/** Parses `--json` output, with the CLI's output in the error when it is not JSON. */
export function json<T = any>(result: CliResult): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`expected JSON (exit ${result.code}); stdout: ${result.stdout.slice(0, 500)} stderr: ${result.stderr.slice(0, 500)}`);
  }
}

/**
 * A throwaway parent directory with LABFORGE_HOME inside it. The parent is 0755 (mkdtemp makes
 * 0700), because as root the servers run as the `labforge` user, which must be able to enter it;
 * for the normal-user path the parent is given to that user.
 */
export function makeHome(label: string, owner?: { uid: number; gid: number }): { parent: string; home: string } {
  const parent = mkdtempSync(join(tmpdir(), `lf-e2e-${label}-`));
  chmodSync(parent, 0o755);
  if (owner) chownSync(parent, owner.uid, owner.gid);
  return { parent, home: join(parent, 'home') };
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(3).toString('hex')}`;
}

/** Tears down every lab of a home (whatever state a failed test left), then the directory. */
export async function cleanup(parent: string, home: string, user?: string): Promise<void> {
  if (existsSync(home)) await cli(['down', '--all'], { home, user });
  rmSync(parent, { recursive: true, force: true });
}

/** True while the process exists and is not a zombie. */
export function pidAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** True when a TCP connection to host:port is accepted. */
export function portAccepts(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    socket.setTimeout(1000, () => (socket.destroy(), resolve(true)));
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => (socket.destroy(), resolve(false)));
  });
}

/** True when host:port can be bound now. */
export function portBindable(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** Every IPv4 `host:port` in LISTEN state now (/proc/net/tcp), whoever owns it. */
export function listeningAddresses(): string[] {
  return readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .slice(1)
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f[3] === '0A')
    .map((f) => {
      const [addr, port] = f[1]!.split(':');
      const host = addr!
        .match(/../g)!
        .reverse()
        .map((b) => parseInt(b, 16))
        .join('.');
      return `${host}:${parseInt(port!, 16)}`;
    });
}

/** Processes whose working directory or command line is inside `dir`: independent of any state file. */
export function processesInside(dir: string): string[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .flatMap((pid) => {
      try {
        const inside = readlinkSync(`/proc/${pid}/cwd`).startsWith(dir) || readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir);
        return inside && pidAlive(Number(pid)) ? [`${pid} ${readFileSync(`/proc/${pid}/comm`, 'utf8').trim()}`] : [];
      } catch {
        return [];
      }
    });
}

/** Pids of any process whose command line mentions `dir` (a cluster's files, alive or zombie). */
export function processesUsing(dir: string): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir);
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Occupies 127.0.0.1:port with a listener that is not labforge's. */
export function occupy(port: number): Promise<{ close: () => Promise<void> }> {
  return new Promise((resolve, reject) => {
    // close() waits for every connection to end: a peer that keeps its half open (a load
    // balancer's health check) would hold it, so the sockets are destroyed on close.
    const sockets = new Set<import('node:net').Socket>();
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', reportedElsewhere);
      socket.end('not a database\n');
    });
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () =>
      resolve({
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            for (const socket of sockets) socket.destroy();
          }),
      }),
    );
  });
}

export interface StatusComponent {
  id: string;
  kind: string;
  host: string;
  port: number;
  pid?: number;
  state: string;
}

/** Independent proof that a lab is gone: no pid alive, no port accepting or held, no directory. */
export async function assertNothingLeft(
  expect: (v: unknown) => any,
  components: readonly StatusComponent[],
  labDir: string,
): Promise<void> {
  for (const c of components) {
    if (c.pid) expect({ component: c.id, pid: c.pid, alive: pidAlive(c.pid) }).toEqual({ component: c.id, pid: c.pid, alive: false });
    expect({ component: c.id, port: c.port, accepts: await portAccepts(c.port) }).toEqual({
      component: c.id,
      port: c.port,
      accepts: false,
    });
    expect({ component: c.id, port: c.port, bindable: await portBindable(c.port) }).toEqual({
      component: c.id,
      port: c.port,
      bindable: true,
    });
  }
  expect({ dir: labDir, exists: existsSync(labDir) }).toEqual({ dir: labDir, exists: false });
}

/** Uid and gid of a user, creating it (no home, no shell) when missing. Root only. */
export function ensureUser(name: string): { uid: number; gid: number } {
  const lookup = () => {
    try {
      return execFileSync('getent', ['passwd', name], { encoding: 'utf8' }).trim();
    } catch {
      return '';
    }
  };
  if (!lookup()) {
    try {
      execFileSync('useradd', ['--no-create-home', '--shell', '/usr/sbin/nologin', name], { stdio: 'pipe' });
    } catch {
      /* created meanwhile by a parallel test file */
    }
  }
  const [, , uid, gid] = lookup().split(':');
  if (!uid) throw new Error(`could not create test user ${name}`);
  return { uid: Number(uid), gid: Number(gid) };
}

/** Polls `check` until it returns a value (errors count as "not yet"); fails after `timeoutMs`. */
export async function until<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not reached in ${timeoutMs} ms${last ? ` (${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** A loopback port free right now (for a learner app a test starts). */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** One line of `labforge check --json`'s `checks`. */
export interface CheckRun {
  exercise: string;
  check: string;
  title: string;
  ok: boolean;
  detail: string;
  hint?: string;
  ms: number;
}
