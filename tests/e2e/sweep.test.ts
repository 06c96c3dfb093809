// `labforge sweep` against a real AWS emulator: moto in server mode (PyPI, installed by
// `scripts/setup.sh --test`), one process for every region. The test builds two labs' worth of
// tagged resources with the SDK in two regions, plus untagged look-alikes and another owner's,
// then runs the BUILT CLI and checks with the SDK, independently of the sweep's own listing,
// what is gone and what is still there.
import {
  CreateBucketCommand,
  GetBucketTaggingCommand,
  HeadBucketCommand,
  ListBucketsCommand,
  PutBucketTaggingCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  AllocateAddressCommand,
  AssociateAddressCommand,
  AssociateRouteTableCommand,
  AttachInternetGatewayCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateInternetGatewayCommand,
  CreateLaunchTemplateCommand,
  CreateNatGatewayCommand,
  CreateNetworkInterfaceCommand,
  CreateRouteCommand,
  CreateRouteTableCommand,
  CreateSecurityGroupCommand,
  CreateSnapshotCommand,
  CreateSubnetCommand,
  CreateVolumeCommand,
  CreateVpcCommand,
  CreateVpcPeeringConnectionCommand,
  DescribeAddressesCommand,
  DescribeInstancesCommand,
  DescribeInternetGatewaysCommand,
  DescribeLaunchTemplatesCommand,
  DescribeNatGatewaysCommand,
  DescribeNetworkInterfacesCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSnapshotsCommand,
  DescribeSubnetsCommand,
  DescribeVolumesCommand,
  DescribeVpcPeeringConnectionsCommand,
  DescribeVpcsCommand,
  EC2Client,
  RunInstancesCommand,
  type Filter,
  type ResourceType,
} from '@aws-sdk/client-ec2';
import { CreateRepositoryCommand, DescribeRepositoriesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { CreateClusterCommand, CreateNodegroupCommand, EKSClient, ListClustersCommand } from '@aws-sdk/client-eks';
import {
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DescribeLoadBalancersCommand,
  DescribeTargetGroupsCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { CreateAliasCommand, CreateKeyCommand, DescribeKeyCommand, KMSClient, ListAliasesCommand } from '@aws-sdk/client-kms';
import { CreateBrokerCommand, ListBrokersCommand, MqClient } from '@aws-sdk/client-mq';
import {
  CreateDBInstanceCommand,
  CreateDBSubnetGroupCommand,
  DescribeDBInstancesCommand,
  DescribeDBSubnetGroupsCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import {
  ChangeResourceRecordSetsCommand,
  ChangeTagsForResourceCommand,
  CreateHealthCheckCommand,
  CreateHostedZoneCommand,
  ListHealthChecksCommand,
  ListHostedZonesCommand,
  Route53Client,
} from '@aws-sdk/client-route-53';
import {
  AddRoleToInstanceProfileCommand,
  CreateInstanceProfileCommand,
  CreateRoleCommand,
  GetRoleCommand,
  IAMClient,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { GetResourcesCommand, ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { DescribeParametersCommand, GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { labforge } from '../cli/run.js';
import { json, until } from './helpers.js';

const MOTO_VERSION = '5.2.5';
// The SDK is pinned; its notice that later releases need Node 22 is noise in the test output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const REGIONS = ['us-east-1', 'eu-west-1'] as const;
const RUN = Math.random().toString(36).slice(2, 8);
const LAB = 'w1-p01';
const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };

function findMotoServer(): string {
  const cache = process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache');
  const candidates = [process.env.LABFORGE_MOTO_SERVER, join(cache, `labforge/moto-${MOTO_VERSION}/bin/moto_server`)];
  const found = candidates.find((c): c is string => !!c && existsSync(c));
  if (!found)
    throw new Error(`moto_server ${MOTO_VERSION} not found: run scripts/setup.sh --test (pip install 'moto[server]==${MOTO_VERSION}')`);
  return found;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

let moto: ChildProcess | undefined;
let endpoint = '';
let scratch = '';

const sdk = (region: string) => ({ region, endpoint, credentials, maxAttempts: 2 });
const ec2 = (region: string) => new EC2Client(sdk(region));
const s3 = (region: string) => new S3Client({ ...sdk(region), forcePathStyle: true });
const ssm = (region: string) => new SSMClient(sdk(region));
const iam = () => new IAMClient(sdk('us-east-1'));

/** The built CLI with only the emulator's endpoint and dummy keys (no profile, no instance metadata). */
function sweep(args: string[], env: Record<string, string> = {}) {
  return labforge(['sweep', ...args], {
    env: {
      AWS_ENDPOINT_URL: endpoint,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_REGION: '',
      AWS_DEFAULT_REGION: '',
      AWS_PROFILE: '',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_CONFIG_FILE: join(scratch, 'no-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(scratch, 'no-credentials'),
      ...env,
    },
  });
}

type Tags = Record<string, string>;
const tagsOf = (owner: string, lab: string): Tags => ({
  'labforge:owner': owner,
  'labforge:lab': lab,
  'labforge:level': 'beginner',
  Name: `lf-${lab}`,
});
const spec = (type: ResourceType, tags: Tags | undefined) =>
  tags ? { TagSpecifications: [{ ResourceType: type, Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }] } : {};

/** Ids of what a lab fixture made, by kind (as the sweep names kinds). */
type Made = Record<string, string[]>;
const add = (made: Made, kind: string, id: string) => (made[kind] ??= []).push(id);

/** A beginner-like network with a VM, as the cdktf stack would leave it, in one region. */
async function makeNetwork(region: string, tags: Tags | undefined, cidr: string, made: Made, full: boolean): Promise<void> {
  const c = ec2(region);
  const vpc = (await c.send(new CreateVpcCommand({ CidrBlock: cidr, ...spec('vpc', tags) }))).Vpc!.VpcId!;
  add(made, 'ec2:vpc', vpc);
  const subnet = (
    await c.send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: cidr.replace('.0.0/16', '.1.0/24'), ...spec('subnet', tags) }))
  ).Subnet!.SubnetId!;
  add(made, 'ec2:subnet', subnet);
  const sgA = (
    await c.send(
      new CreateSecurityGroupCommand({ VpcId: vpc, GroupName: `app-${RUN}`, Description: 'app', ...spec('security-group', tags) }),
    )
  ).GroupId!;
  add(made, 'ec2:security-group', sgA);
  if (!full) return;
  const sgB = (
    await c.send(new CreateSecurityGroupCommand({ VpcId: vpc, GroupName: `db-${RUN}`, Description: 'db', ...spec('security-group', tags) }))
  ).GroupId!;
  add(made, 'ec2:security-group', sgB);
  // Each group admits the other: neither can go before the references are revoked.
  await c.send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId: sgB,
      IpPermissions: [{ IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432, UserIdGroupPairs: [{ GroupId: sgA }] }],
    }),
  );
  // As cdktf's aws_vpc_security_group_ingress_rule makes it: a rule of its own, with the tags.
  const rule = await c.send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId: sgA,
      IpPermissions: [{ IpProtocol: 'tcp', FromPort: 8080, ToPort: 8080, UserIdGroupPairs: [{ GroupId: sgB }] }],
      ...spec('security-group-rule', tags),
    }),
  );
  if (tags?.['labforge:owner']) add(made, 'ec2:security-group-rule', rule.SecurityGroupRules![0]!.SecurityGroupRuleId!);
  const igw = (await c.send(new CreateInternetGatewayCommand({ ...spec('internet-gateway', tags) }))).InternetGateway!.InternetGatewayId!;
  add(made, 'ec2:internet-gateway', igw);
  await c.send(new AttachInternetGatewayCommand({ InternetGatewayId: igw, VpcId: vpc }));
  const rtb = (await c.send(new CreateRouteTableCommand({ VpcId: vpc, ...spec('route-table', tags) }))).RouteTable!.RouteTableId!;
  add(made, 'ec2:route-table', rtb);
  await c.send(new CreateRouteCommand({ RouteTableId: rtb, DestinationCidrBlock: '0.0.0.0/0', GatewayId: igw }));
  await c.send(new AssociateRouteTableCommand({ RouteTableId: rtb, SubnetId: subnet }));
  const instance = (
    await c.send(
      new RunInstancesCommand({
        ImageId: 'ami-12c6146b',
        InstanceType: 't3.micro',
        MinCount: 1,
        MaxCount: 1,
        SubnetId: subnet,
        SecurityGroupIds: [sgA],
        ...spec('instance', tags),
      }),
    )
  ).Instances![0]!.InstanceId!;
  add(made, 'ec2:instance', instance);
  const eni = (await c.send(new CreateNetworkInterfaceCommand({ SubnetId: subnet, Groups: [sgB], ...spec('network-interface', tags) })))
    .NetworkInterface!.NetworkInterfaceId!;
  add(made, 'ec2:network-interface', eni);
  // What a Kubernetes controller leaves in the lab's VPC: no labforge tags, found through the VPC.
  const stray = (await c.send(new CreateNetworkInterfaceCommand({ SubnetId: subnet, Description: 'ELB app/k8s-lab' }))).NetworkInterface!
    .NetworkInterfaceId!;
  add(made, 'ec2:network-interface', stray);
  const eip = (await c.send(new AllocateAddressCommand({ Domain: 'vpc', ...spec('elastic-ip', tags) }))).AllocationId!;
  add(made, 'ec2:elastic-ip', eip);
  await c.send(new AssociateAddressCommand({ AllocationId: eip, InstanceId: instance }));
}

