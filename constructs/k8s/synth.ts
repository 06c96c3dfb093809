// Entry of the cdk8s engine: a lab's Kubernetes objects, as JSON (for `up`, which applies them
// through the API) or as one YAML file per cluster (for `synth`).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Yaml } from 'cdk8s';
import type { LabDeployment } from '../model/deployment.js';
import { ExternalError, UsageError } from '../model/errors.js';
import { kubernetesPlan, runsOnKubernetes, type Backing, type KubernetesPlan } from '../model/kubernetes.js';
import { regionCode } from '../model/names.js';
import { packageRoot } from '../model/paths.js';
import type { ServiceComponent } from '../model/types.js';
import { labLabels } from './labels.js';
import { LabNamespaceChart } from './namespace.js';
import { LabWorkloadsChart } from './workloads.js';

/** A Kubernetes object as the API takes it. */
export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly labels?: Record<string, string> };
  readonly [field: string]: unknown;
}

export interface ClusterManifest {
  readonly lab: string;
  /** `all` on the k8s target (one cluster holds every region), else the region of its EKS cluster. */
  readonly cluster: string;
  readonly objects: readonly KubeObject[];
}

export interface WrittenManifest {
  readonly lab: string;
  readonly cluster: string;
  readonly file: string;
  readonly objects: number;
}

const PROGRAMS: readonly ServiceComponent['program'][] = ['api', 'worker'];

/** The gzipped program bundles the build writes (scripts/build.mjs). */
function programBundles(): Record<ServiceComponent['program'], Buffer> {
  const dir = join(packageRoot(), 'dist', 'programs');
  const missing = PROGRAMS.filter((p) => !existsSync(join(dir, `${p}.mjs.gz`)));
  if (missing.length > 0)
    throw new ExternalError(
      `the program bundles are not built (${missing.join(', ')} missing in ${dir})`,
      'run `npm run build` in the labforge checkout',
    );
  return Object.fromEntries(PROGRAMS.map((p) => [p, readFileSync(join(dir, `${p}.mjs.gz`))])) as Record<
    ServiceComponent['program'],
    Buffer
  >;
}

function requireKubernetes(d: LabDeployment): void {
  if (!runsOnKubernetes(d.lab)) {
    throw new UsageError(`the ${d.lab.level} lab has no Kubernetes workloads (levels with them: advanced, expert)`);
  }
}

/**
 * The objects of one lab. `in-cluster` (the k8s target): one cluster holds the namespace, the
 * stores and every region's workloads. `managed` (EKS): one manifest per region's cluster, with
 * only the workloads; the namespace, Secret and endpoints come from the cluster-objects stack.
 */
export function labManifests(d: LabDeployment, backing: Backing): ClusterManifest[] {
  requireKubernetes(d);
  const plan = kubernetesPlan(d, backing);
  const programs = programBundles();
  const clusters =
    backing === 'in-cluster' ? [{ cluster: 'all', regions: d.regions }] : d.regions.map((r) => ({ cluster: r, regions: [r] }));
  return clusters.map(({ cluster, regions }) => {
    const app = new App();
    const labels = labLabels(d.name, d.lab.level);
    if (backing === 'in-cluster') new LabNamespaceChart(app, 'namespace', { plan, labels });
    new LabWorkloadsChart(app, 'workloads', { lab: d.lab, plan, backing, regions, programs, labels });
    const objects = app.charts.flatMap((chart) => chart.toJson() as KubeObject[]);
    return { lab: d.name, cluster, objects };
  });
}

/** The lab plan `up` and `health` work from (same as the manifests'). */
export function labPlan(d: LabDeployment, backing: Backing): KubernetesPlan {
  requireKubernetes(d);
  return kubernetesPlan(d, backing);
}

/** Writes each cluster's objects as one YAML file: `<outdir>/<lab>/<lab>.k8s.yaml`, or
 * `<outdir>/<lab>/<region>.k8s.yaml` per EKS cluster. */
export function writeManifests(manifests: readonly ClusterManifest[], outdir: string): WrittenManifest[] {
  return manifests.map((m) => {
    const dir = join(outdir, m.lab);
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${m.cluster === 'all' ? m.lab : `eks-${regionCode(m.cluster)}`}.k8s.yaml`);
    writeFileSync(file, Yaml.stringify(...m.objects));
    return { lab: m.lab, cluster: m.cluster, file, objects: m.objects.length };
  });
}
