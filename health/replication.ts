// Replication health: a primary that answers SQL and is not in recovery; a replica that is in
// recovery, attached to its primary (its slot active) and not too far behind, in bytes of WAL
// and, while there is traffic, in seconds. Each probe is a real round trip over TCP.
import type { PostgresEndpoint } from './postgres.js';
import { withRetry, type ProbeResult, type RetryPolicy } from './probe.js';
import { cleanupMayFail, reportedElsewhere } from '../constructs/model/quiet.js';

export interface ReplicaEndpoints {
  readonly primary: PostgresEndpoint;
  readonly replica: PostgresEndpoint;
  /** The replica's physical slot on the primary; when given, an inactive slot fails the probe. */
  readonly slot?: string;
  /** Most WAL bytes the replica may have left to replay. @default 16 MiB */
  readonly maxLagBytes?: number;
  /** Most seconds behind (only measured while WAL is left to replay). @default 5 */
  readonly maxLagSeconds?: number;
}

/** One lag measurement. */
export interface ReplicationLag {
  /** WAL written on the primary and not yet replayed on the replica (>= 0). */
  readonly bytes: number;
  /** now() - pg_last_xact_replay_timestamp() on the replica while bytes > 0, else 0. */
  readonly seconds: number;
  readonly inRecovery: boolean;
  /** The slot's walsender is connected (undefined when no slot was given). */
  readonly attached?: boolean;
  readonly primaryLsn: string;
  readonly replayLsn: string | null;
}

type Client = InstanceType<(typeof import('pg'))['default']['Client']>;

async function open(endpoint: PostgresEndpoint, timeoutMs: number, abandon: AbortSignal): Promise<Client> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({
    ...endpoint,
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
    application_name: 'labforge-health',
  });
  client.on('error', reportedElsewhere);
  abandon.addEventListener('abort', () => void client.end().catch(cleanupMayFail), { once: true });
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(cleanupMayFail);
    throw new Error(`${endpoint.host}:${endpoint.port}: ${(error as Error).message}`, { cause: error });
  }
  return client;
}

const where = (e: PostgresEndpoint) => `${e.host}:${e.port}/${e.database}`;

/**
 * Measures lag: the primary's current LSN first, then the replica's replay LSN, so the figure
 * never understates (a negative difference, the replica already past it, counts as 0).
 */
export async function measureLag(
  e: ReplicaEndpoints,
  timeoutMs = 2000,
  abandon: AbortSignal = new AbortController().signal,
): Promise<ReplicationLag> {
  const primary = await open(e.primary, timeoutMs, abandon);
  let primaryLsn: string;
  let attached: boolean | undefined;
  try {
    const p = await primary.query<{ lsn: string; recovery: boolean }>(
      'SELECT pg_current_wal_lsn()::text AS lsn, pg_is_in_recovery() AS recovery',
    );
    if (p.rows[0]?.recovery) throw new Error(`primary ${where(e.primary)} is in recovery (a replica, not a primary)`);
    primaryLsn = p.rows[0]!.lsn;
    if (e.slot) {
      const s = await primary.query<{ active: boolean }>('SELECT active FROM pg_replication_slots WHERE slot_name = $1', [e.slot]);
      if (s.rows.length === 0) throw new Error(`slot ${e.slot} does not exist on ${where(e.primary)}`);
      attached = s.rows[0]!.active;
    }
  } finally {
    await primary.end().catch(cleanupMayFail);
  }
  const replica = await open(e.replica, timeoutMs, abandon);
  try {
    const r = await replica.query<{ recovery: boolean; replay: string | null; bytes: string | null; seconds: number | null }>(
      `SELECT pg_is_in_recovery() AS recovery, pg_last_wal_replay_lsn()::text AS replay,
              pg_wal_lsn_diff($1::pg_lsn, pg_last_wal_replay_lsn())::text AS bytes,
              EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8 AS seconds`,
      [primaryLsn],
    );
    const row = r.rows[0]!;
    const bytes = row.bytes === null ? Number.POSITIVE_INFINITY : Math.max(0, Number(row.bytes));
    const seconds = bytes > 0 ? Math.max(0, row.seconds ?? Number.POSITIVE_INFINITY) : 0;
    return { bytes, seconds, inRecovery: row.recovery, attached, primaryLsn, replayLsn: row.replay };
  } finally {
    await replica.end().catch(cleanupMayFail);
  }
}

/** The primary answers SQL over TCP and is not in recovery; the detail carries its WAL position. */
export function probePrimary(name: string, endpoint: PostgresEndpoint, policy: RetryPolicy = {}): Promise<ProbeResult> {
  return withRetry(name, policy, async (timeoutMs, abandon) => {
    const client = await open(endpoint, timeoutMs, abandon);
    try {
      const recovery = await client.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r');
      if (recovery.rows[0]?.r !== false) throw new Error(`${where(endpoint)} is in recovery: a replica, not a primary`);
      const { rows } = await client.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn');
      return `primary on ${where(endpoint)} answers as ${endpoint.user}, WAL at ${rows[0]?.lsn}`;
    } finally {
      await client.end().catch(cleanupMayFail);
    }
  });
}

function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return 'unknown';
  return bytes < 1024 ? `${bytes} B` : bytes < 1048576 ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / 1048576).toFixed(1)} MiB`;
}

/**
 * The replica is in recovery, attached to its slot (when given), and its replay lag is below
 * both thresholds. The detail always carries the figures, on failure too.
 */
export function probeReplica(name: string, e: ReplicaEndpoints, policy: RetryPolicy = {}): Promise<ProbeResult> {
  const maxBytes = e.maxLagBytes ?? 16 * 1024 * 1024;
  const maxSeconds = e.maxLagSeconds ?? 5;
  return withRetry(name, policy, async (timeoutMs, abandon) => {
    const lag = await measureLag(e, timeoutMs, abandon);
    const figures = `lag ${formatBytes(lag.bytes)} / ${lag.seconds.toFixed(2)} s (replayed to ${lag.replayLsn ?? 'nothing'}, primary at ${lag.primaryLsn})`;
    if (!lag.inRecovery) throw new Error(`${where(e.replica)} is not in recovery (promoted?); ${figures}`);
    if (lag.attached === false)
      throw new Error(`replica ${where(e.replica)} is disconnected: slot ${e.slot} inactive on ${where(e.primary)}; ${figures}`);
    if (lag.bytes > maxBytes) throw new Error(`replica ${where(e.replica)} too far behind: ${figures} > ${formatBytes(maxBytes)}`);
    if (lag.seconds > maxSeconds) throw new Error(`replica ${where(e.replica)} too far behind: ${figures} > ${maxSeconds} s`);
    return `replica on ${where(e.replica)} streaming${e.slot ? ` (slot ${e.slot} active)` : ''}, ${figures}`;
  });
}