async function makeBucket(region: string, tags: Tags | undefined, name: string, made: Made): Promise<void> {
  const c = s3(region);
  await c.send(
    new CreateBucketCommand({
      Bucket: name,
      ...(region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: region as 'eu-west-1' } }),
    }),
  );
  if (tags)
    await c.send(
      new PutBucketTaggingCommand({ Bucket: name, Tagging: { TagSet: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) } }),
    );
  await c.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: 'Enabled' } }));
  // Two versions of one key and two more objects: emptying must remove every version.
  for (const key of ['uploads/a.txt', 'uploads/a.txt', 'uploads/b.txt', 'c.txt'])
    await c.send(new PutObjectCommand({ Bucket: name, Key: key, Body: `${key} ${Date.now()}` }));
  add(made, 's3:bucket', name);
}

async function makeParameter(region: string, tags: Tags, name: string, made: Made): Promise<void> {
  await ssm(region).send(
    new PutParameterCommand({
      Name: name,
      Value: 'postgres://lab',
      Type: 'String',
      Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
    }),
  );
  add(made, 'ssm:parameter', name);
}

async function makeRole(tags: Tags, name: string, made: Made, profile: boolean): Promise<void> {
  const Tags = Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
  const trust = JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
  });
  await iam().send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: trust, Tags }));
  const policy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] });
  await iam().send(new PutRolePolicyCommand({ RoleName: name, PolicyName: 'uploads', PolicyDocument: policy }));
  add(made, 'iam:role', name);
  if (profile) {
    await iam().send(new CreateInstanceProfileCommand({ InstanceProfileName: `${name}-profile`, Tags }));
    await iam().send(new AddRoleToInstanceProfileCommand({ InstanceProfileName: `${name}-profile`, RoleName: name }));
    add(made, 'iam:instance-profile', `${name}-profile`);
  }
}

