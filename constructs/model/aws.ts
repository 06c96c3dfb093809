// Facts about the AWS labs that every AWS engine (cdktf, Pulumi) shares: service ports, where
// shards and replicas go, the Debian AMI publisher, and IAM policy documents as JSON strings
// (engine references inside resolve at apply time).

export const POSTGRES_PORT = 5432;
export const REDIS_PORT = 6379;
export const AMQPS_PORT = 5671;
/** MSK TLS listener (unauthenticated over TLS) and IAM-authenticated TLS listener. */
export const KAFKA_TLS_PORT = 9094;
export const KAFKA_IAM_PORT = 9098;

/** Debian's AWS account, which publishes the official Debian AMIs. */
export const DEBIAN_AMI_OWNER = '136693071363';
export const DEBIAN_AMI_FILTERS = [
  { name: 'name', values: ['debian-12-amd64-*'] },
  { name: 'architecture', values: ['x86_64'] },
  { name: 'virtualization-type', values: ['hvm'] },
] as const;

/** Private subnets start at this /20 index so public ones can grow without renumbering. */
export const PRIVATE_SUBNET_OFFSET = 8;

const MANAGED = 'arn:aws:iam::aws:policy/';
export const EKS_CLUSTER_POLICY_ARNS = [`${MANAGED}AmazonEKSClusterPolicy`] as const;
export const EKS_NODE_POLICY_ARNS = ['AmazonEKSWorkerNodePolicy', 'AmazonEKS_CNI_Policy', 'AmazonEC2ContainerRegistryReadOnly'].map((p) => `${MANAGED}${p}`);

export interface ShardPlacement {
  readonly shard: number;
  /** Index into the lab's regions. */
  readonly primary: number;
  /** Region indexes of the replicas, each different from the primary's. */
  readonly replicas: readonly number[];
}

/**
 * Primaries round-robin over the regions; replica r of shard s goes to the r-th next region, so
 * each replica is in a region other than its primary's and replicas of one shard never share one.
 */
export function placeShards(shards: number, replicas: number, regions: number): ShardPlacement[] {
  if (!Number.isInteger(shards) || shards < 1) throw new Error(`shards must be >= 1, got ${shards}`);
  if (!Number.isInteger(replicas) || replicas < 0) throw new Error(`replicas must be >= 0, got ${replicas}`);
  if (replicas > regions - 1) throw new Error(`replicas (${replicas}) must each be in another region: needs ${replicas + 1} regions, got ${regions}`);
  return Array.from({ length: shards }, (_, shard) => {
    const primary = shard % regions;
    return { shard, primary, replicas: Array.from({ length: replicas }, (_, r) => (primary + r + 1) % regions) };
  });
}

export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action: readonly string[];
  readonly Resource: readonly string[];
}

export function policyDocument(statements: readonly PolicyStatement[]): string {
  for (const s of statements) {
    if (s.Resource.some((r) => r === '*')) throw new Error(`policy statement ${s.Sid ?? ''} uses Resource '*': name the resources`);
  }
  return JSON.stringify({ Version: '2012-10-17', Statement: statements });
}

export function assumeRolePolicy(service: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' }],
  });
}

/** The statements of a VM's instance role: read the named parameters, use the named buckets. */
export function vmAccessStatements(readParameterArns: readonly string[] = [], bucketArns: readonly string[] = []): PolicyStatement[] {
  const statements: PolicyStatement[] = [];
  if (readParameterArns.length > 0) {
    statements.push({ Sid: 'ReadLabSecrets', Effect: 'Allow', Action: ['ssm:GetParameter'], Resource: [...readParameterArns] });
  }
  if (bucketArns.length > 0) {
    statements.push({ Sid: 'ListBuckets', Effect: 'Allow', Action: ['s3:ListBucket'], Resource: [...bucketArns] });
    statements.push({
      Sid: 'UseObjects',
      Effect: 'Allow',
      Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
      Resource: bucketArns.map((arn) => `${arn}/*`),
    });
  }
  return statements;
}

/** What EKS's cluster role may do with the key that encrypts Kubernetes secrets. */
export function eksKeyStatements(kmsKeyArn: string): PolicyStatement[] {
  return [{ Sid: 'EncryptSecrets', Effect: 'Allow', Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ListGrants', 'kms:DescribeKey'], Resource: [kmsKeyArn] }];
}
