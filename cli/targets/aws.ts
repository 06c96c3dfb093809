// The aws target in the CLI: `up` plans, shows the plan with its cost, asks, applies, then prints
// the connection info and the health of what can be reached from here; a workshop asks once for
// its whole cost envelope.
import { createInterface } from 'node:readline/promises';
import { resolveDeployment } from '../../constructs/model/deployment.js';
import { UsageError } from '../../constructs/model/errors.js';
import { parseDuration, parseTtl } from '../../constructs/model/options.js';
import { describeCounts } from '../../constructs/terraform/plan.js';
import type { AwsTeardownReceipt } from '../../constructs/terraform/down.js';
import type { AwsLabStatus } from '../../constructs/terraform/target.js';
import type { PlanPreview } from '../../constructs/terraform/up.js';
import { EXIT_FAILURE, EXIT_INTERRUPTED } from '../errors.js';
import { print, printExercises, printJson, progress, table, usd } from '../output.js';
import type { TargetCli, UpRequest, WorkshopConfirmation } from './types.js';

async function up({ lab, name, options }: UpRequest): Promise<void> {
  const args = {
    lab,
    name,
    json: options.json,
    regions: options.regions,
    allowCidr: options['allow-cidr'],
    owner: options.owner,
    ttl: options.ttl,
    yes: options.yes,
    healthTimeout: options['health-timeout'],
    backend: options.backend,
  };
  // Bad input fails before anything runs: the prompt needs a terminal unless --yes answers it.
  if (!args.yes && !process.stdin.isTTY)
    throw new UsageError(
      '`up --target aws` asks before it creates cloud resources, and stdin is not a terminal: pass --yes to apply without asking',
    );
  const healthTimeoutMs = args.healthTimeout === undefined ? 300_000 : parseDuration('--health-timeout', args.healthTimeout);
  const { resolveAllowCidr } = await import('../../constructs/terraform/address.js');
  const allowCidr = await resolveAllowCidr(args.allowCidr);
  const deployment = resolveDeployment(args.lab, {
    name: args.name,
    regions: args.regions,
    allowCidr,
    owner: args.owner,
    ttl: args.ttl,
    backend: args.backend,
  });
  const { labforgeHome } = await import('../../constructs/model/home.js');
  const { upAwsLab } = await import('../../constructs/terraform/up.js');

  // Ctrl-C reaches tofu/terraform too (one process group): it stops after the resources in
  // flight and saves its state; labforge waits for it, then says how to remove what was made.
  const controller = new AbortController();
  const onSignal = () => {
    if (!controller.signal.aborted)
      progress(`stopping: letting the apply finish what is in flight; \`labforge down ${args.name}\` removes what was created`);
    controller.abort();
  };
  const caught: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of caught) process.on(s, onSignal);
  let result;
  try {
    result = await upAwsLab({
      deployment,
      home: labforgeHome(),
      progress,
      signal: controller.signal,
      healthTimeoutMs,
      keepExpiry: args.ttl === undefined,
      keepBackend: args.backend === undefined,
      confirm: (plan) => confirm(plan, Boolean(args.yes)),
    });
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
  const checks =
    probed.length === 0
      ? 'nothing of it is reachable from here to check (PRIVATE below)'
      : `${probed.length - failed.length}/${probed.length} reachable checks pass`;
  print(
    `Lab '${args.name}' (${args.lab.title}) is up on AWS (account ${result.account}, ${result.regions.join(', ')}) in ${result.seconds}s; ${checks}.`,
  );
  print(`Estimated cost ${usd(result.hourlyUsd)}/hour; expires ${result.expiresAt} (\`labforge reap\` removes it after that).`);
  print();
  const value = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));
  // The lab's own outputs; the ones the `-k8s` stack reads (cluster CAs, endpoints) are in --json.
  const declared = new Set(args.lab.outputs.map((o) => o.name));
  const shown = Object.entries(result.outputs).filter(([k]) => declared.has(k));
  print(
    table([
      ['OUTPUT', 'VALUE'],
      ...shown.map(([k, v]) => [k, value(v)]),
      ...result.secretOutputs.map((k) => [k, `(secret: \`labforge secrets ${args.name}\` prints it)`]),
    ]),
  );
  print();
  print(
    table([
      ['CHECK', 'RESULT', 'DETAIL'],
      ...result.health.map((h) => [h.name, h.reach === 'private' ? 'PRIVATE' : h.ok ? 'ok' : 'FAILED', h.detail]),
    ]),
  );
  print();
  print(
    result.backend
      ? `State: ${result.backend} (Terraform state, one object per stack); labforge's record in ${result.dir}`
      : `State: ${result.dir} (Terraform state of each stack in tf/stacks/<stack>, mode 0600)`,
  );
  print(`Check: labforge health ${args.name}    Status: labforge status ${args.name}    Remove: labforge down ${args.name}`);
  print();
  printExercises(args.lab, `Exercises (the guide: \`labforge guide ${args.name}\`):`);
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
  progress(
    `  estimated cost: ${usd(plan.hourlyUsd)}/hour (${usd(plan.hourlyUsd * 24)}/day) until \`labforge down ${plan.lab}\`; expires ${plan.expiresAt}`,
  );
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

