// The k8s target in the CLI: `up` applies the lab to a kube context, waits for the rollout, runs
// the health checks through the Kubernetes API and prints how to reach the lab.
import { resolveDeployment } from '../../constructs/model/deployment.js';
import { parseDuration } from '../../constructs/model/options.js';
import { httpUrl } from '../../constructs/model/urls.js';
import type { K8sLabStatus, K8sTeardownReceipt } from '../../constructs/k8s/runtime.js';
import { EXIT_FAILURE, EXIT_INTERRUPTED } from '../errors.js';
import { print, printExercises, printJson, progress, table } from '../output.js';
import type { TargetCli, UpRequest } from './types.js';

const DEFAULT_TIMEOUT_MS = 5 * 60_000;

/** `90s`, `5m`: 1 s to 1 h. */
function parseRolloutTimeout(value: string | undefined): number {
  return value === undefined ? DEFAULT_TIMEOUT_MS : parseDuration('--timeout', value);
}

async function up({ lab, name, options }: UpRequest): Promise<void> {
  const timeoutMs = parseRolloutTimeout(options.timeout);
  const deployment = resolveDeployment(lab, { name });
  const { labforgeHome } = await import('../../constructs/model/home.js');
  const { upK8sLab } = await import('../../constructs/k8s/lab.js');

  const controller = new AbortController();
  const onSignal = () => {
    progress(`stopping: what was applied stays until \`labforge down ${name}\``);
    controller.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let result;
  try {
    result = await upK8sLab({ deployment, home: labforgeHome(), context: options.context, timeoutMs, signal: controller.signal, progress });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (controller.signal.aborted) {
    progress(`labforge: interrupted; \`labforge down ${name}\` removes what was applied`);
    process.exitCode = EXIT_INTERRUPTED;
    return;
  }
  const healthy = result.rolledOut && result.health.every((h) => h.ok);
  if (!healthy) process.exitCode = EXIT_FAILURE;
  if (options.json) return printJson({ ...result, target: 'k8s', secrets: `labforge secrets ${name}` });

  const passed = result.health.filter((h) => h.ok).length;
  print(
    `Lab '${name}' (${lab.title}) on ${result.context}, namespace ${result.namespace}: ${passed}/${result.health.length} health checks pass (${result.seconds}s).`,
  );
  if (!result.rolledOut) print(`  The rollout did not finish: see the NOT READY lines above; \`labforge down ${name}\` removes the lab.`);
  print(table([['CHECK', 'RESULT', 'DETAIL'], ...result.health.map((h) => [h.name, h.ok ? 'ok' : 'FAILED', h.detail])]));
  print();
  // One local port per Service (expert has an API per region), from the service's own port up.
  result.services.forEach((s, i) => {
    const local = s.port + i;
    print(
      `${s.name}: kubectl --context ${result.context} -n ${result.namespace} port-forward svc/${s.name} ${local}:${s.port}   then ${httpUrl({ host: '127.0.0.1', port: local, path: '/' })}`,
    );
  });
  print(`Passwords are generated per lab and kept in the lab Secret: \`labforge secrets ${name}\` prints them.`);
  print(`Check: labforge health ${name}    Status: labforge status ${name}    Remove: labforge down ${name}`);
  print();
  printExercises(lab, 'Exercises:');
}

function printStatus(labs: readonly K8sLabStatus[]): void {
  const rows = labs.flatMap((l) =>
    l.error
      ? [[l.name, l.level, l.context, l.namespace, '-', '-', '-', `unreachable: ${l.error}`]]
      : l.components.map((c) => [l.name, l.level, l.context, l.namespace, c.component, c.kind, c.address, c.state]),
  );
  print(table([['LAB', 'LEVEL', 'CONTEXT', 'NAMESPACE', 'COMPONENT', 'KIND', 'ADDRESS', 'STATE'], ...rows]));
}

function printReceipt(r: K8sTeardownReceipt): void {
  print(`Teardown receipt for lab '${r.lab}' on ${r.context} (${r.seconds}s): ${r.ok ? 'nothing left' : 'SOMETHING IS LEFT'}`);
  print(`  namespace ${r.namespace.name.padEnd(24)} ${r.namespace.removed ? 'deleted' : 'STILL THERE'}`);
  for (const k of r.kinds)
    print(`  ${k.kind.padEnd(24)} ${k.left.length === 0 ? `none labelled labforge.dev/lab=${r.lab}` : `LEFT: ${k.left.join(', ')}`}`);
  print(`  dir       ${r.directory.path} ${r.directory.removed ? 'removed' : 'STILL THERE (kept: run down again)'}`);
  for (const l of r.leftovers) process.stderr.write(`labforge: lab '${r.lab}': ${l}\n`);
}

export const k8sCli: TargetCli<K8sLabStatus, K8sTeardownReceipt> = {
  runtime: async () => (await import('../../constructs/k8s/runtime.js')).k8sRuntime,
  up,
  printStatus,
  printReceipt,
};
