// Test harness for the practice cluster (scripts/k8s/cluster.sh): a real one-node Kubernetes
// cluster (kubelet, containerd, runc, CNI bridge, kube-proxy, CoreDNS, NetworkPolicy enforcer,
// metrics-server) in namespaces of its own. `ensurePracticeCluster(name)` starts one (or reuses a
// running one of that name) and returns its kubeconfig and a teardown. It never builds: the
// binaries and images come from the cache `scripts/setup.sh --test` fills; when something is
// missing it throws, saying what to install or run.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export const CLUSTER_SH = join(import.meta.dirname, '../../scripts/k8s/cluster.sh');
const CACHE_ROOT = process.env.LABFORGE_K8S_CACHE ?? '/var/cache/labforge';
const UP_TIMEOUT_MS = 240_000;

export interface PracticeCluster {
  readonly name: string;
  /** Admin kubeconfig (0600), a stable path per cluster name. */
  readonly kubeconfig: string;
  /** The kubectl built with the cluster (same version). */
  readonly kubectlPath: string;
  /** Seconds `up` took, or 0 when a running cluster was reused. */
  readonly upSeconds: number;
  /** Runs kubectl against the cluster; resolves stdout, rejects with kubectl's stderr. */
  kubectl(args: readonly string[], options?: { timeoutMs?: number; input?: string }): Promise<string>;
  /** Imports OCI image archives (FILE.tar) into the node's containerd. */
  load(...archives: string[]): Promise<void>;
  /** `cluster.sh down`: rejects with what was left when anything was. Safe to call twice. */
  down(): Promise<void>;
}

