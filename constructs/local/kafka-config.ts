// A local Kafka cluster's files: one server.properties per node for KRaft combined mode (every
// node is broker and controller, static voters), the log4j2 configuration, and the layout.
import { randomBytes } from 'node:crypto';
import { isAbsolute, join } from 'node:path';
import { ValidationError } from '../model/errors.js';
import type { RunAs } from './home.js';

/** Ports of one node; both on the cluster's loopback host. */
export interface KafkaNodePorts {
  /** Client (PLAINTEXT) listener, the bootstrap port. */
  readonly client: number;
  /** KRaft controller listener. */
  readonly controller: number;
}

/**
 * A listener for the clients of another region: each node binds `bind` on the cluster's host and
 * advertises the link (delay proxy) in the clients' region that forwards to it. Clients that
 * bootstrap through these links get these addresses in metadata, so all their traffic crosses the link.
 */
export interface KafkaRegionListener {
  /** Listener name, e.g. `REGION1` (upper case, digits, underscore). */
  readonly name: string;
  /** One per node, in node order. */
  readonly nodes: readonly { readonly bind: number; readonly advertisedHost: string; readonly advertisedPort: number }[];
}

export interface KafkaClusterProps {
  /** Absolute directory of this cluster: one `node-<id>/` per node (config, data, log). */
  readonly dir: string;
  /** Who the brokers run as. */
  readonly runAs: RunAs;
  /** Ports per node, chosen by the caller; node ids are 1..n in this order. Three nodes give RF 3. */
  readonly nodes: readonly KafkaNodePorts[];
  /** Loopback address every listener binds to. @default '127.0.0.1' */
  readonly host?: string;
  /** Maximum heap per broker in MiB. @default 256 */
  readonly heapMb?: number;
  /** Partitions of each topic created without an explicit count. @default 3 */
  readonly partitions?: number;
  /** Path used in error messages, e.g. `Lab/expert/events`. @default 'kafka' */
  readonly path?: string;
  /** Listeners for clients in other regions (through links). @default none */
  readonly regionListeners?: readonly KafkaRegionListener[];
}

/** One node as rendered: id, ports and its files. */
export interface KafkaNode extends KafkaNodePorts {
  readonly id: number;
  readonly dir: string;
  readonly configFile: string;
  readonly dataDir: string;
  readonly logFile: string;
}

export const DEFAULT_HEAP_MB = 256;

/** Validates props early, naming the cluster, and fills defaults. */
export function resolveProps(props: KafkaClusterProps): Required<KafkaClusterProps> {
  const path = props.path ?? 'kafka';
  const host = props.host ?? '127.0.0.1';
  const heapMb = props.heapMb ?? DEFAULT_HEAP_MB;
  const partitions = props.partitions ?? 3;
  const fail = (what: string) => new ValidationError(`${path}: ${what}`);
  if (!isAbsolute(props.dir)) throw fail(`dir must be an absolute path, got '${props.dir}'`);
  if (!/^127\.\d+\.\d+\.\d+$/.test(host)) throw fail(`host must be a loopback address (127.x.x.x), got '${host}'`);
  if (props.nodes.length < 1) throw fail('nodes must hold at least one node, got 0');
  if (!Number.isInteger(heapMb) || heapMb < 96) throw fail(`heapMb must be an integer >= 96, got ${heapMb}`);
  if (!Number.isInteger(partitions) || partitions < 1) throw fail(`partitions must be an integer >= 1, got ${partitions}`);
  const regionListeners = props.regionListeners ?? [];
  for (const l of regionListeners) {
    if (!/^[A-Z][A-Z0-9_]*$/.test(l.name) || ['PLAINTEXT', 'CONTROLLER'].includes(l.name))
      throw fail(`region listener name must be upper case and not PLAINTEXT/CONTROLLER, got '${l.name}'`);
    if (l.nodes.length !== props.nodes.length)
      throw fail(`region listener ${l.name} needs one entry per node (${props.nodes.length}), got ${l.nodes.length}`);
  }
  const ports = [...props.nodes.flatMap((n) => [n.client, n.controller]), ...regionListeners.flatMap((l) => l.nodes.map((n) => n.bind))];
  for (const port of ports) {
    if (!Number.isInteger(port) || port < 1024 || port > 65535) throw fail(`ports must be integers in 1024..65535, got ${port}`);
  }
  const dup = ports.find((p, i) => ports.indexOf(p) !== i);
  if (dup !== undefined) throw fail(`port ${dup} is given twice`);
  return { ...props, host, heapMb, partitions, path, regionListeners };
}

export function nodesOf(props: Required<KafkaClusterProps>): KafkaNode[] {
  return props.nodes.map((ports, i) => {
    const id = i + 1;
    const dir = join(props.dir, `node-${id}`);
    return { ...ports, id, dir, configFile: join(dir, 'server.properties'), dataDir: join(dir, 'data'), logFile: join(dir, 'kafka.log') };
  });
}

