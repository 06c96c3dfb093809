// `labforge up <level> --target k8s`: apply the lab to a kube context, wait for the rollout, run
// the health checks through the Kubernetes API, print how to reach the lab.
import { parseDuration } from '../../constructs/model/options.js';
import { resolveDeployment } from '../../constructs/model/deployment.js';
import type { LabSpec } from '../../constructs/model/types.js';
import { EXIT_FAILURE, EXIT_INTERRUPTED } from '../errors.js';
import { print, printJson, progress, table } from '../output.js';

export interface K8sUpArgs {
  readonly lab: LabSpec;
  readonly name: string;
  readonly context?: string;
  readonly timeout?: string;
  readonly json?: boolean;
}

const DEFAULT_TIMEOUT_MS = 5 * 60_000;

/** `90s`, `5m`: 1 s to 1 h. */
export function parseRolloutTimeout(value: string | undefined): number {
  return value === undefined ? DEFAULT_TIMEOUT_MS : parseDuration('--timeout', value);
}

export async function upOnKubernetes(args: K8sUpArgs): Promise<void> {
  const timeoutMs = parseRolloutTimeout(args.timeout);
  const deployment = resolveDeployment(args.lab, { name: args.name });
  const { labforgeHome } = await import('../../constructs/model/home.js');
  const { upK8sLab } = await import('../../constructs/k8s/lab.js');

  const controller = new AbortController();
  const onSignal = () => {
    progress(`stopping: what was applied stays until \`labforge down ${args.name}\``);
    controller.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let result;
  try {
    result = await upK8sLab({ deployment, home: labforgeHome(), context: args.context, timeoutMs, signal: controller.signal, progress });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (controller.signal.aborted) {
    progress(`labforge: interrupted; \`labforge down ${args.name}\` removes what was applied`);
    process.exitCode = EXIT_INTERRUPTED;
    return;
  }
  const healthy = result.rolledOut && result.health.every((h) => h.ok);
  if (!healthy) process.exitCode = EXIT_FAILURE;
  if (args.json) return printJson({ ...result, target: 'k8s', secrets: `labforge secrets ${args.name}` });

  const passed = result.health.filter((h) => h.ok).length;
  print(`Lab '${args.name}' (${args.lab.title}) on ${result.context}, namespace ${result.namespace}: ${passed}/${result.health.length} health checks pass (${result.seconds}s).`);
  if (!result.rolledOut) print(`  The rollout did not finish: see the NOT READY lines above; \`labforge down ${args.name}\` removes the lab.`);
  print(table([['CHECK', 'RESULT', 'DETAIL'], ...result.health.map((h) => [h.name, h.ok ? 'ok' : 'FAILED', h.detail])]));
  print();
  // One local port per Service (expert has an API per region), from the service's own port up.
  result.services.forEach((s, i) => {
    const local = s.port + i;
    print(`${s.name}: kubectl --context ${result.context} -n ${result.namespace} port-forward svc/${s.name} ${local}:${s.port}   then http://127.0.0.1:${local}/`);
  });
  print(`Passwords are generated per lab and kept in the lab Secret: \`labforge secrets ${args.name}\` prints them.`);
  print(`Check: labforge health ${args.name}    Status: labforge status ${args.name}    Remove: labforge down ${args.name}`);
  print();
  print('Exercises:');
  args.lab.exercises.forEach((e, i) => {
    print(`  ${i + 1}. ${e.title} (${e.id})`);
    for (const step of e.steps) print(`     - ${step}`);
  });
}
