// The lab network of one region: VPC, public subnets behind an internet gateway and, when asked,
// private subnets behind one NAT gateway (one, not one per AZ: labs trade HA for cost).
import * as pulumi from '@pulumi/pulumi';
import { getAvailabilityZonesOutput } from '@pulumi/aws/getAvailabilityZones.js';
import { DefaultSecurityGroup } from '@pulumi/aws/ec2/defaultSecurityGroup.js';
import { Eip } from '@pulumi/aws/ec2/eip.js';
import { InternetGateway } from '@pulumi/aws/ec2/internetGateway.js';
import { NatGateway } from '@pulumi/aws/ec2/natGateway.js';
import { Route } from '@pulumi/aws/ec2/route.js';
import { RouteTable } from '@pulumi/aws/ec2/routeTable.js';
import { RouteTableAssociation } from '@pulumi/aws/ec2/routeTableAssociation.js';
import { Subnet } from '@pulumi/aws/ec2/subnet.js';
import { Vpc } from '@pulumi/aws/ec2/vpc.js';
import { networkLayout } from '../model/aws-plan.js';
import { checkNetwork } from '../model/aws-plan-checks.js';
import { ValidationError } from '../model/errors.js';
import { componentType } from './region.js';

export interface NetworkArgs {
  /** Prefix of the Name tags, e.g. `lf-expert-use1`. */
  readonly name: string;
  /** Availability zones the subnets span (1-3). */
  readonly azs: number;
  /** Position of the region in the lab: picks a non-overlapping /16. */
  readonly regionIndex: number;
  readonly privateSubnets: boolean;
  /** Tag subnets for Kubernetes load balancers. */
  readonly kubernetesSubnetTags: boolean;
}

export class Network extends pulumi.ComponentResource {
  readonly vpc: Vpc;
  readonly cidrBlock: string;
  readonly publicSubnets: Subnet[] = [];
  readonly privateSubnets: Subnet[] = [];
  readonly privateRouteTables: RouteTable[] = [];

  constructor(name: string, args: NetworkArgs, opts: pulumi.ComponentResourceOptions) {
    super(componentType('Network'), name, {}, opts);
    checkNetwork(name, args.azs, args.regionIndex);
    const child = { parent: this };
    const layout = networkLayout(args.regionIndex, args.azs, args.privateSubnets);
    this.cidrBlock = layout.cidr;
    // AZ names differ per account (and us-west-1 has two): ask the API instead of guessing.
    const zones = getAvailabilityZonesOutput({ state: 'available' }, child);
    const az = (i: number) => zones.names.apply((names) => names[i]!);

    this.vpc = new Vpc(
      `${name}-vpc`,
      { cidrBlock: this.cidrBlock, enableDnsHostnames: true, enableDnsSupport: true, tags: { Name: args.name } },
      child,
    );
    // Take over the default security group with no rules: nothing placed in it can talk.
    new DefaultSecurityGroup(`${name}-default-sg`, { vpcId: this.vpc.id, tags: { Name: `${args.name}-default-deny` } }, child);
    const igw = new InternetGateway(`${name}-igw`, { vpcId: this.vpc.id, tags: { Name: args.name } }, child);
    const publicTable = new RouteTable(`${name}-public-rt`, { vpcId: this.vpc.id, tags: { Name: `${args.name}-public` } }, child);
    new Route(`${name}-public-default`, { routeTableId: publicTable.id, destinationCidrBlock: '0.0.0.0/0', gatewayId: igw.id }, child);

    const k8s = args.kubernetesSubnetTags;
    layout.public.forEach((cidrBlock, i) => {
      const subnet = new Subnet(
        `${name}-public-${i}`,
        {
          vpcId: this.vpc.id,
          cidrBlock,
          availabilityZone: az(i),
          // Instances ask for a public IP themselves; nothing gets one by accident.
          mapPublicIpOnLaunch: false,
          tags: { Name: `${args.name}-public-${i}`, ...(k8s ? { 'kubernetes.io/role/elb': '1' } : {}) },
        },
        child,
      );
      new RouteTableAssociation(`${name}-public-${i}-rta`, { subnetId: subnet.id, routeTableId: publicTable.id }, child);
      this.publicSubnets.push(subnet);
    });
    if (layout.private.length > 0) {
      const eip = new Eip(`${name}-nat-eip`, { domain: 'vpc', tags: { Name: `${args.name}-nat` } }, child);
      const nat = new NatGateway(
        `${name}-nat`,
        { allocationId: eip.allocationId, subnetId: this.publicSubnets[0]!.id, tags: { Name: args.name } },
        { parent: this, dependsOn: [igw] },
      );
      const privateTable = new RouteTable(`${name}-private-rt`, { vpcId: this.vpc.id, tags: { Name: `${args.name}-private` } }, child);
      new Route(
        `${name}-private-default`,
        { routeTableId: privateTable.id, destinationCidrBlock: '0.0.0.0/0', natGatewayId: nat.id },
        child,
      );
      this.privateRouteTables.push(privateTable);
      layout.private.forEach((cidrBlock, i) => {
        const subnet = new Subnet(
          `${name}-private-${i}`,
          {
            vpcId: this.vpc.id,
            cidrBlock,
            availabilityZone: az(i),
            tags: { Name: `${args.name}-private-${i}`, ...(k8s ? { 'kubernetes.io/role/internal-elb': '1' } : {}) },
          },
          child,
        );
        new RouteTableAssociation(`${name}-private-${i}-rta`, { subnetId: subnet.id, routeTableId: privateTable.id }, child);
        this.privateSubnets.push(subnet);
      });
    }
    this.registerOutputs({ vpcId: this.vpc.id, cidrBlock: this.cidrBlock });
  }

  /** Ids of the private subnets; throws when the network has none (a spec/engine mismatch). */
  privateSubnetIds(forWhat: string): pulumi.Output<string>[] {
    if (this.privateSubnets.length === 0) throw new ValidationError(`${forWhat} needs private subnets, the network has none`);
    return this.privateSubnets.map((s) => s.id);
  }
}
