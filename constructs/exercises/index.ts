// The exercise checks of every level, and running them against a lab.
import type { Level } from '../model/types.js';
import { UsageError } from '../model/errors.js';
import { getLab } from '../../labs/index.js';
import { ADVANCED_CHECKS } from './advanced.js';
import { BEGINNER_CHECKS } from './beginner.js';
import { EXPERT_CHECKS } from './expert.js';
import { INTERMEDIATE_CHECKS } from './intermediate.js';
import type { Check, CheckContext, CheckResult } from './types.js';

/** Checks by exercise id, per level. A level listed empty has no checks yet. */
export const CHECKS: Readonly<Record<Level, Readonly<Record<string, readonly Check[]>>>> = {
  beginner: BEGINNER_CHECKS,
  intermediate: INTERMEDIATE_CHECKS,
  advanced: ADVANCED_CHECKS,
  expert: EXPERT_CHECKS,
};

export interface CheckRun extends CheckResult {
  readonly exercise: string;
  readonly check: string;
  readonly title: string;
  readonly ms: number;
}

/** The exercises `check` runs: all of the level's, or the one named (a one-line error naming the valid ids otherwise). */
export function exercisesToCheck(level: Level, exercise?: string): string[] {
  const ids = getLab(level).exercises.map((e) => e.id);
  if (exercise === undefined) return ids;
  if (!ids.includes(exercise)) throw new UsageError(`unknown exercise '${exercise}' for the ${level} lab (valid: ${ids.join(', ')})`);
  return [exercise];
}

/** Runs the checks one after another (some write and clean up rows: they must not overlap). */
export async function runChecks(ctx: CheckContext, exercises: readonly string[]): Promise<CheckRun[]> {
  const runs: CheckRun[] = [];
  for (const exercise of exercises) {
    const checks = CHECKS[ctx.level][exercise];
    if (checks === undefined || checks.length === 0) {
      runs.push({
        exercise,
        check: `${exercise}/-`,
        title: 'no automatic check yet',
        ok: false,
        detail: `the ${ctx.level} exercises have no automatic checks yet`,
        hint: 'follow the guide (`labforge guide <lab>`) and check by hand',
        ms: 0,
      });
      continue;
    }
    for (const check of checks) {
      const started = performance.now();
      const result = await check.run(ctx);
      runs.push({ exercise, check: check.id, title: check.title, ...result, ms: Math.round(performance.now() - started) });
    }
  }
  return runs;
}