/** Runs cluster.sh; rejects with its stderr (the one-line reason) when it exits non-zero. */
export async function clusterSh(args: readonly string[], timeoutMs = 120_000): Promise<{ stdout: string; stderr: string }> {
  try {
    return await execFileAsync('bash', [CLUSTER_SH, ...args], {
      env: { ...process.env, LABFORGE_K8S_NO_BUILD: '1' },
      timeout: timeoutMs,
      killSignal: 'SIGKILL',
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim();
    throw new Error(`cluster.sh ${args.join(' ')} failed: ${stderr.split('\n').slice(-30).join('\n') || String(error)}`, { cause: error });
  }
}

/** Throws (never skips) unless root, the host tools and the cluster's builds are all there. */
export async function assertPracticeClusterPrerequisites(): Promise<void> {
  if (process.getuid?.() !== 0) {
    throw new Error('the practice cluster needs root (kubelet and containerd run real containers): run the tests as root');
  }
  await clusterSh(['check']);
}

/** Name of one of the images every cluster has: pause, coredns, metrics-server, busybox. */
export function practiceImage(which: 'pause' | 'coredns' | 'metrics-server' | 'busybox'): string {
  const marker = readFileSync(join(CACHE_ROOT, 'k8s-addons/.build-complete'), 'utf8');
  const match = new RegExp(`[ :]${which}=(\\S+)`).exec(marker.split('\n').find((l) => l.startsWith('images:')) ?? '');
  if (!match?.[1]) throw new Error(`no ${which} image in ${CACHE_ROOT}/k8s-addons/.build-complete: run scripts/k8s/build-addons.sh`);
  return match[1];
}

/** Starts the named cluster, or reuses it when it already runs. */
export async function ensurePracticeCluster(name: string): Promise<PracticeCluster> {
  await assertPracticeClusterPrerequisites();
  const started = Date.now();
  const { stdout, stderr } = await clusterSh(['up', '--name', name], UP_TIMEOUT_MS);
  const kubeconfig = /^export KUBECONFIG=(\S+)$/m.exec(stdout)?.[1];
  if (!kubeconfig) throw new Error(`cluster.sh up printed no KUBECONFIG: ${stdout}${stderr}`);
  const reused = /already running/.test(stderr);
  const kubectlPath = join(CACHE_ROOT, `kubernetes-${kubeVersion()}`, 'kubectl');
  let downed: Promise<void> | undefined;
  return {
    name,
    kubeconfig,
    kubectlPath,
    upSeconds: reused ? 0 : (Date.now() - started) / 1000,
    async kubectl(args, options = {}) {
      return runKubectl(kubectlPath, kubeconfig, args, options);
    },
    async load(...archives) {
      await clusterSh(['load', '--name', name, ...archives], 300_000);
    },
    down() {
      return (downed ??= clusterSh(['down', '--name', name]).then(() => undefined));
    },
  };
}

/** The Kubernetes version build-apiserver.sh builds by default. */
function kubeVersion(): string {
  if (process.env.KUBE_VERSION) return process.env.KUBE_VERSION;
  const script = readFileSync(join(import.meta.dirname, '../../scripts/k8s/build-apiserver.sh'), 'utf8');
  return /KUBE_VERSION="\$\{KUBE_VERSION:-(v[0-9.]+)\}"/.exec(script)?.[1] ?? 'v1.37.2';
}

function runKubectl(
  kubectl: string,
  kubeconfig: string,
  args: readonly string[],
  options: { timeoutMs?: number; input?: string },
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      kubectl,
      ['--kubeconfig', kubeconfig, ...args],
      { timeout: options.timeoutMs ?? 30_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`kubectl ${args.join(' ')} failed: ${String(stderr).trim() || error.message}`));
        else resolve(String(stdout));
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

const CLUSTERS_ROOT = process.env.LABFORGE_CLUSTERS_DIR ?? '/var/lib/labforge/clusters';

/** Where cluster NAME keeps everything it writes. */
export function clusterDir(name: string): string {
  return join(CLUSTERS_ROOT, name);
}

/** What the host looks like before a cluster starts, for `clusterTraces` to compare against. */
export interface HostSnapshot {
  readonly mounts: ReadonlySet<string>;
  readonly containerdRun: ReadonlySet<string>;
  readonly varLibCni: boolean;
}

export function hostSnapshot(): HostSnapshot {
  return { mounts: new Set(mountPoints()), containerdRun: new Set(listTree('/run/containerd')), varLibCni: existsSync('/var/lib/cni') };
}

/**
 * Everything of cluster NAME still on the host, found without cluster.sh: live processes naming
 * its directory, mounts, its network namespace, veth and route, KUBE-* chains or the cluster's
 * nftables tables in the host's namespace, its cgroups (and any kubepods cgroup), containerd
 * state under /run/containerd, its directory. Empty when nothing is left.
 */
export function clusterTraces(name: string, before: HostSnapshot): string[] {
  const dir = clusterDir(name);
  const netns = `labforge-${name}`;
  const veth = `lf-${name}`;
  const traces: string[] = [];
  for (const pid of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    const cmdline = read(`/proc/${pid}/cmdline`).replaceAll('\0', ' ');
    if ((cmdline.includes(`${dir}/`) || cmdline.includes(`${dir} `)) && alive(pid)) traces.push(`process ${pid}: ${cmdline.slice(0, 120)}`);
  }
  for (const mount of mountPoints()) {
    const ours = mount === dir || mount.startsWith(`${dir}/`) || mount === `/run/netns/${netns}`;
    // What a node mounts must stay inside its own mount namespace, never on the host.
    const suspicious = !before.mounts.has(mount) && /kubelet|containerd|\/run\/netns\/cni-/.test(mount);
    if (ours || suspicious) traces.push(`mount ${mount}`);
  }
  if (existsSync(`/run/netns/${netns}`)) traces.push(`network namespace /run/netns/${netns}`);
  if (
    run('ip', ['-o', 'link', 'show'])
      .split('\n')
      .some((l) => l.includes(` ${veth}:`) || l.includes(` ${veth}@`))
  )
    traces.push(`link ${veth}`);
  for (const route of run('ip', ['route', 'show']).split('\n')) if (route.includes(`dev ${veth}`)) traces.push(`route ${route}`);
  for (const save of ['iptables-save', 'ip6tables-save']) {
    for (const line of run(save, []).split('\n')) if (line.includes('KUBE-')) traces.push(`host ${save}: ${line}`);
  }
  for (const table of run('nft', ['list', 'tables']).split('\n')) {
    if (/kube-proxy|kube-network-policies|labforge/.test(table)) traces.push(`host nftables ${table}`);
  }
  for (const hierarchy of readdirSync('/sys/fs/cgroup')) {
    const root = join('/sys/fs/cgroup', hierarchy);
    for (const cgroup of [`labforge-${name}`, 'kubepods', 'kubepods.slice']) {
      if (existsSync(join(root, cgroup))) traces.push(`cgroup ${join(root, cgroup)}`);
    }
  }
  for (const entry of listTree('/run/containerd')) if (!before.containerdRun.has(entry)) traces.push(`containerd state ${entry}`);
  if (existsSync(dir)) traces.push(`directory ${dir}`);
  // The nodes' mount point for /var/lib/cni goes with the last cluster.
  const others = existsSync(CLUSTERS_ROOT) ? readdirSync(CLUSTERS_ROOT).filter((e) => !e.startsWith('.') && e !== name) : [];
  if (!before.varLibCni && others.length === 0 && existsSync('/var/lib/cni')) traces.push('directory /var/lib/cni');
  return traces;
}

function mountPoints(): string[] {
  return read('/proc/self/mountinfo')
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split(' ')[4]!);
}

function listTree(root: string): string[] {
  if (!existsSync(root)) return [];
  try {
    return readdirSync(root, { recursive: true }).map((entry) => join(root, String(entry)));
  } catch {
    return [root];
  }
}

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function alive(pid: string): boolean {
  const stat = read(`/proc/${pid}/stat`);
  return stat !== '' && stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
}

/** A command's stdout, or '' when it fails (a missing table is no trace). */
export function run(command: string, args: readonly string[]): string {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch (error) {
    return String((error as { stdout?: unknown }).stdout ?? '');
  }
}

/** Runs a command inside the cluster's node network namespace; resolves its result, never throws. */
export function inNode(name: string, command: string, args: readonly string[]): { code: number; stdout: string; stderr: string } {
  try {
    const stdout = execFileSync('nsenter', [`--net=/run/netns/labforge-${name}`, '--', command, ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return { code: 0, stdout, stderr: '' };
  } catch (error) {
    const e = error as { status?: number; stdout?: unknown; stderr?: unknown };
    return { code: e.status ?? 1, stdout: String(e.stdout ?? ''), stderr: String(e.stderr ?? '') };
  }
}
