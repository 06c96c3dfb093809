import { resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { resolveDeployment } from '../../constructs/model/deployment.js';
import { UsageError } from '../../constructs/model/errors.js';
import { parseLevel, parseTarget } from '../../constructs/model/options.js';
import { LEVELS } from '../../constructs/model/types.js';
import { getLab } from '../../labs/index.js';
import { print, printJson, progress } from '../output.js';

interface SynthArgs {
  level: string;
  target: string;
  out: string;
  name?: string;
  regions?: string;
  owner?: string;
  ttl?: string;
  'allow-cidr'?: string;
  json?: boolean;
}

/** Targets that synth can render today. */
const SYNTH_TARGETS = ['aws'] as const;

export const synthCommand: CommandModule<object, SynthArgs> = {
  command: 'synth <level>',
  describe: 'Write the infrastructure code of a lab (or `all` labs) without deploying it',
  builder: (y) =>
    y
      .positional('level', { type: 'string', demandOption: true, description: 'beginner, intermediate, advanced, expert or all' })
      .option('target', { type: 'string', default: 'aws', description: `Engine to render with (${SYNTH_TARGETS.join(', ')})` })
      .option('out', { type: 'string', default: 'cdktf.out', description: 'Output directory' })
      .option('name', { type: 'string', description: 'Lab name (default: the level); not with `all`' })
      .option('regions', { type: 'string', description: 'Comma-separated AWS regions (expert needs at least 2)' })
      .option('owner', { type: 'string', description: 'Owner tag (default: your user name)' })
      .option('ttl', { type: 'string', description: 'Lifetime recorded in the expires-at tag, e.g. 4h, 2d' })
      .option('allow-cidr', { type: 'string', description: 'CIDR allowed to reach SSH/PostgreSQL (default: none)' })
      .option('json', { type: 'boolean', description: 'Print JSON' }),
  handler: async (argv) => {
    const target = parseTarget(argv.target, SYNTH_TARGETS);
    const levels = argv.level === 'all' ? [...LEVELS] : [parseLevel(argv.level)];
    if (argv.level === 'all' && argv.name) throw new UsageError('--name names one lab; it cannot be used with `all`');
    // Validate everything before anything is written.
    const deployments = levels.map((level) =>
      resolveDeployment(getLab(level), {
        name: argv.name,
        owner: argv.owner,
        ttl: argv.ttl,
        // --regions applies to the levels that can take the list given.
        regions: argv.regions,
        allowCidr: argv['allow-cidr'],
      }),
    );
    const outdir = resolve(argv.out);
    const started = performance.now();
    progress(`synthesizing ${levels.join(', ')} for ${target} into ${outdir}`);
    const { synthAws } = await import('../../constructs/aws/synth.js');
    const stacks = synthAws(deployments, outdir);
    const seconds = ((performance.now() - started) / 1000).toFixed(2);
    if (argv.json) return printJson({ target, outdir, stacks });
    for (const s of stacks) print(`${s.stack}: ${s.resources} resources -> ${s.file}`);
    progress(`done in ${seconds}s`);
  },
};
