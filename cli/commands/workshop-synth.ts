// `labforge workshop synth <level> --participants N`: the cloud code of a workshop, one lab per
// participant (`<workshop>-p01`...), each an ordinary lab of its own: its own stack (cdktf) or
// project (Pulumi), its own names, tags, secrets and state, so no participant can break another's.
// Registered by `labforge workshop` (cli/commands/workshop.ts) as its `synth` subcommand.
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { parseUsd } from '../../constructs/model/budget.js';
import { costOfInventory } from '../../constructs/model/cost.js';
import { DEFAULT_TTL, resolveDeployment, type LabDeployment } from '../../constructs/model/deployment.js';
import { parseLevel, parseTarget, parseTtl } from '../../constructs/model/options.js';
import { parseParticipants, parseWorkshopName, participants, type Participant } from '../../constructs/model/workshop.js';
import { getLab } from '../../labs/index.js';
import { inventoryOf, refuseOverBudget } from '../inventory.js';
import { print, printJson, progress, usd } from '../output.js';
import { synthAwsWithManifests } from './synth.js';

interface WorkshopSynthArgs {
  level: string;
  participants: string;
  target: string;
  name?: string;
  out?: string;
  regions?: string;
  owner?: string;
  ttl?: string;
  'allow-cidr'?: string;
  'max-cost'?: string;
  json?: boolean;
}

/** Engines a workshop can be written for. */
export const WORKSHOP_SYNTH_TARGETS = ['aws', 'pulumi'] as const;
type WorkshopTarget = (typeof WORKSHOP_SYNTH_TARGETS)[number];
/** Default output: `workshop.out/<workshop>/<target>/`, so both targets of one workshop can sit side by side. */
export const WORKSHOP_OUT = 'workshop.out';
/** The index of a written workshop, in its output directory. */
export const PARTICIPANTS_FILE = 'participants.json';
/** Up to this many participants, one line each on stdout; above, the summary line only (participants.json lists them all). */
const LINE_PER_PARTICIPANT_UP_TO = 10;
/** AWS's default quota of VPCs per region: a workshop of more labs than this needs an increase. */
const DEFAULT_VPC_QUOTA = 5;

/** One participant in participants.json; paths are relative to the index's directory. */
export interface WorkshopIndexEntry {
  readonly id: string;
  readonly lab: string;
  /** The participant's stack (aws: `stacks/<lab>`) or project (pulumi: `<lab>`). */
  readonly dir: string;
  /** aws: the lab's stacks, `<lab>` then `<lab>-k8s` for levels on EKS, in apply order. */
  readonly stacks?: readonly { readonly stack: string; readonly dir: string; readonly resources: number }[];
  /** aws, levels on EKS: the workloads of each region's cluster. */
  readonly manifests?: readonly string[];
  /** pulumi: how many stack outputs the project exports. */
  readonly outputs?: number;
}

export interface WorkshopIndex {
  readonly workshop: string;
  readonly level: string;
  readonly target: WorkshopTarget;
  readonly owner: string;
  readonly expiresAt: string;
  readonly regions: readonly string[];
  readonly participants: readonly WorkshopIndexEntry[];
}

