// A security group whose ingress is a short, explicit list; nothing is ever open to the world.
import * as pulumi from '@pulumi/pulumi';
import { SecurityGroup as Ec2SecurityGroup } from '@pulumi/aws/ec2/securityGroup.js';
import { SecurityGroupEgressRule } from '@pulumi/aws/vpc/securityGroupEgressRule.js';
import { SecurityGroupIngressRule } from '@pulumi/aws/vpc/securityGroupIngressRule.js';
import { componentType } from './region.js';

/** Where a port may be reached from: a CIDR, or members of another security group. */
export type Source = { readonly cidr: string } | { readonly securityGroupId: pulumi.Input<string> };

export interface IngressRule {
  readonly port: number;
  readonly from: Source;
  /** Why the port is open (shown in the console). */
  readonly description: string;
}

export interface SecurityGroupArgs {
  /** Physical name of the group. */
  readonly name: string;
  readonly vpcId: pulumi.Input<string>;
  readonly description: string;
  /** An empty list means nothing may connect in. @default [] */
  readonly ingress?: readonly IngressRule[];
  /** Allow all outbound traffic (package installs, AWS APIs). @default true */
  readonly allowEgress?: boolean;
}

export class SecurityGroup extends pulumi.ComponentResource {
  readonly group: Ec2SecurityGroup;

  constructor(name: string, args: SecurityGroupArgs, opts: pulumi.ComponentResourceOptions) {
    super(componentType('SecurityGroup'), name, {}, opts);
    const ingress = args.ingress ?? [];
    for (const rule of ingress) {
      if (!Number.isInteger(rule.port) || rule.port < 1 || rule.port > 65535) throw new Error(`${name}: port must be 1-65535, got ${rule.port}`);
      if ('cidr' in rule.from && /\/0$/.test(rule.from.cidr)) throw new Error(`${name}: port ${rule.port} may not be opened to ${rule.from.cidr}`);
    }
    const child = { parent: this };
    this.group = new Ec2SecurityGroup(`${name}-sg`, { name: args.name, vpcId: args.vpcId, description: args.description, tags: { Name: args.name } }, child);
    // Separate rule resources rather than inline blocks: each rule is its own diffable object.
    ingress.forEach((rule, i) => {
      new SecurityGroupIngressRule(
        `${name}-in-${rule.port}-${i}`,
        {
          securityGroupId: this.group.id,
          ipProtocol: 'tcp',
          fromPort: rule.port,
          toPort: rule.port,
          description: rule.description,
          ...('cidr' in rule.from ? { cidrIpv4: rule.from.cidr } : { referencedSecurityGroupId: rule.from.securityGroupId }),
        },
        child,
      );
    });
    if (args.allowEgress ?? true) {
      new SecurityGroupEgressRule(
        `${name}-out`,
        { securityGroupId: this.group.id, ipProtocol: '-1', cidrIpv4: '0.0.0.0/0', description: 'outbound: package mirrors and AWS APIs' },
        child,
      );
    }
    this.registerOutputs({ id: this.group.id });
  }

  get id(): pulumi.Output<string> {
    return this.group.id;
  }
}
