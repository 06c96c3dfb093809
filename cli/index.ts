// labforge command line. Each command lives in cli/commands/<name>.ts and loads heavy engines
// (cdktf, providers, database clients) inside its handler, so `--help` and `list` stay instant.
import yargs, { type CommandModule } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { UsageError } from '../constructs/model/errors.js';
import { COMMANDS } from './commands/index.js';
import { completer } from './completion.js';
import { reportError } from './errors.js';

// `labforge status | head` closes stdout early: that is the reader's choice, not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

export async function main(argv: string[]): Promise<number> {
  const verbose = argv.includes('--verbose');
  let cli = yargs(argv)
    .scriptName('labforge')
    .usage('$0 <command> [options]\n\nPractice labs for backend developers, one per skill level.')
    .option('verbose', { type: 'boolean', description: 'Show stack traces of internal errors', global: true })
    .strict()
    .demandCommand(1, 'name a command (labforge --help lists them)')
    .recommendCommands()
    .help()
    .alias('h', 'help')
    .version()
    // Tab completion of commands, options and levels: `labforge completion >> ~/.bashrc` (bash, zsh).
    .completion('completion', 'Print a shell completion script (bash, zsh): labforge completion >> ~/.bashrc', completer(argv))
    .wrap(Math.min(110, process.stdout.columns || 100))
    .fail((message, error) => {
      // yargs' own messages (unknown option, missing argument) become usage errors: exit 2.
      throw error ?? new UsageError(message.split('\n')[0]);
    });
  for (const command of COMMANDS) cli = cli.command(command as CommandModule);
  try {
    await cli.parseAsync();
    return Number(process.exitCode ?? 0);
  } catch (error) {
    return reportError(error, verbose);
  }
}

process.exitCode = await main(hideBin(process.argv));