/**
 * The other kinds the advanced and expert stacks create, as far as moto emulates them: a NAT
 * gateway and its address, a volume and its snapshot, a launch template, a cross-region peering,
 * a load balancer and target group that a Kubernetes controller left untagged in the lab's VPC,
 * an ECR repository, a KMS key with its alias, a Route 53 zone with a latency record and its
 * health check, an RDS instance in its subnet group, an EKS cluster with a node group, an
 * Amazon MQ broker. Returns ids to check afterwards.
 */
async function makeExpertKinds(tags: Tags, lab: string) {
  const region = 'us-east-1';
  const list = Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
  const c = ec2(region);
  const vpc = (await c.send(new CreateVpcCommand({ CidrBlock: '10.50.0.0/16', ...spec('vpc', tags) }))).Vpc!.VpcId!;
  const subnet = async (cidr: string, az: string) =>
    (await c.send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: cidr, AvailabilityZone: az, ...spec('subnet', tags) }))).Subnet!
      .SubnetId!;
  const subnets = [await subnet('10.50.1.0/24', 'us-east-1a'), await subnet('10.50.2.0/24', 'us-east-1b')];
  const eip = (await c.send(new AllocateAddressCommand({ Domain: 'vpc', ...spec('elastic-ip', tags) }))).AllocationId!;
  const nat = (await c.send(new CreateNatGatewayCommand({ SubnetId: subnets[0], AllocationId: eip, ...spec('natgateway', tags) })))
    .NatGateway!.NatGatewayId!;
  const volume = (await c.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 1, ...spec('volume', tags) }))).VolumeId!;
  const snapshot = (await c.send(new CreateSnapshotCommand({ VolumeId: volume, ...spec('snapshot', tags) }))).SnapshotId!;
  await c.send(
    new CreateLaunchTemplateCommand({
      LaunchTemplateName: `lf-${lab}-nodes`,
      LaunchTemplateData: { InstanceType: 't3.small' },
      ...spec('launch-template', tags),
    }),
  );
  const peerVpc = (await ec2('eu-west-1').send(new CreateVpcCommand({ CidrBlock: '10.51.0.0/16', ...spec('vpc', tags) }))).Vpc!.VpcId!;
  const peering = (
    await c.send(
      new CreateVpcPeeringConnectionCommand({
        VpcId: vpc,
        PeerVpcId: peerVpc,
        PeerRegion: 'eu-west-1',
        ...spec('vpc-peering-connection', tags),
      }),
    )
  ).VpcPeeringConnection!.VpcPeeringConnectionId!;
  const elb = new ElasticLoadBalancingV2Client(sdk(region));
  await elb.send(new CreateLoadBalancerCommand({ Name: `k8s-${RUN}-web`, Subnets: subnets }));
  await elb.send(new CreateTargetGroupCommand({ Name: `k8s-${RUN}-tg`, VpcId: vpc, Protocol: 'HTTP', Port: 8080 }));
  const ecr = new ECRClient(sdk(region));
  await ecr.send(new CreateRepositoryCommand({ repositoryName: `lf-${lab}/api`, tags: list }));
  await ecr.send(new CreateRepositoryCommand({ repositoryName: `lf-${lab}/lookalike` }));
  const kms = new KMSClient(sdk(region));
  const key = (await kms.send(new CreateKeyCommand({ Tags: Object.entries(tags).map(([TagKey, TagValue]) => ({ TagKey, TagValue })) })))
    .KeyMetadata!.KeyId!;
  await kms.send(new CreateAliasCommand({ AliasName: `alias/lf-${lab}`, TargetKeyId: key }));
  const otherKey = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
  const r53 = new Route53Client(sdk(region));
  const zone = async (name: string) =>
    (await r53.send(new CreateHostedZoneCommand({ Name: name, CallerReference: `${name}-${RUN}` }))).HostedZone!.Id!.replace(
      '/hostedzone/',
      '',
    );
  const zoneId = await zone(`${lab}.lab.example`);
  await r53.send(new ChangeTagsForResourceCommand({ ResourceType: 'hostedzone', ResourceId: zoneId, AddTags: list }));
  const otherZone = await zone(`${lab}-lookalike.lab.example`);
  const check = (
    await r53.send(
      new CreateHealthCheckCommand({
        CallerReference: `hc-${RUN}`,
        HealthCheckConfig: { Type: 'HTTP', FullyQualifiedDomainName: `api.${lab}.lab.example`, Port: 80, ResourcePath: '/health' },
      }),
    )
  ).HealthCheck!.Id!;
  await r53.send(new ChangeTagsForResourceCommand({ ResourceType: 'healthcheck', ResourceId: check, AddTags: list }));
  const record = {
    Name: `api.${lab}.lab.example`,
    Type: 'A' as const,
    SetIdentifier: 'use1',
    Region: 'us-east-1' as const,
    HealthCheckId: check,
    TTL: 60,
    ResourceRecords: [{ Value: '10.50.1.10' }],
  };
  await r53.send(
    new ChangeResourceRecordSetsCommand({
      HostedZoneId: zoneId,
      ChangeBatch: { Changes: [{ Action: 'CREATE', ResourceRecordSet: record }] },
    }),
  );
  const rds = new RDSClient(sdk(region));
  await rds.send(
    new CreateDBSubnetGroupCommand({ DBSubnetGroupName: `lf-${lab}-db`, DBSubnetGroupDescription: 'db', SubnetIds: subnets, Tags: list }),
  );
  await rds.send(
    new CreateDBInstanceCommand({
      DBInstanceIdentifier: `lf-${lab}-db`,
      Engine: 'postgres',
      DBInstanceClass: 'db.t4g.micro',
      AllocatedStorage: 20,
      MasterUsername: 'lab',
      MasterUserPassword: 'lab-password-1',
      DBSubnetGroupName: `lf-${lab}-db`,
      Tags: list,
    }),
  );
  const trust = JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { Service: 'eks.amazonaws.com' }, Action: 'sts:AssumeRole' }],
  });
  const role = (await iam().send(new CreateRoleCommand({ RoleName: `lf-${lab}-eks-cluster`, AssumeRolePolicyDocument: trust, Tags: list })))
    .Role!.Arn!;
  const eks = new EKSClient(sdk(region));
  await eks.send(new CreateClusterCommand({ name: `lf-${lab}-use1`, roleArn: role, resourcesVpcConfig: { subnetIds: subnets }, tags }));
  await eks.send(new CreateNodegroupCommand({ clusterName: `lf-${lab}-use1`, nodegroupName: `lf-${lab}-nodes`, nodeRole: role, subnets }));
  const mq = new MqClient(sdk(region));
  await mq.send(
    new CreateBrokerCommand({
      BrokerName: `lf-${lab}-mq`,
      EngineType: 'RABBITMQ',
      EngineVersion: '3.13',
      HostInstanceType: 'mq.t3.micro',
      DeploymentMode: 'SINGLE_INSTANCE',
      PubliclyAccessible: false,
      AutoMinorVersionUpgrade: true,
      SubnetIds: [subnets[0]!],
      Users: [{ Username: 'lab', Password: 'lab-password-12' }],
      Tags: tags,
    }),
  );
  return { vpc, peerVpc, nat, volume, snapshot, peering, key, otherKey, zoneId, otherZone, check, role, elb, ecr, kms, r53, rds, eks, mq };
}

