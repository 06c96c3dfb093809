// The Pulumi engine, run against Pulumi's mock monitor (pulumi.runtime.setMocks): a mock stands in
// for the Pulumi engine and AWS, which cannot run here. The program itself is the real one; these
// tests read the inputs it registers and assert the lab's security and teardown rules on them.
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveDeployment, type LabDeployment } from '../../constructs/model/deployment.js';
import { REQUIRED_TAG_KEYS, TAG_EXPIRES_AT, TAG_LAB, TAG_LEVEL, TAG_OWNER } from '../../constructs/model/tags.js';
import { LEVELS, type Level } from '../../constructs/model/types.js';
import { registrations, type Registration } from '../../constructs/pulumi/inventory.js';
import { getLab } from '../../labs/index.js';

const NOW = new Date('2026-01-01T00:00:00Z');

function deploy(level: Level, options: { allowCidr?: string; regions?: string } = {}): LabDeployment {
  return resolveDeployment(getLab(level), { owner: 'tester', ttl: '4h', now: NOW, ...options });
}

const byLevel = new Map<Level, { d: LabDeployment; seen: Registration[] }>();

beforeAll(async () => {
  // One at a time: Pulumi's runtime state is per process.
  for (const level of LEVELS) {
    const d = deploy(level);
    byLevel.set(level, { d, seen: await registrations(d) });
  }
});

const of = (level: Level, type: string) => byLevel.get(level)!.seen.filter((r) => r.type === type);
const input = (r: Registration, path: string): unknown =>
  path.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], r.inputs);

describe.each(LEVELS)('%s lab under Pulumi mocks', (level) => {
  it('builds from labforge components: every resource is parented under labforge:aws:Lab', () => {
    const { seen } = byLevel.get(level)!;
    const components = seen.filter((r) => !r.custom);
    expect(components.map((c) => c.type)).toContain('labforge:aws:Lab');
    expect(components.every((c) => /^labforge:aws:[A-Z]\w+$/.test(c.type))).toBe(true);
    // The mock monitor's URN type is `<parent type>$<type>`: every resource has a labforge parent.
    const parentType = (r: Registration) => r.urn.split('::')[2]!.split('$')[0];
    for (const r of seen) {
      if (r.type === 'labforge:aws:Lab') continue;
      expect(parentType(r), `${r.type} ${r.name}`).toMatch(/^labforge:aws:/);
      // Cloud resources belong to a component, never to the lab directly; providers do.
      if (r.custom) expect(parentType(r) === 'labforge:aws:Lab', `${r.type} ${r.name}`).toBe(r.type.startsWith('pulumi:providers:'));
    }
  });

  it('gives every AWS provider the four labforge tags as default tags', () => {
    const { d } = byLevel.get(level)!;
    const providers = of(level, 'pulumi:providers:aws');
    expect(providers.map((p) => p.inputs.region)).toEqual([...d.regions]);
    for (const p of providers) {
      // Provider inputs reach the engine JSON-encoded.
      const defaultTags = typeof p.inputs.defaultTags === 'string' ? JSON.parse(p.inputs.defaultTags) : p.inputs.defaultTags;
      const tags = defaultTags.tags as Record<string, string>;
      expect(Object.keys(tags).sort()).toEqual([...REQUIRED_TAG_KEYS].sort());
      expect(tags[TAG_LAB]).toBe(d.name);
      expect(tags[TAG_LEVEL]).toBe(level);
      expect(tags[TAG_OWNER]).toBe('tester');
      expect(tags[TAG_EXPIRES_AT]).toBe('2026-01-01T04:00:00Z');
    }
  });

  it('creates every AWS resource with an explicit provider (none falls back to the default one)', () => {
    const names = new Set(of(level, 'pulumi:providers:aws').map((p) => p.name));
    const aws = byLevel.get(level)!.seen.filter((r) => r.custom && r.type.startsWith('aws:'));
    expect(aws.length).toBeGreaterThan(10);
    for (const r of aws) expect(names.has(r.provider ?? ''), `${r.type} ${r.name} uses provider ${r.provider}`).toBe(true);
  });

  it('opens no port to the world and keeps every database private, encrypted and disposable', () => {
    for (const rule of of(level, 'aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule')) {
      expect(String(rule.inputs.cidrIpv4 ?? '')).not.toMatch(/\/0$/);
    }
    for (const db of of(level, 'aws:rds/instance:Instance')) {
      expect(db.inputs).toMatchObject({
        publiclyAccessible: false,
        storageEncrypted: true,
        deletionProtection: false,
        skipFinalSnapshot: true,
      });
    }
  });
});

