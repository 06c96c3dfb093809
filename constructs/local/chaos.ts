// The failure drill of the expert lab: `labforge chaos <lab> <action>`. Each action does one
// real thing to real processes (SIGKILL, promotion, cutting links), records what changed in the
// state, and says what the learner should observe next.
//
//   kill-primary <shard>  SIGKILL the shard's primary, promote its replica (pg_promote), repoint
//                         every API (shard map file + SIGHUP). The shard keeps serving; it has no
//                         replica until `labforge up` rebuilds the old primary as one.
//   kill-broker <n>       SIGKILL Kafka broker n (1..3): ISRs shrink, produce/consume continue
//                         (RF 3, min.insync.replicas 2); `labforge up` restarts it.
//   partition <region>    cut every link touching the region (its delay proxies reset every
//                         connection and refuse new ones); `labforge health` names the cut links.
//   heal                  restore every cut link.
import { request } from 'node:http';
import { UsageError, ExternalError } from '../model/errors.js';
import { shardFor } from '../model/shard.js';
import { readDelayProxyState, healDelayProxy, partitionDelayProxy } from './delay-proxy.js';
import { writeShardMap } from './drivers/api.js';
import { linkProps } from './drivers/proxy.js';
import { shardLabel, slotFor } from './drivers/shard.js';
import { endpointFrom, kafkaNodeCount, linkId, linksTouching, primaryOf } from './expert.js';
import { existingLab, readSecrets, readState, writeState, type LabState } from './home.js';
import { acquireLock } from './lock.js';
import { isAlive, stopProcess, type ProcessRecord } from './proc.js';
import { promoteReplica } from './replica.js';
import { httpUrl } from '../model/urls.js';
import type { ChaosAction, ChaosReport } from '../model/chaos.js';
import { fieldOf } from '../model/json.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function get(url: string, timeoutMs = 1000): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, timeout: timeoutMs, headers: { connection: 'close' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) });
        } catch {
          resolve({ status: res.statusCode ?? 0, body: text });
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** A key (an email) that routes to `shard`, for the learner to try. */
export function keyForShard(shard: number, shards: number): string {
  for (let i = 1; ; i++) if (shardFor(`learner${i}@example.com`, shards) === shard) return `learner${i}@example.com`;
}

async function killPrimary(state: LabState, shard: number, did: string[]): Promise<void> {
  const all = state.components;
  const shards = new Set(all.filter((c) => c.kind === 'shard').map((c) => c.shard!));
  if (!shards.has(shard))
    throw new UsageError(`shard ${shard} does not exist in lab '${state.name}' (shards: ${[...shards].sort().join(', ')})`);
  const primary = primaryOf(all, shard)!;
  const replica = all.find((c) => c.kind === 'shard' && c.role === 'replica' && c.replicaOf === primary.id && !c.rebuild);
  if (!replica)
    throw new ExternalError(
      `shard ${shard} has no replica to promote (its primary is ${primary.id})`,
      `\`labforge up ${state.name}\` rebuilds the replica first`,
    );
  if (!replica.process || !isAlive(replica.process))
    throw new ExternalError(`the replica of shard ${shard}, ${replica.id}, is not running`, `\`labforge up ${state.name}\` restarts it`);
  const pid = primary.process?.pid;
  if (primary.process) await stopProcess(primary.process, 'SIGKILL', 1000);
  did.push(
    `killed the primary of shard ${shard}: ${primary.id} in region ${primary.region} (SIGKILL${pid ? `, pid ${pid}` : ''}; it was ${primary.process && isAlive(primary.process) ? 'still' : 'already not'} running)`,
  );
  const ms = await promoteReplica(replica, state.runAs);
  did.push(
    `promoted ${replica.id} in region ${replica.region} (pg_promote, first write accepted after ${ms} ms): shard ${shard}'s primary is now ${replica.host}:${replica.port}`,
  );
  // The roles swap; the old primary becomes a replica that `up` makes again from the new primary.
  replica.role = 'primary';
  replica.replicaOf = undefined;
  replica.slot = undefined;
  replica.uses = [];
  primary.role = 'replica';
  primary.replicaOf = replica.id;
  primary.slot = slotFor(primary.id);
  primary.rebuild = true;
  primary.uses = [replica.id, linkId(primary.region!, replica.id)];
}

/** Repoints every API instance: its shard map file is rewritten and it gets SIGHUP; waits until each answers with the new primary. */
async function repointApis(state: LabState, home: string, shard: number, did: string[]): Promise<void> {
  const secrets = readSecrets(existingLab(home, state.name));
  const all = state.components;
  const primary = primaryOf(all, shard)!;
  const shards = new Set(all.filter((c) => c.kind === 'shard').map((c) => c.shard!)).size;
  const key = encodeURIComponent(keyForShard(shard, shards));
  const apis = all.filter((c) => c.kind === 'api' && c.process && isAlive(c.process));
  await Promise.all(
    apis.map(async (api) => {
      writeShardMap(api, all, secrets, state.runAs);
      process.kill(api.process!.pid, 'SIGHUP');
      const want = endpointFrom(all, api.region!, primary);
      const deadline = Date.now() + 5000;
      for (;;) {
        const got = await get(httpUrl({ host: api.host, port: api.port, path: `/shards/${key}` })).catch(() => undefined);
        if (fieldOf(got?.body, 'primary') === `${want.host}:${want.port}`) break;
        if (Date.now() > deadline) throw new ExternalError(`${api.id} did not pick up the new shard map within 5 s`, `see ${api.logFile}`);
        await sleep(50);
      }
      did.push(
        `repointed ${api.id} (region ${api.region}): shard ${shard} -> ${primary.id} at ${want.host}:${want.port}${want.via ? ` via ${want.via.id} (+${want.via.delayMs} ms each way)` : ' (same region)'}`,
      );
    }),
  );
}

async function killBroker(state: LabState, broker: number, did: string[], observe: string[]): Promise<void> {
  const kafka = state.components.find((c) => c.kind === 'kafka');
  if (!kafka) throw new UsageError(`lab '${state.name}' has no Kafka cluster`);
  const n = kafkaNodeCount(kafka);
  if (!Number.isInteger(broker) || broker < 1 || broker > n) throw new UsageError(`broker must be 1 to ${n}, got ${broker}`);
  const record: ProcessRecord | undefined = broker === 1 ? kafka.process : kafka.helpers?.[`broker-${broker}`];
  if (!record || !isAlive(record))
    throw new ExternalError(`broker ${broker} of ${kafka.id} is not running`, `\`labforge up ${state.name}\` restarts it`);
  await stopProcess(record, 'SIGKILL', 2000);
  did.push(`killed Kafka broker ${broker} (SIGKILL, pid ${record.pid}); it was also one of the 3 KRaft controllers`);
  observe.push(
    `within ~3 s the controller fences broker ${broker}: partitions it led get new leaders and every ISR drops it`,
    `\`labforge health ${state.name}\`: ${kafka.id} (kafka) fails with "broker-${broker} gone; cluster degraded: ISR short on ..." while its produce/fetch round trip still works`,
    'writes keep working: topics have replication factor 3 and min.insync.replicas 2, so acks=all needs 2 of 3 (one more broker lost would stop them)',
    `the consumer keeps consuming (X-Event on API writes names topic/partition@offset; consumer-r1's seen.jsonl grows)`,
    `\`labforge up ${state.name}\` restarts broker ${broker}; it catches up and rejoins every ISR`,
  );
}

async function partition(state: LabState, region: number, did: string[], observe: string[]): Promise<void> {
  const regions = state.regions ?? 1;
  if (!Number.isInteger(region) || region < 0 || region >= regions)
    throw new UsageError(`region must be 0 to ${regions - 1} in lab '${state.name}', got ${region}`);
  const all = state.components;
  const links = linksTouching(all, region);
  for (const link of links) {
    if (!link.process || !isAlive(link.process))
      throw new ExternalError(`${link.id} is not running`, `\`labforge up ${state.name}\` restarts it, then partition again`);
    await partitionDelayProxy(linkProps(link, all), link.process);
  }
  did.push(
    `cut ${links.length} links touching region ${region} (each resets its connections and refuses new ones): ${links.map((l) => l.id).join(', ')}`,
  );
  const replicas = all.filter(
    (c) => c.kind === 'shard' && c.role === 'replica' && links.some((l) => l.region === c.region && l.target === c.replicaOf),
  );
  for (const r of replicas)
    observe.push(`${shardLabel(r)} is disconnected from its primary ${r.replicaOf}: reads there go stale (its lag grows with every write)`);
  for (const api of all.filter((c) => c.kind === 'api')) {
    const far = all.filter(
      (s) =>
        s.kind === 'shard' &&
        s.role === 'primary' &&
        s.region !== api.region &&
        links.some((l) => l.region === api.region && l.target === s.id),
    );
    if (far.length > 0)
      observe.push(
        `${api.id} (region ${api.region}) cannot reach shard ${far.map((s) => s.shard).join(', ')}: writes for those keys fail (503), its /health says degraded; keys of reachable shards still work`,
      );
  }
  for (const consumer of all.filter(
    (c) => c.kind === 'consumer' && links.some((l) => l.region === c.region && l.targetNode !== undefined),
  )) {
    observe.push(
      `${consumer.id} cannot reach Kafka: events keep being written in region 0 but are not consumed in region ${consumer.region} until heal`,
    );
  }
  observe.push(
    `\`labforge health ${state.name}\` exits 1 and names every cut link; \`labforge chaos ${state.name} heal\` restores them and the replicas and the consumer catch up`,
  );
}

async function heal(state: LabState, did: string[], observe: string[]): Promise<void> {
  const all = state.components;
  const cut = all.filter((c) => c.kind === 'proxy' && readDelayProxyState(linkProps(c, all))?.state === 'partitioned');
  for (const link of cut) {
    if (!link.process || !isAlive(link.process)) continue; // a restarted proxy starts open
    await healDelayProxy(linkProps(link, all), link.process);
  }
  did.push(cut.length > 0 ? `healed ${cut.length} links: ${cut.map((l) => l.id).join(', ')}` : 'no link was cut; nothing to heal');
  observe.push(
    'replicas reconnect within ~1 s (they retry every 200 ms) and replay what they missed from their slot',
    `the consumer rejoins its group and consumes the events it missed; \`labforge health ${state.name}\` passes again once they caught up`,
  );
}

/** Runs one chaos action on a running expert lab (holding its lock, so no `up` or `down` runs meanwhile). */
export async function chaosLab(home: string, name: string, action: ChaosAction): Promise<ChaosReport> {
  const started = performance.now();
  const layout = existingLab(home, name);
  const lock = acquireLock(layout.lockFile, name, 'chaos');
  const did: string[] = [];
  const observe: string[] = [];
  try {
    const state = readState(layout)!;
    if ((state.regions ?? 1) < 2)
      throw new UsageError(`chaos needs a lab with regions (the expert lab); '${name}' is a ${state.level} lab`);
    switch (action.action) {
      case 'kill-primary': {
        await killPrimary(state, action.shard, did);
        writeState(layout, state);
        await repointApis(state, home, action.shard, did);
        const promoted = primaryOf(state.components, action.shard)!;
        const old = state.components.find((c) => c.replicaOf === promoted.id)!;
        const shards = new Set(state.components.filter((c) => c.kind === 'shard').map((c) => c.shard!)).size;
        const key = keyForShard(action.shard, shards);
        observe.push(
          `shard ${action.shard} keeps serving: a user whose email routes to it (e.g. ${key}) can register, log in and write notes through either region's load balancer`,
          `GET /shards/${key} on any API now names ${promoted.id}'s address as the primary`,
          `writes acknowledged by ${old.id} but not yet replayed on ${promoted.id} when it died are lost (asynchronous replication): compare what you wrote last`,
          `shard ${action.shard} has NO replica now: \`labforge health ${name}\` fails on ${old.id} (not running, rebuild pending) until \`labforge up ${name}\` rebuilds it as a replica of ${promoted.id} (pg_basebackup over ${linkId(old.region!, promoted.id)})`,
        );
        break;
      }
      case 'kill-broker':
        await killBroker(state, action.broker, did, observe);
        break;
      case 'partition':
        await partition(state, action.region, did, observe);
        break;
      case 'heal':
        await heal(state, did, observe);
        break;
    }
    writeState(layout, state);
  } finally {
    lock.release();
  }
  return { lab: name, action: action.action, did, observe, seconds: Number(((performance.now() - started) / 1000).toFixed(2)) };
}
