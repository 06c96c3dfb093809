// A security group whose ingress is a short, explicit list; nothing is ever open to the world.
import { Construct } from 'constructs';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group/index.js';
import { VpcSecurityGroupEgressRule } from '@cdktf/provider-aws/lib/vpc-security-group-egress-rule/index.js';
import { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule/index.js';

/** Where a port may be reached from: a CIDR, or members of another security group. */
export type Source = { readonly cidr: string } | { readonly securityGroupId: string };

export interface IngressRule {
  /** TCP port. */
  readonly port: number;
  readonly from: Source;
  /** Why the port is open (shown in the console). */
  readonly description: string;
}

export interface LabSecurityGroupProps {
  /** Physical name of the group. */
  readonly name: string;
  readonly vpcId: string;
  readonly description: string;
  /** Ingress rules; an empty list means nothing may connect in. @default [] */
  readonly ingress?: readonly IngressRule[];
  /** Allow all outbound traffic (package installs, AWS APIs). @default true */
  readonly allowEgress?: boolean;
}

export class LabSecurityGroup extends Construct {
  readonly group: SecurityGroup;

  constructor(scope: Construct, id: string, props: LabSecurityGroupProps) {
    super(scope, id);
    const ingress = props.ingress ?? [];
    for (const rule of ingress) {
      if (!Number.isInteger(rule.port) || rule.port < 1 || rule.port > 65535) {
        throw new Error(`${this.node.path}: port must be 1-65535, got ${rule.port}`);
      }
      if ('cidr' in rule.from && /\/0$/.test(rule.from.cidr)) {
        throw new Error(`${this.node.path}: port ${rule.port} may not be opened to ${rule.from.cidr}`);
      }
    }
    this.group = new SecurityGroup(this, 'sg', {
      name: props.name,
      vpcId: props.vpcId,
      description: props.description,
      tags: { Name: props.name },
    });
    // Separate rule resources rather than inline blocks: each rule is its own diffable object.
    ingress.forEach((rule, i) => {
      new VpcSecurityGroupIngressRule(this, `in-${rule.port}-${i}`, {
        securityGroupId: this.group.id,
        ipProtocol: 'tcp',
        fromPort: rule.port,
        toPort: rule.port,
        description: rule.description,
        ...('cidr' in rule.from ? { cidrIpv4: rule.from.cidr } : { referencedSecurityGroupId: rule.from.securityGroupId }),
      });
    });
    if (props.allowEgress ?? true) {
      new VpcSecurityGroupEgressRule(this, 'out', {
        securityGroupId: this.group.id,
        ipProtocol: '-1',
        cidrIpv4: '0.0.0.0/0',
        description: 'outbound: package mirrors and AWS APIs',
      });
    }
  }

  get id(): string {
    return this.group.id;
  }
}
