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
    const { labforgeHome, labRecords } = await import('../../constructs/model/home.js');
    const { runtimeOfLab } = await import('../../constructs/runtime/index.js');
    const home = labforgeHome();
    const names = argv.name ? [parseLabName(argv.name)] : labRecords(home).map((r) => r.name);
    // Unknown names fail before any check runs; each lab is checked by its own runtime.
    const runtimes = await Promise.all(names.map((n) => runtimeOfLab(home, n)));
    if (names.length === 0) {
      print(`no labs in ${home}`);
      return;
    }
    const healthOf = (n: string, i: number) => runtimes[i]!.health(home, n);
    const once = async () => {
      const reports = await Promise.all(names.map(healthOf));
      const ok = reports.every((r) => r.ok);
      if (argv.json) printJson(argv.name ? reports[0] : reports);
      else {
        print(
          table([
            ['LAB', 'CHECK', 'RESULT', 'MS', 'TRIES', 'DETAIL'],
            ...reports.flatMap((r) =>
              r.checks.map((c) => [
                r.lab,
                c.name,
                isPrivate(c) ? 'PRIVATE' : c.ok ? 'ok' : 'FAILED',
                String(c.ms),
                String(c.attempts),
                c.detail,
              ]),
            ),
          ]),
        );
        for (const r of reports)
          for (const c of r.checks.filter((x) => !x.ok && !isPrivate(x)))
            process.stderr.write(`labforge: lab '${r.lab}': ${c.name} failed: ${c.detail}\n`);
        for (const r of reports)
          if (!r.ok && r.checks.every(isPrivate))
            process.stderr.write(`labforge: lab '${r.lab}': nothing of it is reachable from here, so nothing was verified\n`);
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
