// The sweep's receipt: every resource any pass found, with what became of it, decided by the
// final discovery pass (not by what the delete calls answered): gone from its service's listing
// is deleted, still listed is left (with the last error), unlisted because the listing failed
// is unverified.
import type { DeleteOutcome } from './delete.js';
import { DELETERS } from './delete.js';
import type { Discovery } from './discover.js';
import { keyOf, type ListingFailure, type ReceiptEntry, type ResourceStatus, type SweepResource } from './types.js';

/** Resources whose deletion is accepted but finishes later (KMS keys: 7 days). */
export function isPending(r: SweepResource): boolean {
  return r.kind === 'kms:key' && r.state === 'PendingDeletion';
}

/** True when the sweep would call a delete for it. */
export function isDeletable(r: SweepResource): boolean {
  return !r.skip && DELETERS[r.kind] !== undefined && !isPending(r);
}

function covers(failure: ListingFailure, r: SweepResource, listed: ReadonlySet<string>): boolean {
  if (failure.region !== r.region) return false;
  return failure.kinds.includes(r.kind) || (failure.service === 'tagging' && !listed.has(r.kind));
}

function entry(r: SweepResource, status: ResourceStatus, reason?: string): ReceiptEntry {
  return {
    kind: r.kind,
    id: r.id,
    ...(r.arn && r.arn !== r.id ? { arn: r.arn } : {}),
    region: r.region,
    ...(r.name ? { name: r.name } : {}),
    via: r.via,
    status,
    ...(reason ? { reason } : {}),
  };
}

export function dryRunEntries(found: Discovery): ReceiptEntry[] {
  return found.resources.map((r) => {
    if (isPending(r)) return entry(r, 'pending deletion', 'scheduled for deletion by an earlier sweep');
    if (!isDeletable(r)) return entry(r, 'would skip', r.skip ?? `labforge sweep has no deleter for ${r.kind}: delete it by hand`);
    return entry(r, 'would delete');
  });
}

export function applyEntries(
  seen: ReadonlyMap<string, SweepResource>,
  outcomes: ReadonlyMap<string, DeleteOutcome>,
  final: Discovery,
  listed: ReadonlySet<string>,
): ReceiptEntry[] {
  const stillThere = new Map(final.resources.map((r) => [keyOf(r), r]));
  return [...seen.values()].map((r) => {
    const key = keyOf(r);
    const outcome = outcomes.get(key);
    const now = stillThere.get(key);
    if (now) {
      if (isPending(now))
        return entry(now, 'pending deletion', 'KMS deletes a key only after a waiting period: scheduled for 7 days from the sweep');
      return entry(now, 'left', outcome?.reason ?? now.skip ?? 'still listed after the last pass');
    }
    const failure = final.failures.find((f) => covers(f, r, listed));
    if (failure) return entry(r, 'unverified', `could not list ${failure.service} to check: ${failure.error}`);
    if (outcome?.status === 'skipped') return entry(r, 'deleted', `removed with what it belonged to (${outcome.reason})`);
    return entry(r, 'deleted', r.via === 'tags' ? undefined : r.via);
  });
}

const STATUS_ORDER: readonly ResourceStatus[] = ['left', 'unverified', 'pending deletion', 'deleted', 'would delete', 'would skip'];

export function sortEntries(entries: ReceiptEntry[]): ReceiptEntry[] {
  const stage = (kind: string) => {
    const d = DELETERS[kind];
    return d === undefined ? 99 : typeof d.stage === 'number' ? d.stage : 1;
  };
  return entries.sort(
    (a, b) =>
      STATUS_ORDER.indexOf(a.status) - STATUS_ORDER.indexOf(b.status) ||
      a.region.localeCompare(b.region) ||
      stage(a.kind) - stage(b.kind) ||
      a.kind.localeCompare(b.kind) ||
      a.id.localeCompare(b.id),
  );
}

export function countByStatus(entries: readonly ReceiptEntry[]): Partial<Record<ResourceStatus, number>> {
  const counts: Partial<Record<ResourceStatus, number>> = {};
  for (const e of entries) counts[e.status] = (counts[e.status] ?? 0) + 1;
  return counts;
}
