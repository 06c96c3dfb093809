// Managed PostgreSQL (RDS): a primary, and read replicas that may live in another region.
// Built to be thrown away: no deletion protection, no final snapshot, storage always encrypted.
import * as pulumi from '@pulumi/pulumi';
import { Instance } from '@pulumi/aws/rds/instance.js';
import { SubnetGroup } from '@pulumi/aws/rds/subnetGroup.js';
import { DISPOSABLE_DATABASE } from '../model/aws.js';
import { checkRds } from '../model/aws-plan-checks.js';
import { clientGroupDescription, clientIngress } from '../model/aws-plan-ingress.js';
import { componentType } from './region.js';
import { SecurityGroup, type Source } from './security-group.js';

interface RdsCommonArgs {
  /** RDS identifier (lowercase, <= 63 characters). */
  readonly identifier: string;
  readonly instanceClass: string;
  /** Allocated storage in GiB (>= 20); a replica's equals its source's. */
  readonly storageGb: number;
  readonly vpcId: pulumi.Input<string>;
  /** Private subnets of the DB subnet group (two AZs at least). */
  readonly subnetIds: readonly pulumi.Input<string>[];
  readonly allowFrom: readonly Source[];
  /** KMS key for storage encryption. @default the account's aws/rds key */
  readonly kmsKeyArn?: pulumi.Input<string>;
}

export interface PostgresArgs extends RdsCommonArgs {
  readonly version: string;
  readonly database: string;
  readonly user: string;
  readonly password: pulumi.Input<string>;
  /** Days of automated backups; read replicas need at least 1 on the source. */
  readonly backupRetentionDays: number;
}

export interface PostgresReplicaArgs extends RdsCommonArgs {
  /** ARN of the primary (an ARN, because the replica may be in another region). */
  readonly sourceArn: pulumi.Input<string>;
  readonly kmsKeyArn: pulumi.Input<string>;
}

function subnetsAndGroup(parent: pulumi.ComponentResource, name: string, args: RdsCommonArgs & { readonly backupRetentionDays?: number }) {
  checkRds(name, { ...args, subnets: args.subnetIds.length, sources: args.allowFrom.length });
  const group = new SubnetGroup(
    `${name}-subnets`,
    { name: args.identifier, description: 'labforge: PostgreSQL private subnets', subnetIds: [...args.subnetIds] },
    { parent },
  );
  const sg = new SecurityGroup(
    `${name}-sg`,
    {
      name: args.identifier,
      vpcId: args.vpcId,
      description: clientGroupDescription('postgres'),
      ingress: clientIngress('postgres', args.allowFrom),
      allowEgress: false,
    },
    { parent },
  );
  return { group, sg };
}

export class Postgres extends pulumi.ComponentResource {
  readonly db: Instance;

  constructor(name: string, args: PostgresArgs, opts: pulumi.ComponentResourceOptions) {
    super(componentType('Postgres'), name, {}, opts);
    const { group, sg } = subnetsAndGroup(this, name, args);
    this.db = new Instance(
      `${name}-db`,
      {
        ...DISPOSABLE_DATABASE,
        identifier: args.identifier,
        engine: 'postgres',
        engineVersion: args.version,
        instanceClass: args.instanceClass,
        allocatedStorage: args.storageGb,
        storageType: 'gp3',
        kmsKeyId: args.kmsKeyArn,
        dbName: args.database,
        username: args.user,
        password: args.password,
        dbSubnetGroupName: group.name,
        vpcSecurityGroupIds: [sg.id],
        backupRetentionPeriod: args.backupRetentionDays,
        deleteAutomatedBackups: true,
      },
      { parent: this },
    );
    this.registerOutputs({ address: this.db.address });
  }
}

export class PostgresReplica extends pulumi.ComponentResource {
  readonly db: Instance;

  constructor(name: string, args: PostgresReplicaArgs, opts: pulumi.ComponentResourceOptions) {
    super(componentType('PostgresReplica'), name, {}, opts);
    const { group, sg } = subnetsAndGroup(this, name, args);
    this.db = new Instance(
      `${name}-db`,
      {
        ...DISPOSABLE_DATABASE,
        identifier: args.identifier,
        replicateSourceDb: args.sourceArn,
        instanceClass: args.instanceClass,
        allocatedStorage: args.storageGb,
        kmsKeyId: args.kmsKeyArn,
        dbSubnetGroupName: group.name,
        vpcSecurityGroupIds: [sg.id],
        backupRetentionPeriod: 0,
      },
      { parent: this },
    );
    this.registerOutputs({ address: this.db.address });
  }
}
