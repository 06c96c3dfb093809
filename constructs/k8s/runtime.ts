// The k8s target's runtime: a lab applied to a kube context, read and removed through the
// Kubernetes API (`up` is upK8sLab in lab.ts).
import { resolveDeployment } from '../model/deployment.js';
import { credentialLines } from '../model/credentials.js';
import { labsOfTarget } from '../model/home.js';
import type { HealthReport, TargetRuntime } from '../model/runtime.js';
import { getLab } from '../../labs/index.js';
import { checkLab, clientFor, workloadRows, type K8sStatusRow } from './inspect.js';
import { readK8sSecrets, readK8sState } from './lab.js';
import { labPlan } from './synth.js';
import { downK8sLab, type K8sTeardownReceipt } from './teardown.js';

export type { K8sTeardownReceipt } from './teardown.js';

function planOf(home: string, name: string) {
  const state = readK8sState(home, name);
  const deployment = resolveDeployment(getLab(state.level), { name, regions: state.regions.join(',') });
  return { state, plan: labPlan(deployment, 'in-cluster') };
}

async function healthK8sLab(home: string, name: string): Promise<HealthReport> {
  const { state, plan } = planOf(home, name);
  let client;
  try {
    client = await clientFor(state);
    // One clear failure when the cluster is unreachable, not one per workload.
    await client.call('GET', '/version');
    const checks = await checkLab(client, plan);
    return { lab: name, target: 'k8s', ok: checks.every((c) => c.ok), checks };
  } catch (error) {
    // An unreachable cluster is a failed check of this lab, not the end of `health` for all labs.
    return {
      lab: name,
      target: 'k8s',
      ok: false,
      checks: [{ name: `kubernetes API (${state.context})`, ok: false, detail: (error as Error).message, ms: 0, attempts: 1 }],
    };
  } finally {
    client?.close();
  }
}

export interface K8sLabStatus {
  readonly name: string;
  readonly level: string;
  readonly target: 'k8s';
  readonly context: string;
  readonly namespace: string;
  readonly components: K8sStatusRow[];
  /** Why the cluster could not be read, when it could not. */
  readonly error?: string;
}

async function statusK8sLab(home: string, name: string): Promise<K8sLabStatus> {
  const { state, plan } = planOf(home, name);
  const base = { name, level: state.level, target: 'k8s' as const, context: state.context, namespace: state.namespace };
  let client;
  try {
    client = await clientFor(state);
    return { ...base, components: await workloadRows(client, plan) };
  } catch (error) {
    return { ...base, components: [], error: (error as Error).message };
  } finally {
    client?.close();
  }
}

export const k8sRuntime: TargetRuntime<K8sLabStatus, K8sTeardownReceipt> = {
  target: 'k8s',
  labs: (home) => labsOfTarget(home, 'k8s'),
  status: statusK8sLab,
  health: healthK8sLab,
  async secrets(home, name) {
    const state = readK8sState(home, name);
    const secrets = readK8sSecrets(home, name);
    // The services reach the stores by their in-cluster names; from outside, port-forward first.
    const urls = { note: `in-cluster names, namespace ${state.namespace}` };
    return { lab: name, target: 'k8s', entries: credentialLines(secrets, urls), json: { lab: name, ...secrets, urls } };
  },
  down: (home, name) => downK8sLab(home, name),
};
