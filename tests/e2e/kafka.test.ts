// A real 3-broker KRaft cluster from the cached jars, run as the lab's run-as user: topics with
// RF 3, the probe (leaders, full ISR, round trip), kcat as an independent client, a broker killed
// with SIGKILL (writes with acks=all still succeed, the probe says degraded), then a stop that
// leaves no process, no listening port and a removable directory.
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeKafka } from '../../health/kafka.js';
import { resolveRunAs } from '../../constructs/local/identity.js';
import {
  createKafkaTopics,
  prepareKafkaCluster,
  startKafkaCluster,
  stopKafkaCluster,
  waitKafkaReady,
  type KafkaCluster,
} from '../../constructs/local/kafka.js';
import { KAFKA_VERSION } from '../../constructs/local/kafka-dist.js';
import { ExternalError } from '../../constructs/model/errors.js';
import { isListening, pickFreePort } from '../../constructs/local/ports.js';
import { isAlive, stopProcess, type ProcessRecord } from '../../constructs/local/proc.js';
import { processesUsing, until } from './helpers.js';
import { reportedElsewhere } from '../../constructs/model/quiet.js';

const TOPIC = 'orders.events';

function run(cmd: string, args: string[], input?: string, timeout = 20_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { timeout, encoding: 'utf8' }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    // A client that exits before reading its input reports that through its exit code; the
    // broken pipe on our side is not a separate failure.
    child.stdin?.on('error', reportedElsewhere);
    child.stdin?.end(input ?? '');
  });
}

