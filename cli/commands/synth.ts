import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { CommandModule } from 'yargs';
import { resolveDeployment, type LabDeployment } from '../../constructs/model/deployment.js';
import { runsOnKubernetes } from '../../constructs/model/kubernetes.js';
import type { WrittenManifest } from '../../constructs/k8s/synth.js';
import { ExternalError, UsageError } from '../../constructs/model/errors.js';
import { packageRoot } from '../../constructs/model/paths.js';
import { parseLevel, parseTarget } from '../../constructs/model/options.js';
import { LEVELS, type Level, type Target } from '../../constructs/model/types.js';
import { refuseForeignOptions } from '../targets/index.js';
import type { UpOptions } from '../targets/types.js';
import { allLabs, getLab } from '../../labs/index.js';
import { print, printJson, progress } from '../output.js';
import { awaitedLater } from '../../constructs/model/quiet.js';

interface SynthArgs {
  level: string;
  target: string;
  out?: string;
  name?: string;
  regions?: string;
  owner?: string;
  ttl?: string;
  'allow-cidr'?: string;
  backend?: string;
  json?: boolean;
}

/** What `synth` does per engine: where it writes by default, which levels it renders, how it writes and reports. */
interface Synthesizer {
  readonly defaultOut: string;
  /** The levels this engine renders (`all` means these), with why the others are refused. */
  levels(): { readonly levels: readonly Level[]; readonly refusal: (level: Level) => string };
  write(deployments: LabDeployment[], outdir: string, json: boolean | undefined, started: number): Promise<void>;
}

const everyLevel = () => ({ levels: LEVELS, refusal: () => '' });

/** The engines `synth` renders with. */
const SYNTH_TARGETS = ['aws', 'k8s', 'pulumi'] as const;
type SynthTarget = (typeof SYNTH_TARGETS)[number];

const SYNTHESIZERS: Readonly<Record<SynthTarget, Synthesizer>> = {
  aws: {
    defaultOut: 'cdktf.out',
    levels: everyLevel,
    write: (d, out, json, started) => writeFiles('aws', synthAwsWithManifests(d, out), out, json, started),
  },
  k8s: {
    defaultOut: 'k8s.out',
    levels: () => {
      const levels = allLabs()
        .filter(runsOnKubernetes)
        .map((l) => l.level);
      return {
        levels,
        refusal: (level) => `the ${level} lab has no Kubernetes workloads: --target k8s takes ${levels.join(', ')} (or all)`,
      };
    },
    write: (d, out, json, started) =>
      writeFiles(
        'k8s',
        synthKubernetes(d, out),
        out,
        json,
        started,
        'apply: labforge up <level> --target k8s (it also creates the lab Secret), or kubectl apply --server-side -f <file>',
      ),
  },
  pulumi: { defaultOut: 'pulumi.out', levels: everyLevel, write: (d, out, json, started) => synthPulumiProjects(d, out, started, json) },
};
/** `synth` options that only some engines take. */
const SYNTH_OPTIONS: Readonly<Record<Target, readonly (keyof UpOptions)[]>> = { local: [], aws: ['backend'], k8s: [], pulumi: [] };

export const synthCommand: CommandModule<object, SynthArgs> = {
  command: 'synth <level>',
  describe: 'Write the infrastructure code of a lab (or `all` labs) without deploying it',
  builder: (y) =>
    y
      .positional('level', { type: 'string', demandOption: true, description: 'beginner, intermediate, advanced, expert or all' })
      .option('target', { type: 'string', default: 'aws', description: `Engine to render with (${SYNTH_TARGETS.join(', ')})` })
      .option('out', {
        type: 'string',
        description: 'Output directory (default: cdktf.out for aws, k8s.out for k8s, pulumi.out for pulumi)',
      })
      .option('name', { type: 'string', description: 'Lab name (default: the level); not with `all`' })
      .option('regions', { type: 'string', description: 'Comma-separated AWS regions (expert needs at least 2)' })
      .option('owner', { type: 'string', description: 'Owner tag (default: your user name)' })
      .option('ttl', { type: 'string', description: 'Lifetime recorded in the expires-at tag, e.g. 4h, 2d' })
      .option('allow-cidr', { type: 'string', description: 'CIDR allowed to reach SSH/PostgreSQL (default: none)' })
      .option('backend', {
        type: 'string',
        description: "aws: the stacks' Terraform state, 'local' or s3://bucket[/prefix][?region=r] (default: local)",
      })
      .option('json', { type: 'boolean', description: 'Print JSON' }),
  handler: async (argv) => {
    const target = parseTarget(argv.target, SYNTH_TARGETS);
    const synthesizer = SYNTHESIZERS[target];
    if (argv.level === 'all' && argv.name) throw new UsageError('--name names one lab; it cannot be used with `all`');
    refuseForeignOptions(target, { backend: argv.backend }, SYNTH_OPTIONS);
    // `all` means every level this engine renders (k8s: those with Kubernetes workloads).
    const renders = synthesizer.levels();
    const levels = argv.level === 'all' ? [...renders.levels] : [parseLevel(argv.level)];
    for (const level of levels) if (!renders.levels.includes(level)) throw new UsageError(renders.refusal(level));
    // Validate everything before anything is written.
    const deployments = levels.map((level) =>
      resolveDeployment(getLab(level), {
        name: argv.name,
        owner: argv.owner,
        ttl: argv.ttl,
        // --regions applies to the levels that can take the list given.
        regions: argv.regions,
        allowCidr: argv['allow-cidr'],
        backend: argv.backend,
      }),
    );
    const outdir = resolve(argv.out ?? synthesizer.defaultOut);
    const started = performance.now();
    progress(`synthesizing ${levels.join(', ')} for ${target} into ${outdir}`);
    await synthesizer.write(deployments, outdir, argv.json, started);
  },
};

