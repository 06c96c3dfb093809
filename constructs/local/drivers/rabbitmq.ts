// RabbitMQ: the node and its own epmd (a second process and two extra ports: `dist`, `epmd`),
// the learner user and vhost from a boot definitions file, ready when the learner can log in.
// With `up --rabbitmq-management`, a third extra port `management`: its presence in the state is
// what keeps the plugin on at every later start.
import { probeAmqp, probeRabbitManagement } from '../../../health/index.js';
import type { RabbitmqComponent } from '../../model/types.js';
import { componentsOf } from '../../model/validate.js';
import { generatePassword, type ComponentState, type LabSecrets } from '../home.js';
import { isAlive } from '../proc.js';
import {
  managementUrl,
  nodeName,
  startRabbitMq,
  stopRabbitMq,
  waitManagementReady,
  waitRabbitMqReady,
  type RabbitMqProps,
} from '../rabbitmq.js';
import { allPorts, elapsed, labelOf, mainProcesses, startWithPortRetry, type RunContext } from './context.js';
import type { ComponentDriver } from './types.js';
import { amqpUrl } from '../../model/urls.js';

/** Stop grace: a clean shutdown takes about 1 s; the data is deleted (down) or kept (repair) either way. */
const GRACE_MS = 1500;

function props(c: ComponentState, lab: string, secrets: LabSecrets): RabbitMqProps {
  const mq = secrets.rabbitmq!;
  return {
    id: c.id,
    lab,
    dir: c.dataDir,
    logFile: c.logFile,
    host: c.host,
    port: c.port,
    distPort: c.extraPorts!.dist!,
    epmdPort: c.extraPorts!.epmd!,
    user: mq.user,
    password: mq.password,
    vhost: mq.vhost,
    managementPort: c.extraPorts?.management,
  };
}

const stop = (c: ComponentState) => stopRabbitMq({ node: c.process, epmd: c.helpers?.epmd }, GRACE_MS);

async function ensure(ctx: RunContext, c: ComponentState) {
  const epmd = c.helpers?.epmd;
  if (c.process && isAlive(c.process) && epmd && isAlive(epmd)) return 'running' as const;
  const restart = c.process !== undefined;
  // Half of it running (epmd without its node, or the reverse): start both afresh.
  await stop(c);
  c.process = undefined;
  c.helpers = undefined;
  ctx.save();
  await startWithPortRetry(
    ctx,
    c,
    async () => {
      const p = props(c, ctx.state.name, ctx.secrets);
      const procs = await startRabbitMq(p, ctx.runAs, ctx.signal);
      c.process = procs.node;
      c.helpers = { epmd: procs.epmd };
      ctx.save();
      const t = performance.now();
      await waitRabbitMqReady(p, procs, ctx.signal);
      ctx.phase(c.id, `AMQP login ${elapsed(t)}`);
      if (p.managementPort) {
        await waitManagementReady(p, procs, ctx.signal);
        ctx.phase(c.id, `management API ${elapsed(t)}`);
      }
    },
    () => stop(c),
  );
  return restart ? ('restarted' as const) : ('started' as const);
}

export const rabbitmqDriver: ComponentDriver<RabbitmqComponent> = {
  kind: 'rabbitmq',
  binaries: ['rabbitmq-server', 'epmd'],
  select: (lab) => componentsOf(lab, 'rabbitmq'),
  async plan(p, mq) {
    const host = p.host();
    return [
      {
        id: mq.id,
        kind: 'rabbitmq',
        host,
        port: await p.port(host),
        extraPorts: {
          dist: await p.port(host),
          epmd: await p.port(host),
          ...(p.rabbitmqManagement ? { management: await p.port(host) } : {}),
        },
        dataDir: p.dir(mq.id),
        logFile: p.logFile(mq.id),
        user: mq.user,
        vhost: mq.vhost,
      },
    ];
  },
  secrets: (planned) => ({
    rabbitmq: { user: planned[0]?.user ?? 'learner', password: generatePassword(), vhost: planned[0]?.vhost ?? 'lab' },
  }),
  ensure,
  async probe(c, env, policy) {
    const mq = env.secrets.rabbitmq!;
    const management = c.extraPorts?.management;
    return Promise.all([
      probeAmqp(labelOf(c), { host: c.host, port: c.port, user: mq.user, password: mq.password, vhost: mq.vhost }, policy),
      ...(management
        ? [
            probeRabbitManagement(
              `${c.id} (rabbitmq management)`,
              {
                baseUrl: managementUrl(c.host, management),
                user: mq.user,
                password: mq.password,
                vhost: mq.vhost,
                node: nodeName(env.lab),
              },
              policy,
            ),
          ]
        : []),
    ]);
  },
  processes: mainProcesses,
  ports: allPorts,
  stop,
  url: (c) => amqpUrl({ host: c.host, port: c.port, user: c.user ?? 'learner', vhost: c.vhost ?? 'lab' }),
  secretUrl: (c, s) => amqpUrl({ ...s.rabbitmq!, host: c.host, port: c.port }),
  links: (c) => (c.extraPorts?.management ? [{ name: 'management', url: `${managementUrl(c.host, c.extraPorts.management)}/` }] : []),
};