const ada = tagsOf('ada', LAB);
/** Per region: what carries ada's tags (or lives in her VPC). */
const adaMade: Record<string, Made> = {};
const adaGlobal: Made = {};
/** Untagged look-alikes and bob's labs w1-p02 and w1-p03: none of it may go with ada's sweep. */
const untagged: Made = {};
const bobP02: Made = {};
const bobP03: Made = {};
let expert: Awaited<ReturnType<typeof makeExpertKinds>>;
let eve: { vpc: string; subnet: string };

interface Receipt {
  mode: string;
  ok: boolean;
  resources: { kind: string; id: string; region: string; status: string; via: string; reason?: string }[];
  listingFailures: unknown[];
  seconds: number;
}

const idsIn = (r: Receipt, status?: string) =>
  r.resources
    .filter((e) => !status || e.status === status)
    .map((e) => `${e.region} ${e.kind} ${e.id}`)
    .sort();
const expected = (made: Made, region: string) => Object.entries(made).flatMap(([kind, ids]) => ids.map((id) => `${region} ${kind} ${id}`));
const allAda = () => [...REGIONS.flatMap((region) => expected(adaMade[region]!, region)), ...expected(adaGlobal, 'global')].sort();

/** Independent of the sweep: what still carries `tags` in `region`, by the tagging API and by each service. */
async function stillTagged(region: string, tags: Tags): Promise<string[]> {
  const filters: Filter[] = Object.entries(tags)
    .filter(([k]) => k === 'labforge:owner' || k === 'labforge:lab')
    .map(([k, v]) => ({ Name: `tag:${k}`, Values: [v] }));
  const c = ec2(region);
  const left: string[] = [];
  const tagging = await new ResourceGroupsTaggingAPIClient(sdk(region)).send(
    new GetResourcesCommand({ TagFilters: filters.map((f) => ({ Key: f.Name!.slice(4), Values: f.Values })) }),
  );
  const terminated = new Set(
    (
      (await c.send(new DescribeInstancesCommand({ Filters: [{ Name: 'instance-state-name', Values: ['terminated'] }] }))).Reservations ??
      []
    )
      .flatMap((r) => r.Instances ?? [])
      .map((i) => i.InstanceId!),
  );
  // Terminated instances stay visible for a while (on AWS too): gone for every purpose.
  for (const m of tagging.ResourceTagMappingList ?? [])
    if (!terminated.has(m.ResourceARN!.split('/').pop()!)) left.push(`tagging ${m.ResourceARN}`);
  const live = ((await c.send(new DescribeInstancesCommand({ Filters: filters }))).Reservations ?? [])
    .flatMap((r) => r.Instances ?? [])
    .filter((i) => i.State?.Name !== 'terminated');
  left.push(...live.map((i) => `instance ${i.InstanceId}`));
  left.push(...((await c.send(new DescribeVpcsCommand({ Filters: filters }))).Vpcs ?? []).map((v) => `vpc ${v.VpcId}`));
  left.push(...((await c.send(new DescribeSubnetsCommand({ Filters: filters }))).Subnets ?? []).map((s) => `subnet ${s.SubnetId}`));
  left.push(
    ...((await c.send(new DescribeSecurityGroupsCommand({ Filters: filters }))).SecurityGroups ?? []).map((g) => `sg ${g.GroupId}`),
  );
  left.push(
    ...((await c.send(new DescribeRouteTablesCommand({ Filters: filters }))).RouteTables ?? []).map((t) => `rtb ${t.RouteTableId}`),
  );
  left.push(
    ...((await c.send(new DescribeInternetGatewaysCommand({ Filters: filters }))).InternetGateways ?? []).map(
      (g) => `igw ${g.InternetGatewayId}`,
    ),
  );
  left.push(
    ...((await c.send(new DescribeNetworkInterfacesCommand({ Filters: filters }))).NetworkInterfaces ?? []).map(
      (n) => `eni ${n.NetworkInterfaceId}`,
    ),
  );
  left.push(...((await c.send(new DescribeAddressesCommand({ Filters: filters }))).Addresses ?? []).map((a) => `eip ${a.AllocationId}`));
  const params = await ssm(region).send(
    new DescribeParametersCommand({ ParameterFilters: filters.map((f) => ({ Key: f.Name!, Values: f.Values })) }),
  );
  left.push(...(params.Parameters ?? []).map((p) => `parameter ${p.Name}`));
  return left;
}

