// Sharded PostgreSQL (expert): one server per shard and region, each either the shard's primary
// or its streaming replica. Roles are state, not kinds: a failover (`labforge chaos kill-primary`)
// promotes the replica and turns the old primary into a replica that `up` rebuilds from the new
// one with pg_basebackup, through the link of its region.
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { probePrimary, probeReplica } from '../../../health/replication.js';
import type { PostgresComponent } from '../../model/types.js';
import { componentsOf } from '../../model/validate.js';
import { regionAddress, regionRange } from '../../model/shard.js';
import { endpointFrom, linkId, shardServerId, shardServers } from '../expert.js';
import { generatePassword, type ComponentState, type RunAs } from '../home.js';
import * as pgServer from '../postgres.js';
import { isAlive, stopProcess, type ProcessRecord } from '../proc.js';
import { adminQuery, configureReplicationPrimary, createReplica, createSlot, ensureReplicator } from '../replica.js';
import { makeOwnedDir } from '../spawn.js';
import { allPorts, claimPorts, elapsed, labelOf, mainProcesses, startWithPortRetry, type RunContext } from './context.js';
import { postgresDriver } from './postgres.js';
import type { ComponentDriver, Outcome } from './types.js';
import { postgresUrl } from '../../model/urls.js';

const MARK = '# labforge: regions';

/** Sharded specs (or specs with replicas) belong here; a plain one to the postgres driver. */
export function isSharded(db: PostgresComponent): boolean {
  return db.shards > 1 || db.replicas > 0;
}

/** The slot a replica streams from on its primary, named after the replica. */
export function slotFor(replicaId: string): string {
  return `slot_${replicaId.replace(/[^a-z0-9]/g, '_')}`;
}

/** `db-s0-r1 (shard 0 replica, region 1)`: how health and chaos name a shard server. */
export function shardLabel(c: ComponentState): string {
  return labelOf(c);
}

/**
 * Learners (and APIs of other regions, whose links connect from their region's address) log in
 * from any region's range; replicas of any region may stream: after a failover the new replica
 * can be in any region. Only loopback ranges, SCRAM only. Idempotent; a reload applies it.
 */
