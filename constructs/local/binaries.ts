// Finding the service binaries the local target runs, and saying how to install what is missing.
import { execFile, execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { ExternalError } from '../model/errors.js';
import type { Level } from '../model/types.js';

export interface BinarySpec {
  readonly name: string;
  /** Debian/Ubuntu package that provides it. */
  readonly aptPackage: string;
  /** Levels whose local lab needs it. */
  readonly levels: readonly Level[];
  /** Arguments that print the version without starting anything; absent: read it elsewhere. */
  readonly versionArgs?: readonly string[];
}

export const BINARIES: readonly BinarySpec[] = [
  { name: 'postgres', aptPackage: 'postgresql', levels: ['beginner', 'intermediate', 'advanced', 'expert'], versionArgs: ['--version'] },
  { name: 'initdb', aptPackage: 'postgresql', levels: ['beginner', 'intermediate', 'advanced', 'expert'], versionArgs: ['--version'] },
  { name: 'pg_ctl', aptPackage: 'postgresql', levels: ['beginner', 'intermediate', 'advanced', 'expert'], versionArgs: ['--version'] },
  { name: 'pg_basebackup', aptPackage: 'postgresql', levels: ['expert'], versionArgs: ['--version'] },
  { name: 'redis-server', aptPackage: 'redis-server', levels: ['intermediate', 'advanced', 'expert'], versionArgs: ['--version'] },
  { name: 'rabbitmq-server', aptPackage: 'rabbitmq-server', levels: ['advanced'] },
  { name: 'epmd', aptPackage: 'erlang-base', levels: ['advanced'] },
  { name: 'haproxy', aptPackage: 'haproxy', levels: ['advanced', 'expert'], versionArgs: ['-v'] },
  { name: 'java', aptPackage: 'openjdk-17-jre-headless', levels: ['expert'], versionArgs: ['-version'] },
];

/** Local levels labforge can build today. */
export const LOCAL_LEVELS: readonly Level[] = ['beginner', 'intermediate', 'advanced', 'expert'];

const POSTGRES_TOOLS = new Set(['postgres', 'initdb', 'pg_ctl', 'pg_basebackup']);

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && executable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

let cachedPgBin: string | null | undefined;

/**
 * The PostgreSQL server binaries' directory: the newest /usr/lib/postgresql/<major>/bin, else
 * `pg_config --bindir`, else the directory of `postgres` on PATH. The server tools are not on
 * Debian's PATH (only wrappers are), hence the search.
 */
export function postgresBinDir(): string | undefined {
  if (cachedPgBin !== undefined) return cachedPgBin ?? undefined;
  const candidates: string[] = [];
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const majors = readdirSync(root)
      .filter((d) => /^\d+(\.\d+)?$/.test(d))
      .sort((a, b) => Number(b) - Number(a));
    candidates.push(...majors.map((m) => join(root, m, 'bin')));
  }
  try {
    candidates.push(execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
  } catch {
    /* no pg_config */
  }
  const fromPath = onPath('postgres');
  if (fromPath) candidates.push(join(fromPath, '..'));
  cachedPgBin = candidates.find((dir) => executable(join(dir, 'postgres')) && executable(join(dir, 'initdb'))) ?? null;
  return cachedPgBin ?? undefined;
}

/** Full path of a binary, or undefined when it is not installed. */
export function findBinary(name: string): string | undefined {
  if (POSTGRES_TOOLS.has(name)) {
    const dir = postgresBinDir();
    if (dir && executable(join(dir, name))) return join(dir, name);
    return onPath(name);
  }
  if (name === 'rabbitmq-server') {
    const direct = '/usr/lib/rabbitmq/bin/rabbitmq-server';
    if (executable(direct)) return direct;
  }
  return onPath(name) ?? (executable(`/usr/sbin/${name}`) ? `/usr/sbin/${name}` : undefined);
}

/** The install command for the given binaries' packages. */
export function installCommand(names: readonly string[]): string {
  const packages = [...new Set(names.map((n) => BINARIES.find((b) => b.name === n)?.aptPackage ?? n))];
  return `apt-get install -y ${packages.join(' ')}`;
}

/** A binary the lab needs, or an external error saying what to install. */
export function requireBinary(name: string): string {
  const found = findBinary(name);
  if (found) return found;
  throw new ExternalError(`${name} is not installed (labforge runs it for local labs)`, `install with: ${installCommand([name])}`);
}

export interface BinaryReport {
  readonly name: string;
  readonly path?: string;
  readonly version?: string;
  readonly aptPackage: string;
  readonly levels: readonly Level[];
}

function versionOf(spec: BinarySpec, path: string): Promise<string | undefined> {
  if (!spec.versionArgs) {
    // rabbitmq-server has no --version: it would start a node. Read the installed package version.
    return new Promise((resolve) =>
      execFile('dpkg-query', ['-W', '-f', '${Version}', spec.aptPackage], { timeout: 3000 }, (error, stdout) =>
        resolve(error ? undefined : stdout.trim() || undefined),
      ),
    );
  }
  return new Promise((resolve) =>
    execFile(path, [...spec.versionArgs!], { timeout: 5000 }, (error, stdout, stderr) => {
      const text = `${stdout}\n${stderr}`.trim();
      const match = /(\d+\.\d+(?:\.\d+)?)/.exec(text.replace(/^.*?(version|v=|server)\s*/i, ''));
      resolve(error && !text ? undefined : (match?.[1] ?? (text.split('\n')[0] || undefined)));
    }),
  );
}

/** Every known binary, where it is and its version. */
export async function inspectBinaries(): Promise<BinaryReport[]> {
  return Promise.all(
    BINARIES.map(async (spec) => {
      const path = findBinary(spec.name);
      const version = path ? await versionOf(spec, path) : undefined;
      return { name: spec.name, path, version, aptPackage: spec.aptPackage, levels: spec.levels };
    }),
  );
}
