// IAM policy documents as JSON strings (Terraform references inside resolve at apply time), and
// the roles EKS needs, which are global and therefore created once per lab.
import { Construct } from 'constructs';
import { IamRolePolicyAttachment } from '@cdktf/provider-aws/lib/iam-role-policy-attachment/index.js';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role/index.js';

export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action: readonly string[];
  readonly Resource: readonly string[];
}

export function policyDocument(statements: readonly PolicyStatement[]): string {
  for (const s of statements) {
    if (s.Resource.some((r) => r === '*')) throw new Error(`policy statement ${s.Sid ?? ''} uses Resource '*': name the resources`);
  }
  return JSON.stringify({ Version: '2012-10-17', Statement: statements });
}

export function assumeRolePolicy(service: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' }],
  });
}

const MANAGED = 'arn:aws:iam::aws:policy/';

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
    this.clusterAttachments.push(
      new IamRolePolicyAttachment(this, 'cluster-policy', { role: this.clusterRole.name, policyArn: `${MANAGED}AmazonEKSClusterPolicy` }),
    );
    this.nodeRole = new IamRole(this, 'node', {
      name: `${props.name}-eks-node`,
      assumeRolePolicy: assumeRolePolicy('ec2.amazonaws.com'),
      forceDetachPolicies: true,
    });
    for (const policy of ['AmazonEKSWorkerNodePolicy', 'AmazonEKS_CNI_Policy', 'AmazonEC2ContainerRegistryReadOnly']) {
      this.nodeAttachments.push(
        new IamRolePolicyAttachment(this, `node-${policy}`, { role: this.nodeRole.name, policyArn: `${MANAGED}${policy}` }),
      );
    }
  }
}
