// Listing the other services a lab uses, each through its own API (the tagging API misses some
// of them on some back ends and keeps deleted resources visible for a while): S3, IAM and
// Route 53 once for the account; RDS, ElastiCache, MSK, Amazon MQ, EKS, ECR, KMS and SSM per
// region. Then the tagging API, for any other kind that carries the tags.
import { ListTagsForResourceCommand as EcrTags, paginateDescribeRepositories } from '@aws-sdk/client-ecr';
import { DescribeClusterCommand, DescribeNodegroupCommand, paginateListClusters, paginateListNodegroups } from '@aws-sdk/client-eks';
import {
  ListTagsForResourceCommand as CacheTags,
  paginateDescribeCacheSubnetGroups,
  paginateDescribeReplicationGroups,
} from '@aws-sdk/client-elasticache';
import { GetInstanceProfileCommand, ListRoleTagsCommand, paginateListInstanceProfiles, paginateListRoles } from '@aws-sdk/client-iam';
import { paginateListClustersV2 } from '@aws-sdk/client-kafka';
import { DescribeKeyCommand, ListResourceTagsCommand, paginateListKeys } from '@aws-sdk/client-kms';
import { DescribeBrokerCommand, paginateListBrokers } from '@aws-sdk/client-mq';
import { ListTagsForResourceCommand as RdsTags, paginateDescribeDBInstances, paginateDescribeDBSubnetGroups } from '@aws-sdk/client-rds';
import { paginateGetResources } from '@aws-sdk/client-resource-groups-tagging-api';
import { ListTagsForResourcesCommand, paginateListHealthChecks, paginateListHostedZones } from '@aws-sdk/client-route-53';
import { GetBucketLocationCommand, GetBucketTaggingCommand, paginateListBuckets } from '@aws-sdk/client-s3';
import { ListTagsForResourceCommand as SsmTags, paginateDescribeParameters } from '@aws-sdk/client-ssm';
import { errorName, mapLimit } from '../aws-sdk/clients.js';
import type { ListContext, Lister } from './discover-ec2.js';
import { GLOBAL, filterTags, matchesFilter, parseArn, tagRecord, type SweepResource } from './types.js';

/** labforge names every IAM role and instance profile `lf-<lab>-...`: only those are read. */
const IAM_PREFIX = 'lf-';

async function collect<P, T>(pages: AsyncIterable<P>, items: (page: P) => T[] | undefined): Promise<T[]> {
  const out: T[] = [];
  for await (const page of pages) out.push(...(items(page) ?? []));
  return out;
}

/** Lists candidates, reads each one's tags (a few at a time), keeps those that match. */
async function byTags<T>(
  ctx: ListContext,
  candidates: readonly T[],
  tagsOf: (item: T) => Promise<Record<string, string>>,
  make: (item: T, tags: Record<string, string>) => SweepResource,
): Promise<SweepResource[]> {
  const tagged = await mapLimit(candidates, 8, async (item) => ({ item, tags: await tagsOf(item) }));
  return tagged.filter((t) => matchesFilter(t.tags, ctx.filter)).map((t) => make(t.item, t.tags));
}

function resource(
  ctx: ListContext,
  kind: string,
  id: string,
  tags: Record<string, string>,
  extra: Partial<SweepResource> = {},
): SweepResource {
  return { kind, id, region: ctx.region, tags, via: 'tags', ...extra };
}

/** `EU` and an empty constraint are what GetBucketLocation says for eu-west-1 and us-east-1. */
function bucketRegion(constraint: string | undefined): string {
  if (!constraint) return 'us-east-1';
  return constraint === 'EU' ? 'eu-west-1' : constraint;
}

