// Every command module, in the order `labforge --help` lists them.
import type { CommandModule } from 'yargs';
import { chaosCommand } from './chaos.js';
import { checkCommand } from './check.js';
import { costCommand } from './cost.js';
import { doctorCommand } from './doctor.js';
import { downCommand } from './down.js';
import { guideCommand } from './guide.js';
import { healthCommand } from './health.js';
import { listCommand } from './list.js';
import { listLabsCommand } from './list-labs.js';
import { reapCommand } from './reap.js';
import { resourcesCommand } from './resources.js';
import { secretsCommand } from './secrets.js';
import { showCommand } from './show.js';
import { statusCommand } from './status.js';
import { synthCommand } from './synth.js';
import { sweepCommand } from './sweep.js';
import { upCommand } from './up.js';
import { workshopCommand } from './workshop.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each module types its own argv
export const COMMANDS: CommandModule<any, any>[] = [
  upCommand,
  statusCommand,
  healthCommand,
  downCommand,
  chaosCommand,
  guideCommand,
  checkCommand,
  secretsCommand,
  listLabsCommand,
  reapCommand,
  workshopCommand,
  doctorCommand,
  listCommand,
  showCommand,
  synthCommand,
  resourcesCommand,
  costCommand,
  sweepCommand,
];
