// Bad props fail at construction, naming the construct path, not at deploy time.
import { App, TerraformStack } from 'cdktf';
import { describe, expect, it } from 'vitest';
import { LabEksCluster } from '../../constructs/aws/eks.js';
import { EksRoles } from '../../constructs/aws/iam.js';
import { LabKafka } from '../../constructs/aws/kafka.js';
import { LabNetwork } from '../../constructs/aws/network.js';
import { placeShards } from '../../constructs/model/aws-plan.js';
import { LabSecurityGroup } from '../../constructs/aws/security-group.js';
import { addLabStacks } from '../../constructs/aws/synth.js';
import { resolveDeployment } from '../../constructs/model/deployment.js';
import type { LabSpec } from '../../constructs/model/types.js';
import { getLab } from '../../labs/index.js';

function stack(): TerraformStack {
  return new TerraformStack(new App({ outdir: '/tmp/labforge-unused' }), 'Lab');
}

describe('construct validation', () => {
  it('refuses a Kafka broker count that is not a multiple of the subnets, naming the path', () => {
    const props = {
      name: 'k',
      brokers: 4,
      instanceType: 'kafka.t3.small',
      vpcId: 'vpc',
      subnetIds: ['a', 'b', 'c'],
      allowCidrs: ['10.10.0.0/16'],
      kmsKeyArn: 'arn',
    };
    expect(() => new LabKafka(stack(), 'Events', props)).toThrow('Lab/Events: brokers must be a multiple of the 3 subnets, got 4');
  });

  it('refuses to open a port to the whole internet', () => {
    expect(
      () =>
        new LabSecurityGroup(stack(), 'Sg', {
          name: 's',
          vpcId: 'v',
          description: 'd',
          ingress: [{ port: 22, from: { cidr: '0.0.0.0/0' }, description: 'ssh' }],
        }),
    ).toThrow('Lab/Sg: port 22 may not be opened to 0.0.0.0/0');
  });

  it('refuses an EKS node group whose desired size is outside min..max', () => {
    const s = stack();
    const roles = new EksRoles(s, 'Roles', { name: 'lf-x' });
    const props = {
      name: 'c',
      version: '1.31',
      roles,
      subnetIds: ['a', 'b'],
      kmsKeyArn: 'arn',
      nodeInstanceType: 't3.medium',
      minNodes: 2,
      maxNodes: 4,
      desiredNodes: 5,
    };
    expect(() => new LabEksCluster(s, 'K8s', props)).toThrow('Lab/K8s: desiredNodes must be between 2 and 4, got 5');
  });

  it('refuses more than 3 AZs in a network', () => {
    expect(() => new LabNetwork(stack(), 'Net', { name: 'n', azs: 4 })).toThrow('Lab/Net: azs must be 1-3, got 4');
  });

  it('places shard primaries round-robin and every replica in another region', () => {
    expect(placeShards(3, 1, 2)).toEqual([
      { shard: 0, primary: 0, replicas: [1] },
      { shard: 1, primary: 1, replicas: [0] },
      { shard: 2, primary: 0, replicas: [1] },
    ]);
    expect(() => placeShards(2, 2, 2)).toThrow('replicas (2) must each be in another region: needs 3 regions, got 2');
  });

  it('refuses a lab whose spec lists an output the engine cannot fill', () => {
    const base = getLab('beginner');
    const lab: LabSpec = { ...base, outputs: [...base.outputs, { name: 'no_such_output', description: 'x', sensitive: false }] };
    const app = new App({ outdir: '/tmp/labforge-unused' });
    expect(() => addLabStacks(app, [resolveDeployment(lab, { owner: 't' })])).toThrow(
      "beginner: output 'no_such_output' of the beginner lab has no value in the aws engine",
    );
  });
});
