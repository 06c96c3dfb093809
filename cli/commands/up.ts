import type { CommandModule } from 'yargs';
import { expiryAfter } from '../../constructs/model/deployment.js';
import { UsageError } from '../../constructs/model/errors.js';
import { parseLabName, parseLevel, parseTarget } from '../../constructs/model/options.js';
import { allLabs, getLab } from '../../labs/index.js';
import { componentsOf } from '../../constructs/model/validate.js';
import { EXIT_FAILURE, EXIT_INTERRUPTED } from '../errors.js';
import { print, printJson, progress, table } from '../output.js';

interface UpArgs {
  level: string;
  target: string;
  name?: string;
  json?: boolean;
  regions?: string;
  'latency-ms'?: string;
  'rabbitmq-management'?: boolean;
  context?: string;
  timeout?: string;
  'allow-cidr'?: string;
  owner?: string;
  ttl?: string;
  yes?: boolean;
  'health-timeout'?: string;
  backend?: string;
}

/** Targets `up` can run today. */
const UP_TARGETS = ['local', 'aws', 'k8s', 'pulumi'] as const;

export const upCommand: CommandModule<object, UpArgs> = {
  command: 'up <level>',
  describe: 'Start a lab and wait until every health check passes',
  builder: (y) =>
    y
      .positional('level', { type: 'string', demandOption: true, description: 'beginner, intermediate, advanced or expert (local)' })
      .option('target', { type: 'string', default: 'local', description: `Where the lab runs (${UP_TARGETS.join(', ')})` })
      .option('name', { type: 'string', description: 'Lab name (default: the level); labs of different names run side by side' })
      .option('json', { type: 'boolean', description: 'Print one JSON object' })
      .option('regions', { type: 'string', description: 'expert: loopback regions, 2 or 3 (default 2); pulumi: comma-separated AWS regions' })
      .option('latency-ms', { type: 'string', description: 'expert: one-way delay of every link between regions, 0-1000 (default 40)' })
      .option('rabbitmq-management', { type: 'boolean', description: 'advanced: RabbitMQ management UI/API on 127.0.0.1 (off by default; kept by later `up`s)' })
      .option('context', { type: 'string', description: 'k8s: kube context to apply to (default: the current one)' })
      .option('timeout', { type: 'string', description: 'k8s: longest wait for the rollout, e.g. 90s, 5m (default 5m)' })
      .option('allow-cidr', { type: 'string', description: 'aws, pulumi: CIDR allowed to reach SSH, PostgreSQL and the API; aws also takes `auto` (your public address /32) (default: none)' })
      .option('owner', { type: 'string', description: 'aws, pulumi: owner tag (default: your user name)' })
      .option('ttl', { type: 'string', description: 'lifetime until `labforge reap` may remove the lab (cloud: the expires-at tag), e.g. 4h, 2d (default 4h)' })
      .option('yes', { type: 'boolean', description: 'aws: apply the plan without asking' })
      .option('health-timeout', { type: 'string', description: 'aws: longest wait for servers on a VM to answer after apply, e.g. 90s, 10m (default 5m)' })
      .option('backend', { type: 'string', description: "aws: where the Terraform state lives, 'local' (the lab's directory) or s3://bucket[/prefix][?region=r] (default: local; kept by later `up`s)" }),
  handler: async (argv) => {
    const target = parseTarget(argv.target, UP_TARGETS);
    const lab = getLab(parseLevel(argv.level));
    const name = parseLabName(argv.name ?? lab.level);
    const localOnly = { '--latency-ms': argv['latency-ms'], '--rabbitmq-management': argv['rabbitmq-management'] };
    const k8sOnly = { '--context': argv.context, '--timeout': argv.timeout };
    const cloudOnly = { '--allow-cidr': argv['allow-cidr'], '--owner': argv.owner };
    const awsOnly = { '--yes': argv.yes, '--health-timeout': argv['health-timeout'], '--backend': argv.backend };
    // --regions means loopback regions locally and AWS regions in the cloud; k8s has none.
    const foreign =
      target === 'local'
        ? { k8s: k8sOnly, 'aws or pulumi': cloudOnly, aws: awsOnly }
        : target === 'k8s'
          ? { 'local, aws or pulumi': { '--regions': argv.regions, '--ttl': argv.ttl }, local: localOnly, 'aws or pulumi': cloudOnly, aws: awsOnly }
          : target === 'pulumi'
            ? { local: localOnly, k8s: k8sOnly, aws: awsOnly }
            : { local: localOnly, k8s: k8sOnly };
    for (const [owner, flags] of Object.entries(foreign)) {
      for (const [flag, value] of Object.entries(flags)) {
        if (value !== undefined) throw new UsageError(`${flag} applies to --target ${owner} only`);
      }
    }
    if (target === 'aws') {
      const { upOnAws } = await import('./up-aws.js');
      return upOnAws({ lab, name, json: argv.json, regions: argv.regions, allowCidr: argv['allow-cidr'], owner: argv.owner, ttl: argv.ttl, yes: argv.yes, healthTimeout: argv['health-timeout'], backend: argv.backend });
    }
    if (target === 'pulumi') {
      const { upOnPulumi } = await import('./up-pulumi.js');
      return upOnPulumi({ lab, name, json: argv.json, regions: argv.regions, allowCidr: argv['allow-cidr'], owner: argv.owner, ttl: argv.ttl });
    }
    if (target === 'k8s') {
      const { upOnKubernetes } = await import('./up-k8s.js');
      return upOnKubernetes({ lab, name, context: argv.context, timeout: argv.timeout, json: argv.json });
    }
    const { parseLatency, parseRegionCount } = await import('../../constructs/local/expert.js');
    const multiRegion = lab.regions.min >= 2;
    for (const [flag, value] of [['--regions', argv.regions], ['--latency-ms', argv['latency-ms']]] as const) {
      if (value !== undefined && !multiRegion) throw new UsageError(`${flag} applies to the expert lab only (it has regions), not to ${lab.level}`);
    }
    if (argv['rabbitmq-management'] && componentsOf(lab, 'rabbitmq').length === 0) {
      const withMq = allLabs().filter((l) => componentsOf(l, 'rabbitmq').length > 0).map((l) => l.level);
      throw new UsageError(`--rabbitmq-management applies to labs with RabbitMQ (${withMq.join(', ')}), not to ${lab.level}`);
    }
    const regions = argv.regions === undefined ? undefined : parseRegionCount(argv.regions);
    const latencyMs = argv['latency-ms'] === undefined ? undefined : parseLatency(argv['latency-ms']);
    const expiresAt = argv.ttl === undefined ? undefined : expiryAfter(argv.ttl);
    const { labforgeHome } = await import('../../constructs/local/home.js');
    const { upLab, InterruptedError } = await import('../../constructs/local/lab.js');

    // Ctrl-C / SIGTERM: abort, let `up` stop what it started, then exit 130. A second Ctrl-C quits at once.
    const controller = new AbortController();
    let signals = 0;
    const onSignal = () => {
      signals += 1;
      if (signals === 1) {
        progress('stopping: undoing what this `up` started (Ctrl-C again to quit at once)');
        controller.abort();
      } else {
        progress(`quit: run \`labforge down ${name}\` to remove what is left`);
        process.exit(EXIT_INTERRUPTED);
      }
    };
    const caught: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
    for (const s of caught) process.on(s, onSignal);
    let result;
    try {
      result = await upLab({ name, lab, home: labforgeHome(), signal: controller.signal, progress, regions, latencyMs, rabbitmqManagement: argv['rabbitmq-management'], expiresAt });
    } catch (error) {
      if (!(error instanceof InterruptedError)) throw error;
      progress(`labforge: ${error.message}`);
      process.exitCode = EXIT_INTERRUPTED;
      return;
    } finally {
      for (const s of caught) process.off(s, onSignal);
    }

    const healthy = result.health.every((h) => h.ok);
    if (!healthy) process.exitCode = EXIT_FAILURE;
    if (argv.json) {
      return printJson({
        ...result,
        target: 'local',
        secrets: `labforge secrets ${name}`,
        exercises: lab.exercises.map((e) => ({ id: e.id, title: e.title, steps: e.steps })),
      });
    }
    const passed = result.health.filter((h) => h.ok).length;
    const verb = result.alreadyUp ? 'was already up' : result.created ? 'is up' : 'is up again (repaired)';
    print(`Lab '${name}' (${lab.title}) ${verb} in ${result.seconds}s; ${passed}/${result.health.length} health checks pass.`);
    for (const h of result.health.filter((x) => !x.ok)) print(`  FAILED ${h.name}: ${h.detail}`);
    print();
    const lb = result.components.find((c) => c.kind === 'haproxy');
    if (lb) {
      const apis = result.components.filter((c) => c.kind === 'api').map((c) => c.id);
      print(`Entry point: ${lb.url}  (${lb.id}, round robin over ${apis.join(', ')}; each reply names its instance in X-Instance)`);
      print();
    }
    const links = result.components.flatMap((c) => (c.links ?? []).map((l) => ({ ...l, c })));
    for (const { name: what, url, c } of links) {
      print(`${c.id} (${c.kind}) ${what}: ${url}  (log in as ${c.user ?? 'learner'}, \`labforge secrets ${name}\` prints the password)`);
    }
    if (links.length > 0) print();
    const address = (c: (typeof result.components)[number]) => (c.port > 0 ? `${c.host}:${c.port}` : '-');
    const extra = (c: (typeof result.components)[number]) => c.ports.filter((p) => p.name !== 'port').map((p) => `${p.name} ${p.port}`);
    print(
      table([
        ['COMPONENT', 'KIND', 'ADDRESS', 'USER', 'CONNECT'],
        ...result.components.map((c) => [
          c.id,
          c.kind,
          [address(c), ...extra(c)].join(', '),
          c.user ?? (c.kind === 'redis' ? 'default' : '-'),
          c.kind === 'worker' ? 'consumes jobs from RabbitMQ (no port)' : c.url,
        ]),
      ]),
    );
    print();
    print(`Passwords are generated per lab and not shown here: \`labforge secrets ${name}\` prints them.`);
    print(`Servers run as '${result.runAs.user}' on 127.0.0.1 only; data and logs in ${result.dir}`);
    print(`Check: labforge health ${name}    Status: labforge status ${name}    Remove: labforge down ${name}`);
    print();
    print(`Exercises (the guide: \`labforge guide ${name}\`; your progress: \`labforge check ${name}\`):`);
    lab.exercises.forEach((e, i) => {
      print(`  ${i + 1}. ${e.title} (${e.id})`);
      for (const step of e.steps) print(`     - ${step}`);
    });
  },
};
