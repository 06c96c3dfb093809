// Where the Kafka broker's jars are: scripts/kafka/fetch.sh copies them from Maven Central into
// labforge's cache (Debian has no Kafka package). This module only finds them; it never downloads.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ExternalError } from '../model/errors.js';
import type { RunAs } from './home.js';

/** Kafka version the local labs run; must match <kafka.version> in scripts/kafka/pom.xml. */
export const KAFKA_VERSION = '4.4.0';

export const FETCH_HINT = 'run scripts/kafka/fetch.sh';

/**
 * labforge's cache directory, chosen exactly as fetch.sh chooses it: $LABFORGE_CACHE, else
 * $XDG_CACHE_HOME/labforge, else /var/cache/labforge for root (whose home the servers' user
 * cannot enter), else ~/.cache/labforge.
 */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env, uid = process.getuid?.() ?? 0): string {
  if (env.LABFORGE_CACHE?.trim()) return env.LABFORGE_CACHE.trim();
  if (env.XDG_CACHE_HOME?.trim()) return join(env.XDG_CACHE_HOME.trim(), 'labforge');
  if (uid === 0) return '/var/cache/labforge';
  return join(env.HOME ?? '/nonexistent', '.cache', 'labforge');
}

export interface KafkaDist {
  readonly version: string;
  /** Directory holding every jar. */
  readonly libs: string;
  /** The `-cp` argument: the JVM expands `<libs>/*` itself. */
  readonly classpath: string;
}

/** Directories on the way to `path` that `runAs` cannot enter or read (as a non-owner, non-group user may not). */
function unreadableFor(path: string, runAs: RunAs): string | undefined {
  if (runAs.mode === 'current-user') return undefined;
  let dir = path;
  for (;;) {
    const st = statSync(dir);
    const shift = st.uid === runAs.uid ? 6 : st.gid === runAs.gid ? 3 : 0;
    const need = dir === path ? 0o5 : 0o1; // the libs directory itself must be listable too
    if (((st.mode >> shift) & need) !== need) return dir;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/**
 * The cached Kafka classpath, or an ExternalError saying to run fetch.sh. A half-finished fetch
 * (no marker file) counts as missing. With `runAs`, also checks that the servers' user can read
 * it, since the brokers run as that user.
 */
export function requireKafkaDist(runAs?: RunAs, env: NodeJS.ProcessEnv = process.env, version = KAFKA_VERSION): KafkaDist {
  const dir = join(cacheRoot(env), `kafka-${version}`);
  const libs = join(dir, 'libs');
  const complete = existsSync(join(dir, '.complete')) && existsSync(libs) && readdirSync(libs).some((f) => f.startsWith('kafka_2.13-'));
  if (!complete) {
    throw new ExternalError(`Kafka ${version} jars are not in ${libs} (local Kafka labs need them)`, FETCH_HINT);
  }
  const blocked = runAs ? unreadableFor(libs, runAs) : undefined;
  if (blocked) {
    throw new ExternalError(
      `the brokers run as user '${runAs!.user}', which cannot read ${blocked} on the way to the Kafka jars in ${libs}`,
      `set LABFORGE_CACHE to a directory it can read (e.g. /var/cache/labforge) and ${FETCH_HINT}`,
    );
  }
  return { version, libs, classpath: join(libs, '*') };
}
