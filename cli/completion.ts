// Shell completion beyond yargs' own (commands and options): levels where a command takes a
// level, targets after --target, and the labs and workshops of the labforge home where a command
// takes one, the way kubectl completes resource names. Reads only the home's directory listing.
import { labforgeHome, labRecords } from '../constructs/model/home.js';
import { LEVELS, TARGETS } from '../constructs/model/types.js';
import { listWorkshops } from '../constructs/workshop/record.js';

/** Commands whose first positional is a level (`synth` also takes `all`). */
const LEVEL_COMMANDS = new Set(['up', 'show', 'synth', 'resources', 'cost']);
/** Commands whose first positional is a lab name. */
const LAB_COMMANDS = new Set(['status', 'health', 'down', 'secrets', 'guide', 'check', 'chaos']);
/** `workshop <sub>` subcommands whose positional is a workshop name. */
const WORKSHOP_NAME_COMMANDS = new Set(['status', 'sheet', 'reset', 'down']);

type Done = (completions: string[]) => void;
type DefaultCompletion = (onCompleted?: (error: Error | null, completions: string[] | undefined) => void) => void;

/**
 * yargs' fallback completion function for the words the shell passed (`labforge
 * --get-yargs-completions labforge up be`): our candidates where we know them, yargs' otherwise.
 */
export function completer(rawArgs: readonly string[]) {
  const words = rawArgs.slice(rawArgs.indexOf('--get-yargs-completions') + 2);
  return (current: string, _argv: unknown, defaults: DefaultCompletion, done: Done): void => {
    // Synchronous on purpose: yargs validates the words (and fails on them) if `done` comes later.
    const ours = candidates(words);
    if (ours !== undefined) return done(ours.filter((c) => c.startsWith(current)));
    defaults((_error, completions) => done(completions ?? []));
  };
}

/** `words`: what follows the program name, the last one being the word under completion. */
function candidates(words: readonly string[]): string[] | undefined {
  const current = words.at(-1) ?? '';
  const before = words.slice(0, -1);
  if (before.at(-1) === '--target') return [...TARGETS];
  if (current.startsWith('-')) return undefined;
  const positionals = before.filter((w) => !w.startsWith('-'));
  const [command, sub] = positionals;
  if (positionals.length === 1 && LEVEL_COMMANDS.has(command!)) return command === 'synth' ? [...LEVELS, 'all'] : [...LEVELS];
  if (positionals.length === 1 && LAB_COMMANDS.has(command!)) return labNames();
  if (command === 'workshop' && positionals.length === 2 && sub === 'up') return [...LEVELS];
  if (command === 'workshop' && positionals.length === 2 && WORKSHOP_NAME_COMMANDS.has(sub!)) return workshopNames();
  return undefined;
}

function labNames(): string[] {
  return labRecords(labforgeHome()).map((r) => r.name);
}

function workshopNames(): string[] {
  return listWorkshops(labforgeHome()).map((w) => w.name);
}
