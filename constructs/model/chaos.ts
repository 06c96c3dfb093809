// The failure drills of `labforge chaos`, target-neutral: what each action is and what a drill
// reports. The local runtime carries them out on processes (constructs/local/chaos.ts).
import { UsageError } from './errors.js';

export const CHAOS_ACTIONS = ['kill-primary', 'kill-broker', 'partition', 'heal'] as const;
export type ChaosActionName = (typeof CHAOS_ACTIONS)[number];

export type ChaosAction =
  | { readonly action: 'kill-primary'; readonly shard: number }
  | { readonly action: 'kill-broker'; readonly broker: number }
  | { readonly action: 'partition'; readonly region: number }
  | { readonly action: 'heal' };

export interface ChaosReport {
  readonly lab: string;
  readonly action: ChaosActionName;
  /** What was done, one line each. */
  readonly did: string[];
  /** What the learner should observe now, one line each. */
  readonly observe: string[];
  readonly seconds: number;
}

/** Parses `<action> [arg]` into a ChaosAction; a bad one is a usage error naming the valid choices. */
export function parseChaosAction(action: string, arg: string | undefined): ChaosAction {
  const int = (what: string) => {
    if (arg === undefined || !/^\d+$/.test(arg)) throw new UsageError(`chaos ${action} needs ${what} (a number), got '${arg ?? ''}'`);
    return Number(arg);
  };
  switch (action) {
    case 'kill-primary':
      return { action, shard: int('a shard') };
    case 'kill-broker':
      return { action, broker: int('a broker number') };
    case 'partition':
      return { action, region: int('a region') };
    case 'heal':
      if (arg !== undefined) throw new UsageError(`chaos heal takes no argument, got '${arg}'`);
      return { action };
    default:
      throw new UsageError(`unknown chaos action '${action}' (valid: ${CHAOS_ACTIONS.join(', ')})`);
  }
}
