// A local PostgreSQL server: initdb, configuration (loopback only, SCRAM over TCP, the socket in
// the lab's own directory), start without pg_ctl, readiness from postmaster.pid, seeding.
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExternalError } from '../model/errors.js';
import { PortInUseError } from './ports.js';
import { templatePath } from '../model/paths.js';
import { requireBinary } from './binaries.js';
import type { ComponentState, RunAs } from './home.js';
import { isAlive, procStat, recordProcess, stopProcess, type ProcessRecord } from './proc.js';
import { lastLines, makeOwnedDir, runTool, serviceEnv, spawnService, throwIfAborted } from './spawn.js';
import { awaitedLater, cleanupMayFail, reportedElsewhere } from '../model/quiet.js';

/** Where the server's socket lives: inside the lab, never /var/run/postgresql. */
export function socketDir(c: ComponentState): string {
  return join(c.dataDir, '..', 'run');
}

/**
 * A SCRAM-SHA-256 verifier for `password`, so CREATE ROLE never carries the password itself
 * (nothing readable lands in server logs or pg_stat_activity).
 */
export function scramVerifier(password: string, iterations = 4096): string {
  const salt = randomBytes(16);
  const salted = pbkdf2Sync(password.normalize('NFKC'), salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

function configure(c: ComponentState, runAs: RunAs): void {
  const conf = [
    '',
    '# labforge: loopback only, the socket in the lab directory, small footprint.',
    `listen_addresses = '${c.host}'`,
    `unix_socket_directories = '${socketDir(c)}'`,
    'unix_socket_permissions = 0700',
    "password_encryption = 'scram-sha-256'",
    'max_connections = 40',
    "shared_buffers = '32MB'",
    "dynamic_shared_memory_type = 'posix'",
    'logging_collector = off',
    "log_line_prefix = '%m [%p] %q%u@%d '",
    '',
  ].join('\n');
  writeFileSync(join(c.dataDir, 'postgresql.conf'), conf, { flag: 'a' });
  // TCP: password (SCRAM) only. The socket: only the server's owner (and root, mapped to it,
  // when labforge runs as root), by peer credentials. No trust anywhere.
  const hba = [
    '# labforge: written at `up`; TYPE DATABASE USER ADDRESS METHOD',
    `local   all   ${runAs.user}   peer map=owner`,
    'host    all   all   127.0.0.1/32   scram-sha-256',
    '',
  ].join('\n');
  writeFileSync(join(c.dataDir, 'pg_hba.conf'), hba);
  const ident = [`owner   ${runAs.user}   ${runAs.user}`, ...(runAs.mode === 'service-user' ? [`owner   root   ${runAs.user}`] : []), ''];
  writeFileSync(join(c.dataDir, 'pg_ident.conf'), ident.join('\n'));
}

/** initdb into an empty data directory (any half-made one from a crashed run is removed first). */
export async function initCluster(c: ComponentState, runAs: RunAs, signal?: AbortSignal): Promise<void> {
  // Load the client while initdb runs (it is needed right after, for seeding and the probe).
  void import('pg').catch(awaitedLater);
  rmSync(c.dataDir, { recursive: true, force: true });
  makeOwnedDir(c.dataDir, runAs);
  makeOwnedDir(socketDir(c), runAs);
  const initdb = requireBinary('initdb');
  await runTool(
    initdb,
    ['-N', '-D', c.dataDir, '-U', runAs.user, '-E', 'UTF8', '--no-locale', '--auth-local=peer', '--auth-host=scram-sha-256'],
    runAs,
    join(c.dataDir, '..'),
    signal,
  );
  throwIfAborted(signal);
  configure(c, runAs);
}

interface PostmasterPid {
  readonly pid: number;
  readonly status: string;
}

function readPostmasterPid(c: ComponentState): PostmasterPid | undefined {
  try {
    const lines = readFileSync(join(c.dataDir, 'postmaster.pid'), 'utf8').split('\n');
    return { pid: Number(lines[0]), status: (lines[7] ?? '').trim() };
  } catch {
    return undefined;
  }
}

/**
 * A postmaster of this data directory that runs although the state does not record it (the CLI
 * was killed between spawn and writing the state): adopt it instead of starting a second one.
 */
export function adoptRunning(c: ComponentState, runAs: RunAs): ProcessRecord | undefined {
  const pm = readPostmasterPid(c);
  if (!pm || !pm.pid) return undefined;
  const stat = procStat(pm.pid);
  if (!stat || stat.state === 'Z') return undefined;
  let cmdline: string[];
  try {
    cmdline = readFileSync(`/proc/${pm.pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return undefined;
  }
  if (!cmdline.includes(c.dataDir) || !/postgres$/.test(cmdline[0] ?? '')) return undefined;
  return recordProcess(
    pm.pid,
    cmdline.filter((a) => a.length > 0),
    runAs.uid,
    c.dataDir,
  );
}

/**
 * Clears what a killed server leaves: processes still running from it, postmaster.pid, and the
 * socket's lock file. PostgreSQL refuses to start while those name a pid that exists, and a
 * killed postmaster may stay a zombie (where nothing reaps orphans) or its pid may be reused.
 * Only called when the recorded postmaster is not running; both files live in the lab's own dirs.
 */
export async function clearStale(c: ComponentState): Promise<void> {
  if (c.process) await stopProcess(c.process, 'SIGQUIT', 1000);
  const stale = [join(c.dataDir, 'postmaster.pid')];
  try {
    for (const entry of readdirSync(socketDir(c))) if (entry.startsWith('.s.PGSQL.')) stale.push(join(socketDir(c), entry));
  } catch {
    /* no socket directory yet */
  }
  for (const file of stale) rmSync(file, { force: true });
}

/**
 * Starts the postmaster directly (pg_ctl adds a shell and a 100 ms poll). The port is given on
 * the command line so that a new lab can move to another port without rewriting its config.
 */
export function startServer(c: ComponentState, runAs: RunAs): ProcessRecord {
  const postgres = requireBinary('postgres');
  return spawnService({
    command: postgres,
    args: ['-D', c.dataDir, '-p', String(c.port)],
    cwd: c.dataDir,
    logFile: c.logFile,
    env: serviceEnv(runAs),
    runAs,
  });
}

/** Polls postmaster.pid every 10 ms until the server says `ready`, or fails with its log. */
export async function waitReady(c: ComponentState, record: ProcessRecord, signal?: AbortSignal, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    throwIfAborted(signal);
    const pm = readPostmasterPid(c);
    if (pm && pm.pid === record.pid && pm.status === 'ready') return;
    if (!isAlive(record)) {
      const log = lastLines(c.logFile, 4);
      if (/Address already in use|could not create any TCP\/IP sockets/.test(log)) {
        throw new PortInUseError(`${c.id} (postgres): port ${c.host}:${c.port} is already in use`, `see ${c.logFile}`);
      }
      throw new ExternalError(`${c.id} (postgres) exited while starting: ${log}`, `see ${c.logFile}`);
    }
    if (Date.now() > deadline) throw new ExternalError(`${c.id} (postgres) not ready after ${timeoutMs} ms`, `see ${c.logFile}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * Creates the learner role (SCRAM verifier, not superuser) and its database, then loads the seed
 * (if any) as the learner so the learner owns every seeded table. Runs as the server owner over
 * the lab's socket.
 */
export async function seed(c: ComponentState, runAs: RunAs, password: string, seedFile?: string): Promise<void> {
  const { default: pg } = await import('pg');
  const user = c.user ?? 'learner';
  const database = c.database ?? 'lab';
  const connect = async (db: string) => {
    const client = new pg.Client({ host: socketDir(c), port: c.port, user: runAs.user, database: db });
    client.on('error', reportedElsewhere);
    await client.connect();
    return client;
  };
  // Connected to template1, so that the `postgres` database can be renamed.
  const admin = await connect('template1');
  try {
    const verifier = scramVerifier(password);
    const exists = await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [user]);
    // Utility statements take no parameters; the verifier is base64 + '$:' only, safe to quote.
    await admin.query(
      `${exists.rowCount ? 'ALTER' : 'CREATE'} ROLE ${quoteIdent(user)} LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB PASSWORD '${verifier}'`,
    );
    const db = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!db.rowCount) {
      // initdb's `postgres` database is an empty copy of template1: renaming it to the lab's
      // database is a catalog update (< 1 ms), where CREATE DATABASE copies and fsyncs ~8 MB
      // (80-300 ms on a busy disk, a quarter of the whole `up`).
      const spare = await admin.query("SELECT 1 FROM pg_database WHERE datname = 'postgres'");
      if (spare.rowCount) await admin.query(`ALTER DATABASE postgres RENAME TO ${quoteIdent(database)}`);
      else await admin.query(`CREATE DATABASE ${quoteIdent(database)}`);
    }
    await admin.query(`ALTER DATABASE ${quoteIdent(database)} OWNER TO ${quoteIdent(user)}`);
  } finally {
    await admin.end().catch(cleanupMayFail);
  }
  if (!seedFile) return;
  const sql = readFileSync(templatePath('sql', seedFile), 'utf8');
  const client = await connect(database);
  try {
    // synchronous_commit stays on: `seeded` is recorded right after this returns, and a server
    // killed before the WAL flush (kill -9) would come back without the seed.
    await client.query(`SET ROLE ${quoteIdent(user)}`);
    await client.query(sql);
  } finally {
    await client.end().catch(cleanupMayFail);
  }
}

/** True when the data directory holds a finished initdb. */
export function hasCluster(c: ComponentState): boolean {
  return existsSync(join(c.dataDir, 'PG_VERSION')) && existsSync(join(c.dataDir, 'pg_hba.conf'));
}
