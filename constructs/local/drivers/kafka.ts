// Kafka (expert): one component for the whole KRaft cluster (3 combined broker/controller nodes
// in the Kafka region), since the nodes are formatted together and form one quorum. Processes:
// broker-1 (the main one), broker-2, broker-3. A dead broker is a degraded cluster, which the
// probe describes (ISR shrunk, writes still work); `up` restarts only the brokers that are gone.
import { join } from 'node:path';
import { probeKafka } from '../../../health/kafka.js';
import type { KafkaComponent } from '../../model/types.js';
import { componentsOf } from '../../model/validate.js';
import { BROKER_HEAP_MB, KAFKA_REGION, kafkaNodeCount, kafkaPort, regionListenerName } from '../expert.js';
import type { ComponentState } from '../home.js';
import { createKafkaTopics, prepareKafkaCluster, startKafkaNode, waitKafkaReady, type KafkaCluster } from '../kafka.js';
import { replicationFactor } from '../kafka-config.js';
import { isAlive, stopProcess, type ProcessRecord } from '../proc.js';
import { ExternalError } from '../../model/errors.js';
import { isListening } from '../ports.js';
import { allPorts, claimPorts, elapsed, labelOf, type RunContext } from './context.js';
import type { ComponentDriver, NamedProcess } from './types.js';
import { kafkaBootstrap } from '../../model/urls.js';

/** broker-1 .. broker-n with their records (absent before the first start). */
function brokers(c: ComponentState): { node: number; record?: ProcessRecord }[] {
  return Array.from({ length: kafkaNodeCount(c) }, (_, i) => ({
    node: i + 1,
    record: i === 0 ? c.process : c.helpers?.[`broker-${i + 1}`],
  }));
}

/** Every port node `node` listens on: client, controller, one per remote region. */
function nodePorts(c: ComponentState, node: number): number[] {
  const named = Object.entries(c.extraPorts ?? {})
    .filter(([k]) => k.endsWith(`-${node}`) && !k.startsWith('client-'))
    .map(([, v]) => v);
  return [kafkaPort(c, 'client', node), ...named];
}

function setBroker(c: ComponentState, node: number, record: ProcessRecord): void {
  if (node === 1) c.process = record;
  else c.helpers = { ...c.helpers, [`broker-${node}`]: record };
}

/** The cluster's files and props from the state; region listeners advertise the links of each region. */
export async function clusterOf(ctx: Pick<RunContext, 'state' | 'runAs' | 'signal'>, c: ComponentState): Promise<KafkaCluster> {
  const n = kafkaNodeCount(c);
  const links = ctx.state.components.filter((o) => o.kind === 'proxy' && o.target === c.id);
  const regions = [...new Set(links.map((l) => l.region!))].sort();
  return prepareKafkaCluster(
    {
      dir: c.dataDir,
      runAs: ctx.runAs,
      host: c.host,
      heapMb: BROKER_HEAP_MB,
      path: `${ctx.state.name}/${c.id}`,
      nodes: Array.from({ length: n }, (_, i) => ({
        client: kafkaPort(c, 'client', i + 1),
        controller: kafkaPort(c, 'controller', i + 1),
      })),
      regionListeners: regions.map((r) => ({
        name: regionListenerName(r),
        nodes: Array.from({ length: n }, (_, i) => {
          const link = links.find((l) => l.region === r && l.targetNode === i + 1)!;
          return { bind: kafkaPort(c, `r${r}`, i + 1), advertisedHost: link.host, advertisedPort: link.port };
        }),
      })),
    },
    ctx.signal,
  );
}

