// `labforge sweep`: find every cloud resource that carries a lab's or an owner's labforge tags
// and, when asked, delete them in dependency order, then look again and delete what the first
// pass could not, and end with a receipt built from a final, independent listing.
import { AwsClients, callerAccount } from '../aws-sdk/clients.js';
import { deletePass, type DeleteOutcome } from './delete.js';
import { LISTED_KINDS, discover } from './discover.js';
import { DEFAULT_RETRY, type RetryPolicy } from './retry.js';
import { applyEntries, countByStatus, dryRunEntries, isDeletable, sortEntries } from './receipt.js';
import { describeFilter, keyOf, type SweepFilter, type SweepReceipt, type SweepResource } from './types.js';
import { noProgress } from '../model/quiet.js';

export type { SweepReceipt, ReceiptEntry, SweepFilter } from './types.js';

export interface SweepOptions {
  readonly filter: SweepFilter;
  readonly regions: readonly string[];
  /** Delete what is found. @default false: list only */
  readonly apply?: boolean;
  /** Every service's endpoint (AWS_ENDPOINT_URL: an emulator). @default AWS */
  readonly endpoint?: string;
  /** Tries per delete call and the first pause. @default 6 tries, backoff from 1 s */
  readonly retry?: Partial<RetryPolicy>;
  /** Delete passes before the final check. @default 2 */
  readonly passes?: number;
  /** Progress lines (stderr in the CLI). @default none */
  readonly progress?: (line: string) => void;
}

export async function sweep(options: SweepOptions): Promise<SweepReceipt> {
  const started = performance.now();
  const progress = options.progress ?? noProgress;
  const { filter, regions } = options;
  const clients = new AwsClients({ endpoint: options.endpoint });
  try {
    const account = await callerAccount(clients, regions[0]!);
    const what = `${describeFilter(filter)} in ${regions.join(', ')}`;
    progress(`sweep: listing resources tagged ${what} (account ${account}${options.endpoint ? ` at ${options.endpoint}` : ''})`);
    let found = await discover(clients, regions, filter);
    let discoveries = 1;
    const base = { mode: 'dry-run' as const, filter, regions, endpoint: options.endpoint ?? 'aws', account };
    if (!options.apply) {
      const resources = sortEntries(dryRunEntries(found));
      return {
        ...base,
        ok: found.failures.length === 0,
        counts: countByStatus(resources),
        resources,
        listingFailures: found.failures,
        passes: 1,
        seconds: seconds(started),
      };
    }

    const seen = new Map<string, SweepResource>();
    const outcomes = new Map<string, DeleteOutcome>();
    const ctx = { clients, retry: { ...DEFAULT_RETRY, ...options.retry }, progress };
    for (let pass = 1; pass <= (options.passes ?? 2); pass++) {
      for (const r of found.resources) if (!seen.has(keyOf(r))) seen.set(keyOf(r), r);
      const deletable = found.resources.filter(isDeletable);
      // Nothing (more) to delete: the last listing is the final one.
      if (deletable.length === 0) break;
      progress(`sweep: pass ${pass}: deleting ${deletable.length} resource(s)`);
      for (const [key, outcome] of await deletePass(ctx, found.resources)) {
        // A skip in a later pass must not hide the error an earlier pass recorded.
        if (outcome.status !== 'skipped' || !outcomes.has(key)) outcomes.set(key, outcome);
      }
      progress(`sweep: listing again after pass ${pass}`);
      found = await discover(clients, regions, filter);
      discoveries++;
    }
    for (const r of found.resources) if (!seen.has(keyOf(r))) seen.set(keyOf(r), r);
    const resources = sortEntries(applyEntries(seen, outcomes, found, LISTED_KINDS));
    const ok = found.failures.length === 0 && !resources.some((e) => e.status === 'left' || e.status === 'unverified');
    return {
      ...base,
      mode: 'apply',
      ok,
      counts: countByStatus(resources),
      resources,
      listingFailures: found.failures,
      passes: discoveries,
      seconds: seconds(started),
    };
  } finally {
    clients.destroy();
  }
}

function seconds(started: number): number {
  return Number(((performance.now() - started) / 1000).toFixed(2));
}
