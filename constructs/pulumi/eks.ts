// EKS: the cluster and node roles (global, once per lab) and per region a cluster with secrets
// encrypted by the lab key and one managed node group in private subnets, started from a launch
// template so IMDSv2, disk encryption and node tags are explicit.
import * as pulumi from '@pulumi/pulumi';
import { LaunchTemplate } from '@pulumi/aws/ec2/launchTemplate.js';
import { Cluster } from '@pulumi/aws/eks/cluster.js';
import { NodeGroup } from '@pulumi/aws/eks/nodeGroup.js';
import { Role } from '@pulumi/aws/iam/role.js';
import { RolePolicy } from '@pulumi/aws/iam/rolePolicy.js';
import { RolePolicyAttachment } from '@pulumi/aws/iam/rolePolicyAttachment.js';
import {
  EKS_CLUSTER_POLICY_ARNS,
  EKS_NODE_POLICY_ARNS,
  assumeRolePolicy,
  eksClusterSettings,
  eksKeyStatements,
  eksNodeGroupSettings,
  eksNodeTemplateSettings,
  policyDocument,
} from '../model/aws.js';
import { checkEks } from '../model/aws-plan-checks.js';
import { componentType } from './region.js';

export class EksRoles extends pulumi.ComponentResource {
  readonly clusterRole: Role;
  readonly nodeRole: Role;
  /** Attachments that must exist before a cluster or node group is created. */
  readonly clusterAttachments: RolePolicyAttachment[];
  readonly nodeAttachments: RolePolicyAttachment[];

  constructor(name: string, args: { readonly name: string }, opts: pulumi.ComponentResourceOptions) {
    super(componentType('EksRoles'), name, {}, opts);
    const child = { parent: this };
    const role = (suffix: string, service: string) =>
      new Role(
        `${name}-${suffix}`,
        { name: `${args.name}-eks-${suffix}`, assumeRolePolicy: assumeRolePolicy(service), forceDetachPolicies: true },
        child,
      );
    this.clusterRole = role('cluster', 'eks.amazonaws.com');
    this.nodeRole = role('node', 'ec2.amazonaws.com');
    const attach = (role: Role, policyArn: string) =>
      new RolePolicyAttachment(
        `${name}-${role === this.clusterRole ? 'cluster' : 'node'}-${policyArn.split('/').pop()}`,
        { role: role.name, policyArn },
        child,
      );
    this.clusterAttachments = EKS_CLUSTER_POLICY_ARNS.map((arn) => attach(this.clusterRole, arn));
    this.nodeAttachments = EKS_NODE_POLICY_ARNS.map((arn) => attach(this.nodeRole, arn));
    this.registerOutputs({});
  }
}

export interface EksClusterArgs {
  /** Cluster name (also the node group and launch template name prefix). */
  readonly name: string;
  readonly version: string;
  readonly roles: EksRoles;
  /** Private subnets for the control plane ENIs and the nodes (two AZs at least). */
  readonly subnetIds: readonly pulumi.Input<string>[];
  readonly kmsKeyArn: pulumi.Input<string>;
  /** CIDR allowed to reach the public API endpoint. @default none: private endpoint only */
  readonly publicAccessCidr?: string;
  readonly nodeInstanceType: string;
  readonly minNodes: number;
  readonly maxNodes: number;
  readonly desiredNodes: number;
  /** Tags for node instances and volumes (launched by EKS, not by Pulumi). */
  readonly nodeTags: Readonly<Record<string, string>>;
}

export class EksCluster extends pulumi.ComponentResource {
  readonly cluster: Cluster;

  constructor(name: string, args: EksClusterArgs, opts: pulumi.ComponentResourceOptions) {
    super(componentType('EksCluster'), name, {}, opts);
    checkEks(name, { ...args, subnets: args.subnetIds.length });
    const child = { parent: this };
    // EKS uses the cluster role to encrypt secrets with the key: grant this key only.
    const keyPolicy = new RolePolicy(
      `${name}-kms-policy`,
      {
        name: `${args.name}-kms`,
        role: args.roles.clusterRole.id,
        policy: pulumi.output(args.kmsKeyArn).apply((arn) => policyDocument(eksKeyStatements(arn))),
      },
      child,
    );
    const { clusterRole, nodeRole } = args.roles;
    const clusterSettings = eksClusterSettings<pulumi.Input<string>>({ ...args, roleArn: clusterRole.arn });
    this.cluster = new Cluster(`${name}-cluster`, clusterSettings, {
      parent: this,
      dependsOn: [...args.roles.clusterAttachments, keyPolicy],
    });
    const template = new LaunchTemplate(`${name}-nodes-lt`, eksNodeTemplateSettings(args.name, 20, args.nodeTags), child);
    const launchTemplate = { id: template.id, version: template.latestVersion.apply(String) };
    const nodeGroup = eksNodeGroupSettings<pulumi.Input<string>>({
      ...args,
      cluster: args.name,
      clusterName: this.cluster.name,
      nodeRoleArn: nodeRole.arn,
      launchTemplate,
    });
    new NodeGroup(`${name}-nodes`, nodeGroup, { parent: this, dependsOn: args.roles.nodeAttachments });
    this.registerOutputs({ name: this.cluster.name, endpoint: this.cluster.endpoint });
  }

  /** Security group EKS creates for the control plane and managed nodes. */
  get clusterSecurityGroupId(): pulumi.Output<string> {
    return this.cluster.vpcConfig.clusterSecurityGroupId;
  }
}