function printStatus(labs: readonly AwsLabStatus[]): void {
  const age = (iso: string) => formatHours((Date.now() - Date.parse(iso)) / 3_600_000);
  const expires = (iso: string) =>
    Date.parse(iso) <= Date.now() ? 'EXPIRED (labforge reap)' : `in ${formatHours((Date.parse(iso) - Date.now()) / 3_600_000)}`;
  print(
    table([
      ['LAB', 'LEVEL', 'TARGET', 'REGIONS', 'RESOURCES', 'AGE', 'EXPIRES', 'COST SO FAR', 'STATE'],
      ...labs.map((l) => [
        l.name,
        l.level,
        l.target,
        l.regions.join(','),
        l.resources === null ? '?' : String(l.resources),
        age(l.createdAt),
        expires(l.expiresAt),
        `${usd(l.costSoFarUsd)} (${usd(l.hourlyUsd)}/h)`,
        l.state,
      ]),
    ]),
  );
}

/** `45m`, `3.2h`, `2.1d`. */
function formatHours(hours: number): string {
  if (hours < 1) return `${Math.max(0, Math.round(hours * 60))}m`;
  if (hours < 48) return `${hours.toFixed(1)}h`;
  return `${(hours / 24).toFixed(1)}d`;
}

function printReceipt(r: AwsTeardownReceipt): void {
  {
    print(`Teardown receipt for lab '${r.lab}' (aws, ${r.seconds}s): ${r.ok ? 'nothing left' : 'SOMETHING IS LEFT'}`);
    if (r.stacks.length === 0) print('  stacks    none held resources (up stopped before apply): nothing to destroy');
    for (const s of r.stacks) {
      const tries = s.attempts > 1 ? ` in ${s.attempts} tries` : '';
      print(
        `  stack     ${s.stack.padEnd(24)} ${s.destroyed.length} destroyed${tries}, ${s.left.length === 0 ? 'state empty' : `LEFT in state: ${s.left.join(', ')}`}`,
      );
      if (s.error && s.left.length > 0) print(`            why: ${s.error}`);
      if (s.wentWithClusters)
        print(
          `            ${s.wentWithClusters.length} more went with the destroyed clusters (their destroy failed: ${s.error ?? '?'}); removed from the state`,
        );
    }
    if (r.sweep) {
      const n = (status: string) => r.sweep!.resources.filter((e) => e.status === status).length;
      const deleted = n('deleted');
      // A destroyed KMS key stays listed, tagged, until AWS's waiting period ends.
      const pending =
        n('pending deletion') > 0
          ? `; ${n('pending deletion')} KMS key(s) pending deletion (AWS removes them after the waiting period)`
          : '';
      const verdict = r.sweep.ok
        ? `${deleted === 0 ? 'none tagged with the lab left' : `${deleted} tagged resource(s) the state missed, deleted`}${pending}`
        : 'SOME TAGGED RESOURCES ARE LEFT';
      print(`  sweep     ${r.sweep.regions.join(', ').padEnd(24)} ${verdict}`);
      for (const e of r.sweep.resources.filter((x) => x.status !== 'would skip'))
        print(`            ${e.status.padEnd(16)} ${e.kind} ${e.id} (${e.region})${e.reason ? `: ${e.reason}` : ''}`);
      for (const f of r.sweep.listingFailures) print(`            UNVERIFIED ${f.service} in ${f.region}: ${f.error}`);
    } else if (r.sweepError) print(`  sweep     NOT RUN: ${r.sweepError}`);
    if (r.remoteState)
      print(`  state     ${r.remoteState.location} ${r.remoteState.removed ? 'objects deleted' : 'KEPT (the lab is not gone yet)'}`);
    print(`  dir       ${r.directory.path} ${r.directory.removed ? 'removed' : 'STILL THERE (kept: run down again)'}`);
    for (const l of r.leftovers) process.stderr.write(`labforge: lab '${r.lab}': ${l}\n`);
  }
}

/** The workshop's envelope (level x participants x lifetime), then one question for all of it. */
async function confirmWorkshop({ lab, participants, ttl, yes }: WorkshopConfirmation): Promise<boolean> {
  const { defaultCost } = await import('../inventory.js');
  const { hourly } = await defaultCost(lab);
  const hours = parseTtl(ttl) / 3_600_000;
  progress(
    `${participants} ${lab.level} lab(s) on AWS, one stack set each: ${usd(hourly)}/hour each, ${usd(hourly * participants * hours)} for ${participants} participant(s) x ${hours} hour(s) (the --ttl)`,
  );
  if (yes) return true;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return (await rl.question(`Create ${participants} lab(s) on AWS? Only 'yes' applies: `)).trim() === 'yes';
  } finally {
    rl.close();
  }
}

export const awsCli: TargetCli<AwsLabStatus, AwsTeardownReceipt> = {
  runtime: async () => (await import('../../constructs/terraform/runtime.js')).awsRuntime,
  up,
  printStatus,
  printReceipt,
  confirmWorkshop,
};
