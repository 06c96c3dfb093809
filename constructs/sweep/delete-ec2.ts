// Deleting EC2 and load-balancer resources. Each deleter reads the resource again (attachments,
// rules and associations change while a sweep runs), deletes it, and waits until it is gone
// where a later stage depends on that (instances, NAT gateways, load balancers).
import {
  DeleteInternetGatewayCommand,
  DeleteLaunchTemplateCommand,
  DeleteNatGatewayCommand,
  DeleteNetworkInterfaceCommand,
  DeleteRouteTableCommand,
  DeleteSecurityGroupCommand,
  DeleteSnapshotCommand,
  DeleteSubnetCommand,
  DeleteVolumeCommand,
  DeleteVpcCommand,
  DeleteVpcPeeringConnectionCommand,
  DescribeAddressesCommand,
  DescribeInstancesCommand,
  DescribeInternetGatewaysCommand,
  DescribeNatGatewaysCommand,
  DescribeNetworkInterfacesCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DetachInternetGatewayCommand,
  DetachNetworkInterfaceCommand,
  DisassociateAddressCommand,
  DisassociateRouteTableCommand,
  ReleaseAddressCommand,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
  TerminateInstancesCommand,
  type EC2Client,
  type IpPermission,
} from '@aws-sdk/client-ec2';
import {
  DeleteLoadBalancerCommand,
  DeleteTargetGroupCommand,
  DescribeLoadBalancersCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { errorMessage, errorName, type AwsClients } from '../aws-sdk/clients.js';
import { MINUTE, waitUntilGone, withRetries, type RetryPolicy } from './retry.js';
import type { SweepResource } from './types.js';

export interface DeleteContext {
  readonly clients: AwsClients;
  readonly retry: RetryPolicy;
  readonly progress: (line: string) => void;
}

export type Deleted = 'deleted' | 'pending deletion';

/** How one kind is deleted, and when: stages run in order, each after the one before is done. */
export interface Deleter {
  readonly stage: number | ((r: SweepResource) => number);
  /** Runs once per region before the stage's deletes, with every resource of this kind in it. */
  prepare?(ctx: DeleteContext, region: string, resources: readonly SweepResource[]): Promise<void>;
  delete(ctx: DeleteContext, r: SweepResource): Promise<Deleted>;
}

/** The dependency order, as stage numbers: what runs on a thing goes before the thing it runs on. */
export const STAGE = {
  nodeGroups: 0, // EKS node groups; RDS read replicas
  compute: 1, // instances, EKS clusters, databases, caches, brokers, Kafka
  edges: 2, // load balancers, NAT gateways, volumes, buckets, registries, keys, parameters, zones
  addresses: 3, // Elastic IPs, ENIs, target groups, health checks, security group rules
  groups: 4, // security groups, DB and cache subnet groups
  subnets: 5,
  routing: 6, // route tables, internet gateways, peering connections
  vpcs: 7,
  profiles: 8, // IAM instance profiles
  roles: 9, // IAM roles
} as const;

const gone = <T>(items: T[] | undefined) => (items ?? []).length === 0;

/** The group's rules that name another security group: revoked first so groups can go in any order. */
function groupRules(rules: IpPermission[] | undefined): IpPermission[] {
  return (rules ?? [])
    .filter((p) => (p.UserIdGroupPairs ?? []).length > 0)
    .map((p) => ({ ...p, IpRanges: [], Ipv6Ranges: [], PrefixListIds: [] }));
}

/**
 * Runs `remove`; when it fails because something is still inside the VPC or subnet (the sweep
 * leaves untagged resources alone), the error names what is inside, so the receipt says what to look at.
 */
async function explainDependencies(ec2: EC2Client, filter: 'vpc-id' | 'subnet-id', id: string, remove: () => Promise<void>): Promise<void> {
  try {
    await remove();
  } catch (error) {
    if (errorName(error) !== 'DependencyViolation') throw error;
    const Filters = [{ Name: filter, Values: [id] }];
    const inside = await Promise.all([
      filter === 'vpc-id' ? ec2.send(new DescribeSubnetsCommand({ Filters })).then((x) => (x.Subnets ?? []).map((s) => s.SubnetId!)) : [],
      ec2.send(new DescribeInstancesCommand({ Filters })).then((x) =>
        (x.Reservations ?? [])
          .flatMap((r) => r.Instances ?? [])
          .filter((i) => i.State?.Name !== 'terminated')
          .map((i) => i.InstanceId!),
      ),
      ec2
        .send(new DescribeNetworkInterfacesCommand({ Filters }))
        .then((x) => (x.NetworkInterfaces ?? []).map((n) => n.NetworkInterfaceId!)),
      filter === 'vpc-id'
        ? ec2
            .send(new DescribeSecurityGroupsCommand({ Filters }))
            .then((x) => (x.SecurityGroups ?? []).filter((g) => g.GroupName !== 'default').map((g) => g.GroupId!))
        : [],
      filter === 'vpc-id'
        ? ec2
            .send(new DescribeInternetGatewaysCommand({ Filters: [{ Name: 'attachment.vpc-id', Values: [id] }] }))
            .then((x) => (x.InternetGateways ?? []).map((g) => g.InternetGatewayId!))
        : [],
    ]).then(
      (lists) => lists.flat(),
      () => [],
    );
    if (inside.length === 0) throw error;
    const shown = inside.slice(0, 8).join(', ') + (inside.length > 8 ? `, and ${inside.length - 8} more` : '');
    throw new Error(`${errorMessage(error)} Still in it, without the sweep's tags: ${shown}`, { cause: error });
  }
}

export const ec2Deleters: Readonly<Record<string, Deleter>> = {
  'ec2:instance': {
    stage: STAGE.compute,
    async delete(ctx, r) {
      const ec2 = ctx.clients.ec2(r.region);
      await withRetries(ctx.retry, () => ec2.send(new TerminateInstancesCommand({ InstanceIds: [r.id] })));
      await waitUntilGone(`instance ${r.id}`, 10 * MINUTE, async () => {
        const { Reservations } = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [r.id] }));
        return (Reservations ?? []).flatMap((x) => x.Instances ?? []).every((i) => i.State?.Name === 'terminated');
      });
      return 'deleted';
    },
  },
  'elasticloadbalancing:loadbalancer': {
    stage: STAGE.edges,
    async delete(ctx, r) {
      const elb = ctx.clients.elbv2(r.region);
      await withRetries(ctx.retry, () => elb.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: r.id })));
      await waitUntilGone(`load balancer ${r.name ?? r.id}`, 10 * MINUTE, async () =>
        gone((await elb.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: [r.id] }))).LoadBalancers),
      );
      return 'deleted';
    },
  },
  'elasticloadbalancing:targetgroup': {
    stage: STAGE.addresses,
    async delete(ctx, r) {
      await withRetries(ctx.retry, () => ctx.clients.elbv2(r.region).send(new DeleteTargetGroupCommand({ TargetGroupArn: r.id })));
      return 'deleted';
    },
  },
  'ec2:natgateway': {
    stage: STAGE.edges,
    async delete(ctx, r) {
      const ec2 = ctx.clients.ec2(r.region);
      await withRetries(ctx.retry, () => ec2.send(new DeleteNatGatewayCommand({ NatGatewayId: r.id })));
      await waitUntilGone(`NAT gateway ${r.id}`, 15 * MINUTE, async () =>
        ((await ec2.send(new DescribeNatGatewaysCommand({ NatGatewayIds: [r.id] }))).NatGateways ?? []).every((g) => g.State === 'deleted'),
      );
      return 'deleted';
    },
  },
  'ec2:volume': {
    stage: STAGE.edges,
    async delete(ctx, r) {
      await withRetries(ctx.retry, () => ctx.clients.ec2(r.region).send(new DeleteVolumeCommand({ VolumeId: r.id })));
      return 'deleted';
    },
  },
  'ec2:snapshot': {
    stage: STAGE.edges,
    async delete(ctx, r) {
      await withRetries(ctx.retry, () => ctx.clients.ec2(r.region).send(new DeleteSnapshotCommand({ SnapshotId: r.id })));
      return 'deleted';
    },
  },
  'ec2:launch-template': {
    stage: STAGE.edges,
    async delete(ctx, r) {
      await withRetries(ctx.retry, () => ctx.clients.ec2(r.region).send(new DeleteLaunchTemplateCommand({ LaunchTemplateId: r.id })));
      return 'deleted';
    },
  },
  'ec2:elastic-ip': {
    stage: STAGE.addresses,
    async delete(ctx, r) {
      const ec2 = ctx.clients.ec2(r.region);
      const { Addresses } = await ec2.send(new DescribeAddressesCommand({ AllocationIds: [r.id] }));
      const association = Addresses?.[0]?.AssociationId;
      if (association) await withRetries(ctx.retry, () => ec2.send(new DisassociateAddressCommand({ AssociationId: association })));
      await withRetries(ctx.retry, () => ec2.send(new ReleaseAddressCommand({ AllocationId: r.id })));
      return 'deleted';
    },
  },
  'ec2:network-interface': {
    stage: STAGE.addresses,
    async delete(ctx, r) {
      const ec2 = ctx.clients.ec2(r.region);
      const describe = async () =>
        (await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [r.id] }))).NetworkInterfaces?.[0];
      const eni = await describe();
      if (!eni) return 'deleted';
      if (eni.RequesterManaged) {
        // A load balancer's, NAT gateway's or EKS cluster's interface: AWS removes it a while after
        // its owner is deleted (an earlier stage), and refuses to delete it directly.
        await waitUntilGone(
          `interface ${r.id} (managed by ${eni.RequesterId ?? 'an AWS service'}, goes with its owner)`,
          5 * MINUTE,
          async () => !(await describe()),
        );
        return 'deleted';
      }
      const attachment = eni.Attachment;
      if (attachment?.AttachmentId && attachment.Status !== 'detached') {
        if (attachment.DeviceIndex === 0 && attachment.InstanceId)
          throw new Error(`primary interface of instance ${attachment.InstanceId}, which the sweep does not delete`);
        await withRetries(ctx.retry, () => ec2.send(new DetachNetworkInterfaceCommand({ AttachmentId: attachment.AttachmentId! })));
        await waitUntilGone(`attachment of ${r.id}`, 5 * MINUTE, async () => ['available', undefined].includes((await describe())?.Status));
      }
      await withRetries(ctx.retry, () => ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: r.id })));
      return 'deleted';
    },
  },
  'ec2:security-group-rule': {
    stage: STAGE.addresses,
    async delete(ctx, r) {
      const ec2 = ctx.clients.ec2(r.region);
      const ids = { GroupId: r.parent!, SecurityGroupRuleIds: [r.id] };
      await withRetries(ctx.retry, () =>
        r.state === 'egress' ? ec2.send(new RevokeSecurityGroupEgressCommand(ids)) : ec2.send(new RevokeSecurityGroupIngressCommand(ids)),
      );
      return 'deleted';
    },
  },
  'ec2:security-group': {
    stage: STAGE.groups,
    async prepare(ctx, region, resources) {
      const ec2 = ctx.clients.ec2(region);
      const ids = resources.filter((r) => !r.skip).map((r) => r.id);
      if (ids.length === 0) return;
      const { SecurityGroups } = await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: ids }));
      for (const g of SecurityGroups ?? []) {
        const ingress = groupRules(g.IpPermissions);
        const egress = groupRules(g.IpPermissionsEgress);
        if (ingress.length > 0)
          await withRetries(ctx.retry, () =>
            ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: g.GroupId!, IpPermissions: ingress })),
          );
        if (egress.length > 0)
          await withRetries(ctx.retry, () =>
            ec2.send(new RevokeSecurityGroupEgressCommand({ GroupId: g.GroupId!, IpPermissions: egress })),
          );
      }
    },
    async delete(ctx, r) {
      await withRetries(ctx.retry, () => ctx.clients.ec2(r.region).send(new DeleteSecurityGroupCommand({ GroupId: r.id })));
      return 'deleted';
    },
  },
  'ec2:subnet': {
    stage: STAGE.subnets,
    async delete(ctx, r) {
      const ec2 = ctx.clients.ec2(r.region);
      await explainDependencies(ec2, 'subnet-id', r.id, () =>
        withRetries(ctx.retry, () => ec2.send(new DeleteSubnetCommand({ SubnetId: r.id }))),
      );
      return 'deleted';
    },
  },
  'ec2:route-table': {
    stage: STAGE.routing,
    async delete(ctx, r) {
      const ec2 = ctx.clients.ec2(r.region);
      const table = (await ec2.send(new DescribeRouteTablesCommand({ RouteTableIds: [r.id] }))).RouteTables?.[0];
      for (const a of (table?.Associations ?? []).filter((a) => !a.Main && a.RouteTableAssociationId)) {
        await withRetries(ctx.retry, () => ec2.send(new DisassociateRouteTableCommand({ AssociationId: a.RouteTableAssociationId! })));
      }
      await withRetries(ctx.retry, () => ec2.send(new DeleteRouteTableCommand({ RouteTableId: r.id })));
      return 'deleted';
    },
  },
  'ec2:internet-gateway': {
    stage: STAGE.routing,
    async delete(ctx, r) {
      const ec2 = ctx.clients.ec2(r.region);
      const gateway = (await ec2.send(new DescribeInternetGatewaysCommand({ InternetGatewayIds: [r.id] }))).InternetGateways?.[0];
      for (const a of gateway?.Attachments ?? []) {
        await withRetries(ctx.retry, () => ec2.send(new DetachInternetGatewayCommand({ InternetGatewayId: r.id, VpcId: a.VpcId! })));
      }
      await withRetries(ctx.retry, () => ec2.send(new DeleteInternetGatewayCommand({ InternetGatewayId: r.id })));
      return 'deleted';
    },
  },
  'ec2:vpc-peering-connection': {
    stage: STAGE.routing,
    async delete(ctx, r) {
      await withRetries(ctx.retry, () =>
        ctx.clients.ec2(r.region).send(new DeleteVpcPeeringConnectionCommand({ VpcPeeringConnectionId: r.id })),
      );
      return 'deleted';
    },
  },
  'ec2:vpc': {
    stage: STAGE.vpcs,
    async delete(ctx, r) {
      const ec2 = ctx.clients.ec2(r.region);
      await explainDependencies(ec2, 'vpc-id', r.id, () => withRetries(ctx.retry, () => ec2.send(new DeleteVpcCommand({ VpcId: r.id }))));
      return 'deleted';
    },
  },
};