/** The stacks and manifests an engine wrote, as `synth` reports them. */
async function writeFiles(
  target: SynthTarget,
  writing: Promise<{ stacks?: readonly { stack: string; resources: number; file: string }[]; manifests: readonly WrittenManifest[] }>,
  outdir: string,
  json: boolean | undefined,
  started: number,
  hint?: string,
): Promise<void> {
  const files = await writing;
  if (json) return printJson({ target, outdir, ...files });
  for (const s of files.stacks ?? []) print(`${s.stack}: ${s.resources} resources -> ${s.file}`);
  for (const m of files.manifests)
    print(`${m.lab} (${m.cluster === 'all' ? 'one cluster' : `EKS ${m.cluster}`}): ${m.objects} objects -> ${m.file}`);
  if (hint) progress(hint);
  progress(`done in ${((performance.now() - started) / 1000).toFixed(2)}s`);
}

/** Terraform stacks, plus for labs on EKS the workloads of each region's cluster (rendered in a
 * worker thread while cdktf runs here: two cores, two engines). Also `workshop synth --target aws`. */
export async function synthAwsWithManifests(deployments: LabDeployment[], outdir: string) {
  const onEks = deployments.filter((d) => runsOnKubernetes(d.lab));
  const manifests = onEks.length === 0 ? Promise.resolve([]) : manifestsInWorker(onEks, join(outdir, 'manifests'));
  manifests.catch(awaitedLater); // awaited below; a rejection before then is not unhandled
  const { synthAws } = await import('../../constructs/aws/synth.js');
  const stacks = synthAws(deployments, outdir);
  return { stacks, manifests: await manifests };
}

function manifestsInWorker(deployments: LabDeployment[], outdir: string): Promise<WrittenManifest[]> {
  const worker = new Worker(join(packageRoot(), 'dist', 'k8s-manifests-worker.mjs'), { workerData: { deployments, outdir } });
  return new Promise((resolvePromise, reject) => {
    worker.once('message', (m: { ok: true; written: WrittenManifest[] } | { ok: false; name: string; message: string; hint?: string }) => {
      if (m.ok) resolvePromise(m.written);
      else reject(m.name === 'ExternalError' ? new ExternalError(m.message, m.hint) : new Error(m.message));
    });
    worker.once('error', reject);
    worker.once('exit', (code) => code !== 0 && reject(new Error(`the manifest worker exited with code ${code}`)));
  });
}

async function synthKubernetes(deployments: LabDeployment[], outdir: string) {
  const { labManifests, writeManifests } = await import('../../constructs/k8s/synth.js');
  return {
    stacks: undefined,
    manifests: writeManifests(
      deployments.flatMap((d) => labManifests(d, 'in-cluster')),
      outdir,
    ),
  };
}

/** One Pulumi project per lab: files only (the Pulumi SDK is not loaded here). */
async function synthPulumiProjects(deployments: LabDeployment[], outdir: string, started: number, json?: boolean) {
  const { synthPulumi } = await import('../../constructs/pulumi/project.js');
  const projects = synthPulumi(deployments, outdir);
  if (json) return printJson({ target: 'pulumi', outdir, projects });
  for (const p of projects) print(`${p.lab}: Pulumi project, ${p.outputs} stack outputs -> ${p.dir}`);
  const project = projects.length === 1 ? join(outdir, projects[0]!.lab) : join(outdir, '<lab>');
  progress(`deploy: cd ${project} && npm install && pulumi up   (or let labforge run it: labforge up <level> --target pulumi)`);
  progress(`done in ${((performance.now() - started) / 1000).toFixed(2)}s`);
}