/** Replication factor of lab topics and internal topics: 3, or fewer when there are fewer brokers. */
export function replicationFactor(brokers: number): number {
  return Math.min(3, brokers);
}

/** min.insync.replicas: 2 when there are replicas to spare, so one broker may fail without losing acks=all writes. */
export function minInsyncReplicas(brokers: number): number {
  return Math.min(2, replicationFactor(brokers));
}

/**
 * A Kafka cluster id: 16 random bytes in URL-safe base64 without padding, as `kafka-storage
 * random-uuid` prints (Kafka also avoids ids starting with '-', which read as an option).
 */
export function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

export function renderServerProperties(props: Required<KafkaClusterProps>, node: KafkaNode, all: readonly KafkaNode[]): string {
  const rf = replicationFactor(all.length);
  const minIsr = minInsyncReplicas(all.length);
  const h = props.host;
  // Node ids are 1..n in the order of props.nodes.
  const regional = props.regionListeners.map((l) => ({ name: l.name, ...l.nodes[node.id - 1]! }));
  const lines: Array<[string, string | number]> = [
    // KRaft combined mode: every node is a broker and a voter of the metadata quorum. Static
    // voters keep formatting simple (no --standalone / --initial-controllers dance).
    ['process.roles', 'broker,controller'],
    ['node.id', node.id],
    ['controller.quorum.voters', all.map((n) => `${n.id}@${h}:${n.controller}`).join(',')],
    [
      'listeners',
      [
        `PLAINTEXT://${h}:${node.client}`,
        `CONTROLLER://${h}:${node.controller}`,
        ...regional.map((r) => `${r.name}://${h}:${r.bind}`),
      ].join(','),
    ],
    [
      'advertised.listeners',
      [`PLAINTEXT://${h}:${node.client}`, ...regional.map((r) => `${r.name}://${r.advertisedHost}:${r.advertisedPort}`)].join(','),
    ],
    [
      'listener.security.protocol.map',
      ['PLAINTEXT:PLAINTEXT', 'CONTROLLER:PLAINTEXT', ...regional.map((r) => `${r.name}:PLAINTEXT`)].join(','),
    ],
    ['controller.listener.names', 'CONTROLLER'],
    ['inter.broker.listener.name', 'PLAINTEXT'],
    ['log.dirs', node.dataDir],
    // Durability as in production: RF 3, two in-sync replicas needed for acks=all.
    ['num.partitions', props.partitions],
    ['default.replication.factor', rf],
    ['min.insync.replicas', minIsr],
    ['offsets.topic.replication.factor', rf],
    ['offsets.topic.num.partitions', 6],
    ['transaction.state.log.replication.factor', rf],
    ['transaction.state.log.min.isr', minIsr],
    ['transaction.state.log.num.partitions', 6],
    ['share.coordinator.state.topic.replication.factor', rf],
    ['share.coordinator.state.topic.min.isr', minIsr],
    ['auto.create.topics.enable', 'false'],
    // Fast for a lab: no rebalance delay, quick elections and failure detection (a killed
    // broker is fenced, and leaves every ISR, after 3 s instead of 9 s).
    ['group.initial.rebalance.delay.ms', 0],
    ['controller.quorum.election.timeout.ms', 300],
    ['controller.quorum.fetch.timeout.ms', 1500],
    ['broker.heartbeat.interval.ms', 500],
    ['broker.session.timeout.ms', 3000],
    ['replica.lag.time.max.ms', 10000],
    // Small: 16 MiB segments, a 4 MiB cleaner buffer (the 128 MiB default is allocated on the
    // heap at start and was most of a broker's RSS), few threads.
    ['log.segment.bytes', 16 * 1024 * 1024],
    ['log.retention.hours', 24],
    ['log.cleaner.dedupe.buffer.size', 4 * 1024 * 1024],
    ['log.cleaner.threads', 1],
    ['num.network.threads', 2],
    ['num.io.threads', 2],
    ['background.threads', 2],
    ['num.replica.fetchers', 1],
    ['num.recovery.threads.per.data.dir', 1],
  ];
  return ['# labforge: written at `up`; KRaft combined mode, loopback only', ...lines.map(([k, v]) => `${k}=${v}`), ''].join('\n');
}

/** log4j2: everything at INFO to stdout (the node's log file); kept alive through shutdown. */
export function renderLog4j2(): string {
  return [
    '# labforge: broker logs go to stdout, which labforge appends to node-<id>/kafka.log',
    'status = warn',
    // Without this, log4j's own shutdown hook stops logging before the broker's shutdown ends.
    'shutdownHook = disable',
    'appender.out.type = Console',
    'appender.out.name = out',
    'appender.out.layout.type = PatternLayout',
    'appender.out.layout.pattern = [%d] %p %m (%c)%n',
    'rootLogger.level = info',
    'rootLogger.appenderRef.out.ref = out',
    'logger.request.name = kafka.request.logger',
    'logger.request.level = warn',
    '',
  ].join('\n');
}
