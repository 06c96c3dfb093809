// Streaming replication between local PostgreSQL servers: a primary made replication-ready, a
// physical slot per replica, a replica made by pg_basebackup through the link (delay proxy)
// between regions, and promotion. Works on the ComponentState of postgres.ts; the password of
// the `replicator` role reaches pg_basebackup and the walreceiver only through a 0600 passfile.
import { spawn } from 'node:child_process';
import { appendFileSync, chownSync, closeSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ExternalError, ValidationError } from '../model/errors.js';
import { requireBinary } from './binaries.js';
import type { ComponentState, RunAs } from './home.js';
import { scramVerifier, socketDir, startServer, waitReady } from './postgres.js';
import type { ProcessRecord } from './proc.js';
import { InterruptedError, makeOwnedDir, serviceEnv, throwIfAborted } from './spawn.js';
import { cleanupMayFail, reportedElsewhere } from '../model/quiet.js';

/** The role replicas log in as (REPLICATION LOGIN, nothing else). */
export const REPLICATOR = 'replicator';
const MARK = '# labforge: replication';

/** Where a replica connects to reach its primary: the delay proxy in the replica's region. */
export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

export interface ReplicaProps {
  /** The replica to create: host (its region's address), port, dataDir (absent or empty), logFile. */
  readonly replica: ComponentState;
  /** The running, replication-ready primary (reached over its socket for admin queries). */
  readonly primary: ComponentState;
  /** The link to the primary: the delay proxy listening in the replica's region. */
  readonly via: Endpoint;
  /** Physical replication slot on the primary, made with `createSlot`. */
  readonly slot: string;
  /** The `replicator` role's password (see `ensureReplicator`). */
  readonly password: string;
  /** Waiting for streaming: most ms. @default 30000 */
  readonly timeoutMs?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Makes a primary replication-ready: appends WAL and sender settings to postgresql.conf and one
 * `host replication replicator <range> scram-sha-256` line per replica region to pg_hba.conf.
 * Call after `initCluster` and before the first start (wal_level needs a restart). Idempotent.
 */
export function configureReplicationPrimary(primary: ComponentState, replicaRanges: readonly string[]): void {
  for (const range of replicaRanges) {
    if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}\/(8|16|24|32)$/.test(range)) {
      throw new ValidationError(`${primary.id} (postgres): replica range must be a loopback CIDR like 127.0.2.0/24, got '${range}'`);
    }
  }
  const confFile = join(primary.dataDir, 'postgresql.conf');
  if (!readFileSync(confFile, 'utf8').includes(MARK)) {
    const conf = [
      '',
      `${MARK} (primary). Slots keep WAL for a replica that is away, up to max_slot_wal_keep_size.`,
      'wal_level = replica',
      'max_wal_senders = 10',
      'max_replication_slots = 10',
      "max_slot_wal_keep_size = '1GB'",
      'hot_standby = on',
      "wal_sender_timeout = '10s'",
      '',
    ].join('\n');
    appendFileSync(confFile, conf);
  }
  const hbaFile = join(primary.dataDir, 'pg_hba.conf');
  const hba = readFileSync(hbaFile, 'utf8');
  const lines = replicaRanges
    .map((range) => `host    replication   ${REPLICATOR}   ${range}   scram-sha-256`)
    .filter((line) => !hba.includes(line));
  if (lines.length > 0)
    appendFileSync(
      hbaFile,
      `${hba.includes(MARK) ? '' : `${MARK}: replicas connect from the proxy of their region\n`}${lines.join('\n')}\n`,
    );
}

/** Runs SQL as the server's owner over its socket (peer authentication; root is mapped). */
export async function adminQuery<T = Record<string, unknown>>(
  c: ComponentState,
  runAs: RunAs,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({
    host: socketDir(c),
    port: c.port,
    user: runAs.user,
    database: 'template1',
    connectionTimeoutMillis: 5000,
  });
  client.on('error', reportedElsewhere);
  try {
    await client.connect();
    return (await client.query(sql, params)).rows as T[];
  } catch (error) {
    throw new ExternalError(`${c.id} (postgres on ${c.host}:${c.port}): ${(error as Error).message}`, `see ${c.logFile}`, { cause: error });
  } finally {
    await client.end().catch(cleanupMayFail);
  }
}

