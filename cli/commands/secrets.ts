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
    y.positional('name', { type: 'string', demandOption: true, description: 'Lab name' }).option('json', { type: 'boolean', description: 'Print JSON' }),
  handler: async (argv) => {
    const { labforgeHome } = await import('../../constructs/local/home.js');
    const { labSecrets } = await import('../../constructs/local/lab.js');
    const name = parseLabName(argv.name);
    const { labTarget } = await import('../../constructs/model/home.js');
    const home = labforgeHome();
    const target = labTarget(home, name);
    if (target === 'pulumi' || target === 'aws') {
      // The stacks' sensitive outputs: decrypted by pulumi, or read from the Terraform state.
      const outputs =
        target === 'pulumi' ? await (await import('../../constructs/pulumi/target.js')).pulumiSecrets(home, name) : await (await import('../../constructs/terraform/target.js')).awsSecrets(home, name);
      if (argv.json) return printJson({ lab: name, target, outputs });
      for (const [key, value] of Object.entries(outputs)) print(`${`${key}:`.padEnd(18)} ${typeof value === 'string' ? value : JSON.stringify(value)}`);
      return;
    }
    const { secrets, urls } = labTarget(home, name) === 'k8s' ? (await import('../../constructs/k8s/target.js')).k8sSecrets(home, name) : labSecrets(home, name);
    if (argv.json) return printJson({ lab: name, ...secrets, urls });
    print(`postgres user:     ${secrets.postgres.user}`);
    print(`postgres password: ${secrets.postgres.password}`);
    if (secrets.redis) print(`redis password:    ${secrets.redis.password}`);
    if (secrets.rabbitmq) print(`rabbitmq user:     ${secrets.rabbitmq.user} (vhost ${secrets.rabbitmq.vhost})`);
    if (secrets.rabbitmq) print(`rabbitmq password: ${secrets.rabbitmq.password}`);
    if (secrets.api) print(`api JWT secret:    ${secrets.api.jwtSecret}`);
    for (const [id, url] of Object.entries(urls)) print(`${`${id} url:`.padEnd(18)} ${url}`);
  },
};
