// Label keys every labforge Kubernetes object carries, and the selector of one workload.

export const LABEL_LAB = 'labforge.dev/lab';
export const LABEL_LEVEL = 'labforge.dev/level';
export const LABEL_REGION = 'labforge.dev/region';
/** A workshop participant's namespace and everything in it. */
export const LABEL_PARTICIPANT = 'labforge.dev/participant';
export const LABEL_NAME = 'app.kubernetes.io/name';
export const LABEL_PART_OF = 'app.kubernetes.io/part-of';
export const LABEL_COMPONENT = 'app.kubernetes.io/component';

/** Labels of every object of a lab (in one region when `region` is given). */
export function labLabels(lab: string, level: string, region?: string): Record<string, string> {
  return {
    [LABEL_LAB]: lab,
    [LABEL_LEVEL]: level,
    [LABEL_PART_OF]: 'labforge',
    ...(region === undefined ? {} : { [LABEL_REGION]: region }),
  };
}

/** Selector of one workload's pods: stable across upgrades (never include versions or regions). */
export function workloadSelector(lab: string, workload: string): Record<string, string> {
  return { [LABEL_LAB]: lab, [LABEL_NAME]: workload };
}
