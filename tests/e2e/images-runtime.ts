// Runs the locally built images (scripts/k8s/images.sh) the way a kubelet would, without
// Kubernetes: each container from its OCI archive's layer and config, under runc (as root),
// as a non-root uid with no capabilities, a read-only root filesystem, "emptyDirs" (0777 host
// directories, bind-mounted) at its writable paths, read-only bind mounts for ConfigMap- and
// Secret-like files, and a network namespace of its own joined to the host by a veth pair (no
// route beyond the machine).
// Everything is named lfimg-<pid>-..., so a later run removes what a killed one left.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
  closeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './helpers.js';
import { reportedElsewhere } from '../../constructs/model/quiet.js';

/** runc's state for these tests only (not containerd's, not a cluster's). */
const RUNC_ROOT = '/run/labforge-images-test';
const PREFIX = 'lfimg-';

export interface BuiltImage {
  readonly name: string;
  readonly ref: string;
  readonly digest: string;
  readonly archive: string;
  readonly version: string;
}

export interface ImageConfig {
  readonly Entrypoint?: string[];
  readonly Cmd?: string[];
  readonly Env?: string[];
  readonly WorkingDir?: string;
  readonly User?: string;
}

/** The cache's record of a built image; fails, saying how to build it, when there is none. */
export function builtImage(name: string): BuiltImage {
  const out = execFileSync('bash', [join(ROOT, 'scripts/k8s/images.sh'), 'list', '--json'], { encoding: 'utf8' });
  const row = (JSON.parse(out) as { images: (BuiltImage & { built: boolean })[] }).images.find((i) => i.name === name);
  if (!row?.built) throw new Error(`image '${name}' is not built: run scripts/k8s/images.sh build ${name} (scripts/setup.sh --test does)`);
  return row;
}

/** Fails with what to install when a tool the test needs is missing; root is needed for runc and netns. */
export function requireTools(tools: Readonly<Record<string, string>>): void {
  if (process.getuid?.() !== 0) throw new Error('the image tests run containers with runc and network namespaces: run them as root');
  for (const [tool, install] of Object.entries(tools)) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      throw new Error(`${tool} is missing: ${install}`);
    }
  }
}

export const RUNTIME_TOOLS = {
  runc: 'apt-get install -y runc',
  ip: 'apt-get install -y iproute2',
  mountpoint: 'apt-get install -y util-linux',
} as const;

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function run(
  cmd: string,
  args: readonly string[],
  options: { input?: string | Buffer; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = execFile(
      cmd,
      args,
      { timeout: options.timeoutMs ?? 30_000, encoding: 'utf8', maxBuffer: 16 << 20, env: options.env ?? process.env },
      (error, stdout, stderr) =>
        resolve({
          code: error ? (typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : 1) : 0,
          stdout,
          stderr,
        }),
    );
    child.stdin?.on('error', reportedElsewhere);
    child.stdin?.end(options.input ?? '');
  });
}

