import type { CommandModule } from 'yargs';
import { parseLabName } from '../../constructs/model/options.js';
import { print, printJson } from '../output.js';

interface SecretsArgs {
  name: string;
  json?: boolean;
}

export const secretsCommand: CommandModule<object, SecretsArgs> = {
  command: 'secrets <name>',
  describe: "Print a lab's generated credentials (only shown on request)",
  builder: (y) =>
    y
      .positional('name', { type: 'string', demandOption: true, description: 'Lab name' })
      .option('json', { type: 'boolean', description: 'Print JSON' }),
  handler: async (argv) => {
    const { labforgeHome } = await import('../../constructs/model/home.js');
    const { runtimeOfLab } = await import('../../constructs/runtime/index.js');
    const name = parseLabName(argv.name);
    const home = labforgeHome();
    // Local and k8s labs: the passwords labforge generated; cloud labs: the stacks' sensitive outputs.
    const report = await (await runtimeOfLab(home, name)).secrets(home, name);
    if (argv.json) return printJson(report.json);
    for (const [label, value] of report.entries) print(`${`${label}:`.padEnd(18)} ${value}`);
  },
};