export const workshopSynthCommand: CommandModule<object, WorkshopSynthArgs> = {
  command: 'synth <level>',
  describe: 'Write the cloud code of a workshop: one stack (aws) or Pulumi project per participant, sharing nothing',
  builder: (y) =>
    y
      .positional('level', { type: 'string', demandOption: true, description: 'beginner, intermediate, advanced or expert' })
      .option('participants', { type: 'string', demandOption: true, description: 'How many participants (1 to 200): one lab each' })
      .option('target', { type: 'string', default: 'aws', description: `Engine to render with (${WORKSHOP_SYNTH_TARGETS.join(', ')})` })
      .option('name', { type: 'string', description: 'Workshop name; participant labs are <name>-p01... (default: the level)' })
      .option('out', { type: 'string', description: `Output directory (default: ${WORKSHOP_OUT}/<name>/<target>)` })
      .option('regions', { type: 'string', description: 'Comma-separated AWS regions (expert needs at least 2)' })
      .option('owner', { type: 'string', description: 'Owner tag (default: your user name)' })
      .option('ttl', { type: 'string', description: `Lifetime recorded in the expires-at tag, e.g. 4h, 2d (default: ${DEFAULT_TTL})` })
      .option('allow-cidr', { type: 'string', description: 'CIDR allowed to reach SSH/PostgreSQL (default: none)' })
      .option('max-cost', {
        type: 'string',
        description: 'Budget in USD for all participants over the TTL: above it, nothing is written (exit 2)',
      })
      .option('json', { type: 'boolean', description: 'Print JSON (the participants.json index)' }),
  handler: async (argv) => {
    // Validate everything before anything is written.
    const target = parseTarget(argv.target, WORKSHOP_SYNTH_TARGETS);
    const lab = getLab(parseLevel(argv.level));
    const count = parseParticipants(argv.participants);
    const workshop = parseWorkshopName(argv.name ?? lab.level);
    const budget = argv['max-cost'] === undefined ? undefined : parseUsd('--max-cost', argv['max-cost']);
    const ttl = argv.ttl ?? DEFAULT_TTL;
    const now = new Date(); // one expiry for the whole workshop
    const people = participants(workshop, count);
    const deployments = people.map((p) =>
      resolveDeployment(lab, { name: p.lab, owner: argv.owner, ttl, regions: argv.regions, allowCidr: argv['allow-cidr'], now }),
    );
    const first = deployments[0]!;
    if (budget !== undefined) {
      // Priced like `labforge cost`: the target engine's inventory of one participant's lab, x participants
      // x the TTL (for pulumi that runs the program under Pulumi's mocks: only with --max-cost).
      const cost = costOfInventory(await inventoryOf(target, first), count, parseTtl(ttl) / 3_600_000);
      refuseOverBudget(cost, budget);
      progress(`cost envelope ${usd(cost.total)} (${count} x ${usd(cost.hourly)}/hour for ${ttl}), within --max-cost ${usd(budget)}`);
    }
    const outdir = resolve(argv.out ?? join(WORKSHOP_OUT, workshop, target));
    const started = performance.now();
    progress(`synthesizing workshop '${workshop}': ${count} ${lab.level} lab(s) for ${target} into ${outdir}`);

    const engine = ENGINES[target];
    const entries = await engine.write(people, deployments, outdir);
    const index: WorkshopIndex = {
      workshop,
      level: lab.level,
      target,
      owner: first.owner,
      expiresAt: first.expiresAt,
      regions: first.regions,
      participants: entries,
    };
    const indexFile = join(outdir, PARTICIPANTS_FILE);
    writeFileSync(indexFile, `${JSON.stringify(index, null, 2)}\n`);

    warnLeftovers(engine.labsDir(outdir), workshop, new Set(entries.flatMap((e) => [e.lab, ...(e.stacks ?? []).map((s) => s.stack)])));
    if (count > DEFAULT_VPC_QUOTA) {
      // Each lab has a VPC of its own in each of its regions.
      progress(
        `note: ${count} labs need ${count} VPCs in ${first.regions.join(', ')}; AWS allows ${DEFAULT_VPC_QUOTA} per region by default: raise the quota (Service Quotas) before deploying`,
      );
    }
    if (argv.json) return printJson({ outdir, indexFile, ...index });
    if (count <= LINE_PER_PARTICIPANT_UP_TO) for (const e of entries) print(participantLine(e, outdir));
    print(summaryLine(index, outdir, indexFile));
    progress(engine.deployHint(outdir, entries));
    progress(`done in ${((performance.now() - started) / 1000).toFixed(2)}s`);
  },
};

/** Every participant's stacks through the `synth --target aws` path: one cdktf App, EKS manifests in a worker. */
async function writeAws(
  people: readonly Participant[],
  deployments: readonly LabDeployment[],
  outdir: string,
): Promise<WorkshopIndexEntry[]> {
  const { stacks, manifests } = await synthAwsWithManifests([...deployments], outdir);
  const rel = (path: string) => relative(outdir, path);
  return people.map((p) => ({
    id: p.id,
    lab: p.lab,
    dir: rel(join(outdir, 'stacks', p.lab)),
    stacks: stacks
      .filter((s) => s.lab === p.lab)
      .map((s) => ({ stack: s.stack, dir: rel(join(outdir, 'stacks', s.stack)), resources: s.resources })),
    manifests: manifests.filter((m) => m.lab === p.lab).map((m) => rel(m.file)),
  }));
}

