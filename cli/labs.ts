// Removing a lab whatever its target, for the commands that remove many (reap, workshop down,
// workshop reset): the lab's own runtime's `down`, summed up in one shape.
import { runtimeOfLab } from '../constructs/runtime/index.js';
import type { Progress } from '../constructs/model/runtime.js';
import { labTarget } from '../constructs/model/home.js';
import { noProgress } from '../constructs/model/quiet.js';

export interface RemovedLab {
  readonly lab: string;
  readonly target: string;
  /** Nothing of the lab is left. */
  readonly ok: boolean;
  readonly seconds: number;
  /** What is left and why, one line each (empty when ok). */
  readonly leftovers: readonly string[];
}

export async function removeLab(home: string, name: string, progress: Progress = noProgress): Promise<RemovedLab> {
  const started = performance.now();
  const target = labTarget(home, name) ?? 'local';
  const seconds = () => Number(((performance.now() - started) / 1000).toFixed(2));
  try {
    const r = await (await runtimeOfLab(home, name)).down(home, name, progress);
    return { lab: name, target, ok: r.ok, seconds: seconds(), leftovers: r.leftovers };
  } catch (error) {
    return { lab: name, target, ok: false, seconds: seconds(), leftovers: [(error as Error).message] };
  }
}
