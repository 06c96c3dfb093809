// The pulumi target in the CLI: `up` writes the lab's Pulumi project into its directory, runs
// `pulumi up` on it and prints the stack's non-secret outputs as the connection info.
import { resolveDeployment } from '../../constructs/model/deployment.js';
import type { PulumiLabStatus, PulumiTeardownReceipt } from '../../constructs/pulumi/target.js';
import { EXIT_INTERRUPTED } from '../errors.js';
import { print, printExercises, printJson, progress, table } from '../output.js';
import type { TargetCli, UpRequest } from './types.js';

async function up({ lab, name, options }: UpRequest): Promise<void> {
  const deployment = resolveDeployment(lab, {
    name,
    regions: options.regions,
    allowCidr: options['allow-cidr'],
    owner: options.owner,
    ttl: options.ttl,
  });
  const { labforgeHome } = await import('../../constructs/model/home.js');
  const { upPulumiLab } = await import('../../constructs/pulumi/target.js');

  // Ctrl-C reaches pulumi too (same process group) and it cancels the update by itself; labforge
  // waits for it, then says how to remove what was created. Pulumi's own second Ctrl-C aborts.
  const controller = new AbortController();
  const onSignal = () => {
    if (!controller.signal.aborted)
      progress(`stopping: pulumi is cancelling the update; what was created stays until \`labforge down ${name}\``);
    controller.abort();
  };
  const caught: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of caught) process.on(s, onSignal);
  let result;
  try {
    result = await upPulumiLab({ deployment, home: labforgeHome(), progress, signal: controller.signal });
  } finally {
    for (const s of caught) process.off(s, onSignal);
  }
  if (result.interrupted) {
    progress(`labforge: interrupted; \`labforge down ${name}\` removes what was created`);
    process.exitCode = EXIT_INTERRUPTED;
    return;
  }
  if (options.json) return printJson({ ...result, target: 'pulumi', secrets: `labforge secrets ${name}` });

  print(`Lab '${name}' (${lab.title}) is up on AWS through Pulumi: stack ${result.stack} (${result.seconds}s).`);
  const value = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));
  print(
    table([
      ['OUTPUT', 'VALUE'],
      ...Object.entries(result.outputs).map(([k, v]) => [k, value(v)]),
      ...result.secretOutputs.map((k) => [k, `(secret: \`labforge secrets ${name}\` prints it)`]),
    ]),
  );
  print();
  print(`Project: ${result.projectDir}    Backend: ${result.backend}`);
  print(`Health checks need the cloud: labforge does not probe AWS (\`labforge health ${name}\` says so).`);
  print(`Secrets: labforge secrets ${name}    Status: labforge status ${name}    Remove: labforge down ${name}`);
  print();
  printExercises(lab, 'Exercises:');
}

function printStatus(labs: readonly PulumiLabStatus[]): void {
  print(
    table([
      ['LAB', 'LEVEL', 'TARGET', 'STACK', 'BACKEND', 'STATE'],
      ...labs.map((l) => [l.name, l.level, l.target, l.stack, l.backend, l.state]),
    ]),
  );
}

function printReceipt(r: PulumiTeardownReceipt): void {
  print(`Teardown receipt for lab '${r.lab}' (pulumi stack ${r.stack}, ${r.seconds}s): ${r.ok ? 'nothing left' : 'SOMETHING IS LEFT'}`);
  if (!r.stackExisted) print(`  stack     ${r.stack.padEnd(24)} never created (up stopped before it): nothing to destroy`);
  else {
    print(
      `  resources ${r.resourcesLeft.length === 0 ? 'none left after destroy (pulumi stack export)' : `LEFT: ${r.resourcesLeft.join(', ')}`}`,
    );
    print(`  stack     ${r.stack.padEnd(24)} ${r.stackRemoved ? `removed from ${r.backend}` : 'STILL THERE'}`);
  }
  print(`  dir       ${r.directory.path} ${r.directory.removed ? 'removed' : 'STILL THERE (kept: run down again)'}`);
  for (const l of r.leftovers) process.stderr.write(`labforge: lab '${r.lab}': ${l}\n`);
}

export const pulumiCli: TargetCli<PulumiLabStatus, PulumiTeardownReceipt> = {
  runtime: async () => (await import('../../constructs/pulumi/runtime.js')).pulumiRuntime,
  up,
  printStatus,
  printReceipt,
};
