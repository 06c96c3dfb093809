import type { CommandModule } from 'yargs';
import { UsageError } from '../../constructs/model/errors.js';
import { parseLabName } from '../../constructs/model/options.js';
import { EXIT_FAILURE } from '../errors.js';
import type { K8sTeardownReceipt } from '../../constructs/k8s/target.js';
import type { PulumiTeardownReceipt } from '../../constructs/pulumi/target.js';
import type { AwsTeardownReceipt } from '../../constructs/terraform/down.js';
import type { TeardownReceipt as LocalReceipt } from '../../constructs/local/lab.js';
import { print, printJson, progress } from '../output.js';

interface DownArgs {
  name?: string;
  all?: boolean;
  json?: boolean;
}

export const downCommand: CommandModule<object, DownArgs> = {
  command: 'down [name]',
  describe: 'Remove a lab and prove nothing is left (local: processes, ports, directories; aws: Terraform state and a tag sweep; k8s: objects, namespace; pulumi: stack resources)',
  builder: (y) =>
    y
      .positional('name', { type: 'string', description: 'Lab name (see `labforge status`)' })
      .option('all', { type: 'boolean', description: 'Every lab in the labforge home' })
      .option('json', { type: 'boolean', description: 'Print the teardown receipts as JSON' }),
  handler: async (argv) => {
    if (argv.all && argv.name) throw new UsageError('give a lab name or --all, not both');
    if (!argv.all && !argv.name) throw new UsageError('name the lab to remove, or pass --all (`labforge status` lists the labs)');
    const { labforgeHome, existingLab } = await import('../../constructs/local/home.js');
    const { downLab, labNames } = await import('../../constructs/local/lab.js');
    const { labTarget } = await import('../../constructs/model/home.js');
    const home = labforgeHome();
    const names = argv.all ? labNames(home) : [parseLabName(argv.name!)];
    // Unknown names fail before anything is stopped.
    for (const name of names) existingLab(home, name);
    const receipts: LocalReceipt[] = [];
    const k8sReceipts: K8sTeardownReceipt[] = [];
    const pulumiReceipts: PulumiTeardownReceipt[] = [];
    const awsReceipts: AwsTeardownReceipt[] = [];
    for (const name of names) {
      progress(`removing lab '${name}'`);
      const target = labTarget(home, name);
      if (target === 'k8s' || target === 'pulumi' || target === 'aws') {
        try {
          if (target === 'k8s') k8sReceipts.push(await (await import('../../constructs/k8s/target.js')).downK8sLab(home, name));
          else if (target === 'aws') awsReceipts.push(await (await import('../../constructs/terraform/down.js')).downAwsLab(home, name, progress));
          else pulumiReceipts.push(await (await import('../../constructs/pulumi/target.js')).downPulumiLab(home, name, progress));
        } catch (error) {
          // With --all, one unreachable cluster (or missing CLI) must not keep the other labs up.
          if (!argv.all) throw error;
          process.stderr.write(`labforge: lab '${name}': ${(error as Error).message}\n`);
          process.exitCode = EXIT_FAILURE;
        }
      } else receipts.push(await downLab(home, name));
    }
    const remote = [...k8sReceipts, ...pulumiReceipts, ...awsReceipts];
    if ([...receipts, ...remote].some((r) => !r.ok)) process.exitCode = EXIT_FAILURE;
    if (argv.json) return printJson(argv.all ? [...receipts, ...remote] : (receipts[0] ?? remote[0]));
    printK8sReceipts(k8sReceipts);
    printPulumiReceipts(pulumiReceipts);
    printAwsReceipts(awsReceipts);
    if (remote.length > 0 && receipts.length === 0) return;
    if (receipts.length === 0) return print(`no labs in ${home}`);
    for (const r of receipts) {
      print(`Teardown receipt for lab '${r.lab}' (${r.seconds}s): ${r.ok ? 'nothing left' : 'SOMETHING IS LEFT'}`);
      const what = (component: string, name: string, main: string) => (name === main ? component : `${component} ${name}`).padEnd(12);
      for (const p of r.processes) print(`  process  ${what(p.component, p.name, 'server')} pid ${String(p.pid).padEnd(7)} ${p.gone ? 'gone' : `STILL RUNNING (${p.left.join(', ')})`}`);
      for (const p of r.ports) print(`  port     ${what(p.component, p.name, 'port')} ${`${p.host}:${p.port}`.padEnd(16)} ${p.free ? 'free' : 'STILL IN USE'}`);
      for (const s of r.strays) print(`  process  ${s.command.padEnd(12)} pid ${String(s.pid).padEnd(7)} STILL RUNNING inside the lab directory`);
      for (const d of r.directories) print(`  dir      ${d.path} ${d.removed ? 'removed' : 'STILL THERE'}`);
      for (const l of r.leftovers) process.stderr.write(`labforge: lab '${r.lab}': ${l}\n`);
    }
  },
};