async function must(cmd: string, args: readonly string[]): Promise<string> {
  const result = await run(cmd, args);
  if (result.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${result.code}): ${result.stderr.trim()}`);
  return result.stdout;
}

/** An image unpacked from its archive: the layer as a root filesystem, and its run config. */
export interface UnpackedImage {
  readonly image: BuiltImage;
  readonly rootfs: string;
  readonly config: ImageConfig;
  readonly dir: string;
}

export async function unpack(image: BuiltImage): Promise<UnpackedImage> {
  const dir = mkdtempSync(join(tmpdir(), `${PREFIX}${process.pid}-${image.name}-`));
  // In memory: unpacking and removing a few hundred MB of small files on this disk takes longer
  // than the tests themselves. removeUnpacked unmounts it.
  await must('mount', ['-t', 'tmpfs', '-o', 'size=3g,mode=0755', 'lfimg', dir]);
  const rootfs = join(dir, 'rootfs');
  mkdirSync(rootfs);
  const blob = (digest: string) =>
    execFileSync('tar', ['-xOf', image.archive, `blobs/sha256/${digest.replace('sha256:', '')}`], { maxBuffer: 64 << 20 });
  const index = JSON.parse(execFileSync('tar', ['-xOf', image.archive, 'index.json'], { encoding: 'utf8' })) as {
    manifests: { digest: string }[];
  };
  if (index.manifests[0]?.digest !== image.digest)
    throw new Error(`${image.archive}: index names ${index.manifests[0]?.digest}, the cache says ${image.digest}`);
  const manifest = JSON.parse(blob(image.digest).toString()) as {
    config: { digest: string };
    layers: { digest: string; mediaType: string }[];
  };
  const config = (JSON.parse(blob(manifest.config.digest).toString()) as { config: ImageConfig }).config;
  for (const layer of manifest.layers) {
    const path = `blobs/sha256/${layer.digest.replace('sha256:', '')}`;
    const gz = layer.mediaType.endsWith('+gzip') ? 'z' : '';
    await must('sh', ['-c', `tar -xOf "$0" "$1" | tar -x${gz}f - --numeric-owner -C "$2"`, image.archive, path, rootfs]);
  }
  return { image, rootfs, config, dir };
}

export interface FileMount {
  readonly content: string | Buffer;
  /** Permission bits of the file (a Secret's default is 0644; 0600 needs the reader to own it). */
  readonly mode?: number;
}

export interface ContainerSpec {
  readonly name: string;
  readonly user: { readonly uid: number; readonly gid: number };
  readonly env?: Readonly<Record<string, string>>;
  /** Replaces the image's Entrypoint (Kubernetes `command`); args then default to none. */
  readonly command?: readonly string[];
  /** Replaces the image's Cmd (Kubernetes `args`). */
  readonly args?: readonly string[];
  /** Writable directories, like emptyDirs (host directories, 0777, owned by root). */
  readonly scratch: readonly string[];
  /** Read-only files bind-mounted at these paths (ConfigMap/Secret volumes). */
  readonly files?: Readonly<Record<string, FileMount>>;
  readonly memoryMiB?: number;
  /** From reserveAddresses(); a fresh pair by default. */
  readonly addresses?: Addresses;
}

export interface Container {
  readonly id: string;
  readonly ip: string;
  readonly hostname: string;
  logs(): string;
  /** Host pid of the container's first process (to check its uid from /proc). */
  pid(): Promise<number>;
  /** Runs a command in the container as its user, with its environment (a probe's view). */
  exec(args: readonly string[], options?: { env?: Readonly<Record<string, string>>; timeoutMs?: number }): Promise<RunResult>;
  exited(): boolean;
  stop(): Promise<void>;
}

let counter = 0;
let addressSlot = 0;

export interface Addresses {
  readonly host: string;
  readonly container: string;
}

/** A /30 per container: 10.213.X.(4k+1) on the host side, 4k+2 in the container. Reserve one
 * ahead (ContainerSpec.addresses) when settings must name the address before the start. */
export function reserveAddresses(): Addresses {
  const slot = addressSlot++;
  const third = (process.pid + Math.floor(slot / 64)) % 250;
  const base = (slot % 64) * 4;
  return { host: `10.213.${third}.${base + 1}`, container: `10.213.${third}.${base + 2}` };
}

export async function startContainer(unpacked: UnpackedImage, spec: ContainerSpec): Promise<Container> {
  const { host, container: ip } = spec.addresses ?? reserveAddresses();
  const n = counter++;
  const id = `${PREFIX}${process.pid}-${spec.name}-${n}`;
  const netns = id;
  const hostVeth = `lfi${process.pid % 100000}h${n}`.slice(0, 15);
  const peerVeth = `lfi${process.pid % 100000}c${n}`.slice(0, 15);
  const bundle = join(unpacked.dir, id);
  mkdirSync(join(bundle, 'files'), { recursive: true });
  const hostname = spec.name;

  await must('ip', ['netns', 'add', netns]);
  await must('ip', ['link', 'add', hostVeth, 'type', 'veth', 'peer', 'name', peerVeth]);
  await must('ip', ['link', 'set', peerVeth, 'netns', netns]);
  await must('ip', ['-n', netns, 'link', 'set', peerVeth, 'name', 'eth0']);
  await must('ip', ['-n', netns, 'addr', 'add', `${ip}/30`, 'dev', 'eth0']);
  await must('ip', ['-n', netns, 'link', 'set', 'eth0', 'up']);
  await must('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
  await must('ip', ['addr', 'add', `${host}/30`, 'dev', hostVeth]);
  await must('ip', ['link', 'set', hostVeth, 'up']);

  // What a kubelet gives every container: hosts, hostname and resolv.conf files, HOSTNAME.
  const files: Record<string, FileMount> = {
    '/etc/hosts': { content: `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n${ip}\t${hostname}\n` },
    '/etc/hostname': { content: `${hostname}\n` },
    '/etc/resolv.conf': { content: '' },
    ...spec.files,
  };
  const bindMounts = Object.entries(files).map(([target, file], i) => {
    const source = join(bundle, 'files', String(i));
    writeFileSync(source, file.content, { mode: file.mode ?? 0o644 });
    return { destination: target, type: 'bind', source, options: ['rbind', 'ro', 'nosuid', 'nodev'] };
  });
  // emptyDirs as a kubelet makes them: host directories, mode 0777, bind-mounted.
  const scratchMounts = spec.scratch.map((destination, i) => {
    const source = join(bundle, 'scratch', String(i));
    mkdirSync(source, { recursive: true });
    chmodSync(source, 0o777);
    return { destination, type: 'bind', source, options: ['rbind', 'rw', 'nosuid', 'nodev'] };
  });
  const env = new Map<string, string>();
  for (const entry of unpacked.config.Env ?? []) env.set(entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1));
  env.set('HOSTNAME', hostname);
  for (const [key, value] of Object.entries(spec.env ?? {})) env.set(key, value);
  const entrypoint = spec.command ?? unpacked.config.Entrypoint ?? [];
  const args = spec.args ?? (spec.command ? [] : (unpacked.config.Cmd ?? []));
  const noCaps = { bounding: [], effective: [], permitted: [], inheritable: [], ambient: [] };

  const config = {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: { uid: spec.user.uid, gid: spec.user.gid, additionalGids: [spec.user.gid] },
      args: [...entrypoint, ...args],
      env: [...env].map(([k, v]) => `${k}=${v}`),
      cwd: unpacked.config.WorkingDir || '/',
      capabilities: noCaps,
      noNewPrivileges: true,
    },
    root: { path: unpacked.rootfs, readonly: true },
    hostname,
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      {
        destination: '/dev/pts',
        type: 'devpts',
        source: 'devpts',
        options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'],
      },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      ...scratchMounts,
      ...bindMounts,
    ],
    linux: {
      namespaces: [
        { type: 'pid' },
        { type: 'ipc' },
        { type: 'uts' },
        { type: 'mount' },
        { type: 'network', path: `/var/run/netns/${netns}` },
      ],
      cgroupsPath: `/${id}`,
      resources: { memory: { limit: (spec.memoryMiB ?? 1024) * 1048576 } },
      maskedPaths: [
        '/proc/acpi',
        '/proc/kcore',
        '/proc/keys',
        '/proc/latency_stats',
        '/proc/timer_list',
        '/proc/timer_stats',
        '/proc/sched_debug',
        '/sys/firmware',
      ],
      readonlyPaths: ['/proc/asound', '/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
  writeFileSync(join(bundle, 'config.json'), JSON.stringify(config, null, 2));

  const logPath = join(bundle, 'container.log');
  const log = openSync(logPath, 'w');
  mkdirSync(RUNC_ROOT, { recursive: true });
  const child: ChildProcess = spawn('runc', ['--root', RUNC_ROOT, 'run', '--bundle', bundle, id], { stdio: ['ignore', log, log] });
  closeSync(log);
  let exited = false;
  const done = new Promise<void>((resolve) => child.on('close', () => ((exited = true), resolve())));

  const handle: Container = {
    id,
    ip,
    hostname,
    logs: () => (existsSync(logPath) ? readFileSync(logPath, 'utf8') : ''),
    exited: () => exited,
    async pid() {
      const state = JSON.parse(await must('runc', ['--root', RUNC_ROOT, 'state', id])) as { pid: number };
      return state.pid;
    },
    exec(argv, options = {}) {
      const envArgs = Object.entries(options.env ?? {}).flatMap(([k, v]) => ['--env', `${k}=${v}`]);
      return run('runc', ['--root', RUNC_ROOT, 'exec', '--user', `${spec.user.uid}:${spec.user.gid}`, ...envArgs, id, ...argv], {
        timeoutMs: options.timeoutMs ?? 30_000,
      });
    },
    async stop() {
      if (!exited) await run('runc', ['--root', RUNC_ROOT, 'kill', id, 'KILL']);
      await Promise.race([done, new Promise((r) => setTimeout(r, 5000))]);
      await run('runc', ['--root', RUNC_ROOT, 'delete', '--force', id]);
      await run('ip', ['netns', 'delete', netns]);
      await run('ip', ['link', 'delete', hostVeth]);
      rmSync(bundle, { recursive: true, force: true });
    },
  };
  return handle;
}

/** Polls `check` until it returns true; on timeout fails with the container's log tail. */
export async function waitFor(what: string, container: Container, check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (container.exited()) throw new Error(`${container.id} exited before ${what}; its log:\n${tail(container.logs())}`);
    if (await check().catch(() => false)) return Date.now() - started;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${container.id}: no ${what} within ${timeoutMs / 1000} s; its log:\n${tail(container.logs())}`);
}

