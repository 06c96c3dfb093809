// Listing EC2 and load balancers by tag, server-side (`tag:labforge:owner` filters), plus what
// lives inside a tagged VPC without the tags: ENIs and load balancers left by Kubernetes
// controllers. The tagging API is not enough here: it misses Elastic IPs on some back ends and
// keeps terminated instances and deleted gateways visible for a while.
import {
  DescribeAddressesCommand,
  paginateDescribeInstances,
  paginateDescribeInternetGateways,
  paginateDescribeLaunchTemplates,
  paginateDescribeNatGateways,
  paginateDescribeNetworkInterfaces,
  paginateDescribeRouteTables,
  paginateDescribeSecurityGroupRules,
  paginateDescribeSecurityGroups,
  paginateDescribeSnapshots,
  paginateDescribeSubnets,
  paginateDescribeVolumes,
  paginateDescribeVpcPeeringConnections,
  paginateDescribeVpcs,
  type Filter,
} from '@aws-sdk/client-ec2';
import {
  DescribeTagsCommand,
  paginateDescribeLoadBalancers,
  paginateDescribeTargetGroups,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { AwsClients } from '../aws-sdk/clients.js';
import { filterTags, matchesFilter, tagRecord, type SweepFilter, type SweepResource } from './types.js';

export interface ListContext {
  readonly clients: AwsClients;
  readonly region: string;
  readonly filter: SweepFilter;
  /** VPCs of this region that carry the filter's tags (found first). */
  readonly taggedVpcs: ReadonlySet<string>;
}

/** One service's listing of some kinds; a failure is reported for those kinds and region. */
export interface Lister {
  readonly service: string;
  readonly kinds: readonly string[];
  /** Runs once for the account instead of once per region (S3, IAM, Route 53). */
  readonly global?: boolean;
  list(ctx: ListContext): Promise<SweepResource[]>;
}

function tagFilters(filter: SweepFilter): Filter[] {
  return filterTags(filter).map((t) => ({ Name: `tag:${t.key}`, Values: [t.value] }));
}

function tagged(
  kind: string,
  id: string,
  ctx: ListContext,
  tags: Record<string, string>,
  extra: Partial<SweepResource> = {},
): SweepResource {
  return { kind, id, region: ctx.region, tags, via: 'tags', ...(tags.Name ? { name: tags.Name } : {}), ...extra };
}

async function collect<P, T>(pages: AsyncIterable<P>, items: (page: P) => T[] | undefined): Promise<T[]> {
  const out: T[] = [];
  for await (const page of pages) out.push(...(items(page) ?? []));
  return out;
}

export const vpcLister: Lister = {
  service: 'ec2',
  kinds: ['ec2:vpc'],
  async list(ctx) {
    const vpcs = await collect(
      paginateDescribeVpcs({ client: ctx.clients.ec2(ctx.region) }, { Filters: tagFilters(ctx.filter) }),
      (p) => p.Vpcs,
    );
    return vpcs.map((v) => tagged('ec2:vpc', v.VpcId!, ctx, tagRecord(v.Tags)));
  },
};

const LIVE_INSTANCE_STATES = ['pending', 'running', 'shutting-down', 'stopping', 'stopped'];
const GONE_PEERING_STATES = ['deleted', 'deleting', 'rejected', 'failed', 'expired'];

export const ec2Listers: Lister[] = [
  {
    service: 'ec2',
    kinds: ['ec2:instance'],
    async list(ctx) {
      const filters = [...tagFilters(ctx.filter), { Name: 'instance-state-name', Values: LIVE_INSTANCE_STATES }];
      const reservations = await collect(
        paginateDescribeInstances({ client: ctx.clients.ec2(ctx.region) }, { Filters: filters }),
        (p) => p.Reservations,
      );
      return reservations
        .flatMap((r) => r.Instances ?? [])
        .filter((i) => LIVE_INSTANCE_STATES.includes(i.State?.Name ?? ''))
        .map((i) => tagged('ec2:instance', i.InstanceId!, ctx, tagRecord(i.Tags), { parent: i.VpcId, state: i.State?.Name }));
    },
  },
  {
    service: 'ec2',
    kinds: ['ec2:subnet'],
    async list(ctx) {
      const subnets = await collect(
        paginateDescribeSubnets({ client: ctx.clients.ec2(ctx.region) }, { Filters: tagFilters(ctx.filter) }),
        (p) => p.Subnets,
      );
      return subnets.map((s) => tagged('ec2:subnet', s.SubnetId!, ctx, tagRecord(s.Tags), { parent: s.VpcId }));
    },
  },
  {
    service: 'ec2',
    kinds: ['ec2:security-group'],
    async list(ctx) {
      const groups = await collect(
        paginateDescribeSecurityGroups({ client: ctx.clients.ec2(ctx.region) }, { Filters: tagFilters(ctx.filter) }),
        (p) => p.SecurityGroups,
      );
      return groups.map((g) =>
        tagged('ec2:security-group', g.GroupId!, ctx, tagRecord(g.Tags), {
          name: g.GroupName,
          parent: g.VpcId,
          ...(g.GroupName === 'default' ? { skip: 'the default security group goes with its VPC' } : {}),
        }),
      );
    },
  },
  {
    // Rules made as resources of their own (aws_vpc_security_group_ingress_rule) carry the tags too.
    service: 'ec2',
    kinds: ['ec2:security-group-rule'],
    async list(ctx) {
      const rules = await collect(
        paginateDescribeSecurityGroupRules({ client: ctx.clients.ec2(ctx.region) }, { Filters: tagFilters(ctx.filter) }),
        (p) => p.SecurityGroupRules,
      );
      return rules.map((r) =>
        tagged('ec2:security-group-rule', r.SecurityGroupRuleId!, ctx, tagRecord(r.Tags), {
          parent: r.GroupId,
          state: r.IsEgress ? 'egress' : 'ingress',
        }),
      );
    },
  },
  {
    service: 'ec2',
    kinds: ['ec2:route-table'],
    async list(ctx) {
      const tables = await collect(
        paginateDescribeRouteTables({ client: ctx.clients.ec2(ctx.region) }, { Filters: tagFilters(ctx.filter) }),
        (p) => p.RouteTables,
      );
      return tables.map((t) =>
        tagged('ec2:route-table', t.RouteTableId!, ctx, tagRecord(t.Tags), {
          parent: t.VpcId,
          ...((t.Associations ?? []).some((a) => a.Main) ? { skip: 'the main route table goes with its VPC' } : {}),
        }),
      );
    },
  },
  {
    service: 'ec2',
    kinds: ['ec2:internet-gateway'],
    async list(ctx) {
      const gateways = await collect(
        paginateDescribeInternetGateways({ client: ctx.clients.ec2(ctx.region) }, { Filters: tagFilters(ctx.filter) }),
        (p) => p.InternetGateways,
      );
      return gateways.map((g) =>
        tagged('ec2:internet-gateway', g.InternetGatewayId!, ctx, tagRecord(g.Tags), { parent: g.Attachments?.[0]?.VpcId }),
      );
    },
  },
  {
    service: 'ec2',
    kinds: ['ec2:natgateway'],
    async list(ctx) {
      const gateways = await collect(
        paginateDescribeNatGateways({ client: ctx.clients.ec2(ctx.region) }, { Filter: tagFilters(ctx.filter) }),
        (p) => p.NatGateways,
      );
      return gateways
        .filter((g) => g.State !== 'deleted' && g.State !== 'failed')
        .map((g) => tagged('ec2:natgateway', g.NatGatewayId!, ctx, tagRecord(g.Tags), { parent: g.VpcId, state: g.State }));
    },
  },
  {
    service: 'ec2',
    kinds: ['ec2:elastic-ip'],
    async list(ctx) {
      const { Addresses } = await ctx.clients.ec2(ctx.region).send(new DescribeAddressesCommand({ Filters: tagFilters(ctx.filter) }));
      return (Addresses ?? []).map((a) => tagged('ec2:elastic-ip', a.AllocationId!, ctx, tagRecord(a.Tags), { name: a.PublicIp }));
    },
  },
  {
    service: 'ec2',
    kinds: ['ec2:network-interface'],
    async list(ctx) {
      const enis = await collect(
        paginateDescribeNetworkInterfaces({ client: ctx.clients.ec2(ctx.region) }, { Filters: tagFilters(ctx.filter) }),
        (p) => p.NetworkInterfaces,
      );
      return enis.map((n) => tagged('ec2:network-interface', n.NetworkInterfaceId!, ctx, tagRecord(n.TagSet), { parent: n.VpcId }));
    },
  },
  {
    service: 'ec2',
    kinds: ['ec2:volume'],
    async list(ctx) {
      const volumes = await collect(
        paginateDescribeVolumes({ client: ctx.clients.ec2(ctx.region) }, { Filters: tagFilters(ctx.filter) }),
        (p) => p.Volumes,
      );
      return volumes
        .filter((v) => v.State !== 'deleted')
        .map((v) => tagged('ec2:volume', v.VolumeId!, ctx, tagRecord(v.Tags), { state: v.State }));
    },
  },
  {
    service: 'ec2',
    kinds: ['ec2:snapshot'],
    async list(ctx) {
      const snapshots = await collect(
        paginateDescribeSnapshots({ client: ctx.clients.ec2(ctx.region) }, { OwnerIds: ['self'], Filters: tagFilters(ctx.filter) }),
        (p) => p.Snapshots,
      );
      return snapshots.map((s) => tagged('ec2:snapshot', s.SnapshotId!, ctx, tagRecord(s.Tags)));
    },
  },
  {
    service: 'ec2',
    kinds: ['ec2:launch-template'],
    async list(ctx) {
      const templates = await collect(
        paginateDescribeLaunchTemplates({ client: ctx.clients.ec2(ctx.region) }, { Filters: tagFilters(ctx.filter) }),
        (p) => p.LaunchTemplates,
      );
      return templates.map((t) =>
        tagged('ec2:launch-template', t.LaunchTemplateId!, ctx, tagRecord(t.Tags), { name: t.LaunchTemplateName }),
      );
    },
  },
  {
    service: 'ec2',
    kinds: ['ec2:vpc-peering-connection'],
    async list(ctx) {
      const client = ctx.clients.ec2(ctx.region);
      const peerings = await collect(
        paginateDescribeVpcPeeringConnections({ client }, { Filters: tagFilters(ctx.filter) }),
        (p) => p.VpcPeeringConnections,
      );
      return peerings
        .filter((p) => !GONE_PEERING_STATES.includes(p.Status?.Code ?? ''))
        .map((p) => tagged('ec2:vpc-peering-connection', p.VpcPeeringConnectionId!, ctx, tagRecord(p.Tags), { state: p.Status?.Code }));
    },
  },
];

/** ENIs in a tagged VPC that no instance holds: left by load balancers, EKS, CNI plugins. */
export const vpcEniLister: Lister = {
  service: 'ec2',
  kinds: ['ec2:network-interface'],
  async list(ctx) {
    if (ctx.taggedVpcs.size === 0) return [];
    const filters = [{ Name: 'vpc-id', Values: [...ctx.taggedVpcs] }];
    const enis = await collect(
      paginateDescribeNetworkInterfaces({ client: ctx.clients.ec2(ctx.region) }, { Filters: filters }),
      (p) => p.NetworkInterfaces,
    );
    return enis
      .filter((n) => ctx.taggedVpcs.has(n.VpcId ?? '') && !n.Attachment?.InstanceId && !matchesFilter(tagRecord(n.TagSet), ctx.filter))
      .map((n) => ({
        kind: 'ec2:network-interface',
        id: n.NetworkInterfaceId!,
        region: ctx.region,
        tags: tagRecord(n.TagSet),
        via: `in tagged VPC ${n.VpcId}`,
        parent: n.VpcId,
        name: n.Description || undefined,
      }));
  },
};

/** Application/network load balancers and target groups: tagged anywhere, or inside a tagged VPC. */
export const elbLister: Lister = {
  service: 'elasticloadbalancing',
  kinds: ['elasticloadbalancing:loadbalancer', 'elasticloadbalancing:targetgroup'],
  async list(ctx) {
    const client = ctx.clients.elbv2(ctx.region);
    const balancers = await collect(paginateDescribeLoadBalancers({ client }, {}), (p) => p.LoadBalancers);
    const groups = await collect(paginateDescribeTargetGroups({ client }, {}), (p) => p.TargetGroups);
    const items = [
      ...balancers.map((b) => ({
        kind: 'elasticloadbalancing:loadbalancer',
        arn: b.LoadBalancerArn!,
        name: b.LoadBalancerName,
        vpc: b.VpcId,
      })),
      ...groups.map((g) => ({ kind: 'elasticloadbalancing:targetgroup', arn: g.TargetGroupArn!, name: g.TargetGroupName, vpc: g.VpcId })),
    ];
    const tagsByArn = new Map<string, Record<string, string>>();
    for (let i = 0; i < items.length; i += 20) {
      const { TagDescriptions } = await client.send(new DescribeTagsCommand({ ResourceArns: items.slice(i, i + 20).map((x) => x.arn) }));
      for (const d of TagDescriptions ?? []) tagsByArn.set(d.ResourceArn!, tagRecord(d.Tags));
    }
    return items.flatMap((x): SweepResource[] => {
      const tags = tagsByArn.get(x.arn) ?? {};
      const via = matchesFilter(tags, ctx.filter) ? 'tags' : ctx.taggedVpcs.has(x.vpc ?? '') ? `in tagged VPC ${x.vpc}` : undefined;
      return via ? [{ kind: x.kind, id: x.arn, arn: x.arn, region: ctx.region, name: x.name, tags, via, parent: x.vpc }] : [];
    });
  },
};
