// The managed data services: ElastiCache for Redis (AUTH token, TLS, encrypted), Amazon MQ for
// RabbitMQ (AMQPS only) and MSK for Kafka (TLS everywhere, the lab key at rest). Each is private
// and reachable only from the lab's clients.
import * as pulumi from '@pulumi/pulumi';
import { ReplicationGroup } from '@pulumi/aws/elasticache/replicationGroup.js';
import { SubnetGroup } from '@pulumi/aws/elasticache/subnetGroup.js';
import { Broker } from '@pulumi/aws/mq/broker.js';
import { Cluster as MskCluster } from '@pulumi/aws/msk/cluster.js';
import { REDIS_PORT } from '../model/aws.js';
import { checkKafka, checkRabbitmq, checkRedis } from '../model/aws-plan-checks.js';
import {
  KAFKA_GROUP_DESCRIPTION,
  clientGroupDescription,
  clientIngress,
  kafkaIngress,
  type ClientService,
} from '../model/aws-plan-ingress.js';
import { componentType } from './region.js';
import { SecurityGroup, type Source } from './security-group.js';

interface PrivateServiceArgs {
  /** Physical name. */
  readonly name: string;
  readonly vpcId: pulumi.Input<string>;
  readonly subnetIds: readonly pulumi.Input<string>[];
  readonly allowFrom: readonly Source[];
}

/** The service's security group: its port from the lab's clients, nothing out. */
function clientsOnly(parent: pulumi.ComponentResource, name: string, args: PrivateServiceArgs, service: ClientService): SecurityGroup {
  return new SecurityGroup(
    `${name}-sg`,
    {
      name: args.name,
      vpcId: args.vpcId,
      description: clientGroupDescription(service),
      ingress: clientIngress(service, args.allowFrom),
      allowEgress: false,
    },
    { parent },
  );
}

export class Redis extends pulumi.ComponentResource {
  readonly group: ReplicationGroup;

  constructor(
    name: string,
    args: PrivateServiceArgs & { readonly nodeType: string; readonly authToken: pulumi.Input<string> },
    opts: pulumi.ComponentResourceOptions,
  ) {
    super(componentType('Redis'), name, {}, opts);
    checkRedis(name, { name: args.name, subnets: args.subnetIds.length, sources: args.allowFrom.length });
    const subnets = new SubnetGroup(
      `${name}-subnets`,
      { name: args.name, description: 'labforge: Redis private subnets', subnetIds: [...args.subnetIds] },
      { parent: this },
    );
    const sg = clientsOnly(this, name, args, 'redis');
    this.group = new ReplicationGroup(
      `${name}-redis`,
      {
        replicationGroupId: args.name,
        description: 'labforge lab cache',
        engine: 'redis',
        engineVersion: '7.1',
        nodeType: args.nodeType,
        numCacheClusters: 1,
        port: REDIS_PORT,
        subnetGroupName: subnets.name,
        securityGroupIds: [sg.id],
        atRestEncryptionEnabled: true,
        transitEncryptionEnabled: true,
        authToken: args.authToken,
        automaticFailoverEnabled: false,
        applyImmediately: true,
        snapshotRetentionLimit: 0,
      },
      { parent: this },
    );
    this.registerOutputs({ endpoint: this.group.primaryEndpointAddress });
  }
}

export class Rabbitmq extends pulumi.ComponentResource {
  readonly broker: Broker;

  constructor(
    name: string,
    args: PrivateServiceArgs & { readonly instanceType: string; readonly user: string; readonly password: pulumi.Input<string> },
    opts: pulumi.ComponentResourceOptions,
  ) {
    super(componentType('Rabbitmq'), name, {}, opts);
    checkRabbitmq(name, { name: args.name, user: args.user, sources: args.allowFrom.length });
    const sg = clientsOnly(this, name, args, 'rabbitmq');
    this.broker = new Broker(
      `${name}-broker`,
      {
        brokerName: args.name,
        engineType: 'RabbitMQ',
        engineVersion: '3.13',
        // 3.13 only accepts automatic minor upgrades.
        autoMinorVersionUpgrade: true,
        hostInstanceType: args.instanceType,
        deploymentMode: 'SINGLE_INSTANCE',
        publiclyAccessible: false,
        // A single-instance broker lives in one subnet.
        subnetIds: [args.subnetIds[0]!],
        securityGroups: [sg.id],
        encryptionOptions: { useAwsOwnedKey: true },
        applyImmediately: true,
        users: [{ username: args.user, password: args.password }],
      },
      { parent: this },
    );
    this.registerOutputs({ amqpEndpoint: this.amqpEndpoint });
  }

  /** `amqps://...:5671` of the single instance. */
  get amqpEndpoint(): pulumi.Output<string> {
    return this.broker.instances.apply((instances) => instances?.[0]?.endpoints?.[0] ?? '');
  }
}

export class Kafka extends pulumi.ComponentResource {
  readonly cluster: MskCluster;

  constructor(
    name: string,
    args: Omit<PrivateServiceArgs, 'allowFrom'> & {
      readonly brokers: number;
      readonly instanceType: string;
      readonly allowCidrs: readonly string[];
      readonly kmsKeyArn: pulumi.Input<string>;
    },
    opts: pulumi.ComponentResourceOptions,
  ) {
    super(componentType('Kafka'), name, {}, opts);
    checkKafka(name, { brokers: args.brokers, subnets: args.subnetIds.length, cidrs: args.allowCidrs.length });
    const sg = new SecurityGroup(
      `${name}-sg`,
      {
        name: args.name,
        vpcId: args.vpcId,
        description: KAFKA_GROUP_DESCRIPTION,
        ingress: kafkaIngress(args.allowCidrs),
        allowEgress: false,
      },
      { parent: this },
    );
    this.cluster = new MskCluster(
      `${name}-msk`,
      {
        clusterName: args.name,
        kafkaVersion: '3.6.0',
        numberOfBrokerNodes: args.brokers,
        brokerNodeGroupInfo: {
          clientSubnets: [...args.subnetIds],
          instanceType: args.instanceType,
          securityGroups: [sg.id],
          storageInfo: { ebsStorageInfo: { volumeSize: 100 } },
        },
        encryptionInfo: { encryptionAtRestKmsKeyArn: args.kmsKeyArn, encryptionInTransit: { clientBroker: 'TLS', inCluster: true } },
        // TLS listener for the exercises (reachable only from the lab VPCs) plus IAM for services.
        clientAuthentication: { unauthenticated: true, sasl: { iam: true } },
      },
      { parent: this },
    );
    this.registerOutputs({ bootstrapBrokersTls: this.cluster.bootstrapBrokersTls });
  }
}
