// `labforge resources` and `labforge cost` on the built CLI: the inventory as a table and as JSON.
import { describe, expect, it } from 'vitest';
import type { Inventory } from '../../constructs/model/inventory.js';
import { labforge } from './run.js';

describe('labforge resources', () => {
  it('prints a KIND table of the beginner lab with key properties, counts and the total', () => {
    const r = labforge(['resources', 'beginner']);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^KIND\s+NAME\s+REGION\s+KEY PROPERTIES$/);
    expect(r.stdout).toMatch(/^aws_instance\s+\S+\s+us-east-1\s+instanceType=t3\.micro .*httpTokens=required$/m);
    expect(r.stdout).toMatch(/^KIND\s+COUNT$/m);
    expect(r.stdout).toMatch(/^aws_instance\s+1$/m);
    const json = JSON.parse(labforge(['resources', 'beginner', '--json']).stdout) as Inventory;
    expect(r.stdout).toContain(`Total: ${json.items.length} resources (cdktf engine, lab beginner, us-east-1)`);
  });

  it('--json prints the Inventory of the cdktf engine', () => {
    const r = labforge(['resources', 'expert', '--json']);
    expect(r.code).toBe(0);
    const inventory = JSON.parse(r.stdout) as Inventory;
    expect(inventory).toMatchObject({ engine: 'cdktf', lab: 'expert', level: 'expert', regions: ['us-east-1', 'eu-west-1'] });
    expect(inventory.items.length).toBeGreaterThan(50);
    for (const item of inventory.items) {
      expect(Object.keys(item).sort()).toEqual(['kind', 'name', 'properties', 'region', 'type']);
      expect(inventory.regions).toContain(item.region);
    }
  });

  it('--regions moves a single-region lab', () => {
    const inventory = JSON.parse(labforge(['resources', 'intermediate', '--regions', 'eu-west-1', '--json']).stdout) as Inventory;
    expect(new Set(inventory.items.map((i) => i.region))).toEqual(new Set(['eu-west-1']));
  });
});

describe('labforge cost from the inventory', () => {
  it('says which engine was priced, and prices what it creates', () => {
    const r = labforge(['cost', 'expert']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ITEM\s+REGION\s+QTY\s+PER HOUR$/m);
    expect(r.stdout).toMatch(/^EKS control plane\s+us-east-1\s+1\s/m);
    expect(r.stdout).toMatch(/^EKS control plane\s+eu-west-1\s+1\s/m);
    expect(r.stdout).toMatch(/^Priced: the cdktf engine's \d+ resources \(--target aws\)\.$/m);
  });

  it('--json carries the engine and the lines', () => {
    const cost = JSON.parse(labforge(['cost', 'intermediate', '--json']).stdout) as {
      engine: string;
      level: string;
      lines: { item: string }[];
    };
    expect(cost.engine).toBe('cdktf');
    expect(cost.level).toBe('intermediate');
    expect(cost.lines.map((l) => l.item)).toContain('NAT gateway');
  });
});
