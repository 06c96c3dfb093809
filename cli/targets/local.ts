// The local target in the CLI: `up` runs the lab as processes here and prints how to connect;
// status rows are processes; the receipt proves processes, ports and directories gone.
import { UsageError } from '../../constructs/model/errors.js';
import { expiryAfter } from '../../constructs/model/deployment.js';
import { componentsOf } from '../../constructs/model/validate.js';
import type { LabStatus, TeardownReceipt } from '../../constructs/local/lab.js';
import { allLabs } from '../../labs/index.js';
import { EXIT_FAILURE, EXIT_INTERRUPTED } from '../errors.js';
import { print, printExercises, printJson, progress, table } from '../output.js';
import type { TargetCli, UpRequest } from './types.js';

async function up({ lab, name, options }: UpRequest): Promise<void> {
  const { parseLatency, parseRegionCount } = await import('../../constructs/local/expert.js');
  const multiRegion = lab.regions.min >= 2;
  for (const [flag, value] of [
    ['--regions', options.regions],
    ['--latency-ms', options['latency-ms']],
  ] as const) {
    if (value !== undefined && !multiRegion)
      throw new UsageError(`${flag} applies to the expert lab only (it has regions), not to ${lab.level}`);
  }
  if (options['rabbitmq-management'] && componentsOf(lab, 'rabbitmq').length === 0) {
    const withMq = allLabs()
      .filter((l) => componentsOf(l, 'rabbitmq').length > 0)
      .map((l) => l.level);
    throw new UsageError(`--rabbitmq-management applies to labs with RabbitMQ (${withMq.join(', ')}), not to ${lab.level}`);
  }
  const regions = options.regions === undefined ? undefined : parseRegionCount(options.regions);
  const latencyMs = options['latency-ms'] === undefined ? undefined : parseLatency(options['latency-ms']);
  const expiresAt = options.ttl === undefined ? undefined : expiryAfter(options.ttl);
  const { labforgeHome } = await import('../../constructs/local/home.js');
  const { upLab, InterruptedError } = await import('../../constructs/local/lab.js');

  // Ctrl-C / SIGTERM: abort, let `up` stop what it started, then exit 130. A second Ctrl-C quits at once.
  const controller = new AbortController();
  let signals = 0;
  const onSignal = () => {
    signals += 1;
    if (signals === 1) {
      progress('stopping: undoing what this `up` started (Ctrl-C again to quit at once)');
      controller.abort();
    } else {
      progress(`quit: run \`labforge down ${name}\` to remove what is left`);
      process.exit(EXIT_INTERRUPTED);
    }
  };
  const caught: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of caught) process.on(s, onSignal);
  let result;
  try {
    result = await upLab({
      name,
      lab,
      home: labforgeHome(),
      signal: controller.signal,
      progress,
      regions,
      latencyMs,
      rabbitmqManagement: options['rabbitmq-management'],
      expiresAt,
    });
  } catch (error) {
    if (!(error instanceof InterruptedError)) throw error;
    progress(`labforge: ${error.message}`);
    process.exitCode = EXIT_INTERRUPTED;
    return;
  } finally {
    for (const s of caught) process.off(s, onSignal);
  }

  const healthy = result.health.every((h) => h.ok);
  if (!healthy) process.exitCode = EXIT_FAILURE;
  if (options.json) {
    return printJson({
      ...result,
      target: 'local',
      secrets: `labforge secrets ${name}`,
      exercises: lab.exercises.map((e) => ({ id: e.id, title: e.title, steps: e.steps })),
    });
  }
  const passed = result.health.filter((h) => h.ok).length;
  const verb = result.alreadyUp ? 'was already up' : result.created ? 'is up' : 'is up again (repaired)';
  print(`Lab '${name}' (${lab.title}) ${verb} in ${result.seconds}s; ${passed}/${result.health.length} health checks pass.`);
  for (const h of result.health.filter((x) => !x.ok)) print(`  FAILED ${h.name}: ${h.detail}`);
  print();
  const lb = result.components.find((c) => c.kind === 'haproxy');
  if (lb) {
    const apis = result.components.filter((c) => c.kind === 'api').map((c) => c.id);
    print(`Entry point: ${lb.url}  (${lb.id}, round robin over ${apis.join(', ')}; each reply names its instance in X-Instance)`);
    print();
  }
  const links = result.components.flatMap((c) => (c.links ?? []).map((l) => ({ ...l, c })));
  for (const { name: what, url, c } of links) {
    print(`${c.id} (${c.kind}) ${what}: ${url}  (log in as ${c.user ?? 'learner'}, \`labforge secrets ${name}\` prints the password)`);
  }
  if (links.length > 0) print();
  const address = (c: (typeof result.components)[number]) => (c.port > 0 ? `${c.host}:${c.port}` : '-');
  const extra = (c: (typeof result.components)[number]) => c.ports.filter((p) => p.name !== 'port').map((p) => `${p.name} ${p.port}`);
  print(
    table([
      ['COMPONENT', 'KIND', 'ADDRESS', 'USER', 'CONNECT'],
      ...result.components.map((c) => [
        c.id,
        c.kind,
        [address(c), ...extra(c)].join(', '),
        c.user ?? (c.kind === 'redis' ? 'default' : '-'),
        c.kind === 'worker' ? 'consumes jobs from RabbitMQ (no port)' : c.url,
      ]),
    ]),
  );
  print();
  print(`Passwords are generated per lab and not shown here: \`labforge secrets ${name}\` prints them.`);
  print(`Servers run as '${result.runAs.user}' on 127.0.0.1 only; data and logs in ${result.dir}`);
  print(`Check: labforge health ${name}    Status: labforge status ${name}    Remove: labforge down ${name}`);
  print();
  printExercises(lab, `Exercises (the guide: \`labforge guide ${name}\`; your progress: \`labforge check ${name}\`):`);
}

