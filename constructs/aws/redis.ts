// ElastiCache for Redis: one node, encrypted at rest and in transit, AUTH token required.
import { Construct } from 'constructs';
import { ElasticacheReplicationGroup } from '@cdktf/provider-aws/lib/elasticache-replication-group/index.js';
import { ElasticacheSubnetGroup } from '@cdktf/provider-aws/lib/elasticache-subnet-group/index.js';
import { REDIS_PORT } from '../model/aws.js';
import { checkRedis } from '../model/aws-plan-checks.js';
import { clientGroupDescription, clientIngress } from '../model/aws-plan-ingress.js';
import { LabSecurityGroup, type Source } from './security-group.js';

export interface LabRedisProps {
  /** Replication group id (lowercase, <= 40 characters). */
  readonly name: string;
  /** ElastiCache node type, e.g. `cache.t3.micro`. */
  readonly nodeType: string;
  readonly vpcId: string;
  /** Private subnets of the cache subnet group. */
  readonly subnetIds: readonly string[];
  /** Who may connect on 6379. */
  readonly allowFrom: readonly Source[];
  /** AUTH token (a reference to a generated secret, 16-128 characters). */
  readonly authToken: string;
  /** Redis engine version. @default '7.1' */
  readonly engineVersion?: string;
}

export class LabRedis extends Construct {
  readonly group: ElasticacheReplicationGroup;

  constructor(scope: Construct, id: string, props: LabRedisProps) {
    super(scope, id);
    checkRedis(this.node.path, { name: props.name, subnets: props.subnetIds.length, sources: props.allowFrom.length });
    const subnets = new ElasticacheSubnetGroup(this, 'subnets', {
      name: props.name,
      description: 'labforge: Redis private subnets',
      subnetIds: [...props.subnetIds],
    });
    const sg = new LabSecurityGroup(this, 'sg', {
      name: props.name,
      vpcId: props.vpcId,
      description: clientGroupDescription('redis'),
      ingress: clientIngress('redis', props.allowFrom),
      allowEgress: false,
    });
    this.group = new ElasticacheReplicationGroup(this, 'redis', {
      replicationGroupId: props.name,
      description: 'labforge lab cache',
      engine: 'redis',
      engineVersion: props.engineVersion ?? '7.1',
      nodeType: props.nodeType,
      numCacheClusters: 1,
      port: REDIS_PORT,
      subnetGroupName: subnets.name,
      securityGroupIds: [sg.id],
      // The provider takes this one as a string.
      atRestEncryptionEnabled: 'true',
      transitEncryptionEnabled: true,
      authToken: props.authToken,
      automaticFailoverEnabled: false,
      applyImmediately: true,
      snapshotRetentionLimit: 0,
    });
  }

  get endpoint(): string {
    return this.group.primaryEndpointAddress;
  }
}
