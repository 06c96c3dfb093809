// A security group whose ingress is a short, explicit list; nothing is ever open to the world.
import { Construct } from 'constructs';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group/index.js';
import { VpcSecurityGroupEgressRule } from '@cdktf/provider-aws/lib/vpc-security-group-egress-rule/index.js';
import { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule/index.js';
import {
  EGRESS_ANYWHERE,
  checkIngress,
  ingressRuleArgs,
  type IngressRule as ModelIngressRule,
  type Source as ModelSource,
} from '../model/aws-plan-ingress.js';

/** Where a port may be reached from: a CIDR, or members of another security group. */
export type Source = ModelSource<string>;
export type IngressRule = ModelIngressRule<string>;

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
    checkIngress(this.node.path, ingress);
    this.group = new SecurityGroup(this, 'sg', {
      name: props.name,
      vpcId: props.vpcId,
      description: props.description,
      tags: { Name: props.name },
    });
    // Separate rule resources rather than inline blocks: each rule is its own diffable object.
    ingress.forEach((rule, i) => new VpcSecurityGroupIngressRule(this, `in-${rule.port}-${i}`, ingressRuleArgs(this.group.id, rule)));
    if (props.allowEgress ?? true) new VpcSecurityGroupEgressRule(this, 'out', { securityGroupId: this.group.id, ...EGRESS_ANYWHERE });
  }

  get id(): string {
    return this.group.id;
  }
}
