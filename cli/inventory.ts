// Which engine's resource inventory a command reads. The engines are imported here, lazily, on
// first use: a command module that imports this file still loads neither cdktf nor Pulumi.
import type { LabDeployment } from '../constructs/model/deployment.js';
import type { Inventory } from '../constructs/model/inventory.js';

/** Targets that can list what they would create: the cdktf engine and the Pulumi engine. */
export const INVENTORY_TARGETS = ['aws', 'pulumi'] as const;
export type InventoryTarget = (typeof INVENTORY_TARGETS)[number];

export async function inventoryOf(target: InventoryTarget, d: LabDeployment): Promise<Inventory> {
  if (target === 'aws') {
    const { cdktfInventory } = await import('../constructs/aws/inventory.js');
    return cdktfInventory(d);
  }
  const { pulumiInventory } = await import('../constructs/pulumi/inventory.js');
  return pulumiInventory(d);
}
