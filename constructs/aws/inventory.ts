// The cdktf engine's resource inventory: the lab stack built in memory (no synth to disk), each
// `resource.<type>.<name>` of its Terraform JSON as one item.
//
// Only the `<lab>` stack (the AWS resources). The `<lab>-k8s` cluster-objects stack (namespaces,
// RBAC, Secret inside the EKS clusters) is left out: it costs nothing, and its Pulumi twin would
// need @pulumi/kubernetes, which the Pulumi engine does not use.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'cdktf';
import type { LabDeployment } from '../model/deployment.js';
import { byKindThenName, camelize, keyProperties, type Inventory, type InventoryItem } from '../model/inventory.js';
import { LabStack } from './lab-stack.js';

type Body = Record<string, unknown>;

/** The parts of a stack's Terraform JSON the inventory reads. */
export interface LabStackJson {
  readonly provider?: Record<string, readonly { alias?: string; region?: string }[]>;
  readonly resource?: Record<string, Record<string, Body>>;
}

/** The `<lab>` stack's Terraform JSON, resolved in memory: the same JSON `synth` writes. */
export function labStackJson(d: LabDeployment): LabStackJson {
  // App insists on an outdir and creates `<outdir>/stacks` in its constructor; nothing else is written.
  const outdir = mkdtempSync(join(tmpdir(), 'labforge-inventory-'));
  try {
    const app = new App({ outdir, skipValidation: true });
    const stack = new LabStack(app, d.name, { deployment: d });
    // What App.synth runs before writing each stack (it may add elements); then the resolved JSON.
    stack.prepareStack();
    return stack.toTerraform() as LabStackJson;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** `aws` (default provider) or `aws.<alias>` -> that provider block's region. */
function regionResolver(json: LabStackJson, lab: string): (provider: string | undefined) => string | undefined {
  const regions = new Map<string, string>();
  for (const block of json.provider?.aws ?? []) {
    if (block.region === undefined)
      throw new Error(`${lab}: an aws provider block${block.alias ? ` (alias ${block.alias})` : ''} has no region`);
    regions.set(block.alias === undefined ? 'aws' : `aws.${block.alias}`, block.region);
  }
  return (provider) => regions.get(provider ?? 'aws');
}

export function cdktfInventory(d: LabDeployment): Inventory {
  return inventoryOfStackJson(d, labStackJson(d));
}

/** The inventory of the `<lab>` stack's Terraform JSON (in memory, or as `synth` wrote it). */
export function inventoryOfStackJson(d: LabDeployment, json: LabStackJson): Inventory {
  const regionOf = regionResolver(json, d.name);
  const items: InventoryItem[] = [];
  for (const [type, byName] of Object.entries(json.resource ?? {})) {
    for (const [name, body] of Object.entries(byName)) {
      const provider = body.provider as string | undefined;
      // random_* resources run locally, in no region: they are counted with the primary one.
      const region = type.startsWith('random_') ? d.regions[0] : regionOf(provider);
      if (region === undefined)
        throw new Error(`${d.name}: ${type}.${name} uses provider '${provider ?? 'aws'}', which the stack does not configure`);
      items.push({ kind: type, type, name, region, properties: keyProperties(type, camelize(body) as Body) });
    }
  }
  items.sort(byKindThenName);
  return { engine: 'cdktf', lab: d.name, level: d.lab.level, regions: [...d.regions], items };
}
