// Entry of the cdktf AWS engine: one App per call; per lab one LabStack (TerraformStack) and, for
// labs with a kubernetes-cluster component, a ClusterObjectsStack `<lab>-k8s` beside it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'cdktf';
import { ClusterObjectsStack } from '../k8s/cluster-objects.js';
import type { LabDeployment } from '../model/deployment.js';
import { ValidationError } from '../model/errors.js';
import { runsOnKubernetes } from '../model/kubernetes.js';
import { LabStack } from './lab-stack.js';
import { clusterStackState, labBackend } from './state-backend.js';

export interface SynthesizedStack {
  readonly lab: string;
  readonly stack: string;
  /** Path of the Terraform JSON file. */
  readonly file: string;
  readonly resources: number;
}

/** The stacks of one lab. */
export interface LabStacks {
  readonly deployment: LabDeployment;
  /** The cloud infrastructure, clusters included (stack `<lab>`). */
  readonly cluster: LabStack;
  /**
   * Namespaces, RBAC, quotas, Secret and ConfigMap inside the clusters (stack `<lab>-k8s`),
   * configured from `cluster`'s outputs: apply after it, destroy before it.
   * @default none: the lab has no kubernetes-cluster component
   */
  readonly clusterObjects?: ClusterObjectsStack;
}

/** Adds every deployment's stacks to `app` (the cdktf entry point uses this with its own App). */
export function addLabStacks(app: App, deployments: readonly LabDeployment[]): LabStacks[] {
  const names = new Set<string>();
  const claim = (name: string) => {
    if (names.has(name))
      throw new ValidationError(
        `two stacks are named '${name}'; lab names must be unique (and not end in -k8s when a lab of that name has a cluster)`,
      );
    names.add(name);
  };
  return deployments.map((d) => {
    claim(d.name);
    const cluster = new LabStack(app, d.name, { deployment: d });
    if (!runsOnKubernetes(d.lab)) return { deployment: d, cluster };
    claim(`${d.name}-k8s`);
    const clusterObjects = new ClusterObjectsStack(app, `${d.name}-k8s`, {
      deployment: d,
      state: { backend: labBackend, clusterOutputs: clusterStackState },
    });
    // Orders `cdktf deploy` (cluster first) and `cdktf destroy` (cluster objects first); the
    // values flow through the cluster stack's state, not through cross-stack references.
    clusterObjects.addDependency(cluster);
    return { deployment: d, cluster, clusterObjects };
  });
}

/** Number of resource blocks in a synthesized stack. */
export function countResources(json: { resource?: Record<string, Record<string, unknown>> }): number {
  return Object.values(json.resource ?? {}).reduce((sum, byName) => sum + Object.keys(byName).length, 0);
}

/** Synthesizes every deployment; reports each lab's cluster stack, then its `<lab>-k8s` stack. */
export function synthAws(deployments: readonly LabDeployment[], outdir: string): SynthesizedStack[] {
  const app = new App({ outdir, skipValidation: false });
  const labs = addLabStacks(app, deployments);
  app.synth();
  return labs.flatMap(({ deployment, cluster, clusterObjects }) =>
    [cluster, clusterObjects].flatMap((stack) => {
      if (stack === undefined) return [];
      const name = stack.node.id;
      const file = join(outdir, 'stacks', name, 'cdk.tf.json');
      const resources = countResources(JSON.parse(readFileSync(file, 'utf8')) as Parameters<typeof countResources>[0]);
      return [{ lab: deployment.name, stack: name, file, resources }];
    }),
  );
}
