// Deleting the data services, registries, keys, parameters, buckets, DNS and IAM. Databases go
// without a final snapshot and without their automated backups; KMS keys cannot be deleted at
// once, so they are scheduled (7 days, the shortest wait) and reported as pending deletion.
import { DeleteRepositoryCommand } from '@aws-sdk/client-ecr';
import {
  DeleteClusterCommand as DeleteEksCluster,
  DeleteNodegroupCommand,
  DescribeClusterCommand,
  DescribeNodegroupCommand,
} from '@aws-sdk/client-eks';
import {
  DeleteCacheSubnetGroupCommand,
  DeleteReplicationGroupCommand,
  DescribeReplicationGroupsCommand,
} from '@aws-sdk/client-elasticache';
import {
  DeleteInstanceProfileCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  GetInstanceProfileCommand,
  RemoveRoleFromInstanceProfileCommand,
  paginateListAttachedRolePolicies,
  paginateListInstanceProfilesForRole,
  paginateListRolePolicies,
} from '@aws-sdk/client-iam';
import { DeleteClusterCommand as DeleteMskCluster, DescribeClusterV2Command } from '@aws-sdk/client-kafka';
import { DeleteAliasCommand, ScheduleKeyDeletionCommand, paginateListAliases } from '@aws-sdk/client-kms';
import { DeleteBrokerCommand, DescribeBrokerCommand } from '@aws-sdk/client-mq';
import { DeleteDBInstanceCommand, DeleteDBSubnetGroupCommand, DescribeDBInstancesCommand } from '@aws-sdk/client-rds';
import {
  ChangeResourceRecordSetsCommand,
  DeleteHealthCheckCommand,
  DeleteHostedZoneCommand,
  ListResourceRecordSetsCommand,
  type ResourceRecordSet,
} from '@aws-sdk/client-route-53';
import {
  AbortMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListMultipartUploadsCommand,
  ListObjectVersionsCommand,
} from '@aws-sdk/client-s3';
import { DeleteParameterCommand } from '@aws-sdk/client-ssm';
import { STAGE, type DeleteContext, type Deleter } from './delete-ec2.js';
import { MINUTE, waitUntilGone, withRetries } from './retry.js';
import type { SweepResource } from './types.js';

async function collect<P, T>(pages: AsyncIterable<P>, items: (page: P) => T[] | undefined): Promise<T[]> {
  const out: T[] = [];
  for await (const page of pages) out.push(...(items(page) ?? []));
  return out;
}

/** Every object version and delete marker, 1000 per call, then unfinished multipart uploads. */
async function emptyBucket(ctx: DeleteContext, r: SweepResource): Promise<number> {
  const s3 = ctx.clients.s3(r.region);
  let removed = 0;
  let previous = '';
  for (;;) {
    const page = await s3.send(new ListObjectVersionsCommand({ Bucket: r.id, MaxKeys: 1000 }));
    const objects = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].map((v) => ({ Key: v.Key!, VersionId: v.VersionId }));
    if (objects.length === 0) break;
    // The same first version twice: the deletes did not take (and said nothing). Stop, do not spin.
    const first = `${objects[0]!.Key} ${objects[0]!.VersionId}`;
    if (first === previous) throw new Error(`could not empty bucket ${r.id}: ${first} is still there after DeleteObjects`);
    previous = first;
    const result = await s3.send(new DeleteObjectsCommand({ Bucket: r.id, Delete: { Objects: objects, Quiet: true } }));
    if ((result.Errors ?? []).length > 0)
      throw new Error(`could not empty bucket ${r.id}: ${result.Errors![0]!.Code}: ${result.Errors![0]!.Message}`);
    removed += objects.length;
  }
  const uploads = (await s3.send(new ListMultipartUploadsCommand({ Bucket: r.id }))).Uploads ?? [];
  for (const u of uploads) await s3.send(new AbortMultipartUploadCommand({ Bucket: r.id, Key: u.Key!, UploadId: u.UploadId! }));
  return removed;
}

/** A zone's records but the SOA and NS at its apex (those go with the zone). */
async function removableRecords(ctx: DeleteContext, zoneId: string): Promise<ResourceRecordSet[]> {
  const r53 = ctx.clients.route53();
  const records: ResourceRecordSet[] = [];
  let start: { StartRecordName?: string; StartRecordType?: ResourceRecordSet['Type']; StartRecordIdentifier?: string } = {};
  let apex: string | undefined;
  for (;;) {
    const page = await r53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId, ...start }));
    for (const record of page.ResourceRecordSets ?? []) {
      if (record.Type === 'SOA') apex = record.Name;
      records.push(record);
    }
    if (!page.IsTruncated) break;
    start = {
      StartRecordName: page.NextRecordName,
      StartRecordType: page.NextRecordType,
      StartRecordIdentifier: page.NextRecordIdentifier,
    };
  }
  return records.filter((rec) => !((rec.Type === 'SOA' || rec.Type === 'NS') && rec.Name === apex));
}

