// One EC2 instance: Debian 12 from the official AMI, IMDSv2 only, encrypted gp3 root volume, and
// an instance role that may do only what the args grant (read named parameters, use buckets).
import * as pulumi from '@pulumi/pulumi';
import { getAmiOutput } from '@pulumi/aws/ec2/getAmi.js';
import { Instance } from '@pulumi/aws/ec2/instance.js';
import { InstanceProfile } from '@pulumi/aws/iam/instanceProfile.js';
import { Role } from '@pulumi/aws/iam/role.js';
import { RolePolicy } from '@pulumi/aws/iam/rolePolicy.js';
import {
  DEBIAN_AMI_FILTERS,
  DEBIAN_AMI_OWNER,
  IMDSV2_ONLY,
  assumeRolePolicy,
  encryptedRootVolume,
  policyDocument,
  vmAccessStatements,
} from '../model/aws.js';
import { checkVm } from '../model/aws-plan-checks.js';
import { componentType } from './region.js';

export interface VmArgs {
  /** Physical name (Name tag, role and profile names). */
  readonly name: string;
  readonly instanceType: string;
  /** Root volume size in GiB; the volume is always encrypted gp3. */
  readonly diskGb: number;
  readonly subnetId: pulumi.Input<string>;
  readonly securityGroupIds: readonly pulumi.Input<string>[];
  /** Cloud-init user data (a shell script). */
  readonly userData: pulumi.Input<string>;
  /** ARNs of SSM parameters the instance may read. @default none */
  readonly readParameterArns?: readonly pulumi.Input<string>[];
  /** ARNs of S3 buckets whose objects the instance may use. @default none */
  readonly bucketArns?: readonly pulumi.Input<string>[];
  /** Tags for the root volume, which default tags do not reach reliably. */
  readonly volumeTags: Readonly<Record<string, string>>;
}

export class Vm extends pulumi.ComponentResource {
  readonly instance: Instance;

  constructor(name: string, args: VmArgs, opts: pulumi.ComponentResourceOptions) {
    super(componentType('Vm'), name, {}, opts);
    checkVm(name, { diskGb: args.diskGb, securityGroups: args.securityGroupIds.length });
    const child = { parent: this };
    const ami = getAmiOutput(
      { mostRecent: true, owners: [DEBIAN_AMI_OWNER], filters: DEBIAN_AMI_FILTERS.map((f) => ({ name: f.name, values: [...f.values] })) },
      child,
    );
    const role = new Role(
      `${name}-role`,
      { name: args.name, assumeRolePolicy: assumeRolePolicy('ec2.amazonaws.com'), forceDetachPolicies: true },
      child,
    );
    const parameters = args.readParameterArns ?? [];
    const buckets = args.bucketArns ?? [];
    if (parameters.length + buckets.length > 0) {
      const policy = pulumi
        .all([pulumi.all([...parameters]), pulumi.all([...buckets])])
        .apply(([p, b]) => policyDocument(vmAccessStatements(p, b)));
      new RolePolicy(`${name}-policy`, { name: 'lab-access', role: role.id, policy }, child);
    }
    const profile = new InstanceProfile(`${name}-profile`, { name: args.name, role: role.name }, child);
    this.instance = new Instance(
      `${name}-instance`,
      {
        ami: ami.id,
        instanceType: args.instanceType,
        subnetId: args.subnetId,
        vpcSecurityGroupIds: [...args.securityGroupIds],
        associatePublicIpAddress: true,
        ebsOptimized: true,
        iamInstanceProfile: profile.name,
        // IMDSv2 only, one hop: containers on the host cannot reach the instance credentials.
        metadataOptions: IMDSV2_ONLY,
        rootBlockDevice: encryptedRootVolume(args.diskGb, args.name, args.volumeTags),
        userData: args.userData,
        userDataReplaceOnChange: true,
        tags: { Name: args.name },
      },
      // A newer Debian AMI must not replace a running lab VM on the next `pulumi up`.
      { parent: this, ignoreChanges: ['ami'] },
    );
    this.registerOutputs({ publicIp: this.instance.publicIp });
  }

  get publicIp(): pulumi.Output<string> {
    return this.instance.publicIp;
  }
}