describe('resource inputs per level under Pulumi mocks', () => {
  it('beginner: the VM asks for IMDSv2 only and an encrypted gp3 root volume, and its role reads only its password parameter', () => {
    const [vm] = of('beginner', 'aws:ec2/instance:Instance');
    expect(input(vm!, 'metadataOptions')).toMatchObject({ httpTokens: 'required', httpPutResponseHopLimit: 1 });
    expect(input(vm!, 'rootBlockDevice')).toMatchObject({ encrypted: true, volumeType: 'gp3', deleteOnTermination: true });
    expect(String(vm!.inputs.userData)).toContain('/labforge/beginner/db/password');
    const [policy] = of('beginner', 'aws:iam/rolePolicy:RolePolicy');
    const doc = JSON.parse(String(policy!.inputs.policy)) as { Statement: { Action: string[]; Resource: string[] }[] };
    expect(doc.Statement.flatMap((s) => s.Action)).toEqual(['ssm:GetParameter']);
    expect(doc.Statement.flatMap((s) => s.Resource).every((r) => r !== '*')).toBe(true);
  });

  it('beginner: without --allow-cidr the VM security group has no ingress; with one, only SSH and PostgreSQL from it', async () => {
    expect(of('beginner', 'aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule')).toHaveLength(0);
    const open = await registrations(deploy('beginner', { allowCidr: '203.0.113.7/32' }));
    const rules = open.filter((r) => r.type === 'aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule');
    expect(rules.map((r) => [r.inputs.fromPort, r.inputs.cidrIpv4])).toEqual([
      [22, '203.0.113.7/32'],
      [5432, '203.0.113.7/32'],
    ]);
  });

  it('intermediate: the bucket is force-destroyable, blocks public access and is encrypted; Redis uses TLS, at-rest encryption and AUTH', () => {
    expect(of('intermediate', 'aws:s3/bucket:Bucket')[0]!.inputs.forceDestroy).toBe(true);
    expect(of('intermediate', 'aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock')[0]!.inputs).toMatchObject({
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    expect(
      input(of('intermediate', 'aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration')[0]!, 'rules'),
    ).toEqual([{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'AES256' } }]);
    const redis = of('intermediate', 'aws:elasticache/replicationGroup:ReplicationGroup')[0]!;
    expect(redis.inputs).toMatchObject({ atRestEncryptionEnabled: true, transitEncryptionEnabled: true });
    expect(String(redis.inputs.authToken ?? '')).not.toBe('');
  });

  it('advanced: EKS encrypts secrets with the lab key and keeps its API private without --allow-cidr; nodes use IMDSv2; ECR deletes with its images', () => {
    const cluster = of('advanced', 'aws:eks/cluster:Cluster')[0]!;
    expect(input(cluster, 'encryptionConfig.resources')).toEqual(['secrets']);
    expect(input(cluster, 'vpcConfig')).toMatchObject({ endpointPrivateAccess: true, endpointPublicAccess: false });
    expect(cluster.inputs.deletionProtection).toBe(false);
    expect(input(of('advanced', 'aws:ec2/launchTemplate:LaunchTemplate')[0]!, 'metadataOptions.httpTokens')).toBe('required');
    expect(of('advanced', 'aws:ecr/repository:Repository').map((r) => r.inputs.forceDelete)).toEqual([true, true]);
    expect(of('advanced', 'aws:mq/broker:Broker')[0]!.inputs.publiclyAccessible).toBe(false);
    expect(of('advanced', 'aws:kms/key:Key')[0]!.inputs).toMatchObject({ enableKeyRotation: true, deletionWindowInDays: 7 });
  });

  it('expert: one explicit provider per region, and each regional resource and replica in the right one', () => {
    const { d, seen } = byLevel.get('expert')!;
    const regionOf = new Map(of('expert', 'pulumi:providers:aws').map((p) => [p.name, String(p.inputs.region)]));
    expect([...regionOf.values()]).toEqual(['us-east-1', 'eu-west-1']);
    const regions = (type: string) => seen.filter((r) => r.type === type).map((r) => regionOf.get(r.provider ?? ''));
    for (const type of ['aws:ec2/vpc:Vpc', 'aws:eks/cluster:Cluster', 'aws:msk/cluster:Cluster'])
      expect(regions(type).sort(), type).toEqual([...d.regions].sort());
    // 2 shards, each with its primary in one region and its replica in the other.
    const dbs = of('expert', 'aws:rds/instance:Instance');
    const primaries = dbs.filter((db) => db.inputs.replicateSourceDb === undefined);
    const replicas = dbs.filter((db) => db.inputs.replicateSourceDb !== undefined);
    expect(primaries.map((db) => regionOf.get(db.provider!))).toEqual(['us-east-1', 'eu-west-1']);
    expect(replicas.map((db) => regionOf.get(db.provider!))).toEqual(['eu-west-1', 'us-east-1']);
    for (const replica of replicas) expect(String(replica.inputs.kmsKeyId ?? '')).not.toBe('');
    // The peering is requested in one region and accepted in the other.
    const [request] = of('expert', 'aws:ec2/vpcPeeringConnection:VpcPeeringConnection');
    const [accept] = of('expert', 'aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter');
    expect([regionOf.get(request!.provider!), request!.inputs.peerRegion, regionOf.get(accept!.provider!)]).toEqual([
      'us-east-1',
      'eu-west-1',
      'eu-west-1',
    ]);
    expect(input(of('expert', 'aws:msk/cluster:Cluster')[0]!, 'encryptionInfo.encryptionInTransit')).toEqual({
      clientBroker: 'TLS',
      inCluster: true,
    });
  });
});
