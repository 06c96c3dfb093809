// The resources the Pulumi engine would create for a lab, without a Pulumi engine or a cloud:
// the program runs in-process against Pulumi's mock monitor (pulumi.runtime.setMocks), which
// records every resource registration with its inputs and provider. This is a dry run of the
// program, the same way Pulumi's own unit tests run one.
import * as pulumi from '@pulumi/pulumi';
import type { LabDeployment } from '../model/deployment.js';
import { byKindThenName, keyProperties, kindOfPulumiType, type Inventory, type InventoryItem } from '../model/inventory.js';
import { LabforgeLab } from './lab.js';

const PROVIDER_TYPE = /^pulumi:providers:(.+)$/;

/** What the mock monitor saw registered. */
export interface Registration {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, unknown>;
  /** Name of the provider resource the resource was created with. */
  readonly provider?: string;
  readonly custom: boolean;
  /** The URN the mock monitor gave it: its type chain shows every parent. */
  readonly urn: string;
}

/** Answers for the data sources the engine reads (AZ names, the Debian AMI). */
function answerCall(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
  if (args.token === 'aws:index/getAvailabilityZones:getAvailabilityZones') return { names: ['a', 'b', 'c'].map((z) => `zone-${z}`) };
  if (args.token === 'aws:ec2/getAmi:getAmi') return { id: 'ami-debian-12', name: 'debian-12-amd64-mock' };
  return {};
}

/**
 * Runs `program` against the mock monitor and returns every registration, components and
 * providers included. Pulumi keeps its runtime state per process: calls must not overlap.
 */
export async function registrationsOf(stack: string, program: () => unknown): Promise<Registration[]> {
  const seen: Omit<Registration, 'urn'>[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const providerName = args.provider?.split('::')[3];
        const inputs = args.inputs as Record<string, unknown>;
        seen.push({ type: args.type, name: args.name, inputs, provider: providerName, custom: args.custom ?? true });
        // Echo the inputs as state, plus the computed attributes later inputs read.
        return { id: `${args.name}-id`, state: { ...inputs, arn: `arn:aws:mock:::${args.name}` } };
      },
      call: answerCall,
    },
    'labforge',
    stack,
    false,
  );
  // The SDK exports the mock monitor's type only internally; what is read here is its URN map.
  const monitor = pulumi.runtime.getMonitor() as unknown as { resources: Map<string, unknown> };
  await program();
  // Registrations are RPCs started by the constructors; wait until the queue has drained.
  await pulumi.runtime.disconnect();
  // The monitor keys resources by URN, which ends in `::<name>`; names are unique per lab.
  const urns = new Map([...monitor.resources.keys()].map((urn) => [urn.slice(urn.lastIndexOf('::') + 2), urn]));
  return seen.map((r) => ({ ...r, urn: urns.get(r.name) ?? '' }));
}

/** The registrations of one lab's program. */
export function registrations(d: LabDeployment): Promise<Registration[]> {
  return registrationsOf(d.name, () => new LabforgeLab(d.name, { deployment: d }));
}

export async function pulumiInventory(d: LabDeployment): Promise<Inventory> {
  const seen = await registrations(d);
  const providerRegion = new Map<string, string>();
  for (const r of seen)
    if (PROVIDER_TYPE.test(r.type)) providerRegion.set(r.name, typeof r.inputs.region === 'string' ? r.inputs.region : d.regions[0]!);
  const items: InventoryItem[] = [];
  const names = new Set<string>();
  for (const r of seen) {
    if (!r.custom || PROVIDER_TYPE.test(r.type)) continue;
    const kind = kindOfPulumiType(r.type);
    if (names.has(`${r.type}::${r.name}`))
      throw new Error(`two ${r.type} resources are named '${r.name}': Pulumi would refuse the duplicate URN`);
    names.add(`${r.type}::${r.name}`);
    const region = (r.provider && providerRegion.get(r.provider)) || d.regions[0]!;
    items.push({ kind, type: r.type, name: r.name, region, properties: keyProperties(kind, r.inputs) });
  }
  items.sort(byKindThenName);
  return { engine: 'pulumi', lab: d.name, level: d.lab.level, regions: [...d.regions], items };
}
