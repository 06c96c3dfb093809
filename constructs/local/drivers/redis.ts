// Redis: password required (in redis.conf, 0600), no persistence; a dead one is simply started again.
import { probeRedis } from '../../../health/index.js';
import type { RedisComponent } from '../../model/types.js';
import { componentsOf } from '../../model/validate.js';
import { generatePassword, type ComponentState } from '../home.js';
import { isAlive, stopProcess } from '../proc.js';
import { startRedis, writeRedisConfig } from '../redis.js';
import { makeOwnedDir } from '../spawn.js';
import { allPorts, labelOf, mainProcesses, startWithPortRetry, waitListening } from './context.js';
import type { ComponentDriver } from './types.js';
import { redisUrl } from '../../model/urls.js';

const stop = async (c: ComponentState) => (c.process ? stopProcess(c.process, 'SIGTERM', 1500) : []);

export const redisDriver: ComponentDriver<RedisComponent> = {
  kind: 'redis',
  binaries: ['redis-server'],
  select: (lab) => componentsOf(lab, 'redis'),
  async plan(p, cache) {
    const host = p.host();
    return [{ id: cache.id, kind: 'redis', host, port: await p.port(host), dataDir: p.dir(cache.id), logFile: p.logFile(cache.id) }];
  },
  secrets: () => ({ redis: { password: generatePassword() } }),
  async ensure(ctx, c) {
    if (c.process && isAlive(c.process)) return 'running';
    const restart = c.process !== undefined;
    if (c.process) await stopProcess(c.process, 'SIGKILL', 500);
    makeOwnedDir(c.dataDir, ctx.runAs);
    await startWithPortRetry(
      ctx,
      c,
      async () => {
        const config = writeRedisConfig(c, ctx.runAs, ctx.secrets.redis!.password);
        const record = startRedis(c, ctx.runAs, config);
        c.process = record;
        ctx.save();
        await waitListening(ctx, c, record);
      },
      () => stop(c),
    );
    return restart ? 'restarted' : 'started';
  },
  async probe(c, env, policy) {
    return [await probeRedis(labelOf(c), { host: c.host, port: c.port, password: env.secrets.redis!.password }, policy)];
  },
  processes: mainProcesses,
  ports: allPorts,
  stop,
  url: (c) => redisUrl({ host: c.host, port: c.port }),
  secretUrl: (c, s) => redisUrl({ host: c.host, port: c.port, password: s.redis!.password }),
};
