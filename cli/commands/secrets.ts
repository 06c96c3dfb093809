import type { CommandModule } from 'yargs';
import { parseLabName } from '../../constructs/model/options.js';
import { print, printJson } from '../output.js';

interface SecretsArgs {
  name: string;
  json?: boolean;
}

export const secretsCommand: CommandModule<object, SecretsArgs> = {
  command: 'secrets <name>',
  describe: "Print a local lab's generated credentials (only shown on request)",
  builder: (y) =>
    y.positional('name', { type: 'string', demandOption: true, description: 'Lab name' }).option('json', { type: 'boolean', description: 'Print JSON' }),
  handler: async (argv) => {
    const { labforgeHome } = await import('../../constructs/local/home.js');
    const { labSecrets } = await import('../../constructs/local/lab.js');
    const name = parseLabName(argv.name);
    const { secrets, components } = labSecrets(labforgeHome(), name);
    const enc = encodeURIComponent;
    const urls: Record<string, string> = {};
    for (const c of components) {
      if (c.kind === 'postgres') urls[c.id] = `postgres://${enc(secrets.postgres.user)}:${enc(secrets.postgres.password)}@${c.host}:${c.port}/${c.database}`;
      if (c.kind === 'redis' && secrets.redis) urls[c.id] = `redis://:${enc(secrets.redis.password)}@${c.host}:${c.port}`;
    }
    if (argv.json) return printJson({ lab: name, ...secrets, urls });
    print(`postgres user:     ${secrets.postgres.user}`);
    print(`postgres password: ${secrets.postgres.password}`);
    if (secrets.redis) print(`redis password:    ${secrets.redis.password}`);
    if (secrets.api) print(`api JWT secret:    ${secrets.api.jwtSecret}`);
    for (const [id, url] of Object.entries(urls)) print(`${`${id} url:`.padEnd(18)} ${url}`);
  },
};
