// The backend block of a lab's stacks and the `-k8s` stack's read of the cluster stack's outputs:
// local files beside cdk.tf.json, or one encrypted, lock-file-locked object per stack in the
// S3 bucket the user named (`--backend s3://...`).
import {
  DataTerraformRemoteStateLocal,
  DataTerraformRemoteStateS3,
  LocalBackend,
  S3Backend,
  type TerraformRemoteState,
  type TerraformStack,
} from 'cdktf';
import { backendRegion, stateKey } from '../model/backend.js';
import type { LabDeployment } from '../model/deployment.js';

/** Declares where `stack` (named `stackName`) keeps its state. */
export function labBackend(stack: TerraformStack, d: LabDeployment, stackName: string): void {
  const b = d.backend;
  // Local: relative to where terraform runs (the stack's directory), not the synth's cwd.
  if (b === undefined) return void new LocalBackend(stack, { path: 'terraform.tfstate' });
  const backend = new S3Backend(stack, {
    bucket: b.bucket,
    key: stateKey(b, d.name, stackName),
    region: backendRegion(b, d.regions),
    encrypt: true,
  });
  // S3's own lock object (tofu/terraform >= 1.10); cdktf 0.21 has no property for it.
  backend.addOverride('use_lockfile', true);
}

/** The outputs of the lab's cluster stack (named like the lab), wherever its state lives. */
export function clusterStackState(stack: TerraformStack, id: string, d: LabDeployment): TerraformRemoteState {
  const b = d.backend;
  if (b === undefined) return new DataTerraformRemoteStateLocal(stack, id, { path: `../${d.name}/terraform.tfstate` });
  return new DataTerraformRemoteStateS3(stack, id, {
    bucket: b.bucket,
    key: stateKey(b, d.name, d.name),
    region: backendRegion(b, d.regions),
  });
}
