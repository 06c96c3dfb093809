// The queue worker: no port; ready when RabbitMQ counts it as a consumer of `jobs`. Its health
// check is a job done end to end: API (through the load balancer when there is one) -> RabbitMQ
// -> worker -> PostgreSQL -> GET /jobs/:id answers done.
import { request } from 'node:http';
import { probeJobs } from '../../../health/index.js';
import type { ServiceComponent } from '../../model/types.js';
import { componentsOf } from '../../model/validate.js';
import type { ComponentState, LabSecrets } from '../home.js';
import { isAlive, stopProcess } from '../proc.js';
import { startWorker, stopWorker, waitWorkerReady, type WorkerProps } from '../worker.js';
import { allPorts, elapsed, instanceName, labelOf, mainProcesses, type RunContext } from './context.js';
import { apiDriver } from './api.js';
import { postgresDriver } from './postgres.js';
import { rabbitmqDriver } from './rabbitmq.js';
import type { ComponentDriver } from './types.js';
import { httpUrl } from '../../model/urls.js';

function props(ctx: RunContext, c: ComponentState): WorkerProps {
  return {
    id: c.id,
    dir: c.dataDir,
    logFile: c.logFile,
    amqpUrl: rabbitmqDriver.secretUrl!(ctx.needs(c, 'rabbitmq'), ctx.secrets),
    databaseUrl: postgresDriver.secretUrl!(ctx.needs(c, 'postgres'), ctx.secrets),
    instance: instanceName(c),
  };
}

/** Registers the probe account (201, or 409 when it exists): the job probe logs in with it. */
function ensureAccount(baseUrl: string, secrets: LabSecrets): Promise<void> {
  const body = JSON.stringify({ email: secrets.api!.probeEmail, password: secrets.api!.probePassword });
  return new Promise((resolve) => {
    const req = request(
      `${baseUrl}/auth/register`,
      {
        method: 'POST',
        agent: false,
        timeout: 2000,
        headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), connection: 'close' },
      },
      (res) => (res.resume(), res.on('end', () => resolve())),
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve()); // the probe that follows reports the failure
    req.end(body);
  });
}

/** Where jobs are posted: the load balancer (the learner's entry point), else the first API instance. */
function entryPoint(components: readonly ComponentState[]): string | undefined {
  const lb = components.find((o) => o.kind === 'haproxy');
  if (lb) return httpUrl({ host: lb.host, port: lb.port });
  const api = components.find((o) => o.kind === 'api');
  return api && apiDriver.url(api);
}

export const workerDriver: ComponentDriver<ServiceComponent> = {
  kind: 'worker',
  binaries: [],
  select: (lab) => componentsOf(lab, 'service').filter((svc) => svc.program === 'worker'),
  async plan(p, svc) {
    return [
      {
        id: svc.id,
        kind: 'worker',
        group: svc.id,
        instance: 1,
        uses: svc.uses,
        host: p.host(),
        port: 0,
        dataDir: p.dir(svc.id),
        logFile: p.logFile(svc.id),
      },
    ];
  },
  async ensure(ctx, c) {
    if (c.process && isAlive(c.process)) return 'running';
    const restart = c.process !== undefined;
    if (c.process) await stopProcess(c.process, 'SIGKILL', 500);
    const p = props(ctx, c);
    const record = startWorker(p, ctx.runAs);
    c.process = record;
    ctx.save();
    const t = performance.now();
    await waitWorkerReady(p, record, ctx.signal);
    ctx.phase(c.id, `consuming ${elapsed(t)}`);
    return restart ? 'restarted' : 'started';
  },
  async probe(c, env, policy) {
    const baseUrl = entryPoint(env.components);
    if (!baseUrl) return [{ name: labelOf(c), ok: false, detail: 'no API in this lab to post a job through', ms: 0, attempts: 0 }];
    await ensureAccount(baseUrl, env.secrets);
    return [await probeJobs(labelOf(c), { baseUrl, email: env.secrets.api!.probeEmail, password: env.secrets.api!.probePassword }, policy)];
  },
  processes: mainProcesses,
  ports: allPorts,
  stop: async (c) => (c.process ? stopWorker(c.process) : []),
  url: () => '-',
};
