// costOfInventory on the real cdktf inventories of the catalog (built in memory, no synth to disk).
import { describe, expect, it } from 'vitest';
import { cdktfInventory } from '../../constructs/aws/inventory.js';
import { costOfInventory } from '../../constructs/model/cost.js';
import { resolveDeployment } from '../../constructs/model/deployment.js';
import type { Inventory } from '../../constructs/model/inventory.js';
import { HOURLY, HOURS_PER_MONTH, PER_GB_MONTH } from '../../constructs/model/prices.js';
import { componentsOf } from '../../constructs/model/validate.js';
import { getLab } from '../../labs/index.js';

const inventory = (level: string, regions?: string): Inventory =>
  cdktfInventory(resolveDeployment(getLab(level), { regions, owner: 'tester' }));

/** The inventory with one item's properties replaced. */
function withProperties(inv: Inventory, kind: string, change: (p: Record<string, unknown>) => Record<string, unknown>): Inventory {
  const index = inv.items.findIndex((i) => i.kind === kind);
  expect(index).toBeGreaterThanOrEqual(0);
  return { ...inv, items: inv.items.map((item, i) => (i === index ? { ...item, properties: change({ ...item.properties }) } : item)) };
}

describe('costOfInventory', () => {
  it('prices the beginner VM from the table', () => {
    const vm = componentsOf(getLab('beginner'), 'vm')[0]!;
    const cost = costOfInventory(inventory('beginner'));
    const line = (item: string) => cost.lines.find((l) => l.item === item && l.region === 'us-east-1');
    expect(line(`EC2 ${vm.instanceType}`)?.hourly).toBeCloseTo(HOURLY[vm.instanceType]!, 9);
    expect(line('Public IPv4 address (EC2)')?.hourly).toBeCloseTo(HOURLY['public-ipv4']!, 9);
    const disk = (vm.diskGb * PER_GB_MONTH['ebs-gp3']!) / HOURS_PER_MONTH;
    expect(line(`EBS gp3 ${vm.diskGb} GiB (EC2 root volume)`)?.hourly).toBeCloseTo(disk, 9);
    // Nothing else in the beginner stack (VPC, subnet, IAM, SSM parameter) is billed by the hour.
    expect(cost.hourly).toBeCloseTo(HOURLY[vm.instanceType]! + HOURLY['public-ipv4']! + disk, 9);
  });

  it('scales the total by participants and hours', () => {
    const inv = inventory('intermediate');
    const one = costOfInventory(inv);
    const room = costOfInventory(inv, 20, 3);
    expect(one.total).toBeCloseTo(one.hourly, 9);
    expect(room.hourly).toBeCloseTo(one.hourly, 9);
    expect(room.total).toBeCloseTo(one.hourly * 60, 6);
  });

  it('repeats regional items per region and prices 4 RDS instances, storage included, for expert on 2 or 3 regions', () => {
    const two = costOfInventory(inventory('expert', 'us-east-1,eu-west-1'));
    const three = costOfInventory(inventory('expert', 'us-east-1,eu-west-1,eu-central-1'));
    const eksRegions = (c: typeof two) => c.lines.filter((l) => l.item === 'EKS control plane').map((l) => l.region);
    expect(eksRegions(two)).toEqual(['us-east-1', 'eu-west-1']);
    expect(eksRegions(three)).toEqual(['us-east-1', 'eu-west-1', 'eu-central-1']);
    // 2 shards x (1 primary + 1 replica), whatever the region count; replicas carry their storage.
    const pg = componentsOf(getLab('expert'), 'postgres')[0]!;
    for (const c of [two, three]) {
      const rds = c.lines.filter((l) => l.item.startsWith('RDS'));
      expect(rds.reduce((n, l) => n + l.quantity, 0)).toBe(4);
      expect(new Set(rds.map((l) => l.item))).toEqual(new Set([`RDS ${pg.instanceClass} + ${pg.storageGb} GiB`]));
    }
    expect(three.hourly).toBeGreaterThan(two.hourly);
  });

  it('orders levels by cost', () => {
    const hourly = ['beginner', 'intermediate', 'advanced', 'expert'].map((level) => costOfInventory(inventory(level)).hourly);
    expect([...hourly].sort((a, b) => a - b)).toEqual(hourly);
    expect(new Set(hourly).size).toBe(4);
  });

  it('throws, naming it, on an instance type the price table lacks', () => {
    const inv = withProperties(inventory('beginner'), 'aws_instance', (p) => ({ ...p, instanceType: 't9.gigantic' }));
    expect(() => costOfInventory(inv)).toThrow(/no price for 't9\.gigantic' \(aws_instance /);
  });

  it('throws when a priced property is unknown rather than pricing it at 0', () => {
    const inv = withProperties(inventory('intermediate'), 'aws_db_instance', ({ allocatedStorage: _dropped, ...rest }) => rest);
    expect(() => costOfInventory(inv)).toThrow(/cannot price aws_db_instance .*: allocatedStorage is not set/);
  });
});

describe('the costs `show` prints', () => {
  it('the table the build priced (dist/default-costs.json) equals pricing each level now', async () => {
    const { defaultCostsFile } = await import('../../cli/inventory.js');
    const { readFileSync } = await import('node:fs');
    const built = JSON.parse(readFileSync(defaultCostsFile(), 'utf8')) as Record<string, { hourly: number; regions: string[] }>;
    for (const level of ['beginner', 'intermediate', 'advanced', 'expert']) {
      const now = costOfInventory(cdktfInventory(resolveDeployment(getLab(level))));
      expect(built[level], level).toEqual({ hourly: now.hourly, regions: [...now.regions], pricesTakenOn: now.pricesTakenOn });
    }
  });

  it('both engines price a level the same (the Pulumi inventory through the mock monitor)', async () => {
    const { pulumiInventory } = await import('../../constructs/pulumi/inventory.js');
    for (const level of ['beginner', 'intermediate', 'advanced', 'expert']) {
      const d = resolveDeployment(getLab(level));
      const aws = costOfInventory(cdktfInventory(d));
      const pulumi = costOfInventory(await pulumiInventory(d));
      expect(pulumi.lines, level).toEqual(aws.lines);
      expect(pulumi.hourly).toBeGreaterThan(0);
    }
  });
});
