import type { CommandModule } from 'yargs';
import { UsageError } from '../../constructs/model/errors.js';
import { parseLabName } from '../../constructs/model/options.js';
import type { Target } from '../../constructs/model/types.js';
import { EXIT_FAILURE } from '../errors.js';
import { print, printJson, progress } from '../output.js';
import { targetCli } from '../targets/index.js';

interface DownArgs {
  name?: string;
  all?: boolean;
  json?: boolean;
}

export const downCommand: CommandModule<object, DownArgs> = {
  command: 'down [name]',
  describe:
    'Remove a lab and prove nothing is left (local: processes, ports, directories; aws: Terraform state and a tag sweep; k8s: objects, namespace; pulumi: stack resources)',
  builder: (y) =>
    y
      .positional('name', { type: 'string', description: 'Lab name (see `labforge status`)' })
      .option('all', { type: 'boolean', description: 'Every lab in the labforge home' })
      .option('json', { type: 'boolean', description: 'Print the teardown receipts as JSON' }),
  handler: async (argv) => {
    if (argv.all && argv.name) throw new UsageError('give a lab name or --all, not both');
    if (!argv.all && !argv.name) throw new UsageError('name the lab to remove, or pass --all (`labforge status` lists the labs)');
    const { labforgeHome, labRecords } = await import('../../constructs/model/home.js');
    const home = labforgeHome();
    const records = labRecords(home);
    const names = argv.all ? records.map((r) => r.name) : [parseLabName(argv.name!)];
    // Unknown names fail before anything is stopped.
    if (!argv.all) await (await import('../../constructs/runtime/index.js')).runtimeOfLab(home, names[0]!);
    const targetOf = (name: string) => records.find((r) => r.name === name)!.target;
    const receipts: { target: Target; receipt: { ok: boolean } }[] = [];
    for (const name of names) {
      progress(`removing lab '${name}'`);
      const target = targetOf(name);
      try {
        const runtime = await (await targetCli(target)).runtime();
        receipts.push({ target, receipt: await runtime.down(home, name, progress) });
      } catch (error) {
        // With --all, one unreachable cluster (or missing CLI) must not keep the other labs up.
        if (!argv.all) throw error;
        process.stderr.write(`labforge: lab '${name}': ${(error as Error).message}\n`);
        process.exitCode = EXIT_FAILURE;
      }
    }
    if (receipts.some((r) => !r.receipt.ok)) process.exitCode = EXIT_FAILURE;
    if (argv.json) return printJson(argv.all ? receipts.map((r) => r.receipt) : receipts[0]?.receipt);
    if (names.length === 0) return print(`no labs in ${home}`);
    for (const { target, receipt } of receipts) (await targetCli(target)).printReceipt(receipt);
  },
};
