// The runtime table: one entry per target, each loaded on first use, so a command that touches a
// local lab never loads the cloud engines (and `--help` loads none). Commands and workshops call
// these instead of branching on the target; a new target is one entry here.
import { labRecords, labTarget } from '../model/home.js';
import { UsageError } from '../model/errors.js';
import type { ReceiptBase, TargetRuntime } from '../model/runtime.js';
import { TARGETS, type Target } from '../model/types.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each runtime has its own status and receipt types
export type AnyRuntime = TargetRuntime<any, ReceiptBase>;

const RUNTIMES: Readonly<Record<Target, () => Promise<AnyRuntime>>> = {
  local: async () => (await import('../local/runtime.js')).localRuntime,
  aws: async () => (await import('../terraform/runtime.js')).awsRuntime,
  pulumi: async () => (await import('../pulumi/runtime.js')).pulumiRuntime,
  k8s: async () => (await import('../k8s/runtime.js')).k8sRuntime,
};

export function runtimeOf(target: Target): Promise<AnyRuntime> {
  return RUNTIMES[target]();
}

/** The runtime that owns lab `name` (its state file says); a usage error naming the labs there are when there is no such lab. */
export async function runtimeOfLab(home: string, name: string): Promise<AnyRuntime> {
  const target = labTarget(home, name);
  if (target === undefined) {
    const known = labRecords(home).map((r) => r.name);
    throw new UsageError(
      `unknown lab '${name}' in ${home} (${known.length > 0 ? `known labs: ${known.join(', ')}` : 'no labs there yet'})`,
    );
  }
  return runtimeOf(target);
}

/** Every target's labs of the home, each listed by its own runtime, in TARGETS order. */
export async function labsByTarget(home: string): Promise<{ runtime: AnyRuntime; names: string[] }[]> {
  const present = new Set(labRecords(home).map((r) => r.target));
  const runtimes = await Promise.all(TARGETS.filter((t) => present.has(t)).map(runtimeOf));
  return runtimes.map((runtime) => ({ runtime, names: runtime.labs(home) }));
}
