// Which engine's resource inventory a command reads. The engines are imported here, lazily, on
// first use: a command module that imports this file still loads neither cdktf nor Pulumi.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { costOfInventory, type CostEstimate } from '../constructs/model/cost.js';
import { resolveDeployment, type LabDeployment } from '../constructs/model/deployment.js';
import type { Inventory } from '../constructs/model/inventory.js';
import { packageRoot } from '../constructs/model/paths.js';
import { UsageError } from '../constructs/model/errors.js';
import type { LabSpec } from '../constructs/model/types.js';
import { usd } from './output.js';

/** Targets that can list what they would create: the cdktf engine and the Pulumi engine. */
export const INVENTORY_TARGETS = ['aws', 'pulumi'] as const;
export type InventoryTarget = (typeof INVENTORY_TARGETS)[number];

/** Each engine's inventory, loaded on first use. */
const INVENTORIES: Readonly<Record<InventoryTarget, (d: LabDeployment) => Promise<Inventory>>> = {
  aws: async (d) => (await import('../constructs/aws/inventory.js')).cdktfInventory(d),
  pulumi: async (d) => (await import('../constructs/pulumi/inventory.js')).pulumiInventory(d),
};

export function inventoryOf(target: InventoryTarget, d: LabDeployment): Promise<Inventory> {
  return INVENTORIES[target](d);
}

export interface DefaultCost {
  readonly hourly: number;
  readonly regions: readonly string[];
  readonly pricesTakenOn: string;
}

/** Where the build writes each level's priced default deployment (scripts/build.mjs). */
export function defaultCostsFile(): string {
  return join(packageRoot(), 'dist', 'default-costs.json');
}

/**
 * USD per hour of the level in its default regions, priced from the cdktf inventory. The build
 * prices the four levels once; from source (no build) the inventory is priced here.
 */
export async function defaultCost(lab: LabSpec): Promise<DefaultCost> {
  const file = defaultCostsFile();
  const built = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, DefaultCost>)[lab.level] : undefined;
  if (built !== undefined) return built;
  const { hourly, regions, pricesTakenOn } = costOfInventory(await inventoryOf('aws', resolveDeployment(lab)));
  return { hourly, regions, pricesTakenOn };
}

/**
 * `--max-cost`: refuses (a UsageError, exit 2, one line) an envelope above the budget. Exit 2, not
 * 1: what is refused is the user's own request (participants x hours against their budget),
 * decided before anything is created, like any other bad input; 1 means something outside
 * labforge failed. Returns the envelope when it is within budget.
 */
export function refuseOverBudget(cost: CostEstimate, budget: number): number {
  if (cost.total > budget) {
    throw new UsageError(
      `the cost envelope ${usd(cost.total)} (${usd(cost.hourly)}/hour x ${cost.participants} participant(s) x ${cost.hours} hour(s)) is above --max-cost ${usd(budget)}`,
    );
  }
  return cost.total;
}