export function tail(text: string, lines = 40): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** Removes containers, network namespaces, veths and unpacked images of test runs whose process is gone. */
export async function sweepStale(): Promise<void> {
  const alive = (pid: number) => existsSync(`/proc/${pid}`);
  const stalePid = (name: string) => {
    const match = new RegExp(`^${PREFIX}(\\d+)-`).exec(name);
    return match !== null && !alive(Number(match[1]));
  };
  if (existsSync(RUNC_ROOT)) {
    for (const id of readdirSync(RUNC_ROOT)) if (stalePid(id)) await run('runc', ['--root', RUNC_ROOT, 'delete', '--force', id]);
  }
  const namespaces = (await run('ip', ['netns', 'list'])).stdout.split('\n').map((l) => l.split(' ')[0] ?? '');
  for (const ns of namespaces) if (ns && stalePid(ns)) await run('ip', ['netns', 'delete', ns]);
  for (const entry of readdirSync(tmpdir())) if (stalePid(entry)) await removeDir(join(tmpdir(), entry));
  for (const link of (await run('ip', ['-o', 'link', 'show'])).stdout.split('\n')) {
    const name = /^\d+: (lfi(\d+)[hc]\d+)[@:]/.exec(link);
    if (name && !alive(Number(name[2]))) await run('ip', ['link', 'delete', name[1]!]);
  }
}

/** Checks that the container's root filesystem refuses writes. */
export async function rootIsReadOnly(container: Container, path = '/usr/local/labforge-write-test'): Promise<RunResult> {
  return container.exec(['sh', '-c', `echo x > ${path}`]);
}

/** The uid and gid a host process runs with (from /proc). */
export function processIds(pid: number): { uid: number; gid: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
  const gid = Number(/^Gid:\s+(\d+)/m.exec(status)?.[1]);
  return { uid, gid };
}

export async function removeUnpacked(unpacked: UnpackedImage | undefined): Promise<void> {
  if (unpacked) await removeDir(unpacked.dir);
}

/** Unmounts (when mounted) and removes a directory of these tests. */
async function removeDir(dir: string): Promise<void> {
  if ((await run('mountpoint', ['-q', dir])).code === 0) await run('umount', ['-l', dir]);
  rmSync(dir, { recursive: true, force: true });
}