function allowRegions(c: ComponentState, regions: number): void {
  const ranges = Array.from({ length: regions }, (_, r) => regionRange(r));
  configureReplicationPrimary(c, ranges);
  const hbaFile = join(c.dataDir, 'pg_hba.conf');
  const hba = readFileSync(hbaFile, 'utf8');
  const lines = ranges.map((range) => `host    all   all   ${range}   scram-sha-256`).filter((line) => !hba.includes(line));
  if (lines.length > 0)
    appendFileSync(
      hbaFile,
      `${hba.includes(MARK) ? '' : `${MARK}: clients of every region (links connect from their region's address)\n`}${lines.join('\n')}\n`,
    );
}

async function ensurePrimary(ctx: RunContext, c: ComponentState): Promise<Outcome> {
  // A primary is a plain server (initdb, start, learner role and database) ...
  const outcome = await postgresDriver.ensure(ctx, c);
  if (outcome === 'running' && c.initialized && readFileSync(join(c.dataDir, 'pg_hba.conf'), 'utf8').includes(MARK)) return outcome;
  // ... made replication-ready: WAL settings, pg_hba for every region, the replicator role.
  const t = performance.now();
  allowRegions(c, ctx.state.regions ?? 2);
  await adminQuery(c, ctx.runAs, 'SELECT pg_reload_conf()');
  await ensureReplicator(c, ctx.runAs, ctx.secrets.replication!.password);
  ctx.phase(c.id, `replication-ready ${elapsed(t)}`);
  return outcome;
}

async function ensureReplica(ctx: RunContext, c: ComponentState): Promise<Outcome> {
  if (c.process && isAlive(c.process) && !c.rebuild) return 'running';
  const primary = ctx.state.components.find((o) => o.id === c.replicaOf);
  if (!primary) throw new Error(`${c.id}: its primary ${c.replicaOf} is not in the lab`);
  if (c.seeded && !c.rebuild && pgServer.hasCluster(c)) {
    // Restart on its data: it reconnects to its primary (primary_conninfo) and catches up from the slot.
    await pgServer.clearStale(c);
    await startWithPortRetry(
      ctx,
      c,
      async () => {
        const record = pgServer.startServer(c, ctx.runAs);
        c.process = record;
        ctx.save();
        await pgServer.waitReady(c, record, ctx.signal);
      },
      () => stop(c),
    );
    return 'restarted';
  }
  // Made (or made again after a failover) from its primary: base backup through its region's link.
  if (c.process) await stopProcess(c.process, 'SIGKILL', 1000);
  c.process = undefined;
  c.seeded = false;
  ctx.save();
  const via = endpointFrom(ctx.state.components, c.region!, primary);
  const slot = (c.slot ??= slotFor(c.id));
  const t = performance.now();
  await createSlot(primary, ctx.runAs, slot);
  await claimPorts(ctx, c);
  makeOwnedDir(join(c.dataDir, '..'), ctx.runAs, 0o755);
  const record = await createReplica(
    { replica: c, primary, via, slot, password: ctx.secrets.replication!.password },
    ctx.runAs,
    ctx.signal,
  );
  c.process = record;
  c.seeded = true;
  const rebuilt = c.rebuild === true;
  c.rebuild = undefined;
  ctx.save();
  ctx.phase(c.id, `base backup + streaming via ${via.via?.id ?? 'direct'} ${elapsed(t)}`);
  return rebuilt ? 'restarted' : 'started';
}

/** Immediate shutdown (SIGQUIT): data is deleted next (down) or replayed from WAL on a restart. */
async function stop(c: ComponentState, runAs?: RunAs): Promise<number[]> {
  const records: ProcessRecord[] = c.process ? [c.process] : [];
  if (runAs) {
    const stray = pgServer.adoptRunning(c, runAs);
    if (stray && !records.some((r) => r.pid === stray.pid)) records.push(stray);
  }
  const left: number[] = [];
  for (const record of records) left.push(...(await stopProcess(record, 'SIGQUIT', 1500)));
  return left;
}

const endpoint = (c: ComponentState, password: string) => ({ host: c.host, port: c.port, database: c.database!, user: c.user!, password });

export const shardDriver: ComponentDriver<PostgresComponent> = {
  kind: 'shard',
  binaries: ['postgres', 'initdb', 'pg_basebackup'],
  select: (lab) => componentsOf(lab, 'postgres').filter(isSharded),
  async plan(p, db) {
    const planned: ComponentState[] = [];
    for (const s of shardServers(db.shards, p.regions)) {
      const id = shardServerId(s.shard, s.region);
      const host = regionAddress(s.region);
      const primaryId = shardServerId(s.shard, s.primaryRegion);
      planned.push({
        id,
        kind: 'shard',
        region: s.region,
        shard: s.shard,
        role: s.role,
        ...(s.role === 'replica' ? { replicaOf: primaryId, slot: slotFor(id), uses: [primaryId, linkId(s.region, primaryId)] } : {}),
        host,
        port: await p.port(host),
        dataDir: join(p.dir(id), 'data'),
        logFile: p.logFile(id),
        database: db.database,
        user: db.user,
      });
    }
    return planned;
  },
  secrets: (planned) => ({
    postgres: { user: planned[0]?.user ?? 'learner', password: generatePassword() },
    replication: { password: generatePassword() },
  }),
  ensure: (ctx, c) => (c.role === 'primary' ? ensurePrimary(ctx, c) : ensureReplica(ctx, c)),
  async probe(c, env, policy) {
    const password = env.secrets.postgres.password;
    if (c.role === 'primary') return [await probePrimary(shardLabel(c), endpoint(c, password), policy)];
    const primary = env.components.find((o) => o.id === c.replicaOf);
    if (!primary) return [{ name: shardLabel(c), ok: false, detail: `its primary ${c.replicaOf} is not in the lab`, ms: 0, attempts: 0 }];
    return [
      await probeReplica(shardLabel(c), { primary: endpoint(primary, password), replica: endpoint(c, password), slot: c.slot }, policy),
    ];
  },
  processes: mainProcesses,
  ports: allPorts,
  stop,
  url: (c) => postgresUrl({ host: c.host, port: c.port, user: c.user!, database: c.database! }),
  secretUrl: (c, s) => postgresUrl({ ...s.postgres, host: c.host, port: c.port, database: c.database! }),
};
