// The lab's customer-managed KMS key of one region (EKS secrets, RDS replicas, MSK at rest).
import { Construct } from 'constructs';
import { KmsAlias } from '@cdktf/provider-aws/lib/kms-alias/index.js';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key/index.js';
import { checkKmsKey } from '../model/aws-plan-checks.js';

export interface LabKmsKeyProps {
  /** Alias name without `alias/`, e.g. `lf-expert-use1`. */
  readonly name: string;
  /** Waiting period before deletion; 7 is the shortest AWS allows. @default 7 */
  readonly deletionWindowDays?: number;
}

export class LabKmsKey extends Construct {
  readonly key: KmsKey;

  constructor(scope: Construct, id: string, props: LabKmsKeyProps) {
    super(scope, id);
    const days = props.deletionWindowDays ?? 7;
    checkKmsKey(this.node.path, days);
    this.key = new KmsKey(this, 'key', {
      description: `labforge ${props.name}`,
      deletionWindowInDays: days,
      enableKeyRotation: true,
    });
    new KmsAlias(this, 'alias', { name: `alias/${props.name}`, targetKeyId: this.key.keyId });
  }

  get arn(): string {
    return this.key.arn;
  }
}
