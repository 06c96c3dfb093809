// One discovery pass: in every region, the tagged VPCs first (ENIs and load balancers are also
// looked for inside them), then every other lister at once; S3, IAM and Route 53 once for the
// account. A lister that fails is recorded, not fatal: the receipt says which kinds it could
// not vouch for. Only resources whose tags match the filter are kept, plus the VPC-scoped ones.
import { errorMessage, type AwsClients } from '../aws-sdk/clients.js';
import { ec2Listers, elbLister, vpcEniLister, vpcLister, type ListContext, type Lister } from './discover-ec2.js';
import { globalListers, listedKinds, serviceListers, taggingLister } from './discover-services.js';
import { GLOBAL, keyOf, matchesFilter, type ListingFailure, type SweepFilter, type SweepResource } from './types.js';

export interface Discovery {
  readonly resources: SweepResource[];
  readonly failures: ListingFailure[];
}

const REGIONAL: readonly Lister[] = [...ec2Listers, vpcEniLister, elbLister, ...serviceListers];
/** Every kind the sweep lists through its own service (and knows how to delete). */
export const LISTED_KINDS: ReadonlySet<string> = listedKinds([vpcLister, ...REGIONAL, ...globalListers]);
const TAGGING = taggingLister(LISTED_KINDS);

export async function discover(clients: AwsClients, regions: readonly string[], filter: SweepFilter): Promise<Discovery> {
  const failures: ListingFailure[] = [];
  const run = async (lister: Lister, ctx: ListContext): Promise<SweepResource[]> => {
    try {
      return await lister.list(ctx);
    } catch (error) {
      failures.push({
        region: lister.global ? GLOBAL : ctx.region,
        service: lister.service,
        kinds: lister.kinds,
        error: errorMessage(error),
      });
      return [];
    }
  };
  const perRegion = regions.map(async (region) => {
    const base: ListContext = { clients, region, filter, taggedVpcs: new Set() };
    const vpcs = await run(vpcLister, base);
    const ctx: ListContext = { ...base, taggedVpcs: new Set(vpcs.filter((v) => matchesFilter(v.tags, filter)).map((v) => v.id)) };
    const rest = await Promise.all([...REGIONAL, TAGGING].map((lister) => run(lister, ctx)));
    return [vpcs, ...rest].flat();
  });
  const globalCtx: ListContext = { clients, region: regions[0]!, filter, taggedVpcs: new Set() };
  const global = globalListers.map((lister) => run(lister, globalCtx));
  const all = (await Promise.all([...perRegion, ...global])).flat();

  const byKey = new Map<string, SweepResource>();
  for (const r of all) {
    // Never anything untagged, except what lives inside a tagged VPC or cluster.
    if (r.via === 'tags' && !matchesFilter(r.tags, filter)) continue;
    // A bucket outside the regions asked for stays (S3 lists every region's buckets).
    if (r.region !== GLOBAL && !regions.includes(r.region)) continue;
    const key = keyOf(r);
    const seen = byKey.get(key);
    if (!seen || (seen.via !== 'tags' && r.via === 'tags')) byKey.set(key, r);
  }
  return { resources: [...byKey.values()], failures };
}
