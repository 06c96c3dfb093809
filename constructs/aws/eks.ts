// An EKS cluster with secrets encrypted by KMS and one managed node group in private subnets.
// Nodes start from a launch template so IMDSv2, disk encryption and tags are explicit.
import { Token } from 'cdktf';
import { Construct } from 'constructs';
import { EksCluster } from '@cdktf/provider-aws/lib/eks-cluster/index.js';
import { EksNodeGroup } from '@cdktf/provider-aws/lib/eks-node-group/index.js';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy/index.js';
import { LaunchTemplate } from '@cdktf/provider-aws/lib/launch-template/index.js';
import type { EksRoles } from './iam.js';
import { eksClusterSettings, eksKeyStatements, eksNodeGroupSettings, eksNodeTemplateSettings, policyDocument } from '../model/aws.js';
import { checkEks } from '../model/aws-plan-checks.js';

export interface LabEksClusterProps {
  /** Cluster name (also the node group and launch template name prefix). */
  readonly name: string;
  /** Kubernetes version, e.g. `1.31`. */
  readonly version: string;
  /** Cluster and node roles (global, shared by every region of the lab). */
  readonly roles: EksRoles;
  /** Private subnets for the control plane ENIs and the nodes (two AZs at least). */
  readonly subnetIds: readonly string[];
  /** KMS key that encrypts Kubernetes secrets. */
  readonly kmsKeyArn: string;
  /** CIDR allowed to reach the public API endpoint. @default none: private endpoint only */
  readonly publicAccessCidr?: string;
  readonly nodeInstanceType: string;
  readonly minNodes: number;
  readonly maxNodes: number;
  readonly desiredNodes: number;
  /** Node root volume in GiB. @default 20 */
  readonly nodeDiskGb?: number;
  /** Tags put on node instances and volumes (launched by EKS, not by Terraform). @default none */
  readonly nodeTags?: Readonly<Record<string, string>>;
}

export class LabEksCluster extends Construct {
  readonly cluster: EksCluster;
  readonly nodeGroup: EksNodeGroup;

  constructor(scope: Construct, id: string, props: LabEksClusterProps) {
    super(scope, id);
    checkEks(this.node.path, { ...props, subnets: props.subnetIds.length });

    // EKS uses the cluster role to encrypt secrets with the key: grant this key only.
    const keyPolicy = new IamRolePolicy(this, 'kms-policy', {
      name: `${props.name}-kms`,
      role: props.roles.clusterRole.id,
      policy: policyDocument(eksKeyStatements(props.kmsKeyArn)),
    });
    const { clusterRole, nodeRole } = props.roles;
    this.cluster = new EksCluster(this, 'cluster', {
      ...eksClusterSettings({ ...props, roleArn: clusterRole.arn }),
      dependsOn: [...props.roles.clusterAttachments, keyPolicy],
    });
    const template = new LaunchTemplate(
      this,
      'nodes-lt',
      eksNodeTemplateSettings(props.name, props.nodeDiskGb ?? 20, props.nodeTags ?? {}),
    );
    this.nodeGroup = new EksNodeGroup(this, 'nodes', {
      ...eksNodeGroupSettings({
        ...props,
        cluster: props.name,
        clusterName: this.cluster.name,
        nodeRoleArn: nodeRole.arn,
        launchTemplate: { id: template.id, version: Token.asString(template.latestVersion) },
      }),
      dependsOn: props.roles.nodeAttachments,
    });
  }

  /** Security group EKS creates for the control plane and managed nodes. */
  get clusterSecurityGroupId(): string {
    return this.cluster.vpcConfig.clusterSecurityGroupId;
  }
}
