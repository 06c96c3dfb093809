// The CLI's table of targets, beside the runtime table (constructs/runtime): each entry loaded on
// first use; which `up` options each target takes, so a foreign one is refused before anything
// loads. A new target is one module here and one entry in each table.
import { UsageError } from '../../constructs/model/errors.js';
import { TARGETS, type Target } from '../../constructs/model/types.js';
import type { TargetCli, UpOptions } from './types.js';

const CLIS: Readonly<Record<Target, () => Promise<TargetCli>>> = {
  local: async () => (await import('./local.js')).localCli,
  aws: async () => (await import('./aws.js')).awsCli,
  pulumi: async () => (await import('./pulumi.js')).pulumiCli,
  k8s: async () => (await import('./k8s.js')).k8sCli,
};

export function targetCli(target: Target): Promise<TargetCli> {
  return CLIS[target]();
}

/** The `up` options beyond --name and --json that each target takes. */
export const UP_OPTIONS: Readonly<Record<Target, readonly (keyof UpOptions)[]>> = {
  local: ['regions', 'latency-ms', 'rabbitmq-management', 'ttl'],
  aws: ['regions', 'allow-cidr', 'owner', 'ttl', 'yes', 'health-timeout', 'backend'],
  pulumi: ['regions', 'allow-cidr', 'owner', 'ttl'],
  k8s: ['context', 'timeout'],
};

/** `a`, `a or b`, `a, b or c`. */
function either(names: readonly string[]): string {
  return names.length <= 1 ? names.join('') : `${names.slice(0, -1).join(', ')} or ${names.at(-1)}`;
}

/** Refuses an option given for a target that does not take it, naming the targets that do. */
export function refuseForeignOptions(
  target: Target,
  options: UpOptions,
  table: Readonly<Record<Target, readonly (keyof UpOptions)[]>> = UP_OPTIONS,
): void {
  const all = [...new Set(TARGETS.flatMap((t) => table[t]))];
  for (const option of all) {
    if (options[option] === undefined || table[target].includes(option)) continue;
    throw new UsageError(`--${option} applies to --target ${either(TARGETS.filter((t) => table[t].includes(option)))} only`);
  }
}
