import type { CommandModule } from 'yargs';
import { parseUsd } from '../../constructs/model/budget.js';
import { costOfInventory } from '../../constructs/model/cost.js';
import { resolveDeployment } from '../../constructs/model/deployment.js';
import { parseLevel, parsePositiveInt, parsePositiveNumber, parseTarget } from '../../constructs/model/options.js';
import { getLab } from '../../labs/index.js';
import { INVENTORY_TARGETS, inventoryOf, refuseOverBudget } from '../inventory.js';
import { print, printJson, table, usd } from '../output.js';

interface CostArgs {
  level: string;
  target: string;
  participants: number;
  hours: number;
  regions?: string;
  'max-cost'?: string;
  json?: boolean;
}

export const costCommand: CommandModule<object, CostArgs> = {
  command: 'cost <level>',
  describe: 'Estimate the AWS cost of a lab from what an engine would create: per hour, and for N participants over H hours',
  builder: (y) =>
    y
      .positional('level', { type: 'string', demandOption: true, description: 'beginner, intermediate, advanced or expert' })
      .option('target', {
        type: 'string',
        default: 'aws',
        description: `Engine whose resources are priced (${INVENTORY_TARGETS.join(', ')})`,
      })
      .option('participants', { type: 'number', default: 1, description: 'Labs to run (one per participant)' })
      .option('hours', { type: 'number', default: 1, description: 'How long the labs stay up' })
      .option('regions', { type: 'string', description: "Comma-separated AWS regions (default: the level's)" })
      .option('max-cost', {
        type: 'string',
        description: 'Budget in USD (e.g. 50 or $12.50): above it, exit 2 with the envelope and the budget',
      })
      .option('json', { type: 'boolean', description: 'Print JSON' }),
  handler: async (argv) => {
    const target = parseTarget(argv.target, INVENTORY_TARGETS);
    const lab = getLab(parseLevel(argv.level));
    const participants = parsePositiveInt('--participants', argv.participants, 500);
    const hours = parsePositiveNumber('--hours', argv.hours, 24 * 7);
    const budget = argv['max-cost'] === undefined ? undefined : parseUsd('--max-cost', argv['max-cost']);
    const deployment = resolveDeployment(lab, { regions: argv.regions });
    const inventory = await inventoryOf(target, deployment);
    const cost = costOfInventory(inventory, participants, hours);
    if (budget !== undefined) refuseOverBudget(cost, budget);
    if (argv.json) return printJson({ ...cost, engine: inventory.engine, ...(budget === undefined ? {} : { maxCost: budget }) });
    print(
      table([
        ['ITEM', 'REGION', 'QTY', 'PER HOUR'],
        ...cost.lines.map((l) => [l.item, l.region, String(Number(l.quantity.toFixed(2))), usd(l.hourly)]),
      ]),
    );
    print(`\nOne lab: ${usd(cost.hourly)}/hour`);
    print(
      `${participants} participant(s) x ${hours} hour(s): ${usd(cost.total)}${budget === undefined ? '' : `, within budget ${usd(budget)}`}`,
    );
    print(`Priced: the ${inventory.engine} engine's ${inventory.items.length} resources (--target ${target}).`);
    print(`On-demand prices of ${cost.pricesRegion}, taken ${cost.pricesTakenOn}; other regions estimated. Data transfer not included.`);
  },
};
