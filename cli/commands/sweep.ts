import type { CommandModule } from 'yargs';
import { UsageError } from '../../constructs/model/errors.js';
import { parseLabName, parseOwner, parseRegions } from '../../constructs/model/options.js';
import type { SweepReceipt } from '../../constructs/sweep/index.js';
import { EXIT_FAILURE } from '../errors.js';
import { print, printJson, progress, table } from '../output.js';

interface SweepArgs {
  owner?: string;
  lab?: string;
  region?: string;
  apply?: boolean;
  json?: boolean;
}

export const sweepCommand: CommandModule<object, SweepArgs> = {
  command: 'sweep',
  describe: 'Find the AWS resources tagged with a lab or owner (dry run), and with --apply delete them in dependency order, with a receipt',
  builder: (y) =>
    y
      .option('owner', { type: 'string', description: 'Resources tagged labforge:owner=X' })
      .option('lab', { type: 'string', description: 'Resources tagged labforge:lab=L (with --owner: both must match)' })
      .option('region', {
        type: 'string',
        alias: 'regions',
        description:
          'Comma-separated regions (default: AWS_REGION, AWS_DEFAULT_REGION, else us-east-1); S3 buckets are taken from these regions, IAM roles and Route 53 zones account-wide',
      })
      .option('apply', { type: 'boolean', description: 'Delete what is found (default: list only)' })
      .option('json', { type: 'boolean', description: 'Print the receipt as JSON' }),
  handler: async (argv) => {
    if (argv.owner === undefined && argv.lab === undefined)
      throw new UsageError('sweep needs --owner X or --lab L (or both): it never sweeps untagged resources or everything');
    const filter = {
      ...(argv.owner !== undefined ? { owner: parseOwner(String(argv.owner)) } : {}),
      ...(argv.lab !== undefined ? { lab: parseLabName(String(argv.lab)) } : {}),
    };
    const regions = parseRegions(argv.region ?? (process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || 'us-east-1'));
    // The SDK versions are pinned: its notice about future releases needing Node 22 is not this run's concern.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    const { sweep } = await import('../../constructs/sweep/index.js');
    // LABFORGE_SWEEP_BACKOFF_MS shortens the pause between retries (tests against an emulator).
    const backoff = Number(process.env.LABFORGE_SWEEP_BACKOFF_MS);
    const retry = Number.isFinite(backoff) && backoff > 0 ? { baseMs: backoff } : undefined;
    const receipt = await sweep({
      filter,
      regions,
      apply: Boolean(argv.apply),
      endpoint: process.env.AWS_ENDPOINT_URL || undefined,
      retry,
      progress,
    });
    if (!receipt.ok) process.exitCode = EXIT_FAILURE;
    if (argv.json) return printJson(receipt);
    printReceipt(receipt);
  },
};

function printReceipt(r: SweepReceipt): void {
  const what = `${[r.filter.owner ? `owner=${r.filter.owner}` : '', r.filter.lab ? `lab=${r.filter.lab}` : ''].filter(Boolean).join(' ')} in ${r.regions.join(', ')}`;
  const counts =
    Object.entries(r.counts)
      .map(([status, n]) => `${n} ${status}`)
      .join(', ') || 'nothing found';
  const where = r.endpoint === 'aws' ? `account ${r.account}` : `account ${r.account} at ${r.endpoint}`;
  if (r.mode === 'dry-run') print(`Sweep (dry run) of resources tagged ${what} (${where}, ${r.seconds}s): ${counts}`);
  else
    print(
      `Sweep receipt for resources tagged ${what} (${where}, ${r.passes} listings, ${r.seconds}s): ${counts}${r.ok ? ': nothing left' : ': SOMETHING IS LEFT'}`,
    );
  if (r.resources.length > 0) {
    const rows = r.resources.map((e) => [
      e.status,
      e.kind,
      e.id,
      e.region,
      [e.name, e.reason ?? (e.via === 'tags' ? '' : e.via)].filter(Boolean).join(': ') || '-',
    ]);
    print(table([['STATUS', 'KIND', 'ID', 'REGION', 'NAME / REASON'], ...rows]));
  }
  for (const f of r.listingFailures)
    process.stderr.write(`labforge: could not list ${f.service} in ${f.region} (${f.kinds.join(', ') || 'other kinds'}): ${f.error}\n`);
  if (r.mode === 'dry-run' && r.resources.some((e) => e.status === 'would delete'))
    print('\nNothing was deleted: run again with --apply to delete them.');
}
