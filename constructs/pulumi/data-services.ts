// The managed data services: ElastiCache for Redis (AUTH token, TLS, encrypted), Amazon MQ for
// RabbitMQ (AMQPS only) and MSK for Kafka (TLS everywhere, the lab key at rest). Each is private
// and reachable only from the lab's clients.
import * as pulumi from '@pulumi/pulumi';
import { ReplicationGroup } from '@pulumi/aws/elasticache/replicationGroup.js';
import { SubnetGroup } from '@pulumi/aws/elasticache/subnetGroup.js';
import { Broker } from '@pulumi/aws/mq/broker.js';
import { Cluster as MskCluster } from '@pulumi/aws/msk/cluster.js';
import { AMQPS_PORT, KAFKA_IAM_PORT, KAFKA_TLS_PORT, REDIS_PORT } from '../model/aws.js';
import { componentType } from './region.js';
import { SecurityGroup, type Source } from './security-group.js';

interface PrivateServiceArgs {
  /** Physical name. */
  readonly name: string;
  readonly vpcId: pulumi.Input<string>;
  readonly subnetIds: readonly pulumi.Input<string>[];
  readonly allowFrom: readonly Source[];
}

/** The service's security group: `port` from the lab's clients, nothing out. */
function clientsOnly(parent: pulumi.ComponentResource, name: string, args: PrivateServiceArgs, port: number, text: { group: string; rule: string }): SecurityGroup {
  if (args.allowFrom.length === 0) throw new Error(`${name}: allowFrom must name at least one source`);
  if (args.subnetIds.length === 0) throw new Error(`${name}: subnetIds must not be empty`);
  return new SecurityGroup(
    `${name}-sg`,
    {
      name: args.name,
      vpcId: args.vpcId,
      description: text.group,
      ingress: args.allowFrom.map((from) => ({ port, from, description: text.rule })),
      allowEgress: false,
    },
    { parent },
  );
}

export class Redis extends pulumi.ComponentResource {
  readonly group: ReplicationGroup;

  constructor(name: string, args: PrivateServiceArgs & { readonly nodeType: string; readonly authToken: pulumi.Input<string> }, opts: pulumi.ComponentResourceOptions) {
    super(componentType('Redis'), name, {}, opts);
    if (!/^[a-z][a-z0-9-]{0,39}$/.test(args.name)) throw new Error(`${name}: '${args.name}' is not a valid replication group id (<= 40)`);
    const subnets = new SubnetGroup(`${name}-subnets`, { name: args.name, description: 'labforge: Redis private subnets', subnetIds: [...args.subnetIds] }, { parent: this });
    const sg = clientsOnly(this, name, args, REDIS_PORT, { group: 'Redis: lab clients only', rule: 'Redis from lab clients' });
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
    if (args.name.length === 0 || args.name.length > 50) throw new Error(`${name}: name must be 1-50 characters`);
    if (!/^[a-zA-Z0-9._~-]{2,100}$/.test(args.user) || args.user.startsWith('guest')) throw new Error(`${name}: user '${args.user}' is not a valid Amazon MQ user name`);
    const sg = clientsOnly(this, name, args, AMQPS_PORT, { group: 'RabbitMQ: AMQPS from lab clients only', rule: 'AMQPS from lab clients' });
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
    args: Omit<PrivateServiceArgs, 'allowFrom'> & { readonly brokers: number; readonly instanceType: string; readonly allowCidrs: readonly string[]; readonly kmsKeyArn: pulumi.Input<string> },
    opts: pulumi.ComponentResourceOptions,
  ) {
    super(componentType('Kafka'), name, {}, opts);
    const subnets = args.subnetIds.length;
    if (subnets < 2 || subnets > 3) throw new Error(`${name}: subnetIds must list 2 or 3 subnets, got ${subnets}`);
    if (!Number.isInteger(args.brokers) || args.brokers % subnets !== 0) throw new Error(`${name}: brokers must be a multiple of the ${subnets} subnets, got ${args.brokers}`);
    const sg = new SecurityGroup(
      `${name}-sg`,
      {
        name: args.name,
        vpcId: args.vpcId,
        description: 'Kafka: TLS listeners from the lab VPCs only',
        ingress: args.allowCidrs.flatMap((cidr) => [
          { port: KAFKA_TLS_PORT, from: { cidr }, description: 'Kafka TLS from a lab VPC' },
          { port: KAFKA_IAM_PORT, from: { cidr }, description: 'Kafka IAM/TLS from a lab VPC' },
        ]),
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
