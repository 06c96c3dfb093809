// `labforge workshop ...`: one isolated lab per participant, for instructors. The subcommands are
// thin: the work is in constructs/workshop (runtimes imported lazily, as for every command).
import type { Argv, CommandModule } from 'yargs';
import { DEFAULT_TTL } from '../../constructs/model/deployment.js';
import { UsageError } from '../../constructs/model/errors.js';
import { parseBackend } from '../../constructs/model/backend.js';
import { parseLevel, parseTarget, parseTtl } from '../../constructs/model/options.js';
import { parseParticipants, parseWorkshopName } from '../../constructs/model/workshop.js';
import type { Target } from '../../constructs/model/types.js';
import { getLab } from '../../labs/index.js';
import type { UpOptions } from '../targets/types.js';
import { EXIT_FAILURE, EXIT_INTERRUPTED } from '../errors.js';
import { print, printJson, progress, table } from '../output.js';
import { refuseForeignOptions, targetCli } from '../targets/index.js';
import { workshopDownCommand, workshopResetCommand, workshopSheetCommand } from './workshop-manage.js';
import { workshopSynthCommand } from './workshop-synth.js';

interface WorkshopUpArgs {
  level: string;
  participants: unknown;
  target: string;
  name?: string;
  ttl?: string;
  concurrency?: string;
  json?: boolean;
  yes?: boolean;
  backend?: string;
}

/** The `workshop up` options beyond the common ones that each target takes. */
const WORKSHOP_OPTIONS: Readonly<Record<Target, readonly (keyof UpOptions)[]>> = {
  local: [],
  aws: ['yes', 'backend'],
  pulumi: [],
  k8s: [],
};

/** Participants started at once by default: servers start faster than two cores can share more. */
const DEFAULT_CONCURRENCY = 4;

function parseConcurrency(value: string | undefined, participants: number): number {
  if (value === undefined) return Math.min(DEFAULT_CONCURRENCY, participants);
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 50) throw new UsageError(`bad --concurrency '${value}' (expected a whole number from 1 to 50)`);
  return n;
}

const workshopUpCommand: CommandModule<object, WorkshopUpArgs> = {
  command: 'up <level>',
  describe: 'Start one isolated lab per participant (W-p01, W-p02, ...), K at a time',
  builder: (y) =>
    y
      .positional('level', { type: 'string', demandOption: true, description: 'beginner, intermediate, advanced or expert' })
      .option('participants', { type: 'string', demandOption: true, description: 'How many participants (1-200)' })
      .option('target', { type: 'string', default: 'local', description: 'local, pulumi or aws' })
      .option('name', { type: 'string', description: 'Workshop name W (default: the level); labs are W-p01...' })
      .option('ttl', { type: 'string', description: `Lifetime until \`labforge reap\` may remove the labs (default ${DEFAULT_TTL})` })
      .option('concurrency', { type: 'string', description: `Participants started at once (default ${DEFAULT_CONCURRENCY})` })
      .option('yes', { type: 'boolean', description: "aws: apply every participant's plan without asking once for the cost envelope" })
      .option('backend', {
        type: 'string',
        description:
          "aws: every participant's Terraform state, 'local' or s3://bucket[/prefix][?region=r] (one object per stack; default: local)",
      })
      .option('json', { type: 'boolean', description: 'Print JSON' }),
  handler: async (argv) => {
    const { WORKSHOP_TARGETS } = await import('../../constructs/workshop/record.js');
    const target = parseTarget(argv.target, WORKSHOP_TARGETS);
    const lab = getLab(parseLevel(argv.level));
    const participants = parseParticipants(argv.participants);
    const name = parseWorkshopName(argv.name ?? lab.level);
    const ttl = argv.ttl ?? DEFAULT_TTL;
    parseTtl(ttl);
    const concurrency = parseConcurrency(argv.concurrency, participants);
    refuseForeignOptions(target, argv, WORKSHOP_OPTIONS);
    const { planWorkshop, upWorkshop } = await import('../../constructs/workshop/run.js');
    const { workshopRuntime } = await import('../../constructs/workshop/participants.js');
    const { labforgeHome } = await import('../../constructs/model/home.js');
    const home = labforgeHome();
    // Bad input, then what the machine and the cloud must provide, then the question: all before anything exists.
    if (argv.backend !== undefined) parseBackend(argv.backend);
    await planWorkshop({ home, name, lab, target, participants, ttl, backend: argv.backend });
    const cli = await targetCli(target);
    if (cli.confirmWorkshop && !argv.yes && !process.stdin.isTTY) {
      throw new UsageError(
        `\`workshop up --target ${target}\` asks before it creates cloud resources, and stdin is not a terminal: pass --yes to apply without asking`,
      );
    }
    await (await workshopRuntime(target)).preflight?.(lab, argv.backend);
    if (cli.confirmWorkshop && !(await cli.confirmWorkshop({ lab, participants, ttl, backend: argv.backend, yes: Boolean(argv.yes) }))) {
      progress('labforge: not applied; nothing was created');
      process.exitCode = EXIT_FAILURE;
      return;
    }

    const controller = new AbortController();
    let signals = 0;
    const onSignal = () => {
      signals += 1;
      if (signals > 1) process.exit(EXIT_INTERRUPTED);
      progress(
        `stopping: labs still starting undo themselves; \`labforge workshop down ${name}\` removes the rest (Ctrl-C again to quit at once)`,
      );
      controller.abort();
    };
    const caught: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
    for (const s of caught) process.on(s, onSignal);
    let result;
    try {
      result = await upWorkshop({
        home,
        name,
        lab,
        target,
        participants,
        ttl,
        backend: argv.backend,
        concurrency,
        signal: controller.signal,
        progress,
      });
    } finally {
      for (const s of caught) process.off(s, onSignal);
    }
    const failed = result.outcomes.filter((o) => !o.ok);
    if (controller.signal.aborted) process.exitCode = EXIT_INTERRUPTED;
    else if (failed.length > 0) process.exitCode = EXIT_FAILURE;
    if (argv.json) return printJson({ workshop: result.record, participants: result.outcomes, seconds: result.seconds });
    print(
      `Workshop '${name}' (${lab.title}): ${result.outcomes.length - failed.length}/${result.outcomes.length} participant labs up in ${result.seconds}s.`,
    );
    for (const f of failed)
      print(`  ${f.participant.id} ${f.participant.lab}: ${f.detail}  -> retry: labforge workshop reset ${name} ${f.participant.id}`);
    print(
      `Handout: labforge workshop sheet ${name} --format md    Status: labforge workshop status ${name}    Remove: labforge workshop down ${name}`,
    );
  },
};

