import type { CommandModule } from 'yargs';
import { parseLabName } from '../../constructs/model/options.js';
import { EXIT_FAILURE } from '../errors.js';
import { print, printJson } from '../output.js';

interface CheckArgs {
  lab: string;
  exercise?: string;
  'app-url'?: string;
  workdir?: string;
  json?: boolean;
}

export const checkCommand: CommandModule<object, CheckArgs> = {
  command: 'check <lab> [exercise]',
  describe: "Check the lab's exercises against the running lab: pass/fail, and what is missing",
  builder: (y) =>
    y
      .positional('lab', { type: 'string', demandOption: true, description: 'Lab name' })
      .positional('exercise', { type: 'string', description: 'One exercise id (default: all of them)' })
      .option('app-url', { type: 'string', description: 'Where your own app listens (default http://127.0.0.1:8080)' })
      .option('workdir', {
        type: 'string',
        description: 'Your working directory, for exercises that produce files (default: the current one)',
      })
      .option('json', { type: 'boolean', description: 'Print JSON' }),
  handler: async (argv) => {
    const name = parseLabName(argv.lab);
    const { labforgeHome } = await import('../../constructs/model/home.js');
    const { localCheckContext } = await import('../../constructs/exercises/context.js');
    const { exercisesToCheck, runChecks } = await import('../../constructs/exercises/index.js');
    if (argv['app-url'] !== undefined && !URL.canParse(argv['app-url'])) {
      const { UsageError } = await import('../../constructs/model/errors.js');
      throw new UsageError(`bad --app-url '${argv['app-url']}' (expected a URL such as http://127.0.0.1:8080)`);
    }
    const ctx = localCheckContext(labforgeHome(), name, { appUrl: argv['app-url'], workdir: argv.workdir });
    const runs = await runChecks(ctx, exercisesToCheck(ctx.level, argv.exercise));
    const passed = runs.filter((r) => r.ok).length;
    if (passed < runs.length) process.exitCode = EXIT_FAILURE;
    if (argv.json) return printJson({ lab: name, level: ctx.level, passed, total: runs.length, checks: runs });
    let exercise = '';
    for (const r of runs) {
      if (r.exercise !== exercise) print(`${exercise === '' ? '' : '\n'}${(exercise = r.exercise)}`);
      print(`  ${r.ok ? 'PASS' : 'FAIL'}  ${r.title}`);
      print(`        ${r.detail.split('\n').join('\n        ')}`);
      if (!r.ok && r.hint) print(`        hint: ${r.hint}`);
    }
    print(`\n${passed}/${runs.length} checks pass`);
  },
};
