// MSK (Kafka): brokers spread over the private subnets, TLS between clients and brokers and
// inside the cluster, storage encrypted with the region's lab key.
import { Construct } from 'constructs';
import { MskCluster } from '@cdktf/provider-aws/lib/msk-cluster/index.js';
import { checkKafka } from '../model/aws-plan-checks.js';
import { KAFKA_GROUP_DESCRIPTION, kafkaIngress } from '../model/aws-plan-ingress.js';
import { LabSecurityGroup } from './security-group.js';

export interface LabKafkaProps {
  /** Cluster name (<= 64 characters). */
  readonly name: string;
  /** Broker count: a multiple of the number of subnets (MSK spreads brokers evenly). */
  readonly brokers: number;
  /** Broker instance type, e.g. `kafka.t3.small`. */
  readonly instanceType: string;
  readonly vpcId: string;
  /** Private subnets, one per AZ (2 or 3). */
  readonly subnetIds: readonly string[];
  /** CIDRs that may connect (the lab's VPCs, so peered regions can consume). */
  readonly allowCidrs: readonly string[];
  /** KMS key for encryption at rest. */
  readonly kmsKeyArn: string;
  /** Kafka version. @default '3.6.0' */
  readonly kafkaVersion?: string;
  /** EBS volume per broker in GiB. @default 100 */
  readonly volumeGb?: number;
}

export class LabKafka extends Construct {
  readonly cluster: MskCluster;

  constructor(scope: Construct, id: string, props: LabKafkaProps) {
    super(scope, id);
    checkKafka(this.node.path, { brokers: props.brokers, subnets: props.subnetIds.length, cidrs: props.allowCidrs.length });
    const sg = new LabSecurityGroup(this, 'sg', {
      name: props.name,
      vpcId: props.vpcId,
      description: KAFKA_GROUP_DESCRIPTION,
      ingress: kafkaIngress(props.allowCidrs),
      allowEgress: false,
    });
    this.cluster = new MskCluster(this, 'msk', {
      clusterName: props.name,
      kafkaVersion: props.kafkaVersion ?? '3.6.0',
      numberOfBrokerNodes: props.brokers,
      brokerNodeGroupInfo: {
        clientSubnets: [...props.subnetIds],
        instanceType: props.instanceType,
        securityGroups: [sg.id],
        storageInfo: { ebsStorageInfo: { volumeSize: props.volumeGb ?? 100 } },
      },
      encryptionInfo: {
        encryptionAtRestKmsKeyArn: props.kmsKeyArn,
        encryptionInTransit: { clientBroker: 'TLS', inCluster: true },
      },
      // TLS listener for the exercises (reachable only from the lab VPCs) plus IAM for services.
      clientAuthentication: { unauthenticated: true, sasl: { iam: true } },
    });
  }

  get bootstrapBrokersTls(): string {
    return this.cluster.bootstrapBrokersTls;
  }
}
