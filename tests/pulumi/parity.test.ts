// PARITY: for every level the cdktf engine (Terraform JSON, built in memory) and the Pulumi engine
// (run against Pulumi's mock monitor, setMocks) must create the same cloud resources: the same
// kinds (PULUMI_KINDS maps Pulumi's type names onto Terraform's), the same count of each in each
// region, and the same literal key properties. A component added to one engine and not the
// other fails here.
import { describe, expect, it } from 'vitest';
import { cdktfInventory } from '../../constructs/aws/inventory.js';
import { resolveDeployment, type DeploymentOptions } from '../../constructs/model/deployment.js';
import { countByKind, type Inventory } from '../../constructs/model/inventory.js';
import { LEVELS, type Level } from '../../constructs/model/types.js';
import { pulumiInventory } from '../../constructs/pulumi/inventory.js';
import { getLab } from '../../labs/index.js';
import { cdktfBodies, comparable, pulumiBodies } from './bodies.js';

const NOW = new Date('2026-01-01T00:00:00Z');

const isReference = (value: unknown) => typeof value === 'string' && value.includes('${');

/** `kind region` -> count. */
function countByKindAndRegion(inv: Inventory): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of inv.items) counts[`${item.kind} ${item.region}`] = (counts[`${item.kind} ${item.region}`] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort());
}

/**
 * Each item as `kind region {literal key properties}`, sorted. A property that is a reference in
 * the Terraform JSON (`${aws_db_instance.x.arn}`) has no literal value before deployment in
 * either engine, so it is left out on both sides.
 */
function literalProperties(inv: Inventory, referenceKeys: Map<string, Set<string>>): string[] {
  return inv.items
    .map((item) => {
      const skip = referenceKeys.get(item.kind) ?? new Set();
      const props = Object.fromEntries(
        Object.entries(item.properties)
          .filter(([k]) => !skip.has(k))
          .sort(([a], [b]) => a.localeCompare(b)),
      );
      return `${item.kind} ${item.region} ${JSON.stringify(props)}`;
    })
    .sort();
}

async function inventories(level: Level, options: DeploymentOptions = {}) {
  const d = resolveDeployment(getLab(level), { owner: 'tester', ttl: '4h', now: NOW, ...options });
  return { cdktf: cdktfInventory(d), pulumi: await pulumiInventory(d) };
}

const CASES: [Level, DeploymentOptions][] = [
  ...LEVELS.map((level): [Level, DeploymentOptions] => [level, {}]),
  ['beginner', { allowCidr: '203.0.113.0/24' }],
  ['advanced', { allowCidr: '203.0.113.0/24' }],
  ['expert', { regions: 'us-east-1,eu-west-1,ap-southeast-1' }],
];

describe('parity: cdktf and Pulumi (mock monitor) inventories', () => {
  it.each(CASES)('%s %j: same kinds and counts, region by region, and the same literal key properties', async (level, options) => {
    const { cdktf, pulumi } = await inventories(level, options);
    expect(cdktf.items.length).toBeGreaterThan(10);
    expect(countByKind(pulumi.items)).toEqual(countByKind(cdktf.items));
    expect(countByKindAndRegion(pulumi)).toEqual(countByKindAndRegion(cdktf));
    const referenceKeys = new Map<string, Set<string>>();
    for (const item of cdktf.items) {
      for (const [key, value] of Object.entries(item.properties)) {
        if (isReference(value)) referenceKeys.set(item.kind, (referenceKeys.get(item.kind) ?? new Set()).add(key));
      }
    }
    expect(literalProperties(pulumi, referenceKeys)).toEqual(literalProperties(cdktf, referenceKeys));
  });

  it.each(LEVELS)('%s: every resource has the same literal settings in both engines (whole bodies, tags included)', async (level) => {
    const d = resolveDeployment(getLab(level), { owner: 'tester', ttl: '4h', now: NOW, allowCidr: '203.0.113.0/24' });
    const { cdktf, other } = comparable(cdktfBodies(d), await pulumiBodies(d));
    expect(Object.keys(cdktf).length).toBeGreaterThan(10);
    for (const kind of Object.keys(cdktf)) expect(other[kind], kind).toEqual(cdktf[kind]);
  });

  it('compares something: an expert inventory with 3 regions differs from one with 2', async () => {
    const two = await inventories('expert');
    const three = await inventories('expert', { regions: 'us-east-1,eu-west-1,ap-southeast-1' });
    expect(countByKind(three.pulumi.items)).not.toEqual(countByKind(two.pulumi.items));
    expect(countByKind(three.pulumi.items).aws_vpc_peering_connection).toBe(3);
  });
});