async function ensure(ctx: RunContext, c: ComponentState) {
  const all = brokers(c);
  if (all.every((b) => b.record && isAlive(b.record))) return 'running' as const;
  const fresh = all.every((b) => !b.record);
  const dead = all.filter((b) => !b.record || !isAlive(b.record));
  for (const b of dead) if (b.record) await stopProcess(b.record, 'SIGKILL', 1000);
  if (fresh) await claimPorts(ctx, c);
  else {
    // The live brokers hold their own ports: only the dead ones' ports must be free.
    for (const b of dead) {
      for (const port of nodePorts(c, b.node)) {
        if (await isListening(port, c.host)) {
          throw new ExternalError(
            `lab '${ctx.state.name}': ${labelOf(c)} broker ${b.node} cannot start: ${c.host}:${port} is taken by another program (not started by this lab)`,
            `stop that program, or run \`labforge down ${ctx.state.name}\` and \`labforge up\` again to get new ports`,
          );
        }
      }
    }
  }
  let t = performance.now();
  const cluster = await clusterOf(ctx, c);
  if (fresh) ctx.phase(c.id, `format ${elapsed(t)}`);
  t = performance.now();
  // Every node at once on a first start: the quorum needs a majority before any broker registers.
  for (const b of dead) {
    setBroker(c, b.node, startKafkaNode(cluster, cluster.nodes[b.node - 1]!));
    ctx.save();
  }
  const records = brokers(c).map((b) => b.record!);
  await waitKafkaReady(cluster, records, 60_000, ctx.signal);
  ctx.phase(c.id, `${dead.length} broker(s) ready ${elapsed(t)}`);
  t = performance.now();
  await createKafkaTopics(cluster, c.topics ?? [], { timeoutMs: 30_000 });
  ctx.phase(c.id, `topics RF ${replicationFactor(records.length)} in sync ${elapsed(t)}`);
  return fresh ? ('started' as const) : ('restarted' as const);
}

/** The client listener of every broker. */
function brokerEndpoints(c: ComponentState) {
  return Array.from({ length: kafkaNodeCount(c) }, (_, i) => ({ host: c.host, port: kafkaPort(c, 'client', i + 1) }));
}

export const kafkaDriver: ComponentDriver<KafkaComponent> = {
  kind: 'kafka',
  binaries: ['java'],
  select: (lab) => componentsOf(lab, 'kafka'),
  async plan(p, spec) {
    const region = p.regions > 1 ? KAFKA_REGION : undefined;
    const host = p.host(region);
    const extraPorts: Record<string, number> = {};
    let port = 0;
    for (let n = 1; n <= spec.brokers; n++) {
      const client = await p.port(host);
      if (n === 1) port = client;
      else extraPorts[`client-${n}`] = client;
      extraPorts[`controller-${n}`] = await p.port(host);
      // A listener per other region, advertised as that region's link to this broker.
      for (let r = 0; r < p.regions; r++) if (r !== region) extraPorts[`r${r}-${n}`] = await p.port(host);
    }
    return [
      {
        id: spec.id,
        kind: 'kafka',
        ...(region === undefined ? {} : { region }),
        host,
        port,
        extraPorts,
        topics: spec.topics,
        dataDir: p.dir(spec.id),
        logFile: join(p.dir(spec.id), 'node-1', 'kafka.log'),
      },
    ];
  },
  ensure,
  probeWhenPartial: true,
  async probe(c, _env, policy) {
    const gone = brokers(c).filter((b) => !b.record || !isAlive(b.record));
    const n = kafkaNodeCount(c);
    const bootstrap = brokerEndpoints(c).map((b) => kafkaBootstrap([b]));
    const result = await probeKafka(
      `${c.id} (kafka)`,
      { bootstrap, topics: c.topics ?? [], replicationFactor: replicationFactor(n) },
      policy,
    );
    if (gone.length === 0) return [result];
    const which = gone.map((b) => `broker-${b.node}${b.record ? ` (pid ${b.record.pid})` : ''}`).join(', ');
    return [{ ...result, ok: false, detail: `${which} gone (\`labforge up\` restarts it); cluster ${result.status}: ${result.detail}` }];
  },
  processes: (c): NamedProcess[] => brokers(c).flatMap((b) => (b.record ? [{ name: `broker-${b.node}`, record: b.record }] : [])),
  ports: allPorts,
  // SIGKILL at once: a graceful stop takes ≈ 5 s and the data is deleted next (down), or
  // recovered from the log at the next start (Ctrl-C of an up).
  stop: async (c) =>
    (await Promise.all(brokers(c).map((b) => (b.record ? stopProcess(b.record, 'SIGKILL', 2000) : Promise.resolve([]))))).flat(),
  // bootstrap.servers, as `kcat -b` takes it.
  url: (c) => kafkaBootstrap(brokerEndpoints(c)),
};
