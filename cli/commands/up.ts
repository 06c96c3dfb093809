import type { CommandModule } from 'yargs';
import { parseLabName, parseLevel, parseTarget } from '../../constructs/model/options.js';
import { TARGETS } from '../../constructs/model/types.js';
import { getLab } from '../../labs/index.js';
import { refuseForeignOptions, targetCli } from '../targets/index.js';
import type { UpOptions } from '../targets/types.js';

interface UpArgs extends UpOptions {
  level: string;
  target: string;
  name?: string;
}

export const upCommand: CommandModule<object, UpArgs> = {
  command: 'up <level>',
  describe: 'Start a lab and wait until every health check passes',
  builder: (y) =>
    y
      .positional('level', { type: 'string', demandOption: true, description: 'beginner, intermediate, advanced or expert (local)' })
      .option('target', { type: 'string', default: 'local', description: `Where the lab runs (${TARGETS.join(', ')})` })
      .option('name', { type: 'string', description: 'Lab name (default: the level); labs of different names run side by side' })
      .option('json', { type: 'boolean', description: 'Print one JSON object' })
      .option('regions', {
        type: 'string',
        description: 'expert: loopback regions, 2 or 3 (default 2); pulumi: comma-separated AWS regions',
      })
      .option('latency-ms', { type: 'string', description: 'expert: one-way delay of every link between regions, 0-1000 (default 40)' })
      .option('rabbitmq-management', {
        type: 'boolean',
        description: 'advanced: RabbitMQ management UI/API on 127.0.0.1 (off by default; kept by later `up`s)',
      })
      .option('context', { type: 'string', description: 'k8s: kube context to apply to (default: the current one)' })
      .option('timeout', { type: 'string', description: 'k8s: longest wait for the rollout, e.g. 90s, 5m (default 5m)' })
      .option('allow-cidr', {
        type: 'string',
        description:
          'aws, pulumi: CIDR allowed to reach SSH, PostgreSQL and the API; aws also takes `auto` (your public address /32) (default: none)',
      })
      .option('owner', { type: 'string', description: 'aws, pulumi: owner tag (default: your user name)' })
      .option('ttl', {
        type: 'string',
        description: 'lifetime until `labforge reap` may remove the lab (cloud: the expires-at tag), e.g. 4h, 2d (default 4h)',
      })
      .option('yes', { type: 'boolean', description: 'aws: apply the plan without asking' })
      .option('health-timeout', {
        type: 'string',
        description: 'aws: longest wait for servers on a VM to answer after apply, e.g. 90s, 10m (default 5m)',
      })
      .option('backend', {
        type: 'string',
        description:
          "aws: where the Terraform state lives, 'local' (the lab's directory) or s3://bucket[/prefix][?region=r] (default: local; kept by later `up`s)",
      }),
  handler: async (argv) => {
    const target = parseTarget(argv.target);
    const lab = getLab(parseLevel(argv.level));
    const name = parseLabName(argv.name ?? lab.level);
    refuseForeignOptions(target, argv);
    await (await targetCli(target)).up({ lab, name, options: argv });
  },
};