const workshopStatusCommand: CommandModule<object, { name: string; exercises?: boolean; 'app-url'?: string; json?: boolean }> = {
  command: 'status <name>',
  describe: 'One row per participant: state, health (real round trips), exercises done (their checks)',
  builder: (y) =>
    y
      .positional('name', { type: 'string', demandOption: true, description: 'Workshop name' })
      .option('exercises', {
        type: 'boolean',
        default: true,
        description: "Run every participant's exercise checks (--no-exercises skips them)",
      })
      .option('app-url', {
        type: 'string',
        description: "Where the participants' apps listen, for the app exercises (default http://127.0.0.1:8080)",
      })
      .option('json', { type: 'boolean', description: 'Print JSON' }),
  handler: async (argv) => {
    const { labforgeHome } = await import('../../constructs/model/home.js');
    const { existingWorkshop } = await import('../../constructs/workshop/record.js');
    const { workshopStatus } = await import('../../constructs/workshop/run.js');
    const home = labforgeHome();
    const record = existingWorkshop(home, parseWorkshopName(argv.name));
    const rows = await workshopStatus(home, record, { exercises: argv.exercises, appUrl: argv['app-url'] });
    if (argv.json) return printJson({ workshop: record, participants: rows });
    print(
      `Workshop '${record.name}': ${record.participants} ${record.level} participant(s) on ${record.target}, expires ${record.expiresAt}`,
    );
    print(
      table([
        ['PARTICIPANT', 'LAB', 'STATE', 'HEALTH', 'EXERCISES'],
        ...rows.map((r) => [r.participant.id, r.participant.lab, r.state, r.health, r.exercises]),
      ]),
    );
    // A lab that could not be probed from here (healthy undefined) is not counted either way.
    const unhealthy = rows.filter((r) => r.healthy === false);
    if (unhealthy.length > 0) {
      process.exitCode = EXIT_FAILURE;
      print(`\n${unhealthy.length} not healthy: \`labforge workshop reset ${record.name} <participant>\` recreates one`);
    }
  },
};

export const workshopCommand: CommandModule = {
  command: 'workshop <command>',
  describe: 'Workshops: one isolated lab per participant (up, status, sheet, reset, down, synth)',
  builder: (y: Argv) =>
    y
      .command(workshopUpCommand)
      .command(workshopStatusCommand)
      .command(workshopSheetCommand)
      .command(workshopResetCommand)
      .command(workshopDownCommand)
      .command(workshopSynthCommand as CommandModule)
      .demandCommand(1, 'name a workshop command: up, status, sheet, reset, down or synth'),
  handler: () => {
    /* yargs runs the subcommand's handler; `workshop` alone is refused by demandCommand */
  },
};
