// The `k8s` target: `up` applies a lab's objects to a kube context (a namespace per lab), creates
// its Secret from passwords generated here, waits for the rollout and runs the health checks
// through the Kubernetes API. The state file is written before anything is applied, so an
// interrupted or failed `up` is always removable by `down`.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ProbeResult } from '../../health/probe.js';
import type { LabDeployment } from '../model/deployment.js';
import { ExternalError } from '../model/errors.js';
import { generatePassword, writeFileAtomic } from '../model/home.js';
import { storeInstanceNames, type KubernetesPlan } from '../model/kubernetes.js';
import type { Level } from '../model/types.js';
import { componentsOf } from '../model/validate.js';
import { KubeClient } from './client.js';
import { checkLab, waitForRollout, type Progress } from './inspect.js';
import { kubeTarget } from './kubeconfig.js';
import { LABEL_LAB, labLabels } from './labels.js';
import { labManifests, labPlan, type KubeObject } from './synth.js';
import { amqpUrl, postgresUrl, redisUrl } from '../model/urls.js';

export const K8S_STATE_VERSION = 1;

export interface K8sLabState {
  readonly version: number;
  readonly name: string;
  readonly level: Level;
  readonly target: 'k8s';
  readonly createdAt: string;
  updatedAt: string;
  /** When `reap` may remove the lab (ISO-8601 UTC): the deployment's expiry. */
  readonly expiresAt?: string;
  /** The kube context and its API server at `up`: `down` refuses a context that moved elsewhere. */
  readonly context: string;
  readonly server: string;
  readonly namespace: string;
  readonly regions: readonly string[];
  /** Every object `up` applies (the Secret included), so `down` can name what it removed. */
  readonly objects: readonly { readonly kind: string; readonly name: string; readonly namespace?: string }[];
}

/** Generated credentials, in the shape `labforge secrets` prints for every target. */
export interface K8sLabSecrets {
  readonly postgres: { readonly user: string; readonly password: string };
  readonly redis?: { readonly password: string };
  readonly rabbitmq?: { readonly user: string; readonly password: string; readonly vhost: string };
  readonly api: { readonly jwtSecret: string };
}

export function k8sLabDir(home: string, name: string): { dir: string; stateFile: string; secretsFile: string } {
  const dir = join(home, name);
  return { dir, stateFile: join(dir, 'state.json'), secretsFile: join(dir, 'secrets.json') };
}

export function readK8sState(home: string, name: string): K8sLabState {
  return JSON.parse(readFileSync(k8sLabDir(home, name).stateFile, 'utf8')) as K8sLabState;
}

function writeK8sState(home: string, state: K8sLabState): void {
  state.updatedAt = new Date().toISOString();
  writeFileAtomic(k8sLabDir(home, state.name).stateFile, `${JSON.stringify(state, null, 2)}\n`);
}

export function readK8sSecrets(home: string, name: string): K8sLabSecrets {
  return JSON.parse(readFileSync(k8sLabDir(home, name).secretsFile, 'utf8')) as K8sLabSecrets;
}

/** Passwords for the lab's stores and the API's signing key; reused when the lab exists. */
function labSecrets(d: LabDeployment, existing?: K8sLabSecrets): K8sLabSecrets {
  if (existing) return existing;
  const pg = componentsOf(d.lab, 'postgres')[0];
  const mq = componentsOf(d.lab, 'rabbitmq')[0];
  return {
    postgres: { user: pg?.user ?? 'learner', password: generatePassword() },
    ...(componentsOf(d.lab, 'redis').length > 0 ? { redis: { password: generatePassword() } } : {}),
    ...(mq ? { rabbitmq: { user: mq.user, password: generatePassword(), vhost: mq.vhost } } : {}),
    api: { jwtSecret: generatePassword(32) },
  };
}

/** The lab Secret's keys from the generated credentials: connection URLs to the in-cluster stores. */
export function secretData(d: LabDeployment, plan: KubernetesPlan, s: K8sLabSecrets): Record<string, string> {
  const pg = componentsOf(d.lab, 'postgres')[0];
  const store = (kind: string) => plan.dataStores.find((x) => x.kind === kind);
  const pgUrl = (host: string) => postgresUrl({ ...s.postgres, host, port: store('postgres')!.port, database: pg!.database });
  const endpoint = (kind: string) => ({ host: store(kind)!.id, port: store(kind)!.port });
  const all: Record<string, string> = {
    JWT_SECRET: s.api.jwtSecret,
    POSTGRES_PASSWORD: s.postgres.password,
    ...(pg
      ? {
          DATABASE_URL: pgUrl(storeInstanceNames(store('postgres')!)[0]!),
          SHARDS: JSON.stringify(storeInstanceNames(store('postgres')!).map(pgUrl)),
        }
      : {}),
    ...(s.redis ? { REDIS_PASSWORD: s.redis.password, REDIS_URL: redisUrl({ ...endpoint('redis'), password: s.redis.password }) } : {}),
    ...(s.rabbitmq ? { RABBITMQ_PASSWORD: s.rabbitmq.password, AMQP_URL: amqpUrl({ ...s.rabbitmq, ...endpoint('rabbitmq') }) } : {}),
  };
  return Object.fromEntries(plan.secretKeys.map((key) => [key, all[key]!]));
}

