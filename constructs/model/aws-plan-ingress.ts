// Who may reach what in an AWS lab: the ingress rules of every security group, worked out once
// for both engines. Nothing is ever open to the world: a VM is reachable only from the allowed
// CIDR, a data service only from the lab's clients (their security groups, or with several
// regions the lab's VPC ranges, since security groups cannot be referenced across regions).
import { AMQPS_PORT, KAFKA_IAM_PORT, KAFKA_TLS_PORT, POSTGRES_PORT, REDIS_PORT } from './aws.js';
import { ValidationError } from './errors.js';

/** Where a port may be reached from: a CIDR, or members of a security group (`G`: the plan's Ref, or an engine's id). */
export type Source<G> = { readonly cidr: string } | { readonly securityGroupId: G };

export interface IngressRule<G> {
  /** TCP port. */
  readonly port: number;
  readonly from: Source<G>;
  /** Why the port is open (shown in the console). */
  readonly description: string;
}

/** The services whose security group admits the lab's clients on one port. */
export type ClientService = 'postgres' | 'redis' | 'rabbitmq';

const CLIENT_SERVICES: Record<ClientService, { readonly port: number; readonly group: string; readonly rule: string }> = {
  postgres: { port: POSTGRES_PORT, group: 'PostgreSQL: lab clients only', rule: 'PostgreSQL from lab clients' },
  redis: { port: REDIS_PORT, group: 'Redis: lab clients only', rule: 'Redis from lab clients' },
  rabbitmq: { port: AMQPS_PORT, group: 'RabbitMQ: AMQPS from lab clients only', rule: 'AMQPS from lab clients' },
};

/** Description of a client service's security group. */
export function clientGroupDescription(service: ClientService): string {
  return CLIENT_SERVICES[service].group;
}

/** The service's port from each of the lab's clients. */
export function clientIngress<G>(service: ClientService, sources: readonly Source<G>[]): IngressRule<G>[] {
  const { port, rule } = CLIENT_SERVICES[service];
  return sources.map((from) => ({ port, from, description: rule }));
}

export const KAFKA_GROUP_DESCRIPTION = 'Kafka: TLS listeners from the lab VPCs only';

/** MSK's TLS and IAM/TLS listeners from each lab VPC, so peered regions can consume. */
export function kafkaIngress(cidrs: readonly string[]): IngressRule<never>[] {
  return cidrs.flatMap((cidr) => [
    { port: KAFKA_TLS_PORT, from: { cidr }, description: 'Kafka TLS from a lab VPC' },
    { port: KAFKA_IAM_PORT, from: { cidr }, description: 'Kafka IAM/TLS from a lab VPC' },
  ]);
}

/** A VM's ports from the allowed CIDR; no CIDR, no ingress at all (reach it through the console or SSM). */
export function vmIngress(
  allowCidr: string | undefined,
  ports: readonly { readonly port: number; readonly what: string }[],
): IngressRule<never>[] {
  if (allowCidr === undefined) return [];
  return ports.map(({ port, what }) => ({ port, from: { cidr: allowCidr }, description: `${what} from the allowed CIDR` }));
}

/** A CIDR that spans the whole address space (`0.0.0.0/0`, `::/0`). */
export function isWorld(cidr: string): boolean {
  return /\/0$/.test(cidr);
}

/** Refuses a rule with a bad port or a world-open source, naming the group at `path`. */
export function checkIngress(path: string, rules: readonly IngressRule<unknown>[]): void {
  for (const rule of rules) {
    if (!Number.isInteger(rule.port) || rule.port < 1 || rule.port > 65535)
      throw new ValidationError(`${path}: port must be 1-65535, got ${rule.port}`);
    if ('cidr' in rule.from && isWorld(rule.from.cidr))
      throw new ValidationError(`${path}: port ${rule.port} may not be opened to ${rule.from.cidr}`);
  }
}

/** One rule's settings, as both engines' security group ingress rule resources take them. */
export function ingressRuleArgs<G>(securityGroupId: G, rule: IngressRule<G>) {
  return {
    securityGroupId,
    ipProtocol: 'tcp',
    fromPort: rule.port,
    toPort: rule.port,
    description: rule.description,
    ...('cidr' in rule.from ? { cidrIpv4: rule.from.cidr } : { referencedSecurityGroupId: rule.from.securityGroupId }),
  };
}

/** The egress rule of groups that may talk out (VMs: package mirrors and AWS APIs). */
export const EGRESS_ANYWHERE = { ipProtocol: '-1', cidrIpv4: '0.0.0.0/0', description: 'outbound: package mirrors and AWS APIs' } as const;