/**
 * Creates (or re-keys) the `replicator` role: REPLICATION LOGIN with a SCRAM verifier, so the
 * password itself never reaches the server, its logs or pg_stat_activity.
 */
export async function ensureReplicator(primary: ComponentState, runAs: RunAs, password: string): Promise<void> {
  const exists = await adminQuery(primary, runAs, 'SELECT 1 FROM pg_roles WHERE rolname = $1', [REPLICATOR]);
  // The verifier is base64 and `$:` only: safe inside quotes (utility statements take no parameters).
  await adminQuery(
    primary,
    runAs,
    `${exists.length ? 'ALTER' : 'CREATE'} ROLE ${REPLICATOR} WITH REPLICATION LOGIN NOSUPERUSER PASSWORD '${scramVerifier(password)}'`,
  );
}

/** Creates the physical replication slot `slot` on the primary unless it exists. */
export async function createSlot(primary: ComponentState, runAs: RunAs, slot: string): Promise<void> {
  if (!/^[a-z0-9_]{1,63}$/.test(slot))
    throw new ValidationError(`${primary.id} (postgres): slot name must match [a-z0-9_]{1,63}, got '${slot}'`);
  const found = await adminQuery(primary, runAs, 'SELECT 1 FROM pg_replication_slots WHERE slot_name = $1', [slot]);
  if (found.length === 0) await adminQuery(primary, runAs, 'SELECT pg_create_physical_replication_slot($1)', [slot]);
}

/** The passfile the replica uses (in its component directory, outside the data directory). */
export function replicaPassfile(replica: ComponentState): string {
  return join(dirname(replica.dataDir), 'replication.pgpass');
}

function writePassfile(p: ReplicaProps, runAs: RunAs): string {
  const file = replicaPassfile(p.replica);
  const esc = (s: string) => s.replace(/[\\:]/g, (ch) => `\\${ch}`);
  rmSync(file, { force: true });
  writeFileSync(file, `${p.via.host}:${p.via.port}:*:${REPLICATOR}:${esc(p.password)}\n`, { mode: 0o600 });
  if (runAs.mode === 'service-user') chownSync(file, runAs.uid, runAs.gid);
  return file;
}

/** pg_basebackup as the run-as user; its output goes to the replica's log file. */
function baseBackup(p: ReplicaProps, runAs: RunAs, passfile: string, signal?: AbortSignal): Promise<void> {
  const command = requireBinary('pg_basebackup');
  const args = [
    '-h',
    p.via.host,
    '-p',
    String(p.via.port),
    '-U',
    REPLICATOR,
    '-w',
    '-D',
    p.replica.dataDir,
    '-R',
    '-S',
    p.slot,
    '-X',
    'stream',
    '-c',
    'fast',
  ];
  const log = openSync(p.replica.logFile, 'a', 0o640);
  return new Promise<void>((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: dirname(p.replica.dataDir),
      env: serviceEnv(runAs, { PGPASSFILE: passfile, PGCONNECT_TIMEOUT: '10' }),
      stdio: ['ignore', log, log],
      ...(runAs.mode === 'service-user' ? { uid: runAs.uid, gid: runAs.gid } : {}),
    });
    const onAbort = () => child.kill('SIGTERM');
    signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (error) => reject(new ExternalError(`could not run ${command}: ${error.message}`)));
    child.on('close', (code, sig) => {
      signal?.removeEventListener('abort', onAbort);
      if (signal?.aborted) return reject(new InterruptedError());
      if (code === 0) return resolve();
      const tail = readFileSync(p.replica.logFile, 'utf8').trim().split('\n').slice(-3).join(' | ');
      reject(
        new ExternalError(
          `${p.replica.id}: pg_basebackup from ${p.primary.id} via ${p.via.host}:${p.via.port} failed (${sig ?? `exit ${code}`}): ${tail}`,
          `see ${p.replica.logFile} and ${p.primary.logFile}`,
        ),
      );
    });
  }).finally(() => closeSync(log));
}

