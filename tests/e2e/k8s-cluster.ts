// Test harness: a real Kubernetes control plane (etcd + kube-apiserver + kube-controller-manager
// on 127.0.0.1, scripts/k8s/apiserver.sh) in a throwaway directory. It never builds: the binaries
// come from the cache that `scripts/setup.sh --test` fills (scripts/k8s/build-apiserver.sh).
// The admin token is returned to the caller but never printed, not even in error messages.
import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cleanupMayFail } from '../../constructs/model/quiet.js';

const execFileAsync = promisify(execFile);

const ROOT = join(import.meta.dirname, '../..');
const K8S_SCRIPTS = join(ROOT, 'scripts/k8s');
const APISERVER_SH = join(K8S_SCRIPTS, 'apiserver.sh');
const SETUP_HINT = 'run `scripts/setup.sh --test` (it builds kube-apiserver and kube-controller-manager from the Go module proxy)';
/** apiserver.sh waits up to READY_TIMEOUT per component; this bounds the whole start. */
const START_TIMEOUT_MS = 240_000;

export interface TestCluster {
  /** The cluster's directory (certs, logs, etcd data); removed by stop(). */
  readonly dir: string;
  /** Path of an admin kubeconfig (mode 0600). */
  readonly kubeconfig: string;
  /** https://127.0.0.1:PORT of the kube-apiserver. */
  readonly url: string;
  /** Static admin bearer token (group system:masters). Do not log it. */
  readonly token: string;
  /** CA that signed the apiserver's serving certificate. */
  readonly caFile: string;
  /** Path of the kubectl built with the control plane (same version). */
  readonly kubectl: string;
  /** Every KEY=VALUE of DIR/env (KUBE_APISERVER_URL, KUBECONFIG, *_PID, READY_SECONDS, ...). */
  readonly env: Record<string, string>;
  /** Stops all three processes and removes `dir`; safe to call more than once. */
  stop(): Promise<void>;
}

/** The version build-apiserver.sh builds by default, read from the script (one source of truth). */
function kubeVersion(): string {
  if (process.env.KUBE_VERSION) return process.env.KUBE_VERSION;
  const script = readFileSync(join(K8S_SCRIPTS, 'build-apiserver.sh'), 'utf8');
  const match = /KUBE_VERSION="\$\{KUBE_VERSION:-(v[0-9.]+)\}"/.exec(script);
  if (!match?.[1]) throw new Error('cannot read the default KUBE_VERSION from scripts/k8s/build-apiserver.sh');
  return match[1];
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The cached build directory, looked up the way build-apiserver.sh chooses it. */
function findBinaryDir(): string {
  const version = kubeVersion();
  const candidates = process.env.KUBE_BIN_DIR
    ? [process.env.KUBE_BIN_DIR]
    : [
        process.env.LABFORGE_K8S_CACHE ?? '/var/cache/labforge',
        join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'labforge'),
      ].map((root) => join(root, `kubernetes-${version}`));
  // The marker is written after both binaries: without it a build was interrupted. A directory
  // given as KUBE_BIN_DIR was not necessarily made by build-apiserver.sh, so it needs none.
  const needMarker = process.env.KUBE_BIN_DIR === undefined;
  const complete = (dir: string) => !needMarker || existsSync(join(dir, '.build-complete'));
  const found = candidates.find(
    (dir) => complete(dir) && ['kube-apiserver', 'kube-controller-manager', 'kubectl'].every((b) => isExecutable(join(dir, b))),
  );
  if (!found) {
    throw new Error(
      `kube-apiserver, kube-controller-manager and kubectl ${version} are not built (looked in ${candidates.join(', ')}): ${SETUP_HINT}`,
    );
  }
  return found;
}

async function assertTool(command: string, args: string[], missing: string): Promise<void> {
  try {
    await execFileAsync(command, args, { timeout: 15_000 });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(code === 'ENOENT' ? missing : `${command} ${args.join(' ')} failed: ${String(error)}`, { cause: error });
  }
}

function parseEnvFile(path: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return env;
}

function logTails(dir: string): string {
  return ['etcd', 'kube-apiserver', 'kube-controller-manager']
    .map((name) => join(dir, `${name}.log`))
    .filter((file) => existsSync(file))
    .map((file) => `--- ${file} (last 15 lines)\n${readFileSync(file, 'utf8').trimEnd().split('\n').slice(-15).join('\n')}`)
    .join('\n');
}

function required(env: Record<string, string>, key: string): string {
  const value = env[key];
  if (!value) throw new Error(`scripts/k8s/apiserver.sh wrote no ${key} into its env file`);
  return value;
}

/** Starts etcd, kube-apiserver and kube-controller-manager; resolves once all three are ready. */
export async function startTestCluster(): Promise<TestCluster> {
  const binDir = findBinaryDir();
  // Same choice as apiserver.sh: an etcd next to the Kubernetes binaries, else the one on PATH.
  const etcd = process.env.ETCD_BIN ?? (isExecutable(join(binDir, 'etcd')) ? join(binDir, 'etcd') : 'etcd');
  await assertTool(etcd, ['--version'], `etcd not found (${etcd}): apt-get install -y etcd-server (scripts/setup.sh --test installs it)`);
  // The kubectl built with the control plane (Debian's kubernetes-client is 1.20, too old).
  const kubectl = join(binDir, 'kubectl');
  await assertTool(kubectl, ['version', '--client'], `kubectl not found in ${binDir}: ${SETUP_HINT}`);

  const dir = mkdtempSync(join(tmpdir(), 'labforge-k8s-'));
  const stop = once(async () => {
    await execFileAsync('bash', [APISERVER_SH, 'stop', dir], { timeout: 60_000 });
    rmSync(dir, { recursive: true, force: true });
  });
  try {
    await execFileAsync('bash', [APISERVER_SH, 'start', dir], {
      env: {
        ...process.env,
        KUBE_BIN_DIR: binDir,
        KUBE_APISERVER_BIN: join(binDir, 'kube-apiserver'),
        // If this test process dies before stop() (killed runner), the cluster goes with it.
        LABFORGE_K8S_OWNER_PID: String(process.pid),
      },
      timeout: START_TIMEOUT_MS,
      killSignal: 'SIGKILL',
      maxBuffer: 4 * 1024 * 1024,
    });
  } catch (error) {
    // apiserver.sh stops what it started on failure; stop() also covers a start killed on timeout.
    const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim();
    const tails = logTails(dir);
    await stop().catch(cleanupMayFail);
    throw new Error(`scripts/k8s/apiserver.sh start failed: ${stderr || String(error)}\n${tails}`, { cause: error });
  }
  try {
    const env = parseEnvFile(join(dir, 'env'));
    return {
      dir,
      kubeconfig: required(env, 'KUBECONFIG'),
      url: required(env, 'KUBE_APISERVER_URL'),
      token: required(env, 'KUBE_TOKEN'),
      caFile: required(env, 'KUBE_CA_FILE'),
      kubectl,
      env,
      stop,
    };
  } catch (error) {
    await stop().catch(cleanupMayFail);
    throw error;
  }
}

/** Runs `fn` at most once; later calls share the first call's promise. */
function once(fn: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => (running ??= fn());
}