/** Buckets (every region) whose tags include `tags`' owner and lab. */
async function taggedBuckets(tags: Tags): Promise<string[]> {
  const c = s3('us-east-1');
  const names = ((await c.send(new ListBucketsCommand({}))).Buckets ?? []).map((b) => b.Name!);
  const out: string[] = [];
  for (const name of names) {
    const set = await c.send(new GetBucketTaggingCommand({ Bucket: name })).then(
      (t) => t.TagSet ?? [],
      () => [],
    );
    const has = (k: string) => set.some((t) => t.Key === k && t.Value === tags[k]);
    if (has('labforge:owner') && has('labforge:lab')) out.push(name);
  }
  return out;
}

/** Every resource of `made` (one region) still exists. */
async function allExist(region: string, made: Made): Promise<void> {
  const c = ec2(region);
  for (const vpc of made['ec2:vpc'] ?? []) expect((await c.send(new DescribeVpcsCommand({ VpcIds: [vpc] }))).Vpcs).toHaveLength(1);
  for (const id of made['ec2:subnet'] ?? [])
    expect((await c.send(new DescribeSubnetsCommand({ SubnetIds: [id] }))).Subnets).toHaveLength(1);
  for (const id of made['ec2:security-group'] ?? [])
    expect((await c.send(new DescribeSecurityGroupsCommand({ GroupIds: [id] }))).SecurityGroups).toHaveLength(1);
  for (const id of made['ec2:instance'] ?? []) {
    const state = (await c.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations?.[0]?.Instances?.[0]?.State?.Name;
    expect({ id, state }).toEqual({ id, state: 'running' });
  }
  for (const id of made['ec2:network-interface'] ?? [])
    expect((await c.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [id] }))).NetworkInterfaces).toHaveLength(1);
  for (const id of made['ec2:elastic-ip'] ?? [])
    expect((await c.send(new DescribeAddressesCommand({ AllocationIds: [id] }))).Addresses).toHaveLength(1);
  for (const name of made['s3:bucket'] ?? []) await s3(region).send(new HeadBucketCommand({ Bucket: name }));
  for (const name of made['ssm:parameter'] ?? []) await ssm(region).send(new GetParameterCommand({ Name: name }));
  for (const name of made['iam:role'] ?? []) await iam().send(new GetRoleCommand({ RoleName: name }));
}

