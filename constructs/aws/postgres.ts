// Managed PostgreSQL (RDS): a primary, and read replicas that may live in another region.
// Built to be thrown away: no deletion protection, no final snapshot, storage always encrypted.
import { Construct } from 'constructs';
import { DbInstance } from '@cdktf/provider-aws/lib/db-instance/index.js';
import { DbSubnetGroup } from '@cdktf/provider-aws/lib/db-subnet-group/index.js';
import { DISPOSABLE_DATABASE } from '../model/aws.js';
import { checkRds } from '../model/aws-plan-checks.js';
import { clientGroupDescription, clientIngress } from '../model/aws-plan-ingress.js';
import { LabSecurityGroup, type Source } from './security-group.js';

interface RdsCommonProps {
  /** RDS identifier (lowercase, <= 63 characters). */
  readonly identifier: string;
  /** RDS instance class, e.g. `db.t3.micro`. */
  readonly instanceClass: string;
  readonly vpcId: string;
  /** Private subnets of the DB subnet group (two AZs at least, as RDS requires). */
  readonly subnetIds: readonly string[];
  /** Who may connect on 5432. */
  readonly allowFrom: readonly Source[];
  /** KMS key for storage encryption. @default the account's aws/rds key */
  readonly kmsKeyArn?: string;
}

export interface RdsPostgresProps extends RdsCommonProps {
  /** Major version, e.g. `15`. */
  readonly version: string;
  /** Allocated storage in GiB (>= 20). */
  readonly storageGb: number;
  readonly database: string;
  readonly user: string;
  /** Master password (a Terraform reference to a generated secret). */
  readonly password: string;
  /** Days of automated backups; read replicas need at least 1. @default 0 */
  readonly backupRetentionDays?: number;
}

function subnetsAndGroup(
  c: Construct,
  props: RdsCommonProps & { readonly storageGb: number; readonly backupRetentionDays?: number },
): { group: DbSubnetGroup; sg: LabSecurityGroup } {
  checkRds(c.node.path, { ...props, subnets: props.subnetIds.length, sources: props.allowFrom.length });
  const group = new DbSubnetGroup(c, 'subnets', {
    name: props.identifier,
    description: 'labforge: PostgreSQL private subnets',
    subnetIds: [...props.subnetIds],
  });
  const sg = new LabSecurityGroup(c, 'sg', {
    name: props.identifier,
    vpcId: props.vpcId,
    description: clientGroupDescription('postgres'),
    ingress: clientIngress('postgres', props.allowFrom),
    allowEgress: false,
  });
  return { group, sg };
}

export class RdsPostgres extends Construct {
  readonly db: DbInstance;

  constructor(scope: Construct, id: string, props: RdsPostgresProps) {
    super(scope, id);
    const { group, sg } = subnetsAndGroup(this, props);
    this.db = new DbInstance(this, 'db', {
      ...DISPOSABLE_DATABASE,
      identifier: props.identifier,
      engine: 'postgres',
      engineVersion: props.version,
      instanceClass: props.instanceClass,
      allocatedStorage: props.storageGb,
      storageType: 'gp3',
      kmsKeyId: props.kmsKeyArn,
      dbName: props.database,
      username: props.user,
      password: props.password,
      dbSubnetGroupName: group.name,
      vpcSecurityGroupIds: [sg.id],
      backupRetentionPeriod: props.backupRetentionDays ?? 0,
      deleteAutomatedBackups: true,
    });
  }
}

export interface RdsReadReplicaProps extends RdsCommonProps {
  /** ARN of the primary (an ARN, not an id, because the replica may be in another region). */
  readonly sourceArn: string;
  /** KMS key in the replica's region: required, since the source storage is encrypted. */
  readonly kmsKeyArn: string;
  /** Allocated storage in GiB: the source's (stated, so the inventory prices the replica's storage). */
  readonly storageGb: number;
}

export class RdsReadReplica extends Construct {
  readonly db: DbInstance;

  constructor(scope: Construct, id: string, props: RdsReadReplicaProps) {
    super(scope, id);
    const { group, sg } = subnetsAndGroup(this, props);
    this.db = new DbInstance(this, 'db', {
      ...DISPOSABLE_DATABASE,
      identifier: props.identifier,
      replicateSourceDb: props.sourceArn,
      instanceClass: props.instanceClass,
      allocatedStorage: props.storageGb,
      kmsKeyId: props.kmsKeyArn,
      dbSubnetGroupName: group.name,
      vpcSecurityGroupIds: [sg.id],
      backupRetentionPeriod: 0,
    });
  }
}
