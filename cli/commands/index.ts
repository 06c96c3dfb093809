// Every command module, in the order `labforge --help` lists them.
import type { CommandModule } from 'yargs';
import { costCommand } from './cost.js';
import { listCommand } from './list.js';
import { showCommand } from './show.js';
import { synthCommand } from './synth.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each module types its own argv
export const COMMANDS: CommandModule<any, any>[] = [listCommand, showCommand, synthCommand, costCommand];
