// The lab's customer-managed KMS key of one region (EKS secrets, RDS replicas, MSK at rest),
// with the shortest deletion window AWS allows so a torn-down lab does not linger.
import * as pulumi from '@pulumi/pulumi';
import { Alias } from '@pulumi/aws/kms/alias.js';
import { Key } from '@pulumi/aws/kms/key.js';
import { componentType } from './region.js';

export class KmsKey extends pulumi.ComponentResource {
  readonly key: Key;

  constructor(name: string, args: { readonly alias: string }, opts: pulumi.ComponentResourceOptions) {
    super(componentType('KmsKey'), name, {}, opts);
    this.key = new Key(
      `${name}-key`,
      { description: `labforge ${args.alias}`, deletionWindowInDays: 7, enableKeyRotation: true },
      { parent: this },
    );
    new Alias(`${name}-alias`, { name: `alias/${args.alias}`, targetKeyId: this.key.keyId }, { parent: this });
    this.registerOutputs({ arn: this.key.arn });
  }

  get arn(): pulumi.Output<string> {
    return this.key.arn;
  }
}
