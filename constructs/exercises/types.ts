// Exercise checks: each exercise of a level has checks that look at the running lab (and the
// learner's own app and files) with real queries and requests, and say what is missing.
import type { LabSecrets, ComponentState } from '../local/home.js';
import type { Level } from '../model/types.js';

/** What a check may reach: the lab's servers, the learner's app and working directory. */
export interface CheckContext {
  readonly lab: string;
  readonly level: Level;
  readonly components: readonly ComponentState[];
  readonly secrets: LabSecrets;
  /** postgres:// URL of the lab database (the learner role), with its password. */
  readonly postgresUrl: string;
  /** The learner's own app (`--app-url`): where beginner exercises expect it. */
  readonly appUrl: string;
  /** The learner's working directory (`--workdir`), for exercises that produce files. */
  readonly workdir: string;
}

export interface CheckResult {
  readonly ok: boolean;
  /** What was seen: the evidence for a pass, the gap for a fail. */
  readonly detail: string;
  /** On a fail: what to do next. */
  readonly hint?: string;
}

export interface Check {
  /** `<exercise id>/<short name>`. */
  readonly id: string;
  readonly title: string;
  readonly run: (ctx: CheckContext) => Promise<CheckResult>;
}

export const pass = (detail: string): CheckResult => ({ ok: true, detail });
export const fail = (detail: string, hint: string): CheckResult => ({ ok: false, detail, hint });
