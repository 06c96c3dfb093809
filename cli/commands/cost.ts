import type { CommandModule } from 'yargs';
import { estimateCost } from '../../constructs/model/cost.js';
import { parseLevel, parsePositiveInt, parsePositiveNumber, parseRegions } from '../../constructs/model/options.js';
import { getLab } from '../../labs/index.js';
import { print, printJson, table, usd } from '../output.js';

interface CostArgs {
  level: string;
  participants: number;
  hours: number;
  regions?: string;
  json?: boolean;
}

export const costCommand: CommandModule<object, CostArgs> = {
  command: 'cost <level>',
  describe: 'Estimate the AWS cost of a lab: per hour, and for N participants over H hours',
  builder: (y) =>
    y
      .positional('level', { type: 'string', demandOption: true, description: 'beginner, intermediate, advanced or expert' })
      .option('participants', { type: 'number', default: 1, description: 'Labs to run (one per participant)' })
      .option('hours', { type: 'number', default: 1, description: 'How long the labs stay up' })
      .option('regions', { type: 'string', description: 'Comma-separated AWS regions (default: the level\'s)' })
      .option('json', { type: 'boolean', description: 'Print JSON' }),
  handler: (argv) => {
    const lab = getLab(parseLevel(argv.level));
    const participants = parsePositiveInt('--participants', argv.participants, 500);
    const hours = parsePositiveNumber('--hours', argv.hours, 24 * 7);
    const regions = argv.regions ? parseRegions(argv.regions, lab.regions.min) : [...lab.regions.default];
    const cost = estimateCost(lab, regions, participants, hours);
    if (argv.json) return printJson(cost);
    print(
      table([
        ['ITEM', 'REGION', 'QTY', 'PER HOUR'],
        ...cost.lines.map((l) => [l.item, l.region, String(Number(l.quantity.toFixed(2))), usd(l.hourly)]),
      ]),
    );
    print(`\nOne lab: ${usd(cost.hourly)}/hour`);
    print(`${participants} participant(s) x ${hours} hour(s): ${usd(cost.total)}`);
    print(`On-demand prices of ${cost.pricesRegion}, taken ${cost.pricesTakenOn}; other regions estimated. Data transfer not included.`);
  },
};
