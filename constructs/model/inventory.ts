// The cloud resource inventory of a lab: what an engine would create, engine-neutral, so the
// cdktf and Pulumi engines can be compared (parity) and priced (cost) the same way.

export type InventoryEngine = 'cdktf' | 'pulumi';

export interface InventoryItem {
  /** Canonical kind: the Terraform resource type (`aws_instance`); Pulumi types map onto it. */
  readonly kind: string;
  /** The engine's own type: `aws_instance`, `aws:ec2/instance:Instance`. */
  readonly type: string;
  /** Logical name inside the engine (cdktf: the resource address name; Pulumi: the resource name). */
  readonly name: string;
  /** Region of the provider the resource is created with. */
  readonly region: string;
  /** Key properties (camelCase paths, see KEY_PROPERTIES): what a reader and the pricing need. */
  readonly properties: Readonly<Record<string, unknown>>;
}

export interface Inventory {
  readonly engine: InventoryEngine;
  /** Lab instance name. */
  readonly lab: string;
  readonly level: string;
  readonly regions: readonly string[];
  readonly items: readonly InventoryItem[];
}

// The two providers name the same AWS resource differently (Terraform `aws_db_instance`, Pulumi
// `aws:rds/instance:Instance`): this table maps every Pulumi type token the labs use onto the
// Terraform type, so both engines' inventories share one `kind`. It lists every resource type
// the cdktf engine creates for the four lab stacks (not the `-k8s` stacks); tokens and class
// names are those of @pulumi/aws 7.48 and @pulumi/random 4.21 (`static __pulumiType`).
export const PULUMI_KINDS: Record<string, string> = {
  'aws:ec2/defaultSecurityGroup:DefaultSecurityGroup': 'aws_default_security_group', // aws.ec2.DefaultSecurityGroup
  'aws:ec2/eip:Eip': 'aws_eip', // aws.ec2.Eip
  'aws:ec2/instance:Instance': 'aws_instance', // aws.ec2.Instance
  'aws:ec2/internetGateway:InternetGateway': 'aws_internet_gateway', // aws.ec2.InternetGateway
  'aws:ec2/launchTemplate:LaunchTemplate': 'aws_launch_template', // aws.ec2.LaunchTemplate
  'aws:ec2/natGateway:NatGateway': 'aws_nat_gateway', // aws.ec2.NatGateway
  'aws:ec2/route:Route': 'aws_route', // aws.ec2.Route
  'aws:ec2/routeTable:RouteTable': 'aws_route_table', // aws.ec2.RouteTable
  'aws:ec2/routeTableAssociation:RouteTableAssociation': 'aws_route_table_association', // aws.ec2.RouteTableAssociation
  'aws:ec2/securityGroup:SecurityGroup': 'aws_security_group', // aws.ec2.SecurityGroup
  'aws:ec2/subnet:Subnet': 'aws_subnet', // aws.ec2.Subnet
  'aws:ec2/vpc:Vpc': 'aws_vpc', // aws.ec2.Vpc
  'aws:ec2/vpcPeeringConnection:VpcPeeringConnection': 'aws_vpc_peering_connection', // aws.ec2.VpcPeeringConnection
  'aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter': 'aws_vpc_peering_connection_accepter', // aws.ec2.VpcPeeringConnectionAccepter
  'aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule': 'aws_vpc_security_group_egress_rule', // aws.vpc.SecurityGroupEgressRule
  'aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule': 'aws_vpc_security_group_ingress_rule', // aws.vpc.SecurityGroupIngressRule
  'aws:ecr/repository:Repository': 'aws_ecr_repository', // aws.ecr.Repository
  'aws:eks/cluster:Cluster': 'aws_eks_cluster', // aws.eks.Cluster
  'aws:eks/nodeGroup:NodeGroup': 'aws_eks_node_group', // aws.eks.NodeGroup
  'aws:elasticache/replicationGroup:ReplicationGroup': 'aws_elasticache_replication_group', // aws.elasticache.ReplicationGroup
  'aws:elasticache/subnetGroup:SubnetGroup': 'aws_elasticache_subnet_group', // aws.elasticache.SubnetGroup
  'aws:iam/instanceProfile:InstanceProfile': 'aws_iam_instance_profile', // aws.iam.InstanceProfile
  'aws:iam/role:Role': 'aws_iam_role', // aws.iam.Role
  'aws:iam/rolePolicy:RolePolicy': 'aws_iam_role_policy', // aws.iam.RolePolicy
  'aws:iam/rolePolicyAttachment:RolePolicyAttachment': 'aws_iam_role_policy_attachment', // aws.iam.RolePolicyAttachment
  'aws:kms/alias:Alias': 'aws_kms_alias', // aws.kms.Alias
  'aws:kms/key:Key': 'aws_kms_key', // aws.kms.Key
  'aws:mq/broker:Broker': 'aws_mq_broker', // aws.mq.Broker
  'aws:msk/cluster:Cluster': 'aws_msk_cluster', // aws.msk.Cluster
  'aws:rds/instance:Instance': 'aws_db_instance', // aws.rds.Instance
  'aws:rds/subnetGroup:SubnetGroup': 'aws_db_subnet_group', // aws.rds.SubnetGroup
  'aws:route53/healthCheck:HealthCheck': 'aws_route53_health_check', // aws.route53.HealthCheck
  'aws:route53/record:Record': 'aws_route53_record', // aws.route53.Record
  'aws:route53/zone:Zone': 'aws_route53_zone', // aws.route53.Zone
  // aws.s3.Bucket, not the deprecated aws.s3.BucketV2 ("deprecated in favor of s3.Bucket" in 7.x).
  'aws:s3/bucket:Bucket': 'aws_s3_bucket',
  'aws:s3/bucketOwnershipControls:BucketOwnershipControls': 'aws_s3_bucket_ownership_controls', // aws.s3.BucketOwnershipControls
  'aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock': 'aws_s3_bucket_public_access_block', // aws.s3.BucketPublicAccessBlock
  // aws.s3.BucketServerSideEncryptionConfiguration (cdktf: S3BucketServerSideEncryptionConfigurationA),
  // not the deprecated aws.s3.BucketServerSideEncryptionConfigurationV2.
  'aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration':
    'aws_s3_bucket_server_side_encryption_configuration',
  'aws:ssm/parameter:Parameter': 'aws_ssm_parameter', // aws.ssm.Parameter
  'random:index/randomPassword:RandomPassword': 'random_password', // random.RandomPassword
};