async function writePulumi(
  people: readonly Participant[],
  deployments: readonly LabDeployment[],
  outdir: string,
): Promise<WorkshopIndexEntry[]> {
  const { synthPulumi } = await import('../../constructs/pulumi/project.js');
  const projects = synthPulumi(deployments, outdir);
  return people.map((p, i) => ({ id: p.id, lab: p.lab, dir: relative(outdir, projects[i]!.dir), outputs: projects[i]!.outputs }));
}

/** How each engine writes a workshop's labs, where they sit, and how they are deployed by hand. */
interface WorkshopEngine {
  write(people: readonly Participant[], deployments: readonly LabDeployment[], outdir: string): Promise<WorkshopIndexEntry[]>;
  /** The folder holding one folder per participant lab. */
  labsDir(outdir: string): string;
  deployHint(outdir: string, entries: readonly WorkshopIndexEntry[]): string;
  /** `12 stacks, 180 resources` */
  describe(entries: readonly WorkshopIndexEntry[]): string;
}

const ENGINES: Readonly<Record<WorkshopTarget, WorkshopEngine>> = {
  aws: {
    write: writeAws,
    labsDir: (outdir) => join(outdir, 'stacks'),
    deployHint: (outdir, entries) =>
      `deploy each participant: cd ${join(outdir, 'stacks', '<lab>')} && terraform init && terraform apply${entries[0]!.stacks!.length > 1 ? ' (then the same in <lab>-k8s)' : ''}`,
    describe: (all) =>
      `${all.reduce((n, e) => n + e.stacks!.length, 0)} stacks, ${all.reduce((n, e) => n + e.stacks!.reduce((r, s) => r + s.resources, 0), 0)} resources`,
  },
  pulumi: {
    write: writePulumi,
    labsDir: (outdir) => outdir,
    deployHint: (outdir) => `deploy each participant: cd ${join(outdir, '<lab>')} && npm install && pulumi up`,
    describe: (all) => `${all.length} Pulumi projects`,
  },
};

function participantLine(e: WorkshopIndexEntry, outdir: string): string {
  if (e.stacks === undefined) return `${e.lab}: Pulumi project, ${e.outputs} stack outputs -> ${join(outdir, e.dir)}`;
  const total = e.stacks.reduce((n, s) => n + s.resources, 0);
  const split = e.stacks.length > 1 ? ` (${e.stacks.map((s) => `${s.stack} ${s.resources}`).join(', ')})` : '';
  const manifests = e.manifests !== undefined && e.manifests.length > 0 ? `, ${e.manifests.length} EKS manifest(s)` : '';
  return `${e.lab}: ${total} resources${split}${manifests} -> ${join(outdir, e.dir)}`;
}

function summaryLine(index: WorkshopIndex, outdir: string, indexFile: string): string {
  const all = index.participants;
  const range = all.length === 1 ? all[0]!.lab : `${all[0]!.lab}..${all[all.length - 1]!.lab}`;
  const what = ENGINES[index.target].describe(all);
  return `workshop ${index.workshop}: ${all.length} participant(s) (${range}), ${what} -> ${outdir}; index ${indexFile}`;
}

/** Participant stacks left by an earlier, bigger run are kept (they may hold Terraform or Pulumi state) but named. */
function warnLeftovers(dir: string, workshop: string, written: ReadonlySet<string>): void {
  if (!existsSync(dir)) return;
  const pattern = new RegExp(`^${workshop}-p\\d{2,3}(-k8s)?$`);
  const left = readdirSync(dir).filter((name) => pattern.test(name) && !written.has(name));
  if (left.length > 0) progress(`note: not this run's, left in place (they may hold state): ${left.map((n) => join(dir, n)).join(', ')}`);
}
