// The locally built apache/kafka:4.4.0 image: one KRaft broker+controller started through
// /etc/kafka/docker/run with KAFKA_* settings (node id from the hostname's ordinal, as the lab
// manifests do it), a PLAINTEXT and an SSL listener whose keystore passwords come from
// credential files in /etc/kafka/secrets (the official image's secret handling), read-only
// root with tmpfs data/config/logs/tmp; kcat produces and consumes from the host.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  builtImage,
  processIds,
  removeUnpacked,
  requireTools,
  reserveAddresses,
  rootIsReadOnly,
  run,
  RUNTIME_TOOLS,
  startContainer,
  sweepStale,
  unpack,
  waitFor,
  type Container,
  type UnpackedImage,
} from './images-runtime.js';

const TOPIC = 'lab.events';

describe('local image apache/kafka:4.4.0', () => {
  let unpacked: UnpackedImage | undefined;
  let broker: Container | undefined;
  const keys = mkdtempSync(join(tmpdir(), 'lf-kafka-keys-'));
  const storePassword = `ks-${Math.random().toString(36).slice(2)}`;

  afterAll(async () => {
    await broker?.stop();
    await removeUnpacked(unpacked);
    rmSync(keys, { recursive: true, force: true });
  });

  beforeAll(async () => {
    requireTools({
      ...RUNTIME_TOOLS,
      kcat: 'apt-get install -y kcat (scripts/setup.sh --test installs it)',
      keytool: 'apt-get install -y openjdk-17-jre-headless',
    });
    await sweepStale();
    unpacked = await unpack(builtImage('kafka'));
    // The advertised listeners and the certificate name the broker's address before it starts.
    const addresses = reserveAddresses();
    const nextIp = addresses.container;

    const keystore = join(keys, 'broker.p12');
    const keytool = await run('keytool', [
      '-genkeypair',
      '-alias',
      'broker',
      '-keyalg',
      'RSA',
      '-keysize',
      '2048',
      '-validity',
      '2',
      '-dname',
      'CN=kafka-0',
      '-ext',
      `SAN=ip:${nextIp}`,
      '-keystore',
      keystore,
      '-storetype',
      'PKCS12',
      '-storepass',
      storePassword,
      '-keypass',
      storePassword,
    ]);
    expect(keytool.code, keytool.stderr).toBe(0);
    expect(
      (
        await run('keytool', [
          '-exportcert',
          '-rfc',
          '-alias',
          'broker',
          '-keystore',
          keystore,
          '-storepass',
          storePassword,
          '-file',
          join(keys, 'ca.pem'),
        ])
      ).code,
    ).toBe(0);

    broker = await startContainer(unpacked, {
      name: 'kafka-0',
      user: { uid: 1000, gid: 1000 },
      command: ['sh', '-c', 'export KAFKA_NODE_ID="${HOSTNAME##*-}"; exec /etc/kafka/docker/run'],
      env: {
        CLUSTER_ID: 'bGFiZm9yZ2UtaW1hZ2VzLQ',
        KAFKA_PROCESS_ROLES: 'broker,controller',
        KAFKA_LISTENERS: 'PLAINTEXT://:9092,CONTROLLER://:9093,SSL://:9094',
        KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://${nextIp}:9092,SSL://${nextIp}:9094`,
        KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SSL:SSL',
        KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
        KAFKA_INTER_BROKER_LISTENER_NAME: 'PLAINTEXT',
        KAFKA_CONTROLLER_QUORUM_VOTERS: '0@kafka-0:9093',
        KAFKA_LOG_DIRS: '/var/lib/kafka/data',
        KAFKA_NUM_PARTITIONS: '3',
        KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
        KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
        KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
        KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
        KAFKA_HEAP_OPTS: '-Xms256m -Xmx256m',
        KAFKA_SSL_KEYSTORE_FILENAME: 'broker.p12',
        KAFKA_SSL_KEYSTORE_TYPE: 'PKCS12',
        KAFKA_SSL_KEYSTORE_CREDENTIALS: 'keystore-creds',
        KAFKA_SSL_KEY_CREDENTIALS: 'key-creds',
      },
      scratch: ['/var/lib/kafka/data', '/opt/kafka/config', '/opt/kafka/logs', '/tmp'],
      files: {
        '/etc/kafka/secrets/broker.p12': { content: readFileSync(keystore) },
        '/etc/kafka/secrets/keystore-creds': { content: storePassword },
        '/etc/kafka/secrets/key-creds': { content: storePassword },
      },
      memoryMiB: 768,
      addresses,
    });
    expect(broker.ip).toBe(nextIp);
    const container = broker;
    await waitFor(
      'broker metadata over PLAINTEXT',
      container,
      async () => (await run('kcat', ['-L', '-b', `${container.ip}:9092`, '-m', '3'])).stdout.includes('1 brokers:'),
      90_000,
    );
  }, 150_000);

  it('takes produced messages and serves them back to a consumer (kcat, PLAINTEXT)', async () => {
    const bootstrap = `${broker!.ip}:9092`;
    const produce = await run('kcat', ['-P', '-b', bootstrap, '-t', TOPIC, '-K', ':'], { input: 'a:first\nb:second\nc:third\n' });
    expect(produce.code, produce.stderr).toBe(0);
    const consume = await run('kcat', ['-C', '-b', bootstrap, '-t', TOPIC, '-o', 'beginning', '-c', '3', '-e', '-f', '%k=%s\n'], {
      timeoutMs: 30_000,
    });
    expect(consume.code, consume.stderr).toBe(0);
    expect(consume.stdout.trim().split('\n').sort()).toEqual(['a=first', 'b=second', 'c=third']);
    expect(processIds(await broker!.pid())).toEqual({ uid: 1000, gid: 1000 });
  });

  it('serves TLS with the keystore whose passwords came from /etc/kafka/secrets credential files', async () => {
    const tls = ['-b', `${broker!.ip}:9094`, '-X', 'security.protocol=ssl', '-X', `ssl.ca.location=${join(keys, 'ca.pem')}`];
    const produce = await run('kcat', ['-P', ...tls, '-t', TOPIC, '-K', ':'], { input: 'tls:over-ssl\n' });
    expect(produce.code, produce.stderr).toBe(0);
    const consume = await run('kcat', ['-C', ...tls, '-t', TOPIC, '-o', 'beginning', '-e', '-f', '%k=%s\n'], { timeoutMs: 30_000 });
    expect(consume.stdout).toContain('tls=over-ssl');
  });

  it('wrote server.properties from the KAFKA_* settings and runs its bin scripts (probe view); root stays read-only', async () => {
    const properties = await broker!.exec(['cat', '/opt/kafka/config/server.properties']);
    expect(properties.stdout).toMatch(/^node\.id=0$/m);
    expect(properties.stdout).toMatch(/^num\.partitions=3$/m);
    expect(properties.stdout).toMatch(/^ssl\.keystore\.password=/m);
    const describeTopic = await broker!.exec(
      ['/opt/kafka/bin/kafka-topics.sh', '--bootstrap-server', '127.0.0.1:9092', '--describe', '--topic', TOPIC],
      { timeoutMs: 45_000 },
    );
    expect(describeTopic.code, describeTopic.stderr).toBe(0);
    expect(describeTopic.stdout).toMatch(/PartitionCount: 3/);
    const write = await rootIsReadOnly(broker!);
    expect(write.stderr).toContain('Read-only file system');
  });
});
