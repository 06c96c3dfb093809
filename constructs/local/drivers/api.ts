// The starter API, one ComponentState per instance (`api` alone, or api-1..api-3), each on its
// own port, wired to the postgres, redis and rabbitmq its LabSpec `uses`.
import { probeApi } from '../../../health/index.js';
import type { ServiceComponent } from '../../model/types.js';
import { componentsOf } from '../../model/validate.js';
import { startApi, uploadsDir } from '../api.js';
import { generatePassword, type ComponentState } from '../home.js';
import { isAlive, stopProcess } from '../proc.js';
import { makeOwnedDir } from '../spawn.js';
import { allPorts, instanceName, labelOf, mainProcesses, startWithPortRetry, waitListening } from './context.js';
import { postgresDriver } from './postgres.js';
import { rabbitmqDriver } from './rabbitmq.js';
import { redisDriver } from './redis.js';
import type { ComponentDriver } from './types.js';

/** SIGTERM: the API stops accepting, finishes in-flight requests and exits within 1.8 s. */
const stop = async (c: ComponentState) => (c.process ? stopProcess(c.process, 'SIGTERM', 2000) : []);

export const apiDriver: ComponentDriver<ServiceComponent> = {
  kind: 'api',
  binaries: [],
  // The API connects to RabbitMQ at its first job: it starts in parallel with the broker's ~4 s boot.
  lazy: ['rabbitmq'],
  select: (lab) => componentsOf(lab, 'service').filter((svc) => svc.program === 'api'),
  async plan(p, svc) {
    const planned: ComponentState[] = [];
    for (let n = 1; n <= svc.instances; n++) {
      // A single instance keeps the LabSpec id (`api`); several are api-1..api-N, each on its own port.
      const id = svc.instances === 1 ? svc.id : `${svc.id}-${n}`;
      const host = p.host();
      planned.push({ id, kind: 'api', group: svc.id, instance: n, uses: svc.uses, host, port: await p.port(host), dataDir: p.dir(id), logFile: p.logFile(id) });
    }
    return planned;
  },
  secrets: () => ({ api: { jwtSecret: generatePassword(32), probeEmail: 'labforge-health@example.com', probePassword: generatePassword(18) } }),
  async ensure(ctx, c) {
    if (c.process && isAlive(c.process)) return 'running';
    const restart = c.process !== undefined;
    if (c.process) await stopProcess(c.process, 'SIGKILL', 500);
    makeOwnedDir(c.dataDir, ctx.runAs);
    makeOwnedDir(uploadsDir(c), ctx.runAs);
    const db = ctx.needs(c, 'postgres');
    const cache = ctx.used(c, 'redis');
    const mq = ctx.used(c, 'rabbitmq');
    await startWithPortRetry(
      ctx,
      c,
      async () => {
        const record = startApi(c, ctx.runAs, {
          databaseUrl: postgresDriver.secretUrl!(db, ctx.secrets),
          redisUrl: cache && redisDriver.secretUrl!(cache, ctx.secrets),
          amqpUrl: mq && rabbitmqDriver.secretUrl!(mq, ctx.secrets),
          jwtSecret: ctx.secrets.api!.jwtSecret,
          instance: instanceName(c),
        });
        c.process = record;
        ctx.save();
        await waitListening(ctx, c, record);
      },
      () => stop(c),
    );
    return restart ? 'restarted' : 'started';
  },
  async probe(c, env, policy) {
    const { probeEmail, probePassword } = env.secrets.api!;
    return [await probeApi(labelOf(c), { baseUrl: apiDriver.url(c), probeEmail, probePassword }, policy)];
  },
  processes: mainProcesses,
  ports: allPorts,
  stop,
  url: (c) => `http://${c.host}:${c.port}`,
};
