// Cost envelope of a lab in the cloud, priced item by item from an engine's resource inventory
// and the shipped price table: what is priced is what the engine would create, in the region
// its provider points at. Kinds not priced here (VPCs, subnets, IAM, ...) cost nothing by the hour.
import type { Inventory, InventoryItem } from './inventory.js';
import { HOURLY, HOURS_PER_MONTH, PER_GB_MONTH, PER_MONTH, PRICES_REGION, PRICES_TAKEN_ON, REGION_FACTOR } from './prices.js';

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

/** Region factor for regions the table does not list. */
const UNLISTED_REGION_FACTOR = 1.2;

function price(table: Record<string, number>, key: string, item: InventoryItem): number {
  const value = table[key];
  if (value === undefined) throw new Error(`no price for '${key}' (${item.kind} ${item.name}) in constructs/model/prices.ts`);
  return value;
}

/** A priced property, which must be known: a missing value must not make an item free. */
function need(item: InventoryItem, path: string, type: 'string' | 'number'): unknown {
  const value = item.properties[path];
  if (typeof value !== type) {
    throw new Error(
      `cannot price ${item.kind} ${item.name}: ${path} is ${value === undefined ? 'not set' : `'${JSON.stringify(value)}'`}, expected a ${type}`,
    );
  }
  return value;
}
const text = (item: InventoryItem, path: string) => need(item, path, 'string') as string;
const count = (item: InventoryItem, path: string) => need(item, path, 'number') as number;

/** One unit of cost: `quantity` x `unit` (USD per hour in us-east-1), shown as `item`. */
interface RawLine {
  readonly item: string;
  readonly quantity: number;
  readonly unit: number;
}

const perGbHour = (key: string, gb: number, item: InventoryItem) => (gb * price(PER_GB_MONTH, key, item)) / HOURS_PER_MONTH;
const monthly = (key: string, item: InventoryItem) => price(PER_MONTH, key, item) / HOURS_PER_MONTH;

/** What one inventory item costs, as lines. */
function linesOf(item: InventoryItem): RawLine[] {
  const one = (label: string, unit: number, quantity = 1): RawLine => ({ item: label, quantity, unit });
  switch (item.kind) {
    case 'aws_instance': {
      const type = text(item, 'instanceType');
      const diskGb = count(item, 'rootBlockDevice.volumeSize');
      const lines = [
        one(`EC2 ${type}`, price(HOURLY, type, item)),
        one(`EBS gp3 ${diskGb} GiB (EC2 root volume)`, perGbHour('ebs-gp3', diskGb, item)),
      ];
      if (item.properties.associatePublicIpAddress === true)
        lines.push(one('Public IPv4 address (EC2)', price(HOURLY, 'public-ipv4', item)));
      return lines;
    }
    case 'aws_nat_gateway':
      return [one('NAT gateway', price(HOURLY, 'nat-gateway', item))];
    case 'aws_eip':
      return [one('Public IPv4 address (Elastic IP)', price(HOURLY, 'public-ipv4', item))];
    case 'aws_db_instance': {
      const cls = text(item, 'instanceClass');
      const gb = count(item, 'allocatedStorage');
      return [one(`RDS ${cls} + ${gb} GiB`, price(HOURLY, cls, item) + perGbHour('rds-gp2', gb, item))];
    }
    case 'aws_elasticache_replication_group': {
      const node = text(item, 'nodeType');
      return [one(`ElastiCache ${node}`, price(HOURLY, node, item), count(item, 'numCacheClusters'))];
    }
    case 'aws_mq_broker': {
      const type = text(item, 'hostInstanceType');
      return [one(`Amazon MQ ${type}`, price(HOURLY, type, item))];
    }
    case 'aws_msk_cluster': {
      const type = text(item, 'brokerNodeGroupInfo.instanceType');
      const gb = count(item, 'brokerNodeGroupInfo.storageInfo.ebsStorageInfo.volumeSize');
      const unit = price(HOURLY, type, item) + perGbHour('msk-storage', gb, item);
      return [one(`MSK ${type} broker + ${gb} GiB`, unit, count(item, 'numberOfBrokerNodes'))];
    }
    case 'aws_eks_cluster':
      return [one('EKS control plane', price(HOURLY, 'eks-cluster', item))];
    case 'aws_eks_node_group': {
      const types = item.properties.instanceTypes;
      const type = Array.isArray(types) && typeof types[0] === 'string' ? types[0] : undefined;
      if (type === undefined) throw new Error(`cannot price ${item.kind} ${item.name}: instanceTypes is not set`);
      return [one(`EKS nodes ${type}`, price(HOURLY, type, item), count(item, 'scalingConfig.desiredSize'))];
    }
    case 'aws_route53_zone':
      return [one('Route 53 hosted zone', monthly('route53-zone', item))];
    case 'aws_route53_health_check':
      return [one('Route 53 health check', monthly('route53-health-check', item))];
    default:
      return [];
  }
}

/**
 * USD per hour of the inventory's resources, grouped into one line per item label and region
 * (e.g. `EC2 t3.micro` in us-east-1, quantity 2), and the total for `participants` labs over `hours`.
 */
export function costOfInventory(inventory: Inventory, participants = 1, hours = 1): CostEstimate {
  const grouped = new Map<string, { item: string; region: string; quantity: number; unitHourly: number }>();
  for (const item of inventory.items) {
    const factor = REGION_FACTOR[item.region] ?? UNLISTED_REGION_FACTOR;
    for (const raw of linesOf(item)) {
      const unitHourly = raw.unit * factor;
      // The unit price is part of the key: two items with one label always cost the same.
      const key = `${item.region}\u0000${raw.item}\u0000${unitHourly}`;
      const line = grouped.get(key);
      if (line) line.quantity += raw.quantity;
      else grouped.set(key, { item: raw.item, region: item.region, quantity: raw.quantity, unitHourly });
    }
  }
  // Regions in the lab's order (primary first), then the priciest lines first.
  const regionRank = (region: string) => {
    const index = inventory.regions.indexOf(region);
    return index < 0 ? inventory.regions.length : index;
  };
  const lines: CostLine[] = [...grouped.values()]
    .map((l) => ({ ...l, hourly: l.unitHourly * l.quantity }))
    .sort((a, b) => regionRank(a.region) - regionRank(b.region) || b.hourly - a.hourly || (a.item < b.item ? -1 : 1));
  const hourly = lines.reduce((sum, l) => sum + l.hourly, 0);
  return {
    level: inventory.level,
    regions: inventory.regions,
    lines,
    hourly,
    participants,
    hours,
    total: hourly * participants * hours,
    pricesTakenOn: PRICES_TAKEN_ON,
    pricesRegion: PRICES_REGION,
  };
}
