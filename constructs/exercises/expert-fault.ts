// Checks of expert-fault-tolerance: a key on the shard the routing rule picks (and only there),
// replicated to the other region; a shard that went through a failover and serves writes through
// every region's load balancer; the learner's partition analysis against the topology; measured
// latency and replication lag against the injected delay.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { linksTouching } from '../local/expert.js';
import type { ComponentState } from '../local/home.js';
import { shardFor } from '../model/shard.js';
import { guarded, poll } from './probe.js';
import { fail, pass, type Check, type CheckContext } from './types.js';
import {
  DB_HINT,
  balancerUrl,
  currentPrimary,
  linkDelayMs,
  listOf,
  liveReplicas,
  measurement,
  readWorkdirJson,
  regionCount,
  shardNumbers,
  shardOfKey,
  tableExists,
  where,
  withServer,
} from './expert-tools.js';
import { cleanupMayFail } from '../model/quiet.js';
import { fieldOf } from '../model/json.js';

/** The key the guide names: the learner routes it by hand. */
export const EXERCISE_KEY = 'exercise-key';
const TABLE = 'exercise_keys';

async function valueOn(ctx: CheckContext, server: ComponentState): Promise<string | undefined> {
  return withServer(ctx, server, async (db) => {
    if (!(await tableExists(db, TABLE))) return undefined;
    return (await db.query<{ value: string }>(`SELECT value FROM ${TABLE} WHERE key = $1`, [EXERCISE_KEY])).rows[0]?.value;
  });
}

const route: Check = {
  id: 'expert-fault-tolerance/route',
  title: `${EXERCISE_KEY} is on the shard the routing rule picks, on no other shard, and on that shard's replica in the other region`,
  run: (ctx) =>
    guarded(async () => {
      const shard = shardOfKey(ctx, EXERCISE_KEY);
      const primary = currentPrimary(ctx, shard);
      const value = await valueOn(ctx, primary);
      if (value === undefined) {
        return fail(
          `${EXERCISE_KEY} routes to shard ${shard} (md5 mod ${shardNumbers(ctx).length}), but ${where(primary)} has no row for it in ${TABLE}`,
          `on ${primary.host}:${primary.port}: CREATE TABLE ${TABLE} (key text PRIMARY KEY, value text NOT NULL); INSERT INTO ${TABLE} VALUES ('${EXERCISE_KEY}', '...')`,
        );
      }
      for (const other of shardNumbers(ctx).filter((s) => s !== shard)) {
        const server = currentPrimary(ctx, other);
        if ((await valueOn(ctx, server)) !== undefined)
          return fail(
            `${EXERCISE_KEY} is also on shard ${other} (${where(server)})`,
            `a key lives on exactly one shard: DELETE it from ${server.id}`,
          );
      }
      const replicas = liveReplicas(ctx, shard);
      if (replicas.length === 0)
        return fail(
          `shard ${shard} has no replica streaming from ${primary.id} now (one is waiting to be rebuilt)`,
          'run `labforge up <lab>`: it rebuilds the replica from the new primary',
        );
      const seen: string[] = [];
      for (const replica of replicas) {
        // Asynchronous replication: give the row a few seconds to arrive (it takes about the link delay).
        const got = await poll(5000, async () => ((await valueOn(ctx, replica)) === value ? true : undefined), 100);
        if (!got)
          return fail(
            `${EXERCISE_KEY} is on ${primary.id} but not on its replica ${where(replica)} after 5 s`,
            'is the replica disconnected (a cut link)? `labforge chaos <lab> heal`, `labforge health <lab>`',
          );
        seen.push(`${replica.id} (region ${replica.region})`);
      }
      return pass(
        `${EXERCISE_KEY} -> shard ${shard}: on ${primary.id} (region ${primary.region}) and on no other shard; replicated to ${seen.join(', ')}`,
      );
    }, DB_HINT),
};

/** The timeline of a primary: 1 until it was promoted (each promotion adds one). */
async function timelineOf(ctx: CheckContext, primary: ComponentState): Promise<number> {
  return withServer(ctx, primary, async (db) => {
    const r = await db.query<{ wal: string }>('SELECT pg_walfile_name(pg_current_wal_lsn()) AS wal');
    return parseInt(r.rows[0]!.wal.slice(0, 8), 16);
  });
}

async function call(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  token?: string,
): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(8000),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: parsed };
}

/** A fresh email (the API's shard key) that routes to `shard`. */
function emailOfShard(ctx: CheckContext, shard: number): string {
  const tag = randomBytes(3).toString('hex');
  for (let i = 0; ; i++)
    if (shardFor(`labforge-check-${tag}-${i}@example.com`, shardNumbers(ctx).length) === shard)
      return `labforge-check-${tag}-${i}@example.com`;
}

