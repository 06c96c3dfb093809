// Reading a k8s-target lab back from its cluster: rollout progress, health checks (pods ready,
// endpoints, an HTTP round trip through the API server proxy) and status rows.
import { probeEndpoints, probeServiceHttp, probeWorkload, podProblem } from '../../health/kubernetes.js';
import { QUICK, type ProbeResult, type RetryPolicy } from '../../health/probe.js';
import { ExternalError } from '../model/errors.js';
import { storeInstanceNames, type KubernetesPlan } from '../model/kubernetes.js';
import { KubeClient } from './client.js';
import { kubeTarget } from './kubeconfig.js';
import { LABEL_LAB, LABEL_NAME } from './labels.js';

export type Progress = (line: string) => void;

/** A workload `up` waits for: Deployments of the services, StatefulSets of the stores. */
interface Rollout {
  readonly kind: 'Deployment' | 'StatefulSet';
  readonly name: string;
  readonly desired: number;
}

function rollouts(plan: KubernetesPlan): Rollout[] {
  return [
    ...plan.dataStores.flatMap((s) =>
      storeInstanceNames(s).map((name): Rollout => ({ kind: 'StatefulSet', name, desired: s.kind === 'kafka' ? s.instances : 1 })),
    ),
    ...plan.workloads.map((w): Rollout => ({ kind: 'Deployment', name: w.name, desired: w.replicas })),
  ];
}

const selectorOf = (plan: KubernetesPlan, name: string) => `${LABEL_LAB}=${plan.lab},${LABEL_NAME}=${name}`;

interface WorkloadStatus {
  status?: { readyReplicas?: number; replicas?: number };
}

/** Waits until every workload has its desired ready pods; one progress line per workload when it is. */
export async function waitForRollout(
  client: KubeClient,
  plan: KubernetesPlan,
  options: { timeoutMs: number; signal?: AbortSignal; progress: Progress },
): Promise<boolean> {
  const started = performance.now();
  const pending = new Map(rollouts(plan).map((r) => [r.name, r]));
  let lastReport = 0;
  while (pending.size > 0 && !options.signal?.aborted) {
    for (const r of [...pending.values()]) {
      const object = await client.get<WorkloadStatus>(r.kind, r.name, plan.namespace);
      const ready = object?.status?.readyReplicas ?? 0;
      if (ready >= r.desired) {
        options.progress(
          `  ${r.name.padEnd(12)} ${`${ready}/${r.desired} ready`.padEnd(12)} ${((performance.now() - started) / 1000).toFixed(1)}s`,
        );
        pending.delete(r.name);
      }
    }
    const waited = performance.now() - started;
    if (pending.size === 0) return true;
    if (waited > options.timeoutMs) break;
    if (waited - lastReport > 15_000) {
      lastReport = waited;
      options.progress(`  waiting for ${[...pending.keys()].join(', ')} (${Math.round(waited / 1000)}s)`);
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  for (const r of pending.values()) {
    const pods = await client.list<Parameters<typeof podProblem>[0]>('Pod', {
      namespace: plan.namespace,
      labelSelector: selectorOf(plan, r.name),
    });
    const why = pods.length === 0 ? 'no pods created' : podProblem(pods[0]!);
    options.progress(`  ${r.name.padEnd(12)} NOT READY after ${Math.round((performance.now() - started) / 1000)}s: ${why}`);
  }
  return false;
}

/** Every health check of the lab, through the Kubernetes API. */
export async function checkLab(client: KubeClient, plan: KubernetesPlan, policy: RetryPolicy = QUICK): Promise<ProbeResult[]> {
  const ns = { client, namespace: plan.namespace };
  const checks: Promise<ProbeResult>[] = rollouts(plan).map((r) =>
    probeWorkload({ ...ns, name: r.name, selector: selectorOf(plan, r.name), desired: r.desired }, policy),
  );
  for (const w of plan.workloads.filter((x) => x.port > 0)) {
    checks.push(probeEndpoints({ ...ns, service: w.name }, policy));
    checks.push(probeServiceHttp({ ...ns, service: w.name, port: 'http', path: '/health' }, policy));
  }
  return Promise.all(checks);
}

export interface K8sStatusRow {
  readonly component: string;
  readonly kind: string;
  readonly address: string;
  readonly state: string;
}

/** One row per workload: ready pods of desired, and the Service address inside the cluster. */
export async function workloadRows(client: KubeClient, plan: KubernetesPlan): Promise<K8sStatusRow[]> {
  return Promise.all(
    rollouts(plan).map(async (r) => {
      const object = await client.get<WorkloadStatus & { spec?: { replicas?: number } }>(r.kind, r.name, plan.namespace);
      const service = await client.get<{ spec?: { clusterIP?: string; ports?: { port: number }[] } }>('Service', r.name, plan.namespace);
      const port = service?.spec?.ports?.[0]?.port;
      const address = service === undefined ? '-' : `${r.name}.${plan.namespace}.svc${port ? `:${port}` : ''}`;
      const state = object === undefined ? 'missing' : `${object.status?.readyReplicas ?? 0}/${object.spec?.replicas ?? r.desired} ready`;
      return { component: r.name, kind: r.kind, address, state };
    }),
  );
}

/** A client for the context the lab was created on; refuses one that now points elsewhere. */
export async function clientFor(state: { name: string; context: string; server: string }): Promise<KubeClient> {
  const target = await kubeTarget(state.context);
  if (target.server !== state.server) {
    throw new ExternalError(
      `kube context '${state.context}' now points at ${target.server}, but lab '${state.name}' was created on ${state.server}`,
      'restore that context (or its cluster) to reach the lab',
    );
  }
  return new KubeClient(target);
}
