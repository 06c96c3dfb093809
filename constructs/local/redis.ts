// A local Redis: loopback only, password required, no persistence files outside the lab.
import { chownSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireBinary } from './binaries.js';
import type { ComponentState, RunAs } from './home.js';
import type { ProcessRecord } from './proc.js';
import { serviceEnv, spawnService } from './spawn.js';

/**
 * Writes redis.conf (0600, owned by the run-as user). The password lives in this file, not on
 * the command line, where any local user could read it from /proc/<pid>/cmdline.
 */
export function writeRedisConfig(c: ComponentState, runAs: RunAs, password: string): string {
  const file = join(c.dataDir, 'redis.conf');
  const conf = [
    '# labforge: written at `up`',
    `bind ${c.host}`,
    `port ${c.port}`,
    'protected-mode yes',
    `requirepass ${password}`,
    'save ""',
    'appendonly no',
    `dir ${c.dataDir}`,
    'daemonize no',
    'logfile ""',
    'databases 16',
    '',
  ].join('\n');
  writeFileSync(file, conf, { mode: 0o600 });
  if (runAs.mode === 'service-user') chownSync(file, runAs.uid, runAs.gid);
  return file;
}

export function startRedis(c: ComponentState, runAs: RunAs, configFile: string): ProcessRecord {
  return spawnService({
    command: requireBinary('redis-server'),
    args: [configFile],
    cwd: c.dataDir,
    logFile: c.logFile,
    env: serviceEnv(runAs),
    runAs,
  });
}
