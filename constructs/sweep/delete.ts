// One delete pass in dependency order: stage by stage (delete-ec2.ts STAGE), each resource of a
// stage at once (a few at a time), every call with bounded retries. A failure is recorded with
// its message and the pass goes on: what depends on the failed resource fails in turn and says
// why, and the next pass tries again.
import { errorMessage, isNotFound, mapLimit } from '../aws-sdk/clients.js';
import { ec2Deleters, type DeleteContext, type Deleter } from './delete-ec2.js';
import { serviceDeleters } from './delete-services.js';
import { keyOf, type SweepResource } from './types.js';

export const DELETERS: Readonly<Record<string, Deleter>> = { ...ec2Deleters, ...serviceDeleters };

export interface DeleteOutcome {
  readonly status: 'deleted' | 'pending deletion' | 'skipped' | 'failed';
  readonly reason?: string;
}

const stageOf = (d: Deleter, r: SweepResource) => (typeof d.stage === 'function' ? d.stage(r) : d.stage);

/** Deletes what it can of `resources`; returns an outcome per resource key. */
export async function deletePass(ctx: DeleteContext, resources: readonly SweepResource[]): Promise<Map<string, DeleteOutcome>> {
  const outcomes = new Map<string, DeleteOutcome>();
  const todo: { r: SweepResource; deleter: Deleter; stage: number }[] = [];
  for (const r of resources) {
    const deleter = DELETERS[r.kind];
    if (r.skip) outcomes.set(keyOf(r), { status: 'skipped', reason: r.skip });
    else if (!deleter)
      outcomes.set(keyOf(r), { status: 'skipped', reason: `labforge sweep has no deleter for ${r.kind}: delete it by hand` });
    else todo.push({ r, deleter, stage: stageOf(deleter, r) });
  }
  const stages = [...new Set(todo.map((t) => t.stage))].sort((a, b) => a - b);
  for (const stage of stages) {
    const items = todo.filter((t) => t.stage === stage);
    // Per kind and region, the deleter's preparation (security groups: revoke cross-references).
    const groups = new Map<string, { deleter: Deleter; region: string; resources: SweepResource[] }>();
    for (const { r, deleter } of items) {
      if (!deleter.prepare) continue;
      const key = `${r.kind}|${r.region}`;
      if (!groups.has(key)) groups.set(key, { deleter, region: r.region, resources: [] });
      groups.get(key)!.resources.push(r);
    }
    for (const g of groups.values()) {
      try {
        await g.deleter.prepare!(ctx, g.region, g.resources);
      } catch (error) {
        ctx.progress(`  could not prepare ${g.resources[0]!.kind} in ${g.region}: ${errorMessage(error)}`);
      }
    }
    await mapLimit(items, 8, async ({ r, deleter }) => {
      const what = `${r.kind} ${r.name && r.name !== r.id ? `${r.id} (${r.name})` : r.id} in ${r.region}`;
      try {
        const status = await deleter.delete(ctx, r);
        outcomes.set(keyOf(r), { status });
        ctx.progress(`  ${status} ${what}`);
      } catch (error) {
        // Gone before the deleter got to it (with its parent, or by another pass): done.
        if (isNotFound(error)) {
          outcomes.set(keyOf(r), { status: 'deleted' });
          ctx.progress(`  already gone: ${what}`);
          return;
        }
        const reason = errorMessage(error);
        outcomes.set(keyOf(r), { status: 'failed', reason });
        ctx.progress(`  FAILED ${what}: ${reason}`);
      }
    });
  }
  return outcomes;
}
