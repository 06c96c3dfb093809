// Where local labs live: `.labforge/` in the current directory, or LABFORGE_HOME. One directory
// per lab holds its state file (written atomically), data directories, logs and secrets (0600).
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ExternalError, UsageError } from '../model/errors.js';
import { writeFileAtomic } from '../model/home.js';
import type { Level } from '../model/types.js';
import type { ProcessRecord } from './proc.js';

export const STATE_VERSION = 1;
// Shared with the other runtimes (the k8s target keeps its labs in the same home).
export { generatePassword, labforgeHome, writeFileAtomic } from '../model/home.js';

/** Paths inside one lab's directory, in one place. */
export interface LabLayout {
  readonly home: string;
  readonly dir: string;
  readonly stateFile: string;
  readonly secretsFile: string;
  readonly lockFile: string;
  readonly logs: string;
}

export function labLayout(home: string, name: string): LabLayout {
  const dir = join(home, name);
  return {
    home,
    dir,
    stateFile: join(dir, 'state.json'),
    secretsFile: join(dir, 'secrets.json'),
    // Next to the lab directory, not inside it, so `down` can remove the directory while locked.
    lockFile: join(home, `${name}.lock`),
    logs: join(dir, 'logs'),
  };
}

/** Kinds the local runtime runs, one driver each (constructs/local/drivers/). */
export const LOCAL_KINDS = ['postgres', 'shard', 'kafka', 'proxy', 'redis', 'rabbitmq', 'api', 'worker', 'consumer', 'haproxy'] as const;
export type ComponentKindLocal = (typeof LOCAL_KINDS)[number];

/** One running piece of a lab, as recorded in its state file. */
export interface ComponentState {
  /** Unique in the lab: the LabSpec id (`db`, `mq`), or `<id>-<n>` for one of several instances (`api-2`). */
  readonly id: string;
  readonly kind: ComponentKindLocal;
  /** The LabSpec component this is an instance of (`api` for api-1..api-3). @default id */
  readonly group?: string;
  /** Instance number within the group, from 1; the API sends `<group>-<instance>` as X-Instance. @default 1 */
  readonly instance?: number;
  /**
   * LabSpec ids (or component ids) this one needs running first (`db`, `mq`): start, health and
   * stop order. Changes only on a failover (`labforge chaos kill-primary`). @default none
   */
  uses?: readonly string[];
  /** Expert: the region it lives in (its host is 127.0.(region+1).1). @default none: 127.0.0.1 */
  readonly region?: number;
  /** Shard servers: which shard, its role now (a failover swaps them), and for a replica its primary and slot. */
  readonly shard?: number;
  role?: 'primary' | 'replica';
  replicaOf?: string;
  slot?: string;
  /** A shard server whose data must be made again from its primary (the old primary after a failover). */
  rebuild?: boolean;
  /** Delay proxies: the component id they forward to (its host and port are read at each start), the delay and node. */
  readonly target?: string;
  /** Kafka links: which broker (1..n) of the target they forward to. */
  readonly targetNode?: number;
  readonly delayMs?: number;
  /** Kafka: topics it creates; consumer: topics it consumes. */
  readonly topics?: readonly string[];
  /** Loopback address it listens on: 127.0.0.1, or 127.0.(r+1).1 for region r. */
  readonly host: string;
  /** Chosen free at the first `up`; a new lab moves to another port if it loses a race for it. 0: listens nowhere (worker). */
  port: number;
  /** Further ports it listens on, by name (RabbitMQ: `dist`, `epmd`); same rules as `port`. */
  extraPorts?: Record<string, number>;
  /** The server process; absent before the first start or after a stop. */
  process?: ProcessRecord;
  /** Processes started with it, by name (RabbitMQ: its own `epmd`). */
  helpers?: Record<string, ProcessRecord>;
  /** Data directory (postgres), working directory (the others). */
  readonly dataDir: string;
  readonly logFile: string;
  /** Postgres: the database and role the learner uses; RabbitMQ: the learner's user. */
  readonly database?: string;
  readonly user?: string;
  /** RabbitMQ: the learner's vhost. */
  readonly vhost?: string;
  /** Postgres: initdb finished; seeded: role, database and seed schema are in place. */
  initialized?: boolean;
  seeded?: boolean;
}

export interface RunAs {
  readonly user: string;
  readonly uid: number;
  readonly gid: number;
  /** `service-user` when labforge runs as root and starts servers as the unprivileged user. */
  readonly mode: 'service-user' | 'current-user';
}

