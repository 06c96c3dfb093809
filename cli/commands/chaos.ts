import type { CommandModule } from 'yargs';
import { parseChaosAction } from '../../constructs/model/chaos.js';
import { UsageError } from '../../constructs/model/errors.js';
import { parseLabName } from '../../constructs/model/options.js';
import { print, printJson, progress } from '../output.js';

interface ChaosArgs {
  name: string;
  action: string;
  arg?: string;
  json?: boolean;
}

export const chaosCommand: CommandModule<object, ChaosArgs> = {
  command: 'chaos <name> <action> [arg]',
  describe: 'Failure drill on a running expert lab: kill-primary <shard>, kill-broker <n>, partition <region>, heal',
  builder: (y) =>
    y
      .positional('name', { type: 'string', demandOption: true, description: 'The lab (an expert lab)' })
      .positional('action', { type: 'string', demandOption: true, description: 'kill-primary, kill-broker, partition or heal' })
      .positional('arg', { type: 'string', description: 'shard (kill-primary), broker 1..3 (kill-broker), region (partition)' })
      .option('json', { type: 'boolean', description: 'Print one JSON object' }),
  handler: async (argv) => {
    const name = parseLabName(argv.name);
    const action = parseChaosAction(argv.action, argv.arg);
    const { labforgeHome } = await import('../../constructs/model/home.js');
    const { runtimeOfLab } = await import('../../constructs/runtime/index.js');
    const home = labforgeHome();
    const runtime = await runtimeOfLab(home, name);
    // The drills stop and rewire the lab's own servers: a runtime without them (a cloud lab) says so.
    if (!runtime.chaos) throw new UsageError(`chaos drills local labs only; '${name}' is a ${runtime.target} lab`);
    progress(`chaos on lab '${name}': ${argv.action}${argv.arg === undefined ? '' : ` ${argv.arg}`}`);
    const report = await runtime.chaos(home, name, action);
    if (argv.json) return printJson(report);
    print(`Done in ${report.seconds}s:`);
    for (const line of report.did) print(`  - ${line}`);
    print('What to observe now:');
    for (const line of report.observe) print(`  - ${line}`);
  },
};
