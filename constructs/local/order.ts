// Start, health and stop order of a lab's components, from what each one `uses`: data stores at
// once, each API as soon as its stores are ready, the worker and the load balancer after that.
import type { ComponentState } from './home.js';
import { awaitedLater } from '../model/quiet.js';

/** The components `c` uses (LabSpec ids resolved to instances: `api` -> api-1..api-3). */
export function dependenciesOf(c: ComponentState, all: readonly ComponentState[]): ComponentState[] {
  return all.filter((o) => o !== c && (c.uses ?? []).includes(o.group ?? o.id));
}

export interface OrderOptions {
  /** Dependents first (stopping). @default false */
  readonly reverse?: boolean;
  /** Run a component only when everything before it succeeded (starting). @default false: after it settled */
  readonly needSuccess?: boolean;
  /** Which dependencies to wait for. @default all of dependenciesOf */
  readonly waitFor?: (c: ComponentState, all: readonly ComponentState[]) => ComponentState[];
}

/**
 * Runs `fn` for every component once the components before it (its dependencies, or its
 * dependents with `reverse`) are done, everything else in parallel. Never rejects: the outcome
 * of each component, in the order given.
 */
export async function inDependencyOrder<T>(
  components: readonly ComponentState[],
  fn: (c: ComponentState) => Promise<T>,
  options: OrderOptions = {},
): Promise<PromiseSettledResult<T>[]> {
  const deps = options.waitFor ?? dependenciesOf;
  const before = new Map(
    components.map((c) => [c, options.reverse ? components.filter((o) => deps(o, components).includes(c)) : deps(c, components)]),
  );
  const runs = new Map<ComponentState, Promise<T>>();
  const visiting = new Set<ComponentState>();
  const run = (c: ComponentState): Promise<T> => {
    const known = runs.get(c);
    if (known) return known;
    if (visiting.has(c)) throw new Error(`dependency cycle through ${c.id}`);
    visiting.add(c);
    const first = before.get(c)!.map(run);
    const p = (options.needSuccess ? Promise.all(first) : Promise.allSettled(first)).then(() => fn(c));
    p.catch(awaitedLater); // reported through allSettled below
    runs.set(c, p);
    return p;
  };
  // Each run is awaited through `runs` just below.
  for (const c of components) void run(c);
  return Promise.allSettled(components.map((c) => runs.get(c)!));
}
