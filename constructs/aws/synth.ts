// Entry of the cdktf AWS engine: one App per call, one LabStack (TerraformStack) per lab.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'cdktf';
import type { LabDeployment } from '../model/deployment.js';
import { LabStack } from './lab-stack.js';

export interface SynthesizedStack {
  readonly lab: string;
  readonly stack: string;
  /** Path of the Terraform JSON file. */
  readonly file: string;
  readonly resources: number;
}

/** Adds one LabStack per deployment to `app` (the cdktf entry point uses this with its own App). */
export function addLabStacks(app: App, deployments: readonly LabDeployment[]): LabStack[] {
  const names = new Set<string>();
  return deployments.map((d) => {
    if (names.has(d.name)) throw new Error(`two labs are named '${d.name}'; stack names must be unique`);
    names.add(d.name);
    return new LabStack(app, d.name, { deployment: d });
  });
}

/** Number of resource blocks in a synthesized stack. */
export function countResources(json: { resource?: Record<string, Record<string, unknown>> }): number {
  return Object.values(json.resource ?? {}).reduce((sum, byName) => sum + Object.keys(byName).length, 0);
}

export function synthAws(deployments: readonly LabDeployment[], outdir: string): SynthesizedStack[] {
  const app = new App({ outdir, skipValidation: false });
  addLabStacks(app, deployments);
  app.synth();
  return deployments.map((d) => {
    const file = join(outdir, 'stacks', d.name, 'cdk.tf.json');
    const resources = countResources(JSON.parse(readFileSync(file, 'utf8')));
    return { lab: d.name, stack: d.name, file, resources };
  });
}
