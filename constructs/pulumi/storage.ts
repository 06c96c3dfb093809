// Object and image storage: a private S3 bucket (public access blocked, encrypted, owner
// enforced, force-destroyable) and ECR repositories (immutable tags, scan on push, deletable
// with their images), so teardown never stops at something a learner filled.
import * as pulumi from '@pulumi/pulumi';
import { Repository } from '@pulumi/aws/ecr/repository.js';
import { Bucket as S3Bucket } from '@pulumi/aws/s3/bucket.js';
import { BucketOwnershipControls } from '@pulumi/aws/s3/bucketOwnershipControls.js';
import { BucketPublicAccessBlock } from '@pulumi/aws/s3/bucketPublicAccessBlock.js';
import { BucketServerSideEncryptionConfiguration } from '@pulumi/aws/s3/bucketServerSideEncryptionConfiguration.js';
import { checkBucketPrefix, checkRegistry } from '../model/aws-plan-checks.js';
import { componentType } from './region.js';

export class Bucket extends pulumi.ComponentResource {
  readonly bucket: S3Bucket;

  constructor(name: string, args: { readonly namePrefix: string }, opts: pulumi.ComponentResourceOptions) {
    super(componentType('Bucket'), name, {}, opts);
    checkBucketPrefix(name, args.namePrefix);
    const child = { parent: this };
    this.bucket = new S3Bucket(`${name}-bucket`, { bucketPrefix: args.namePrefix, forceDestroy: true }, child);
    new BucketPublicAccessBlock(
      `${name}-public-access`,
      { bucket: this.bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
      child,
    );
    new BucketOwnershipControls(`${name}-ownership`, { bucket: this.bucket.id, rule: { objectOwnership: 'BucketOwnerEnforced' } }, child);
    new BucketServerSideEncryptionConfiguration(
      `${name}-encryption`,
      { bucket: this.bucket.id, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'AES256' } }] },
      child,
    );
    this.registerOutputs({ name: this.bucket.bucket });
  }
}

export class Registry extends pulumi.ComponentResource {
  readonly urls: Record<string, pulumi.Output<string>> = {};

  constructor(
    name: string,
    args: { readonly namespace: string; readonly repositories: readonly string[] },
    opts: pulumi.ComponentResourceOptions,
  ) {
    super(componentType('Registry'), name, {}, opts);
    checkRegistry(name, args.repositories);
    for (const repo of args.repositories) {
      this.urls[repo] = new Repository(
        `${name}-${repo}`,
        {
          name: `${args.namespace}/${repo}`,
          forceDelete: true,
          imageTagMutability: 'IMMUTABLE',
          imageScanningConfiguration: { scanOnPush: true },
          encryptionConfigurations: [{ encryptionType: 'AES256' }],
        },
        { parent: this },
      ).repositoryUrl;
    }
    this.registerOutputs({ urls: this.urls });
  }
}
