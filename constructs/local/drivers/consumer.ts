// The event consumer (expert): templates/consumer/consumer.mjs as a consumer group in the
// consumer region, reading the API's domain events through that region's Kafka links and
// recording each one in seen.jsonl. Its check is a real cross-region round trip.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { probeEventFlow } from '../../../health/events.js';
import { ExternalError } from '../../model/errors.js';
import { templatePath } from '../../model/paths.js';
import type { KafkaComponent } from '../../model/types.js';
import { componentsOf } from '../../model/validate.js';
import { CONSUMER_REGION, EVENTS_TOPIC, kafkaBootstrapFrom } from '../expert.js';
import type { ComponentState } from '../home.js';
import { isAlive, stopProcess } from '../proc.js';
import { lastLines, makeOwnedDir, serviceEnv, spawnService, throwIfAborted } from '../spawn.js';
import { mainProcesses, type RunContext } from './context.js';
import type { ComponentDriver } from './types.js';

export const seenFile = (c: ComponentState) => join(c.dataDir, 'seen.jsonl');
const stateFile = (c: ComponentState) => join(c.dataDir, 'state.json');

function kafkaOf(all: readonly ComponentState[], c: ComponentState): ComponentState {
  const kafka = all.find((o) => o.kind === 'kafka' && (c.uses ?? []).includes(o.id));
  if (!kafka) throw new ExternalError(`${c.id}: the lab has no Kafka component it uses`);
  return kafka;
}

/** Waits until the consumer wrote `consuming` (it joined its group and was given partitions to read). */
async function waitConsuming(ctx: RunContext, c: ComponentState, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    throwIfAborted(ctx.signal);
    if (!isAlive(c.process!))
      throw new ExternalError(`${c.id} (consumer) exited while starting: ${lastLines(c.logFile, 3)}`, `see ${c.logFile}`);
    try {
      const st = JSON.parse(readFileSync(stateFile(c), 'utf8')) as { state: string; pid: number };
      if (st.pid === c.process!.pid && st.state === 'consuming') return;
    } catch {
      /* not written yet */
    }
    if (Date.now() > deadline) throw new ExternalError(`${c.id} (consumer) not consuming after ${timeoutMs} ms`, `see ${c.logFile}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export const consumerDriver: ComponentDriver<KafkaComponent> = {
  kind: 'consumer',
  binaries: [],
  select: (lab) => (lab.regions.min >= 2 ? componentsOf(lab, 'kafka') : []),
  async plan(p, kafka) {
    const region = Math.min(CONSUMER_REGION, p.regions - 1);
    const id = `consumer-r${region}`;
    return [
      {
        id,
        kind: 'consumer',
        region,
        host: p.host(region),
        port: 0,
        topics: [EVENTS_TOPIC],
        uses: [kafka.id, `link-r${region}-${kafka.id}`],
        dataDir: p.dir(id),
        logFile: p.logFile(id),
      },
    ];
  },
  async ensure(ctx, c) {
    if (c.process && isAlive(c.process)) return 'running';
    const restart = c.process !== undefined;
    if (c.process) await stopProcess(c.process, 'SIGKILL', 500);
    const script = templatePath('consumer', 'consumer.mjs');
    if (!existsSync(script))
      throw new ExternalError(`the consumer is missing: ${script}`, 'reinstall labforge (the file ships in templates/consumer/)');
    makeOwnedDir(c.dataDir, ctx.runAs, 0o755);
    const kafka = kafkaOf(ctx.state.components, c);
    c.process = spawnService({
      command: process.execPath,
      args: [script],
      cwd: c.dataDir,
      logFile: c.logFile,
      env: serviceEnv(ctx.runAs, {
        NODE_ENV: 'production',
        KAFKA_BROKERS: kafkaBootstrapFrom(ctx.state.components, kafka, c.region!).join(','),
        KAFKA_TOPICS: (c.topics ?? [EVENTS_TOPIC]).join(','),
        GROUP_ID: `notes-read-model-r${c.region}`,
        SEEN_FILE: seenFile(c),
        STATE_FILE: stateFile(c),
        INSTANCE_NAME: c.id,
      }),
      runAs: ctx.runAs,
    });
    ctx.save();
    await waitConsuming(ctx, c);
    return restart ? 'restarted' : 'started';
  },
  async probe(c, env, policy) {
    const kafka = kafkaOf(env.components, c);
    const bootstrap = kafkaBootstrapFrom(env.components, kafka, kafka.region ?? 0);
    const path = `produced in region ${kafka.region ?? 0}, consumed by ${c.id} in region ${c.region}`;
    return [
      await probeEventFlow(
        `${c.id} (consumer)`,
        { bootstrap, topic: (c.topics ?? [EVENTS_TOPIC])[0]!, seenFile: seenFile(c), consumeTimeoutMs: 5000, path },
        policy,
      ),
    ];
  },
  processes: mainProcesses,
  ports: () => [],
  stop: async (c) => (c.process ? stopProcess(c.process, 'SIGKILL', 1000) : []),
  url: (c) => `kafka consumer group notes-read-model-r${c.region} (no port)`,
};
