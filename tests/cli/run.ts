// Runs the BUILT CLI (dist/, built by `npm test`) as a child process, as users run it.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '../..');
export const BIN = join(ROOT, 'bin/labforge.js');

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function labforge(args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; nodeArgs?: string[] } = {}): CliResult {
  if (!existsSync(join(ROOT, 'dist/labforge.mjs'))) throw new Error('dist/ is missing: run `npm run build` (npm test does it)');
  const result: SpawnSyncReturns<string> = spawnSync(process.execPath, [...(options.nodeArgs ?? []), BIN, ...args], {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, ...options.env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}
