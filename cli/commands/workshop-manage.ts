// `workshop sheet`, `workshop reset` and `workshop down`: what an instructor runs on a workshop
// that exists.
import { resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { choiceError, ExternalError } from '../../constructs/model/errors.js';
import { parseParticipant, parseWorkshopName } from '../../constructs/model/workshop.js';
import { getLab } from '../../labs/index.js';
import { EXIT_FAILURE } from '../errors.js';
import { print, printJson, progress } from '../output.js';

async function workshopOf(name: string) {
  const { labforgeHome } = await import('../../constructs/model/home.js');
  const { existingWorkshop } = await import('../../constructs/workshop/record.js');
  const home = labforgeHome();
  return { home, record: existingWorkshop(home, parseWorkshopName(name)) };
}

export const workshopSheetCommand: CommandModule<object, { name: string; format: string; out?: string }> = {
  command: 'sheet <name>',
  describe: 'Write the handout: per participant their lab, connection info, credentials and exercises (file mode 0600)',
  builder: (y) =>
    y
      .positional('name', { type: 'string', demandOption: true, description: 'Workshop name' })
      .option('format', { type: 'string', default: 'md', description: 'md, csv or html' })
      .option('out', { type: 'string', description: 'File to write (default: ./<workshop>-sheet.<format>)' }),
  handler: async (argv) => {
    const { SHEET_FORMATS, renderSheet } = await import('../../constructs/workshop/sheet.js');
    const format = SHEET_FORMATS.find((f) => f === argv.format);
    if (format === undefined) throw choiceError('format', argv.format, SHEET_FORMATS);
    const { home, record } = await workshopOf(argv.name);
    const { participantsOf } = await import('../../constructs/workshop/record.js');
    const { sheetEntry } = await import('../../constructs/workshop/participants.js');
    const { labTarget, writeFileAtomic } = await import('../../constructs/model/home.js');
    const all = participantsOf(record);
    const present = all.filter((p) => labTarget(home, p.lab) !== undefined);
    const missing = all.filter((p) => !present.includes(p));
    const entries = [];
    for (const p of present) entries.push(await sheetEntry(record.target, home, p));
    const file = resolve(argv.out ?? `${record.name}-sheet.${format}`);
    // Credentials inside: only the instructor's user may read it.
    writeFileAtomic(file, renderSheet(format, { workshop: record.name, lab: getLab(record.level), target: record.target, entries }), 0o600);
    print(`${file}: ${entries.length} participant(s), mode 0600 (it holds their passwords)`);
    if (missing.length > 0) {
      process.exitCode = EXIT_FAILURE;
      print(
        `missing (no lab): ${missing.map((p) => p.id).join(', ')}; \`labforge workshop reset ${record.name} <participant>\` creates one`,
      );
    }
  },
};

export const workshopResetCommand: CommandModule<object, { name: string; participant: string; json?: boolean }> = {
  command: 'reset <name> <participant>',
  describe: "Recreate one participant's lab from scratch (new data, new credentials)",
  builder: (y) =>
    y
      .positional('name', { type: 'string', demandOption: true, description: 'Workshop name' })
      .positional('participant', { type: 'string', demandOption: true, description: 'Participant: p07 (or 7)' })
      .option('json', { type: 'boolean', description: 'Print JSON' }),
  handler: async (argv) => {
    const { home, record } = await workshopOf(argv.name);
    const participant = parseParticipant(record.name, record.participants, argv.participant);
    const { labTarget } = await import('../../constructs/model/home.js');
    const { removeLab } = await import('../labs.js');
    const { upParticipant } = await import('../../constructs/workshop/participants.js');
    const started = performance.now();
    if (labTarget(home, participant.lab) !== undefined) {
      progress(`removing ${participant.lab}`);
      const removed = await removeLab(home, participant.lab, progress);
      if (!removed.ok)
        throw new ExternalError(
          `could not remove ${participant.lab}: ${removed.leftovers.join('; ')}`,
          `run \`labforge down ${participant.lab}\`, then the reset again`,
        );
    }
    progress(`creating ${participant.lab}`);
    const ttlLeftMs = Math.max(60_000, Date.parse(record.expiresAt) - Date.now());
    const detail = await upParticipant(record.target, participant, {
      home,
      lab: getLab(record.level),
      expiresAt: record.expiresAt,
      ttl: `${Math.ceil(ttlLeftMs / 60_000)}m`,
      backend: record.backend,
      signal: new AbortController().signal,
      reservedPorts: new Set(),
    });
    const seconds = Number(((performance.now() - started) / 1000).toFixed(2));
    if (argv.json) return printJson({ workshop: record.name, participant, detail, seconds });
    print(`${participant.id} ${participant.lab}: recreated in ${seconds}s; ${detail}`);
    print(`Its credentials are new: \`labforge workshop sheet ${record.name}\` writes the handout again`);
  },
};

export const workshopDownCommand: CommandModule<object, { name: string; json?: boolean }> = {
  command: 'down <name>',
  describe: 'Remove every participant lab and print one combined receipt proving nothing is left',
  builder: (y) =>
    y
      .positional('name', { type: 'string', demandOption: true, description: 'Workshop name' })
      .option('json', { type: 'boolean', description: 'Print JSON' }),
  handler: async (argv) => {
    const { home, record } = await workshopOf(argv.name);
    const { downWorkshop } = await import('../../constructs/workshop/run.js');
    const { removeLab } = await import('../labs.js');
    progress(`removing workshop '${record.name}': ${record.participants} participant lab(s)`);
    const receipt = await downWorkshop(home, record, (lab) => removeLab(home, lab), 4);
    if (!receipt.ok) process.exitCode = EXIT_FAILURE;
    const { removeHomeIfEmpty } = await import('../../constructs/local/teardown.js');
    removeHomeIfEmpty(home);
    if (argv.json) return printJson(receipt);
    const removed = receipt.labs.filter((l) => l.existed && l.ok).length;
    print(`Teardown receipt for workshop '${record.name}' (${receipt.seconds}s): ${receipt.ok ? 'nothing left' : 'SOMETHING IS LEFT'}`);
    for (const l of receipt.labs) {
      const what = !l.existed ? 'had no lab' : l.ok ? `removed, nothing left (${l.seconds}s)` : `LEFT: ${l.leftovers.join('; ')}`;
      print(`  ${l.participant.id}  ${l.participant.lab.padEnd(24)} ${what}`);
    }
    print(`  ${removed} lab(s) removed; workshop record ${receipt.ok ? 'removed' : 'kept (run `labforge workshop down` again)'}`);
  },
};
