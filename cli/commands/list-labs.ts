import type { CommandModule } from 'yargs';
import { print, printJson, table } from '../output.js';

interface ListLabsArgs {
  json?: boolean;
}

/** `2h 5m`, `3d 4h`, `40s`: a duration a reader takes in at a glance. */
export function humanDuration(ms: number): string {
  const s = Math.round(Math.abs(ms) / 1000);
  const [d, h, m] = [Math.floor(s / 86_400), Math.floor((s % 86_400) / 3600), Math.floor((s % 3600) / 60)];
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m`;
  return `${s}s`;
}

export const listLabsCommand: CommandModule<object, ListLabsArgs> = {
  command: 'list-labs',
  describe: 'Every lab in the labforge home, of any target: age, expiry, workshop',
  builder: (y) => y.option('json', { type: 'boolean', description: 'Print JSON' }),
  handler: async (argv) => {
    const { labforgeHome, labRecords, isExpired } = await import('../../constructs/model/home.js');
    const { workshopOfLab } = await import('../../constructs/workshop/record.js');
    const home = labforgeHome();
    const now = new Date();
    const workshops = workshopOfLab(home);
    const labs = labRecords(home).map((r) => ({
      ...r,
      workshop: workshops.get(r.name),
      ageSeconds: Math.round((now.getTime() - Date.parse(r.createdAt)) / 1000),
      expired: isExpired(r, now),
    }));
    if (argv.json) return printJson(labs);
    if (labs.length === 0) return print(`no labs in ${home}`);
    const expiry = (l: (typeof labs)[number]) => {
      if (l.expiresAt === undefined) return 'never recorded';
      const left = Date.parse(l.expiresAt) - now.getTime();
      return l.expired ? `EXPIRED ${humanDuration(left)} ago` : `in ${humanDuration(left)} (${l.expiresAt})`;
    };
    print(
      table([
        ['LAB', 'LEVEL', 'TARGET', 'WORKSHOP', 'AGE', 'EXPIRES'],
        ...labs.map((l) => [l.name, l.level, l.target, l.workshop ?? '-', humanDuration(l.ageSeconds * 1000), expiry(l)]),
      ]),
    );
    const expired = labs.filter((l) => l.expired).length;
    if (expired > 0) print(`\n${expired} expired: \`labforge reap\` removes them`);
  },
};
