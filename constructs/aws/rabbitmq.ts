// Amazon MQ for RabbitMQ: one private broker, AMQPS only from the lab's clients.
import { Fn, Token } from 'cdktf';
import { Construct } from 'constructs';
import { MqBroker } from '@cdktf/provider-aws/lib/mq-broker/index.js';
import { checkRabbitmq } from '../model/aws-plan-checks.js';
import { clientGroupDescription, clientIngress } from '../model/aws-plan-ingress.js';
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
    checkRabbitmq(this.node.path, { name: props.name, user: props.user, sources: props.allowFrom.length });
    const sg = new LabSecurityGroup(this, 'sg', {
      name: props.name,
      vpcId: props.vpcId,
      description: clientGroupDescription('rabbitmq'),
      ingress: clientIngress('rabbitmq', props.allowFrom),
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
    return Token.asString(Fn.element(this.broker.instances.get(0).endpoints, 0));
  }
}
