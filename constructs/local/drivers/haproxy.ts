// HAProxy in front of a service's instances (round robin, health-checked backends). Its check:
// plain HTTP through it reaches every instance, each reply naming its instance (X-Instance).
import { probeBalancer } from '../../../health/index.js';
import type { LoadBalancerComponent } from '../../model/types.js';
import { componentsOf } from '../../model/validate.js';
import type { ComponentState } from '../home.js';
import { startHaproxy, stopHaproxy, waitHaproxyReady, type HaproxyProps } from '../haproxy.js';
import { isAlive, stopProcess } from '../proc.js';
import { allPorts, instanceName, labelOf, mainProcesses, startWithPortRetry, type RunContext } from './context.js';
import type { ComponentDriver } from './types.js';
import { httpUrl } from '../../model/urls.js';

/** The instances a load balancer spreads over: every component of the group it `uses`. */
function backendsOf(c: ComponentState, components: readonly ComponentState[]): ComponentState[] {
  return components.filter((o) => o.kind === 'api' && (c.uses ?? []).includes(o.group ?? o.id));
}

function props(ctx: RunContext, c: ComponentState): HaproxyProps {
  return {
    id: c.id,
    dir: c.dataDir,
    logFile: c.logFile,
    host: c.host,
    port: c.port,
    backends: backendsOf(c, ctx.state.components).map((b) => ({ name: instanceName(b), host: b.host, port: b.port })),
  };
}

const stop = async (c: ComponentState) => (c.process ? stopHaproxy(c.process) : []);

export const haproxyDriver: ComponentDriver<LoadBalancerComponent> = {
  kind: 'haproxy',
  binaries: ['haproxy'],
  select: (lab) => componentsOf(lab, 'load-balancer'),
  async plan(p, lb) {
    if (p.regions > 1) {
      // Expert: one per region, over that region's instances (lb-r0 over api-r0-1..n).
      const planned: ComponentState[] = [];
      for (let r = 0; r < p.regions; r++) {
        const id = `${lb.id}-r${r}`;
        const host = p.host(r);
        planned.push({
          id,
          kind: 'haproxy',
          region: r,
          uses: [`${lb.target}-r${r}`],
          host,
          port: await p.port(host),
          dataDir: p.dir(id),
          logFile: p.logFile(id),
        });
      }
      return planned;
    }
    const host = p.host();
    return [
      { id: lb.id, kind: 'haproxy', uses: [lb.target], host, port: await p.port(host), dataDir: p.dir(lb.id), logFile: p.logFile(lb.id) },
    ];
  },
  async ensure(ctx, c) {
    if (c.process && isAlive(c.process)) return 'running';
    const restart = c.process !== undefined;
    if (c.process) await stopProcess(c.process, 'SIGKILL', 500);
    await startWithPortRetry(
      ctx,
      c,
      async () => {
        // The config is written at every start, from the backends' current ports.
        const p = props(ctx, c);
        const record = startHaproxy(p, ctx.runAs);
        c.process = record;
        ctx.save();
        await waitHaproxyReady(p, record, ctx.signal);
      },
      () => stop(c),
    );
    return restart ? 'restarted' : 'started';
  },
  async probe(c, env, policy) {
    const instances = backendsOf(c, env.components).map(instanceName);
    return [await probeBalancer(labelOf(c), { baseUrl: haproxyDriver.url(c), instances }, policy)];
  },
  processes: mainProcesses,
  ports: allPorts,
  stop,
  url: (c) => httpUrl({ host: c.host, port: c.port }),
};
