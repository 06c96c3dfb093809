// The cdktf inventory against the Terraform JSON that synth writes for the same deployment.
import { beforeAll, describe, expect, it } from 'vitest';
import { cdktfInventory, labStackJson } from '../../constructs/aws/inventory.js';
import { PULUMI_KINDS, countByKind, type Inventory } from '../../constructs/model/inventory.js';
import { LEVELS, type Level } from '../../constructs/model/types.js';
import { componentsOf } from '../../constructs/model/validate.js';
import { getLab } from '../../labs/index.js';
import { resources, synthLevel, type Synthesized, type TfJson } from './helpers.js';

/** Resource blocks per type, as the inventory counts them. */
function countsOf(json: TfJson): Record<string, number> {
  return Object.fromEntries(Object.entries(json.resource).map(([type, byName]) => [type, Object.keys(byName).length]));
}

describe('cdktfInventory', () => {
  const synthesized = new Map<Level, Synthesized>();
  const inventories = new Map<Level, Inventory>();
  beforeAll(() => {
    for (const level of LEVELS) {
      const s = synthLevel(level);
      synthesized.set(level, s);
      inventories.set(level, cdktfInventory(s.deployment));
    }
  });

  it.each(LEVELS)('%s: one item per resource of the synthesized <lab> stack, kind by kind', (level) => {
    const { json, resourceCount } = synthesized.get(level)!;
    const inventory = inventories.get(level)!;
    expect(countByKind(inventory.items)).toEqual(countsOf(json));
    expect(inventory.items).toHaveLength(resourceCount);
    expect(inventory).toMatchObject({ engine: 'cdktf', lab: level, level });
  });

  it.each(LEVELS)('%s: the in-memory JSON is the JSON synth writes', (level) => {
    const { json, deployment } = synthesized.get(level)!;
    const inMemory = labStackJson(deployment);
    expect(inMemory.resource).toEqual(json.resource);
    expect(inMemory.provider).toEqual(json.provider);
  });

  it('has a Pulumi token for every kind the cdktf engine creates', () => {
    const mapped = new Set(Object.values(PULUMI_KINDS));
    const kinds = new Set([...inventories.values()].flatMap((inv) => inv.items.map((i) => i.kind)));
    expect([...kinds].filter((k) => !mapped.has(k))).toEqual([]);
  });

  it("spreads expert over both default regions, each item in its provider's region", () => {
    const { json, deployment } = synthesized.get('expert')!;
    const inventory = inventories.get('expert')!;
    expect(deployment.regions).toEqual(getLab('expert').regions.default);
    expect(new Set(inventory.items.map((i) => i.region))).toEqual(new Set(['us-east-1', 'eu-west-1']));
    const regionOfAlias = new Map(json.provider.aws!.map((p) => [`aws.${p.alias}`, p.region as string]));
    for (const item of inventory.items) {
      const provider = json.resource[item.kind]![item.name]!.provider as string | undefined;
      expect(item.region, `${item.kind}.${item.name}`).toBe(provider === undefined ? 'us-east-1' : regionOfAlias.get(provider));
    }
    for (const kind of ['aws_vpc', 'aws_eks_cluster', 'aws_msk_cluster', 'aws_nat_gateway']) {
      expect(
        inventory.items
          .filter((i) => i.kind === kind)
          .map((i) => i.region)
          .sort(),
        kind,
      ).toEqual(['eu-west-1', 'us-east-1']);
    }
  });

  it('carries the key properties of the beginner VM from the lab spec', () => {
    const vm = componentsOf(getLab('beginner'), 'vm')[0]!;
    const [instance, ...others] = inventories.get('beginner')!.items.filter((i) => i.kind === 'aws_instance');
    expect(others).toEqual([]);
    expect(instance!.region).toBe('us-east-1');
    expect(instance!.properties).toEqual({
      instanceType: vm.instanceType,
      associatePublicIpAddress: true,
      'rootBlockDevice.volumeSize': vm.diskGb,
      'rootBlockDevice.encrypted': true,
      'metadataOptions.httpTokens': 'required',
    });
  });

  it('gives expert read replicas their source reference and the shard storage', () => {
    const pg = componentsOf(getLab('expert'), 'postgres')[0]!;
    const dbs = inventories.get('expert')!.items.filter((i) => i.kind === 'aws_db_instance');
    const replicas = dbs.filter((d) => d.properties.replicateSourceDb !== undefined);
    expect(replicas).toHaveLength(2);
    const primaries = resources(synthesized.get('expert')!.json, 'aws_db_instance').filter(
      (d) => d.props.replicate_source_db === undefined,
    );
    for (const replica of replicas) {
      expect(replica.properties.allocatedStorage).toBe(pg.storageGb);
      expect(primaries.map((p) => `\${${p.address}.arn}`)).toContain(replica.properties.replicateSourceDb);
    }
  });
});