function printStatus(labs: readonly LabStatus[]): void {
  print(
    table([
      ['LAB', 'LEVEL', 'COMPONENT', 'KIND', 'PROCESS', 'PID', 'ADDRESS', 'STATE'],
      // One row per process: RabbitMQ shows its node and its own epmd.
      ...labs.flatMap((l) =>
        l.components.flatMap((c) => {
          // The server's row also lists the extra ports no helper process owns (RabbitMQ: dist, management).
          const own = (name: string) =>
            c.ports.filter((p) => (name === 'server' ? p.name === 'port' || !c.processes.some((x) => x.name === p.name) : p.name === name));
          const address = (name: string) =>
            own(name)
              .map((p) => (p.name === 'port' || p.name === name ? `${p.host}:${p.port}` : `${p.name} ${p.port}`))
              .join(', ') || '-';
          if (c.processes.length === 0)
            return [[l.name, l.level, c.id, c.kind, '-', '-', c.port > 0 ? `${c.host}:${c.port}` : '-', c.state]];
          return c.processes.map((p) => [
            l.name,
            l.level,
            c.id,
            c.kind,
            p.name,
            String(p.pid),
            address(p.name),
            p.name === 'server' ? c.state : p.alive ? 'running' : 'exited',
          ]);
        }),
      ),
    ]),
  );
}

function printReceipt(r: TeardownReceipt): void {
  print(`Teardown receipt for lab '${r.lab}' (${r.seconds}s): ${r.ok ? 'nothing left' : 'SOMETHING IS LEFT'}`);
  const what = (component: string, name: string, main: string) => (name === main ? component : `${component} ${name}`).padEnd(12);
  for (const p of r.processes)
    print(
      `  process  ${what(p.component, p.name, 'server')} pid ${String(p.pid).padEnd(7)} ${p.gone ? 'gone' : `STILL RUNNING (${p.left.join(', ')})`}`,
    );
  for (const p of r.ports)
    print(`  port     ${what(p.component, p.name, 'port')} ${`${p.host}:${p.port}`.padEnd(16)} ${p.free ? 'free' : 'STILL IN USE'}`);
  for (const s of r.strays)
    print(`  process  ${s.command.padEnd(12)} pid ${String(s.pid).padEnd(7)} STILL RUNNING inside the lab directory`);
  for (const d of r.directories) print(`  dir      ${d.path} ${d.removed ? 'removed' : 'STILL THERE'}`);
  for (const l of r.leftovers) process.stderr.write(`labforge: lab '${r.lab}': ${l}\n`);
}

export const localCli: TargetCli<LabStatus, TeardownReceipt> = {
  runtime: async () => (await import('../../constructs/local/runtime.js')).localRuntime,
  up,
  printStatus,
  printReceipt,
};
