// A security group whose ingress is a short, explicit list; nothing is ever open to the world.
import * as pulumi from '@pulumi/pulumi';
import { SecurityGroup as Ec2SecurityGroup } from '@pulumi/aws/ec2/securityGroup.js';
import { SecurityGroupEgressRule } from '@pulumi/aws/vpc/securityGroupEgressRule.js';
import { SecurityGroupIngressRule } from '@pulumi/aws/vpc/securityGroupIngressRule.js';
import {
  EGRESS_ANYWHERE,
  checkIngress,
  ingressRuleArgs,
  type IngressRule as ModelIngressRule,
  type Source as ModelSource,
} from '../model/aws-plan-ingress.js';
import { componentType } from './region.js';

/** Where a port may be reached from: a CIDR, or members of another security group. */
export type Source = ModelSource<pulumi.Input<string>>;
export type IngressRule = ModelIngressRule<pulumi.Input<string>>;

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
    checkIngress(name, ingress);
    const child = { parent: this };
    this.group = new Ec2SecurityGroup(
      `${name}-sg`,
      { name: args.name, vpcId: args.vpcId, description: args.description, tags: { Name: args.name } },
      child,
    );
    // Separate rule resources rather than inline blocks: each rule is its own diffable object.
    ingress.forEach(
      (rule, i) =>
        new SecurityGroupIngressRule(`${name}-in-${rule.port}-${i}`, ingressRuleArgs<pulumi.Input<string>>(this.group.id, rule), child),
    );
    if (args.allowEgress ?? true) new SecurityGroupEgressRule(`${name}-out`, { securityGroupId: this.group.id, ...EGRESS_ANYWHERE }, child);
    this.registerOutputs({ id: this.group.id });
  }

  get id(): pulumi.Output<string> {
    return this.group.id;
  }
}
