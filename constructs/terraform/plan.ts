// A saved plan, summarized for the confirmation prompt: what each stack would add, change and
// destroy, by resource type, from `show -json <planfile>`.

export interface PlanJson {
  readonly resource_changes?: readonly {
    readonly address: string;
    readonly type: string;
    readonly mode?: string;
    readonly change: { readonly actions: readonly string[] };
  }[];
}

export interface PlanSummary {
  readonly stack: string;
  readonly add: number;
  readonly change: number;
  readonly destroy: number;
  /** Resources replaced (destroyed, then created again): counted in add and destroy too. */
  readonly replace: number;
  /** Resource type -> number to add, most first. */
  readonly addByType: readonly (readonly [string, number])[];
  /** Addresses that would be destroyed (also by a replace): a user must see these. */
  readonly destroying: readonly string[];
}

export function summarizePlan(stack: string, plan: PlanJson): PlanSummary {
  let add = 0;
  let change = 0;
  let destroy = 0;
  let replace = 0;
  const addByType = new Map<string, number>();
  const destroying: string[] = [];
  for (const rc of plan.resource_changes ?? []) {
    if (rc.mode === 'data') continue;
    const actions = rc.change.actions;
    const creates = actions.includes('create');
    const deletes = actions.includes('delete');
    if (creates) {
      add++;
      addByType.set(rc.type, (addByType.get(rc.type) ?? 0) + 1);
    }
    if (deletes) {
      destroy++;
      destroying.push(rc.address);
    }
    if (creates && deletes) replace++;
    if (actions.includes('update')) change++;
  }
  const sorted = [...addByType].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return { stack, add, change, destroy, replace, addByType: sorted, destroying };
}

/** `15 to add, 0 to change, 0 to destroy` (and the replacements when there are some). */
export function describeCounts(s: Pick<PlanSummary, 'add' | 'change' | 'destroy' | 'replace'>): string {
  const replaced = s.replace > 0 ? ` (${s.replace} replaced)` : '';
  return `${s.add} to add, ${s.change} to change, ${s.destroy} to destroy${replaced}`;
}
