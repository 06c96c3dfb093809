// Every built archive imports into containerd under its official ref with the digest the
// cache's index records (what `ctr -n k8s.io images import` does on a cluster node), and
// containerd runs each image's main program from its snapshot, read-only, as the image's user.
// A private containerd (its own root, state, socket, namespace) that the test removes again.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtImage, requireTools, run, tail, type BuiltImage } from './images-runtime.js';

const NAMES = ['postgres', 'redis', 'rabbitmq', 'kafka', 'node'] as const;
// The image's own program as the image's user: proof the layer unpacked whole. ctr 1.6 has no
// --user: the root-by-default images step down with gosu (their entrypoints' way; node with
// setpriv, as it has no gosu), kafka runs as the image config's User.
const VERSION_COMMANDS: Record<(typeof NAMES)[number], { args: string[]; expect: RegExp }> = {
  postgres: { args: ['gosu', 'postgres', 'sh', '-c', 'id -u; postgres --version'], expect: /^999\npostgres \(PostgreSQL\) 17\./ },
  redis: { args: ['gosu', 'redis', 'sh', '-c', 'id -u; redis-server --version'], expect: /^999\nRedis server v=8\./ },
  rabbitmq: {
    args: ['gosu', 'rabbitmq', 'sh', '-c', 'id -u; ls /opt/rabbitmq/plugins | grep -c rabbitmq_prometheus'],
    expect: /^999\n[1-9]/,
  },
  kafka: { args: ['sh', '-c', 'id -u; java -cp "/opt/kafka/libs/*" kafka.Kafka --version 2>/dev/null'], expect: /^1000\n4\.4\.0/ },
  node: {
    args: [
      'setpriv',
      '--reuid',
      '1000',
      '--regid',
      '1000',
      '--clear-groups',
      'node',
      '-p',
      '`${process.getuid()}\n${process.versions.node}`',
    ],
    expect: /^1000\n2[2-9]\./,
  },
};

describe('local images in containerd', () => {
  const dir = `/run/lfimg-${process.pid}-containerd`;
  const namespace = `lfimg-${process.pid}`;
  const socket = join(dir, 'containerd.sock');
  let containerd: ChildProcess | undefined;
  const images = new Map<string, BuiltImage>();
  const ctr = (args: string[], timeoutMs = 120_000) => run('ctr', ['--address', socket, '--namespace', namespace, ...args], { timeoutMs });

  afterAll(async () => {
    if (containerd && containerd.exitCode === null) {
      containerd.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 500));
      if (containerd.exitCode === null) containerd.kill('SIGKILL');
    }
    // Snapshot mounts of a container that did not stop and the tmpfs itself, then its directory.
    const mounts = readFileSync('/proc/self/mounts', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[1] ?? '')
      .filter((m) => m.startsWith(dir));
    for (const mount of mounts.reverse()) await run('umount', ['-l', mount]);
    rmSync(dir, { recursive: true, force: true });
    rmSync(`/run/containerd/runc/${namespace}`, { recursive: true, force: true });
    for (const controller of existsSync('/sys/fs/cgroup') ? readdirSync('/sys/fs/cgroup') : []) {
      const group = join('/sys/fs/cgroup', controller, namespace);
      if (existsSync(group))
        for (const child of [...readdirSync(group, { withFileTypes: true })].filter((e) => e.isDirectory()))
          await run('rmdir', [join(group, child.name)]);
      if (existsSync(group)) await run('rmdir', [group]);
    }
  });

  beforeAll(async () => {
    requireTools({ containerd: 'apt-get install -y containerd', ctr: 'apt-get install -y containerd', runc: 'apt-get install -y runc' });
    for (const name of NAMES) images.set(name, builtImage(name));
    mkdirSync(dir, { recursive: true });
    // Content store and snapshots in memory (about 3.5 GB for the five images): on this disk,
    // writing and later removing them took over a minute.
    const mounted = await run('mount', ['-t', 'tmpfs', '-o', 'size=8g,mode=0711', 'lfimg-containerd', dir]);
    if (mounted.code !== 0) throw new Error(`mount tmpfs on ${dir}: ${mounted.stderr}`);
    // Only what import and run need: no CRI (that is the cluster's containerd), no network.
    writeFileSync(
      join(dir, 'config.toml'),
      [
        'version = 2',
        `root = "${dir}/root"`,
        `state = "${dir}/state"`,
        'disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]',
        '[grpc]',
        `  address = "${socket}"`,
        '[ttrpc]',
        `  address = "${dir}/containerd.sock.ttrpc"`,
        '[debug]',
        `  address = ""`,
        '[metrics]',
        '  address = ""',
        '',
      ].join('\n'),
    );
    const log = openSync(join(dir, 'containerd.log'), 'w');
    containerd = spawn('containerd', ['--config', join(dir, 'config.toml')], { stdio: ['ignore', log, log] });
    closeSync(log);
    const started = Date.now();
    while ((await ctr(['version'], 5000)).code !== 0) {
      if (Date.now() - started > 20_000 || containerd.exitCode !== null)
        throw new Error(`containerd did not answer on ${socket}:\n${tail(readFileSync(join(dir, 'containerd.log'), 'utf8'))}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  });

  it('imports every archive under its official ref with the recorded digest', async () => {
    for (const image of images.values()) {
      const result = await ctr(['images', 'import', image.archive], 180_000);
      expect(result.code, `${image.archive}: ${result.stderr}`).toBe(0);
    }
    const listed = (await ctr(['images', 'ls'])).stdout
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.split(/\s+/));
    for (const image of images.values()) {
      const row = listed.find(([ref]) => ref === image.ref);
      expect(row, `${image.ref} not in ctr images ls`).toBeDefined();
      expect(row![2]).toBe(image.digest);
    }
  }, 300_000);

  it.each(NAMES)(
    'runs %s from its containerd snapshot, read-only, as the image user',
    async (name) => {
      const image = images.get(name)!;
      const command = VERSION_COMMANDS[name];
      const id = `${namespace}-${name}`;
      const result = await ctr(
        ['run', '--rm', '--read-only', '--runc-root', `/run/containerd/runc/${namespace}`, image.ref, id, ...command.args],
        60_000,
      );
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout.trim()).toMatch(command.expect);
    },
    90_000,
  );
});
