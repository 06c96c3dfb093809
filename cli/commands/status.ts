import type { CommandModule } from 'yargs';
import { parseLabName } from '../../constructs/model/options.js';
import { TARGETS } from '../../constructs/model/types.js';
import { print, printJson } from '../output.js';
import { targetCli } from '../targets/index.js';

interface StatusArgs {
  name?: string;
  json?: boolean;
}

export const statusCommand: CommandModule<object, StatusArgs> = {
  command: 'status [name]',
  describe: 'Show the labs: components, pid or pods, address and state',
  builder: (y) =>
    y
      .positional('name', { type: 'string', description: 'One lab (default: every lab)' })
      .option('json', { type: 'boolean', description: 'Print JSON' }),
  handler: async (argv) => {
    const { labforgeHome, labRecords } = await import('../../constructs/model/home.js');
    const home = labforgeHome();
    if (argv.name) {
      const name = parseLabName(argv.name);
      const { runtimeOfLab } = await import('../../constructs/runtime/index.js');
      const runtime = await runtimeOfLab(home, name);
      const status: unknown = await runtime.status(home, name);
      if (argv.json) return printJson(status);
      return (await targetCli(runtime.target)).printStatus([status]);
    }
    // One table per target, each lab read by its own runtime.
    const records = labRecords(home);
    const groups = [];
    for (const target of TARGETS) {
      const names = records.filter((r) => r.target === target).map((r) => r.name);
      if (names.length === 0) continue;
      const cli = await targetCli(target);
      const runtime = await cli.runtime();
      const labs: unknown[] = await Promise.all(names.map((n) => runtime.status(home, n)));
      groups.push({ cli, labs });
    }
    if (argv.json) return printJson(groups.flatMap((g) => g.labs));
    if (groups.length === 0) return print(`no labs in ${home} (start one with \`labforge up beginner\`)`);
    groups.forEach((g, i) => {
      if (i > 0) print();
      g.cli.printStatus(g.labs);
    });
  },
};
