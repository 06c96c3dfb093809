// Reads a kube context the way kubectl does (KUBECONFIG, a list of files merged first-wins, else
// ~/.kube/config) and turns it into what an HTTPS request needs: server, CA, client certificate
// or bearer token (static, from a file, or from an exec plugin such as `aws eks get-token`).
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { ExternalError, UsageError } from '../model/errors.js';

const run = promisify(execFile);

/** A `clusters:`, `users:` or `contexts:` list item. */
interface Named {
  readonly name: string;
  readonly cluster?: unknown;
  readonly user?: unknown;
  readonly context?: unknown;
}
interface ClusterEntry {
  server: string;
  'certificate-authority'?: string;
  'certificate-authority-data'?: string;
  'insecure-skip-tls-verify'?: boolean;
  'tls-server-name'?: string;
}
interface UserEntry {
  token?: string;
  tokenFile?: string;
  'client-certificate'?: string;
  'client-certificate-data'?: string;
  'client-key'?: string;
  'client-key-data'?: string;
  exec?: { command: string; args?: string[]; env?: { name: string; value: string }[] | null; apiVersion?: string };
}
interface ContextEntry {
  cluster: string;
  user: string;
  namespace?: string;
}

/** One kubeconfig file's entries, each remembering the file it came from (relative paths). */
interface Entries {
  clusters: Map<string, { entry: ClusterEntry; dir: string }>;
  users: Map<string, { entry: UserEntry; dir: string }>;
  contexts: Map<string, ContextEntry>;
  current?: string;
}

/** What a request to this context's API server needs. */
export interface KubeTarget {
  readonly context: string;
  readonly server: string;
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
  readonly token?: string;
  readonly insecure: boolean;
  readonly servername?: string;
  /** The kubeconfig files read, for messages. */
  readonly files: readonly string[];
}

/** KUBECONFIG's files, or ~/.kube/config. */
export function kubeconfigFiles(env: NodeJS.ProcessEnv = process.env): string[] {
  const listed = (env.KUBECONFIG ?? '').split(delimiter).filter(Boolean);
  return listed.length > 0 ? listed : [join(homedir(), '.kube', 'config')];
}

function readEntries(files: readonly string[]): Entries {
  const merged: Entries = { clusters: new Map(), users: new Map(), contexts: new Map() };
  for (const file of files) {
    if (!existsSync(file)) continue;
    let doc: Record<string, unknown>;
    try {
      doc = (parse(readFileSync(file, 'utf8')) ?? {}) as Record<string, unknown>;
    } catch (error) {
      throw new ExternalError(
        `cannot read the kubeconfig ${file}: ${(error as Error).message}`,
        'fix the file, or point KUBECONFIG at another one',
        { cause: error },
      );
    }
    const dir = dirname(file);
    // First file wins for every name, as kubectl merges them.
    for (const c of (doc.clusters ?? []) as Named[])
      if (!merged.clusters.has(c.name)) merged.clusters.set(c.name, { entry: c.cluster as ClusterEntry, dir });
    for (const u of (doc.users ?? []) as Named[]) if (!merged.users.has(u.name)) merged.users.set(u.name, { entry: u.user ?? {}, dir });
    for (const c of (doc.contexts ?? []) as Named[])
      if (!merged.contexts.has(c.name)) merged.contexts.set(c.name, c.context as ContextEntry);
    merged.current ??= (doc['current-context'] as string | undefined) || undefined;
  }
  return merged;
}

const resolvePath = (path: string, dir: string) => (isAbsolute(path) ? path : join(dir, path));
const fileOrData = (path: string | undefined, data: string | undefined, dir: string): Buffer | undefined =>
  data ? Buffer.from(data, 'base64') : path ? readFileSync(resolvePath(path, dir)) : undefined;

/** The named context (default: the current one) as a request target; exec plugins are run now. */
export async function kubeTarget(contextName?: string, env: NodeJS.ProcessEnv = process.env): Promise<KubeTarget> {
  const files = kubeconfigFiles(env);
  const entries = readEntries(files);
  const name = contextName ?? entries.current;
  const known = [...entries.contexts.keys()];
  if (name === undefined) {
    throw new ExternalError(
      `no kube context is set in ${files.join(', ')}${known.length > 0 ? ` (contexts: ${known.join(', ')})` : ''}`,
      'pass --context NAME, or create a cluster first (e.g. `kind create cluster`), see the README',
    );
  }
  const context = entries.contexts.get(name);
  if (context === undefined)
    throw new UsageError(`unknown kube context '${name}' (valid: ${known.join(', ') || `none in ${files.join(', ')}`})`);
  const cluster = entries.clusters.get(context.cluster);
  if (cluster === undefined)
    throw new ExternalError(`kube context '${name}' names cluster '${context.cluster}', which is not in ${files.join(', ')}`);
  const user = entries.users.get(context.user) ?? { entry: {}, dir: cluster.dir };
  const u = user.entry;
  let token = u.token ?? (u.tokenFile ? readFileSync(resolvePath(u.tokenFile, user.dir), 'utf8').trim() : undefined);
  let cert: Buffer | undefined = fileOrData(u['client-certificate'], u['client-certificate-data'], user.dir);
  let key: Buffer | undefined = fileOrData(u['client-key'], u['client-key-data'], user.dir);
  if (u.exec) ({ token = token, cert = cert, key = key } = await execCredential(u.exec, name));
  return {
    context: name,
    server: cluster.entry.server.replace(/\/$/, ''),
    ca: fileOrData(cluster.entry['certificate-authority'], cluster.entry['certificate-authority-data'], cluster.dir),
    cert,
    key,
    token,
    insecure: cluster.entry['insecure-skip-tls-verify'] === true,
    servername: cluster.entry['tls-server-name'],
    files,
  };
}

/** Runs a credential plugin (client.authentication.k8s.io ExecCredential) and reads its status. */
async function execCredential(
  exec: NonNullable<UserEntry['exec']>,
  context: string,
): Promise<{ token?: string; cert?: Buffer | undefined; key?: Buffer | undefined }> {
  const extra = Object.fromEntries((exec.env ?? []).map((e) => [e.name, e.value]));
  const info = JSON.stringify({
    apiVersion: exec.apiVersion ?? 'client.authentication.k8s.io/v1beta1',
    kind: 'ExecCredential',
    spec: { interactive: false },
  });
  let stdout: string;
  try {
    ({ stdout } = await run(exec.command, exec.args ?? [], {
      env: { ...process.env, ...extra, KUBERNETES_EXEC_INFO: info },
      timeout: 30_000,
    }));
  } catch (error) {
    throw new ExternalError(
      `the credential plugin of kube context '${context}' (${exec.command}) failed: ${(error as Error).message.split('\n')[0]}`,
      'run it by hand to see why (for EKS: are your AWS credentials set?)',
      { cause: error },
    );
  }
  const status =
    (JSON.parse(stdout) as { status?: { token?: string; clientCertificateData?: string; clientKeyData?: string } }).status ?? {};
  return {
    token: status.token,
    cert: status.clientCertificateData ? Buffer.from(status.clientCertificateData) : undefined,
    key: status.clientKeyData ? Buffer.from(status.clientKeyData) : undefined,
  };
}
