// The roles EKS needs, which are global and therefore created once per lab.
import { Construct } from 'constructs';
import { IamRolePolicyAttachment } from '@cdktf/provider-aws/lib/iam-role-policy-attachment/index.js';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role/index.js';
import { EKS_CLUSTER_POLICY_ARNS, EKS_NODE_POLICY_ARNS, assumeRolePolicy } from '../model/aws.js';

export interface EksRolesProps {
  /** Physical name prefix, e.g. `lf-expert`. */
  readonly name: string;
}

/** The EKS cluster role and node role with the AWS-managed policies EKS requires. */
export class EksRoles extends Construct {
  readonly clusterRole: IamRole;
  readonly nodeRole: IamRole;
  /** Attachments that must exist before a cluster or node group is created. */
  readonly clusterAttachments: IamRolePolicyAttachment[] = [];
  readonly nodeAttachments: IamRolePolicyAttachment[] = [];

  constructor(scope: Construct, id: string, props: EksRolesProps) {
    super(scope, id);
    this.clusterRole = new IamRole(this, 'cluster', {
      name: `${props.name}-eks-cluster`,
      assumeRolePolicy: assumeRolePolicy('eks.amazonaws.com'),
      forceDetachPolicies: true,
    });
    for (const policyArn of EKS_CLUSTER_POLICY_ARNS) {
      this.clusterAttachments.push(new IamRolePolicyAttachment(this, 'cluster-policy', { role: this.clusterRole.name, policyArn }));
    }
    this.nodeRole = new IamRole(this, 'node', {
      name: `${props.name}-eks-node`,
      assumeRolePolicy: assumeRolePolicy('ec2.amazonaws.com'),
      forceDetachPolicies: true,
    });
    for (const policyArn of EKS_NODE_POLICY_ARNS) {
      const policy = policyArn.split('/').pop()!;
      this.nodeAttachments.push(new IamRolePolicyAttachment(this, `node-${policy}`, { role: this.nodeRole.name, policyArn }));
    }
  }
}
