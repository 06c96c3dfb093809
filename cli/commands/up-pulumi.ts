// `labforge up <level> --target pulumi`: write the lab's Pulumi project into its directory, run
// `pulumi up` on it, print the stack's non-secret outputs as the connection info.
import { resolveDeployment } from '../../constructs/model/deployment.js';
import type { LabSpec } from '../../constructs/model/types.js';
import { EXIT_INTERRUPTED } from '../errors.js';
import { print, printJson, progress, table } from '../output.js';

export interface PulumiUpArgs {
  readonly lab: LabSpec;
  readonly name: string;
  readonly json?: boolean;
  /** Comma-separated AWS regions, allowed CIDR, owner tag, lifetime: as for `synth`. */
  readonly regions?: string;
  readonly allowCidr?: string;
  readonly owner?: string;
  readonly ttl?: string;
}

export async function upOnPulumi(args: PulumiUpArgs): Promise<void> {
  const deployment = resolveDeployment(args.lab, { name: args.name, regions: args.regions, allowCidr: args.allowCidr, owner: args.owner, ttl: args.ttl });
  const { labforgeHome } = await import('../../constructs/model/home.js');
  const { upPulumiLab } = await import('../../constructs/pulumi/target.js');

  // Ctrl-C reaches pulumi too (same process group) and it cancels the update by itself; labforge
  // waits for it, then says how to remove what was created. Pulumi's own second Ctrl-C aborts.
  const controller = new AbortController();
  const onSignal = () => {
    if (!controller.signal.aborted) progress(`stopping: pulumi is cancelling the update; what was created stays until \`labforge down ${args.name}\``);
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
    progress(`labforge: interrupted; \`labforge down ${args.name}\` removes what was created`);
    process.exitCode = EXIT_INTERRUPTED;
    return;
  }
  if (args.json) return printJson({ ...result, target: 'pulumi', secrets: `labforge secrets ${args.name}` });

  print(`Lab '${args.name}' (${args.lab.title}) is up on AWS through Pulumi: stack ${result.stack} (${result.seconds}s).`);
  const value = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));
  print(
    table([
      ['OUTPUT', 'VALUE'],
      ...Object.entries(result.outputs).map(([k, v]) => [k, value(v)]),
      ...result.secretOutputs.map((k) => [k, `(secret: \`labforge secrets ${args.name}\` prints it)`]),
    ]),
  );
  print();
  print(`Project: ${result.projectDir}    Backend: ${result.backend}`);
  print(`Health checks need the cloud: labforge does not probe AWS (\`labforge health ${args.name}\` says so).`);
  print(`Secrets: labforge secrets ${args.name}    Status: labforge status ${args.name}    Remove: labforge down ${args.name}`);
  print();
  print('Exercises:');
  args.lab.exercises.forEach((e, i) => {
    print(`  ${i + 1}. ${e.title} (${e.id})`);
    for (const step of e.steps) print(`     - ${step}`);
  });
}
