// Shared by the Kubernetes synth tests: render a lab's objects with the real cdk8s engine and look
// them up by kind, name and label.
import { gunzipSync } from 'node:zlib';
import { resolveDeployment, type DeploymentOptions } from '../../constructs/model/deployment.js';
import { kubernetesPlan, type Backing, type KubernetesPlan } from '../../constructs/model/kubernetes.js';
import type { Level } from '../../constructs/model/types.js';
import { labManifests, type ClusterManifest, type KubeObject } from '../../constructs/k8s/synth.js';
import { getLab } from '../../labs/index.js';
import { NOW, OWNER } from './helpers.js';

export type Obj = KubeObject & Record<string, any>;

export interface RenderedLab {
  readonly plan: KubernetesPlan;
  readonly clusters: readonly ClusterManifest[];
  /** Every object of every cluster. */
  readonly objects: readonly Obj[];
}

export function renderLab(level: Level, backing: Backing, options: DeploymentOptions = {}): RenderedLab {
  const deployment = resolveDeployment(getLab(level), { owner: OWNER, now: NOW, ...options });
  const clusters = labManifests(deployment, backing);
  return { plan: kubernetesPlan(deployment, backing), clusters, objects: clusters.flatMap((c) => c.objects as Obj[]) };
}

export const ofKind = (objects: readonly Obj[], kind: string): Obj[] => objects.filter((o) => o.kind === kind);

/** Deployments and StatefulSets: the objects that run pods. */
export const workloads = (objects: readonly Obj[]): Obj[] => objects.filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet');

/** Every container of a pod-running object, with the object's name. */
export function containersOf(objects: readonly Obj[]): { owner: string; pod: Obj; container: Obj }[] {
  return workloads(objects).flatMap((w) =>
    (w.spec.template.spec.containers as Obj[]).map((container) => ({
      owner: `${w.kind}/${w.metadata.name}`,
      pod: w.spec.template.spec,
      container,
    })),
  );
}

/** Whether `selector` (matchLabels) selects a pod with `labels`; an empty selector selects all. */
export function selects(selector: Record<string, string> | undefined, labels: Record<string, string>): boolean {
  return Object.entries(selector ?? {}).every(([k, v]) => labels[k] === v);
}

/** Pod template labels of every workload in one cluster. */
export const podLabels = (objects: readonly Obj[]): Record<string, string>[] =>
  workloads(objects).map((w) => w.spec.template.metadata.labels);

/** The program a ConfigMap carries, unpacked. */
export function programSource(configMap: Obj): string {
  const [file] = Object.keys(configMap.binaryData ?? {});
  return gunzipSync(Buffer.from(configMap.binaryData[file!], 'base64')).toString('utf8');
}