export interface LabState {
  readonly version: number;
  readonly name: string;
  readonly level: Level;
  readonly target: 'local';
  readonly createdAt: string;
  updatedAt: string;
  /** When `reap` may remove the lab (ISO-8601 UTC); states written before expiry existed have none. */
  expiresAt?: string;
  readonly runAs: RunAs;
  /** Expert: how many loopback regions, and the one-way delay of every link between them. */
  readonly regions?: number;
  readonly latencyMs?: number;
  components: ComponentState[];
}

/** Generated credentials of one lab; the file is mode 0600 and printed only by `secrets`. */
export interface LabSecrets {
  readonly postgres: { readonly user: string; readonly password: string };
  readonly redis?: { readonly password: string };
  readonly api?: { readonly jwtSecret: string; readonly probeEmail: string; readonly probePassword: string };
  readonly rabbitmq?: { readonly user: string; readonly password: string; readonly vhost: string };
  /** The `replicator` role of sharded PostgreSQL (streaming replicas log in with it). */
  readonly replication?: { readonly password: string };
}

export function writeState(layout: LabLayout, state: LabState): void {
  state.updatedAt = new Date().toISOString();
  writeFileAtomic(layout.stateFile, `${JSON.stringify(state, null, 2)}\n`);
}

export function readState(layout: LabLayout): LabState | undefined {
  let text: string;
  try {
    text = readFileSync(layout.stateFile, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const state = JSON.parse(text) as LabState;
  if (state.version !== STATE_VERSION) {
    throw new ExternalError(
      `lab '${state.name}' was created by another labforge version (state version ${state.version})`,
      `remove it with the labforge version that created it, or delete ${layout.dir}`,
    );
  }
  return state;
}

export function writeSecrets(layout: LabLayout, secrets: LabSecrets): void {
  writeFileAtomic(layout.secretsFile, `${JSON.stringify(secrets, null, 2)}\n`, 0o600);
}

export function readSecrets(layout: LabLayout): LabSecrets {
  return JSON.parse(readFileSync(layout.secretsFile, 'utf8')) as LabSecrets;
}

/** Names of the labs under `home` (directories holding a state file). */
export function listLabNames(home: string): string[] {
  if (!existsSync(home)) return [];
  return readdirSync(home, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(home, e.name, 'state.json')))
    .map((e) => e.name)
    .sort();
}

/** The layout of an existing lab, or a usage error naming the lab and the labs that exist. */
export function existingLab(home: string, name: string): LabLayout {
  const layout = labLayout(home, name);
  if (existsSync(layout.stateFile)) return layout;
  const known = listLabNames(home);
  throw new UsageError(`unknown lab '${name}' in ${home} (${known.length > 0 ? `known labs: ${known.join(', ')}` : 'no labs there yet'})`);
}

/**
 * Fails (creating nothing) when the home cannot be a directory: its nearest existing ancestor is
 * a file, e.g. LABFORGE_HOME=/etc/passwd/labs.
 */
export function assertHomeUsable(home: string): void {
  let path = home;
  for (;;) {
    let isDir: boolean | undefined;
    try {
      isDir = statSync(path).isDirectory();
    } catch {
      isDir = undefined;
    }
    if (isDir === true) return;
    if (isDir === false) {
      throw new ExternalError(
        `cannot use ${home} as the labforge home: ${path} is a file, not a directory`,
        'set LABFORGE_HOME to a writable directory, or run labforge from a directory where .labforge/ can be created',
      );
    }
    const parent = dirname(path);
    if (parent === path) return;
    path = parent;
  }
}

/**
 * Creates the labforge home if needed. Errors become one line: a path under a file, a read-only
 * file system or a permission problem all say which path and what to do.
 */
export function ensureHome(home: string): void {
  try {
    mkdirSync(home, { recursive: true, mode: 0o755 });
    if (!statSync(home).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    const why =
      code === 'ENOTDIR' || code === 'EEXIST'
        ? 'a part of the path is a file, not a directory'
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied'
          : code === 'EROFS'
            ? 'read-only file system'
            : code;
    throw new ExternalError(
      `cannot use ${home} as the labforge home: ${why}`,
      'set LABFORGE_HOME to a writable directory, or run labforge from a directory where .labforge/ can be created',
      { cause: error },
    );
  }
}
