// PostgreSQL: initdb once, then the postmaster started directly; a killed one is restarted on its
// data, a half-made one rebuilt from initdb, an unrecorded one (CLI killed after spawn) adopted.
import { join } from 'node:path';
import { probePostgres } from '../../../health/index.js';
import type { Level, PostgresComponent } from '../../model/types.js';
import { componentsOf } from '../../model/validate.js';
import { generatePassword, type ComponentState, type RunAs } from '../home.js';
import * as pgServer from '../postgres.js';
import { isAlive, stopProcess, type ProcessRecord } from '../proc.js';
import { makeOwnedDir } from '../spawn.js';
import { allPorts, elapsed, labelOf, mainProcesses, startWithPortRetry, type RunContext } from './context.js';
import type { ComponentDriver, Outcome } from './types.js';
import { postgresUrl } from '../../model/urls.js';

const SEEDS: Partial<Record<Level, string>> = { beginner: 'beginner-seed.sql' };

async function ensure(ctx: RunContext, c: ComponentState): Promise<Outcome> {
  if (c.process && isAlive(c.process)) return 'running';
  const adopted = c.seeded ? pgServer.adoptRunning(c, ctx.runAs) : undefined;
  if (adopted) {
    c.process = adopted;
    ctx.save();
    await pgServer.waitReady(c, adopted, ctx.signal);
    return 'running';
  }
  const restart = c.seeded === true && pgServer.hasCluster(c);
  if (restart) {
    await pgServer.clearStale(c);
  } else {
    // Never finished (crash or Ctrl-C during initdb or seeding): start over from initdb.
    if (c.process) await stopProcess(c.process, 'SIGQUIT', 1000);
    const stray = pgServer.adoptRunning(c, ctx.runAs);
    if (stray) await stopProcess(stray, 'SIGQUIT', 1000);
    c.process = undefined;
    c.seeded = false;
    ctx.save();
    makeOwnedDir(join(c.dataDir, '..'), ctx.runAs, 0o755);
    const t = performance.now();
    await pgServer.initCluster(c, ctx.runAs, ctx.signal);
    ctx.phase(c.id, `initdb ${elapsed(t)}`);
    c.initialized = true;
    ctx.save();
  }
  await startWithPortRetry(
    ctx,
    c,
    async () => {
      const record = pgServer.startServer(c, ctx.runAs);
      c.process = record;
      ctx.save();
      const t = performance.now();
      await pgServer.waitReady(c, record, ctx.signal);
      ctx.phase(c.id, `ready ${elapsed(t)}`);
    },
    () => stop(c),
  );
  if (!c.seeded) {
    const t = performance.now();
    await pgServer.seed(c, ctx.runAs, ctx.secrets.postgres.password, SEEDS[ctx.state.level]);
    ctx.phase(c.id, `seed ${elapsed(t)}`);
    c.seeded = true;
    ctx.save();
  }
  return restart ? 'restarted' : 'started';
}

/** Immediate shutdown (SIGQUIT): the data is deleted next anyway, or replayed from WAL on a restart. */
async function stop(c: ComponentState, runAs?: RunAs): Promise<number[]> {
  const records: ProcessRecord[] = c.process ? [c.process] : [];
  // A postmaster that runs without being recorded (CLI killed right after spawning it).
  if (runAs) {
    const stray = pgServer.adoptRunning(c, runAs);
    if (stray && !records.some((r) => r.pid === stray.pid)) records.push(stray);
  }
  const left: number[] = [];
  for (const record of records) left.push(...(await stopProcess(record, 'SIGQUIT', 1500)));
  return left;
}

export const postgresDriver: ComponentDriver<PostgresComponent> = {
  kind: 'postgres',
  binaries: ['postgres', 'initdb'],
  // Sharded or replicated specs (expert) belong to the shard driver.
  select: (lab) => componentsOf(lab, 'postgres').filter((db) => db.shards <= 1 && db.replicas === 0),
  async plan(p, db) {
    const host = p.host();
    return [
      {
        id: db.id,
        kind: 'postgres',
        host,
        port: await p.port(host),
        dataDir: join(p.dir(db.id), 'data'),
        logFile: p.logFile(db.id),
        database: db.database,
        user: db.user,
      },
    ];
  },
  secrets: (planned) => ({ postgres: { user: planned[0]?.user ?? 'learner', password: generatePassword() } }),
  ensure,
  async probe(c, env, policy) {
    return [
      await probePostgres(
        labelOf(c),
        { host: c.host, port: c.port, database: c.database!, user: c.user!, password: env.secrets.postgres.password },
        policy,
      ),
    ];
  },
  processes: mainProcesses,
  ports: allPorts,
  stop,
  url: (c) => postgresUrl({ host: c.host, port: c.port, user: c.user!, database: c.database! }),
  secretUrl: (c, s) => postgresUrl({ ...s.postgres, host: c.host, port: c.port, database: c.database! }),
};