describe('labforge sweep against moto', () => {
  // Teardown first, so a failing start never leaves the emulator running.
  afterAll(async () => {
    if (moto && moto.exitCode === null) {
      const exited = new Promise((resolve) => moto!.once('exit', resolve));
      moto.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
    }
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  // A missing moto (or a failed start) fails every test with the reason, rather than skipping them.
  let setupError: unknown;
  beforeEach(() => {
    if (setupError) throw setupError instanceof Error ? setupError : new Error(String(setupError));
  });
  beforeAll(() => start().catch((error: unknown) => (setupError = error)), 90_000);

  async function start(): Promise<void> {
    const server = findMotoServer();
    scratch = mkdtempSync(join(tmpdir(), 'lf-sweep-'));
    const port = await freePort();
    endpoint = `http://127.0.0.1:${port}`;
    // Its log goes to a file, not a pipe: while spawnSync runs the CLI this process reads no
    // pipe, and a full one (moto logs every request, and a traceback per missing action) would
    // stop moto mid-sweep.
    const log = join(scratch, 'moto.log');
    const fd = openSync(log, 'w');
    moto = spawn(server, ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', fd, fd] });
    closeSync(fd);
    await until(`moto_server on ${endpoint}`, 20_000, async () => ((await fetch(`${endpoint}/moto-api/`)).ok ? true : undefined)).catch(
      (error: Error) => {
        throw new Error(`${error.message}; its log: ${readFileSync(log, 'utf8').slice(-2000)}`);
      },
    );

    for (const [i, region] of REGIONS.entries()) {
      const made: Made = {};
      await makeNetwork(region, ada, `10.${10 + i}.0.0/16`, made, true);
      await makeBucket(region, ada, `lf-${LAB}-uploads-${region}-${RUN}`, made);
      await makeParameter(region, ada, `/labforge/${LAB}/db-url`, made);
      adaMade[region] = made;
    }
    await makeRole(ada, `lf-${LAB}-app`, adaGlobal, true);
    // Look-alikes with the lab's Name but no labforge tags, and bob's two labs.
    await makeNetwork('us-east-1', { Name: `lf-${LAB}` }, '10.20.0.0/16', untagged, true);
    await makeBucket('us-east-1', undefined, `lf-${LAB}-uploads-copy-${RUN}`, untagged);
    await makeNetwork('us-east-1', tagsOf('bob', 'w1-p02'), '10.30.0.0/16', bobP02, false);
    await makeBucket('eu-west-1', tagsOf('bob', 'w1-p02'), `lf-w1-p02-uploads-${RUN}`, bobP02);
    await makeParameter('us-east-1', tagsOf('bob', 'w1-p02'), '/labforge/w1-p02/db-url', bobP02);
    await makeRole(tagsOf('bob', 'w1-p02'), 'lf-w1-p02-app', bobP02, false);
    await makeNetwork('us-east-1', tagsOf('bob', 'w1-p03'), '10.40.0.0/16', bobP03, false);
    await makeBucket('us-east-1', tagsOf('bob', 'w1-p03'), `lf-w1-p03-uploads-${RUN}`, bobP03);
    expert = await makeExpertKinds(tagsOf('cy', 'w1-p04'), 'w1-p04');
    // A lab VPC that holds a subnet without the tags: the sweep must leave both, and say why.
    const blocked = (
      await ec2('us-east-1').send(new CreateVpcCommand({ CidrBlock: '10.70.0.0/16', ...spec('vpc', tagsOf('eve', 'w1-p05')) }))
    ).Vpc!.VpcId!;
    const foreign = (await ec2('us-east-1').send(new CreateSubnetCommand({ VpcId: blocked, CidrBlock: '10.70.1.0/24' }))).Subnet!.SubnetId!;
    eve = { vpc: blocked, subnet: foreign };
  }

  it('a dry run lists every resource tagged owner=ada in both regions, and deletes nothing', async () => {
    const result = sweep(['--owner', 'ada', '--region', REGIONS.join(','), '--json']);
    const receipt = json<Receipt>(result);
    expect({ code: result.code, failures: receipt.listingFailures }).toEqual({ code: 0, failures: [] });
    expect(receipt.mode).toBe('dry-run');
    expect(idsIn(receipt)).toEqual(allAda());
    expect(idsIn(receipt, 'would delete')).toEqual(allAda());
    const stray = adaMade['us-east-1']!['ec2:network-interface']![1]!;
    expect(receipt.resources.find((e) => e.id === stray)?.via).toMatch(/^in tagged VPC vpc-/);
    for (const region of REGIONS) await allExist(region, adaMade[region]!);
    await allExist('us-east-1', adaGlobal);
    console.log(`sweep dry run against moto: ${receipt.seconds}s (CLI-measured), ${receipt.resources.length} resources`);
  });

  it('--apply deletes them all in dependency order, proves nothing tagged owner=ada is left, and touches nothing else', async () => {
    const result = sweep(['--owner', 'ada', '--region', REGIONS.join(','), '--apply', '--json']);
    const receipt = json<Receipt>(result);
    expect({ code: result.code, left: receipt.resources.filter((e) => e.status !== 'deleted') }).toEqual({ code: 0, left: [] });
    expect(receipt.ok).toBe(true);
    expect(idsIn(receipt, 'deleted')).toEqual(allAda());
    for (const region of REGIONS) expect({ region, left: await stillTagged(region, ada) }).toEqual({ region, left: [] });
    expect(await taggedBuckets(ada)).toEqual([]);
    await expect(iam().send(new GetRoleCommand({ RoleName: `lf-${LAB}-app` }))).rejects.toHaveProperty(
      'name',
      expect.stringMatching(/NoSuchEntity/),
    );
    // The look-alikes and bob's labs are all still there.
    await allExist('us-east-1', untagged);
    await allExist('us-east-1', { ...bobP02, 's3:bucket': [] });
    await allExist('eu-west-1', { 's3:bucket': bobP02['s3:bucket']! });
    await allExist('us-east-1', bobP03);
    console.log(`sweep --apply against moto: ${receipt.seconds}s (CLI-measured), ${receipt.resources.length} deleted`);
  });

  it("--lab takes one lab of an owner and leaves the owner's other lab", async () => {
    const dry = json<Receipt>(sweep(['--lab', 'w1-p02', '--region', REGIONS.join(','), '--json']));
    const p02 = [
      ...expected({ ...bobP02, 's3:bucket': [], 'iam:role': [] }, 'us-east-1'),
      ...expected({ 's3:bucket': bobP02['s3:bucket']! }, 'eu-west-1'),
      ...expected({ 'iam:role': bobP02['iam:role']! }, 'global'),
    ].sort();
    expect(idsIn(dry)).toEqual(p02);
    const result = sweep(['--lab', 'w1-p02', '--owner', 'bob', '--region', REGIONS.join(','), '--apply', '--json']);
    expect({ code: result.code, deleted: idsIn(json<Receipt>(result), 'deleted') }).toEqual({ code: 0, deleted: p02 });
    expect(await stillTagged('us-east-1', tagsOf('bob', 'w1-p02'))).toEqual([]);
    expect(await taggedBuckets(tagsOf('bob', 'w1-p02'))).toEqual([]);
    await allExist('us-east-1', bobP03);
    await allExist('us-east-1', untagged);
  });

  it('the text receipt names what it found; a second --apply finds nothing', () => {
    const result = sweep(['--owner', 'ada', '--region', REGIONS.join(','), '--apply']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Sweep receipt for resources tagged owner=ada in us-east-1, eu-west-1 .*nothing found: nothing left$/m);
  });

  it('--apply deletes the kinds of the advanced and expert stacks in order (EKS, RDS, MQ, NAT, peering, ELB, Route 53, ECR, KMS ...)', async () => {
    const result = sweep(['--owner', 'cy', '--region', REGIONS.join(','), '--apply', '--json']);
    const receipt = json<Receipt>(result);
    expect({ code: result.code, ok: receipt.ok, failures: receipt.listingFailures }).toEqual({ code: 0, ok: true, failures: [] });
    const byKind = (status: string) => [...new Set(receipt.resources.filter((e) => e.status === status).map((e) => e.kind))].sort();
    expect(byKind('deleted')).toEqual([
      'ec2:elastic-ip',
      'ec2:launch-template',
      'ec2:natgateway',
      'ec2:network-interface',
      'ec2:snapshot',
      'ec2:subnet',
      'ec2:volume',
      'ec2:vpc',
      'ec2:vpc-peering-connection',
      'ecr:repository',
      'eks:cluster',
      'eks:nodegroup',
      'elasticloadbalancing:loadbalancer',
      'elasticloadbalancing:targetgroup',
      'iam:role',
      'mq:broker',
      'rds:db',
      'rds:subgrp',
      'route53:healthcheck',
      'route53:hostedzone',
    ]);
    expect(receipt.resources.filter((e) => e.status !== 'deleted')).toEqual([
      expect.objectContaining({ kind: 'kms:key', id: expert.key, status: 'pending deletion' }),
    ]);
    expect(receipt.resources.find((e) => e.kind === 'elasticloadbalancing:loadbalancer')?.via).toBe(`in tagged VPC ${expert.vpc}`);
    expect(receipt.resources.find((e) => e.kind === 'eks:nodegroup')?.via).toBe('in tagged cluster lf-w1-p04-use1');
    // Independently, service by service.
    const c = ec2('us-east-1');
    const owned: Filter[] = [{ Name: 'tag:labforge:owner', Values: ['cy'] }];
    expect((await c.send(new DescribeNatGatewaysCommand({ NatGatewayIds: [expert.nat] }))).NatGateways?.map((g) => g.State)).toEqual([
      'deleted',
    ]);
    expect((await c.send(new DescribeVolumesCommand({ Filters: owned }))).Volumes).toEqual([]);
    expect((await c.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'], Filters: owned }))).Snapshots).toEqual([]);
    expect((await c.send(new DescribeLaunchTemplatesCommand({ Filters: owned }))).LaunchTemplates).toEqual([]);
    const peerings =
      (
        await c
          .send(new DescribeVpcPeeringConnectionsCommand({ VpcPeeringConnectionIds: [expert.peering] }))
          .catch(() => ({ VpcPeeringConnections: [] }))
      ).VpcPeeringConnections ?? [];
    expect(peerings.filter((p) => p.Status?.Code !== 'deleted')).toEqual([]);
    for (const region of REGIONS) expect((await ec2(region).send(new DescribeVpcsCommand({ Filters: owned }))).Vpcs).toEqual([]);
    expect(
      (await expert.elb.send(new DescribeLoadBalancersCommand({}))).LoadBalancers?.filter((b) => b.LoadBalancerName === `k8s-${RUN}-web`),
    ).toEqual([]);
    expect(
      (await expert.elb.send(new DescribeTargetGroupsCommand({}))).TargetGroups?.filter((g) => g.TargetGroupName === `k8s-${RUN}-tg`),
    ).toEqual([]);
    expect((await expert.ecr.send(new DescribeRepositoriesCommand({}))).repositories?.map((r) => r.repositoryName)).toEqual([
      'lf-w1-p04/lookalike',
    ]);
    expect((await expert.kms.send(new DescribeKeyCommand({ KeyId: expert.key }))).KeyMetadata?.KeyState).toBe('PendingDeletion');
    expect((await expert.kms.send(new DescribeKeyCommand({ KeyId: expert.otherKey }))).KeyMetadata?.KeyState).toBe('Enabled');
    expect((await expert.kms.send(new ListAliasesCommand({}))).Aliases?.filter((a) => a.AliasName === 'alias/lf-w1-p04')).toEqual([]);
    expect((await expert.r53.send(new ListHostedZonesCommand({}))).HostedZones?.map((z) => z.Id!.replace('/hostedzone/', ''))).toEqual([
      expert.otherZone,
    ]);
    expect((await expert.r53.send(new ListHealthChecksCommand({}))).HealthChecks?.filter((h) => h.Id === expert.check)).toEqual([]);
    expect((await expert.rds.send(new DescribeDBInstancesCommand({}))).DBInstances).toEqual([]);
    expect(
      (await expert.rds.send(new DescribeDBSubnetGroupsCommand({}))).DBSubnetGroups?.filter((g) => g.DBSubnetGroupName === 'lf-w1-p04-db'),
    ).toEqual([]);
    expect((await expert.eks.send(new ListClustersCommand({}))).clusters).toEqual([]);
    expect((await expert.mq.send(new ListBrokersCommand({}))).BrokerSummaries).toEqual([]);
    await expect(iam().send(new GetRoleCommand({ RoleName: 'lf-w1-p04-eks-cluster' }))).rejects.toHaveProperty(
      'name',
      expect.stringMatching(/NoSuchEntity/),
    );
    // A KMS key pending deletion is not swept again, and counts as done.
    const again = json<Receipt>(sweep(['--owner', 'cy', '--region', REGIONS.join(','), '--apply', '--json']));
    expect({ ok: again.ok, resources: again.resources.map((e) => `${e.kind} ${e.status}`) }).toEqual({
      ok: true,
      resources: ['kms:key pending deletion'],
    });
  });

  it('what cannot be deleted is left, with the error and what blocks it, after a second pass; exit 1', async () => {
    const result = sweep(['--owner', 'eve', '--apply', '--json'], { LABFORGE_SWEEP_BACKOFF_MS: '20' });
    const receipt = json<Receipt & { passes: number }>(result);
    expect({ code: result.code, ok: receipt.ok, passes: receipt.passes }).toEqual({ code: 1, ok: false, passes: 3 });
    expect(receipt.resources).toEqual([
      expect.objectContaining({
        kind: 'ec2:vpc',
        id: eve.vpc,
        status: 'left',
        reason: expect.stringMatching(new RegExp(`^DependencyViolation: .*Still in it, without the sweep's tags: ${eve.subnet}$`)),
      }),
    ]);
    expect((await ec2('us-east-1').send(new DescribeSubnetsCommand({ SubnetIds: [eve.subnet] }))).Subnets).toHaveLength(1);
    const text = sweep(['--owner', 'eve', '--apply'], { LABFORGE_SWEEP_BACKOFF_MS: '20' });
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/: 1 left: SOMETHING IS LEFT\n/);
    expect(text.stdout).toMatch(new RegExp(`^left +ec2:vpc +${eve.vpc} +us-east-1 +lf-w1-p05: DependencyViolation`, 'm'));
  });

  it.each([
    [[], /sweep needs --owner X or --lab L/],
    [['--owner', 'ada smith'], /bad --owner 'ada smith'/],
    [['--lab', 'W1_P01'], /bad lab name 'W1_P01'/],
    [['--owner', 'ada', '--region', 'mars-1'], /unknown region 'mars-1'/],
  ])('bad input %j: one line naming it, exit 2, nothing called', (args, message) => {
    const result = sweep(args, { AWS_ENDPOINT_URL: 'http://127.0.0.1:9' });
    expect({ code: result.code, stderr: result.stderr.trim().split('\n') }).toEqual({ code: 2, stderr: [expect.stringMatching(message)] });
  });

  it('an unreachable endpoint or missing credentials: exit 1 with one clear line', async () => {
    const closed = await freePort();
    const unreachable = sweep(['--owner', 'ada'], { AWS_ENDPOINT_URL: `http://127.0.0.1:${closed}` });
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(new RegExp(`labforge: cannot reach http://127.0.0.1:${closed}: .*ECONNREFUSED`));
    const noKeys = sweep(['--owner', 'ada'], { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '' });
    expect(noKeys.code).toBe(1);
    expect(noKeys.stderr).toMatch(/^labforge: no AWS credentials found$/m);
  });

  it('`labforge --help` and `labforge sweep --help` load no AWS SDK module', () => {
    const preload = join(scratch, 'report-sdk.cjs');
    writeFileSync(
      preload,
      `process.on('exit', () => process.stderr.write('SDK ' + Object.keys(require.cache).filter((p) => /node_modules\\/@(aws-sdk|smithy)\\//.test(p)).length + '\\n'));\n`,
    );
    for (const args of [['--help'], ['sweep', '--help']]) {
      const result = labforge(args, { nodeArgs: ['--require', preload] });
      expect({ args, code: result.code, sdk: /SDK (\d+)/.exec(result.stderr)?.[1] }).toEqual({ args, code: 0, sdk: '0' });
    }
    const loads = labforge(['sweep', '--owner', 'ada'], {
      nodeArgs: ['--require', preload],
      env: { AWS_ENDPOINT_URL: endpoint, AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'y', AWS_EC2_METADATA_DISABLED: 'true' },
    });
    expect(Number(/SDK (\d+)/.exec(loads.stderr)?.[1])).toBeGreaterThan(0);
  });
});
