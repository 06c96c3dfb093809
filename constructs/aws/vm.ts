// One EC2 instance: Debian 12 from the official AMI, IMDSv2 only, encrypted gp3 root volume, and
// an instance role that may do only what the props grant (read named parameters, use buckets).
import { Construct } from 'constructs';
import { DataAwsAmi } from '@cdktf/provider-aws/lib/data-aws-ami/index.js';
import { IamInstanceProfile } from '@cdktf/provider-aws/lib/iam-instance-profile/index.js';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy/index.js';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role/index.js';
import { Instance } from '@cdktf/provider-aws/lib/instance/index.js';
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
import { ValidationError } from '../model/errors.js';

export interface LabVmProps {
  /** Physical name (Name tag, role and profile names). */
  readonly name: string;
  /** EC2 instance type, e.g. `t3.micro` (x86_64). */
  readonly instanceType: string;
  /** Root volume size in GiB; the volume is always encrypted gp3. */
  readonly diskGb: number;
  readonly subnetId: string;
  readonly securityGroupIds: readonly string[];
  /** Cloud-init user data (a shell script). */
  readonly userData: string;
  /** Give the instance a public IPv4 address. @default true */
  readonly publicIp?: boolean;
  /** ARNs of SSM parameters the instance may read (with decryption). @default none */
  readonly readParameterArns?: readonly string[];
  /** ARNs of S3 buckets whose objects the instance may read, write and delete. @default none */
  readonly bucketArns?: readonly string[];
  /** Tags for the root volume, which default_tags do not reach reliably. @default none */
  readonly volumeTags?: Readonly<Record<string, string>>;
}

export class LabVm extends Construct {
  readonly instance: Instance;
  readonly role: IamRole;

  constructor(scope: Construct, id: string, props: LabVmProps) {
    super(scope, id);
    checkVm(this.node.path, { diskGb: props.diskGb, securityGroups: props.securityGroupIds.length });
    if (Buffer.byteLength(props.userData) > 16_384) throw new ValidationError(`${this.node.path}: userData is over EC2's 16 KiB limit`);

    const ami = new DataAwsAmi(this, 'ami', {
      mostRecent: true,
      owners: [DEBIAN_AMI_OWNER],
      filter: DEBIAN_AMI_FILTERS.map((f) => ({ name: f.name, values: [...f.values] })),
    });

    this.role = new IamRole(this, 'role', {
      name: props.name,
      assumeRolePolicy: assumeRolePolicy('ec2.amazonaws.com'),
      forceDetachPolicies: true,
    });
    const statements = vmAccessStatements(props.readParameterArns, props.bucketArns);
    if (statements.length > 0) {
      new IamRolePolicy(this, 'policy', { name: 'lab-access', role: this.role.id, policy: policyDocument(statements) });
    }
    const profile = new IamInstanceProfile(this, 'profile', { name: props.name, role: this.role.name });

    this.instance = new Instance(this, 'instance', {
      ami: ami.id,
      instanceType: props.instanceType,
      subnetId: props.subnetId,
      vpcSecurityGroupIds: [...props.securityGroupIds],
      associatePublicIpAddress: props.publicIp ?? true,
      // t3 instances are EBS-optimized anyway; saying so costs nothing and documents it.
      ebsOptimized: true,
      iamInstanceProfile: profile.name,
      // IMDSv2 only, one hop: containers on the host cannot reach the instance credentials.
      metadataOptions: IMDSV2_ONLY,
      rootBlockDevice: encryptedRootVolume(props.diskGb, props.name, props.volumeTags),
      userData: props.userData,
      userDataReplaceOnChange: true,
      tags: { Name: props.name },
      // A newer Debian AMI must not replace a running lab VM on the next apply.
      lifecycle: { ignoreChanges: ['ami'] },
    });
  }

  get publicIp(): string {
    return this.instance.publicIp;
  }
}