/** The replica's own settings, after the primary's copied ones (later lines win). */
function configureReplica(c: ComponentState): void {
  const conf = [
    '',
    `${MARK} (replica): its own address and socket, and quick reconnects after a broken link.`,
    `listen_addresses = '${c.host}'`,
    `unix_socket_directories = '${socketDir(c)}'`,
    `cluster_name = '${c.id.replace(/[^\w.-]/g, '_')}'`,
    'hot_standby = on',
    'hot_standby_feedback = on',
    "wal_retrieve_retry_interval = '200ms'",
    "wal_receiver_timeout = '10s'",
    "wal_receiver_status_interval = '1s'",
    '',
  ].join('\n');
  appendFileSync(join(c.dataDir, 'postgresql.conf'), conf);
}

/** Polls until the primary shows the walsender of `slot` as `streaming`. */
export async function waitStreaming(
  primary: ComponentState,
  runAs: RunAs,
  slot: string,
  timeoutMs = 30_000,
  signal?: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: string;
  for (;;) {
    throwIfAborted(signal);
    const rows = await adminQuery<{ state: string | null }>(
      primary,
      runAs,
      'SELECT r.state FROM pg_replication_slots s LEFT JOIN pg_stat_replication r ON r.pid = s.active_pid WHERE s.slot_name = $1',
      [slot],
    );
    if (rows[0]?.state === 'streaming') return;
    last = rows.length === 0 ? `slot ${slot} does not exist` : `walsender ${rows[0]?.state ?? 'not connected'}`;
    if (Date.now() > deadline)
      throw new ExternalError(
        `${primary.id}: replica on slot ${slot} not streaming after ${timeoutMs} ms (${last})`,
        `see ${primary.logFile}`,
      );
    await sleep(20);
  }
}

/**
 * Creates and starts a streaming replica: passfile, pg_basebackup through `via` with the slot
 * and `-R` (standby.signal and primary_conninfo), the replica's own address and socket, start,
 * then waits until it is in recovery and the primary shows it streaming. Returns its process.
 */
export async function createReplica(p: ReplicaProps, runAs: RunAs, signal?: AbortSignal): Promise<ProcessRecord> {
  const c = p.replica;
  const timeoutMs = p.timeoutMs ?? 30_000;
  rmSync(c.dataDir, { recursive: true, force: true });
  makeOwnedDir(dirname(c.dataDir), runAs);
  makeOwnedDir(c.dataDir, runAs);
  makeOwnedDir(socketDir(c), runAs);
  const passfile = writePassfile(p, runAs);
  await baseBackup(p, runAs, passfile, signal);
  throwIfAborted(signal);
  configureReplica(c);
  c.initialized = true;
  const record = startServer(c, runAs);
  c.process = record;
  await waitReady(c, record, signal, timeoutMs);
  const [row] = await adminQuery<{ r: boolean }>(c, runAs, 'SELECT pg_is_in_recovery() AS r');
  if (!row?.r) throw new ExternalError(`${c.id}: started but is not in recovery (no standby.signal?)`, `see ${c.logFile}`);
  await waitStreaming(p.primary, runAs, p.slot, timeoutMs, signal);
  return record;
}

/**
 * Promotes a replica to a primary (`pg_promote`, waiting for the end of recovery), then polls
 * until it accepts a write (an xid is assigned). Returns the ms it took.
 */
export async function promoteReplica(replica: ComponentState, runAs: RunAs, timeoutMs = 30_000): Promise<number> {
  const started = performance.now();
  const waitSeconds = Math.max(1, Math.ceil(timeoutMs / 1000));
  const [row] = await adminQuery<{ promoted: boolean }>(replica, runAs, 'SELECT pg_promote(true, $1) AS promoted', [waitSeconds]);
  if (!row?.promoted) throw new ExternalError(`${replica.id}: not promoted within ${waitSeconds} s`, `see ${replica.logFile}`);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const [w] = await adminQuery<{ r: boolean; xid: string }>(
        replica,
        runAs,
        'SELECT pg_is_in_recovery() AS r, txid_current()::text AS xid',
      );
      if (w && !w.r) return Math.round(performance.now() - started);
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    if (Date.now() > deadline)
      throw new ExternalError(`${replica.id}: promoted but still refuses writes after ${timeoutMs} ms`, `see ${replica.logFile}`);
    await sleep(10);
  }
}
