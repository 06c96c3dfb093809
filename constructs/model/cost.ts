// Cost envelope of a lab in the cloud, from the lab spec and the shipped price table.
import { componentsOf } from './validate.js';
import { HOURLY, HOURS_PER_MONTH, PER_GB_MONTH, PER_MONTH, PRICES_REGION, PRICES_TAKEN_ON, REGION_FACTOR } from './prices.js';
import type { LabSpec } from './types.js';

export interface CostLine {
  readonly item: string;
  readonly region: string;
  readonly quantity: number;
  /** USD per hour for one unit, region factor applied. */
  readonly unitHourly: number;
  readonly hourly: number;
}

export interface CostEstimate {
  readonly level: string;
  readonly regions: readonly string[];
  readonly lines: readonly CostLine[];
  /** USD per hour for one lab. */
  readonly hourly: number;
  readonly participants: number;
  readonly hours: number;
  /** hourly x participants x hours. */
  readonly total: number;
  readonly pricesTakenOn: string;
  readonly pricesRegion: string;
}

function price(table: Record<string, number>, key: string): number {
  const value = table[key];
  if (value === undefined) throw new Error(`no price for '${key}' in constructs/model/prices.ts`);
  return value;
}

/** Lines of one region. Expert labs repeat per region; shards spread over regions. */
interface RawLine {
  readonly item: string;
  readonly quantity: number;
  /** USD per hour for one unit in us-east-1. */
  readonly unit: number;
}

function regionLines(lab: LabSpec, regionCount: number, firstRegion: boolean): RawLine[] {
  const lines: RawLine[] = [];
  const add = (item: string, quantity: number, unit: number) => {
    if (quantity > 0) lines.push({ item, quantity, unit });
  };
  for (const net of componentsOf(lab, 'network')) {
    if (net.privateSubnets) add('NAT gateway', 1, price(HOURLY, 'nat-gateway') + price(HOURLY, 'public-ipv4'));
  }
  for (const vm of componentsOf(lab, 'vm')) {
    add(`EC2 ${vm.instanceType} (${vm.id})`, 1, price(HOURLY, vm.instanceType) + price(HOURLY, 'public-ipv4'));
    add(`EBS gp3 ${vm.diskGb} GiB (${vm.id})`, 1, (vm.diskGb * price(PER_GB_MONTH, 'ebs-gp3')) / HOURS_PER_MONTH);
  }
  for (const pg of componentsOf(lab, 'postgres')) {
    if (pg.hostVm) continue;
    // Instances per region: primaries and replicas are spread evenly over the regions.
    const instances = (pg.shards * (1 + pg.replicas)) / regionCount;
    const unit = price(HOURLY, pg.instanceClass) + (pg.storageGb * price(PER_GB_MONTH, 'rds-gp2')) / HOURS_PER_MONTH;
    add(`RDS ${pg.instanceClass} + ${pg.storageGb} GiB (${pg.id})`, instances, unit);
  }
  for (const redis of componentsOf(lab, 'redis')) add(`ElastiCache ${redis.nodeType} (${redis.id})`, 1, price(HOURLY, redis.nodeType));
  for (const mq of componentsOf(lab, 'rabbitmq')) add(`Amazon MQ ${mq.instanceType} (${mq.id})`, 1, price(HOURLY, mq.instanceType));
  for (const kafka of componentsOf(lab, 'kafka')) {
    const storage = (100 * price(PER_GB_MONTH, 'msk-storage')) / HOURS_PER_MONTH;
    add(`MSK ${kafka.instanceType} broker + 100 GiB (${kafka.id})`, kafka.brokers, price(HOURLY, kafka.instanceType) + storage);
  }
  for (const k8s of componentsOf(lab, 'kubernetes-cluster')) {
    add(`EKS control plane (${k8s.id})`, 1, price(HOURLY, 'eks-cluster'));
    add(`EKS nodes ${k8s.nodeInstanceType} (${k8s.id})`, k8s.desiredNodes, price(HOURLY, k8s.nodeInstanceType));
  }
  for (const lb of componentsOf(lab, 'load-balancer')) {
    if (lb.globalDns && firstRegion) add('Route 53 zone', 1, price(PER_MONTH, 'route53-zone') / HOURS_PER_MONTH);
    if (lb.globalDns) add('Route 53 health check', 1, price(PER_MONTH, 'route53-health-check') / HOURS_PER_MONTH);
  }
  return lines;
}

export function estimateCost(lab: LabSpec, regions: readonly string[], participants = 1, hours = 1): CostEstimate {
  const lines: CostLine[] = [];
  for (const [index, region] of regions.entries()) {
    const factor = REGION_FACTOR[region] ?? 1.2;
    for (const line of regionLines(lab, regions.length, index === 0)) {
      const unitHourly = line.unit * factor;
      lines.push({ item: line.item, region, quantity: line.quantity, unitHourly, hourly: unitHourly * line.quantity });
    }
  }
  const hourly = lines.reduce((sum, l) => sum + l.hourly, 0);
  return {
    level: lab.level,
    regions,
    lines,
    hourly,
    participants,
    hours,
    total: hourly * participants * hours,
    pricesTakenOn: PRICES_TAKEN_ON,
    pricesRegion: PRICES_REGION,
  };
}
