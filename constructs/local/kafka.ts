// A local Kafka cluster in KRaft combined mode, run from the jars fetch.sh cached: write each
// node's files, format storage with one cluster id, start the brokers as the run-as user, wait
// until every broker is registered, create topics and wait for full ISRs, stop.
import { spawn } from 'node:child_process';
import { chownSync, closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeKafka, assessPartitions, kafkaClient, KAFKA_HEALTH_TOPIC, type KafkaClusterView } from '../../health/kafka.js';
import { ExternalError } from '../model/errors.js';
import { requireBinary } from './binaries.js';
import type { RunAs } from './home.js';
import { assertReachable } from './identity.js';
import {
  minInsyncReplicas,
  newClusterId,
  nodesOf,
  renderLog4j2,
  renderServerProperties,
  replicationFactor,
  resolveProps,
  type KafkaClusterProps,
  type KafkaNode,
} from './kafka-config.js';
import { requireKafkaDist, type KafkaDist } from './kafka-dist.js';
import { isListening } from './ports.js';
import { isAlive, stopProcess, type ProcessRecord } from './proc.js';
import { InterruptedError, lastLines, makeOwnedDir, serviceEnv, spawnService, throwIfAborted } from './spawn.js';
import { awaitedLater, cleanupMayFail } from '../model/quiet.js';

export type { KafkaClusterProps, KafkaNode, KafkaNodePorts } from './kafka-config.js';

/** A prepared cluster: files written and storage formatted; `processes` filled by start. */
export interface KafkaCluster {
  readonly props: Required<KafkaClusterProps>;
  readonly clusterId: string;
  readonly nodes: readonly KafkaNode[];
  readonly dist: KafkaDist;
  /** `host:port` of every client listener. */
  readonly bootstrap: readonly string[];
  readonly log4jFile: string;
}

/**
 * JVM options that start a broker fast on 2 cores and keep it small. Measured on this machine
 * (3 brokers starting at once): C1 only (TieredStopAtLevel=1, one compiler thread) and SerialGC
 * halve the CPU of a start; -Xms32m lets the heap stay small; no hsperfdata file in /tmp.
 */
export function brokerJvmArgs(heapMb: number): string[] {
  return [
    '-Xms32m',
    `-Xmx${heapMb}m`,
    '-XX:+UseSerialGC',
    '-XX:TieredStopAtLevel=1',
    '-XX:CICompilerCount=1',
    '-XX:MaxMetaspaceSize=128m',
    '-XX:ReservedCodeCacheSize=32m',
    '-XX:-UsePerfData',
    '-XX:+ExitOnOutOfMemoryError',
    '-Djava.awt.headless=true',
    // IPv4 sockets: listeners on 127.0.0.1 show as such, not as ::ffff:127.0.0.1 in tcp6.
    '-Djava.net.preferIPv4Stack=true',
  ];
}

/** Short-lived tools (StorageTool): the same start-up flags, a smaller heap. */
const TOOL_JVM_ARGS = [
  '-Xms16m',
  '-Xmx128m',
  '-XX:+UseSerialGC',
  '-XX:TieredStopAtLevel=1',
  '-XX:CICompilerCount=1',
  '-XX:-UsePerfData',
  '-Djava.net.preferIPv4Stack=true',
];

function writeOwned(path: string, content: string, runAs: RunAs): void {
  writeFileSync(path, content, { mode: 0o640 });
  if (runAs.mode === 'service-user') chownSync(path, runAs.uid, runAs.gid);
}

function clusterIdOf(node: KafkaNode): string | undefined {
  try {
    return /^cluster\.id=(.+)$/m.exec(readFileSync(join(node.dataDir, 'meta.properties'), 'utf8'))?.[1]?.trim();
  } catch {
    return undefined;
  }
}

/**
 * Writes every node's server.properties and formats storage that is not formatted yet (all
 * nodes in parallel, one cluster id). A cluster formatted earlier keeps its id and its data.
 */
