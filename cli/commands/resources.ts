import type { CommandModule } from 'yargs';
import { resolveDeployment } from '../../constructs/model/deployment.js';
import { countByKind, type InventoryItem } from '../../constructs/model/inventory.js';
import { parseLevel, parseTarget } from '../../constructs/model/options.js';
import { getLab } from '../../labs/index.js';
import { INVENTORY_TARGETS, inventoryOf } from '../inventory.js';
import { print, printJson, table } from '../output.js';

interface ResourcesArgs {
  level: string;
  target: string;
  regions?: string;
  json?: boolean;
}

/** `${aws_db_instance.x.arn}` -> `ref:aws_db_instance.x`: which resource, without the noise. */
function shortValue(value: unknown): string {
  if (Array.isArray(value)) return value.map(shortValue).join(',');
  if (typeof value === 'string') {
    const ref = /^\$\{([a-z0-9_]+\.[^.}]+)[^}]*\}$/.exec(value);
    return ref ? `ref:${ref[1]}` : value;
  }
  return typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
}

/** `k=v` pairs keyed by the last path segment (the full path where two would collide). */
function propertiesCell(item: InventoryItem): string {
  const paths = Object.keys(item.properties);
  const last = (path: string) => path.slice(path.lastIndexOf('.') + 1);
  const clash = (path: string) => paths.filter((p) => last(p) === last(path)).length > 1;
  if (paths.length === 0) return '-';
  return paths.map((p) => `${clash(p) ? p : last(p)}=${shortValue(item.properties[p])}`).join(' ');
}

export const resourcesCommand: CommandModule<object, ResourcesArgs> = {
  command: 'resources <level>',
  describe: 'List the cloud resources an engine would create for a lab: kind, name, region, key properties',
  builder: (y) =>
    y
      .positional('level', { type: 'string', demandOption: true, description: 'beginner, intermediate, advanced or expert' })
      .option('target', { type: 'string', default: 'aws', description: `Engine to ask (${INVENTORY_TARGETS.join(', ')})` })
      .option('regions', { type: 'string', description: "Comma-separated AWS regions (default: the level's)" })
      .option('json', { type: 'boolean', description: 'Print the inventory as JSON' }),
  handler: async (argv) => {
    const target = parseTarget(argv.target, INVENTORY_TARGETS);
    const deployment = resolveDeployment(getLab(parseLevel(argv.level)), { regions: argv.regions });
    const inventory = await inventoryOf(target, deployment);
    if (argv.json) return printJson(inventory);
    print(
      table([['KIND', 'NAME', 'REGION', 'KEY PROPERTIES'], ...inventory.items.map((i) => [i.kind, i.name, i.region, propertiesCell(i)])]),
    );
    print('');
    print(table([['KIND', 'COUNT'], ...Object.entries(countByKind(inventory.items)).map(([kind, n]) => [kind, String(n)])]));
    print(
      `\nTotal: ${inventory.items.length} resources (${inventory.engine} engine, lab ${inventory.lab}, ${inventory.regions.join(' + ')})`,
    );
  },
};
