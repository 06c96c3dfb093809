import type { CommandModule } from 'yargs';
import { EXIT_FAILURE } from '../errors.js';
import { print, printJson, table } from '../output.js';

interface DoctorArgs {
  json?: boolean;
}

export const doctorCommand: CommandModule<object, DoctorArgs> = {
  command: 'doctor',
  describe: 'Check the service binaries local labs need, and say how to install what is missing',
  builder: (y) => y.option('json', { type: 'boolean', description: 'Print JSON' }),
  handler: async (argv) => {
    const { inspectBinaries, installCommand, LOCAL_LEVELS } = await import('../../constructs/local/binaries.js');
    const binaries = await inspectBinaries();
    const missing = binaries.filter((b) => !b.path);
    // Exit 1 only when a level that runs locally today cannot start.
    const blocking = missing.filter((b) => b.levels.some((l) => LOCAL_LEVELS.includes(l)));
    const install = missing.length > 0 ? installCommand(missing.map((b) => b.name)) : undefined;
    if (blocking.length > 0) process.exitCode = EXIT_FAILURE;
    if (argv.json) return printJson({ ok: blocking.length === 0, binaries, missing: missing.map((b) => b.name), install: install ?? null });
    print(
      table([
        ['BINARY', 'PACKAGE', 'VERSION', 'NEEDED BY', 'PATH'],
        ...binaries.map((b) => [b.name, b.aptPackage, b.version ?? '-', b.levels.join(','), b.path ?? 'MISSING']),
      ]),
    );
    if (install) {
      print(`\nMissing: ${missing.map((b) => b.name).join(', ')}. Install with:\n  ${install}`);
      const working = LOCAL_LEVELS.filter((l) => !missing.some((b) => b.levels.includes(l)));
      if (working.length > 0) print(`(local ${working.join(', ')} labs work without them)`);
    } else print('\nEverything local labs use is installed.');
  },
};
