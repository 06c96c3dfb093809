// A private S3 bucket: all public access blocked, encrypted, owner-enforced, force-destroyable.
import { Construct } from 'constructs';
import { S3BucketOwnershipControls } from '@cdktf/provider-aws/lib/s3-bucket-ownership-controls/index.js';
import { S3BucketPublicAccessBlock } from '@cdktf/provider-aws/lib/s3-bucket-public-access-block/index.js';
import { S3BucketServerSideEncryptionConfigurationA } from '@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration/index.js';
import { S3BucketVersioningA } from '@cdktf/provider-aws/lib/s3-bucket-versioning/index.js';
import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket/index.js';
import { checkBucketPrefix } from '../model/aws-plan-checks.js';

export interface LabBucketProps {
  /** Name prefix (<= 37 characters); AWS appends a unique suffix, names are global. */
  readonly namePrefix: string;
  /** Keep object versions. @default false */
  readonly versioned?: boolean;
}

export class LabBucket extends Construct {
  readonly bucket: S3Bucket;

  constructor(scope: Construct, id: string, props: LabBucketProps) {
    super(scope, id);
    checkBucketPrefix(this.node.path, props.namePrefix);
    // force_destroy: teardown must not stop at a bucket the learner filled.
    this.bucket = new S3Bucket(this, 'bucket', { bucketPrefix: props.namePrefix, forceDestroy: true });
    new S3BucketPublicAccessBlock(this, 'public-access', {
      bucket: this.bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    new S3BucketOwnershipControls(this, 'ownership', { bucket: this.bucket.id, rule: { objectOwnership: 'BucketOwnerEnforced' } });
    new S3BucketServerSideEncryptionConfigurationA(this, 'encryption', {
      bucket: this.bucket.id,
      rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'AES256' } }],
    });
    if (props.versioned ?? false) {
      new S3BucketVersioningA(this, 'versioning', { bucket: this.bucket.id, versioningConfiguration: { status: 'Enabled' } });
    }
  }

  get arn(): string {
    return this.bucket.arn;
  }

  get name(): string {
    return this.bucket.bucket;
  }
}
