import type { CommandModule } from 'yargs';
import { parseLabName } from '../../constructs/model/options.js';
import { print, printJson, table, usd } from '../output.js';

interface StatusArgs {
  name?: string;
  json?: boolean;
}

export const statusCommand: CommandModule<object, StatusArgs> = {
  command: 'status [name]',
  describe: 'Show the labs: components, pid or pods, address and state',
  builder: (y) =>
    y.positional('name', { type: 'string', description: 'One lab (default: every lab)' }).option('json', { type: 'boolean', description: 'Print JSON' }),
  handler: async (argv) => {
    const { labforgeHome } = await import('../../constructs/local/home.js');
    const { labNames, statusLab } = await import('../../constructs/local/lab.js');
    const home = labforgeHome();
    const names = argv.name ? [parseLabName(argv.name)] : labNames(home);
    const { labTarget } = await import('../../constructs/model/home.js');
    const isK8s = (n: string) => labTarget(home, n) === 'k8s';
    const isPulumi = (n: string) => labTarget(home, n) === 'pulumi';
    const isAws = (n: string) => labTarget(home, n) === 'aws';
    const awsNames = names.filter(isAws);
    const { statusAwsLab } = awsNames.length > 0 ? await import('../../constructs/terraform/target.js') : { statusAwsLab: undefined };
    const awsLabs = await Promise.all(awsNames.map((n) => statusAwsLab!(home, n)));
    const k8sNames = names.filter(isK8s);
    const pulumiNames = names.filter(isPulumi);
    const { statusK8sLab } = k8sNames.length > 0 ? await import('../../constructs/k8s/target.js') : { statusK8sLab: undefined };
    const { statusPulumiLab } = pulumiNames.length > 0 ? await import('../../constructs/pulumi/target.js') : { statusPulumiLab: undefined };
    const k8sLabs = await Promise.all(k8sNames.map((n) => statusK8sLab!(home, n)));
    const pulumiLabs = pulumiNames.map((n) => statusPulumiLab!(home, n));
    const labs = await Promise.all(names.filter((n) => !isK8s(n) && !isPulumi(n) && !isAws(n)).map((n) => statusLab(home, n)));
    if (argv.json) return printJson(argv.name ? (labs[0] ?? k8sLabs[0] ?? pulumiLabs[0] ?? awsLabs[0]) : [...labs, ...k8sLabs, ...pulumiLabs, ...awsLabs]);
    if (labs.length === 0 && k8sLabs.length === 0 && pulumiLabs.length === 0 && awsLabs.length === 0) return print(`no labs in ${home} (start one with \`labforge up beginner\`)`);
    if (awsLabs.length > 0) {
      const age = (iso: string) => formatHours((Date.now() - Date.parse(iso)) / 3_600_000);
      const expires = (iso: string) => (Date.parse(iso) <= Date.now() ? 'EXPIRED (labforge reap)' : `in ${formatHours((Date.parse(iso) - Date.now()) / 3_600_000)}`);
      print(
        table([
          ['LAB', 'LEVEL', 'TARGET', 'REGIONS', 'RESOURCES', 'AGE', 'EXPIRES', 'COST SO FAR', 'STATE'],
          ...awsLabs.map((l) => [l.name, l.level, l.target, l.regions.join(','), l.resources === null ? '?' : String(l.resources), age(l.createdAt), expires(l.expiresAt), `${usd(l.costSoFarUsd)} (${usd(l.hourlyUsd)}/h)`, l.state]),
        ]),
      );
      if (labs.length === 0 && k8sLabs.length === 0 && pulumiLabs.length === 0) return;
      print();
    }
    if (pulumiLabs.length > 0) {
      print(table([['LAB', 'LEVEL', 'TARGET', 'STACK', 'BACKEND', 'STATE'], ...pulumiLabs.map((l) => [l.name, l.level, l.target, l.stack, l.backend, l.state])]));
      if (labs.length === 0 && k8sLabs.length === 0) return;
      print();
    }
    if (k8sLabs.length > 0) {
      print(table([['LAB', 'LEVEL', 'CONTEXT', 'NAMESPACE', 'COMPONENT', 'KIND', 'ADDRESS', 'STATE'], ...k8sLabs.flatMap((l) => (l.error ? [[l.name, l.level, l.context, l.namespace, '-', '-', '-', `unreachable: ${l.error}`]] : l.components.map((c) => [l.name, l.level, l.context, l.namespace, c.component, c.kind, c.address, c.state])))]));
      if (labs.length === 0) return;
      print();
    }
    print(
      table([
        ['LAB', 'LEVEL', 'COMPONENT', 'KIND', 'PROCESS', 'PID', 'ADDRESS', 'STATE'],
        // One row per process: RabbitMQ shows its node and its own epmd.
        ...labs.flatMap((l) =>
          l.components.flatMap((c) => {
            // The server's row also lists the extra ports no helper process owns (RabbitMQ: dist, management).
            const own = (name: string) => c.ports.filter((p) => (name === 'server' ? p.name === 'port' || !c.processes.some((x) => x.name === p.name) : p.name === name));
            const address = (name: string) =>
              own(name)
                .map((p) => (p.name === 'port' || p.name === name ? `${p.host}:${p.port}` : `${p.name} ${p.port}`))
                .join(', ') || '-';
            if (c.processes.length === 0) return [[l.name, l.level, c.id, c.kind, '-', '-', c.port > 0 ? `${c.host}:${c.port}` : '-', c.state]];
            return c.processes.map((p) => [l.name, l.level, c.id, c.kind, p.name, String(p.pid), address(p.name), p.name === 'server' ? c.state : p.alive ? 'running' : 'exited']);
          }),
        ),
      ]),
    );
  },
};

/** `45m`, `3.2h`, `2.1d`. */
function formatHours(hours: number): string {
  if (hours < 1) return `${Math.max(0, Math.round(hours * 60))}m`;
  if (hours < 48) return `${hours.toFixed(1)}h`;
  return `${(hours / 24).toFixed(1)}d`;
}
