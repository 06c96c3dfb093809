import type { CommandModule } from 'yargs';
import { parseLevel } from '../../constructs/model/options.js';
import { getLab } from '../../labs/index.js';
import { defaultCost } from '../inventory.js';
import { print, printJson, usd } from '../output.js';

interface ShowArgs {
  level: string;
  json?: boolean;
}

export const showCommand: CommandModule<object, ShowArgs> = {
  command: 'show <level>',
  describe: 'Show a lab: components, skills, exercises and estimated cloud cost per hour',
  builder: (y) =>
    y
      .positional('level', { type: 'string', demandOption: true, description: 'beginner, intermediate, advanced or expert' })
      .option('json', { type: 'boolean', description: 'Print JSON' }),
  handler: async (argv) => {
    const lab = getLab(parseLevel(argv.level));
    // Priced from what the cdktf engine would create in the level's default regions.
    const cost = await defaultCost(lab);
    if (argv.json) return printJson({ ...lab, estimatedHourlyUsd: cost.hourly, costRegions: cost.regions });
    print(`${lab.title}\n${lab.summary}\n`);
    print('Components:');
    for (const c of lab.components) print(`  ${c.kind.padEnd(19)} ${c.id.padEnd(8)} ${c.description}`);
    print(`\nSkills (${lab.skills.length}):`);
    lab.skills.forEach((s, i) => print(`  ${i + 1}. ${s}`));
    print('\nExercises:');
    for (const ex of lab.exercises) {
      print(`  ${ex.id}: ${ex.title}`);
      for (const step of ex.steps) print(`    - ${step}`);
    }
    print(`\nEstimated AWS cost: ${usd(cost.hourly)}/hour in ${cost.regions.join(' + ')} (on-demand prices of ${cost.pricesTakenOn})`);
  },
};
