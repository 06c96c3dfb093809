// The starter API, one ComponentState per instance (`api` alone, or api-1..api-3), each on its
// own port, wired to the postgres, redis and rabbitmq its LabSpec `uses`.
import { chownSync } from 'node:fs';
import { join } from 'node:path';
import { probeApi } from '../../../health/index.js';
import type { LabSpec, ServiceComponent } from '../../model/types.js';
import { componentsOf } from '../../model/validate.js';
import { startApi, uploadsDir } from '../api.js';
import { EVENTS_TOPIC, endpointFrom, kafkaBootstrapFrom, linkId, primaryOf, shardServerId, shardServers } from '../expert.js';
import { generatePassword, writeFileAtomic, type ComponentState, type LabSecrets, type RunAs } from '../home.js';
import { isAlive, stopProcess } from '../proc.js';
import { makeOwnedDir } from '../spawn.js';
import { allPorts, instanceName, labelOf, mainProcesses, startWithPortRetry, waitListening } from './context.js';
import { postgresDriver } from './postgres.js';
import { rabbitmqDriver } from './rabbitmq.js';
import { redisDriver } from './redis.js';
import { isSharded } from './shard.js';
import type { ComponentDriver, PlanContext } from './types.js';
import { httpUrl, postgresUrl } from '../../model/urls.js';

/** The shard map file of a sharded API instance (in its own directory, mode 0600). */
export const shardMapFile = (c: ComponentState) => join(c.dataDir, 'shards.json');

/**
 * Writes the API's shard map: per shard, the URL of its current primary as seen from the API's
 * region (directly in its own region, else through its region's link). `chaos kill-primary`
 * rewrites it and sends SIGHUP. Returns the endpoints, without passwords, for messages.
 */
export function writeShardMap(c: ComponentState, all: readonly ComponentState[], secrets: LabSecrets, runAs: RunAs): string[] {
  const shards = [...new Set(all.filter((o) => o.kind === 'shard').map((o) => o.shard!))].sort((a, b) => a - b);
  const seen: string[] = [];
  const urls = shards.map((s) => {
    const primary = primaryOf(all, s);
    if (!primary) throw new Error(`shard ${s} has no primary in the lab`);
    const e = endpointFrom(all, c.region!, primary);
    seen.push(`shard ${s} -> ${primary.id} at ${e.host}:${e.port}${e.via ? ` (via ${e.via.id})` : ''}`);
    return postgresUrl({ ...secrets.postgres, host: e.host, port: e.port, database: primary.database! });
  });
  const file = shardMapFile(c);
  writeFileAtomic(file, `${JSON.stringify({ shards: urls }, null, 2)}\n`, 0o600);
  if (runAs.mode === 'service-user') chownSync(file, runAs.uid, runAs.gid);
  return seen;
}

/** Expert: `instances` per region (api-r0-1, api-r0-2, ...), each using every shard server and its region's links to them. */
async function planRegional(p: PlanContext, svc: ServiceComponent, lab: LabSpec): Promise<ComponentState[]> {
  const db = componentsOf(lab, 'postgres').find(isSharded);
  const servers = db ? shardServers(db.shards, p.regions) : [];
  const planned: ComponentState[] = [];
  for (let r = 0; r < p.regions; r++) {
    const uses = [
      ...servers.map((s) => shardServerId(s.shard, s.region)),
      ...servers.filter((s) => s.region !== r).map((s) => linkId(r, shardServerId(s.shard, s.region))),
    ];
    for (let n = 1; n <= svc.instances; n++) {
      const id = `${svc.id}-r${r}-${n}`;
      const host = p.host(r);
      planned.push({
        id,
        kind: 'api',
        group: `${svc.id}-r${r}`,
        instance: n,
        region: r,
        uses,
        host,
        port: await p.port(host),
        dataDir: p.dir(id),
        logFile: p.logFile(id),
      });
    }
  }
  return planned;
}

/** SIGTERM: the API stops accepting, finishes in-flight requests and exits within 1.8 s. */
const stop = async (c: ComponentState) => (c.process ? stopProcess(c.process, 'SIGTERM', 2000) : []);

export const apiDriver: ComponentDriver<ServiceComponent> = {
  kind: 'api',
  binaries: [],
  // The API connects to RabbitMQ at its first job: it starts in parallel with the broker's ~4 s boot.
  lazy: ['rabbitmq'],
  select: (lab) => componentsOf(lab, 'service').filter((svc) => svc.program === 'api'),
  async plan(p, svc) {
    if (p.regions > 1) return planRegional(p, svc, p.lab);
    const planned: ComponentState[] = [];
    for (let n = 1; n <= svc.instances; n++) {
      // A single instance keeps the LabSpec id (`api`); several are api-1..api-N, each on its own port.
      const id = svc.instances === 1 ? svc.id : `${svc.id}-${n}`;
      const host = p.host();
      planned.push({
        id,
        kind: 'api',
        group: svc.id,
        instance: n,
        uses: svc.uses,
        host,
        port: await p.port(host),
        dataDir: p.dir(id),
        logFile: p.logFile(id),
      });
    }
    return planned;
  },
  secrets: () => ({
    api: { jwtSecret: generatePassword(32), probeEmail: 'labforge-health@example.com', probePassword: generatePassword(18) },
  }),
  async ensure(ctx, c) {
    if (c.process && isAlive(c.process)) return 'running';
    const restart = c.process !== undefined;
    if (c.process) await stopProcess(c.process, 'SIGKILL', 500);
    makeOwnedDir(c.dataDir, ctx.runAs);
    makeOwnedDir(uploadsDir(c), ctx.runAs);
    const sharded = c.region !== undefined;
    const db = sharded ? undefined : ctx.needs(c, 'postgres');
    const kafka = sharded ? ctx.state.components.find((o) => o.kind === 'kafka') : undefined;
    if (sharded) writeShardMap(c, ctx.state.components, ctx.secrets, ctx.runAs);
    const cache = ctx.used(c, 'redis');
    const mq = ctx.used(c, 'rabbitmq');
    await startWithPortRetry(
      ctx,
      c,
      async () => {
        const record = startApi(c, ctx.runAs, {
          databaseUrl: db && postgresDriver.secretUrl!(db, ctx.secrets),
          shardsFile: sharded ? shardMapFile(c) : undefined,
          kafkaBrokers: kafka && kafkaBootstrapFrom(ctx.state.components, kafka, c.region!),
          kafkaTopic: kafka && EVENTS_TOPIC,
          redisUrl: cache && redisDriver.secretUrl!(cache, ctx.secrets),
          amqpUrl: mq && rabbitmqDriver.secretUrl!(mq, ctx.secrets),
          jwtSecret: ctx.secrets.api!.jwtSecret,
          instance: instanceName(c),
        });
        c.process = record;
        ctx.save();
        await waitListening(ctx, c, record);
      },
      () => stop(c),
    );
    return restart ? 'restarted' : 'started';
  },
  async probe(c, env, policy) {
    const { probeEmail, probePassword } = env.secrets.api!;
    return [await probeApi(labelOf(c), { baseUrl: apiDriver.url(c), probeEmail, probePassword }, policy)];
  },
  processes: mainProcesses,
  ports: allPorts,
  stop,
  url: (c) => httpUrl({ host: c.host, port: c.port }),
};
