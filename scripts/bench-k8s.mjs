// Practice-cluster figures for `npm run bench`: `scripts/k8s/cluster.sh up` of a built cluster
// (until the node is Ready, CoreDNS and metrics-server serve and the metrics API answers), a
// second `up` of the running cluster, its resident memory, and `down` with its proof that nothing
// is left. One run each: an up takes tens of seconds. Without root or the builds the rows say
// what is missing instead of a figure.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const NAME = 'lf-bench';

export function k8sBenchmarks({ root }) {
  const script = join(root, 'scripts/k8s/cluster.sh');
  const env = { ...process.env, LABFORGE_K8S_NO_BUILD: '1' };
  const sh = (args) => spawnSync('bash', [script, ...args, '--name', NAME], { env, encoding: 'utf8' });
  const check = process.getuid?.() === 0 ? sh(['check']) : { status: 1, stderr: 'needs root' };
  if (check.status !== 0) {
    const why = `not measured: ${check.stderr.trim().split('\n').pop()}`;
    return [{ what: '`scripts/k8s/cluster.sh up` (practice cluster, built)', ms: NaN, target: why }];
  }
  const timed = (label, args) => {
    const started = process.hrtime.bigint();
    const r = sh(args);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (r.status !== 0) throw new Error(`${label} failed (exit ${r.status}): ${r.stderr.slice(-800)}`);
    process.stderr.write(`${label}: ${ms.toFixed(0)} ms (1 run)\n`);
    return { ms, stdout: r.stdout };
  };
  sh(['down']);
  try {
    const up = timed('cluster.sh up', ['up']);
    const again = timed('cluster.sh up (running)', ['up']);
    const rss = /resident memory: (\d+) MiB/.exec(timed('cluster.sh status', ['status']).stdout)?.[1] ?? '?';
    const lab = advancedLab(root, /export KUBECONFIG=(\S+)/.exec(up.stdout)?.[1]);
    const down = timed('cluster.sh down', ['down']);
    return [
      {
        what: '`scripts/k8s/cluster.sh up` (one-node practice cluster, built; 1 run)',
        ms: up.ms,
        target: `node Ready, CoreDNS, metrics API; target < 60 s; ${rss} MiB resident`,
      },
      { what: '`scripts/k8s/cluster.sh up` of the running cluster', ms: again.ms, target: 'returns at once' },
      {
        what: '`labforge up advanced --target k8s` on it, until every pod is Ready and the health checks pass (images imported; 1 run)',
        ms: lab.up,
        target: 'target ≤ 30 s (local `up advanced` is above)',
      },
      { what: '`labforge down` of it (namespace gone, every kind listed empty; 1 run)', ms: lab.down, target: '' },
      {
        what: '`scripts/k8s/cluster.sh down` (with its leftover check; 1 run)',
        ms: down.ms,
        target: 'no process, mount, namespace, link, cgroup left',
      },
    ];
  } finally {
    sh(['down']);
  }
}

/** `labforge up advanced --target k8s` on the cluster until healthy, then its `down`, in a home of its own. */
function advancedLab(root, kubeconfig) {
  if (!kubeconfig) throw new Error('cluster.sh up printed no KUBECONFIG');
  const home = mkdtempSync(join(tmpdir(), 'lf-bench-k8s-'));
  const env = { ...process.env, KUBECONFIG: kubeconfig, LABFORGE_HOME: home };
  const run = (label, args) => {
    const started = process.hrtime.bigint();
    const r = spawnSync(process.execPath, [join(root, 'bin/labforge.js'), ...args], { env, encoding: 'utf8' });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (r.status !== 0) throw new Error(`${label} failed (exit ${r.status}): ${(r.stderr || r.stdout).slice(-800)}`);
    process.stderr.write(`${label}: ${ms.toFixed(0)} ms (1 run)\n`);
    return ms;
  };
  try {
    return {
      up: run('labforge up advanced --target k8s', ['up', 'advanced', '--target', 'k8s']),
      down: run('labforge down (k8s)', ['down', 'advanced']),
    };
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}