export async function prepareKafkaCluster(input: KafkaClusterProps, signal?: AbortSignal): Promise<KafkaCluster> {
  const props = resolveProps(input);
  const dist = requireKafkaDist(props.runAs);
  assertReachable(props.dir, props.runAs);
  const java = requireBinary('java');
  const nodes = nodesOf(props);
  const existing = nodes.map(clusterIdOf).filter((id): id is string => id !== undefined);
  if (new Set(existing).size > 1) {
    throw new ExternalError(
      `${props.path}: nodes in ${props.dir} were formatted for different clusters (${[...new Set(existing)].join(', ')})`,
      `remove ${props.dir} and start again`,
    );
  }
  const clusterId = existing[0] ?? newClusterId();
  makeOwnedDir(props.dir, props.runAs, 0o750);
  const log4jFile = join(props.dir, 'log4j2.properties');
  writeOwned(log4jFile, renderLog4j2(), props.runAs);
  for (const node of nodes) {
    makeOwnedDir(node.dir, props.runAs, 0o750);
    makeOwnedDir(node.dataDir, props.runAs);
    writeOwned(node.configFile, renderServerProperties(props, node, nodes), props.runAs);
  }
  await Promise.all(
    nodes
      .filter((node) => !existsSync(join(node.dataDir, 'meta.properties')))
      .map(async (node) => {
        const args = [
          ...TOOL_JVM_ARGS,
          `-Dlog4j2.configurationFile=${log4jFile}`,
          '-cp',
          dist.classpath,
          'kafka.tools.StorageTool',
          'format',
          '-t',
          clusterId,
          '-c',
          node.configFile,
        ];
        const formatLog = join(node.dir, 'format.log');
        const code = await runLogged(java, args, props.runAs, node.dir, formatLog, signal);
        if (code !== 0) {
          const cause = /^\S*(Exception|Error)\b.*$/m.exec(readFileSync(formatLog, 'utf8'))?.[0] ?? lastLines(formatLog, 2);
          throw new ExternalError(
            `${props.path}: formatting storage of node ${node.id} in ${node.dataDir} failed (${code}): ${cause}`,
            `see ${formatLog}`,
          );
        }
      }),
  );
  throwIfAborted(signal);
  return { props, clusterId, nodes, dist, bootstrap: nodes.map((n) => `${props.host}:${n.client}`), log4jFile };
}

/** Starts one node's broker, detached, logging to its kafka.log. */
export function startKafkaNode(cluster: KafkaCluster, node: KafkaNode): ProcessRecord {
  const { props } = cluster;
  return spawnService({
    command: requireBinary('java'),
    args: [
      ...brokerJvmArgs(props.heapMb),
      `-Dlog4j2.configurationFile=${cluster.log4jFile}`,
      '-cp',
      cluster.dist.classpath,
      'kafka.Kafka',
      node.configFile,
    ],
    cwd: node.dir,
    logFile: node.logFile,
    env: serviceEnv(props.runAs),
    runAs: props.runAs,
  });
}

/** Starts every node at once (the quorum needs a majority before any broker can register). */
export function startKafkaCluster(cluster: KafkaCluster): ProcessRecord[] {
  return cluster.nodes.map((node) => startKafkaNode(cluster, node));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs a tool as the run-as user with its output in `logFile`; resolves with its exit code or signal. */
function runLogged(
  command: string,
  args: readonly string[],
  runAs: RunAs,
  cwd: string,
  logFile: string,
  signal?: AbortSignal,
): Promise<number | string> {
  const log = openSync(logFile, 'w', 0o640);
  return new Promise<number | string>((resolve, reject) => {
    const child = spawn(command, [...args], {
      cwd,
      env: serviceEnv(runAs),
      stdio: ['ignore', log, log],
      ...(runAs.mode === 'service-user' ? { uid: runAs.uid, gid: runAs.gid } : {}),
    });
    const onAbort = () => child.kill('SIGTERM');
    signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (error) => reject(new ExternalError(`could not run ${command}: ${error.message}`, `see ${logFile}`)));
    child.on('close', (code, sig) => {
      signal?.removeEventListener('abort', onAbort);
      if (signal?.aborted) reject(new InterruptedError());
      else resolve(code ?? sig ?? 'unknown');
    });
  }).finally(() => closeSync(log));
}

function assertRunning(cluster: KafkaCluster, processes: readonly ProcessRecord[], during: string): void {
  cluster.nodes.forEach((node, i) => {
    const record = processes[i];
    if (record && !isAlive(record)) {
      throw new ExternalError(
        `${cluster.props.path}: Kafka node ${node.id} (pid ${record.pid}) exited ${during}: ${lastLines(node.logFile, 3)}`,
        `see ${node.logFile}`,
      );
    }
  });
}

/**
 * Polls until every node's broker is registered and unfenced (it appears in the metadata a
 * broker returns), failing fast with the log of a node that exited.
 */
