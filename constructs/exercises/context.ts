// What the checks of a local lab reach: its state and secrets, the learner's app and directory.
import { driverOf } from '../local/drivers/index.js';
import { existingLab, readSecrets, readState } from '../local/home.js';
import { UsageError } from '../model/errors.js';
import { labTarget } from '../model/home.js';
import type { Target } from '../model/types.js';
import type { CheckContext } from './types.js';

export const DEFAULT_APP_URL = 'http://127.0.0.1:8080';

/** The targets whose labs the checks reach from here. */
export const EXERCISE_CHECK_TARGETS: readonly Target[] = ['local'];

export function localCheckContext(home: string, name: string, options: { appUrl?: string; workdir?: string } = {}): CheckContext {
  const target = labTarget(home, name);
  if (target !== undefined && !EXERCISE_CHECK_TARGETS.includes(target))
    throw new UsageError(`check runs against local labs; '${name}' is a ${target} lab`);
  const layout = existingLab(home, name);
  const state = readState(layout)!;
  const secrets = readSecrets(layout);
  // The database the learner works in: the first PostgreSQL server (expert: shard 0's primary).
  const db = state.components.find((c) => c.kind === 'postgres' || (c.kind === 'shard' && c.role === 'primary'));
  const secretUrl = db && driverOf(db).secretUrl;
  if (!db || !secretUrl) throw new UsageError(`lab '${name}' has no PostgreSQL server to check`);
  return {
    lab: name,
    level: state.level,
    components: state.components,
    secrets,
    postgresUrl: secretUrl(db, secrets),
    appUrl: options.appUrl ?? DEFAULT_APP_URL,
    workdir: options.workdir ?? process.cwd(),
  };
}
