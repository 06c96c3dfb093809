// Facts about the AWS labs that every AWS engine (cdktf, Pulumi) shares: service ports, the
// Debian AMI publisher, and IAM policy documents as JSON strings (engine references inside
// resolve at apply time). Where things go (regions, shards, ingress) is the plan's: aws-plan.ts.

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
export const EKS_NODE_POLICY_ARNS = ['AmazonEKSWorkerNodePolicy', 'AmazonEKS_CNI_Policy', 'AmazonEC2ContainerRegistryReadOnly'].map(
  (p) => `${MANAGED}${p}`,
);

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
  return [
    {
      Sid: 'EncryptSecrets',
      Effect: 'Allow',
      Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ListGrants', 'kms:DescribeKey'],
      Resource: [kmsKeyArn],
    },
  ];
}

/** Settings every lab database shares, primary or replica: private, single-AZ, encrypted, disposable. */
export const DISPOSABLE_DATABASE = {
  storageEncrypted: true,
  publiclyAccessible: false,
  multiAz: false,
  deletionProtection: false,
  skipFinalSnapshot: true,
  applyImmediately: true,
  autoMinorVersionUpgrade: true,
  copyTagsToSnapshot: true,
  // Learners can practise token-based logins; passwords keep working too.
  iamDatabaseAuthenticationEnabled: true,
} as const;

/** IMDSv2 only, one hop: containers on a VM, or pods on a node, cannot take the instance's credentials. */
export const IMDSV2_ONLY = { httpTokens: 'required', httpEndpoint: 'enabled', httpPutResponseHopLimit: 1 } as const;

/** An instance's root volume: encrypted gp3, deleted with it, tagged like it (default tags do not reach volumes reliably). */
export function encryptedRootVolume(diskGb: number, name: string, tags?: Readonly<Record<string, string>>) {
  return {
    encrypted: true,
    volumeType: 'gp3',
    volumeSize: diskGb,
    deleteOnTermination: true,
    tags: tags ? { ...tags, Name: name } : undefined,
  };
}

/**
 * An EKS cluster's settings (`R`: an engine's reference type): secrets encrypted with the lab key,
 * a private API endpoint that is public only to `publicAccessCidr`, access entries, deletable.
 */
export function eksClusterSettings<R>(c: {
  readonly name: string;
  readonly version: string;
  readonly roleArn: R;
  readonly subnetIds: readonly R[];
  readonly kmsKeyArn: R;
  readonly publicAccessCidr?: string;
}) {
  const publicAccess = c.publicAccessCidr !== undefined;
  return {
    name: c.name,
    version: c.version,
    roleArn: c.roleArn,
    vpcConfig: {
      subnetIds: [...c.subnetIds],
      endpointPrivateAccess: true,
      endpointPublicAccess: publicAccess,
      publicAccessCidrs: publicAccess ? [c.publicAccessCidr] : undefined,
    },
    encryptionConfig: { provider: { keyArn: c.kmsKeyArn }, resources: ['secrets'] },
    accessConfig: { authenticationMode: 'API', bootstrapClusterCreatorAdminPermissions: true },
    deletionProtection: false,
  };
}

/** The launch template of an EKS node group: IMDSv2, an encrypted root volume, and tags on what the node group launches. */
export function eksNodeTemplateSettings(cluster: string, diskGb: number, tags: Readonly<Record<string, string>>) {
  const nodeTags = { ...tags, Name: `${cluster}-node` };
  return {
    namePrefix: `${cluster}-nodes-`,
    description: 'labforge EKS nodes: IMDSv2, encrypted root volume',
    updateDefaultVersion: true,
    // Hop limit 1: pods (not on the host network) cannot take the node role's credentials.
    metadataOptions: IMDSV2_ONLY,
    blockDeviceMappings: [
      { deviceName: '/dev/xvda', ebs: { encrypted: 'true', volumeType: 'gp3', volumeSize: diskGb, deleteOnTermination: 'true' } },
    ],
    // Instances and volumes are created by the node group's Auto Scaling group, which default
    // tags never reach: tag them here.
    tagSpecifications: [
      { resourceType: 'instance', tags: nodeTags },
      { resourceType: 'volume', tags: nodeTags },
    ],
  };
}

/** An EKS managed node group (`R`: an engine's reference type), started from the launch template above. */
export function eksNodeGroupSettings<R>(g: {
  readonly cluster: string;
  readonly clusterName: R;
  readonly nodeRoleArn: R;
  readonly subnetIds: readonly R[];
  readonly nodeInstanceType: string;
  readonly minNodes: number;
  readonly maxNodes: number;
  readonly desiredNodes: number;
  readonly launchTemplate: { readonly id: R; readonly version: R };
}) {
  return {
    clusterName: g.clusterName,
    nodeGroupName: `${g.cluster}-nodes`,
    nodeRoleArn: g.nodeRoleArn,
    subnetIds: [...g.subnetIds],
    amiType: 'AL2023_x86_64_STANDARD',
    instanceTypes: [g.nodeInstanceType],
    scalingConfig: { minSize: g.minNodes, maxSize: g.maxNodes, desiredSize: g.desiredNodes },
    launchTemplate: { id: g.launchTemplate.id, version: g.launchTemplate.version },
    updateConfig: { maxUnavailable: 1 },
  };
}