export interface K8sUpOptions {
  readonly deployment: LabDeployment;
  readonly home: string;
  /** Kube context; default: the current one. */
  readonly context?: string;
  /** Longest wait for the rollout. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  readonly progress: Progress;
}

export interface K8sUpResult {
  readonly name: string;
  readonly level: Level;
  readonly context: string;
  readonly server: string;
  readonly namespace: string;
  readonly created: boolean;
  readonly rolledOut: boolean;
  readonly health: ProbeResult[];
  readonly services: { readonly name: string; readonly port: number }[];
  readonly seconds: number;
}

export async function upK8sLab(options: K8sUpOptions): Promise<K8sUpResult> {
  const started = performance.now();
  const { deployment: d, home, progress } = options;
  const plan = labPlan(d, 'in-cluster');
  // Render first: a bad lab or a missing build fails before the cluster is touched.
  const [manifest] = labManifests(d, 'in-cluster');
  const target = await kubeTarget(options.context);
  const client = new KubeClient(target);
  try {
    await client.call('GET', '/version');
    const layout = k8sLabDir(home, d.name);
    const existing = existsSync(layout.stateFile) ? readK8sState(home, d.name) : undefined;
    if (existing && existing.target !== 'k8s')
      throw new ExternalError(`lab '${d.name}' exists as a ${String(existing.target)} lab`, `remove it first: labforge down ${d.name}`);
    if (existing && existing.server !== target.server) {
      throw new ExternalError(
        `lab '${d.name}' runs on ${existing.server} (context ${existing.context}), not on ${target.server}`,
        `remove it first (labforge down ${d.name}) or pass --context ${existing.context}`,
      );
    }
    await refuseForeignNamespace(client, plan.namespace, d.name);

    const labels = labLabels(d.name, d.lab.level);
    const secrets = labSecrets(d, existsSync(layout.secretsFile) ? readK8sSecrets(home, d.name) : undefined);
    const secret: KubeObject = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: plan.secretName, namespace: plan.namespace, labels },
      type: 'Opaque',
      stringData: secretData(d, plan, secrets),
    };
    const objects = [...manifest!.objects];
    // The Secret right after the namespace's own objects, before any pod that reads it.
    const firstWorkload = objects.findIndex((o) => o.kind === 'ConfigMap');
    objects.splice(firstWorkload < 0 ? objects.length : firstWorkload, 0, secret);

    mkdirSync(layout.dir, { recursive: true });
    writeFileAtomic(layout.secretsFile, `${JSON.stringify(secrets, null, 2)}\n`, 0o600);
    const now = new Date().toISOString();
    writeK8sState(home, {
      version: K8S_STATE_VERSION,
      name: d.name,
      level: d.lab.level,
      target: 'k8s',
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
      expiresAt: d.expiresAt,
      context: target.context,
      server: target.server,
      namespace: plan.namespace,
      regions: d.regions,
      objects: objects.map((o) => ({ kind: o.kind, name: o.metadata.name, namespace: o.metadata.namespace })),
    });

    progress(`applying ${objects.length} objects to ${target.context} (${target.server}), namespace ${plan.namespace}`);
    const applyStarted = performance.now();
    for (const o of objects) {
      if (options.signal?.aborted) break;
      await client.apply(o);
    }
    progress(`  applied in ${((performance.now() - applyStarted) / 1000).toFixed(1)}s`);
    const rolledOut = options.signal?.aborted
      ? false
      : await waitForRollout(client, plan, { timeoutMs: options.timeoutMs, signal: options.signal, progress });
    const health = options.signal?.aborted ? [] : await checkLab(client, plan);
    return {
      name: d.name,
      level: d.lab.level,
      context: target.context,
      server: target.server,
      namespace: plan.namespace,
      created: existing === undefined,
      rolledOut,
      health,
      services: plan.workloads.filter((w) => w.port > 0).map((w) => ({ name: w.name, port: w.port })),
      seconds: Math.round((performance.now() - started) / 100) / 10,
    };
  } finally {
    client.close();
  }
}

/** A namespace of the lab's name that labforge did not make for this lab is never taken over. */
async function refuseForeignNamespace(client: KubeClient, namespace: string, lab: string): Promise<void> {
  const ns = await client.get('Namespace', namespace);
  const owner = ns?.metadata.labels?.[LABEL_LAB];
  if (ns !== undefined && owner !== lab) {
    throw new ExternalError(
      `namespace ${namespace} already exists and is not labforge lab '${lab}' (its ${LABEL_LAB} label: ${owner ?? 'none'})`,
      'choose another lab name with --name',
    );
  }
}