function printK8sReceipts(receipts: readonly K8sTeardownReceipt[]): void {
  for (const r of receipts) {
    print(`Teardown receipt for lab '${r.lab}' on ${r.context} (${r.seconds}s): ${r.ok ? 'nothing left' : 'SOMETHING IS LEFT'}`);
    print(`  namespace ${r.namespace.name.padEnd(24)} ${r.namespace.removed ? 'deleted' : 'STILL THERE'}`);
    for (const k of r.kinds) print(`  ${k.kind.padEnd(24)} ${k.left.length === 0 ? `none labelled labforge.dev/lab=${r.lab}` : `LEFT: ${k.left.join(', ')}`}`);
    print(`  dir       ${r.directory.path} ${r.directory.removed ? 'removed' : 'STILL THERE (kept: run down again)'}`);
    for (const l of r.leftovers) process.stderr.write(`labforge: lab '${r.lab}': ${l}\n`);
  }
}

function printPulumiReceipts(receipts: readonly PulumiTeardownReceipt[]): void {
  for (const r of receipts) {
    print(`Teardown receipt for lab '${r.lab}' (pulumi stack ${r.stack}, ${r.seconds}s): ${r.ok ? 'nothing left' : 'SOMETHING IS LEFT'}`);
    if (!r.stackExisted) print(`  stack     ${r.stack.padEnd(24)} never created (up stopped before it): nothing to destroy`);
    else {
      print(`  resources ${r.resourcesLeft.length === 0 ? 'none left after destroy (pulumi stack export)' : `LEFT: ${r.resourcesLeft.join(', ')}`}`);
      print(`  stack     ${r.stack.padEnd(24)} ${r.stackRemoved ? `removed from ${r.backend}` : 'STILL THERE'}`);
    }
    print(`  dir       ${r.directory.path} ${r.directory.removed ? 'removed' : 'STILL THERE (kept: run down again)'}`);
    for (const l of r.leftovers) process.stderr.write(`labforge: lab '${r.lab}': ${l}\n`);
  }
}

function printAwsReceipts(receipts: readonly AwsTeardownReceipt[]): void {
  for (const r of receipts) {
    print(`Teardown receipt for lab '${r.lab}' (aws, ${r.seconds}s): ${r.ok ? 'nothing left' : 'SOMETHING IS LEFT'}`);
    if (r.stacks.length === 0) print('  stacks    none held resources (up stopped before apply): nothing to destroy');
    for (const s of r.stacks) {
      const tries = s.attempts > 1 ? ` in ${s.attempts} tries` : '';
      print(`  stack     ${s.stack.padEnd(24)} ${s.destroyed.length} destroyed${tries}, ${s.left.length === 0 ? 'state empty' : `LEFT in state: ${s.left.join(', ')}`}`);
      if (s.error && s.left.length > 0) print(`            why: ${s.error}`);
      if (s.wentWithClusters) print(`            ${s.wentWithClusters.length} more went with the destroyed clusters (their destroy failed: ${s.error ?? '?'}); removed from the state`);
    }
    if (r.sweep) {
      const n = (status: string) => r.sweep!.resources.filter((e) => e.status === status).length;
      const deleted = n('deleted');
      // A destroyed KMS key stays listed, tagged, until AWS's waiting period ends.
      const pending = n('pending deletion') > 0 ? `; ${n('pending deletion')} KMS key(s) pending deletion (AWS removes them after the waiting period)` : '';
      const verdict = r.sweep.ok ? `${deleted === 0 ? 'none tagged with the lab left' : `${deleted} tagged resource(s) the state missed, deleted`}${pending}` : 'SOME TAGGED RESOURCES ARE LEFT';
      print(`  sweep     ${r.sweep.regions.join(', ').padEnd(24)} ${verdict}`);
      for (const e of r.sweep.resources.filter((x) => x.status !== 'would skip')) print(`            ${e.status.padEnd(16)} ${e.kind} ${e.id} (${e.region})${e.reason ? `: ${e.reason}` : ''}`);
      for (const f of r.sweep.listingFailures) print(`            UNVERIFIED ${f.service} in ${f.region}: ${f.error}`);
    } else if (r.sweepError) print(`  sweep     NOT RUN: ${r.sweepError}`);
    if (r.remoteState) print(`  state     ${r.remoteState.location} ${r.remoteState.removed ? 'objects deleted' : 'KEPT (the lab is not gone yet)'}`);
    print(`  dir       ${r.directory.path} ${r.directory.removed ? 'removed' : 'STILL THERE (kept: run down again)'}`);
    for (const l of r.leftovers) process.stderr.write(`labforge: lab '${r.lab}': ${l}\n`);
  }
}