const failover: Check = {
  id: 'expert-fault-tolerance/failover',
  title: "a shard went through a failover (its primary is a promoted server) and takes writes through every region's load balancer",
  run: (ctx) =>
    guarded(async () => {
      const timelines = await Promise.all(
        shardNumbers(ctx).map(async (s) => ({
          shard: s,
          primary: currentPrimary(ctx, s),
          timeline: await timelineOf(ctx, currentPrimary(ctx, s)),
        })),
      );
      const promoted = timelines.filter((t) => t.timeline > 1);
      if (promoted.length === 0)
        return fail(
          `no shard has been through a failover: every primary is on timeline 1 (${timelines.map((t) => t.primary.id).join(', ')})`,
          'run `labforge chaos <lab> kill-primary 0`, then write a key of that shard through each region',
        );
      const evidence: string[] = [];
      for (const { shard, primary, timeline } of promoted) {
        const email = emailOfShard(ctx, shard);
        const password = `check-${randomBytes(6).toString('hex')}`;
        try {
          const lbs: string[] = [];
          for (let region = 0; region < regionCount(ctx); region++) {
            const base = balancerUrl(ctx, region);
            const reg = region === 0 ? await call(base, 'POST', '/auth/register', { email, password }) : { status: 201, body: undefined };
            if (reg.status !== 201)
              return fail(
                `registering a user of shard ${shard} through lb-r${region} answered ${reg.status}: ${JSON.stringify(reg.body)}`,
                'are the APIs repointed to the promoted primary? `labforge health <lab>`',
              );
            const login = await call(base, 'POST', '/auth/login', { email, password });
            const title = `failover check r${region}`;
            const note = login.status === 200 ? await call(base, 'POST', '/notes', { title }, String(fieldOf(login.body, 'token'))) : login;
            if (note.status !== 201)
              return fail(
                `a write for shard ${shard} through lb-r${region} answered ${note.status}: ${JSON.stringify(note.body)}`,
                'the shard must keep serving after the failover: `labforge health <lab>`',
              );
            lbs.push(`lb-r${region}`);
          }
          const rows = await withServer(
            ctx,
            primary,
            async (db) =>
              (await db.query('SELECT n.title FROM notes n JOIN users u ON u.id = n.user_id WHERE u.email = $1', [email])).rowCount,
          );
          if (rows !== lbs.length)
            return fail(
              `${lbs.length} notes were written for shard ${shard}, ${rows} are on its primary ${where(primary)}`,
              'the APIs must write to the promoted primary (GET /shards/<key> names it)',
            );
          evidence.push(
            `shard ${shard}: ${primary.id} promoted (timeline ${timeline}, region ${primary.region}); writes through ${lbs.join(' and ')} landed on it`,
          );
        } finally {
          await withServer(ctx, primary, (db) => db.query('DELETE FROM users WHERE email = $1', [email])).catch(cleanupMayFail);
        }
      }
      return pass(evidence.join('; '));
    }, DB_HINT),
};

/** The learner's answer for `region`, computed from the lab as it is now (roles after any failover). */
function expectedPartition(ctx: CheckContext, region: number): { stale: string[]; unwritable: Record<string, number[]> } {
  const all = ctx.components;
  const touched = new Set(linksTouching(all, region).map((l) => l.id));
  const stale = all
    .filter((c) => c.kind === 'shard' && c.role === 'replica' && !c.rebuild)
    .filter((r) => all.some((l) => l.kind === 'proxy' && l.region === r.region && l.target === r.replicaOf && touched.has(l.id)))
    .map((r) => r.id);
  const unwritable: Record<string, number[]> = {};
  for (let client = 0; client < regionCount(ctx); client++) {
    unwritable[client] = shardNumbers(ctx).filter((s) => {
      const p = currentPrimary(ctx, s);
      return p.region !== client && (client === region || p.region === region);
    });
  }
  return { stale, unwritable };
}

/** True when every link touching `region` logged a cut followed by a heal (the proxies log both). */
function partitionedAndHealed(ctx: CheckContext, region: number): { ok: boolean; detail: string } {
  const links = linksTouching(ctx.components, region);
  const missing = links.filter((l) => {
    let log: string;
    try {
      log = readFileSync(l.logFile, 'utf8');
    } catch {
      return true;
    }
    const cut = log.lastIndexOf('partitioned:');
    return cut < 0 || log.indexOf('healed:', cut) < 0;
  });
  return {
    ok: missing.length === 0,
    detail:
      missing.length === 0 ? `${links.length} links were cut and healed` : `not cut and healed: ${missing.map((l) => l.id).join(', ')}`,
  };
}

