import type { CommandModule } from 'yargs';
import { UsageError } from '../../constructs/model/errors.js';
import { EXIT_FAILURE } from '../errors.js';
import { print, printJson, progress } from '../output.js';

interface ReapArgs {
  'dry-run'?: boolean;
  at?: string;
  json?: boolean;
}

export const reapCommand: CommandModule<object, ReapArgs> = {
  command: 'reap',
  describe: 'Remove every lab of the labforge home whose expiry has passed, and prove nothing is left',
  builder: (y) =>
    y
      .option('dry-run', { type: 'boolean', description: 'Only list what would be removed' })
      .option('at', {
        type: 'string',
        description: 'Reap as of this instant instead of now (ISO-8601, e.g. tonight: 2026-12-01T18:00:00Z)',
      })
      .option('json', { type: 'boolean', description: 'Print JSON' }),
  handler: async (argv) => {
    const at = argv.at === undefined ? new Date() : new Date(argv.at);
    if (Number.isNaN(at.getTime()))
      throw new UsageError(`bad --at '${argv.at}' (expected an ISO-8601 instant such as 2026-12-01T18:00:00Z)`);
    const { labforgeHome, labRecords, isExpired } = await import('../../constructs/model/home.js');
    const { listWorkshops, participantsOf, removeWorkshop } = await import('../../constructs/workshop/record.js');
    const home = labforgeHome();
    const expired = labRecords(home).filter((r) => isExpired(r, at));
    if (argv['dry-run']) {
      if (argv.json) return printJson({ dryRun: true, at: at.toISOString(), labs: expired });
      if (expired.length === 0) return print(`nothing expired as of ${at.toISOString()} in ${home}`);
      for (const r of expired) print(`would remove ${r.name} (${r.target} ${r.level}, expired ${r.expiresAt})`);
      return;
    }
    const { removeLab } = await import('../labs.js');
    const removed = [];
    for (const r of expired) {
      progress(`reaping lab '${r.name}' (${r.target} ${r.level}, expired ${r.expiresAt})`);
      removed.push(await removeLab(home, r.name, progress));
    }
    // A workshop whose labs are all gone is over.
    const remaining = new Set(labRecords(home).map((r) => r.name));
    const endedWorkshops = listWorkshops(home).filter((w) => participantsOf(w).every((p) => !remaining.has(p.lab)));
    for (const w of endedWorkshops) removeWorkshop(home, w.name);
    if (removed.some((r) => !r.ok)) process.exitCode = EXIT_FAILURE;
    if (argv.json)
      return printJson({ dryRun: false, at: at.toISOString(), labs: removed, workshopsEnded: endedWorkshops.map((w) => w.name) });
    if (removed.length === 0) return print(`nothing expired as of ${at.toISOString()} in ${home}`);
    for (const r of removed)
      print(
        `${r.lab.padEnd(24)} ${r.target.padEnd(7)} ${r.ok ? 'removed, nothing left' : `SOMETHING IS LEFT: ${r.leftovers.join('; ')}`}  (${r.seconds}s)`,
      );
    for (const w of endedWorkshops) print(`workshop ${w.name}: every participant lab removed`);
    const { removeHomeIfEmpty } = await import('../../constructs/local/teardown.js');
    removeHomeIfEmpty(home);
  },
};
