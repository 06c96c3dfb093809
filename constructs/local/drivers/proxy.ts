// Links between the expert lab's regions: one delay proxy per (client region, remote server),
// listening in the client's region and forwarding to the server with the lab's latency each way.
// Planned from the sharded database and the Kafka cluster (see ../expert.ts for the topology).
import { withRetry } from '../../../health/probe.js';
import type { Component } from '../../model/types.js';
import { componentsOf } from '../../model/validate.js';
import { regionAddress } from '../../model/shard.js';
import { KAFKA_REGION, kafkaPort, linkId, shardServerId, shardServers } from '../expert.js';
import { readDelayProxyState, startDelayProxy, stopDelayProxy, waitDelayProxyReady, type DelayProxyProps } from '../delay-proxy.js';
import type { ComponentState } from '../home.js';
import { isListening } from '../ports.js';
import { isAlive, stopProcess } from '../proc.js';
import { allPorts, mainProcesses, startWithPortRetry, type RunContext } from './context.js';
import { isSharded } from './shard.js';
import type { ComponentDriver } from './types.js';

/** The proxy's props from its state; the target's host and port are read now (they are final once it started). */
export function linkProps(c: ComponentState, all: readonly ComponentState[]): DelayProxyProps {
  const target = all.find((o) => o.id === c.target);
  if (!target) throw new Error(`${c.id}: its target ${c.target} is not in the lab`);
  const targetPort = c.targetNode === undefined ? target.port : kafkaPort(target, `r${c.region}` as `r${number}`, c.targetNode);
  return {
    id: c.id,
    dir: c.dataDir,
    logFile: c.logFile,
    listenHost: c.host,
    listenPort: c.port,
    targetHost: target.host,
    targetPort,
    delayMs: c.delayMs ?? 0,
  };
}

async function ensure(ctx: RunContext, c: ComponentState) {
  if (c.process && isAlive(c.process)) return 'running' as const;
  const restart = c.process !== undefined;
  if (c.process) await stopProcess(c.process, 'SIGKILL', 500);
  await startWithPortRetry(
    ctx,
    c,
    async () => {
      const props = linkProps(c, ctx.state.components);
      const record = startDelayProxy(props, ctx.runAs);
      c.process = record;
      ctx.save();
      await waitDelayProxyReady(props, record, ctx.signal);
    },
    () => (c.process ? stopDelayProxy(c.process) : Promise.resolve([])),
  );
  return restart ? ('restarted' as const) : ('started' as const);
}

export const proxyDriver: ComponentDriver<Component> = {
  kind: 'proxy',
  binaries: [],
  // Links exist for the sharded database and for Kafka, only in labs with several regions.
  select: (lab) => (lab.regions.min >= 2 ? [...componentsOf(lab, 'postgres').filter(isSharded), ...componentsOf(lab, 'kafka')] : []),
  async plan(p, spec) {
    if (p.regions < 2) return [];
    const link = async (region: number, target: string, targetNode?: number): Promise<ComponentState> => {
      const id = linkId(region, targetNode === undefined ? target : `${target}-${targetNode}`);
      const host = regionAddress(region);
      // Kafka links of a region form one group (`link-r1-events`), which the consumer `uses`.
      const group = targetNode === undefined ? {} : { group: linkId(region, target) };
      return {
        id,
        kind: 'proxy',
        ...group,
        region,
        target,
        ...(targetNode === undefined ? {} : { targetNode }),
        uses: [target],
        delayMs: p.latencyMs,
        host,
        port: await p.port(host),
        dataDir: p.dir(id),
        logFile: p.logFile(id),
      };
    };
    const planned: ComponentState[] = [];
    if (spec.kind === 'postgres') {
      // From every region to every shard server of another region: replication, the APIs, and
      // after a failover the paths to the promoted primary all exist from the start.
      for (const s of shardServers(spec.shards, p.regions)) {
        for (let r = 0; r < p.regions; r++) if (r !== s.region) planned.push(await link(r, shardServerId(s.shard, s.region)));
      }
    } else if (spec.kind === 'kafka') {
      for (let r = 0; r < p.regions; r++) {
        if (r === KAFKA_REGION) continue;
        for (let n = 1; n <= spec.brokers; n++) planned.push(await link(r, spec.id, n));
      }
    }
    return planned;
  },
  ensure,
  async probe(c, env, policy) {
    const name = `${c.id} (link)`;
    const props = linkProps(c, env.components);
    const where = `region ${c.region} ${props.listenHost}:${props.listenPort} -> ${c.target}${c.targetNode ? ` broker ${c.targetNode}` : ''} ${props.targetHost}:${props.targetPort}`;
    return [
      await withRetry(name, policy, async () => {
        const st = readDelayProxyState(props);
        if (st?.state === 'partitioned')
          throw new Error(`CUT since ${st.since} (labforge chaos partition): ${where}; \`labforge chaos <lab> heal\` restores it`);
        if (!(await isListening(props.listenPort, props.listenHost))) throw new Error(`not accepting connections: ${where}`);
        return `open, ${props.delayMs} ms each way: ${where}`;
      }),
    ];
  },
  processes: mainProcesses,
  ports: allPorts,
  stop: async (c) => (c.process ? stopProcess(c.process, 'SIGKILL', 1000) : []),
  // A TCP relay, not a protocol endpoint of its own: clients of what it relays connect to host:port.
  url: (c) => `${c.host}:${c.port}`,
};