const partition: Check = {
  id: 'expert-fault-tolerance/partition',
  title: 'partition.json: after a partition and heal, which replicas go stale and which writes fail, for the lab as it is now',
  run: (ctx) =>
    guarded(async () => {
      const file = readWorkdirJson(ctx, 'partition.json');
      const format = '{"region": 1, "staleReplicas": ["db-..."], "unwritable": {"0": [shards], "1": [shards]}}';
      if ('problem' in file)
        return fail(
          file.problem,
          `run \`labforge chaos <lab> partition 1\`, observe (\`labforge health\`), \`labforge chaos <lab> heal\`, then write ${format}`,
        );
      const region = file.value.region;
      if (typeof region !== 'number' || !Number.isInteger(region) || region < 0 || region >= regionCount(ctx))
        return fail(`partition.json: region is ${JSON.stringify(region)}`, `the region you partitioned: 0 to ${regionCount(ctx) - 1}`);
      const drill = partitionedAndHealed(ctx, region);
      if (!drill.ok)
        return fail(
          `region ${region} was not partitioned and healed: ${drill.detail}`,
          `\`labforge chaos <lab> partition ${region}\`, then \`labforge chaos <lab> heal\``,
        );
      const want = expectedPartition(ctx, region);
      const gaps: string[] = [];
      const stale = Array.isArray(file.value.staleReplicas) ? file.value.staleReplicas.map(String) : [];
      if (listOf(stale) !== listOf(want.stale))
        gaps.push(`staleReplicas is [${listOf(stale)}]; the replicas whose replication link is cut are [${listOf(want.stale)}]`);
      const given = (file.value.unwritable ?? {}) as Record<string, unknown>;
      for (const [client, shards] of Object.entries(want.unwritable)) {
        const got = Array.isArray(given[client]) ? (given[client] as unknown[]).map(Number) : undefined;
        if (got === undefined || listOf(got) !== listOf(shards))
          gaps.push(
            `unwritable["${client}"] is ${JSON.stringify(given[client] ?? null)}; clients of region ${client} cannot reach the primaries of shards [${listOf(shards)}]`,
          );
      }
      if (gaps.length > 0)
        return fail(
          gaps.join('\n'),
          "a link is cut when it listens in or leads to the partitioned region; use the lab's current roles (`labforge status`): a failover moves a primary",
        );
      return pass(
        `region ${region}: ${drill.detail}; stale replicas [${listOf(want.stale)}], unwritable ${JSON.stringify(want.unwritable)}: as analysed`,
      );
    }, DB_HINT),
};

const latency: Check = {
  id: 'expert-fault-tolerance/latency',
  title: 'latency.json: cross-region round trip and replication lag, consistent with the injected delay',
  run: (ctx) =>
    guarded(async () => {
      const file = readWorkdirJson(ctx, 'latency.json');
      const d = linkDelayMs(ctx);
      if ('problem' in file)
        return fail(file.problem, 'measure and write {"injectedDelayMs": ..., "crossRegionRttMs": ..., "replicationLagMs": ...}');
      const injected = measurement(file.value.injectedDelayMs);
      const rtt = measurement(file.value.crossRegionRttMs);
      const lag = measurement(file.value.replicationLagMs);
      const gaps: string[] = [];
      if (injected !== d)
        gaps.push(
          `injectedDelayMs is ${JSON.stringify(file.value.injectedDelayMs)}; the links add ${d} ms each way (\`labforge health\` shows it)`,
        );
      // Nothing crosses a link faster than its delay; a query round trip crosses it twice.
      if (rtt === undefined || rtt < 2 * d * 0.9 || rtt > 2 * d + 250)
        gaps.push(
          `crossRegionRttMs is ${JSON.stringify(file.value.crossRegionRttMs)}; one query through a link takes about ${2 * d} ms (2 x ${d} ms), expected ${Math.floor(2 * d * 0.9)} to ${2 * d + 250}`,
        );
      if (lag === undefined || lag < d * 0.9 || lag > 2 * d + 2000)
        gaps.push(
          `replicationLagMs is ${JSON.stringify(file.value.replicationLagMs)}; WAL crosses the link once (${d} ms), expected ${Math.floor(d * 0.9)} to ${2 * d + 2000}`,
        );
      if (gaps.length > 0)
        return fail(
          gaps.join('\n'),
          'time one query on an open connection through a link (not the connection set-up), and a write on a primary until its replica in the other region shows it',
        );
      return pass(`injected ${d} ms each way; measured round trip ${rtt} ms, replication lag ${lag} ms`);
    }, DB_HINT),
};

export const FAULT_TOLERANCE_CHECKS: readonly Check[] = [route, failover, partition, latency];
