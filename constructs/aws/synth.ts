// Entry of the cdktf AWS engine: one App per call, one TerraformStack per lab.
import { App, TerraformStack } from 'cdktf';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider/index.js';
import { Vpc } from '@cdktf/provider-aws/lib/vpc/index.js';
import type { LabDeployment } from '../model/deployment.js';
import { labTags } from '../model/tags.js';

export interface SynthesizedStack {
  readonly lab: string;
  readonly stack: string;
  /** Path of the Terraform JSON file. */
  readonly file: string;
  readonly resources: number;
}

export function synthAws(deployments: readonly LabDeployment[], outdir: string): SynthesizedStack[] {
  const app = new App({ outdir, skipValidation: false });
  for (const d of deployments) {
    const stack = new TerraformStack(app, d.name);
    new AwsProvider(stack, 'aws', {
      region: d.regions[0],
      defaultTags: [{ tags: labTags({ lab: d.name, level: d.lab.level, owner: d.owner, expiresAt: d.expiresAt }) }],
    });
    new Vpc(stack, 'vpc', { cidrBlock: '10.10.0.0/16' });
  }
  app.synth();
  return deployments.map((d) => ({ lab: d.name, stack: d.name, file: `${outdir}/stacks/${d.name}/cdk.tf.json`, resources: 1 }));
}