export const serviceDeleters: Readonly<Record<string, Deleter>> = {
  'eks:nodegroup': {
    stage: STAGE.nodeGroups,
    async delete(ctx, r) {
      const eks = ctx.clients.eks(r.region);
      const ids = { clusterName: r.parent!, nodegroupName: r.id };
      if (r.state !== 'DELETING') await withRetries(ctx.retry, () => eks.send(new DeleteNodegroupCommand(ids)));
      await waitUntilGone(
        `EKS node group ${r.id}`,
        30 * MINUTE,
        async () => !(await eks.send(new DescribeNodegroupCommand(ids))).nodegroup,
      );
      return 'deleted';
    },
  },
  'eks:cluster': {
    stage: STAGE.compute,
    async delete(ctx, r) {
      const eks = ctx.clients.eks(r.region);
      if (r.state !== 'DELETING') await withRetries(ctx.retry, () => eks.send(new DeleteEksCluster({ name: r.id })));
      await waitUntilGone(
        `EKS cluster ${r.id}`,
        30 * MINUTE,
        async () => !(await eks.send(new DescribeClusterCommand({ name: r.id }))).cluster,
      );
      return 'deleted';
    },
  },
  'rds:db': {
    // Read replicas first: their source waits for them.
    stage: (r) => (r.replica ? STAGE.nodeGroups : STAGE.compute),
    async delete(ctx, r) {
      const rds = ctx.clients.rds(r.region);
      if (r.state !== 'deleting') {
        await withRetries(ctx.retry, () =>
          rds.send(new DeleteDBInstanceCommand({ DBInstanceIdentifier: r.id, SkipFinalSnapshot: true, DeleteAutomatedBackups: true })),
        );
      }
      await waitUntilGone(
        `RDS instance ${r.id}`,
        40 * MINUTE,
        async () => ((await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: r.id }))).DBInstances ?? []).length === 0,
      );
      return 'deleted';
    },
  },
  'elasticache:replicationgroup': {
    stage: STAGE.compute,
    async delete(ctx, r) {
      const cache = ctx.clients.elasticache(r.region);
      await withRetries(ctx.retry, () =>
        cache.send(new DeleteReplicationGroupCommand({ ReplicationGroupId: r.id, RetainPrimaryCluster: false })),
      );
      await waitUntilGone(
        `ElastiCache replication group ${r.id}`,
        40 * MINUTE,
        async () =>
          ((await cache.send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: r.id }))).ReplicationGroups ?? []).length === 0,
      );
      return 'deleted';
    },
  },
  'kafka:cluster': {
    stage: STAGE.compute,
    async delete(ctx, r) {
      const kafka = ctx.clients.kafka(r.region);
      if (r.state !== 'DELETING') await withRetries(ctx.retry, () => kafka.send(new DeleteMskCluster({ ClusterArn: r.id })));
      await waitUntilGone(
        `MSK cluster ${r.name ?? r.id}`,
        60 * MINUTE,
        async () => !(await kafka.send(new DescribeClusterV2Command({ ClusterArn: r.id }))).ClusterInfo,
      );
      return 'deleted';
    },
  },
  'mq:broker': {
    stage: STAGE.compute,
    async delete(ctx, r) {
      const mq = ctx.clients.mq(r.region);
      await withRetries(ctx.retry, () => mq.send(new DeleteBrokerCommand({ BrokerId: r.id })));
      await waitUntilGone(
        `MQ broker ${r.name ?? r.id}`,
        40 * MINUTE,
        async () => !(await mq.send(new DescribeBrokerCommand({ BrokerId: r.id }))).BrokerId,
      );
      return 'deleted';
    },
  },
  'rds:subgrp': {
    stage: STAGE.groups,
    async delete(ctx, r) {
      await withRetries(ctx.retry, () => ctx.clients.rds(r.region).send(new DeleteDBSubnetGroupCommand({ DBSubnetGroupName: r.id })));
      return 'deleted';
    },
  },
  'elasticache:subnetgroup': {
    stage: STAGE.groups,
    async delete(ctx, r) {
      await withRetries(ctx.retry, () =>
        ctx.clients.elasticache(r.region).send(new DeleteCacheSubnetGroupCommand({ CacheSubnetGroupName: r.id })),
      );
      return 'deleted';
    },
  },
  'ecr:repository': {
    stage: STAGE.edges,
    async delete(ctx, r) {
      await withRetries(ctx.retry, () =>
        ctx.clients.ecr(r.region).send(new DeleteRepositoryCommand({ repositoryName: r.id, force: true })),
      );
      return 'deleted';
    },
  },
  'kms:key': {
    stage: STAGE.edges,
    async delete(ctx, r) {
      if (r.state === 'PendingDeletion') return 'pending deletion';
      const kms = ctx.clients.kms(r.region);
      const aliases = await collect(paginateListAliases({ client: kms }, { KeyId: r.id }), (p) => p.Aliases);
      for (const a of aliases) await withRetries(ctx.retry, () => kms.send(new DeleteAliasCommand({ AliasName: a.AliasName! })));
      await withRetries(ctx.retry, () => kms.send(new ScheduleKeyDeletionCommand({ KeyId: r.id, PendingWindowInDays: 7 })));
      return 'pending deletion';
    },
  },
  'ssm:parameter': {
    stage: STAGE.edges,
    async delete(ctx, r) {
      await withRetries(ctx.retry, () => ctx.clients.ssm(r.region).send(new DeleteParameterCommand({ Name: r.id })));
      return 'deleted';
    },
  },
  's3:bucket': {
    stage: STAGE.edges,
    async delete(ctx, r) {
      const removed = await emptyBucket(ctx, r);
      if (removed > 0) ctx.progress(`  emptied bucket ${r.id}: ${removed} object version(s) and marker(s)`);
      await withRetries(ctx.retry, () => ctx.clients.s3(r.region).send(new DeleteBucketCommand({ Bucket: r.id })));
      return 'deleted';
    },
  },
  'route53:hostedzone': {
    stage: STAGE.edges,
    async delete(ctx, r) {
      const r53 = ctx.clients.route53();
      const records = await removableRecords(ctx, r.id);
      for (let i = 0; i < records.length; i += 100) {
        const changes = records.slice(i, i + 100).map((rec) => ({ Action: 'DELETE' as const, ResourceRecordSet: rec }));
        await withRetries(ctx.retry, () =>
          r53.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: r.id, ChangeBatch: { Changes: changes } })),
        );
      }
      await withRetries(ctx.retry, () => r53.send(new DeleteHostedZoneCommand({ Id: r.id })));
      return 'deleted';
    },
  },
  'route53:healthcheck': {
    stage: STAGE.addresses,
    async delete(ctx, r) {
      await withRetries(ctx.retry, () => ctx.clients.route53().send(new DeleteHealthCheckCommand({ HealthCheckId: r.id })));
      return 'deleted';
    },
  },
  'iam:instance-profile': {
    stage: STAGE.profiles,
    async delete(ctx, r) {
      const iam = ctx.clients.iam();
      const profile = (await iam.send(new GetInstanceProfileCommand({ InstanceProfileName: r.id }))).InstanceProfile;
      for (const role of profile?.Roles ?? []) {
        await withRetries(ctx.retry, () =>
          iam.send(new RemoveRoleFromInstanceProfileCommand({ InstanceProfileName: r.id, RoleName: role.RoleName! })),
        );
      }
      await withRetries(ctx.retry, () => iam.send(new DeleteInstanceProfileCommand({ InstanceProfileName: r.id })));
      return 'deleted';
    },
  },
  'iam:role': {
    stage: STAGE.roles,
    async delete(ctx, r) {
      const iam = ctx.clients.iam();
      const RoleName = r.id;
      for (const profile of await collect(paginateListInstanceProfilesForRole({ client: iam }, { RoleName }), (p) => p.InstanceProfiles)) {
        const InstanceProfileName = profile.InstanceProfileName!;
        await withRetries(ctx.retry, () => iam.send(new RemoveRoleFromInstanceProfileCommand({ InstanceProfileName, RoleName })));
        await withRetries(ctx.retry, () => iam.send(new DeleteInstanceProfileCommand({ InstanceProfileName })));
      }
      for (const policy of await collect(paginateListAttachedRolePolicies({ client: iam }, { RoleName }), (p) => p.AttachedPolicies)) {
        await withRetries(ctx.retry, () => iam.send(new DetachRolePolicyCommand({ RoleName, PolicyArn: policy.PolicyArn! })));
      }
      for (const PolicyName of await collect(paginateListRolePolicies({ client: iam }, { RoleName }), (p) => p.PolicyNames)) {
        await withRetries(ctx.retry, () => iam.send(new DeleteRolePolicyCommand({ RoleName, PolicyName })));
      }
      await withRetries(ctx.retry, () => iam.send(new DeleteRoleCommand({ RoleName })));
      return 'deleted';
    },
  },
};