describe('local Kafka cluster (KRaft, 3 brokers)', () => {
  const parent = mkdtempSync(join(tmpdir(), 'labforge-kafka-'));
  // The brokers run as the `labforge` user when root runs the tests: let it reach the cluster dir.
  chmodSync(parent, 0o755);
  const dir = join(parent, 'events');
  const processes: ProcessRecord[] = [];
  let cluster: KafkaCluster;
  let ports: number[] = [];

  // Teardown registered before anything starts: whatever fails, nothing is left running.
  afterAll(async () => {
    await Promise.all(processes.map((p) => stopProcess(p, 'SIGKILL', 2000)));
    rmSync(parent, { recursive: true, force: true });
  });

  beforeAll(async () => {
    const kcat = await run('kcat', ['-V']);
    if (kcat.code !== 0) throw new Error('kcat is missing: apt-get install -y kcat (scripts/setup.sh --test installs it)');
    // The pom and the TS constant must name the same Kafka.
    const pom = readFileSync(new URL('../../scripts/kafka/pom.xml', import.meta.url), 'utf8');
    expect(/<kafka\.version>(.+)<\/kafka\.version>/.exec(pom)?.[1]).toBe(KAFKA_VERSION);

    const used = new Set<number>();
    for (let i = 0; i < 6; i++) used.add(await pickFreePort(used));
    ports = [...used];
    const nodes = [0, 1, 2].map((i) => ({ client: ports[2 * i]!, controller: ports[2 * i + 1]! }));
    try {
      cluster = await prepareKafkaCluster({ dir, runAs: resolveRunAs(), nodes, path: 'test/events' });
    } catch (error) {
      // Missing jars must fail the run (never skip) and say how to get them.
      if (error instanceof ExternalError) throw new Error(`${error.message}: ${error.hint ?? ''}`, { cause: error });
      throw error;
    }
    const started = performance.now();
    processes.push(...startKafkaCluster(cluster));
    await waitKafkaReady(cluster, processes, 60_000);
    const ready = performance.now() - started;
    await createKafkaTopics(cluster, [TOPIC]);
    console.log(`kafka: 3 brokers ready in ${Math.round(ready)} ms, topics in ${Math.round(performance.now() - started - ready)} ms`);
  }, 120_000);

  it('runs every broker as the run-as user, listening on 127.0.0.1 only', () => {
    const runAs = resolveRunAs();
    for (const p of processes) expect(readFileSync(`/proc/${p.pid}/status`, 'utf8')).toMatch(new RegExp(`^Uid:\\s+${runAs.uid}\\s`, 'm'));
    const tcp = readFileSync('/proc/net/tcp', 'utf8').split('\n');
    for (const port of ports) {
      const hex = port.toString(16).toUpperCase().padStart(4, '0');
      const local = tcp.filter((l) => / 0A /.test(l) && l.trim().split(/\s+/)[1]?.endsWith(`:${hex}`)).map((l) => l.trim().split(/\s+/)[1]);
      expect(local).toEqual([`0100007F:${hex}`]);
    }
    expect(
      readFileSync('/proc/net/tcp6', 'utf8')
        .split('\n')
        .filter((l) => / 0A /.test(l) && ports.some((p) => l.includes(`:${p.toString(16).toUpperCase().padStart(4, '0')} `))),
    ).toEqual([]);
  });

  it('the probe sees every partition led with a full ISR of 3 and round-trips a message', async () => {
    const result = await probeKafka(
      'events (kafka)',
      { bootstrap: cluster.bootstrap, topics: [TOPIC], replicationFactor: 3 },
      { attempts: 3 },
    );
    expect(result.status, result.detail).toBe('healthy');
    expect(result.ok).toBe(true);
    expect(result.view?.brokers).toEqual([1, 2, 3]);
    const topic = result.view!.partitions.filter((p) => p.topic === TOPIC);
    expect(topic).toHaveLength(3);
    for (const p of topic) {
      expect(p.replicas).toHaveLength(3);
      expect([...p.isr].sort()).toEqual([...p.replicas].sort());
    }
  });

  it('kcat, an independent client, agrees on the metadata and can produce and consume', async () => {
    const bootstrap = cluster.bootstrap.join(',');
    const meta = await run('kcat', ['-b', bootstrap, '-L', '-J', '-t', TOPIC]);
    expect(meta.code, meta.stderr).toBe(0);
    const parsed = JSON.parse(meta.stdout) as {
      brokers: unknown[];
      topics: Array<{ partitions: Array<{ replicas: unknown[]; isrs: unknown[] }> }>;
    };
    expect(parsed.brokers).toHaveLength(3);
    expect(parsed.topics[0]!.partitions.map((p) => [p.replicas.length, p.isrs.length])).toEqual([
      [3, 3],
      [3, 3],
      [3, 3],
    ]);

    const message = `kcat-${Date.now()}`;
    const produced = await run('kcat', ['-b', bootstrap, '-P', '-t', TOPIC, '-p', '1', '-X', 'acks=all'], `${message}\n`);
    expect(produced.code, produced.stderr).toBe(0);
    const consumed = await run('kcat', ['-b', bootstrap, '-C', '-t', TOPIC, '-p', '1', '-o', 'beginning', '-e', '-q']);
    expect(consumed.code, consumed.stderr).toBe(0);
    expect(consumed.stdout.split('\n')).toContain(message);
  });

  it('with one broker killed (SIGKILL), acks=all writes still succeed and the probe reports degraded', async () => {
    const victim = processes[1]!;
    process.kill(victim.pid, 'SIGKILL');
    await until('killed broker gone', 5000, async () => (isAlive(victim) ? undefined : true));
    const survivors = cluster.bootstrap.filter((_, i) => i !== 1).join(',');

    // librdkafka retries while leadership moves off the dead broker; min.insync.replicas 2 is met.
    const message = `after-kill-${Date.now()}`;
    const produced = await run(
      'kcat',
      ['-b', survivors, '-P', '-t', TOPIC, '-p', '0', '-X', 'acks=all', '-X', 'message.timeout.ms=20000'],
      `${message}\n`,
      30_000,
    );
    expect(produced.code, produced.stderr).toBe(0);
    const consumed = await run('kcat', ['-b', survivors, '-C', '-t', TOPIC, '-p', '0', '-o', 'beginning', '-e', '-q']);
    expect(consumed.stdout.split('\n')).toContain(message);

    // Once the controller fences the dead broker (3 s session), every partition has a leader and
    // the ISRs lose it: degraded, not down, and the probe's own round trip works.
    const degraded = await until('probe reports degraded', 20_000, async () => {
      const r = await probeKafka(
        'events (kafka)',
        { bootstrap: cluster.bootstrap, topics: [TOPIC], replicationFactor: 3 },
        { attempts: 1, timeoutMs: 3000 },
      );
      return r.status === 'degraded' ? r : undefined;
    });
    expect(degraded.ok).toBe(false);
    expect(degraded.detail).toMatch(/ISR short on \d+ of \d+ partitions/);
    expect(degraded.detail).toMatch(/produce \(acks=all\) and fetch/);
    expect(degraded.view?.brokers).toEqual([1, 3]);
    for (const p of degraded.view!.partitions) expect(p.isr).not.toContain(2);
  }, 60_000);

  it('stop ends every broker: no process of the cluster, no listening port, directory removable', async () => {
    const started = performance.now();
    await stopKafkaCluster(cluster, processes);
    console.log(`kafka: stop in ${Math.round(performance.now() - started)} ms`);
    for (const p of processes) expect(isAlive(p)).toBe(false);
    expect(processesUsing(dir)).toEqual([]);
    for (const port of ports) expect(await isListening(port)).toBe(false);
    rmSync(dir, { recursive: true });
    expect(existsSync(dir)).toBe(false);
  }, 30_000);
});