export const globalListers: Lister[] = [
  {
    service: 's3',
    kinds: ['s3:bucket'],
    global: true,
    async list(ctx) {
      const s3 = ctx.clients.s3(ctx.region);
      const buckets = await collect(paginateListBuckets({ client: s3 }, {}), (p) => p.Buckets);
      const tagged = await byTags(
        ctx,
        buckets,
        async (b) => {
          try {
            return tagRecord((await s3.send(new GetBucketTaggingCommand({ Bucket: b.Name! }))).TagSet);
          } catch (error) {
            if (errorName(error) === 'NoSuchTagSet') return {};
            throw error;
          }
        },
        (b, tags) => resource(ctx, 's3:bucket', b.Name!, tags, { arn: `arn:aws:s3:::${b.Name}`, region: b.BucketRegion ?? '' }),
      );
      // ListBuckets names each bucket's region on AWS today; older answers need GetBucketLocation.
      return mapLimit(tagged, 8, async (b) =>
        b.region ? b : { ...b, region: bucketRegion((await s3.send(new GetBucketLocationCommand({ Bucket: b.id }))).LocationConstraint) },
      );
    },
  },
  {
    service: 'iam',
    kinds: ['iam:role', 'iam:instance-profile'],
    global: true,
    async list(ctx) {
      const iam = ctx.clients.iam();
      const roles = (await collect(paginateListRoles({ client: iam }, {}), (p) => p.Roles)).filter((r) =>
        r.RoleName!.startsWith(IAM_PREFIX),
      );
      const profiles = (await collect(paginateListInstanceProfiles({ client: iam }, {}), (p) => p.InstanceProfiles)).filter((p) =>
        p.InstanceProfileName!.startsWith(IAM_PREFIX),
      );
      const global = { region: GLOBAL };
      return [
        ...(await byTags(
          ctx,
          roles,
          async (r) => tagRecord((await iam.send(new ListRoleTagsCommand({ RoleName: r.RoleName! }))).Tags),
          (r, tags) => resource(ctx, 'iam:role', r.RoleName!, tags, { ...global, arn: r.Arn }),
        )),
        ...(await byTags(
          ctx,
          profiles,
          // GetInstanceProfile carries the tags (ListInstanceProfileTags is missing on some back ends).
          async (p) =>
            tagRecord(
              p.Tags ??
                (await iam.send(new GetInstanceProfileCommand({ InstanceProfileName: p.InstanceProfileName! }))).InstanceProfile?.Tags,
            ),
          (p, tags) => resource(ctx, 'iam:instance-profile', p.InstanceProfileName!, tags, { ...global, arn: p.Arn }),
        )),
      ];
    },
  },
  {
    service: 'route53',
    kinds: ['route53:hostedzone', 'route53:healthcheck'],
    global: true,
    async list(ctx) {
      const r53 = ctx.clients.route53();
      const zones = await collect(paginateListHostedZones({ client: r53 }, {}), (p) => p.HostedZones);
      const checks = await collect(paginateListHealthChecks({ client: r53 }, {}), (p) => p.HealthChecks);
      const tagsOf = async (type: 'hostedzone' | 'healthcheck', ids: string[]) => {
        const out = new Map<string, Record<string, string>>();
        for (let i = 0; i < ids.length; i += 10) {
          const { ResourceTagSets } = await r53.send(
            new ListTagsForResourcesCommand({ ResourceType: type, ResourceIds: ids.slice(i, i + 10) }),
          );
          for (const set of ResourceTagSets ?? []) out.set(set.ResourceId!, tagRecord(set.Tags));
        }
        return out;
      };
      const zoneId = (id: string) => id.replace(/^\/hostedzone\//, '');
      const zoneTags = await tagsOf(
        'hostedzone',
        zones.map((z) => zoneId(z.Id!)),
      );
      const checkTags = await tagsOf(
        'healthcheck',
        checks.map((c) => c.Id!),
      );
      return [
        ...zones
          .filter((z) => matchesFilter(zoneTags.get(zoneId(z.Id!)), ctx.filter))
          .map((z) => resource(ctx, 'route53:hostedzone', zoneId(z.Id!), zoneTags.get(zoneId(z.Id!))!, { region: GLOBAL, name: z.Name })),
        ...checks
          .filter((c) => matchesFilter(checkTags.get(c.Id!), ctx.filter))
          .map((c) =>
            resource(ctx, 'route53:healthcheck', c.Id!, checkTags.get(c.Id!)!, {
              region: GLOBAL,
              name: c.HealthCheckConfig?.FullyQualifiedDomainName,
            }),
          ),
      ];
    },
  },
];

export const serviceListers: Lister[] = [
  {
    service: 'rds',
    kinds: ['rds:db', 'rds:subgrp'],
    async list(ctx) {
      const rds = ctx.clients.rds(ctx.region);
      const dbs = await collect(paginateDescribeDBInstances({ client: rds }, {}), (p) => p.DBInstances);
      const groups = await collect(paginateDescribeDBSubnetGroups({ client: rds }, {}), (p) => p.DBSubnetGroups);
      return [
        ...dbs
          .filter((d) => d.DBInstanceStatus !== 'deleted' && matchesFilter(tagRecord(d.TagList), ctx.filter))
          .map((d) =>
            resource(ctx, 'rds:db', d.DBInstanceIdentifier!, tagRecord(d.TagList), {
              arn: d.DBInstanceArn,
              state: d.DBInstanceStatus,
              replica: Boolean(d.ReadReplicaSourceDBInstanceIdentifier),
            }),
          ),
        ...(await byTags(
          ctx,
          groups,
          async (g) => tagRecord((await rds.send(new RdsTags({ ResourceName: g.DBSubnetGroupArn! }))).TagList),
          (g, tags) => resource(ctx, 'rds:subgrp', g.DBSubnetGroupName!, tags, { arn: g.DBSubnetGroupArn, parent: g.VpcId }),
        )),
      ];
    },
  },
  {
    service: 'elasticache',
    kinds: ['elasticache:replicationgroup', 'elasticache:subnetgroup'],
    async list(ctx) {
      const cache = ctx.clients.elasticache(ctx.region);
      const groups = await collect(paginateDescribeReplicationGroups({ client: cache }, {}), (p) => p.ReplicationGroups);
      const subnetGroups = await collect(paginateDescribeCacheSubnetGroups({ client: cache }, {}), (p) => p.CacheSubnetGroups);
      const tagsOf = async (arn: string | undefined) =>
        arn ? tagRecord((await cache.send(new CacheTags({ ResourceName: arn }))).TagList) : {};
      return [
        ...(await byTags(
          ctx,
          groups.filter((g) => g.Status !== 'deleting'),
          (g) => tagsOf(g.ARN),
          (g, tags) => resource(ctx, 'elasticache:replicationgroup', g.ReplicationGroupId!, tags, { arn: g.ARN, state: g.Status }),
        )),
        ...(await byTags(
          ctx,
          subnetGroups,
          (g) => tagsOf(g.ARN),
          (g, tags) => resource(ctx, 'elasticache:subnetgroup', g.CacheSubnetGroupName!, tags, { arn: g.ARN, parent: g.VpcId }),
        )),
      ];
    },
  },
  {
    service: 'kafka',
    kinds: ['kafka:cluster'],
    async list(ctx) {
      const clusters = await collect(paginateListClustersV2({ client: ctx.clients.kafka(ctx.region) }, {}), (p) => p.ClusterInfoList);
      return clusters
        .filter((c) => c.State !== 'DELETING' && matchesFilter(tagRecord(c.Tags), ctx.filter))
        .map((c) =>
          resource(ctx, 'kafka:cluster', c.ClusterArn!, tagRecord(c.Tags), { arn: c.ClusterArn, name: c.ClusterName, state: c.State }),
        );
    },
  },
  {
    service: 'mq',
    kinds: ['mq:broker'],
    async list(ctx) {
      const mq = ctx.clients.mq(ctx.region);
      const brokers = await collect(paginateListBrokers({ client: mq }, {}), (p) => p.BrokerSummaries);
      return byTags(
        ctx,
        brokers.filter((b) => b.BrokerState !== 'DELETION_IN_PROGRESS'),
        async (b) => tagRecord((await mq.send(new DescribeBrokerCommand({ BrokerId: b.BrokerId! }))).Tags),
        (b, tags) => resource(ctx, 'mq:broker', b.BrokerId!, tags, { arn: b.BrokerArn, name: b.BrokerName, state: b.BrokerState }),
      );
    },
  },
  {
    service: 'eks',
    kinds: ['eks:cluster', 'eks:nodegroup'],
    async list(ctx) {
      const eks = ctx.clients.eks(ctx.region);
      const names = await collect(paginateListClusters({ client: eks }, {}), (p) => p.clusters);
      const clusters = await mapLimit(names, 8, async (name) => (await eks.send(new DescribeClusterCommand({ name }))).cluster!);
      const found: SweepResource[] = [];
      for (const c of clusters.filter((c) => matchesFilter(c.tags, ctx.filter))) {
        // Node groups before their cluster: those of a tagged cluster go with it, tagged or not.
        const groups = await collect(paginateListNodegroups({ client: eks }, { clusterName: c.name! }), (p) => p.nodegroups);
        for (const g of await mapLimit(
          groups,
          8,
          async (nodegroupName) => (await eks.send(new DescribeNodegroupCommand({ clusterName: c.name!, nodegroupName }))).nodegroup!,
        )) {
          const tags = tagRecord(g.tags);
          found.push(
            resource(ctx, 'eks:nodegroup', g.nodegroupName!, tags, {
              arn: g.nodegroupArn,
              parent: c.name,
              state: g.status,
              via: matchesFilter(tags, ctx.filter) ? 'tags' : `in tagged cluster ${c.name}`,
            }),
          );
        }
        found.push(resource(ctx, 'eks:cluster', c.name!, tagRecord(c.tags), { arn: c.arn, state: c.status }));
      }
      return found;
    },
  },
  {
    service: 'ecr',
    kinds: ['ecr:repository'],
    async list(ctx) {
      const ecr = ctx.clients.ecr(ctx.region);
      const repositories = await collect(paginateDescribeRepositories({ client: ecr }, {}), (p) => p.repositories);
      return byTags(
        ctx,
        repositories,
        async (r) => tagRecord((await ecr.send(new EcrTags({ resourceArn: r.repositoryArn! }))).tags),
        (r, tags) => resource(ctx, 'ecr:repository', r.repositoryName!, tags, { arn: r.repositoryArn }),
      );
    },
  },
  {
    service: 'kms',
    kinds: ['kms:key'],
    async list(ctx) {
      const kms = ctx.clients.kms(ctx.region);
      const keys = await collect(paginateListKeys({ client: kms }, {}), (p) => p.Keys);
      const described = await mapLimit(keys, 8, async (k) => (await kms.send(new DescribeKeyCommand({ KeyId: k.KeyId! }))).KeyMetadata!);
      return byTags(
        ctx,
        described.filter((k) => k.KeyManager !== 'AWS'),
        async (k) =>
          tagRecord(
            (await kms.send(new ListResourceTagsCommand({ KeyId: k.KeyId! }))).Tags?.map((t) => ({ Key: t.TagKey, Value: t.TagValue })),
          ),
        (k, tags) => resource(ctx, 'kms:key', k.KeyId!, tags, { arn: k.Arn, state: k.KeyState }),
      );
    },
  },
  {
    service: 'ssm',
    kinds: ['ssm:parameter'],
    async list(ctx) {
      const ssm = ctx.clients.ssm(ctx.region);
      const filters = filterTags(ctx.filter).map((t) => ({ Key: `tag:${t.key}`, Values: [t.value] }));
      const parameters = await collect(paginateDescribeParameters({ client: ssm }, { ParameterFilters: filters }), (p) => p.Parameters);
      // DescribeParameters returns no tags: each candidate's own tags are read, not taken on trust.
      return byTags(
        ctx,
        parameters,
        async (p) => tagRecord((await ssm.send(new SsmTags({ ResourceType: 'Parameter', ResourceId: p.Name! }))).TagList),
        (p, tags) => resource(ctx, 'ssm:parameter', p.Name!, tags, { arn: p.ARN }),
      );
    },
  },
];

/** Kinds that the sweep lists (and deletes) through their own services. */
export function listedKinds(listers: readonly Lister[]): Set<string> {
  return new Set(listers.flatMap((l) => l.kinds));
}

/** Kinds that exist only as part of another resource and go with it. */
const PART_OF: Readonly<Record<string, string>> = {
  'elasticache:cluster': 'a member of its replication group: goes with it',
  'elasticloadbalancing:listener': 'a listener of its load balancer: goes with it',
  'elasticloadbalancing:listener-rule': 'a rule of its load balancer: goes with it',
};

/** Everything else that carries the tags, from the Resource Groups Tagging API: shown, not deleted. */
export function taggingLister(listed: ReadonlySet<string>): Lister {
  return {
    service: 'tagging',
    kinds: [],
    async list(ctx) {
      const tagFilters = filterTags(ctx.filter).map((t) => ({ Key: t.key, Values: [t.value] }));
      const mappings = await collect(
        paginateGetResources({ client: ctx.clients.tagging(ctx.region) }, { TagFilters: tagFilters }),
        (p) => p.ResourceTagMappingList,
      );
      return mappings.flatMap((m): SweepResource[] => {
        const parsed = parseArn(m.ResourceARN!);
        if (!parsed || listed.has(parsed.kind)) return [];
        const skip = PART_OF[parsed.kind] ?? `labforge sweep has no deleter for ${parsed.kind}: delete it by hand`;
        return [
          {
            kind: parsed.kind,
            id: parsed.id,
            arn: m.ResourceARN,
            region: parsed.region === GLOBAL ? GLOBAL : ctx.region,
            tags: tagRecord(m.Tags),
            via: 'tags',
            skip,
          },
        ];
      });
    },
  };
}
