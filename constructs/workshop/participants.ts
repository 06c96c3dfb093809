// One participant's lab on the workshop's target: each call goes to that target's runtime
// (constructs/runtime), loaded lazily: a local workshop never loads the Pulumi target, and the
// other way round. Exercise progress is read here: the checks run against local labs.
import type { ParticipantUpOptions, ParticipantView, SheetEntry, WorkshopRuntime } from '../model/runtime.js';
import type { Participant } from '../model/workshop.js';
import { UsageError } from '../model/errors.js';
import { runtimeOf } from '../runtime/index.js';
import type { WorkshopTarget } from './record.js';

export type { ParticipantUpOptions, ParticipantView, SheetEntry } from '../model/runtime.js';

/** The workshop half of a target's runtime; a target without one cannot run workshops. */
export async function workshopRuntime(target: WorkshopTarget): Promise<WorkshopRuntime> {
  const runtime = await runtimeOf(target);
  if (runtime.workshop === undefined) throw new UsageError(`--target ${target} does not run workshops`);
  return runtime.workshop;
}

export async function upParticipant(target: WorkshopTarget, p: Participant, o: ParticipantUpOptions): Promise<string> {
  return (await workshopRuntime(target)).up(p, o);
}

export async function viewParticipant(target: WorkshopTarget, home: string, p: Participant): Promise<ParticipantView> {
  const { labTarget } = await import('../model/home.js');
  if (labTarget(home, p.lab) === undefined) return { state: 'missing', health: '-', healthy: false };
  return (await workshopRuntime(target)).view(home, p);
}

export async function sheetEntry(target: WorkshopTarget, home: string, p: Participant): Promise<SheetEntry> {
  return (await workshopRuntime(target)).sheet(home, p);
}

/**
 * How far the participant is: exercises whose checks all pass, and checks passing, from a real
 * `check` run against their lab (local labs only: the cloud ones are not probed).
 */
export async function exerciseProgress(target: WorkshopTarget, home: string, p: Participant, appUrl?: string): Promise<string> {
  const { EXERCISE_CHECK_TARGETS } = await import('../exercises/context.js');
  if (!EXERCISE_CHECK_TARGETS.includes(target)) return '- (not probed)';
  const { labTarget } = await import('../model/home.js');
  if (labTarget(home, p.lab) === undefined) return '-';
  const { localCheckContext } = await import('../exercises/context.js');
  const { exercisesToCheck, runChecks } = await import('../exercises/index.js');
  const ctx = localCheckContext(home, p.lab, { appUrl });
  const runs = await runChecks(ctx, exercisesToCheck(ctx.level));
  const exercises = [...new Set(runs.map((r) => r.exercise))];
  const done = exercises.filter((e) => runs.filter((r) => r.exercise === e).every((r) => r.ok)).length;
  return `${done}/${exercises.length} done (${runs.filter((r) => r.ok).length}/${runs.length} checks)`;
}
