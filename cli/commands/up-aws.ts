// `labforge up <level> --target aws`: plan, show it with its cost, ask, apply, then print the
// connection info and the health of what can be reached from here.
import { createInterface } from 'node:readline/promises';
import { resolveDeployment } from '../../constructs/model/deployment.js';
import { UsageError } from '../../constructs/model/errors.js';
import { parseDuration } from '../../constructs/model/options.js';
import type { LabSpec } from '../../constructs/model/types.js';
import { describeCounts } from '../../constructs/terraform/plan.js';
import type { PlanPreview } from '../../constructs/terraform/up.js';
import { EXIT_FAILURE, EXIT_INTERRUPTED } from '../errors.js';
import { print, printJson, progress, table, usd } from '../output.js';

export interface AwsUpArgs {
  readonly lab: LabSpec;
  readonly name: string;
  readonly json?: boolean;
  readonly regions?: string;
  readonly allowCidr?: string;
  readonly owner?: string;
  readonly ttl?: string;
  readonly yes?: boolean;
  readonly healthTimeout?: string;
  readonly backend?: string;
}

export async function upOnAws(args: AwsUpArgs): Promise<void> {
  // Bad input fails before anything runs: the prompt needs a terminal unless --yes answers it.
  if (!args.yes && !process.stdin.isTTY) throw new UsageError('`up --target aws` asks before it creates cloud resources, and stdin is not a terminal: pass --yes to apply without asking');
  const healthTimeoutMs = args.healthTimeout === undefined ? 300_000 : parseDuration('--health-timeout', args.healthTimeout);
  const { resolveAllowCidr } = await import('../../constructs/terraform/address.js');
  const allowCidr = await resolveAllowCidr(args.allowCidr);
  const deployment = resolveDeployment(args.lab, { name: args.name, regions: args.regions, allowCidr, owner: args.owner, ttl: args.ttl, backend: args.backend });
  const { labforgeHome } = await import('../../constructs/model/home.js');
  const { upAwsLab } = await import('../../constructs/terraform/up.js');

  // Ctrl-C reaches tofu/terraform too (one process group): it stops after the resources in
  // flight and saves its state; labforge waits for it, then says how to remove what was made.
  const controller = new AbortController();
  const onSignal = () => {
    if (!controller.signal.aborted) progress(`stopping: letting the apply finish what is in flight; \`labforge down ${args.name}\` removes what was created`);
    controller.abort();
  };
  const caught: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of caught) process.on(s, onSignal);
  let result;
  try {
    result = await upAwsLab({ deployment, home: labforgeHome(), progress, signal: controller.signal, healthTimeoutMs, keepExpiry: args.ttl === undefined, keepBackend: args.backend === undefined, confirm: (plan) => confirm(plan, Boolean(args.yes)) });
  } finally {
    for (const s of caught) process.off(s, onSignal);
  }
  if (result.outcome === 'cancelled') {
    progress('labforge: not applied; nothing was created');
    process.exitCode = EXIT_FAILURE;
    return;
  }
  if (result.outcome === 'interrupted') {
    progress(`labforge: interrupted; \`labforge down ${args.name}\` removes what was created`);
    process.exitCode = EXIT_INTERRUPTED;
    return;
  }
  const failed = result.health.filter((h) => h.reach === 'probed' && !h.ok);
  if (failed.length > 0) process.exitCode = EXIT_FAILURE;
  if (args.json) return printJson({ ...result, target: 'aws', secrets: `labforge secrets ${args.name}` });

  const probed = result.health.filter((h) => h.reach === 'probed');
  const checks = probed.length === 0 ? 'nothing of it is reachable from here to check (PRIVATE below)' : `${probed.length - failed.length}/${probed.length} reachable checks pass`;
  print(`Lab '${args.name}' (${args.lab.title}) is up on AWS (account ${result.account}, ${result.regions.join(', ')}) in ${result.seconds}s; ${checks}.`);
  print(`Estimated cost ${usd(result.hourlyUsd)}/hour; expires ${result.expiresAt} (\`labforge reap\` removes it after that).`);
  print();
  const value = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));
  // The lab's own outputs; the ones the `-k8s` stack reads (cluster CAs, endpoints) are in --json.
  const declared = new Set(args.lab.outputs.map((o) => o.name));
  const shown = Object.entries(result.outputs).filter(([k]) => declared.has(k));
  print(table([['OUTPUT', 'VALUE'], ...shown.map(([k, v]) => [k, value(v)]), ...result.secretOutputs.map((k) => [k, `(secret: \`labforge secrets ${args.name}\` prints it)`])]));
  print();
  print(table([['CHECK', 'RESULT', 'DETAIL'], ...result.health.map((h) => [h.name, h.reach === 'private' ? 'PRIVATE' : h.ok ? 'ok' : 'FAILED', h.detail])]));
  print();
  print(result.backend ? `State: ${result.backend} (Terraform state, one object per stack); labforge's record in ${result.dir}` : `State: ${result.dir} (Terraform state of each stack in tf/stacks/<stack>, mode 0600)`);
  print(`Check: labforge health ${args.name}    Status: labforge status ${args.name}    Remove: labforge down ${args.name}`);
  print();
  print(`Exercises (the guide: \`labforge guide ${args.name}\`):`);
  args.lab.exercises.forEach((e, i) => {
    print(`  ${i + 1}. ${e.title} (${e.id})`);
    for (const step of e.steps) print(`     - ${step}`);
  });
}

/** Shows the plan on stderr; with --yes applies, else asks on the terminal. */
async function confirm(plan: PlanPreview, yes: boolean): Promise<boolean> {
  const f = plan.first;
  progress('');
  progress(`Plan for lab '${plan.lab}' (account ${plan.account}, ${plan.regions.join(', ')}):`);
  progress(`  ${f.stack}: ${describeCounts(f)}`);
  if (f.addByType.length > 0) progress(`    + ${f.addByType.map(([type, n]) => `${n} ${type}`).join(', ')}`);
  for (const address of f.destroying) progress(`    - ${address}`);
  for (const l of plan.later) progress(`  ${l.stack}: ${l.resources} resources inside the clusters, planned once they exist`);
  progress(`  estimated cost: ${usd(plan.hourlyUsd)}/hour (${usd(plan.hourlyUsd * 24)}/day) until \`labforge down ${plan.lab}\`; expires ${plan.expiresAt}`);
  progress('');
  if (yes) return true;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`Apply this plan to AWS account ${plan.account}? Only 'yes' applies: `);
    return answer.trim() === 'yes';
  } finally {
    rl.close();
  }
}
