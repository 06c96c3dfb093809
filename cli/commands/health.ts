import type { CommandModule } from 'yargs';
import { parseLabName } from '../../constructs/model/options.js';
import { EXIT_FAILURE, EXIT_OK } from '../errors.js';
import { print, printJson, progress, table } from '../output.js';

/** A cloud lab's endpoint in a private subnet: not probed, never counted as passed. */
const isPrivate = (c: object) => 'reach' in c && c.reach === 'private';

interface HealthArgs {
  name?: string;
  json?: boolean;
  watch?: boolean;
  interval: number;
}

export const healthCommand: CommandModule<object, HealthArgs> = {
  command: 'health [name]',
  describe: 'Run every health check of a lab now (exit 0 only if all pass)',
  builder: (y) =>
    y
      .positional('name', { type: 'string', description: 'One lab (default: every lab)' })
      .option('json', { type: 'boolean', description: 'Print JSON' })
      .option('watch', { type: 'boolean', description: 'Run the checks again every --interval seconds until Ctrl-C' })
      .option('interval', { type: 'number', default: 2, description: 'Seconds between runs with --watch' }),
  handler: async (argv) => {
    const { labforgeHome, existingLab } = await import('../../constructs/local/home.js');
    const { healthLab, labNames } = await import('../../constructs/local/lab.js');
    const home = labforgeHome();
    const names = argv.name ? [parseLabName(argv.name)] : labNames(home);
    for (const n of names) existingLab(home, n);
    if (names.length === 0) {
      print(`no labs in ${home}`);
      return;
    }
    const { labTarget } = await import('../../constructs/model/home.js');
    const healthOf = async (n: string) => {
      const target = labTarget(home, n);
      // A pulumi lab lives in AWS, which labforge does not probe: one failed check says so.
      if (target === 'pulumi') return (await import('../../constructs/pulumi/target.js')).healthPulumiLab(home, n);
      if (target === 'aws') return (await import('../../constructs/terraform/target.js')).healthAwsLab(home, n);
      if (target !== 'k8s') return healthLab(home, n);
      const { healthK8sLab } = await import('../../constructs/k8s/target.js');
      return healthK8sLab(home, n);
    };
    const once = async () => {
      const reports = await Promise.all(names.map(healthOf));
      const ok = reports.every((r) => r.ok);
      if (argv.json) printJson(argv.name ? reports[0] : reports);
      else {
        print(
          table([
            ['LAB', 'CHECK', 'RESULT', 'MS', 'TRIES', 'DETAIL'],
            ...reports.flatMap((r) => r.checks.map((c) => [r.lab, c.name, isPrivate(c) ? 'PRIVATE' : c.ok ? 'ok' : 'FAILED', String(c.ms), String(c.attempts), c.detail])),
          ]),
        );
        for (const r of reports) for (const c of r.checks.filter((x) => !x.ok && !isPrivate(x))) process.stderr.write(`labforge: lab '${r.lab}': ${c.name} failed: ${c.detail}\n`);
        for (const r of reports) if (!r.ok && r.checks.every(isPrivate)) process.stderr.write(`labforge: lab '${r.lab}': nothing of it is reachable from here, so nothing was verified\n`);
      }
      process.exitCode = ok ? EXIT_OK : EXIT_FAILURE;
    };
    await once();
    if (!argv.watch) return;
    const interval = Math.max(0.2, argv.interval) * 1000;
    let stop = false;
    process.once('SIGINT', () => (stop = true));
    while (!stop) {
      await new Promise((resolve) => setTimeout(resolve, interval));
      if (stop) break;
      progress(`--- ${new Date().toISOString()}`);
      await once();
    }
  },
};