/** The Terraform kind of a Pulumi type token. */
export function kindOfPulumiType(token: string): string {
  const kind = PULUMI_KINDS[token];
  if (kind === undefined)
    throw new Error(`Pulumi type '${token}' has no Terraform kind in PULUMI_KINDS (constructs/model/inventory.ts): add it`);
  return kind;
}

/**
 * Per kind, the properties (dotted camelCase paths in Pulumi's input shape) that tell a reader
 * what the resource is and that the cost is computed from. Kinds not listed carry none.
 */
export const KEY_PROPERTIES: Record<string, readonly string[]> = {
  aws_instance: [
    'instanceType',
    'associatePublicIpAddress',
    'rootBlockDevice.volumeSize',
    'rootBlockDevice.encrypted',
    'metadataOptions.httpTokens',
  ],
  aws_db_instance: [
    'engine',
    'engineVersion',
    'instanceClass',
    'allocatedStorage',
    'storageEncrypted',
    'publiclyAccessible',
    'replicateSourceDb',
  ],
  aws_elasticache_replication_group: ['nodeType', 'numCacheClusters', 'transitEncryptionEnabled'],
  aws_mq_broker: ['hostInstanceType', 'engineType', 'publiclyAccessible'],
  aws_msk_cluster: ['numberOfBrokerNodes', 'brokerNodeGroupInfo.instanceType', 'brokerNodeGroupInfo.storageInfo.ebsStorageInfo.volumeSize'],
  aws_eks_cluster: ['version'],
  aws_eks_node_group: ['instanceTypes', 'scalingConfig.desiredSize', 'scalingConfig.minSize', 'scalingConfig.maxSize'],
  aws_nat_gateway: [],
  aws_eip: ['domain'],
  aws_route53_zone: ['name'],
  aws_route53_health_check: ['type', 'fqdn'],
  aws_s3_bucket: ['forceDestroy'],
  aws_ecr_repository: ['name', 'forceDelete'],
  aws_kms_key: ['enableKeyRotation'],
  aws_vpc: ['cidrBlock'],
  aws_subnet: ['cidrBlock'],
  aws_vpc_security_group_ingress_rule: ['fromPort', 'cidrIpv4'],
};

/** Attributes whose values are maps with user keys (tag names): their keys stay as written. */
const MAP_ATTRIBUTES = new Set(['tags', 'tags_all']);

function camelKey(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

/** Deep snake_case -> camelCase of object keys: a Terraform JSON body in Pulumi's input shape. */
export function camelize(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(camelize);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([k, v]) => [camelKey(k), MAP_ATTRIBUTES.has(k) ? v : camelize(v)]),
  );
}

/**
 * The value at a dotted path. Terraform JSON writes a nested block as an object or as a
 * one-element array (Pulumi always as an object), so a one-element array is looked through.
 */
export function pick(props: unknown, path: string): unknown {
  let at: unknown = props;
  for (const part of path.split('.')) {
    if (Array.isArray(at) && at.length === 1) at = at[0];
    if (at === null || typeof at !== 'object' || Array.isArray(at)) return undefined;
    at = (at as Record<string, unknown>)[part];
  }
  return at;
}

/**
 * The KEY_PROPERTIES of `kind` present in `camelInputs`, keyed by dotted path. cdktf references
 * (`${aws_...}`) stay strings; Pulumi gives values unknown before deployment as undefined,
 * which are left out.
 */
export function keyProperties(kind: string, camelInputs: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const path of KEY_PROPERTIES[kind] ?? []) {
    const value = pick(camelInputs, path);
    if (value !== undefined) out[path] = value;
  }
  return out;
}

/** Items per kind, keys sorted. */
export function countByKind(items: readonly InventoryItem[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[item.kind] = (counts[item.kind] ?? 0) + 1;
  return Object.fromEntries(
    Object.keys(counts)
      .sort()
      .map((kind) => [kind, counts[kind]!]),
  );
}

/** Stable order for readers and diffs: by kind, then name. */
export function byKindThenName(a: InventoryItem, b: InventoryItem): number {
  if (a.kind !== b.kind) return a.kind < b.kind ? -1 : 1;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
