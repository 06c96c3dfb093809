// Removing a lab whatever its target, for the commands that remove many (reap, workshop down,
// workshop reset): each runtime's own `down`, lazily imported, summed up in one shape.
import { labTarget } from '../constructs/model/home.js';

export interface RemovedLab {
  readonly lab: string;
  readonly target: string;
  /** Nothing of the lab is left. */
  readonly ok: boolean;
  readonly seconds: number;
  /** What is left and why, one line each (empty when ok). */
  readonly leftovers: readonly string[];
}

export async function removeLab(home: string, name: string, progress: (line: string) => void = () => {}): Promise<RemovedLab> {
  const started = performance.now();
  const target = labTarget(home, name) ?? 'local';
  const seconds = () => Number(((performance.now() - started) / 1000).toFixed(2));
  try {
    if (target === 'k8s') {
      const r = await (await import('../constructs/k8s/target.js')).downK8sLab(home, name);
      return { lab: name, target, ok: r.ok, seconds: seconds(), leftovers: r.leftovers };
    }
    if (target === 'aws') {
      const r = await (await import('../constructs/terraform/down.js')).downAwsLab(home, name, progress);
      return { lab: name, target, ok: r.ok, seconds: seconds(), leftovers: r.leftovers };
    }
    if (target === 'pulumi') {
      const r = await (await import('../constructs/pulumi/target.js')).downPulumiLab(home, name, progress);
      return { lab: name, target, ok: r.ok, seconds: seconds(), leftovers: r.leftovers };
    }
    const r = await (await import('../constructs/local/lab.js')).downLab(home, name);
    return { lab: name, target, ok: r.ok, seconds: seconds(), leftovers: r.leftovers };
  } catch (error) {
    return { lab: name, target, ok: false, seconds: seconds(), leftovers: [(error as Error).message] };
  }
}
