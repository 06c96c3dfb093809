// The lab network of one region: VPC, public subnets behind an internet gateway and, when asked,
// private subnets behind one NAT gateway (one, not one per AZ: labs trade HA for cost).
import { Fn, Token } from 'cdktf';
import { Construct } from 'constructs';
import { DataAwsAvailabilityZones } from '@cdktf/provider-aws/lib/data-aws-availability-zones/index.js';
import { DefaultSecurityGroup } from '@cdktf/provider-aws/lib/default-security-group/index.js';
import { Eip } from '@cdktf/provider-aws/lib/eip/index.js';
import { InternetGateway } from '@cdktf/provider-aws/lib/internet-gateway/index.js';
import { NatGateway } from '@cdktf/provider-aws/lib/nat-gateway/index.js';
import { Route } from '@cdktf/provider-aws/lib/route/index.js';
import { RouteTableAssociation } from '@cdktf/provider-aws/lib/route-table-association/index.js';
import { RouteTable } from '@cdktf/provider-aws/lib/route-table/index.js';
import { Subnet } from '@cdktf/provider-aws/lib/subnet/index.js';
import { Vpc } from '@cdktf/provider-aws/lib/vpc/index.js';
import { networkLayout } from '../model/aws-plan.js';
import { checkNetwork } from '../model/aws-plan-checks.js';
import { ValidationError } from '../model/errors.js';

export interface LabNetworkProps {
  /** Prefix of the Name tags, e.g. `lf-expert-use1`. */
  readonly name: string;
  /** Availability zones the subnets span (one public and maybe one private subnet per AZ). */
  readonly azs: number;
  /** Position of the region in the lab: picks a non-overlapping /16. @default 0 */
  readonly regionIndex?: number;
  /** Add private subnets, a NAT gateway and a private route table. @default false */
  readonly privateSubnets?: boolean;
  /** Tag subnets for Kubernetes load balancers (`kubernetes.io/role/elb`). @default false */
  readonly kubernetesSubnetTags?: boolean;
}

export class LabNetwork extends Construct {
  readonly vpc: Vpc;
  readonly cidrBlock: string;
  readonly publicSubnets: Subnet[] = [];
  readonly privateSubnets: Subnet[] = [];
  /** Route tables of the private subnets (empty without private subnets). */
  readonly privateRouteTables: RouteTable[] = [];

  constructor(scope: Construct, id: string, props: LabNetworkProps) {
    super(scope, id);
    const regionIndex = props.regionIndex ?? 0;
    checkNetwork(this.node.path, props.azs, regionIndex);
    const layout = networkLayout(regionIndex, props.azs, props.privateSubnets ?? false);
    this.cidrBlock = layout.cidr;
    // AZ names differ per account (and us-west-1 has two): ask the API instead of guessing.
    const zones = new DataAwsAvailabilityZones(this, 'azs', { state: 'available' });
    const az = (i: number) => Token.asString(Fn.element(zones.names, i));

    this.vpc = new Vpc(this, 'vpc', {
      cidrBlock: this.cidrBlock,
      enableDnsHostnames: true,
      enableDnsSupport: true,
      tags: { Name: props.name },
    });
    // Take over the VPC's default security group with no rules: anything placed in it by
    // mistake can neither receive nor send traffic.
    new DefaultSecurityGroup(this, 'default-sg', { vpcId: this.vpc.id, tags: { Name: `${props.name}-default-deny` } });
    const igw = new InternetGateway(this, 'igw', { vpcId: this.vpc.id, tags: { Name: props.name } });
    const publicTable = new RouteTable(this, 'public-rt', { vpcId: this.vpc.id, tags: { Name: `${props.name}-public` } });
    new Route(this, 'public-default', { routeTableId: publicTable.id, destinationCidrBlock: '0.0.0.0/0', gatewayId: igw.id });

    const k8s = props.kubernetesSubnetTags ?? false;
    layout.public.forEach((cidrBlock, i) => {
      const subnet = new Subnet(this, `public-${i}`, {
        vpcId: this.vpc.id,
        cidrBlock,
        availabilityZone: az(i),
        // Instances ask for a public IP themselves; nothing gets one by accident.
        mapPublicIpOnLaunch: false,
        tags: { Name: `${props.name}-public-${i}`, ...(k8s ? { 'kubernetes.io/role/elb': '1' } : {}) },
      });
      new RouteTableAssociation(this, `public-${i}-rta`, { subnetId: subnet.id, routeTableId: publicTable.id });
      this.publicSubnets.push(subnet);
    });
    if (layout.private.length === 0) return;

    const eip = new Eip(this, 'nat-eip', { domain: 'vpc', tags: { Name: `${props.name}-nat` } });
    const nat = new NatGateway(this, 'nat', {
      allocationId: eip.allocationId,
      subnetId: this.publicSubnets[0]!.id,
      tags: { Name: props.name },
      dependsOn: [igw],
    });
    const privateTable = new RouteTable(this, 'private-rt', { vpcId: this.vpc.id, tags: { Name: `${props.name}-private` } });
    new Route(this, 'private-default', { routeTableId: privateTable.id, destinationCidrBlock: '0.0.0.0/0', natGatewayId: nat.id });
    this.privateRouteTables.push(privateTable);
    layout.private.forEach((cidrBlock, i) => {
      const subnet = new Subnet(this, `private-${i}`, {
        vpcId: this.vpc.id,
        cidrBlock,
        availabilityZone: az(i),
        tags: { Name: `${props.name}-private-${i}`, ...(k8s ? { 'kubernetes.io/role/internal-elb': '1' } : {}) },
      });
      new RouteTableAssociation(this, `private-${i}-rta`, { subnetId: subnet.id, routeTableId: privateTable.id });
      this.privateSubnets.push(subnet);
    });
  }

  /** Ids of the private subnets; throws when the network has none (a spec/engine mismatch). */
  privateSubnetIds(forWhat: string): string[] {
    if (this.privateSubnets.length === 0)
      throw new ValidationError(`${this.node.path}: ${forWhat} needs private subnets, the network has none`);
    return this.privateSubnets.map((s) => s.id);
  }
}
