import type { CommandModule } from 'yargs';
import { allLabs } from '../../labs/index.js';
import { print, printJson, table } from '../output.js';

interface ListArgs {
  json?: boolean;
}

export const listCommand: CommandModule<object, ListArgs> = {
  command: 'list',
  describe: 'List the labs, one per skill level',
  builder: (y) => y.option('json', { type: 'boolean', description: 'Print JSON' }),
  handler: (argv) => {
    const labs = allLabs().map((lab) => ({
      level: lab.level,
      title: lab.title,
      components: lab.components.map((c) => c.kind),
      skills: lab.skills.length,
      exercises: lab.exercises.length,
    }));
    if (argv.json) return printJson(labs);
    print(
      table([
        ['LEVEL', 'SKILLS', 'COMPONENTS', 'TITLE'],
        ...labs.map((l) => [l.level, String(l.skills), [...new Set(l.components)].join(','), l.title]),
      ]),
    );
  },
};