export async function waitKafkaReady(
  cluster: KafkaCluster,
  processes: readonly ProcessRecord[],
  timeoutMs = 60_000,
  signal?: AbortSignal,
): Promise<KafkaClusterView> {
  const deadline = Date.now() + timeoutMs;
  const ids = cluster.nodes.map((n) => n.id);
  let last = 'no client port listening yet';
  kafkaClient().catch(awaitedLater); // load the client while the JVMs start; a failure shows below
  for (;;) {
    throwIfAborted(signal);
    assertRunning(cluster, processes, 'during start-up');
    const listening = await Promise.all(cluster.nodes.map((n) => isListening(n.client, cluster.props.host, 200)));
    if (listening.some(Boolean)) {
      try {
        const view = await describeKafka(
          cluster.bootstrap.filter((_, i) => listening[i]),
          [],
          1000,
        );
        const missing = ids.filter((id) => !view.brokers.includes(id));
        if (missing.length === 0) return view;
        last = `brokers ${missing.join(', ')} not registered yet`;
      } catch (error) {
        last = (error as Error).message;
      }
    }
    if (Date.now() > deadline) {
      throw new ExternalError(
        `${cluster.props.path}: Kafka cluster not ready after ${timeoutMs} ms (${last})`,
        `see ${cluster.nodes.map((n) => n.logFile).join(', ')}`,
      );
    }
    await sleep(100);
  }
}

export interface KafkaTopicOptions {
  /** @default the cluster's partitions prop */
  readonly partitions?: number;
  /** Wait this long for every partition to have a leader and a full ISR. @default 30000 */
  readonly timeoutMs?: number;
}

/**
 * Creates the topics that do not exist yet, plus the health probe's topic, with replication
 * factor min(3, brokers) and min.insync.replicas min(2, RF); waits for leaders and full ISRs.
 */
export async function createKafkaTopics(
  cluster: KafkaCluster,
  topics: readonly string[],
  options: KafkaTopicOptions = {},
): Promise<KafkaClusterView> {
  const { Admin } = await kafkaClient();
  const rf = replicationFactor(cluster.nodes.length);
  const minIsr = String(minInsyncReplicas(cluster.nodes.length));
  const all = [...new Set([...topics, KAFKA_HEALTH_TOPIC])];
  const admin = new Admin({ clientId: 'labforge', bootstrapBrokers: [...cluster.bootstrap], timeout: 10_000, retries: 3, retryDelay: 200 });
  try {
    const existing = new Set(await admin.listTopics());
    const create = async (names: string[], configs: Array<{ name: string; value: string }>) => {
      if (names.length > 0)
        await admin.createTopics({ topics: names, partitions: options.partitions ?? cluster.props.partitions, replicas: rf, configs });
    };
    await create(
      topics.filter((t) => !existing.has(t) && t !== KAFKA_HEALTH_TOPIC),
      [{ name: 'min.insync.replicas', value: minIsr }],
    );
    // Probe messages are only read back at once: keep them an hour.
    await create(existing.has(KAFKA_HEALTH_TOPIC) ? [] : [KAFKA_HEALTH_TOPIC], [
      { name: 'min.insync.replicas', value: minIsr },
      { name: 'retention.ms', value: String(3_600_000) },
    ]);
  } catch (error) {
    throw new ExternalError(
      `${cluster.props.path}: creating topics ${all.join(', ')} failed: ${(error as Error).message}`,
      `see ${cluster.nodes.map((n) => n.logFile).join(', ')}`,
      { cause: error },
    );
  } finally {
    await admin.close().catch(cleanupMayFail);
  }
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let last: string;
  for (;;) {
    try {
      const view = await describeKafka(cluster.bootstrap, all, 2000);
      const { leaderless, underReplicated } = assessPartitions(view, rf);
      if (leaderless.length === 0 && underReplicated.length === 0) return view;
      last = `${leaderless.length} partitions without leader, ${underReplicated.length} with a short ISR`;
    } catch (error) {
      last = (error as Error).message;
    }
    if (Date.now() > deadline) {
      throw new ExternalError(
        `${cluster.props.path}: topics ${all.join(', ')} not fully replicated in time (${last})`,
        `see ${cluster.nodes.map((n) => n.logFile).join(', ')}`,
      );
    }
    await sleep(100);
  }
}

/**
 * Stops the brokers: SIGTERM to all at once, so every broker's controlled shutdown reaches the
 * controllers while they still have a quorum; SIGKILL after `graceMs`; waits until every
 * recorded process is gone. Measured ≈ 5.5 s: the last Raft leader waits up to 5 s (fixed in
 * Kafka) for voters that already left. Rarely a node whose controlled shutdown starts after the
 * quorum is gone would wait for minutes: the SIGKILL ends it (its logs are recovered at start).
 */
export async function stopKafkaCluster(cluster: KafkaCluster, processes: readonly ProcessRecord[], graceMs = 10_000): Promise<void> {
  const left = await Promise.all(processes.map((record) => stopProcess(record, 'SIGTERM', graceMs)));
  const alive = cluster.nodes.filter((_, i) => (left[i] ?? []).length > 0);
  if (alive.length > 0) {
    throw new ExternalError(
      `${cluster.props.path}: Kafka nodes ${alive.map((n) => n.id).join(', ')} still run after SIGKILL (pids ${left.flat().join(', ')})`,
      `see ${alive.map((n) => n.logFile).join(', ')}`,
    );
  }
}
