import { resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { parseLabName } from '../../constructs/model/options.js';
import { print } from '../output.js';

export const guideCommand: CommandModule<object, { lab: string; out?: string }> = {
  command: 'guide <lab>',
  describe: "Print (or write) the lab's guide: its real connection info, skills and exercises",
  builder: (y) =>
    y
      .positional('lab', { type: 'string', demandOption: true, description: 'Lab name' })
      .option('out', { type: 'string', description: 'Write the guide to this file instead' }),
  handler: async (argv) => {
    const name = parseLabName(argv.lab);
    const { labforgeHome, writeFileAtomic } = await import('../../constructs/model/home.js');
    const { renderGuide } = await import('../../constructs/exercises/guide.js');
    const guide = renderGuide(labforgeHome(), name);
    if (argv.out === undefined) return print(guide);
    writeFileAtomic(resolve(argv.out), guide);
    print(`${resolve(argv.out)}: the guide of lab '${name}'`);
  },
};
