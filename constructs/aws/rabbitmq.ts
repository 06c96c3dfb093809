// Amazon MQ for RabbitMQ: one private broker, AMQPS only from the lab's clients.
import { Fn } from 'cdktf';
import { Construct } from 'constructs';
import { MqBroker } from '@cdktf/provider-aws/lib/mq-broker/index.js';
import { AMQPS_PORT } from '../model/aws.js';
import { LabSecurityGroup, type Source } from './security-group.js';

export interface LabRabbitmqProps {
  /** Broker name (<= 50 characters). */
  readonly name: string;
  /** Host instance type, e.g. `mq.t3.micro` (single-instance only). */
  readonly instanceType: string;
  readonly vpcId: string;
  /** The private subnet of a single-instance broker. */
  readonly subnetId: string;
  /** Who may connect on 5671. */
  readonly allowFrom: readonly Source[];
  readonly user: string;
  /** Broker user's password (a reference to a generated secret, >= 12 characters). */
  readonly password: string;
  /** RabbitMQ engine version. @default '3.13' */
  readonly engineVersion?: string;
}

export class LabRabbitmq extends Construct {
  readonly broker: MqBroker;

  constructor(scope: Construct, id: string, props: LabRabbitmqProps) {
    super(scope, id);
    if (props.name.length === 0 || props.name.length > 50) throw new Error(`${this.node.path}: name must be 1-50 characters, got ${props.name.length}`);
    if (!/^[a-zA-Z0-9._~-]{2,100}$/.test(props.user) || props.user.startsWith('guest')) {
      throw new Error(`${this.node.path}: user '${props.user}' is not a valid Amazon MQ user name`);
    }
    if (props.allowFrom.length === 0) throw new Error(`${this.node.path}: allowFrom must name at least one source`);
    const sg = new LabSecurityGroup(this, 'sg', {
      name: props.name,
      vpcId: props.vpcId,
      description: 'RabbitMQ: AMQPS from lab clients only',
      ingress: props.allowFrom.map((from) => ({ port: AMQPS_PORT, from, description: 'AMQPS from lab clients' })),
      allowEgress: false,
    });
    this.broker = new MqBroker(this, 'broker', {
      brokerName: props.name,
      engineType: 'RabbitMQ',
      engineVersion: props.engineVersion ?? '3.13',
      // 3.13 only accepts automatic minor upgrades.
      autoMinorVersionUpgrade: true,
      hostInstanceType: props.instanceType,
      deploymentMode: 'SINGLE_INSTANCE',
      publiclyAccessible: false,
      subnetIds: [props.subnetId],
      securityGroups: [sg.id],
      // Amazon MQ always encrypts at rest; say which key explicitly.
      encryptionOptions: { useAwsOwnedKey: true },
      applyImmediately: true,
      user: [{ username: props.user, password: props.password }],
    });
  }

  /** `amqps://...:5671` of the single instance. */
  get amqpEndpoint(): string {
    return Fn.element(this.broker.instances.get(0).endpoints, 0);
  }
}
