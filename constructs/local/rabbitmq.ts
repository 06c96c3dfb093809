// A local RabbitMQ node for one lab: its own epmd (loopback, own port, started and stopped by
// labforge), the node run directly from /usr/lib/rabbitmq/bin/rabbitmq-server with every path
// inside the lab, the learner user and vhost from a definitions file loaded at boot (no guest,
// no `/` vhost), readiness proven by an AMQP login, not by a node ping.
import { createHash, randomBytes } from 'node:crypto';
import { chownSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { probeRabbitManagement } from '../../health/index.js';
import { ExternalError } from '../model/errors.js';
import { findBinary, installCommand, requireBinary } from './binaries.js';
import type { RunAs } from './home.js';
import { isListening } from './ports.js';
import { PortInUseError } from './ports.js';
import { isAlive, stopProcess, type ProcessRecord } from './proc.js';
import { lastLines, makeOwnedDir, serviceEnv, spawnService, throwIfAborted } from './spawn.js';
import { amqpUrl, httpUrl } from '../model/urls.js';
import { cleanupMayFail, reportedElsewhere } from '../model/quiet.js';

export interface RabbitMqProps {
  /** Component id, used in messages. @default 'mq' */
  readonly id?: string;
  /** Lab name; the node is `lf-<lab>@localhost` (unique within its lab's own epmd). */
  readonly lab: string;
  /** The node's own directory inside the lab (created here, 0700, owned by the run-as user). */
  readonly dir: string;
  /** Where the node's console output goes. */
  readonly logFile: string;
  /** A loopback address (127.0.0.1, or 127.0.(r+1).1 for region r): the node and its epmd listen only there. */
  readonly host: string;
  /** AMQP port, free, chosen by the caller. */
  readonly port: number;
  /** Erlang distribution port (rabbitmqctl talks to the node there), free. */
  readonly distPort: number;
  /** This lab's own epmd port, free; no other node registers with it. */
  readonly epmdPort: number;
  /** The learner's AMQP user. @default 'learner' */
  readonly user?: string;
  readonly password: string;
  /** The only vhost; the learner has full permissions on it. @default 'lab' */
  readonly vhost?: string;
  /**
   * Management UI/API (the rabbitmq_management plugin) on `host`:<port>, and the learner gets the
   * `management` tag. Off when absent: one more listener the learner did not ask for (measured on
   * 2 cores: ≈ 8 MiB more RSS; the boot to the first AMQP login within its own ±0.5 s noise). @default off
   */
  readonly managementPort?: number;
}

/** The processes of one running node: epmd first, then the node (a shell wrapping beam.smp). */
export interface RabbitMqProcesses {
  readonly epmd: ProcessRecord;
  readonly node: ProcessRecord;
}

const RABBITMQ_SERVER = 'rabbitmq-server';

/** The node's name, unique within its lab's own epmd (the management API reports it). */
export function nodeName(lab: string): string {
  return `lf-${lab.replace(/[^A-Za-z0-9_-]/g, '-')}@localhost`;
}

function vhostOf(p: RabbitMqProps): string {
  return p.vhost ?? 'lab';
}

function label(p: RabbitMqProps): string {
  return `${p.id ?? 'mq'} (rabbitmq)`;
}

/**
 * RabbitMQ's own password hash (rabbit_password_hashing_sha256: base64 of a 4-byte salt and
 * SHA-256(salt + password)), so the definitions file never holds the password itself.
 */
export function rabbitPasswordHash(password: string): string {
  const salt = randomBytes(4);
  const digest = createHash('sha256')
    .update(Buffer.concat([salt, Buffer.from(password, 'utf8')]))
    .digest();
  return Buffer.concat([salt, digest]).toString('base64');
}

function writeOwned(path: string, content: string, runAs: RunAs, mode: number): void {
  writeFileSync(path, content, { mode });
  if (runAs.mode === 'service-user') chownSync(path, runAs.uid, runAs.gid);
}

/**
 * Erlang VM flags: one scheduler (a lab needs no more; boots faster on 2 cores), small process,
 * atom and port tables (less memory), and the distribution listener on loopback only.
 */
function erlArgs(host: string): string {
  return [
    '+S 1:1',
    '+A 4',
    '+P 65536',
    '+t 1000000',
    '+stbt u',
    '+sbwt none +sbwtdcpu none +sbwtdio none',
    '+zdbbl 32000',
    `-kernel inet_dist_use_interface {${host.split('.').join(',')}}`,
  ].join(' ');
}

/** Writes config, definitions, plugin list, an empty env file and the Erlang cookie (0400). */
export function writeRabbitMqFiles(p: RabbitMqProps, runAs: RunAs): void {
  makeOwnedDir(p.dir, runAs);
  for (const sub of ['mnesia', 'log', 'epmd']) makeOwnedDir(join(p.dir, sub), runAs);
  const user = p.user ?? 'learner';
  const vhost = vhostOf(p);
  const definitions = {
    users: [
      {
        name: user,
        password_hash: rabbitPasswordHash(p.password),
        hashing_algorithm: 'rabbit_password_hashing_sha256',
        tags: p.managementPort ? ['management'] : [],
      },
    ],
    vhosts: [{ name: vhost }],
    permissions: [{ user, vhost, configure: '.*', write: '.*', read: '.*' }],
  };
  writeOwned(join(p.dir, 'definitions.json'), `${JSON.stringify(definitions, null, 2)}\n`, runAs, 0o600);
  const conf = [
    '# labforge: written at `up`. Listener address and port come from the environment.',
    // Definitions at boot: the default guest user and `/` vhost are never created.
    `load_definitions = ${join(p.dir, 'definitions.json')}`,
    'log.console = true',
    'log.console.level = info',
    'log.console.use_colors = off',
    'log.file = false',
    'disk_free_limit.absolute = 50MB',
    'vm_memory_high_watermark.absolute = 512MB',
    ...(p.managementPort ? [`management.tcp.ip = ${p.host}`, `management.tcp.port = ${p.managementPort}`] : []),
    '',
  ].join('\n');
  writeOwned(join(p.dir, 'rabbitmq.conf'), conf, runAs, 0o600);
  writeOwned(join(p.dir, 'enabled_plugins'), p.managementPort ? '[rabbitmq_management].\n' : '[].\n', runAs, 0o600);
  // Keeps /etc/rabbitmq/rabbitmq-env.conf out of the lab.
  writeOwned(join(p.dir, 'rabbitmq-env.conf'), '', runAs, 0o600);
  writeOwned(join(p.dir, '.erlang.cookie'), randomBytes(20).toString('hex').toUpperCase(), runAs, 0o400);
}

/** The node's environment: every path inside the lab, loopback only, this lab's epmd. */
export function rabbitMqEnv(p: RabbitMqProps, runAs: RunAs): Record<string, string> {
  return serviceEnv(runAs, {
    HOME: p.dir,
    RABBITMQ_NODENAME: nodeName(p.lab),
    RABBITMQ_NODE_IP_ADDRESS: p.host,
    RABBITMQ_NODE_PORT: String(p.port),
    RABBITMQ_DIST_PORT: String(p.distPort),
    RABBITMQ_MNESIA_BASE: join(p.dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(p.dir, 'log'),
    RABBITMQ_CONFIG_FILE: join(p.dir, 'rabbitmq.conf'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(p.dir, 'enabled_plugins'),
    RABBITMQ_CONF_ENV_FILE: join(p.dir, 'rabbitmq-env.conf'),
    RABBITMQ_SERVER_ERL_ARGS: erlArgs(p.host),
    ERL_MAX_PORTS: '8192',
    ERL_EPMD_PORT: String(p.epmdPort),
    ERL_EPMD_ADDRESS: p.host,
  });
}

async function waitFor(
  what: () => Promise<boolean>,
  alive: () => boolean,
  fail: (why: 'exited' | 'timeout') => Error,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    throwIfAborted(signal);
    if (await what()) return;
    if (!alive()) throw fail('exited');
    if (Date.now() > deadline) throw fail('timeout');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * Starts this lab's epmd in the foreground (so its pid is ours and nothing else registers with
 * it), waits until it listens, then starts the node. Call waitRabbitMqReady next.
 */
export async function startRabbitMq(p: RabbitMqProps, runAs: RunAs, signal?: AbortSignal): Promise<RabbitMqProcesses> {
  const server = requireBinary(RABBITMQ_SERVER);
  const epmdBin = findBinary('epmd');
  if (!epmdBin)
    throw new ExternalError('epmd (Erlang) is not installed (RabbitMQ needs it)', `install with: ${installCommand([RABBITMQ_SERVER])}`);
  writeRabbitMqFiles(p, runAs);
  const env = rabbitMqEnv(p, runAs);
  const epmd = spawnService({
    command: epmdBin,
    args: ['-port', String(p.epmdPort), '-address', p.host],
    cwd: join(p.dir, 'epmd'),
    logFile: p.logFile,
    env,
    runAs,
  });
  try {
    await waitFor(
      () => isListening(p.epmdPort, p.host, 200),
      () => isAlive(epmd),
      (why) =>
        why === 'exited' && /address already in use|eaddrinuse/i.test(lastLines(p.logFile, 3))
          ? new PortInUseError(`${label(p)}: epmd port ${p.host}:${p.epmdPort} is already in use`, `see ${p.logFile}`)
          : new ExternalError(
              `${label(p)}: epmd ${why === 'exited' ? `exited: ${lastLines(p.logFile, 3)}` : 'not listening after 5 s'}`,
              `see ${p.logFile}`,
            ),
      5000,
      signal,
    );
  } catch (error) {
    await stopProcess(epmd, 'SIGTERM', 500);
    throw error;
  }
  const node = spawnService({ command: server, args: [], cwd: p.dir, logFile: p.logFile, env, runAs });
  return { epmd, node };
}

/** One AMQP login as the learner on the lab's vhost; true when it succeeds. */
async function amqpLogin(p: RabbitMqProps, timeoutMs: number): Promise<boolean> {
  const amqp = await import('amqplib');
  try {
    const conn = await amqp.connect(amqpUrlOf(p), { timeout: timeoutMs });
    conn.on('error', reportedElsewhere);
    await conn.close().catch(cleanupMayFail);
    return true;
  } catch {
    return false;
  }
}

/** amqp://user:password@host:port/vhost, the URL the API and worker use. */
export function amqpUrlOf(p: Pick<RabbitMqProps, 'user' | 'password' | 'host' | 'port' | 'vhost'>): string {
  return amqpUrl({ ...p, user: p.user ?? 'learner', vhost: p.vhost ?? 'lab' });
}

/** Polls an AMQP login until the node accepts the learner, or fails with the log's last lines. */
export async function waitRabbitMqReady(
  p: RabbitMqProps,
  procs: RabbitMqProcesses,
  signal?: AbortSignal,
  timeoutMs = 30_000,
): Promise<void> {
  await waitFor(
    async () => (await isListening(p.port, p.host, 200)) && (await amqpLogin(p, 1000)),
    () => isAlive(procs.node) && isAlive(procs.epmd),
    (why) => {
      const log = lastLines(p.logFile, 6);
      if (why === 'exited' && /eaddrinuse|failed_to_start_tcp_listener|Address already in use/i.test(log)) {
        return new PortInUseError(
          `${label(p)}: port ${p.host}:${p.port}, ${p.distPort}${p.managementPort ? ` or ${p.managementPort}` : ''} is already in use`,
          `see ${p.logFile}`,
        );
      }
      return why === 'exited'
        ? new ExternalError(`${label(p)} exited while starting: ${log}`, `see ${p.logFile}`)
        : new ExternalError(`${label(p)}: no AMQP login on ${p.host}:${p.port} after ${timeoutMs} ms`, `see ${p.logFile}`);
    },
    timeoutMs,
    signal,
  );
}

/** http://host:port of the management API (no credentials in it). */
export function managementUrl(host: string, port: number): string {
  return httpUrl({ host, port });
}

/**
 * With the management plugin: polls GET /api/overview as the learner until it answers 200 with
 * this node's name (the plugin's listener may come up after the AMQP one).
 */
export async function waitManagementReady(
  p: RabbitMqProps,
  procs: RabbitMqProcesses,
  signal?: AbortSignal,
  timeoutMs = 30_000,
): Promise<void> {
  if (!p.managementPort) return;
  const endpoint = {
    baseUrl: managementUrl(p.host, p.managementPort),
    user: p.user ?? 'learner',
    password: p.password,
    vhost: vhostOf(p),
    node: nodeName(p.lab),
  };
  let last = '';
  await waitFor(
    async () => {
      const r = await probeRabbitManagement(label(p), endpoint, { attempts: 1, timeoutMs: 1000 });
      last = r.detail;
      return r.ok;
    },
    () => isAlive(procs.node) && isAlive(procs.epmd),
    (why) =>
      why === 'exited'
        ? new ExternalError(`${label(p)} exited while starting its management plugin: ${lastLines(p.logFile, 6)}`, `see ${p.logFile}`)
        : new ExternalError(
            `${label(p)}: management API on ${endpoint.baseUrl} not ready after ${timeoutMs} ms (${last})`,
            `see ${p.logFile}`,
          ),
    timeoutMs,
    signal,
  );
}

/**
 * Stops the node (SIGTERM: the wrapper shell asks the VM to shut down cleanly, ≈ 1 s), then this
 * lab's epmd, which would otherwise outlive it. Returns the pids still alive (empty: all gone).
 */
export async function stopRabbitMq(procs: Partial<RabbitMqProcesses>, graceMs = 5000): Promise<number[]> {
  const left: number[] = [];
  if (procs.node) left.push(...(await stopProcess(procs.node, 'SIGTERM', graceMs)));
  if (procs.epmd) left.push(...(await stopProcess(procs.epmd, 'SIGTERM', 1000)));
  return left;
}
